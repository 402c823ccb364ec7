/*
 * watch.c - `peergraph record watch`: a graph's events (records added, updated, deleted,
 * expired; the graph's status changing; its links to other nodes coming up, going down, or
 * failing to come up) printed as they happen, one line each.
 *
 * LOST EVENTS
 *
 * Events are queued for a subscriber in two places, each bounded: in the daemon, per
 * connection, and in the library, per connection. Either drops events when the watcher
 * falls behind and then delivers a LOST event in the stream where the gap is, with a running
 * total of what that side dropped: the daemon's carries the graph id, the library's an empty
 * one. A watcher must not pass over a gap quietly, since whatever it mirrors is now
 * incomplete; so each LOST becomes a line of its own in the output (with how many were
 * dropped in this gap, from the difference of the totals), the first gap is also a warning
 * on standard error, and the total is said again when the watch ends. The way to catch up is
 * `record list`.
 *
 * A LOST line does not count towards --count: --count N waits for N real events.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

enum {
	OPT_COUNT = CLI_OPT_FIRST,
	OPT_TIMEOUT,
	COUNT_MAX = 1000000000,
	TIMEOUT_MAX_S = 30 * 86400,
	WAIT_SLICE_MS = 1000, /* the longest single wait: a for-ever watch still wakes */
};

struct watch {
	struct cli *c;
	const char *graph;
	uint64_t count;	      /* events to print before exiting; 0: no bound */
	uint64_t seen;	      /* events printed, LOST lines not counted */
	uint64_t daemon_lost; /* the daemon's running total so far */
	uint64_t client_lost; /* the library's */
	uint64_t gaps;	      /* LOST events seen */
};

static const char *kind_name(enum peergraph_event_kind k)
{
	switch (k) {
	case PEERGRAPH_EVENT_ADDED:
		return "added";
	case PEERGRAPH_EVENT_UPDATED:
		return "updated";
	case PEERGRAPH_EVENT_DELETED:
		return "deleted";
	case PEERGRAPH_EVENT_EXPIRED:
		return "expired";
	case PEERGRAPH_EVENT_GRAPH_STATUS:
		return "graph_status";
	case PEERGRAPH_EVENT_LOST:
		return "lost";
	case PEERGRAPH_EVENT_NEIGHBOUR_UP:
		return "neighbour_up";
	case PEERGRAPH_EVENT_NEIGHBOUR_DOWN:
		return "neighbour_down";
	case PEERGRAPH_EVENT_CONNECT_FAILED:
		return "connect_failed";
	}
	return "unknown";
}

/* A LOST event: its line, the warning, the new total. */
static int print_lost(struct watch *w, const struct peergraph_event *ev)
{
	bool daemon = ev->graph_id[0] != '\0';
	uint64_t *total = daemon ? &w->daemon_lost : &w->client_lost;
	uint64_t gap = ev->lost > *total ? ev->lost - *total : 0;
	const char *side = daemon ? "daemon" : "client";

	*total = ev->lost > *total ? ev->lost : *total;
	/* the first gap is told on stderr at once; the rest are lines of the stream, and the
	 * total is told again at the end */
	if (w->gaps++ == 0)
		fprintf(stderr,
			"%s: warning: %llu events lost (the %s's queue overflowed): this watch is "
			"incomplete, `peergraph record list %s` shows the records as they are\n",
			w->c->cmd, (unsigned long long)gap, side, w->graph);
	if (w->c->json)
		return cli_json_print(w->c, json_pack("{s:s, s:s, s:s, s:I, s:I}", "event", "lost",
						      "graph", w->graph, "source", side, "lost",
						      (json_int_t)gap, "lost_total",
						      (json_int_t)ev->lost));
	printf("LOST      %llu events dropped by the %s (%llu so far)\n", (unsigned long long)gap,
	       side, (unsigned long long)ev->lost);
	return CLI_EXIT_OK;
}

static bool is_link_event(enum peergraph_event_kind k)
{
	return k == PEERGRAPH_EVENT_NEIGHBOUR_UP || k == PEERGRAPH_EVENT_NEIGHBOUR_DOWN ||
	       k == PEERGRAPH_EVENT_CONNECT_FAILED;
}

/* A neighbour event: a link up or down, a connect that failed. */
static int print_link(struct watch *w, const struct peergraph_event *ev)
{
	char now[CLI_TIME_SIZE];
	json_t *o;

	if (w->c->json) {
		o = json_object();
		cli_json_set(o, "event", json_string(kind_name(ev->kind)));
		cli_json_set(o, "graph", json_string(ev->graph_id[0] ? ev->graph_id : w->graph));
		cli_json_set(o, "address", json_string(ev->address));
		if (ev->kind != PEERGRAPH_EVENT_CONNECT_FAILED)
			cli_json_set(o, "node", json_string(ev->node));
		if (ev->kind != PEERGRAPH_EVENT_NEIGHBOUR_UP) {
			cli_json_set(o, "reason", json_integer(ev->reason));
			cli_json_set(o, "reason_text",
				     json_string(peergraph_link_reason_text(ev->reason)));
			cli_json_set(o, "by_peer", json_boolean(ev->by_peer));
		}
		return cli_json_print(w->c, o);
	}
	cli_time_format(cli_now_us(), false, now);
	if (ev->kind == PEERGRAPH_EVENT_NEIGHBOUR_UP)
		printf("%-8s  %s  %s  node %s\n", "up", now, ev->address, ev->node);
	else
		printf("%-8s  %s  %s%s%s  %s%s\n",
		       ev->kind == PEERGRAPH_EVENT_NEIGHBOUR_DOWN ? "down" : "failed", now,
		       ev->address, ev->node[0] ? "  node " : "", ev->node,
		       peergraph_link_reason_text(ev->reason),
		       ev->by_peer ? " (by the other node)" : "");
	return CLI_EXIT_OK;
}

static int print_event(struct watch *w, const struct peergraph_event *ev)
{
	char now[CLI_TIME_SIZE], id[37], type[37];
	json_t *o;

	if (ev->kind == PEERGRAPH_EVENT_LOST)
		return print_lost(w, ev);
	w->seen++;
	if (is_link_event(ev->kind))
		return print_link(w, ev);
	if (w->c->json) {
		o = json_object();
		cli_json_set(o, "event", json_string(kind_name(ev->kind)));
		cli_json_set(o, "graph", json_string(ev->graph_id[0] ? ev->graph_id : w->graph));
		cli_json_set(o, "seq", json_integer((json_int_t)ev->seq));
		if (ev->kind == PEERGRAPH_EVENT_GRAPH_STATUS)
			cli_json_set(o, "status",
				     json_pack("{s:b, s:b, s:b}", "open",
					       !!(ev->status & PEERGRAPH_GRAPH_OPEN), "secured",
					       !!(ev->status & PEERGRAPH_GRAPH_SECURED),
					       "listening",
					       !!(ev->status & PEERGRAPH_GRAPH_LISTENING)));
		else
			cli_json_set(o, "record", cli_json_record(&ev->record));
		return cli_json_print(w->c, o);
	}
	cli_time_format(cli_now_us(), false, now);
	if (ev->kind == PEERGRAPH_EVENT_GRAPH_STATUS) {
		printf("%-8s  %s  seq %llu  %s%s%s\n", "status", now, (unsigned long long)ev->seq,
		       ev->status & PEERGRAPH_GRAPH_OPEN ? "open" : "closed",
		       ev->status & PEERGRAPH_GRAPH_SECURED ? ", secured" : "",
		       ev->status & PEERGRAPH_GRAPH_LISTENING ? ", listening" : "");
		return CLI_EXIT_OK;
	}
	peergraph_guid_format(&ev->record.id, id);
	peergraph_guid_format(&ev->record.type, type);
	printf("%-8s  %s  seq %llu  id %s  type %s  v%u  %zu bytes  by %s\n", kind_name(ev->kind),
	       now, (unsigned long long)ev->seq, id, type, ev->record.version,
	       ev->record.payload_len,
	       ev->record.modifier[0] ? ev->record.modifier : ev->record.creator);
	return CLI_EXIT_OK;
}

/* Reads and prints events until the count, the deadline (seconds on the monotonic clock;
 * 0: none) or an error. The exit status. */
static int watch_loop(struct watch *w, double deadline)
{
	struct peergraph_event ev;
	int r, wait_ms, status;

	while (!w->count || w->seen < w->count) {
		wait_ms = WAIT_SLICE_MS;
		if (deadline) {
			double left = deadline - cli_mono_s();

			if (left <= 0)
				break;
			if (left * 1000 < wait_ms)
				wait_ms = (int)(left * 1000) + 1;
		}
		r = peergraph_event_next(w->c->pg, &ev, wait_ms);
		if (r < 0)
			return cli_fail(w->c, r, "watching graph \"%s\"", w->graph);
		if (r == 0)
			continue;
		if ((status = print_event(w, &ev)))
			return status;
		fflush(stdout); /* a line as it happens, also into a pipe */
	}
	return CLI_EXIT_OK;
}

const char cli_record_watch_help[] =
    "SYNOPSIS\n"
    "    peergraph record watch GRAPH [--count N] [--timeout DURATION]\n"
    "\n"
    "DESCRIPTION\n"
    "    Prints the events of an open graph as they happen, one line each: records\n"
    "    added, updated, deleted and expired, changes of the graph's status, and its\n"
    "    links to other nodes coming up (up), going down (down) or failing to come\n"
    "    up (failed), with the other node's address and why. Runs\n"
    "    until --count events were printed, --timeout passed, or it is interrupted;\n"
    "    the first two exit with status 0.\n"
    "\n"
    "    When the watcher falls behind, the daemon or the library drops events and\n"
    "    says so: a LOST line at the gap (how many were dropped there, and the total\n"
    "    so far), a warning on standard error, and the total again at the end. What\n"
    "    the watch mirrors is then incomplete; `peergraph record list` catches up.\n"
    "\n"
    "OPTIONS\n"
    "    --count N             exit after N events (1 to 1000000000); LOST lines do\n"
    "                          not count\n"
    "    --timeout DURATION    exit after this long: seconds, or with s, m, h or d\n"
    "                          (up to 30d)\n"
    "\n"
    "OUTPUT\n"
    "    A line per event: KIND, the time it was seen, seq (its place in the graph's\n"
    "    log), then the record's id, type, version, payload size and last writer.\n"
    "    With --json one JSON object a line:\n"
    "        {\"event\": \"added\"|\"updated\"|\"deleted\"|\"expired\", \"graph\": \"chat\",\n"
    "         \"seq\": N, \"record\": {as `record get --json`}}\n"
    "        {\"event\": \"graph_status\", \"graph\": \"chat\", \"seq\": N, \"status\":\n"
    "         {\"open\": true, \"secured\": true, \"listening\": false}}\n"
    "        {\"event\": \"lost\", \"graph\": \"chat\", \"source\": \"daemon\"|\"client\",\n"
    "         \"lost\": N (in this gap), \"lost_total\": N}\n"
    "        {\"event\": \"neighbour_up\", \"graph\": \"chat\", \"address\": \"192.0.2.7:3587\",\n"
    "         \"node\": \"0.nodeb\"}\n"
    "        {\"event\": \"neighbour_down\"|\"connect_failed\", \"graph\": \"chat\",\n"
    "         \"address\": \"...\", \"node\": \"...\" (not in connect_failed), \"reason\": 1,\n"
    "         \"reason_text\": \"disconnected\", \"by_peer\": true}\n"
    "\n"
    "EXAMPLES\n"
    "    peergraph record watch chat\n"
    "    peergraph --json record watch chat --count 100 --timeout 1m | jq .record.id\n";

int cli_record_watch(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "count", required_argument, NULL, OPT_COUNT },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ 0 },
	};
	static const char *const operands[] = { "GRAPH" };
	struct watch w = { .c = c };
	uint64_t timeout_s = 0;
	char why[CLI_WHY_SIZE];
	double deadline = 0;
	int o, status, err;

	while ((o = cli_opt_next(c, argc, argv, "", opts)) != -1) {
		if (o == CLI_OPT_STOP)
			return c->status;
		if (o == OPT_COUNT && cli_parse_u64(optarg, 1, COUNT_MAX, &w.count, why))
			return cli_usage(c, "--count %s: %s", optarg, why);
		if (o == OPT_TIMEOUT &&
		    cli_parse_duration(optarg, 1, TIMEOUT_MAX_S, &timeout_s, why))
			return cli_usage(c, "--timeout %s: %s", optarg, why);
	}
	if ((status = cli_operands(c, argc, argv, 1, 1, operands)))
		return status;
	w.graph = argv[optind];
	if (cli_check_graph_id(w.graph, why))
		return cli_usage(c, "GRAPH '%s': %s", w.graph, why);
	if ((status = cli_connect(c)))
		return status;
	if ((err = peergraph_subscribe(c->pg, w.graph, 0)))
		return cli_fail(c, err, "cannot watch graph \"%s\"", w.graph);
	if (timeout_s)
		deadline = cli_mono_s() + (double)timeout_s;
	status = watch_loop(&w, deadline);
	if (w.gaps)
		fprintf(stderr, "%s: %llu events were lost during this watch, in %llu gaps\n",
			c->cmd, (unsigned long long)(w.daemon_lost + w.client_lost),
			(unsigned long long)w.gaps);
	return status;
}
