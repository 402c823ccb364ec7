/*
 * api_links.c - what peergraphd answers to the flooding messages (doc/api.md, "Links between
 * nodes": GRAPH_LISTEN, GRAPH_CONNECT, GRAPH_DISCONNECT, GRAPH_NEIGHBOURS; "The node's
 * counters": NODE_STATS), and the dataplane's neighbour events turned into subscribers'
 * events.
 *
 * The control thread only asks the dataplane (node.h), which never blocks it: a connect is
 * started and answered at once with the address as resolved; its outcome comes back through
 * the node's event queue, whose eventfd the server's loop polls, and goes out as a
 * NEIGHBOUR_UP or CONNECT_FAILED event carrying that same address, written by the same
 * function (pgd_addr_format), so a client waiting for it can match the two as text.
 *
 * Addresses are resolved here, on the control thread, with getaddrinfo: a name that takes the
 * name service long to answer holds the daemon's other clients that long. A numeric address
 * (what the tests and most deployments use) never asks the name service.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "api/node_stats.h"
#include "log.h"
#include "pg_assert.h"
#include "pg_error.h"
#include "server_impl.h"

enum {
	NEIGHBOURS_FIRST = 64, /* neighbours asked for first; the dataplane says how many */
	NODE_EVENTS_BATCH = 64,
};

/* Two constants of different enums are equal. */
#define SAME(a, b) ((long)(a) == (long)(b))

/* The two sides of the protocol name close reasons with the same numbers. */
_Static_assert(SAME(PG_API_REASON_CLOSED, DP_CLOSE_BY_PEER) &&
		   SAME(PG_API_REASON_NO_GRAPH, DP_CLOSE_NO_GRAPH) &&
		   SAME(PG_API_REASON_VERSION, DP_CLOSE_VERSION) &&
		   SAME(PG_API_REASON_FULL, DP_CLOSE_FULL) &&
		   SAME(PG_API_REASON_PROTOCOL, DP_CLOSE_PROTOCOL) &&
		   SAME(PG_API_REASON_SHUTDOWN, DP_CLOSE_SHUTDOWN) &&
		   SAME(PG_API_REASON_SELF, DP_CLOSE_SELF) &&
		   SAME(PG_API_REASONS, DP_CLOSE_REASON_MAX + 1),
	       "link close reasons travel as they are");
_Static_assert(SAME(PGD_ADDR_TEXT_MAX, PG_API_ADDRESS_MAX), "an address's text fits ADDRESS");
_Static_assert(SAME(DP_NODE_ID_MAX, PG_API_NODE_MAX), "a node id fits NODE");
/* NODE_STATS names the dataplane's arrays by index (api/node_stats.h) */
_Static_assert(SAME(PG_API_DROP_DECODE, DP_EP_DROP_DECODE) &&
		   SAME(PG_API_DROP_UNKNOWN, DP_EP_DROP_UNKNOWN) &&
		   SAME(PG_API_DROP_ADDRESS, DP_EP_DROP_ADDRESS) &&
		   SAME(PG_API_DROP_COOKIE, DP_EP_DROP_COOKIE) &&
		   SAME(PG_API_DROP_NO_GRAPH, DP_EP_DROP_NO_GRAPH) &&
		   SAME(PG_API_DROP_SHORT_HELLO, DP_EP_DROP_SHORT_HELLO) &&
		   SAME(PG_API_DROP_UNEXPECTED, DP_EP_DROP_UNEXPECTED) &&
		   SAME(PG_API_DROP_FULL, DP_EP_DROP_FULL) &&
		   SAME(PG_API_DROP_SELF, DP_EP_DROP_SELF) &&
		   SAME(PG_API_DROP_REASONS, DP_EP_DROP_REASONS),
	       "drop reasons by the same index");
_Static_assert(SAME(PG_API_STAGE_RX, DP_STAGE_RX) && SAME(PG_API_STAGE_DECODE, DP_STAGE_DECODE) &&
		   SAME(PG_API_STAGE_TABLE, DP_STAGE_TABLE) &&
		   SAME(PG_API_STAGE_VERIFY, DP_STAGE_VERIFY) &&
		   SAME(PG_API_STAGE_STORE, DP_STAGE_STORE) &&
		   SAME(PG_API_STAGE_TAKE, DP_STAGE_TAKE) &&
		   SAME(PG_API_STAGE_FILL, DP_STAGE_FILL) && SAME(PG_API_STAGE_TX, DP_STAGE_TX) &&
		   SAME(PG_API_STAGES, DP_STAGES),
	       "stages by the same index");
_Static_assert(PG_API_DECODE_ERRORS ==
		       sizeof(((struct dp_node_stats *)0)->decode_err) / sizeof(uint64_t) &&
		   PG_E_WIRE_FIELD - PG_E_WIRE_MAGIC == -PG_API_DECODE_FIELD,
	       "decode errors by PG_E_WIRE_* order");

/* What a CONNECT or DISCONNECT names: the open graph, and ADDRESS resolved (sa, len) and
 * written back as events write it (text). */
struct link_req {
	struct pgd_graph *g;
	struct sockaddr_storage sa;
	socklen_t len;
	char text[PGD_ADDR_TEXT_SIZE];
};

/* Fills *r from the request. 0, or the error with srv->msg saying why. */
static int link_request(struct pgd_server *srv, const uint8_t *body, size_t len, struct link_req *r)
{
	char given[PG_API_ADDRESS_MAX + 1], why[PGD_ADDR_WHY_SIZE];
	int err = 0;

	if (!(r->g = pgd_request_graph(srv, body, len, true, &err)))
		return err;
	pgd_field_str(body, len, PG_API_T_ADDRESS, given, sizeof(given));
	if ((err = pgd_addr_resolve(given, false, &r->sa, &r->len, why, sizeof(why)))) {
		snprintf(srv->msg, sizeof(srv->msg), "address '%s': %.200s", given, why);
		return err;
	}
	pgd_addr_format((const struct sockaddr *)&r->sa, r->len, r->text, sizeof(r->text));
	return 0;
}

static uint16_t port_of(const struct sockaddr_storage *sa)
{
	if (sa->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)sa)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
}

/* The dataplane has a socket: links can be made. 0, or -ENOTCONN with srv->msg. */
static int dataplane_up(struct pgd_server *srv)
{
	struct sockaddr_storage sa;
	socklen_t len;

	if (dp_node_addr(srv->gs->node, &sa, &len) == 0)
		return 0;
	snprintf(srv->msg, sizeof(srv->msg),
		 "this daemon has no dataplane socket ([dataplane] address = none): it cannot "
		 "listen or connect");
	return -ENOTCONN;
}

/* The graph's neighbours (a snapshot) into *out (free()). How many, or -ENOMEM. */
static long neighbours_get(struct pgd_graph *g, struct dp_neighbour **out)
{
	unsigned cap = NEIGHBOURS_FIRST, n = 0;
	struct dp_neighbour *nb = NULL, *grown;

	/* links may come up between the two calls: a third would only chase them */
	for (int tries = 0; tries < 2; tries++) {
		if (!(grown = realloc(nb, cap * sizeof(*nb)))) {
			free(nb);
			return -ENOMEM;
		}
		nb = grown;
		n = dp_graph_neighbours(g->dp, nb, cap);
		if (n <= cap)
			break;
		cap = n + NEIGHBOURS_FIRST;
	}
	*out = nb;
	return n < cap ? n : cap;
}

/* Sends a GRAPH_STATUS event when the graph got its first link or lost its last. */
static void links_changed(struct pgd_server *srv, struct pgd_graph *g)
{
	uint32_t bits = pgd_graph_status_bits(g);
	bool has = bits & PG_API_GS_CONNECTED;

	if (has == g->had_links)
		return;
	g->had_links = has;
	pgd_server_graph_status_event(srv, g, bits);
}

int pgd_h_graph_listen(struct pgd_server *srv, struct conn *c, const struct pg_api_hdr *h,
		       const uint8_t *body, size_t len)
{
	struct pg_api_field f;
	struct pgd_graph *g;
	uint32_t before;
	bool on = true;
	int err = 0;

	(void)c, (void)h;
	if (!(g = pgd_request_graph(srv, body, len, true, &err)) || (err = dataplane_up(srv)))
		return err;
	if (pg_api_find(body, len, PG_API_T_FLAGS, &f))
		on = !(pg_api_u32(&f) & PG_API_LISTEN_STOP);
	before = pgd_graph_status_bits(g);
	dp_graph_listen(g->dp, on);
	if ((before & PG_API_GS_LISTENING) != (on ? PG_API_GS_LISTENING : 0)) {
		pgd_server_graph_status_event(srv, g, pgd_graph_status_bits(g));
		pgd_log(PGD_LOG_INFO, "graph \"%s\": %s", g->id,
			on ? "listening" : "not listening any more");
	}
	return 0;
}

/* True when g has a link up to the address written as text. */
static bool linked(struct pgd_graph *g, const char *text)
{
	char other[PGD_ADDR_TEXT_SIZE];
	struct dp_neighbour *nb;
	bool found = false;
	long n = neighbours_get(g, &nb);

	for (long i = 0; i < n && !found; i++) {
		pgd_addr_format((const struct sockaddr *)&nb[i].addr, nb[i].addr_len, other,
				sizeof(other));
		found = strcmp(other, text) == 0;
	}
	if (n >= 0)
		free(nb);
	return found;
}

int pgd_h_graph_connect(struct pgd_server *srv, struct conn *c, const struct pg_api_hdr *h,
			const uint8_t *body, size_t len)
{
	struct link_req r;
	int err;

	(void)c, (void)h;
	if ((err = link_request(srv, body, len, &r)) || (err = dataplane_up(srv)))
		return err;
	if (port_of(&r.sa) == 0) {
		snprintf(srv->msg, sizeof(srv->msg), "%s: port 0 is no node's port", r.text);
		return -EINVAL;
	}
	if (linked(r.g, r.text)) {
		snprintf(srv->msg, sizeof(srv->msg), "graph \"%.200s\" has a link to %s already",
			 r.g->id, r.text);
		return -EISCONN;
	}
	err = dp_graph_connect(r.g->dp, (const struct sockaddr *)&r.sa, r.len);
	if (err == -EAGAIN) {
		snprintf(srv->msg, sizeof(srv->msg),
			 "the dataplane's command queue is full: retry in a moment");
		return PG_E_BUSY;
	}
	if (err) {
		snprintf(srv->msg, sizeof(srv->msg), "connecting to %s: %s", r.text,
			 pg_strerror(err));
		return err;
	}
	pg_api_put_str(&srv->w, PG_API_T_ADDRESS, r.text);
	pgd_log(PGD_LOG_INFO, "graph \"%s\": connecting to %s", r.g->id, r.text);
	return 0;
}

int pgd_h_graph_disconnect(struct pgd_server *srv, struct conn *c, const struct pg_api_hdr *h,
			   const uint8_t *body, size_t len)
{
	struct link_req r;
	int err;

	(void)c, (void)h;
	if ((err = link_request(srv, body, len, &r)))
		return err;
	if ((err = dp_graph_disconnect(r.g->dp, (const struct sockaddr *)&r.sa, r.len))) {
		if (err == -ENOENT)
			snprintf(srv->msg, sizeof(srv->msg),
				 "graph \"%.150s\" has no link to %s (peergraph graph neighbours "
				 "lists them)",
				 r.g->id, r.text);
		return err;
	}
	pgd_log(PGD_LOG_INFO, "graph \"%s\": disconnected from %s", r.g->id, r.text);
	return 0;
}

int pgd_h_graph_neighbours(struct pgd_server *srv, struct conn *c, const struct pg_api_hdr *h,
			   const uint8_t *body, size_t len)
{
	char text[PGD_ADDR_TEXT_SIZE];
	struct dp_neighbour *nb;
	struct pgd_graph *g;
	int err = 0;
	long n;

	(void)c, (void)h;
	if (!(g = pgd_request_graph(srv, body, len, true, &err)))
		return err;
	if ((n = neighbours_get(g, &nb)) < 0)
		return (int)n;
	for (long i = 0; i < n; i++) {
		pgd_addr_format((const struct sockaddr *)&nb[i].addr, nb[i].addr_len, text,
				sizeof(text));
		pg_api_item_begin(&srv->w);
		pg_api_put_str(&srv->w, PG_API_T_ADDRESS, text);
		if (nb[i].node[0])
			pg_api_put_str(&srv->w, PG_API_T_NODE, nb[i].node);
		pg_api_put_u32(&srv->w, PG_API_T_FLAGS,
			       nb[i].initiator ? PG_API_LINK_INITIATOR : 0);
		pg_api_put_u64(&srv->w, PG_API_T_RECORDS_RX, nb[i].link.records_rx);
		pg_api_put_u64(&srv->w, PG_API_T_RECORDS_TX, nb[i].link.records_tx);
		pg_api_put_u64(&srv->w, PG_API_T_RETRANSMITS, nb[i].link.tx_retrans);
		pg_api_put_u64(&srv->w, PG_API_T_SRTT_US, nb[i].link.srtt_us);
		pg_api_put_u64(&srv->w, PG_API_T_REASM_TIMEOUTS, nb[i].link.reasm_timeout);
		pg_api_item_end(&srv->w);
	}
	free(nb);
	return 0;
}

/* One counter of NODE_STATS: ITEM{NAME COUNT}. */
static void counter_put(struct pg_api_writer *w, const char *name, uint64_t v)
{
	pg_api_item_begin(w);
	pg_api_put_str(w, PG_API_T_NAME, name);
	pg_api_put_u64(w, PG_API_T_COUNT, v);
	pg_api_item_end(w);
}

int pgd_h_node_stats(struct pgd_server *srv, struct conn *c, const struct pg_api_hdr *h,
		     const uint8_t *body, size_t len)
{
	char text[PGD_ADDR_TEXT_SIZE];
	struct sockaddr_storage sa;
	struct dp_node_stats st;
	socklen_t salen;

	(void)c, (void)h, (void)body, (void)len;
	if (dp_node_addr(srv->gs->node, &sa, &salen) == 0) {
		pgd_addr_format((const struct sockaddr *)&sa, salen, text, sizeof(text));
		pg_api_put_str(&srv->w, PG_API_T_ADDRESS, text);
	}
	dp_node_stats(srv->gs->node, &st);
#define PUT(name, member) counter_put(&srv->w, name, st.member);
	PG_API_NODE_COUNTERS(PUT)
#undef PUT
	counter_put(&srv->w, "links", st.links);
	return 0;
}

/* ---- neighbour events ------------------------------------------------------------------- */

static struct pgd_graph *graph_of_dp(struct pgd_graphs *gs, const struct dp_graph *dp)
{
	for (unsigned i = 0; i < gs->n; i++)
		if (gs->g[i]->open && gs->g[i]->dp == dp)
			return gs->g[i];
	return NULL; /* closed since: its events go with it */
}

static const char *reason_text(uint32_t reason)
{
	static const char *const text[PG_API_REASONS] = {
		[PG_API_REASON_TIMEOUT] = "nothing heard",
		[PG_API_REASON_CLOSED] = "disconnected",
		[PG_API_REASON_NO_GRAPH] = "no such graph open and listening there",
		[PG_API_REASON_VERSION] = "no common protocol version",
		[PG_API_REASON_FULL] = "its link table is full",
		[PG_API_REASON_PROTOCOL] = "protocol broken",
		[PG_API_REASON_SHUTDOWN] = "stopping",
		[PG_API_REASON_SELF] = "that is this node",
	};

	return reason < PG_API_REASONS ? text[reason] : "?";
}

static void node_event_send(struct pgd_server *srv, struct pgd_graph *g,
			    const struct dp_graph_event *ev)
{
	static const uint32_t kinds[] = {
		[DP_NEIGHBOUR_UP] = PG_API_EV_NEIGHBOUR_UP,
		[DP_NEIGHBOUR_DOWN] = PG_API_EV_NEIGHBOUR_DOWN,
		[DP_CONNECT_FAILED] = PG_API_EV_CONNECT_FAILED,
	};
	char text[PGD_ADDR_TEXT_SIZE];
	uint32_t kind;
	long n;

	if ((size_t)ev->kind >= PG_ARRAY_SIZE(kinds) || !(kind = kinds[ev->kind]))
		return;
	pgd_addr_format((const struct sockaddr *)&ev->addr, ev->addr_len, text, sizeof(text));
	if (kind == PG_API_EV_NEIGHBOUR_UP)
		pgd_log(PGD_LOG_INFO, "graph \"%s\": link up with %s (%s)", g->id, text, ev->node);
	else
		pgd_log(PGD_LOG_INFO, "graph \"%s\": %s %s: %s%s", g->id,
			kind == PG_API_EV_NEIGHBOUR_DOWN ? "link down with" : "cannot connect to",
			text, reason_text(ev->reason), ev->by_peer ? " (by the other node)" : "");
	pg_api_begin(&srv->ev, PG_API_EVENT, 0, 0);
	pg_api_put_u32(&srv->ev, PG_API_T_EVENT_KIND, kind);
	pg_api_put_str(&srv->ev, PG_API_T_GRAPH, g->id);
	pg_api_put_str(&srv->ev, PG_API_T_ADDRESS, text);
	if (kind != PG_API_EV_CONNECT_FAILED && ev->node[0])
		pg_api_put_str(&srv->ev, PG_API_T_NODE, ev->node);
	if (kind != PG_API_EV_NEIGHBOUR_UP) {
		pg_api_put_u32(&srv->ev, PG_API_T_REASON, ev->reason);
		pg_api_put_u32(&srv->ev, PG_API_T_FLAGS, ev->by_peer ? PG_API_LINK_BY_PEER : 0);
	}
	if ((n = pg_api_end(&srv->ev)) > 0)
		pgd_server_event_fan_out(srv, g, kind, srv->ev.buf, (size_t)n);
}

void pgd_server_node_events(struct pgd_server *srv)
{
	struct dp_graph_event ev[NODE_EVENTS_BATCH];
	uint64_t dropped = 0;
	unsigned n;

	do {
		n = dp_node_events(srv->gs->node, ev, NODE_EVENTS_BATCH, &dropped);
		if (dropped)
			pgd_log(PGD_LOG_WARN,
				"the dataplane dropped %llu neighbour events (its queue was full)",
				(unsigned long long)dropped);
		for (unsigned i = 0; i < n; i++) {
			struct pgd_graph *g = graph_of_dp(srv->gs, ev[i].graph);

			if (!g)
				continue;
			node_event_send(srv, g, &ev[i]);
			links_changed(srv, g);
		}
	} while (n == NODE_EVENTS_BATCH);
}
