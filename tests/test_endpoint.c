/*
 * test_endpoint.c - the hello exchange and dispatch (dataplane/link/endpoint.h), two or three
 * endpoints joined by a simulated network in virtual time: links come up with cookies, a
 * spoofed source cannot open a link, refusals and timeouts are reported, strangers' datagrams
 * are counted and change nothing.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "endpoint.h"
#include "pg_error.h"

enum { NODES = 3, QMAX = 4096, EVMAX = 64 };

struct pkt {
	struct dp_ep_addr from, to;
	uint32_t len;
	uint8_t data[1500];
};

struct node {
	struct dp_ep *ep;
	struct dp_ep_addr addr;
	const char *graph; /* the graph it listens on, or NULL */
	struct dp_ep_event ev[EVMAX];
	char ev_node[EVMAX][DP_WIRE_NODE_MAX + 1];
	unsigned nev;
	uint64_t records;
};

struct world {
	struct node n[NODES];
	struct pkt *q;
	unsigned nq;
	uint64_t now;
	bool drop_welcome; /* lose the next WELCOME */
	bool cut[NODES];   /* drop everything sent to this node */
};

static int graph_token = 42;

static void *graph_find(void *ctx, const char *id, uint16_t len)
{
	struct node *nd = ctx;

	if (nd->graph && strlen(nd->graph) == len && !memcmp(nd->graph, id, len))
		return &graph_token;
	return NULL;
}

static void on_event(void *ctx, const struct dp_ep_event *ev)
{
	struct node *nd = ctx;

	cr_assert_lt(nd->nev, EVMAX);
	nd->ev[nd->nev] = *ev;
	if (ev->el)
		strcpy(nd->ev_node[nd->nev], ev->el->node);
	nd->nev++;
}

static const struct dp_ep_ops ops = { graph_find, on_event };

static struct world *world_new(void)
{
	struct world *w = calloc(1, sizeof(*w));

	w->q = calloc(QMAX, sizeof(*w->q));
	w->now = 1000000;
	for (unsigned i = 0; i < NODES; i++) {
		struct dp_ep_config c;
		static char names[NODES][8];

		dp_ep_config_default(&c);
		c.worker = i;
		snprintf(names[i], sizeof(names[i]), "node-%u", i);
		c.node_id = names[i];
		c.node_id_len = (uint16_t)strlen(names[i]);
		memset(c.secret, 0x10 + i, sizeof(c.secret));
		c.seed = 1000 + i;
		cr_assert_eq(dp_ep_create(&c, &ops, &w->n[i], &w->n[i].ep), 0);
		w->n[i].addr.len = 6;
		memcpy(w->n[i].addr.b, "addr-", 5);
		w->n[i].addr.b[5] = (uint8_t)('0' + i);
	}
	return w;
}

static void world_free(struct world *w)
{
	for (unsigned i = 0; i < NODES; i++)
		dp_ep_destroy(w->n[i].ep);
	free(w->q);
	free(w);
}

static int node_of(struct world *w, const struct dp_ep_addr *a)
{
	for (int i = 0; i < NODES; i++)
		if (a->len == w->n[i].addr.len && !memcmp(a->b, w->n[i].addr.b, a->len))
			return i;
	return -1;
}

static void inject(struct world *w, const struct dp_ep_addr *from, const struct dp_ep_addr *to,
		   const void *d, uint32_t len)
{
	struct pkt *p;

	cr_assert_lt(w->nq, QMAX);
	cr_assert_leq(len, sizeof(p->data));
	p = &w->q[w->nq++];
	p->from = *from;
	p->to = *to;
	p->len = len;
	memcpy(p->data, d, len);
}

static void count_record(void *ctx, const uint8_t *rec, uint32_t len)
{
	(void)rec;
	(void)len;
	((struct node *)ctx)->records++;
}

/* Delivers everything queued, then lets every node send; virtual time moves us. */
static void step(struct world *w, uint64_t us)
{
	unsigned nq = w->nq;
	struct pkt *batch = malloc(sizeof(*batch) * (nq ? nq : 1));

	memcpy(batch, w->q, sizeof(*batch) * nq);
	w->nq = 0;
	w->now += us;
	for (unsigned i = 0; i < nq; i++) {
		int to = node_of(w, &batch[i].to);
		struct dp_wire_msg m;
		struct dp_ep_link *el;

		if (to < 0 || w->cut[to])
			continue;
		if (dp_ep_input(w->n[to].ep, w->now, &batch[i].from, batch[i].data, batch[i].len,
				&m, &el) == DP_EP_RX_DATA) {
			dp_link_grant(el->link, 1024);
			cr_assert_eq(dp_link_data(el->link, w->now, &m, count_record, &w->n[to]),
				     0);
		}
	}
	free(batch);
	for (unsigned i = 0; i < NODES; i++) {
		struct dp_ep_out out[64];
		unsigned k = dp_ep_poll(w->n[i].ep, w->now, out, 64);

		for (unsigned j = 0; j < k; j++) {
			struct dp_wire_msg m;

			if (w->drop_welcome && dp_wire_decode(out[j].data, out[j].len, &m) == 0 &&
			    m.type == DP_WIRE_WELCOME) {
				w->drop_welcome = false;
				continue;
			}
			inject(w, &w->n[i].addr, out[j].addr, out[j].data, out[j].len);
		}
	}
}

static const struct dp_ep_event *find_event(struct node *nd, enum dp_ep_event_kind k)
{
	for (unsigned i = 0; i < nd->nev; i++)
		if (nd->ev[i].kind == k)
			return &nd->ev[i];
	return NULL;
}

static unsigned count_events(struct node *nd, enum dp_ep_event_kind k)
{
	unsigned c = 0;

	for (unsigned i = 0; i < nd->nev; i++)
		c += nd->ev[i].kind == k;
	return c;
}

static struct dp_ep_link *only_link(struct node *nd)
{
	struct dp_ep_link *found = NULL;

	for (uint32_t i = 0; i < dp_ep_links_max(nd->ep); i++)
		if (dp_ep_link_at(nd->ep, i)) {
			cr_assert_null(found, "more than one link");
			found = dp_ep_link_at(nd->ep, i);
		}
	return found;
}

Test(endpoint, connect_with_cookie_then_records_flow)
{
	struct world *w = world_new();
	struct dp_ep_stats st;
	const struct dp_ep_event *ev;
	struct dp_ep_link *a, *b;
	uint8_t rec[100] = { 1 };

	w->n[1].graph = "lab";
	cr_assert_eq(dp_ep_connect(w->n[0].ep, w->now, &graph_token, "lab", 3, &w->n[1].addr, 77),
		     0);
	for (unsigned i = 0; i < 5; i++)
		step(w, 100);
	cr_assert_not_null(ev = find_event(&w->n[0], DP_EP_UP));
	cr_assert_eq(ev->token, 77);
	cr_assert_str_eq(w->n[0].ev_node[0], "node-1");
	cr_assert_not_null(ev = find_event(&w->n[1], DP_EP_UP));
	cr_assert_eq(ev->graph, &graph_token);
	cr_assert_str_eq(w->n[1].ev_node[0], "node-0");
	cr_assert_not_null(a = only_link(&w->n[0]));
	cr_assert_not_null(b = only_link(&w->n[1]));
	cr_assert(a->initiator);
	cr_assert(!b->initiator);
	cr_assert_eq(dp_link_peer_id(a->link), dp_link_local_id(b->link));
	cr_assert_eq(dp_link_peer_id(b->link), dp_link_local_id(a->link));
	cr_assert_eq(dp_link_local_id(a->link) & 63, 0, "worker 0 in the id's low bits");
	cr_assert_eq(dp_link_local_id(b->link) & 63, 1);

	/* one COOKIE, two HELLOs (without and with it), one WELCOME */
	dp_ep_stats(w->n[0].ep, &st);
	cr_assert_eq(st.hellos_sent, 2);
	cr_assert_eq(st.links, 1);
	cr_assert_eq(st.pending, 0);
	dp_ep_stats(w->n[1].ep, &st);
	cr_assert_eq(st.cookies_sent, 1);
	cr_assert_eq(st.welcomes_sent, 1);

	for (unsigned i = 0; i < 100; i++)
		cr_assert_eq(dp_link_send_record(a->link, w->now, rec, sizeof(rec)), 1);
	dp_link_flush(a->link);
	for (unsigned i = 0; i < 20; i++)
		step(w, 500);
	cr_assert_eq(w->n[1].records, 100);

	/* a disconnect reaches both sides */
	dp_ep_disconnect(w->n[0].ep, a, DP_CLOSE_BY_PEER);
	for (unsigned i = 0; i < 4; i++)
		step(w, 100);
	cr_assert_not_null(ev = find_event(&w->n[0], DP_EP_DOWN));
	cr_assert(!ev->by_peer);
	cr_assert_not_null(ev = find_event(&w->n[1], DP_EP_DOWN));
	cr_assert(ev->by_peer);
	cr_assert_eq(ev->reason, DP_CLOSE_BY_PEER);
	cr_assert_null(only_link(&w->n[0]));
	cr_assert_null(only_link(&w->n[1]));
	world_free(w);
}

Test(endpoint, lost_welcome_is_sent_again_without_a_second_link)
{
	struct world *w = world_new();

	w->n[1].graph = "lab";
	w->drop_welcome = true;
	dp_ep_connect(w->n[0].ep, w->now, &graph_token, "lab", 3, &w->n[1].addr, 1);
	for (unsigned i = 0; i < 20; i++)
		step(w, 50000); /* past a hello retry */
	cr_assert_eq(count_events(&w->n[0], DP_EP_UP), 1);
	cr_assert_eq(count_events(&w->n[1], DP_EP_UP), 1);
	cr_assert_not_null(only_link(&w->n[1]));
	world_free(w);
}

Test(endpoint, refused_and_timed_out_connects_are_reported)
{
	struct world *w = world_new();
	const struct dp_ep_event *ev;
	struct dp_ep_stats st;

	/* node 1 does not listen on "other" */
	w->n[1].graph = "lab";
	dp_ep_connect(w->n[0].ep, w->now, &graph_token, "other", 5, &w->n[1].addr, 5);
	for (unsigned i = 0; i < 5; i++)
		step(w, 100);
	cr_assert_not_null(ev = find_event(&w->n[0], DP_EP_CONNECT_FAILED));
	cr_assert_eq(ev->reason, DP_CLOSE_NO_GRAPH);
	cr_assert_eq(ev->token, 5);
	dp_ep_stats(w->n[1].ep, &st);
	cr_assert_eq(st.drop[DP_EP_DROP_NO_GRAPH], 1);
	cr_assert_eq(st.links, 0);

	/* node 2 is silent: retries, then a timeout */
	w->n[0].nev = 0;
	w->cut[2] = true;
	dp_ep_connect(w->n[0].ep, w->now, &graph_token, "lab", 3, &w->n[2].addr, 6);
	for (unsigned i = 0; i < 60; i++)
		step(w, 100000);
	cr_assert_not_null(ev = find_event(&w->n[0], DP_EP_CONNECT_FAILED));
	cr_assert_eq(ev->reason, 0);
	cr_assert_eq(ev->token, 6);
	dp_ep_stats(w->n[0].ep, &st);
	/* retried every 250 ms (seen at 100 ms steps: every 300 ms) for 5 s, then no more */
	cr_assert(st.hellos_sent >= 1 + 15 && st.hellos_sent <= 2 + 21, "%lu HELLOs",
		  (unsigned long)st.hellos_sent);
	cr_assert_eq(st.pending, 0);
	cr_assert_eq(dp_ep_deadline(w->n[0].ep), UINT64_MAX);
	world_free(w);
}

Test(endpoint, connecting_to_itself_fails)
{
	struct world *w = world_new();
	const struct dp_ep_event *ev;

	w->n[0].graph = "lab";
	dp_ep_connect(w->n[0].ep, w->now, &graph_token, "lab", 3, &w->n[0].addr, 9);
	for (unsigned i = 0; i < 5; i++)
		step(w, 100);
	cr_assert_not_null(ev = find_event(&w->n[0], DP_EP_CONNECT_FAILED));
	cr_assert_eq(ev->reason, DP_CLOSE_SELF);
	cr_assert_null(only_link(&w->n[0]));
	world_free(w);
}

/* A HELLO as a spoofer would send it: from another address than its own. */
static uint32_t hello_bytes(uint8_t *buf, uint64_t nonce, const uint8_t *cookie)
{
	struct dp_wire_hello h = { .link = 5,
				   .max_dgram = 1472,
				   .graph = "lab",
				   .graph_len = 3,
				   .node = "evil",
				   .node_len = 4,
				   .cookie = cookie,
				   .cookie_len = cookie ? DP_WIRE_COOKIE_LEN : 0 };

	return (uint32_t)dp_wire_hello(buf, 1500, nonce, &h);
}

Test(endpoint, a_spoofed_source_cannot_open_a_link)
{
	struct world *w = world_new();
	struct dp_ep_addr victim = { .len = 6, .b = "victm" };
	struct dp_ep_addr attacker = { .len = 6, .b = "attck" };
	struct dp_ep_stats st;
	struct dp_wire_msg m;
	struct dp_ep_link *el;
	uint8_t d[1500], cookie[DP_WIRE_COOKIE_LEN];
	uint32_t len;

	w->n[1].graph = "lab";
	/* the attacker gets a cookie for its own address ... */
	len = hello_bytes(d, 1, NULL);
	cr_assert_eq(dp_ep_input(w->n[1].ep, w->now, &attacker, d, len, &m, &el), DP_EP_RX_DONE);
	{
		struct dp_ep_out out[4];
		unsigned k = dp_ep_poll(w->n[1].ep, w->now, out, 4);

		cr_assert_eq(k, 1);
		cr_assert_leq(out[0].len, len, "the answer is not larger than the question");
		cr_assert_eq(dp_wire_decode(out[0].data, out[0].len, &m), 0);
		cr_assert_eq(m.type, DP_WIRE_COOKIE);
		memcpy(cookie, m.u.cookie, sizeof(cookie));
	}
	/* ... which opens nothing when the HELLO claims the victim's address */
	len = hello_bytes(d, 1, cookie);
	dp_ep_input(w->n[1].ep, w->now, &victim, d, len, &m, &el);
	/* nor under another nonce, nor after the cookie's two periods */
	len = hello_bytes(d, 2, cookie);
	dp_ep_input(w->n[1].ep, w->now, &attacker, d, len, &m, &el);
	len = hello_bytes(d, 1, cookie);
	dp_ep_input(w->n[1].ep, w->now + 2 * DP_EP_COOKIE_PERIOD_US, &attacker, d, len, &m, &el);
	dp_ep_stats(w->n[1].ep, &st);
	cr_assert_eq(st.drop[DP_EP_DROP_COOKIE], 3);
	cr_assert_eq(st.links, 0);
	cr_assert_eq(count_events(&w->n[1], DP_EP_UP), 0);
	/* while the right address, nonce and time do */
	dp_ep_input(w->n[1].ep, w->now + 1000, &attacker, d, len, &m, &el);
	dp_ep_stats(w->n[1].ep, &st);
	cr_assert_eq(st.links, 1);
	/* a HELLO too small to answer without amplification is dropped */
	len = hello_bytes(d, 3, NULL);
	d[DP_WIRE_HDR_LEN + 8] = 1; /* a graph id of 1 byte ... */
	d[DP_WIRE_HDR_LEN + 11] = 1, d[DP_WIRE_HDR_LEN + 12] = 0, d[DP_WIRE_HDR_LEN + 13] = 'x';
	d[DP_WIRE_HDR_LEN + 14] = 0; /* ... a node id of 1 byte, no cookie: 31 bytes */
	cr_assert_eq(dp_ep_input(w->n[1].ep, w->now, &attacker, d, DP_WIRE_HDR_LEN + 15, &m, &el),
		     DP_EP_RX_DONE);
	dp_ep_stats(w->n[1].ep, &st);
	cr_assert_eq(st.drop[DP_EP_DROP_SHORT_HELLO], 1);
	world_free(w);
}

Test(endpoint, strangers_datagrams_are_counted_and_change_nothing)
{
	struct world *w = world_new();
	struct dp_ep_addr stranger = { .len = 6, .b = "strng" };
	struct dp_ep_link *a, *b, *el;
	struct dp_ep_stats before, after;
	struct dp_wire_data wd;
	struct dp_wire_msg m;
	uint8_t d[1500], rec[50] = { 7 };
	uint32_t len;
	uint64_t rng = 99;

	w->n[1].graph = "lab";
	dp_ep_connect(w->n[0].ep, w->now, &graph_token, "lab", 3, &w->n[1].addr, 1);
	for (unsigned i = 0; i < 5; i++)
		step(w, 100);
	cr_assert_not_null(a = only_link(&w->n[0]));
	cr_assert_not_null(b = only_link(&w->n[1]));
	dp_ep_stats(w->n[1].ep, &before);

	/* a DATA datagram for the real link id, from a stranger's address */
	dp_wire_data_begin(&wd, d, sizeof(d), dp_link_local_id(b->link), 0);
	dp_wire_data_record(&wd, rec, sizeof(rec));
	len = dp_wire_data_end(&wd, 0);
	cr_assert_eq(dp_ep_input(w->n[1].ep, w->now, &stranger, d, len, &m, &el), DP_EP_RX_DONE);
	/* the same from the right address but a guessed link id */
	dp_wire_data_begin(&wd, d, sizeof(d), dp_link_local_id(b->link) ^ 0x10000, 0);
	dp_wire_data_record(&wd, rec, sizeof(rec));
	len = dp_wire_data_end(&wd, 0);
	cr_assert_eq(dp_ep_input(w->n[1].ep, w->now, &w->n[0].addr, d, len, &m, &el),
		     DP_EP_RX_DONE);
	/* an unexpected COOKIE and WELCOME */
	len = (uint32_t)dp_wire_cookie(d, sizeof(d), 12345, rec);
	dp_ep_input(w->n[1].ep, w->now, &stranger, d, len, &m, &el);
	/* random bytes, with and without our magic */
	for (unsigned i = 0; i < 1000; i++) {
		len = 1 + (uint32_t)(rng % 1400);
		for (uint32_t k = 0; k < len; k++) {
			rng = rng * 6364136223846793005ull + 1442695040888963407ull;
			d[k] = (uint8_t)(rng >> 56);
		}
		if (i % 2)
			d[0] = DP_WIRE_MAGIC, d[1] = DP_WIRE_VERSION;
		cr_assert_eq(dp_ep_input(w->n[1].ep, w->now, &stranger, d, len, &m, &el),
			     DP_EP_RX_DONE);
	}
	dp_ep_stats(w->n[1].ep, &after);
	cr_assert_eq(after.drop[DP_EP_DROP_ADDRESS], before.drop[DP_EP_DROP_ADDRESS] + 1);
	cr_assert_geq(after.drop[DP_EP_DROP_UNKNOWN], before.drop[DP_EP_DROP_UNKNOWN] + 1);
	cr_assert_eq(after.drop[DP_EP_DROP_UNEXPECTED], before.drop[DP_EP_DROP_UNEXPECTED] + 1);
	cr_assert_geq(after.drop[DP_EP_DROP_DECODE], before.drop[DP_EP_DROP_DECODE] + 900);
	cr_assert_gt(after.decode_err[0], 0, "bad magic counted");
	cr_assert_eq(after.links, 1);
	cr_assert_eq(w->n[1].records, 0);
	cr_assert_eq(only_link(&w->n[1]), b);
	world_free(w);
}

Test(endpoint, a_graph_that_goes_away_takes_its_links_and_connects)
{
	struct world *w = world_new();

	w->n[1].graph = "lab";
	w->n[2].graph = "lab";
	w->cut[2] = true;
	dp_ep_connect(w->n[0].ep, w->now, &graph_token, "lab", 3, &w->n[1].addr, 1);
	for (unsigned i = 0; i < 5; i++)
		step(w, 100);
	dp_ep_connect(w->n[0].ep, w->now, &graph_token, "lab", 3, &w->n[2].addr, 2);
	step(w, 100);
	/* the per-turn loops cover the link and the connect, and no more */
	cr_assert_eq(dp_ep_links_max(w->n[0].ep), 2);
	dp_ep_graph_gone(w->n[0].ep, &graph_token);
	cr_assert_eq(dp_ep_deadline(w->n[0].ep), 0);
	for (unsigned i = 0; i < 5; i++)
		step(w, 100);
	cr_assert_eq(count_events(&w->n[0], DP_EP_DOWN), 1);
	cr_assert_eq(count_events(&w->n[0], DP_EP_CONNECT_FAILED), 1);
	cr_assert_eq(count_events(&w->n[1], DP_EP_DOWN), 1);
	cr_assert_null(only_link(&w->n[0]));
	cr_assert_eq(dp_ep_links_max(w->n[0].ep), 0, "nothing left for the loops to visit");
	world_free(w);
}

Test(endpoint, config_checked)
{
	struct dp_ep_config c;
	struct dp_ep *ep;
	struct node nd = { 0 };

	dp_ep_config_default(&c);
	c.node_id = "n";
	c.node_id_len = 1;
	cr_assert_eq(dp_ep_create(&c, &ops, &nd, &ep), 0);
	dp_ep_destroy(ep);
	c.worker = 64;
	cr_assert_eq(dp_ep_create(&c, &ops, &nd, &ep), -EINVAL);
	c.worker = 0;
	c.max_links = DP_EP_LINKS_MAX + 1;
	cr_assert_eq(dp_ep_create(&c, &ops, &nd, &ep), -EINVAL);
	c.max_links = 4;
	c.node_id_len = 0;
	cr_assert_eq(dp_ep_create(&c, &ops, &nd, &ep), -EINVAL);
}
