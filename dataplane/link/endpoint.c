/*
 * endpoint.c - the hello exchange, the link table and dispatch (endpoint.h).
 *
 * Link slots: slot i's link id is (random 16 bits << 16) | (i << 6) | worker, so a datagram
 * finds its slot from its link id in one step, and the id's random half (with the source
 * address, which must match) makes a guessed id useless. A slot is FREE, PENDING (our connect
 * in progress: the id is already the one our HELLO names), UP, or REAP (reported down; its
 * link is destroyed at the next poll, after the datagrams the last poll returned from it have
 * been sent).
 */
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "endpoint.h"
#include "pg_assert.h"
#include "pg_bytes.h"
#include "pg_error.h"

enum { CTL_BYTES = 576 }; /* the largest HELLO is 557 bytes */

enum slot_state { FREE = 0, PENDING, UP, REAP };

struct slot {
	enum slot_state state;
	uint32_t id;
	struct dp_ep_link el;
	/* PENDING */
	uint64_t start, next_hello;
	uint8_t cookie[DP_WIRE_COOKIE_LEN];
	bool have_cookie;
	bool abandoned; /* its graph went away: fails at the next poll */
	uint16_t graph_len;
	char graph_id[DP_WIRE_GRAPH_MAX];
};

struct ctl {
	struct dp_ep_addr addr;
	uint32_t len;
	uint8_t buf[CTL_BYTES];
};

struct dp_ep {
	struct dp_ep_config c;
	struct dp_ep_ops ops;
	void *ctx;
	struct dp_link_budget budget;
	struct slot *slots;
	uint32_t rr;  /* the link a poll starts with */
	uint32_t hwm; /* every slot from here on is FREE: the per-turn loops stop here */
	uint64_t rng;
	struct ctl ctl[DP_EP_CTL_QUEUE];
	uint32_t ctl_head, ctl_len;
	struct dp_ep_stats st;
};

static uint64_t rnd(struct dp_ep *ep)
{
	/* splitmix64: ids and nonces need to be unpredictable only to the extent the seed is */
	uint64_t z = (ep->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void dp_ep_config_default(struct dp_ep_config *c)
{
	memset(c, 0, sizeof(*c));
	dp_link_config_default(&c->link);
	c->reasm_bytes = 256u << 20;
	c->max_links = 256;
	c->hello_retry_us = DP_EP_HELLO_RETRY_US;
	c->hello_timeout_us = DP_EP_HELLO_TIMEOUT_US;
}

int dp_ep_create(const struct dp_ep_config *c, const struct dp_ep_ops *ops, void *ctx,
		 struct dp_ep **out)
{
	struct dp_ep *ep;

	if (c->worker >= 1u << DP_EP_WORKER_BITS || !c->node_id_len ||
	    c->node_id_len > DP_WIRE_NODE_MAX || !c->max_links || c->max_links > DP_EP_LINKS_MAX ||
	    !c->hello_retry_us || c->hello_timeout_us < c->hello_retry_us ||
	    dp_link_config_check(&c->link) || !ops->graph_find || !ops->event)
		return -EINVAL;
	if (sodium_init() < 0)
		return -ENOSYS;
	if (!(ep = calloc(1, sizeof(*ep))))
		return -ENOMEM;
	if (!(ep->slots = calloc(c->max_links, sizeof(*ep->slots)))) {
		free(ep);
		return -ENOMEM;
	}
	ep->c = *c;
	ep->ops = *ops;
	ep->ctx = ctx;
	ep->budget.max = c->reasm_bytes;
	ep->rng = c->seed;
	*out = ep;
	return 0;
}

void dp_ep_destroy(struct dp_ep *ep)
{
	if (!ep)
		return;
	for (uint32_t i = 0; i < ep->c.max_links; i++)
		dp_link_destroy(ep->slots[i].el.link);
	free(ep->slots);
	free(ep);
}

static bool addr_eq(const struct dp_ep_addr *a, const struct dp_ep_addr *b)
{
	return a->len == b->len && !memcmp(a->b, b->b, a->len);
}

static struct slot *slot_by_id(struct dp_ep *ep, uint32_t id)
{
	uint32_t i = (id & 0xffff) >> DP_EP_WORKER_BITS;

	if ((id & ((1u << DP_EP_WORKER_BITS) - 1)) != ep->c.worker || i >= ep->c.max_links ||
	    ep->slots[i].state == FREE || ep->slots[i].id != id)
		return NULL;
	return &ep->slots[i];
}

/* A slot leaves FREE (PENDING or UP): the loops must reach it. */
static void slot_used(struct dp_ep *ep, struct slot *s)
{
	uint32_t i = (uint32_t)(s - ep->slots);

	if (i >= ep->hwm)
		ep->hwm = i + 1;
}

static void slot_free(struct dp_ep *ep, struct slot *s)
{
	s->state = FREE;
	while (ep->hwm && ep->slots[ep->hwm - 1].state == FREE)
		ep->hwm--;
}

static struct slot *slot_alloc(struct dp_ep *ep)
{
	for (uint32_t i = 0; i < ep->c.max_links; i++) {
		struct slot *s = &ep->slots[i];

		if (s->state != FREE)
			continue;
		memset(s, 0, sizeof(*s));
		s->id = (uint32_t)((rnd(ep) % 0xffff + 1) << 16) | i << DP_EP_WORKER_BITS |
			ep->c.worker;
		return s;
	}
	return NULL;
}

/* A handshake datagram slot, or NULL (queue full: counted). */
static struct ctl *ctl_push(struct dp_ep *ep, const struct dp_ep_addr *to)
{
	struct ctl *q;

	if (ep->ctl_len == DP_EP_CTL_QUEUE) {
		ep->st.drop[DP_EP_DROP_FULL]++;
		return NULL;
	}
	q = &ep->ctl[(ep->ctl_head + ep->ctl_len++) % DP_EP_CTL_QUEUE];
	q->addr = *to;
	return q;
}

static void cookie_of(const struct dp_ep *ep, uint64_t bucket, const struct dp_ep_addr *a,
		      uint64_t nonce, const char *graph, uint16_t graph_len,
		      uint8_t out[DP_WIRE_COOKIE_LEN])
{
	crypto_generichash_state h;
	uint8_t b[8], n[8];

	store_le64(b, bucket);
	store_le64(n, nonce);
	crypto_generichash_init(&h, ep->c.secret, sizeof(ep->c.secret), DP_WIRE_COOKIE_LEN);
	crypto_generichash_update(&h, b, sizeof(b));
	crypto_generichash_update(&h, &a->len, 1);
	crypto_generichash_update(&h, a->b, a->len);
	crypto_generichash_update(&h, n, sizeof(n));
	crypto_generichash_update(&h, (const uint8_t *)graph, graph_len);
	crypto_generichash_final(&h, out, DP_WIRE_COOKIE_LEN);
}

static bool cookie_ok(const struct dp_ep *ep, uint64_t now, const struct dp_ep_addr *a,
		      const struct dp_wire_hello *h, uint64_t nonce)
{
	uint64_t bucket = now / DP_EP_COOKIE_PERIOD_US;
	uint8_t want[DP_WIRE_COOKIE_LEN];

	for (unsigned back = 0; back < 2 && back <= bucket; back++) {
		cookie_of(ep, bucket - back, a, nonce, h->graph, h->graph_len, want);
		if (!sodium_memcmp(want, h->cookie, DP_WIRE_COOKIE_LEN))
			return true;
	}
	return false;
}

static void push_close(struct dp_ep *ep, const struct dp_ep_addr *to, uint32_t link,
		       uint32_t reason)
{
	struct ctl *q = ctl_push(ep, to);

	if (!q)
		return;
	q->len = (uint32_t)dp_wire_close(q->buf, sizeof(q->buf), link, reason);
	ep->st.closes_sent++;
}

static void push_welcome(struct dp_ep *ep, const struct slot *s, uint32_t to_link)
{
	struct dp_wire_welcome w = { .link = s->id,
				     .max_dgram = ep->c.link.max_dgram,
				     .node = ep->c.node_id,
				     .node_len = ep->c.node_id_len };
	struct ctl *q = ctl_push(ep, &s->el.addr);

	if (!q)
		return;
	q->len = (uint32_t)dp_wire_welcome(q->buf, sizeof(q->buf), to_link, s->el.nonce, &w);
	ep->st.welcomes_sent++;
}

static void push_hello(struct dp_ep *ep, struct slot *s)
{
	struct dp_wire_hello h = {
		.link = s->id,
		.max_dgram = ep->c.link.max_dgram,
		.graph = s->graph_id,
		.graph_len = s->graph_len,
		.node = ep->c.node_id,
		.node_len = ep->c.node_id_len,
		.cookie = s->cookie,
		.cookie_len = s->have_cookie ? DP_WIRE_COOKIE_LEN : 0,
	};
	struct ctl *q = ctl_push(ep, &s->el.addr);

	if (!q)
		return;
	q->len = (uint32_t)dp_wire_hello(q->buf, sizeof(q->buf), s->el.nonce, &h);
	ep->st.hellos_sent++;
}

static void emit(struct dp_ep *ep, enum dp_ep_event_kind kind, struct slot *s, uint32_t reason,
		 bool by_peer)
{
	struct dp_ep_event ev = { .kind = kind,
				  .el = kind == DP_EP_CONNECT_FAILED ? NULL : &s->el,
				  .graph = s->el.graph,
				  .addr = &s->el.addr,
				  .token = s->el.token,
				  .reason = reason,
				  .by_peer = by_peer };

	ep->ops.event(ep->ctx, &ev);
}

static int link_up(struct dp_ep *ep, struct slot *s, uint64_t now, uint32_t peer_id,
		   uint32_t peer_max, const char *node, uint16_t node_len)
{
	int err =
	    dp_link_create(&ep->c.link, s->id, peer_id, peer_max, &ep->budget, now, &s->el.link);

	if (err)
		return err;
	s->state = UP;
	slot_used(ep, s);
	memcpy(s->el.node, node, node_len);
	s->el.node[node_len] = '\0';
	s->el.node_len = node_len;
	ep->st.links_up++;
	emit(ep, DP_EP_UP, s, 0, false);
	return 0;
}

static void hello_in(struct dp_ep *ep, uint64_t now, const struct dp_ep_addr *from,
		     const struct dp_wire_msg *m, uint32_t len)
{
	const struct dp_wire_hello *h = &m->u.hello;
	struct slot *s;
	void *graph;

	if (len < DP_WIRE_HDR_LEN + DP_WIRE_COOKIE_LEN) {
		ep->st.drop[DP_EP_DROP_SHORT_HELLO]++;
		return;
	}
	for (uint32_t i = 0; i < ep->hwm; i++) {
		s = &ep->slots[i];
		if (s->state == PENDING && s->el.nonce == m->seq && s->id == h->link) {
			/* our own HELLO came back to us: this node connected to itself */
			ep->st.drop[DP_EP_DROP_SELF]++;
			ep->st.connects_failed++;
			emit(ep, DP_EP_CONNECT_FAILED, s, DP_CLOSE_SELF, false);
			slot_free(ep, s);
			return;
		}
	}
	if (!h->cookie_len) {
		struct ctl *q = ctl_push(ep, from);
		uint8_t c[DP_WIRE_COOKIE_LEN];

		if (!q)
			return;
		cookie_of(ep, now / DP_EP_COOKIE_PERIOD_US, from, m->seq, h->graph, h->graph_len,
			  c);
		q->len = (uint32_t)dp_wire_cookie(q->buf, sizeof(q->buf), m->seq, c);
		ep->st.cookies_sent++;
		return;
	}
	if (!cookie_ok(ep, now, from, h, m->seq)) {
		ep->st.drop[DP_EP_DROP_COOKIE]++;
		return;
	}
	for (uint32_t i = 0; i < ep->hwm; i++) {
		s = &ep->slots[i];
		if (s->state == UP && !s->el.initiator && s->el.nonce == m->seq &&
		    addr_eq(&s->el.addr, from)) {
			push_welcome(ep, s, h->link); /* our WELCOME was lost */
			return;
		}
	}
	if (!(graph = ep->ops.graph_find(ep->ctx, h->graph, h->graph_len))) {
		ep->st.drop[DP_EP_DROP_NO_GRAPH]++;
		push_close(ep, from, h->link, DP_CLOSE_NO_GRAPH);
		return;
	}
	if (!(s = slot_alloc(ep))) {
		ep->st.drop[DP_EP_DROP_FULL]++;
		push_close(ep, from, h->link, DP_CLOSE_FULL);
		return;
	}
	s->el.addr = *from;
	s->el.graph = graph;
	s->el.nonce = m->seq;
	if (link_up(ep, s, now, h->link, h->max_dgram, h->node, h->node_len)) {
		slot_free(ep, s);
		ep->st.drop[DP_EP_DROP_FULL]++;
		return;
	}
	push_welcome(ep, s, h->link);
}

static struct slot *pending_by_nonce(struct dp_ep *ep, const struct dp_ep_addr *from,
				     uint64_t nonce)
{
	for (uint32_t i = 0; i < ep->hwm; i++) {
		struct slot *s = &ep->slots[i];

		if (s->state == PENDING && s->el.nonce == nonce && addr_eq(&s->el.addr, from))
			return s;
	}
	return NULL;
}

enum dp_ep_rx dp_ep_input(struct dp_ep *ep, uint64_t now, const struct dp_ep_addr *addr,
			  const uint8_t *data, uint32_t len, struct dp_wire_msg *m,
			  struct dp_ep_link **el)
{
	struct slot *s;
	int rc;

	ep->st.rx++;
	if ((rc = dp_wire_decode(data, len, m))) {
		int k = -(rc - PG_E_WIRE_MAGIC);

		ep->st.drop[DP_EP_DROP_DECODE]++;
		if (k >= 0 && k < 8)
			ep->st.decode_err[k]++;
		return DP_EP_RX_DONE;
	}
	ep->st.rx_by_type[m->type]++;
	switch (m->type) {
	case DP_WIRE_HELLO:
		hello_in(ep, now, addr, m, len);
		return DP_EP_RX_DONE;
	case DP_WIRE_COOKIE:
		if (!(s = pending_by_nonce(ep, addr, m->seq))) {
			ep->st.drop[DP_EP_DROP_UNEXPECTED]++;
			return DP_EP_RX_DONE;
		}
		memcpy(s->cookie, m->u.cookie, DP_WIRE_COOKIE_LEN);
		s->have_cookie = true;
		push_hello(ep, s);
		s->next_hello = now + ep->c.hello_retry_us;
		return DP_EP_RX_DONE;
	case DP_WIRE_WELCOME:
		s = slot_by_id(ep, m->link);
		if (!s || s->state != PENDING || s->el.nonce != m->seq ||
		    !addr_eq(&s->el.addr, addr)) {
			ep->st.drop[s && s->state == UP ? DP_EP_DROP_UNEXPECTED
							: DP_EP_DROP_UNKNOWN]++;
			return DP_EP_RX_DONE;
		}
		if (link_up(ep, s, now, m->u.welcome.link, m->u.welcome.max_dgram,
			    m->u.welcome.node, m->u.welcome.node_len)) {
			ep->st.drop[DP_EP_DROP_FULL]++;
			return DP_EP_RX_DONE; /* -ENOMEM: the next WELCOME may do */
		}
		return DP_EP_RX_DONE;
	default:
		break;
	}
	if (!(s = slot_by_id(ep, m->link)) || s->state == REAP) {
		ep->st.drop[DP_EP_DROP_UNKNOWN]++;
		return DP_EP_RX_DONE;
	}
	if (!addr_eq(&s->el.addr, addr)) {
		ep->st.drop[DP_EP_DROP_ADDRESS]++;
		return DP_EP_RX_DONE;
	}
	if (s->state == PENDING) {
		if (m->type == DP_WIRE_CLOSE) {
			ep->st.connects_failed++;
			emit(ep, DP_EP_CONNECT_FAILED, s, m->u.reason, true);
			slot_free(ep, s);
		} else {
			ep->st.drop[DP_EP_DROP_UNEXPECTED]++;
		}
		return DP_EP_RX_DONE;
	}
	if (m->type == DP_WIRE_DATA) {
		if (dp_link_data_check(s->el.link, now, m->seq) != DP_LINK_SEQ_NEW)
			return DP_EP_RX_DONE;
		*el = &s->el;
		return DP_EP_RX_DATA;
	}
	dp_link_input(s->el.link, now, m);
	return DP_EP_RX_DONE;
}

int dp_ep_connect(struct dp_ep *ep, uint64_t now, void *graph, const char *graph_id,
		  uint16_t graph_id_len, const struct dp_ep_addr *addr, uint64_t token)
{
	struct slot *s;

	if (!graph_id_len || graph_id_len > DP_WIRE_GRAPH_MAX || !addr->len ||
	    addr->len > DP_EP_ADDR_MAX)
		return -EINVAL;
	if (!(s = slot_alloc(ep)))
		return -ENOSPC;
	s->state = PENDING;
	slot_used(ep, s);
	s->el.addr = *addr;
	s->el.graph = graph;
	/* the nonce's low bits name our worker, so the reply (which echoes it) reaches it */
	s->el.nonce = (rnd(ep) & ~(uint64_t)((1u << DP_EP_WORKER_BITS) - 1)) | ep->c.worker;
	s->el.token = token;
	s->el.initiator = true;
	s->graph_len = graph_id_len;
	memcpy(s->graph_id, graph_id, graph_id_len);
	s->start = now;
	s->next_hello = now + ep->c.hello_retry_us;
	push_hello(ep, s);
	return 0;
}

void dp_ep_disconnect(struct dp_ep *ep, struct dp_ep_link *el, uint32_t reason)
{
	(void)ep;
	dp_link_close(el->link, reason);
}

void dp_ep_graph_gone(struct dp_ep *ep, void *graph)
{
	for (uint32_t i = 0; i < ep->hwm; i++) {
		struct slot *s = &ep->slots[i];

		if (s->el.graph != graph)
			continue;
		if (s->state == UP)
			dp_link_close(s->el.link, DP_CLOSE_BY_PEER);
		else if (s->state == PENDING)
			s->abandoned = true;
	}
}

/* Connect retries and timeouts. */
static void pending_timers(struct dp_ep *ep, uint64_t now)
{
	for (uint32_t i = 0; i < ep->hwm; i++) {
		struct slot *s = &ep->slots[i];

		if (s->state != PENDING)
			continue;
		if (s->abandoned || now >= s->start + ep->c.hello_timeout_us) {
			ep->st.connects_failed++;
			emit(ep, DP_EP_CONNECT_FAILED, s, 0, false);
			slot_free(ep, s);
		} else if (now >= s->next_hello) {
			push_hello(ep, s);
			s->next_hello = now + ep->c.hello_retry_us;
		}
	}
}

unsigned dp_ep_poll(struct dp_ep *ep, uint64_t now, struct dp_ep_out *out, unsigned max)
{
	struct dp_link_out lo[64];
	unsigned n = 0;

	for (uint32_t i = 0; i < ep->hwm; i++) {
		struct slot *s = &ep->slots[i];

		if (s->state == REAP) {
			dp_link_destroy(s->el.link);
			s->el.link = NULL;
			slot_free(ep, s);
		}
	}
	pending_timers(ep, now);
	while (ep->ctl_len && n < max) {
		struct ctl *q = &ep->ctl[ep->ctl_head];

		ep->ctl_head = (ep->ctl_head + 1) % DP_EP_CTL_QUEUE;
		ep->ctl_len--;
		if (!q->len)
			continue; /* an encoder refused: cannot happen with checked fields */
		out[n++] = (struct dp_ep_out){ &q->addr, q->buf, q->len };
	}
	for (uint32_t k = 0; k < ep->hwm && n < max; k++) {
		uint32_t i = (ep->rr + k) % ep->hwm;
		struct slot *s = &ep->slots[i];
		unsigned got, room = max - n < 64 ? max - n : 64;

		if (s->state != UP)
			continue;
		got = dp_link_poll(s->el.link, now, lo, room);
		for (unsigned j = 0; j < got; j++)
			out[n++] = (struct dp_ep_out){ &s->el.addr, lo[j].data, lo[j].len };
		if (dp_link_state(s->el.link) != DP_LINK_UP) {
			struct dp_link_stats ls;

			dp_link_stats(s->el.link, &ls);
			ep->st.links_down++;
			emit(ep, DP_EP_DOWN, s, ls.close_reason, ls.closed_by_peer);
			s->state = REAP;
		} else if (got == room) {
			ep->rr = i; /* more to send: this link goes first next time */
			break;
		}
	}
	return n;
}

uint64_t dp_ep_deadline(const struct dp_ep *ep)
{
	uint64_t t = UINT64_MAX;

	if (ep->ctl_len)
		return 0;
	for (uint32_t i = 0; i < ep->hwm; i++) {
		const struct slot *s = &ep->slots[i];
		uint64_t d = UINT64_MAX;

		if (s->state == REAP || (s->state == PENDING && s->abandoned))
			return 0;
		if (s->state == PENDING)
			d = s->next_hello < s->start + ep->c.hello_timeout_us
				? s->next_hello
				: s->start + ep->c.hello_timeout_us;
		else if (s->state == UP)
			d = dp_link_deadline(s->el.link);
		if (d < t)
			t = d;
	}
	return t;
}

uint32_t dp_ep_links_max(const struct dp_ep *ep)
{
	return ep->hwm;
}

struct dp_ep_link *dp_ep_link_at(struct dp_ep *ep, uint32_t i)
{
	return i < ep->c.max_links && ep->slots[i].state == UP ? &ep->slots[i].el : NULL;
}

void dp_ep_stats(const struct dp_ep *ep, struct dp_ep_stats *st)
{
	*st = ep->st;
	st->links = st->pending = 0;
	for (uint32_t i = 0; i < ep->hwm; i++) {
		st->links += ep->slots[i].state == UP;
		st->pending += ep->slots[i].state == PENDING;
	}
}
