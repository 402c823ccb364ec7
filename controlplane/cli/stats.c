/*
 * stats.c - `peergraph stats`: what the daemon says about itself (its version and the user
 * it runs as) and the state of its graphs with their record counts.
 *
 * For now this is what the control API offers (HELLO, GRAPH_LIST, GRAPH_STATUS); the
 * daemon's own metrics (rates, queue depths, drops) join it in a later issue, as new keys of
 * the same JSON document.
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
    "    GRAPH) with its state and record count.\n"
    "\n"
    "OUTPUT\n"
    "    With --json {\"daemon\": {\"version\": \"0.1.0\", \"uid\": 0, \"socket\": \"...\"},\n"
    "    \"graphs\": [<as `peergraph graph status --json`>, ...]}.\n"
    "\n"
    "EXAMPLES\n"
    "    peergraph stats\n"
    "    peergraph --json stats chat | jq .graphs[0].records\n";

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

static int print_json(struct cli *c, const struct daemon_info *d,
		      const struct peergraph_graph_status *st, long n)
{
	json_t *arr = json_array();

	for (long i = 0; arr && i < n; i++) {
		if (json_array_append_new(arr, cli_json_graph_status(&st[i], true))) {
			json_decref(arr);
			arr = NULL;
		}
	}
	if (!arr)
		return cli_json_print(c, NULL);
	return cli_json_print(c, json_pack("{s:{s:s, s:I, s:s}, s:o}", "daemon", "version",
					   d->version, "uid", (json_int_t)d->uid, "socket",
					   c->socket, "graphs", arr));
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
	if (c->json) {
		status = print_json(c, &d, st, n);
	} else {
		print_daemon(c, &d);
		status = print_graphs(c, st, n);
	}
	free(st);
	return status;
}

const struct cli_cmd cli_stats_cmd = {
	"stats", "show the daemon's version and its graphs' state", stats_help, stats_run, NULL,
};
