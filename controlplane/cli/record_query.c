/*
 * record_query.c - `peergraph record list` and `peergraph record search`: the records of a
 * graph by type and creator, or those a query matches, written as they arrive.
 *
 * A graph may hold millions of records, so nothing here collects them: the library follows
 * the daemon's continuation cursors and hands each record to a callback, which writes a row
 * of a fixed-width table or one JSON line. Memory stays bounded by the daemon's reply size,
 * and a reader (`| head`, `| jq`) sees the first records at once.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

enum {
	OPT_TYPE = CLI_OPT_FIRST,
	OPT_CREATOR,
	OPT_WITH_DELETED,
};

struct walk {
	struct cli *c;
	bool header_done;
	bool write_failed;
};

/* The callback: one row or one JSON line. Stops the walk when stdout cannot be written. */
static int each(void *ctx, const struct peergraph_record *r)
{
	struct walk *w = ctx;

	if (w->c->json) {
		if (cli_json_print(w->c, cli_json_record(r)))
			w->write_failed = true;
	} else {
		if (!w->header_done)
			cli_record_row_header();
		w->header_done = true;
		cli_record_row(r);
		w->write_failed = ferror(stdout);
	}
	return w->write_failed;
}

/* What a walk ends with: its error, the write failure, or a note that nothing matched. */
static int walk_end(struct walk *w, long n, const char *what, const char *graph)
{
	if (w->write_failed)
		return CLI_EXIT_FAILED; /* said by cli_json_print, or by main's final flush */
	if (n < 0)
		return cli_fail(w->c, (int)n, "cannot %s graph \"%s\"", what, graph);
	if (n == 0 && !w->c->json)
		fprintf(stderr, "%s: no records\n", w->c->cmd);
	return CLI_EXIT_OK;
}

const char cli_record_list_help[] =
    "SYNOPSIS\n"
    "    peergraph record list GRAPH [--type GUID] [--creator CREATOR] [--with-deleted]\n"
    "\n"
    "DESCRIPTION\n"
    "    Lists the records of an open graph, all of them or those of one type and / or\n"
    "    one creator, as they arrive from the daemon.\n"
    "\n"
    "OPTIONS\n"
    "    --type GUID         only records of this type\n"
    "    --creator CREATOR   only records of this creator\n"
    "    --with-deleted      tombstones too (flag D)\n"
    "\n"
    "OUTPUT\n"
    "    A table: ID, TYPE, VER (version), MODIFIED, EXPIRES, BYTES (payload),\n"
    "    FLAGS (D deleted, A auto-refresh, S signed; - where not), CREATOR. With\n"
    "    --json one record a line, as `peergraph record get --json` prints it; these\n"
    "    lines can be fed to `peergraph record add --from -`. \"no records\" goes to\n"
    "    standard error when there are none.\n"
    "\n"
    "EXAMPLES\n"
    "    peergraph record list chat\n"
    "    peergraph --json record list chat --type 1b4e28ba-2fa1-11d2-883f-0016d3cca427 "
    "|\n"
    "        jq -r .payload\n";

int cli_record_list(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "type", required_argument, NULL, OPT_TYPE },
		{ "creator", required_argument, NULL, OPT_CREATOR },
		{ "with-deleted", no_argument, NULL, OPT_WITH_DELETED },
		{ 0 },
	};
	static const char *const operands[] = { "GRAPH" };
	const char *creator = NULL;
	struct peergraph_guid type;
	struct walk w = { .c = c };
	char why[CLI_WHY_SIZE];
	bool has_type = false;
	unsigned flags = 0;
	int o, status;
	long n;

	while ((o = cli_opt_next(c, argc, argv, "", opts)) != -1) {
		switch (o) {
		case CLI_OPT_STOP:
			return c->status;
		case OPT_TYPE:
			if (cli_parse_guid(optarg, &type, why))
				return cli_usage(c, "--type %s: %s", optarg, why);
			has_type = true;
			break;
		case OPT_CREATOR:
			if (cli_check_creator(optarg, why))
				return cli_usage(c, "--creator '%s': %s", optarg, why);
			creator = optarg;
			break;
		case OPT_WITH_DELETED:
			flags |= PEERGRAPH_WITH_DELETED;
			break;
		}
	}
	if ((status = cli_operands(c, argc, argv, 1, 1, operands)))
		return status;
	if (cli_check_graph_id(argv[optind], why))
		return cli_usage(c, "GRAPH '%s': %s", argv[optind], why);
	if ((status = cli_connect(c)))
		return status;
	n = peergraph_record_enum(c->pg, argv[optind], has_type ? &type : NULL, creator, flags,
				  each, &w);
	return walk_end(&w, n, "list the records of", argv[optind]);
}

const char cli_record_search_help[] =
    "SYNOPSIS\n"
    "    peergraph record search GRAPH QUERY [--with-deleted]\n"
    "\n"
    "DESCRIPTION\n"
    "    Lists the records of an open graph that QUERY matches. A query is a clause\n"
    "    NAME OP VALUE, or and(...) / or(...) of queries, separated by commas:\n"
    "        OP      = != < > <= >=\n"
    "        VALUE   42 (int), \"text\" (str; \"\" is a quote), date(2026-01-01T00:00:00Z)\n"
    "                or date(MICROSECONDS)\n"
    "    In a string compared with = or !=, * matches any run of characters and ?\n"
    "    one character (\\*, \\? and \\\\ stand for themselves). A clause matches only\n"
    "    an attribute of the same name and type. The record's fields are read as\n"
    "    peercreatorid, peerlastmodifiedby, peerrecordid, peerrecordtype (strings) and\n"
    "    peercreationtime, peerlastmodificationtime (dates). Bounds: 64 clauses, 64\n"
    "    groups, 16 levels, 64 KiB of text.\n"
    "\n"
    "OPTIONS\n"
    "    --with-deleted   tombstones too\n"
    "\n"
    "OUTPUT\n"
    "    As `peergraph record list`.\n"
    "\n"
    "EXAMPLES\n"
    "    peergraph record search chat 'room = \"lobby\"'\n"
    "    peergraph record search chat 'and(peercreatorid = \"3f1c*\", prio >= 2,\n"
    "        peercreationtime >= date(2026-01-01T00:00:00Z))'\n";

int cli_record_search(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "with-deleted", no_argument, NULL, OPT_WITH_DELETED },
		{ 0 },
	};
	static const char *const operands[] = { "GRAPH", "QUERY" };
	struct walk w = { .c = c };
	char why[CLI_WHY_SIZE];
	const char *query;
	unsigned flags = 0;
	int o, status;
	long n;

	while ((o = cli_opt_next(c, argc, argv, "", opts)) != -1) {
		if (o == CLI_OPT_STOP)
			return c->status;
		flags |= PEERGRAPH_WITH_DELETED;
	}
	if ((status = cli_operands(c, argc, argv, 2, 2, operands)))
		return status;
	if (cli_check_graph_id(argv[optind], why))
		return cli_usage(c, "GRAPH '%s': %s", argv[optind], why);
	query = argv[optind + 1];
	if (!query[0] || strlen(query) > CLI_QUERY_MAX || !cli_utf8_valid(query, strlen(query)))
		return cli_usage(c, "QUERY: 1 to %d bytes of UTF-8", CLI_QUERY_MAX);
	if ((status = cli_connect(c)))
		return status;
	n = peergraph_record_search(c->pg, argv[optind], query, flags, each, &w);
	return walk_end(&w, n, "search", argv[optind]);
}
