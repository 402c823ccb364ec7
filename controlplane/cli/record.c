/*
 * record.c - `peergraph record`: adding one record, updating, deleting and getting records,
 * and the group's table (list and search are in record_query.c, watch in watch.c, the batch
 * loader of `record add --from` in record_batch.c).
 *
 * A record is named by its id and its creator; the commands that take an id default the
 * creator to the graph's own identity (this node's records), and --creator names another
 * member's. An update is a read, a change and a write: the tool gets the record, keeps what
 * the options do not change (payload, attributes, expiry), and sends the new version. Between
 * the read and the write another update may land; the daemon then keeps the later version by
 * its conflict order, as it does for any two updates.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

enum {
	OPT_TYPE = CLI_OPT_FIRST,
	OPT_ID,
	OPT_PAYLOAD,
	OPT_PAYLOAD_FILE,
	OPT_ATTR,
	OPT_UNSET_ATTR,
	OPT_EXPIRES,
	OPT_FROM,
	OPT_KEEP_GOING,
	OPT_BATCH,
	OPT_CREATOR,
	OPT_WITH_DELETED,
	OPT_RAW,
	BATCH_DEFAULT = 16384, /* 16 frames of 1024: the library's whole pipeline window */
};

/* What the options of add and update say about a record's content. */
struct content {
	struct cli_attrs attrs;
	const char *unset[PEERGRAPH_ATTRS_MAX];
	unsigned nunset;
	const char *payload, *payload_file;
	uint8_t *file_data; /* payload_file's bytes (free()) */
	size_t file_len;
	uint64_t expires_s; /* 0: not given */
	bool changed;	    /* any of the above given */
};

/* Takes one content option into ct. 0 or the usage error. */
static int content_opt(struct cli *c, int o, struct content *ct)
{
	char why[CLI_WHY_SIZE];

	ct->changed = true;
	switch (o) {
	case OPT_PAYLOAD:
	case OPT_PAYLOAD_FILE:
		if (ct->payload || ct->payload_file)
			return cli_usage(c, "give one payload: --payload or --payload-file, once");
		*(o == OPT_PAYLOAD ? &ct->payload : &ct->payload_file) = optarg;
		return 0;
	case OPT_ATTR:
		if (cli_attr_parse(&ct->attrs, optarg, false, why))
			return cli_usage(c, "--attr %s: %s", optarg, why);
		return 0;
	case OPT_UNSET_ATTR:
		if (cli_attr_name_check(optarg, strlen(optarg), why))
			return cli_usage(c, "--unset-attr %s: %s", optarg, why);
		if (ct->nunset >= PEERGRAPH_ATTRS_MAX)
			return cli_usage(c, "--unset-attr: at most %d", PEERGRAPH_ATTRS_MAX);
		ct->unset[ct->nunset++] = optarg;
		return 0;
	case OPT_EXPIRES:
		if (cli_parse_duration(optarg, 1, CLI_LIFETIME_MAX_S, &ct->expires_s, why))
			return cli_usage(c, "--expires %s: %s", optarg, why);
		return 0;
	}
	return 0;
}

/* Reads --payload-file, if given. 0 or the usage error. */
static int content_load(struct cli *c, struct content *ct)
{
	int err;

	if (!ct->payload_file)
		return 0;
	err = cli_file_read(ct->payload_file, CLI_INPUT_FILE_MAX, &ct->file_data, &ct->file_len);
	if (err == -EFBIG)
		return cli_usage(c, "--payload-file %s: larger than a record can be (60M)",
				 ct->payload_file);
	if (err)
		return cli_usage(c, "--payload-file %s: %s", ct->payload_file, strerror(-err));
	return 0;
}

/* Sets the payload the options give, if they give one. */
static void content_payload(const struct content *ct, struct peergraph_record *r)
{
	if (ct->payload) {
		r->payload = ct->payload;
		r->payload_len = strlen(ct->payload);
	} else if (ct->payload_file) {
		r->payload = ct->file_data;
		r->payload_len = ct->file_len;
	}
}

/* Checks GRAPH and an optional --creator. 0 or the usage error. */
static int graph_creator_args(struct cli *c, const char *graph, const char *creator)
{
	char why[CLI_WHY_SIZE];

	if (cli_check_graph_id(graph, why))
		return cli_usage(c, "GRAPH '%s': %s", graph, why);
	if (creator && cli_check_creator(creator, why))
		return cli_usage(c, "--creator '%s': %s", creator, why);
	return 0;
}

/* ---- add --------------------------------------------------------------------------------- */

static const char add_help[] =
    "SYNOPSIS\n"
    "    peergraph record add GRAPH --type GUID [--id GUID]\n"
    "                         [--payload TEXT | --payload-file FILE]\n"
    "                         [--attr NAME=TYPE:VALUE]... [--expires DURATION]\n"
    "    peergraph record add GRAPH --from FILE|- [--keep-going] [--batch N]\n"
    "\n"
    "DESCRIPTION\n"
    "    Adds a record to an open graph and prints its id. The daemon sets its creator\n"
    "    (the graph's identity), version, times, and signs it in a secured graph; the\n"
    "    record is stored durably before this returns.\n"
    "\n"
    "    With --from, adds the records of FILE (\"-\": standard input), one JSON object\n"
    "    a line, sent in batches of --batch records per call, and prints a summary:\n"
    "    how many were added, how many failed and why (by error), and the rate. Blank\n"
    "    lines are skipped. A line is\n"
    "        {\"type\": \"GUID\", \"id\": \"GUID\", \"payload\": \"text\",\n"
    "         \"attrs\": {\"age\": 42, \"city\": \"Bern\", \"born\": {\"date\": \"2001-02-03\"}},\n"
    "         \"expires_in\": 3600}\n"
    "    type is required. id is optional (a random one otherwise). The payload is\n"
    "    \"payload\" (UTF-8 text) or \"payload_b64\" (base64 bytes). An attribute is an\n"
    "    integer, a string, or {\"date\": ISO 8601 text or microseconds}. The expiry is\n"
    "    \"expires_in\" (seconds from now) or \"expires\" (an ISO 8601 time). The other\n"
    "    fields of `peergraph --json record list` (creator, version, created, ...) are\n"
    "    ignored, so its output can be added back; any other field is an error.\n"
    "    A malformed line stops the load (exit status 2) with its line number; the\n"
    "    records of the lines before it are added. --keep-going skips it instead and\n"
    "    counts it (exit status 1).\n"
    "\n"
    "OPTIONS\n"
    "    --type GUID            the record type (required)\n"
    "    --id GUID              the record id; default: a random one\n"
    "    --payload TEXT         the payload, as the bytes of TEXT\n"
    "    --payload-file FILE    the payload, the bytes of FILE (\"-\": standard input)\n"
    "    --attr NAME=TYPE:VALUE an attribute; TYPE is int (signed 64-bit), str (UTF-8)\n"
    "                           or date (ISO 8601, UTC unless a zone is given, or\n"
    "                           @SECONDS); NAME is 1 to 40 ASCII letters and digits.\n"
    "                           Repeat for more, up to 128\n"
    "    --expires DURATION     the lifetime: seconds, or with s, m, h or d (90m, 7d);\n"
    "                           default 1 hour\n"
    "    --from FILE            add the records of FILE's JSON lines\n"
    "    --keep-going           with --from: skip malformed lines and count them\n"
    "    --batch N              with --from: records per call, 1 to 65536 (default\n"
    "                           16384)\n"
    "\n"
    "OUTPUT\n"
    "    The id; with --json {\"graph\": \"chat\", \"id\": \"...\", \"type\": \"...\"}.\n"
    "    With --from, the summary; with --json {\"graph\": ..., \"lines\": N, \"added\": N,\n"
    "    \"failed\": N, \"skipped\": N, \"not_sent\": N, \"seconds\": S,\n"
    "    \"records_per_second\": R, \"failures\": [{\"code\": C, \"message\": \"...\",\n"
    "    \"count\": N, \"first_line\": L}], \"stopped\": null or {\"line\": L, \"exit\": E,\n"
    "    \"code\": C, \"message\": \"...\"}}. failed counts the records the daemon\n"
    "    refused (failures says why, by error code), skipped the malformed lines of\n"
    "    --keep-going, not_sent the records of a call that failed as a whole and\n"
    "    stopped the load (stopped says why).\n"
    "\n"
    "EXAMPLES\n"
    "    peergraph record add chat --type 1b4e28ba-2fa1-11d2-883f-0016d3cca427 \\\n"
    "        --payload 'hello' --attr room=str:lobby --attr prio=int:2 --expires 7d\n"
    "    peergraph record add sensors --type 6f0c... --payload-file reading.bin\n"
    "    peergraph --json record list old | peergraph record add new --from -\n";

/* The single-record form of record add. */
static int add_one(struct cli *c, const char *graph, const struct peergraph_guid *type,
		   const struct peergraph_guid *id, struct content *ct)
{
	struct peergraph_record r = { .type = *type };
	char ids[37], types[37];
	int status, result = 0;
	long n;

	if (id)
		r.id = *id;
	if ((status = content_load(c, ct)))
		return status;
	content_payload(ct, &r);
	r.attrs = ct->attrs.a;
	r.nattrs = ct->attrs.n;
	if (ct->expires_s)
		r.expires_us = cli_now_us() + ct->expires_s * 1000000;
	if ((status = cli_connect(c)))
		return status;
	n = peergraph_record_add(c->pg, graph, &r, 1, &result);
	if (n < 0 || result)
		return cli_fail(c, n < 0 ? (int)n : result, "cannot add the record to graph \"%s\"",
				graph);
	peergraph_guid_format(&r.id, ids);
	if (!c->json) {
		printf("%s\n", ids);
		return CLI_EXIT_OK;
	}
	peergraph_guid_format(&r.type, types);
	return cli_json_print(
	    c, json_pack("{s:s, s:s, s:s}", "graph", graph, "id", ids, "type", types));
}

static int add_run(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "type", required_argument, NULL, OPT_TYPE },
		{ "id", required_argument, NULL, OPT_ID },
		{ "payload", required_argument, NULL, OPT_PAYLOAD },
		{ "payload-file", required_argument, NULL, OPT_PAYLOAD_FILE },
		{ "attr", required_argument, NULL, OPT_ATTR },
		{ "expires", required_argument, NULL, OPT_EXPIRES },
		{ "from", required_argument, NULL, OPT_FROM },
		{ "keep-going", no_argument, NULL, OPT_KEEP_GOING },
		{ "batch", required_argument, NULL, OPT_BATCH },
		{ 0 },
	};
	static const char *const operands[] = { "GRAPH" };
	struct cli_batch_opts b = { .batch = BATCH_DEFAULT };
	struct peergraph_guid type, id;
	bool has_type = false, has_id = false, batch_opt = false;
	struct content *ct = calloc(1, sizeof(*ct)); /* 10 KiB of attributes: not the stack */
	char why[CLI_WHY_SIZE];
	uint64_t v;
	int o, status = CLI_EXIT_OK;

	if (!ct)
		return cli_local_fail(c, "out of memory");
	while (status == CLI_EXIT_OK && (o = cli_opt_next(c, argc, argv, "", opts)) != -1) {
		switch (o) {
		case CLI_OPT_STOP:
			status = c->status;
			goto out;
		case OPT_TYPE:
		case OPT_ID:
			if (cli_parse_guid(optarg, o == OPT_TYPE ? &type : &id, why))
				status = cli_usage(c, "--%s %s: %s", o == OPT_TYPE ? "type" : "id",
						   optarg, why);
			*(o == OPT_TYPE ? &has_type : &has_id) = true;
			break;
		case OPT_FROM:
			b.from = optarg;
			break;
		case OPT_KEEP_GOING:
			b.keep_going = batch_opt = true;
			break;
		case OPT_BATCH:
			batch_opt = true;
			if (cli_parse_u64(optarg, 1, PEERGRAPH_BATCH_MAX, &v, why))
				status = cli_usage(c, "--batch %s: %s", optarg, why);
			b.batch = (unsigned)v;
			break;
		default:
			status = content_opt(c, o, ct);
		}
	}
	if (status || (status = cli_operands(c, argc, argv, 1, 1, operands)) ||
	    (status = graph_creator_args(c, argv[optind], NULL)))
		goto out;
	b.graph = argv[optind];
	if (b.from && (has_type || has_id || ct->changed))
		status = cli_usage(c, "--from reads every field from its lines: --type, --id, "
				      "--payload, --payload-file, --attr and --expires go in them");
	else if (!b.from && batch_opt)
		status = cli_usage(c, "--keep-going and --batch go with --from");
	else if (b.from)
		status = cli_record_add_batch(c, &b);
	else if (!has_type)
		status = cli_usage(c, "missing --type GUID (the record type)");
	else
		status = add_one(c, b.graph, &type, has_id ? &id : NULL, ct);
out:
	free(ct->file_data);
	free(ct);
	return status;
}

/* ---- update ------------------------------------------------------------------------------ */

static const char update_help[] =
    "SYNOPSIS\n"
    "    peergraph record update GRAPH ID [--payload TEXT | --payload-file FILE]\n"
    "                            [--attr NAME=TYPE:VALUE]... [--unset-attr NAME]...\n"
    "                            [--expires DURATION]\n"
    "\n"
    "DESCRIPTION\n"
    "    Updates one of this node's records: its new version keeps the payload,\n"
    "    attributes and expiry that the options do not change. --attr sets or replaces\n"
    "    an attribute, --unset-attr removes one. --expires sets the lifetime from now;\n"
    "    an update may only move the expiry later.\n"
    "\n"
    "OPTIONS\n"
    "    --payload TEXT, --payload-file FILE, --attr NAME=TYPE:VALUE, --expires\n"
    "    DURATION: as for `peergraph record add`\n"
    "    --unset-attr NAME   remove the attribute NAME\n"
    "\n"
    "OUTPUT\n"
    "    With --json {\"graph\": \"chat\", \"id\": \"...\", \"version\": N} (the new\n"
    "    version).\n"
    "\n"
    "EXAMPLES\n"
    "    peergraph record update chat 0d6e...9a --attr prio=int:1 --expires 30d\n";

/* A deep copy of a record's payload and attribute strings, which live in the connection's
 * memory only until the next call. The copy's pointers point into blob (free()). */
static int record_copy(const struct peergraph_record *in, struct peergraph_record *out,
		       struct cli_attrs *attrs, uint8_t **blob)
{
	size_t need = in->payload_len + 1, used;
	char why[CLI_WHY_SIZE];
	uint8_t *p;

	for (unsigned i = 0; i < in->nattrs; i++)
		if (in->attrs[i].type == PEERGRAPH_ATTR_STRING)
			need += strlen(in->attrs[i].str) + 1;
	p = malloc(need);
	if (!p)
		return -ENOMEM;
	*out = *in;
	memcpy(p, in->payload, in->payload_len);
	out->payload = p;
	used = in->payload_len;
	attrs->n = 0;
	for (unsigned i = 0; i < in->nattrs; i++) {
		struct peergraph_attr a = in->attrs[i];

		if (a.type == PEERGRAPH_ATTR_STRING) {
			a.str = memcpy(p + used, a.str, strlen(a.str) + 1);
			used += strlen(a.str) + 1;
		}
		if (cli_attrs_put(attrs, a.name, strlen(a.name), &a, true, why)) {
			free(p);
			return -EINVAL; /* a stored record always has valid, distinct names */
		}
	}
	out->creator = out->modifier = NULL; /* the daemon's to set */
	*blob = p;
	return 0;
}

/* Applies the options to the record's copy. 0, or the exit status with the failure told. */
static int update_apply(struct cli *c, const struct content *ct, struct peergraph_record *r,
			struct cli_attrs *attrs)
{
	char why[CLI_WHY_SIZE], t[CLI_TIME_SIZE];

	for (unsigned i = 0; i < ct->nunset; i++)
		if (cli_attrs_remove(attrs, ct->unset[i]))
			return cli_usage(c, "--unset-attr %s: the record has no such attribute",
					 ct->unset[i]);
	for (unsigned i = 0; i < ct->attrs.n; i++)
		if (cli_attrs_put(attrs, ct->attrs.names[i], strlen(ct->attrs.names[i]),
				  &ct->attrs.a[i], true, why))
			return cli_usage(c, "--attr %s: %s", ct->attrs.names[i], why);
	content_payload(ct, r);
	r->attrs = attrs->a;
	r->nattrs = attrs->n;
	if (ct->expires_s) {
		uint64_t exp = cli_now_us() + ct->expires_s * 1000000;

		if (exp < r->expires_us) {
			cli_time_format(r->expires_us, false, t);
			return cli_local_fail(c,
					      "--expires: the record expires at %s already, and "
					      "an update may only move its expiry later",
					      t);
		}
		r->expires_us = exp;
	}
	return 0;
}

static int update_send(struct cli *c, const char *graph, const struct content *ct,
		       const struct peergraph_guid *id, struct cli_attrs *attrs)
{
	struct peergraph_record got, r;
	char ids[37];
	uint8_t *blob = NULL;
	int status, err, result = 0;
	long n;

	peergraph_guid_format(id, ids);
	if ((err = peergraph_record_get(c->pg, graph, id, NULL, 0, &got)))
		return cli_fail(c, err, "cannot read record %s of graph \"%s\"", ids, graph);
	if ((err = record_copy(&got, &r, attrs, &blob)))
		return cli_local_fail(c, "copying record %s: %s", ids, strerror(-err));
	if ((status = update_apply(c, ct, &r, attrs)))
		goto out;
	n = peergraph_record_update(c->pg, graph, &r, 1, &result);
	if (n < 0 || result) {
		status = cli_fail(c, n < 0 ? (int)n : result, "cannot update record %s", ids);
		goto out;
	}
	if (c->json)
		status = cli_json_print(c, json_pack("{s:s, s:s, s:i}", "graph", graph, "id", ids,
						     "version", got.version + 1));
	else
		printf("record %s updated (version %u)\n", ids, got.version + 1);
out:
	free(blob);
	return status;
}

static int update_run(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "payload", required_argument, NULL, OPT_PAYLOAD },
		{ "payload-file", required_argument, NULL, OPT_PAYLOAD_FILE },
		{ "attr", required_argument, NULL, OPT_ATTR },
		{ "unset-attr", required_argument, NULL, OPT_UNSET_ATTR },
		{ "expires", required_argument, NULL, OPT_EXPIRES },
		{ 0 },
	};
	static const char *const operands[] = { "GRAPH", "ID" };
	struct content *ct = calloc(1, sizeof(*ct));
	struct cli_attrs *attrs = calloc(1, sizeof(*attrs));
	struct peergraph_guid id;
	char why[CLI_WHY_SIZE];
	int o, status = CLI_EXIT_OK;

	if (!ct || !attrs) {
		status = cli_local_fail(c, "out of memory");
		goto out;
	}
	while (status == CLI_EXIT_OK && (o = cli_opt_next(c, argc, argv, "", opts)) != -1)
		status = o == CLI_OPT_STOP ? c->status : content_opt(c, o, ct);
	if (status || (status = cli_operands(c, argc, argv, 2, 2, operands)) ||
	    (status = graph_creator_args(c, argv[optind], NULL)))
		goto out;
	if (cli_parse_guid(argv[optind + 1], &id, why)) {
		status = cli_usage(c, "ID %s: %s", argv[optind + 1], why);
		goto out;
	}
	if (!ct->changed) {
		status = cli_usage(c, "nothing to update: give --payload, --payload-file, --attr, "
				      "--unset-attr or --expires");
		goto out;
	}
	if ((status = content_load(c, ct)) || (status = cli_connect(c)))
		goto out;
	status = update_send(c, argv[optind], ct, &id, attrs);
out:
	if (ct)
		free(ct->file_data);
	free(ct);
	free(attrs);
	return status;
}

/* ---- delete ------------------------------------------------------------------------------ */

static const char delete_help[] =
    "SYNOPSIS\n"
    "    peergraph record delete GRAPH ID... [--creator CREATOR]\n"
    "\n"
    "DESCRIPTION\n"
    "    Deletes records: each becomes a tombstone, flooded like a record and kept\n"
    "    until its expiry (`record get --with-deleted` still shows it). Up to 65536\n"
    "    ids in one call. The records are this node's unless --creator names another\n"
    "    member's (which needs the rights to delete it).\n"
    "\n"
    "OPTIONS\n"
    "    --creator CREATOR   the creator of the records (a peer name, or a node name in\n"
    "                        an unsecured graph)\n"
    "\n"
    "OUTPUT\n"
    "    A line per id; with --json {\"graph\": \"chat\", \"deleted\": N, \"failed\":\n"
    "    [{\"id\": \"...\", \"code\": C, \"message\": \"...\"}]}. Exit status 0 when every\n"
    "    id was deleted, 4 when the only failures were ids not found, else 1.\n"
    "\n"
    "EXAMPLES\n"
    "    peergraph record delete chat 0d6e...9a 77f1...03\n";

/* Reports delete's outcomes; the exit status (worst first: failed, then not found). */
static int delete_report(struct cli *c, const char *graph, const struct peergraph_guid *ids,
			 const int *results, size_t n)
{
	json_t *failed = c->json ? json_array() : NULL;
	int status = CLI_EXIT_OK;
	size_t deleted = 0;
	char s[37];

	for (size_t i = 0; i < n; i++) {
		peergraph_guid_format(&ids[i], s);
		if (!results[i]) {
			deleted++;
			if (!c->json)
				printf("deleted %s\n", s);
			continue;
		}
		if (results[i] == CLI_E_NOT_FOUND && status == CLI_EXIT_OK)
			status = CLI_EXIT_NOT_FOUND;
		else if (results[i] != CLI_E_NOT_FOUND)
			status = CLI_EXIT_FAILED;
		fprintf(stderr, "%s: %s: %s\n", c->cmd, s, peergraph_strerror(results[i]));
		if (failed)
			json_array_append_new(failed, json_pack("{s:s, s:i, s:s}", "id", s, "code",
								results[i], "message",
								peergraph_strerror(results[i])));
	}
	if (c->json && cli_json_print(c, json_pack("{s:s, s:I, s:o}", "graph", graph, "deleted",
						   (json_int_t)deleted, "failed", failed)))
		return CLI_EXIT_FAILED;
	return status;
}

static int delete_run(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "creator", required_argument, NULL, OPT_CREATOR },
		{ 0 },
	};
	static const char *const operands[] = { "GRAPH", "ID" };
	const char *creator = NULL, *graph;
	struct peergraph_guid *ids = NULL;
	char why[CLI_WHY_SIZE];
	int *results = NULL, o, status;
	size_t n;
	long r;

	while ((o = cli_opt_next(c, argc, argv, "", opts)) != -1) {
		if (o == CLI_OPT_STOP)
			return c->status;
		creator = optarg;
	}
	if ((status = cli_operands(c, argc, argv, 2, 1 + PEERGRAPH_BATCH_MAX, operands)) ||
	    (status = graph_creator_args(c, argv[optind], creator)))
		return status;
	graph = argv[optind];
	n = (size_t)(argc - optind - 1);
	ids = calloc(n, sizeof(*ids));
	results = calloc(n, sizeof(*results));
	if (!ids || !results) {
		status = cli_local_fail(c, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (cli_parse_guid(argv[optind + 1 + i], &ids[i], why)) {
			status = cli_usage(c, "ID %s: %s", argv[optind + 1 + i], why);
			goto out;
		}
	}
	if ((status = cli_connect(c)))
		goto out;
	r = peergraph_record_delete(c->pg, graph, ids, n, creator, results);
	if (r < 0)
		status = cli_fail(c, (int)r, "cannot delete records of graph \"%s\"", graph);
	else
		status = delete_report(c, graph, ids, results, n);
out:
	free(ids);
	free(results);
	return status;
}

/* ---- get --------------------------------------------------------------------------------- */

static const char get_help[] =
    "SYNOPSIS\n"
    "    peergraph record get GRAPH ID [--creator CREATOR] [--with-deleted] [--raw]\n"
    "\n"
    "DESCRIPTION\n"
    "    Shows one record: its fields, attributes and payload (escaped and cut short\n"
    "    for the terminal; --raw or --json give all of it). The record is this node's\n"
    "    unless --creator names another member's.\n"
    "\n"
    "OPTIONS\n"
    "    --creator CREATOR   the record's creator\n"
    "    --with-deleted      show it also when it is a tombstone\n"
    "    --raw               write only the payload's bytes, as they are\n"
    "\n"
    "OUTPUT\n"
    "    With --json the record: {\"id\", \"type\", \"creator\", \"modifier\", \"version\",\n"
    "    \"created\", \"modified\", \"expires\", \"deleted\", \"auto_refresh\", \"signed\",\n"
    "    \"attrs\": {NAME: 42 | \"text\" | {\"date\": \"...\"}}, \"payload\" or\n"
    "    \"payload_b64\"} (doc/cli.md).\n"
    "\n"
    "EXAMPLES\n"
    "    peergraph record get chat 0d6e...9a\n"
    "    peergraph record get sensors 6a1f...c2 --raw > reading.bin\n";

static int get_run(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "creator", required_argument, NULL, OPT_CREATOR },
		{ "with-deleted", no_argument, NULL, OPT_WITH_DELETED },
		{ "raw", no_argument, NULL, OPT_RAW },
		{ 0 },
	};
	static const char *const operands[] = { "GRAPH", "ID" };
	const char *creator = NULL;
	struct peergraph_record r;
	struct peergraph_guid id;
	char why[CLI_WHY_SIZE];
	unsigned flags = 0;
	bool raw = false;
	int o, status, err;

	while ((o = cli_opt_next(c, argc, argv, "", opts)) != -1) {
		if (o == CLI_OPT_STOP)
			return c->status;
		if (o == OPT_CREATOR)
			creator = optarg;
		else if (o == OPT_WITH_DELETED)
			flags |= PEERGRAPH_WITH_DELETED;
		else
			raw = true;
	}
	if ((status = cli_operands(c, argc, argv, 2, 2, operands)) ||
	    (status = graph_creator_args(c, argv[optind], creator)))
		return status;
	if (cli_parse_guid(argv[optind + 1], &id, why))
		return cli_usage(c, "ID %s: %s", argv[optind + 1], why);
	if (raw && c->json)
		return cli_usage(c, "--raw and --json exclude each other");
	if ((status = cli_connect(c)))
		return status;
	if ((err = peergraph_record_get(c->pg, argv[optind], &id, creator, flags, &r)))
		return cli_fail(c, err, "cannot get record %s of graph \"%s\"", argv[optind + 1],
				argv[optind]);
	if (c->json)
		return cli_json_print(c, cli_json_record(&r));
	if (raw && r.payload_len && fwrite(r.payload, r.payload_len, 1, stdout) != 1)
		return cli_local_fail(c, "writing the payload: %s", strerror(errno));
	if (!raw)
		cli_record_print(&r);
	return CLI_EXIT_OK;
}

/* ---- the group --------------------------------------------------------------------------- */

static const char record_help[] =
    "SYNOPSIS\n"
    "    peergraph record add GRAPH --type GUID [--id GUID] [--payload TEXT |\n"
    "                         --payload-file FILE] [--attr NAME=TYPE:VALUE]...\n"
    "                         [--expires DURATION]\n"
    "    peergraph record add GRAPH --from FILE|- [--keep-going] [--batch N]\n"
    "    peergraph record update GRAPH ID [--payload ... ] [--attr ...]...\n"
    "                            [--unset-attr NAME]... [--expires DURATION]\n"
    "    peergraph record delete GRAPH ID... [--creator CREATOR]\n"
    "    peergraph record get GRAPH ID [--creator CREATOR] [--with-deleted] [--raw]\n"
    "    peergraph record list GRAPH [--type GUID] [--creator CREATOR] [--with-deleted]\n"
    "    peergraph record search GRAPH QUERY [--with-deleted]\n"
    "    peergraph record watch GRAPH [--count N] [--timeout DURATION]\n"
    "\n"
    "DESCRIPTION\n"
    "    Works on the records of an open graph. A record has a type and an id\n"
    "    (GUIDs), a creator, a version, a payload (bytes) and up to 128 typed\n"
    "    attributes (int, str, date) that searches match; it expires at a set time.\n"
    "    It is named by its id and its creator: --creator reaches another member's.\n"
    "\n"
    "EXAMPLES\n"
    "    peergraph record add chat --type 1b4e28ba-2fa1-11d2-883f-0016d3cca427 \\\n"
    "        --payload hi\n"
    "    peergraph record search chat 'and(room = \"lobby\", prio >= 2)'\n";

static const struct cli_cmd add_cmd = {
	"add", "add a record, or many from JSON lines", add_help, add_run, NULL,
};
static const struct cli_cmd update_cmd = {
	"update", "update one of this node's records", update_help, update_run, NULL,
};
static const struct cli_cmd delete_cmd = {
	"delete", "delete records (tombstones)", delete_help, delete_run, NULL,
};
static const struct cli_cmd get_cmd = {
	"get", "show one record", get_help, get_run, NULL,
};
static const struct cli_cmd list_cmd = {
	"list", "list records, by type and / or creator", cli_record_list_help, cli_record_list,
	NULL,
};
static const struct cli_cmd search_cmd = {
	"search", "list the records a query matches", cli_record_search_help, cli_record_search,
	NULL,
};
static const struct cli_cmd watch_cmd = {
	"watch", "print a graph's events as they happen", cli_record_watch_help, cli_record_watch,
	NULL,
};

static const struct cli_cmd *const record_cmds[] = {
	&add_cmd, &update_cmd, &delete_cmd, &get_cmd, &list_cmd, &search_cmd, &watch_cmd, NULL,
};

const struct cli_cmd cli_record_cmd = {
	"record",    "add, update, delete, read, search and watch records", record_help, NULL,
	record_cmds,
};
