/*
 * graph.c - `peergraph graph`: the graphs of the node (create, open, close, delete, list,
 * status) and their databases' export to / import from a snapshot file.
 *
 * A graph's export and import file is written and read by the daemon, not by this tool, so
 * its path is made absolute here (the daemon has another working directory) and names a file
 * on the daemon's host, as the daemon sees it: a daemon run by systemd with PrivateTmp= has
 * a /tmp of its own.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum {
	OPT_IDENTITY = CLI_OPT_FIRST,
	OPT_UNSECURED,
	OPT_MAX_RECORD_SIZE,
};

/* Checks a graph ID operand. 0 or the usage error. */
static int graph_arg(struct cli *c, const char *id)
{
	char why[CLI_WHY_SIZE];

	if (cli_check_graph_id(id, why))
		return cli_usage(c, "graph ID '%s': %s", id, why);
	return 0;
}

/* The operands of a command that takes only the common options: ID first. */
static int plain_args(struct cli *c, int argc, char **argv, int n, const char *const *names)
{
	int status = cli_plain_args(c, argc, argv, n, n, names);

	return status ? status : graph_arg(c, argv[optind]);
}

/* Prints what a command did: {"graph": id, key: val} or the text. */
static int done(struct cli *c, const char *id, const char *key, json_t *val, const char *text)
{
	if (!c->json) {
		json_decref(val);
		printf("graph \"%s\" %s\n", id, text);
		return CLI_EXIT_OK;
	}
	return cli_json_print(c, json_pack("{s:s, s:o}", "graph", id, key, val));
}

/* ---- create ------------------------------------------------------------------------------ */

static const char create_help[] =
    "SYNOPSIS\n"
    "    peergraph graph create ID [--identity PEERNAME] [--unsecured]\n"
    "                              [--max-record-size SIZE]\n"
    "\n"
    "DESCRIPTION\n"
    "    Creates a graph (its database under the daemon's state directory) and opens\n"
    "    it. ID is 1 to 256 bytes of UTF-8 without control characters. A secured graph\n"
    "    signs its records with its identity's key: --identity, else the daemon's\n"
    "    default identity.\n"
    "\n"
    "OPTIONS\n"
    "    --identity PEERNAME     the identity that signs this node's records\n"
    "    --unsecured             records are not signed, even with an identity\n"
    "    --max-record-size SIZE  the largest record (payload and attributes), from 1K\n"
    "                            to 60M; K = 1024 bytes, M = 1048576. Default 1M\n"
    "\n"
    "EXAMPLES\n"
    "    peergraph graph create chat\n"
    "    peergraph graph create sensors --unsecured --max-record-size 64K\n";

static int create_run(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "identity", required_argument, NULL, OPT_IDENTITY },
		{ "unsecured", no_argument, NULL, OPT_UNSECURED },
		{ "max-record-size", required_argument, NULL, OPT_MAX_RECORD_SIZE },
		{ 0 },
	};
	static const char *const operands[] = { "ID" };
	struct peergraph_graph_props props = { 0 };
	char why[CLI_WHY_SIZE];
	uint64_t size;
	int o, status, err;

	while ((o = cli_opt_next(c, argc, argv, "", opts)) != -1) {
		switch (o) {
		case CLI_OPT_STOP:
			return c->status;
		case OPT_IDENTITY:
			if (cli_check_peer_name(optarg, why))
				return cli_usage(c, "--identity '%s': %s", optarg, why);
			props.identity = optarg;
			break;
		case OPT_UNSECURED:
			props.flags |= PEERGRAPH_GRAPH_UNSECURED;
			break;
		case OPT_MAX_RECORD_SIZE:
			if (cli_parse_size(optarg, CLI_RECORD_SIZE_MIN, CLI_RECORD_SIZE_MAX, &size,
					   why))
				return cli_usage(c, "--max-record-size %s: %s", optarg, why);
			props.max_record_size = (uint32_t)size;
			break;
		}
	}
	if ((status = cli_operands(c, argc, argv, 1, 1, operands)) ||
	    (status = graph_arg(c, argv[optind])) || (status = cli_connect(c)))
		return status;
	if ((err = peergraph_graph_create(c->pg, argv[optind], &props)))
		return cli_fail(c, err, "cannot create graph \"%s\"", argv[optind]);
	return done(c, argv[optind], "created", json_true(), "created and opened");
}

/* ---- open, close, delete ----------------------------------------------------------------- */

static const char open_help[] =
    "SYNOPSIS\n"
    "    peergraph graph open ID\n"
    "\n"
    "DESCRIPTION\n"
    "    Opens a graph the daemon knows (see `peergraph graph list`): its database is\n"
    "    loaded and its records can be read, added and watched.\n"
    "\n"
    "EXAMPLES\n"
    "    peergraph graph open chat\n";

static const char close_help[] =
    "SYNOPSIS\n"
    "    peergraph graph close ID\n"
    "\n"
    "DESCRIPTION\n"
    "    Closes a graph: its database is written out and its memory freed. The graph\n"
    "    stays known to the daemon; `peergraph graph open` opens it again.\n"
    "\n"
    "EXAMPLES\n"
    "    peergraph graph close chat\n";

static int open_close(struct cli *c, int argc, char **argv, bool open)
{
	static const char *const operands[] = { "ID" };
	int status, err;

	if ((status = plain_args(c, argc, argv, 1, operands)) || (status = cli_connect(c)))
		return status;
	err = open ? peergraph_graph_open(c->pg, argv[optind])
		   : peergraph_graph_close(c->pg, argv[optind]);
	if (err)
		return cli_fail(c, err, "cannot %s graph \"%s\"", open ? "open" : "close",
				argv[optind]);
	return done(c, argv[optind], "open", json_boolean(open), open ? "opened" : "closed");
}

static int open_run(struct cli *c, int argc, char **argv)
{
	return open_close(c, argc, argv, true);
}

static int close_run(struct cli *c, int argc, char **argv)
{
	return open_close(c, argc, argv, false);
}

static const char delete_help[] =
    "SYNOPSIS\n"
    "    peergraph graph delete ID [--yes]\n"
    "\n"
    "DESCRIPTION\n"
    "    Deletes a graph and its database (closing it first). This cannot be undone:\n"
    "    `peergraph graph export` keeps a copy. Asks for confirmation when standard\n"
    "    input is a terminal; elsewhere (a script) it refuses without --yes.\n"
    "\n"
    "OPTIONS\n"
    "    -y, --yes   do not ask\n"
    "\n"
    "EXAMPLES\n"
    "    peergraph graph delete scratch --yes\n";

static int delete_run(struct cli *c, int argc, char **argv)
{
	static const struct cli_delete d = { "ID", "graph", "and all its records", graph_arg };
	int status, err;

	if ((status = cli_delete_args(c, argc, argv, &d)) || (status = cli_connect(c)))
		return status;
	if ((err = peergraph_graph_delete(c->pg, argv[optind])))
		return cli_fail(c, err, "cannot delete graph \"%s\"", argv[optind]);
	return done(c, argv[optind], "deleted", json_true(), "deleted");
}

/* ---- list, status ------------------------------------------------------------------------ */

static const char list_help[] =
    "SYNOPSIS\n"
    "    peergraph graph list\n"
    "\n"
    "DESCRIPTION\n"
    "    Lists the graphs the daemon knows: whether each is open, whether it is\n"
    "    secured and by which identity. `peergraph graph status ID` and\n"
    "    `peergraph stats` add the record counts.\n"
    "\n"
    "OUTPUT\n"
    "    A table; with --json {\"graphs\": [{\"graph\": \"chat\", \"open\": true,\n"
    "    \"secured\": true, \"listening\": false, \"identity\": \"...\" or null}, ...]}.\n"
    "\n"
    "EXAMPLES\n"
    "    peergraph graph list\n";

static long graphs(struct cli *c, void *buf, size_t max)
{
	return peergraph_graph_list(c->pg, buf, max);
}

static int list_print(struct cli *c, const void *list, long n)
{
	static const char *const headers[] = { "GRAPH", "STATE", "SECURED", "IDENTITY" };
	const struct peergraph_graph_status *gs = list;
	struct cli_table *t;
	json_t *arr;

	if (c->json) {
		arr = json_array();
		for (long i = 0; arr && i < n; i++) {
			if (json_array_append_new(arr, cli_json_graph_status(&gs[i], false))) {
				json_decref(arr);
				arr = NULL;
			}
		}
		return cli_json_print(c, arr ? json_pack("{s:o}", "graphs", arr) : NULL);
	}
	t = cli_table_create(4, headers);
	for (long i = 0; i < n; i++) {
		const char *row[] = {
			gs[i].graph_id,
			gs[i].status & PEERGRAPH_GRAPH_OPEN ? "open" : "closed",
			gs[i].status & PEERGRAPH_GRAPH_SECURED ? "yes" : "no",
			gs[i].identity[0] ? gs[i].identity : "-",
		};

		cli_table_row(t, row);
	}
	return cli_table_finish(c, t);
}

static int list_run(struct cli *c, int argc, char **argv)
{
	return cli_list_run(c, argc, argv, graphs, sizeof(struct peergraph_graph_status),
			    list_print, "the graphs");
}

static const char status_help[] =
    "SYNOPSIS\n"
    "    peergraph graph status ID\n"
    "\n"
    "DESCRIPTION\n"
    "    Shows a graph's state: open or closed, secured (and by which identity),\n"
    "    listening for links from other nodes, its record count, its max record size\n"
    "    and its links to other nodes (`peergraph graph neighbours` lists them).\n"
    "\n"
    "OUTPUT\n"
    "    Lines of fields; with --json {\"graph\": \"chat\", \"open\": true, \"secured\":\n"
    "    true, \"listening\": false, \"identity\": \"...\" or null, \"records\": 12,\n"
    "    \"max_record_size\": 1048576, \"links\": 2}.\n"
    "\n"
    "EXAMPLES\n"
    "    peergraph graph status chat\n";

void cli_graph_status_print(const struct peergraph_graph_status *st)
{
	printf("graph:            %s\n", st->graph_id);
	printf("state:            %s\n", st->status & PEERGRAPH_GRAPH_OPEN ? "open" : "closed");
	printf("secured:          %s%s\n", st->status & PEERGRAPH_GRAPH_SECURED ? "yes, by " : "no",
	       st->status & PEERGRAPH_GRAPH_SECURED ? st->identity : "");
	printf("listening:        %s\n", st->status & PEERGRAPH_GRAPH_LISTENING ? "yes" : "no");
	printf("links:            %u\n", st->links);
	printf("records:          %llu\n", (unsigned long long)st->records);
	printf("max record size:  %u bytes\n", st->max_record_size);
}

static int status_run(struct cli *c, int argc, char **argv)
{
	static const char *const operands[] = { "ID" };
	struct peergraph_graph_status st;
	int status, err;

	if ((status = plain_args(c, argc, argv, 1, operands)) || (status = cli_connect(c)))
		return status;
	if ((err = peergraph_graph_status(c->pg, argv[optind], &st)))
		return cli_fail(c, err, "cannot read the status of graph \"%s\"", argv[optind]);
	if (c->json)
		return cli_json_print(c, cli_json_graph_status(&st, true));
	cli_graph_status_print(&st);
	return CLI_EXIT_OK;
}

/* ---- export, import ---------------------------------------------------------------------- */

static const char export_help[] =
    "SYNOPSIS\n"
    "    peergraph graph export ID FILE\n"
    "\n"
    "DESCRIPTION\n"
    "    Has the daemon write the graph's database to FILE as a snapshot, which\n"
    "    `peergraph graph import` merges into a graph of the same ID, here or on\n"
    "    another node. The daemon writes FILE, on its host and with its permissions:\n"
    "    a relative FILE is made absolute here first. A daemon run by systemd with\n"
    "    PrivateTmp= has a /tmp of its own: choose a directory outside /tmp.\n"
    "    Refused once the graph is listening.\n"
    "\n"
    "OUTPUT\n"
    "    With --json {\"graph\": \"chat\", \"file\": \"/abs/path\", \"exported\": true}.\n"
    "\n"
    "EXAMPLES\n"
    "    peergraph graph export chat /var/backups/chat.pgsnap\n";

static const char import_help[] =
    "SYNOPSIS\n"
    "    peergraph graph import ID FILE\n"
    "\n"
    "DESCRIPTION\n"
    "    Has the daemon merge a snapshot written by `peergraph graph export` into the\n"
    "    graph, all or nothing; a snapshot of another graph is refused. The daemon\n"
    "    reads FILE, on its host and with its permissions: a relative FILE is made\n"
    "    absolute here first (and /tmp may not be the daemon's /tmp: see\n"
    "    `peergraph graph export --help`). Refused once the graph is listening.\n"
    "\n"
    "OUTPUT\n"
    "    With --json {\"graph\": \"chat\", \"file\": \"/abs/path\", \"imported\": true}.\n"
    "\n"
    "EXAMPLES\n"
    "    peergraph graph import chat /var/backups/chat.pgsnap\n";

static int export_import(struct cli *c, int argc, char **argv, bool export)
{
	static const char *const operands[] = { "ID", "FILE" };
	char path[CLI_PATH_MAX + 1];
	const char *id;
	int status, err;

	if ((status = plain_args(c, argc, argv, 2, operands)))
		return status;
	id = argv[optind];
	if ((err = cli_path_absolute(argv[optind + 1], path)))
		return cli_usage(c, "FILE %s: %s", argv[optind + 1], strerror(-err));
	if ((status = cli_connect(c)))
		return status;
	err = export ? peergraph_graph_export(c->pg, id, path)
		     : peergraph_graph_import(c->pg, id, path);
	if (err)
		return cli_fail(c, err, "cannot %s graph \"%s\" %s %s",
				export ? "export" : "import", id, export ? "to" : "from", path);
	if (c->json)
		return cli_json_print(c, json_pack("{s:s, s:s, s:b}", "graph", id, "file", path,
						   export ? "exported" : "imported", 1));
	printf("graph \"%s\" %s %s\n", id, export ? "exported to" : "imported from", path);
	return CLI_EXIT_OK;
}

static int export_run(struct cli *c, int argc, char **argv)
{
	return export_import(c, argc, argv, true);
}

static int import_run(struct cli *c, int argc, char **argv)
{
	return export_import(c, argc, argv, false);
}

/* ---- the group --------------------------------------------------------------------------- */

static const char graph_help[] =
    "SYNOPSIS\n"
    "    peergraph graph create ID [--identity PEERNAME] [--unsecured]\n"
    "                              [--max-record-size SIZE]\n"
    "    peergraph graph open ID\n"
    "    peergraph graph close ID\n"
    "    peergraph graph delete ID [--yes]\n"
    "    peergraph graph list\n"
    "    peergraph graph status ID\n"
    "    peergraph graph export ID FILE\n"
    "    peergraph graph import ID FILE\n"
    "    peergraph graph listen ID [--stop]\n"
    "    peergraph graph connect ID HOST:PORT [--no-wait] [--timeout DURATION]\n"
    "    peergraph graph disconnect ID HOST:PORT\n"
    "    peergraph graph neighbours ID\n"
    "\n"
    "DESCRIPTION\n"
    "    Manages the node's graphs: databases of records that the node floods to and\n"
    "    from its neighbours. A graph is named by its ID on every node that holds it.\n"
    "    Two nodes flood a graph once one listens for it and the other connects to it\n"
    "    (at its daemon's dataplane address, [dataplane] address in peergraphd.conf).\n"
    "\n"
    "EXAMPLES\n"
    "    peergraph graph create chat && peergraph graph status chat\n"
    "    peergraph graph listen chat     # on node B\n"
    "    peergraph graph connect chat nodeb.example:3587     # on node A\n";

static const struct cli_cmd create_cmd = {
	"create", "create a graph and open it", create_help, create_run, NULL,
};
static const struct cli_cmd open_cmd = {
	"open", "open a graph", open_help, open_run, NULL,
};
static const struct cli_cmd close_cmd = {
	"close", "close a graph", close_help, close_run, NULL,
};
static const struct cli_cmd delete_cmd = {
	"delete", "delete a graph and its database", delete_help, delete_run, NULL,
};
static const struct cli_cmd list_cmd = {
	"list", "list the graphs", list_help, list_run, NULL,
};
static const struct cli_cmd status_cmd = {
	"status", "show a graph's state and record count", status_help, status_run, NULL,
};
static const struct cli_cmd export_cmd = {
	"export", "write a graph's database to a snapshot file", export_help, export_run, NULL,
};
static const struct cli_cmd import_cmd = {
	"import", "merge a snapshot file into a graph", import_help, import_run, NULL,
};

static const struct cli_cmd *const graph_cmds[] = {
	&create_cmd,
	&open_cmd,
	&close_cmd,
	&delete_cmd,
	&list_cmd,
	&status_cmd,
	&export_cmd,
	&import_cmd,
	&cli_graph_listen_cmd,
	&cli_graph_connect_cmd,
	&cli_graph_disconnect_cmd,
	&cli_graph_neighbours_cmd,
	NULL,
};

const struct cli_cmd cli_graph_cmd = {
	"graph", "manage graphs (record databases)", graph_help, NULL, graph_cmds,
};
