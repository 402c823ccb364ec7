/*
 * graph_link.c - `peergraph graph listen / connect / disconnect / neighbours`: a graph's links
 * to other nodes, over which its records are flooded (doc/flood.md).
 *
 * WAITING FOR A CONNECT
 *
 * The daemon answers GRAPH_CONNECT as soon as the connect started, with the address as it
 * resolved it; the outcome is an event carrying that address (doc/api.md, "Links between
 * nodes"). `graph connect` therefore subscribes to the graph's neighbour events *before* it
 * connects (an event sent before the subscription would be missed), then reads events until
 * one names that address: NEIGHBOUR_UP (exit 0) or CONNECT_FAILED (exit 1, with the reason).
 * The dataplane gives up after 5 s without an answer; the tool waits 6 s by default so that
 * the daemon's own verdict, with its reason, normally arrives first. --no-wait returns as
 * soon as the connect started.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum {
	OPT_STOP = CLI_OPT_FIRST,
	OPT_NO_WAIT,
	OPT_TIMEOUT,
	CONNECT_WAIT_S = 6,	   /* the dataplane's 5 s, and a second for its event */
	CONNECT_WAIT_MAX_S = 3600, /* --timeout's bound */
	NEIGHBOURS_FIRST = 64,
};

/* GRAPH's ID and HOST:PORT operands (n of them), checked. 0 or the usage error. */
static int link_operands(struct cli *c, int argc, char **argv, int n)
{
	static const char *const operands[] = { "ID", "HOST:PORT" };
	char why[CLI_WHY_SIZE];
	int status = cli_operands(c, argc, argv, n, n, operands);

	if (status)
		return status;
	if (cli_check_graph_id(argv[optind], why))
		return cli_usage(c, "graph ID '%s': %s", argv[optind], why);
	if (n > 1 && cli_check_address(argv[optind + 1], why))
		return cli_usage(c, "HOST:PORT '%s': %s", argv[optind + 1], why);
	return 0;
}

/* The same after the common options, for a command with no options of its own. */
static int link_args(struct cli *c, int argc, char **argv, int n)
{
	int o;

	while ((o = cli_opt_next(c, argc, argv, "", NULL)) != -1)
		if (o == CLI_OPT_STOP)
			return c->status;
	return link_operands(c, argc, argv, n);
}

/* ---- listen -------------------------------------------------------------------------------- */

static const char listen_help[] =
    "SYNOPSIS\n"
    "    peergraph graph listen ID [--stop]\n"
    "\n"
    "DESCRIPTION\n"
    "    Makes the node accept links for an open graph from other nodes, which then\n"
    "    connect to it with `peergraph graph connect ID HOST:PORT` at this daemon's\n"
    "    dataplane address ([dataplane] address in peergraphd.conf; port 3587 by\n"
    "    default). Records are flooded over every link, both ways. Listening lasts\n"
    "    until --stop, the graph closes or the daemon stops.\n"
    "\n"
    "OPTIONS\n"
    "    --stop      stop accepting new links (the links up stay up)\n"
    "\n"
    "OUTPUT\n"
    "    With --json {\"graph\": \"chat\", \"listening\": true}.\n"
    "\n"
    "EXAMPLES\n"
    "    peergraph graph listen chat\n"
    "    peergraph graph listen chat --stop\n";

static int listen_run(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "stop", no_argument, NULL, OPT_STOP },
		{ 0 },
	};
	bool on = true;
	int o, status, err;

	while ((o = cli_opt_next(c, argc, argv, "", opts)) != -1) {
		if (o == CLI_OPT_STOP)
			return c->status;
		if (o == OPT_STOP)
			on = false;
	}
	if ((status = link_operands(c, argc, argv, 1)) || (status = cli_connect(c)))
		return status;
	if ((err = peergraph_graph_listen(c->pg, argv[optind], on)))
		return cli_fail(c, err, "cannot %s graph \"%s\"",
				on ? "listen on" : "stop listening on", argv[optind]);
	if (c->json)
		return cli_json_print(
		    c, json_pack("{s:s, s:b}", "graph", argv[optind], "listening", on));
	printf("graph \"%s\" %s\n", argv[optind],
	       on ? "listening" : "not listening any more (its links stay up)");
	return CLI_EXIT_OK;
}

/* ---- connect --------------------------------------------------------------------------------- */

static const char connect_help[] =
    "SYNOPSIS\n"
    "    peergraph graph connect ID HOST:PORT [--no-wait] [--timeout DURATION]\n"
    "\n"
    "DESCRIPTION\n"
    "    Links an open graph to the node at HOST:PORT, which must have the graph open\n"
    "    and listen for it (`peergraph graph listen ID` there). HOST is a host name or\n"
    "    a numeric address, an IPv6 address in brackets ([::1]:3587); the daemon\n"
    "    resolves it. Records are then flooded over the link, both ways.\n"
    "\n"
    "    Waits until the link is up, or the other node refused it, or nothing answered\n"
    "    (the daemon gives up after 5 s), and says which; the exit status is 0 only\n"
    "    when the link is up. Connecting to an address the graph is linked to already\n"
    "    succeeds and says so.\n"
    "\n"
    "OPTIONS\n"
    "    --no-wait            return once the connect started: its outcome is an event\n"
    "                         (`peergraph record watch ID` shows it)\n"
    "    --timeout DURATION   wait at most this long: seconds, or with s, m or h\n"
    "                         (default 6s, up to 1h)\n"
    "\n"
    "OUTPUT\n"
    "    With --json {\"graph\": \"chat\", \"address\": \"192.0.2.7:3587\", \"connected\":\n"
    "    true, \"node\": \"0.nodeb\"} (\"node\" null when already linked); with\n"
    "    --no-wait {\"graph\": \"chat\", \"address\": \"...\", \"connecting\": true}. The\n"
    "    address is the one the daemon resolved.\n"
    "\n"
    "EXAMPLES\n"
    "    peergraph graph connect chat nodeb.example:3587\n"
    "    peergraph graph connect chat [2001:db8::7]:3587 --timeout 30s\n";

struct connect {
	const char *graph;
	char address[PEERGRAPH_ADDRESS_SIZE]; /* as the daemon resolved it */
	double deadline;
	double timeout_s;
};

/* Reads events until one about the address; the exit status, the outcome reported. */
static int connect_wait(struct cli *c, struct connect *k)
{
	struct peergraph_event ev;
	char why[512];
	int r;

	for (;;) {
		double left = k->deadline - cli_mono_s();

		if (left <= 0)
			break;
		r = peergraph_event_next(c->pg, &ev, (int)(left * 1000) + 1);
		if (r < 0)
			return cli_fail(c, r, "waiting for the link to %s", k->address);
		if (r == 0 || strcmp(ev.address, k->address) != 0)
			continue;
		if (ev.kind == PEERGRAPH_EVENT_NEIGHBOUR_UP) {
			if (c->json)
				return cli_json_print(c,
						      json_pack("{s:s, s:s, s:b, s:s}", "graph",
								k->graph, "address", k->address,
								"connected", 1, "node", ev.node));
			printf("graph \"%s\" connected to %s (node %s)\n", k->graph, k->address,
			       ev.node[0] ? ev.node : "?");
			return CLI_EXIT_OK;
		}
		if (ev.kind == PEERGRAPH_EVENT_CONNECT_FAILED) {
			snprintf(why, sizeof(why), "%s%s", peergraph_link_reason_text(ev.reason),
				 ev.reason == PEERGRAPH_REASON_TIMEOUT
				     ? " (is a peergraphd there, with that dataplane address?)"
				     : "");
			return cli_fail_why(c, CLI_EXIT_FAILED, -ECONNABORTED, why,
					    "cannot connect graph \"%s\" to %s", k->graph,
					    k->address);
		}
	}
	snprintf(why, sizeof(why), "no outcome within %.0f s", k->timeout_s);
	return cli_fail_why(c, CLI_EXIT_FAILED, -ETIMEDOUT, why,
			    "cannot connect graph \"%s\" to %s", k->graph, k->address);
}

static int connect_run(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "no-wait", no_argument, NULL, OPT_NO_WAIT },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ 0 },
	};
	struct connect k = { .timeout_s = CONNECT_WAIT_S };
	uint64_t secs;
	char why[CLI_WHY_SIZE];
	bool wait = true;
	int o, status, err;

	while ((o = cli_opt_next(c, argc, argv, "", opts)) != -1) {
		if (o == CLI_OPT_STOP)
			return c->status;
		if (o == OPT_NO_WAIT)
			wait = false;
		if (o == OPT_TIMEOUT) {
			if (cli_parse_duration(optarg, 1, CONNECT_WAIT_MAX_S, &secs, why))
				return cli_usage(c, "--timeout %s: %s", optarg, why);
			k.timeout_s = (double)secs;
		}
	}
	if ((status = link_operands(c, argc, argv, 2)) || (status = cli_connect(c)))
		return status;
	k.graph = argv[optind];
	/* first: an outcome sent before the subscription would never be seen */
	if (wait && (err = peergraph_subscribe(c->pg, k.graph,
					       1u << PEERGRAPH_EVENT_NEIGHBOUR_UP |
						   1u << PEERGRAPH_EVENT_CONNECT_FAILED)))
		return cli_fail(c, err, "cannot connect graph \"%s\"", k.graph);
	err = peergraph_graph_connect(c->pg, k.graph, argv[optind + 1], k.address);
	if (err == -EISCONN) {
		if (c->json)
			return cli_json_print(c, json_pack("{s:s, s:s, s:b, s:n}", "graph", k.graph,
							   "address", argv[optind + 1], "connected",
							   1, "node"));
		printf("graph \"%s\" is linked to %s already\n", k.graph, argv[optind + 1]);
		return CLI_EXIT_OK;
	}
	if (err)
		return cli_fail(c, err, "cannot connect graph \"%s\" to %s", k.graph,
				argv[optind + 1]);
	if (wait) {
		k.deadline = cli_mono_s() + k.timeout_s;
		return connect_wait(c, &k);
	}
	if (c->json)
		return cli_json_print(c, json_pack("{s:s, s:s, s:b}", "graph", k.graph, "address",
						   k.address, "connecting", 1));
	printf("graph \"%s\" connecting to %s (`peergraph record watch %s` shows the outcome)\n",
	       k.graph, k.address, k.graph);
	return CLI_EXIT_OK;
}

/* ---- disconnect ------------------------------------------------------------------------------ */

static const char disconnect_help[] =
    "SYNOPSIS\n"
    "    peergraph graph disconnect ID HOST:PORT\n"
    "\n"
    "DESCRIPTION\n"
    "    Closes the graph's link to the node at HOST:PORT (as `peergraph graph\n"
    "    neighbours ID` lists it); both nodes see the link go down. Records stop\n"
    "    flowing over it, not over the graph's other links.\n"
    "\n"
    "OUTPUT\n"
    "    With --json {\"graph\": \"chat\", \"address\": \"192.0.2.7:3587\",\n"
    "    \"disconnected\": true}. Exit status 4 when the graph has no link there.\n"
    "\n"
    "EXAMPLES\n"
    "    peergraph graph disconnect chat 192.0.2.7:3587\n";

static int disconnect_run(struct cli *c, int argc, char **argv)
{
	int status, err;

	if ((status = link_args(c, argc, argv, 2)) || (status = cli_connect(c)))
		return status;
	if ((err = peergraph_graph_disconnect(c->pg, argv[optind], argv[optind + 1])))
		return cli_fail(c, err, "cannot disconnect graph \"%s\" from %s", argv[optind],
				argv[optind + 1]);
	if (c->json)
		return cli_json_print(c, json_pack("{s:s, s:s, s:b}", "graph", argv[optind],
						   "address", argv[optind + 1], "disconnected", 1));
	printf("graph \"%s\" disconnected from %s\n", argv[optind], argv[optind + 1]);
	return CLI_EXIT_OK;
}

/* ---- neighbours -------------------------------------------------------------------------------
 */

static const char neighbours_help[] =
    "SYNOPSIS\n"
    "    peergraph graph neighbours ID\n"
    "\n"
    "DESCRIPTION\n"
    "    Lists the graph's links to other nodes: each node's address and node id,\n"
    "    which side connected, the records received from it and sent to it, the\n"
    "    datagrams sent to it again, the link's smoothed round-trip time, and the\n"
    "    records it began sending in pieces and never finished (--json only).\n"
    "\n"
    "OUTPUT\n"
    "    A table; with --json {\"graph\": \"chat\", \"neighbours\": [{\"address\":\n"
    "    \"192.0.2.7:3587\", \"node\": \"0.nodeb\", \"initiator\": true, \"records_rx\": 10,\n"
    "    \"records_tx\": 1000, \"retransmits\": 0, \"srtt_us\": 180,\n"
    "    \"reasm_timeouts\": 0}, ...]}\n"
    "    (\"initiator\": this node connected to it).\n"
    "\n"
    "EXAMPLES\n"
    "    peergraph graph neighbours chat\n"
    "    peergraph --json graph neighbours chat | jq -r '.neighbours[].address'\n";

static int neighbours_print(struct cli *c, const char *graph, const struct peergraph_neighbour *nb,
			    unsigned n)
{
	static const char *const headers[] = { "ADDRESS", "NODE",	 "SIDE", "RX",
					       "TX",	  "RETRANSMITS", "SRTT" };
	char rx[24], tx[24], re[24], rtt[32];
	struct cli_table *t;
	json_t *arr;

	if (c->json) {
		arr = json_array();
		for (unsigned i = 0; arr && i < n; i++) {
			json_t *o = json_pack(
			    "{s:s, s:s, s:b, s:I, s:I, s:I, s:I, s:I}", "address", nb[i].address,
			    "node", nb[i].node, "initiator", nb[i].initiator, "records_rx",
			    (json_int_t)nb[i].records_rx, "records_tx",
			    (json_int_t)nb[i].records_tx, "retransmits",
			    (json_int_t)nb[i].retransmits, "srtt_us", (json_int_t)nb[i].srtt_us,
			    "reasm_timeouts", (json_int_t)nb[i].reasm_timeouts);

			if (json_array_append_new(arr, o)) {
				json_decref(arr);
				arr = NULL;
			}
		}
		return cli_json_print(
		    c, arr ? json_pack("{s:s, s:o}", "graph", graph, "neighbours", arr) : NULL);
	}
	t = cli_table_create(7, headers);
	for (unsigned i = 0; i < n; i++) {
		const char *row[] = { nb[i].address,
				      nb[i].node[0] ? nb[i].node : "-",
				      nb[i].initiator ? "out" : "in",
				      rx,
				      tx,
				      re,
				      rtt };

		snprintf(rx, sizeof(rx), "%llu", (unsigned long long)nb[i].records_rx);
		snprintf(tx, sizeof(tx), "%llu", (unsigned long long)nb[i].records_tx);
		snprintf(re, sizeof(re), "%llu", (unsigned long long)nb[i].retransmits);
		snprintf(rtt, sizeof(rtt), "%.3f ms", (double)nb[i].srtt_us / 1000.0);
		cli_table_row(t, row);
	}
	return cli_table_finish(c, t);
}

static int neighbours_run(struct cli *c, int argc, char **argv)
{
	struct peergraph_neighbour *nb = NULL, *grown;
	unsigned cap = NEIGHBOURS_FIRST, n = 0;
	int status, err = 0;

	if ((status = link_args(c, argc, argv, 1)) || (status = cli_connect(c)))
		return status;
	/* links may come up between two calls: a second with the larger count is enough */
	for (int tries = 0; tries < 2; tries++) {
		if (!(grown = realloc(nb, cap * sizeof(*nb)))) {
			free(nb);
			return cli_local_fail(c, "out of memory for %u neighbours", cap);
		}
		nb = grown;
		if ((err = peergraph_graph_neighbours(c->pg, argv[optind], nb, cap, &n)) ||
		    n <= cap)
			break;
		cap = n + NEIGHBOURS_FIRST;
	}
	if (err) {
		free(nb);
		return cli_fail(c, err, "cannot list the neighbours of graph \"%s\"", argv[optind]);
	}
	status = neighbours_print(c, argv[optind], nb, n < cap ? n : cap);
	free(nb);
	return status;
}

/* ---- the commands -----------------------------------------------------------------------------
 */

const struct cli_cmd cli_graph_listen_cmd = {
	"listen", "accept links for a graph from other nodes", listen_help, listen_run, NULL,
};
const struct cli_cmd cli_graph_connect_cmd = {
	"connect", "link a graph to another node and flood it", connect_help, connect_run, NULL,
};
const struct cli_cmd cli_graph_disconnect_cmd = {
	"disconnect", "close a graph's link to another node", disconnect_help, disconnect_run, NULL,
};
const struct cli_cmd cli_graph_neighbours_cmd = {
	"neighbours", "list a graph's links to other nodes", neighbours_help, neighbours_run, NULL,
};
