/*
 * stats.c - `peergraph stats`: what the daemon says about itself (its version and the user
 * it runs as), the state of its graphs with their record counts, and its dataplane's counters
 * (NODE_STATS: records in and out, drops by reason, retransmits, where the workers' time
 * goes), printed by the names libpeergraph gives them, so a counter added there shows here.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum {
	VERSION_SIZE = 65, /* the VERSION_STR field's bound and its NUL */
};

static const char stats_help[] =
    "SYNOPSIS\n"
    "    peergraph stats [GRAPH]\n"
    "\n"
    "DESCRIPTION\n"
    "    Shows the daemon's version and the user it runs as, then every graph (or only\n"
    "    GRAPH) with its state and record count, then the node's dataplane: the address\n"
    "    it is bound to and its counters since the daemon started (records received, new,\n"
    "    duplicate, flooded; datagrams dropped by reason; retransmits; reassembly timeouts;\n"
    "    nanoseconds spent per stage).\n"
    "\n"
    "OUTPUT\n"
    "    With --json {\"daemon\": {\"version\": \"0.1.0\", \"uid\": 0, \"socket\": \"...\"},\n"
    "    \"graphs\": [<as `peergraph graph status --json`>, ...], \"node\": {\"address\":\n"
    "    \"127.0.0.1:3587\", \"records_in\": 0, \"drops_unknown\": 0, ...}} (\"address\" is\n"
    "    null without a dataplane socket).\n"
    "\n"
    "EXAMPLES\n"
    "    peergraph stats\n"
    "    peergraph --json stats chat | jq .graphs[0].records\n"
    "    peergraph --json stats | jq .node.drops_decode\n";

struct daemon_info {
	char version[VERSION_SIZE];
	uint32_t uid;
};

static void print_daemon(const struct cli *c, const struct daemon_info *d)
{
	struct passwd *pw = getpwuid(d->uid);

	printf("daemon:   peergraphd %s, running as uid %u%s%s%s\n", d->version, d->uid,
	       pw ? " (" : "", pw ? pw->pw_name : "", pw ? ")" : "");
	printf("socket:   %s\n\n", c->socket);
}

static int print_graphs(struct cli *c, const struct peergraph_graph_status *st, long n)
{
	static const char *const headers[] = { "GRAPH",	  "STATE",	     "SECURED",
					       "RECORDS", "MAX RECORD SIZE", "IDENTITY" };
	struct cli_table *t = cli_table_create(6, headers);

	for (long i = 0; i < n; i++) {
		char records[24], size[16];
		const char *row[] = {
			st[i].graph_id,
			st[i].status & PEERGRAPH_GRAPH_OPEN ? "open" : "closed",
			st[i].status & PEERGRAPH_GRAPH_SECURED ? "yes" : "no",
			records,
			size,
			st[i].identity[0] ? st[i].identity : "-",
		};

		snprintf(records, sizeof(records), "%llu", (unsigned long long)st[i].records);
		snprintf(size, sizeof(size), "%u", st[i].max_record_size);
		cli_table_row(t, row);
	}
	return cli_table_finish(c, t);
}

/* The node's counters, one per row, by their libpeergraph names. */
static int print_node(struct cli *c, const struct peergraph_node_stats *ns)
{
	static const char *const headers[] = { "COUNTER", "VALUE" };
	const struct peergraph_node_stat_field *fld;
	struct cli_table *t;
	size_t n;

	printf("\ndataplane: %s\n\n", ns->address[0] ? ns->address : "no socket");
	fflush(stdout);
	fld = peergraph_node_stat_fields(&n);
	t = cli_table_create(2, headers);
	for (size_t i = 0; i < n; i++) {
		uint64_t v;
		char value[24];
		const char *row[] = { fld[i].name, value };

		memcpy(&v, (const char *)ns + fld[i].offset, sizeof(v));
		snprintf(value, sizeof(value), "%llu", (unsigned long long)v);
		cli_table_row(t, row);
	}
	return cli_table_finish(c, t);
}

static json_t *node_json(const struct peergraph_node_stats *ns)
{
	size_t n;
	const struct peergraph_node_stat_field *fld = peergraph_node_stat_fields(&n);
	json_t *o = json_object();

	if (!o || json_object_set_new(o, "address",
				      ns->address[0] ? json_string(ns->address) : json_null())) {
		json_decref(o);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t v;

		memcpy(&v, (const char *)ns + fld[i].offset, sizeof(v));
		if (json_object_set_new(o, fld[i].name, json_integer((json_int_t)v))) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

static int print_json(struct cli *c, const struct daemon_info *d,
		      const struct peergraph_graph_status *st, long n,
		      const struct peergraph_node_stats *ns)
{
	json_t *arr = json_array(), *node = node_json(ns);

	for (long i = 0; arr && i < n; i++) {
		if (json_array_append_new(arr, cli_json_graph_status(&st[i], true))) {
			json_decref(arr);
			arr = NULL;
		}
	}
	if (!arr || !node) {
		json_decref(arr);
		json_decref(node);
		return cli_json_print(c, NULL);
	}
	return cli_json_print(c, json_pack("{s:{s:s, s:I, s:s}, s:o, s:o}", "daemon", "version",
					   d->version, "uid", (json_int_t)d->uid, "socket",
					   c->socket, "graphs", arr, "node", node));
}

static long graphs(struct cli *c, void *buf, size_t max)
{
	return peergraph_graph_list(c->pg, buf, max);
}

/* The status of every graph (or of the one named) into *out; the count or an error. */
static long statuses(struct cli *c, const char *only, struct peergraph_graph_status **out)
{
	struct peergraph_graph_status *st;
	void *list;
	long n, kept = 0;
	int err;

	if (only) {
		st = malloc(sizeof(*st));
		if (!st)
			return -ENOMEM;
		if ((err = peergraph_graph_status(c->pg, only, st))) {
			free(st);
			return err;
		}
		*out = st;
		return 1;
	}
	n = cli_list_all(c, graphs, sizeof(*st), &list);
	if (n < 0)
		return n;
	st = list;
	for (long i = 0; i < n; i++) {
		char id[PEERGRAPH_GRAPH_ID_MAX + 1];

		/* copied: the status is written over the list, maybe over this very entry */
		memcpy(id, st[i].graph_id, sizeof(id));
		err = peergraph_graph_status(c->pg, id, &st[kept]);
		if (err == CLI_E_NOT_FOUND)
			continue; /* deleted since the list: not a graph any more */
		if (err) {
			free(st);
			return err;
		}
		kept++;
	}
	*out = st;
	return kept;
}

static int stats_run(struct cli *c, int argc, char **argv)
{
	static const char *const operands[] = { "GRAPH" };
	struct peergraph_graph_status *st = NULL;
	struct peergraph_node_stats ns;
	struct daemon_info d = { 0 };
	char why[CLI_WHY_SIZE];
	const char *only;
	int status, err;
	long n;

	if ((status = cli_plain_args(c, argc, argv, 0, 1, operands)))
		return status;
	only = optind < argc ? argv[optind] : NULL;
	if (only && cli_check_graph_id(only, why))
		return cli_usage(c, "GRAPH '%s': %s", only, why);
	if ((status = cli_connect(c)))
		return status;
	if ((err = peergraph_hello(c->pg, d.version, sizeof(d.version), &d.uid)))
		return cli_fail(c, err, "cannot ask the daemon who it is");
	n = statuses(c, only, &st);
	if (n < 0)
		return only ? cli_fail(c, (int)n, "cannot read the status of graph \"%s\"", only)
			    : cli_fail(c, (int)n, "cannot read the graphs' status");
	if ((err = peergraph_node_stats(c->pg, &ns))) {
		free(st);
		return cli_fail(c, err, "cannot read the node's counters");
	}
	if (c->json) {
		status = print_json(c, &d, st, n, &ns);
	} else {
		print_daemon(c, &d);
		status = print_graphs(c, st, n);
		if (!status)
			status = print_node(c, &ns);
	}
	free(st);
	return status;
}

const struct cli_cmd cli_stats_cmd = {
	"stats",    "show the daemon's version, its graphs' state and its dataplane's counters",
	stats_help, stats_run,
	NULL,
};
