/*
 * node_worker.c - a worker's burst loop (node.h, doc/flood.md).
 *
 * One turn: commands from the control thread; a burst of datagrams (through the fault filter
 * when one is set), each handed to the endpoint, DATA taken when the worker's ring has room
 * for it; credit granted to every link from that room; every link filled from the graph's
 * rings at its cursor; everything the endpoint has to send sent in batches; the expiry of the
 * stores this worker keeps; a quiescent state. A worker with nothing to do sleeps in its
 * socket until a datagram, a wake-up or its next deadline.
 *
 * A record taken from a link: decoded once; a copy the version table already holds stops
 * there (an older one is answered with ours); a new one goes to the store (the judge: two
 * workers racing with the same record, one wins), then to the table and to this worker's
 * ring, from which every other link of the graph sends it.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node_impl.h"
#include "pg_assert.h"
#include "pg_atomic.h"
#include "pg_error.h"
#include "pg_time.h"

#define COUNT(w, field) atomic_fetch_add_explicit(&(w)->st.field, 1, memory_order_relaxed)
#define STAGE(w, i, ns) atomic_fetch_add_explicit(&(w)->st.stage_ns[i], (ns), memory_order_relaxed)

static struct wgraph *wgraph_of(struct worker *w, const struct dp_graph *g)
{
	for (unsigned i = 0; i < w->ng; i++)
		if (w->g[i]->g == g)
			return w->g[i];
	return NULL;
}

static struct dp_ring *my_ring(struct worker *w, struct dp_graph *g)
{
	return g->rings.rings[1 + w->no];
}

/* ---- endpoint callbacks ---- */

static void *ep_graph_find(void *ctx, const char *id, uint16_t len)
{
	struct worker *w = ctx;

	for (unsigned i = 0; i < w->ng; i++) {
		struct dp_graph *g = w->g[i]->g;

		if (g->id_len == len && !memcmp(g->id, id, len) && pg_load_acquire(&g->listening))
			return w->g[i];
	}
	return NULL;
}

static void event_out(struct worker *w, enum dp_graph_event_kind kind, struct wgraph *wg,
		      const struct dp_ep_event *ev)
{
	struct dp_graph_event out = {
		.kind = kind, .graph = wg->g, .reason = ev->reason, .by_peer = ev->by_peer
	};

	dp_ep_to_addr(ev->addr, &out.addr, &out.addr_len);
	if (ev->el)
		memcpy(out.node, ev->el->node, ev->el->node_len + 1);
	dp_node_event_push(w->n, &out);
}

static void ep_event(void *ctx, const struct dp_ep_event *ev)
{
	struct worker *w = ctx;
	struct wgraph *wg = ev->graph;
	struct flink *fl;

	switch (ev->kind) {
	case DP_EP_UP:
		if (ev->el->initiator)
			atomic_fetch_sub(&wg->g->connecting, 1);
		fl = calloc(1, sizeof(*fl));
		if (fl)
			fl->cur = dp_ring_cursor_add(&wg->g->rings, dp_link_local_id(ev->el->link));
		if (!fl || !fl->cur) {
			free(fl);
			ev->el->user = NULL;
			dp_ep_disconnect(w->ep, ev->el, DP_CLOSE_FULL);
			return;
		}
		fl->wg = wg;
		ev->el->user = fl;
		wg->nlinks++;
		atomic_fetch_add(&wg->g->links, 1);
		event_out(w, DP_NEIGHBOUR_UP, wg, ev);
		return;
	case DP_EP_DOWN:
		if (!(fl = ev->el->user))
			return; /* never fully up */
		{
			struct dp_link_stats ls;

			dp_link_stats(ev->el->link, &ls);
			pthread_mutex_lock(&w->st.snap_lock);
			w->gone_retrans += ls.tx_retrans;
			w->gone_reasm_timeout += ls.reasm_timeout;
			w->gone_reasm_bad += ls.reasm_bad;
			pthread_mutex_unlock(&w->st.snap_lock);
		}
		dp_ring_cursor_remove(&wg->g->rings, fl->cur);
		free(fl);
		ev->el->user = NULL;
		wg->nlinks--;
		atomic_fetch_sub(&wg->g->links, 1);
		event_out(w, DP_NEIGHBOUR_DOWN, wg, ev);
		return;
	case DP_EP_CONNECT_FAILED:
		atomic_fetch_sub(&wg->g->connecting, 1);
		event_out(w, DP_CONNECT_FAILED, wg, ev);
		return;
	}
}

const struct dp_ep_ops dp_worker_ep_ops = { ep_graph_find, ep_event };

/* ---- taking records ---- */

/* Answers an older copy with ours (ours: its table body), on the link it came from. Our
 * encoding is the store's (the table keeps only headers), read into a buffer that grows to
 * the largest record answered. Best effort: no room, no answer; the peer's next sync or our
 * next update brings it. */
static void answer(struct worker *w, struct dp_graph *g, const struct pg_record *ours)
{
	size_t len = 0;
	int err = -ENOSPC;

	if (!w->cur_el)
		return;
	for (int tries = 0; tries < 2 && err == -ENOSPC; tries++) {
		if (len > w->answer_cap) {
			uint8_t *p = realloc(w->answer_buf, len);

			if (!p)
				return;
			w->answer_buf = p;
			w->answer_cap = len;
		}
		err = pg_store_get(g->store, &ours->id, ours->creator, ours->creator_len,
				   PG_STORE_WITH_DELETED, w->answer_buf, w->answer_cap, &len);
	}
	if (!err && dp_link_send_record(w->cur_el->link, w->now, w->answer_buf, (uint32_t)len) == 1)
		COUNT(w, records_answered);
}

/* Stores a record that passed every check (rec: a view of raw, as pg_record_decode makes it;
 * key: its key), enters it in the table and in this worker's ring (src: the link it came
 * from, which does not get it back). The store judges: a copy it holds already (another
 * worker won the race, or the API) is stale. */
static void commit_record(struct worker *w, struct wgraph *wg, const struct pg_record *rec,
			  struct pg_key key, const uint8_t *raw, uint32_t len, uint32_t src,
			  uint64_t t0)
{
	struct dp_graph *g = wg->g;
	struct body *b;
	int err = pg_store_put_decoded(g->store, rec, raw, len, NULL);

	if (t0)
		STAGE(w, DP_STAGE_STORE, pg_mono_ns() - t0);
	if (err) {
		if (err == PG_E_STALE)
			COUNT(w, records_stale);
		else
			COUNT(w, records_store_err);
		return;
	}
	if ((b = dp_body_of(rec))) {
		do {
			err = rvt_raise(wg->th, key, &b->rec);
			if (err == -EAGAIN)
				rvt_quiescent(wg->th);
		} while (err == -EAGAIN);
		if (err)
			free(b); /* a newer copy won meanwhile, or the table is full */
	}
	dp_ring_append(my_ring(w, g), raw, len, src);
	w->appended = true;
	COUNT(w, records_new);
}

static void take_record(void *ctx, const uint8_t *raw, uint32_t len)
{
	struct worker *w = ctx;
	struct flink *fl = w->cur_el->user;
	struct wgraph *wg = fl->wg;
	struct dp_graph *g = wg->g;
	struct pg_record rec;
	struct rvt_view view;
	struct pg_key key;
	uint64_t t0 = w->n->cfg.timing ? pg_mono_ns() : 0, t1;

	COUNT(w, records_in);
	if (pg_record_decode(raw, len, &g->lim, &rec)) {
		COUNT(w, records_bad);
		return;
	}
	if (t0) {
		t1 = pg_mono_ns();
		STAGE(w, DP_STAGE_DECODE, t1 - t0);
		t0 = t1;
	}
	if (rec.expires_us <= w->wall) {
		COUNT(w, records_expired);
		return;
	}
	/* the cheap check first: a copy we hold costs one probe, no copy, no store */
	key = pg_record_key_of(g->graph_key, &rec);
	if (rvt_lookup(wg->th, key, &view) == 0) {
		if (view.body) {
			int order = pg_record_order(&rec, view.body);

			if (order == 0) {
				COUNT(w, records_dup);
				return;
			}
			if (order < 0) {
				COUNT(w, records_stale);
				answer(w, g, view.body);
				return;
			}
		} else if (rec.version <= view.version) {
			COUNT(w, records_stale); /* an expired record's late copy */
			return;
		}
	}
	if (t0) {
		t1 = pg_mono_ns();
		STAGE(w, DP_STAGE_TABLE, t1 - t0);
		t0 = t1;
	}
	if (wg->v) {
		int rc = verify_record(wg->v, &rec, w->wall);

		if (t0) {
			t1 = pg_mono_ns();
			STAGE(w, DP_STAGE_VERIFY, t1 - t0);
			t0 = t1;
		}
		if (rc == PG_E_SIG_DEFERRED) {
			COUNT(w, deferred); /* the verifier keeps a copy until the key comes */
			return;
		}
		if (rc == PG_E_STALE) {
			COUNT(w, records_stale);
			return;
		}
		if (rc) {
			enum verify_reason r = verify_reason_of(rc);

			COUNT(w, rejected);
			if (r < VERIFY_REASONS)
				atomic_fetch_add_explicit(&w->st.rejected_by[r], 1,
							  memory_order_relaxed);
			return;
		}
		COUNT(w, verified);
	}
	commit_record(w, wg, &rec, key, raw, len, dp_link_local_id(w->cur_el->link), t0);
}

/* A deferred record whose signer's key has come: stored and flooded to every link. */
static void accept_deferred(void *ctx, const struct pg_record *rec)
{
	struct worker *w = ctx;
	struct wgraph *wg = w->cur_wg;
	size_t len = pg_record_encoded_size(rec);
	uint8_t *raw = malloc(len);

	struct pg_record view; /* of raw: the store and the ring take raw, the table its header */

	if (!raw || pg_record_encode(rec, &wg->g->lim, raw, len) != (long)len ||
	    pg_record_decode(raw, len, &wg->g->lim, &view) ||
	    !dp_ring_room(my_ring(w, wg->g), dp_ring_entry_bytes((uint32_t)len))) {
		COUNT(w, records_store_err); /* no room now: the next sync brings it */
	} else {
		COUNT(w, verified);
		commit_record(w, wg, &view, pg_record_key_of(wg->g->graph_key, &view), raw,
			      (uint32_t)len, DP_RING_SRC_LOCAL, 0);
	}
	free(raw);
}

/* Does every record of this datagram stop at the version table (nothing to store)? */
static bool all_known(struct worker *w, struct wgraph *wg, const struct dp_wire_msg *m)
{
	struct dp_wire_chunk ch;
	uint32_t pos = 0;

	while (dp_wire_chunk_next(m, &pos, &ch)) {
		struct pg_record rec;
		struct rvt_view view;

		if (ch.kind != DP_CHUNK_RECORD)
			return false;
		if (pg_record_decode(ch.bytes, ch.len, &wg->g->lim, &rec))
			continue; /* refused anyway */
		if (rvt_lookup(wg->th, pg_record_key_of(wg->g->graph_key, &rec), &view) ||
		    !view.body || pg_record_order(&rec, view.body) > 0)
			return false;
	}
	(void)w;
	return true;
}

/* Ring bytes a DATA datagram may need: each record's entry, and a whole record for each
 * fragment (its last piece may complete it). */
static uint64_t data_need(const struct dp_wire_msg *m)
{
	struct dp_wire_chunk ch;
	uint32_t pos = 0;
	uint64_t need = 0;

	while (dp_wire_chunk_next(m, &pos, &ch))
		need += dp_ring_entry_bytes(ch.kind == DP_CHUNK_RECORD ? ch.len : ch.total);
	return need;
}

/* Starts the version-table and store-index reads of every record of a DATA datagram before
 * the first is taken: each record's two random misses then overlap with the work on the
 * others instead of following one another (a key costs a hash, a miss ten times that). */
static void prefetch_records(struct dp_graph *g, const struct dp_wire_msg *m)
{
	struct dp_wire_chunk ch;
	struct pg_key key;

	for (uint32_t pos = 0; dp_wire_chunk_next(m, &pos, &ch);)
		if (ch.kind == DP_CHUNK_RECORD &&
		    pg_record_key_peek(g->graph_key, ch.bytes, ch.len, &key))
			dp_graph_prefetch_key(g, key);
}

static void take_datagram(struct worker *w, const struct dp_addr *src, const uint8_t *data,
			  uint32_t len)
{
	struct dp_ep_addr a;
	struct dp_wire_msg m;
	struct dp_ep_link *el;
	struct flink *fl;

	dp_addr_to_ep(src, &a);
	if (dp_ep_input(w->ep, w->now, &a, data, len, &m, &el) != DP_EP_RX_DATA)
		return;
	if (!(fl = el->user))
		return;
	if (!dp_ring_room(my_ring(w, fl->wg->g), data_need(&m)) && !all_known(w, fl->wg, &m)) {
		/* not taken, not acknowledged: the peer sends it again when we have room */
		COUNT(w, datagrams_refused);
		return;
	}
	prefetch_records(fl->wg->g, &m);
	w->cur_el = el;
	dp_link_data(el->link, w->now, &m, take_record, w);
	w->cur_el = NULL;
	if (w->n->cfg.slow_us)
		usleep(w->n->cfg.slow_us);
}

static void fault_deliver(void *ctx, const uint8_t *data, uint32_t len, const void *addr,
			  uint32_t addr_len)
{
	struct dp_addr src;

	memset(&src, 0, sizeof(src));
	memcpy(&src.sa, addr, addr_len);
	src.len = addr_len;
	take_datagram(ctx, &src, data, len);
}

/* ---- sending ---- */

/* Credit from this worker's ring room, shared by its links of the graph. */
static void grant(struct worker *w, struct dp_ep_link *el)
{
	struct flink *fl = el->user;
	struct dp_ring *r = my_ring(w, fl->wg->g);
	uint64_t free = dp_ring_free(r), per;

	if (free < r->size / 2) {
		dp_ring_room(r, r->size / 2); /* refreshes the bound from the cursors */
		free = dp_ring_free(r);
	}
	per = free / dp_link_dgram(el->link) / (fl->wg->nlinks ? fl->wg->nlinks : 1);
	dp_link_grant(el->link, per > UINT32_MAX ? UINT32_MAX : (uint32_t)per);
}

/* Offers a link what waits for it in every ring of its graph; returns true if it took any. */
static bool fill(struct worker *w, struct dp_ep_link *el)
{
	struct flink *fl = el->user;
	struct dp_ring_set *s = &fl->wg->g->rings;
	bool any = false;

	for (unsigned i = 0; i < s->nrings; i++) {
		const uint8_t *rec;
		uint32_t len;

		while (dp_ring_peek(s, fl->cur, i, &rec, &len)) {
			int rc = dp_link_send_record(el->link, w->now, rec, len);

			if (rc == 0)
				goto full;
			dp_ring_next(s, fl->cur, i);
			if (rc == 1) {
				COUNT(w, records_flooded);
				any = true;
			}
		}
	}
full:
	dp_link_flush(el->link);
	return any;
}

/* Whether datagram o may join run t as one more GSO segment: the same destination, its bytes
 * right after the run's (a link's window slots are consecutive), every segment so far of the
 * run's size, o no longer than that, and the run within the kernel's bounds. */
static bool joins(const struct dp_tx *t, const struct dp_ep_out *prev, const struct dp_ep_out *o)
{
	return o->addr == prev->addr && o->data == t->data + t->len && t->len % t->seg == 0 &&
	       o->len <= t->seg && t->len + o->len <= DP_IO_DGRAM_MAX &&
	       t->len / t->seg < DP_IO_GSO_SEGS_MAX;
}

/* The endpoint's datagrams as sends: consecutive full-sized datagrams of one link (padded,
 * dp_link_config.pad) become one GSO run where the backend has GSO. Returns the sends. */
static unsigned tx_runs(struct worker *w, unsigned n)
{
	unsigned m = 0;

	for (unsigned i = 0; i < n; i++) {
		const struct dp_ep_out *o = &w->out[i];
		struct dp_tx *t = &w->tx[m ? m - 1 : 0];

		if (m && w->gso && joins(t, &w->out[i - 1], o)) {
			t->len += o->len;
			continue;
		}
		t = &w->tx[m++];
		memset(&t->dst, 0, sizeof(t->dst));
		memcpy(&t->dst, o->addr->b, o->addr->len);
		t->dst.len = o->addr->len;
		t->data = o->data;
		t->len = o->len;
		t->seg = (uint16_t)o->len;
	}
	return m;
}

static unsigned send_all(struct worker *w)
{
	unsigned total = 0;

	for (unsigned round = 0; round < 64; round++) {
		unsigned n = dp_ep_poll(w->ep, w->now, w->out, NODE_OUT), m = tx_runs(w, n);

		if (m && w->io)
			w->ops->tx_burst(w->io, w->tx, m);
		total += n;
		if (n < NODE_OUT)
			break;
	}
	return total;
}

/* ---- commands ---- */

static void neighbours(struct worker *w, struct cmd *c)
{
	for (uint32_t i = 0; i < dp_ep_links_max(w->ep); i++) {
		struct dp_ep_link *el = dp_ep_link_at(w->ep, i);
		struct flink *fl = el ? el->user : NULL;
		struct dp_neighbour *nb;

		if (!fl || fl->wg->g != c->g)
			continue;
		pthread_mutex_lock(&w->n->lock);
		if (*c->count < c->max) {
			nb = &c->out[*c->count];
			memset(nb, 0, sizeof(*nb));
			dp_ep_to_addr(&el->addr, &nb->addr, &nb->addr_len);
			memcpy(nb->node, el->node, el->node_len + 1);
			nb->initiator = el->initiator;
			nb->worker = w->no;
			dp_link_stats(el->link, &nb->link);
		}
		(*c->count)++;
		pthread_mutex_unlock(&w->n->lock);
	}
}

static void run_cmd(struct worker *w, struct cmd *c)
{
	struct wgraph *wg = wgraph_of(w, c->g);
	struct dp_ep_addr a;

	switch (c->kind) {
	case CMD_ADD:
		if (!wg && w->ng < DP_STORES_MAX && (wg = calloc(1, sizeof(*wg)))) {
			wg->g = c->g;
			if (rvt_thread_register(c->g->rvt, &wg->th) != 0) {
				free(wg);
			} else if (c->g->secured &&
				   dp_verifier(w->n, c->g->id, c->g->id_len, &c->g->lim, &wg->v)) {
				rvt_thread_unregister(wg->th);
				free(wg); /* it worked on the control thread: out of memory */
			} else {
				w->g[w->ng++] = wg;
			}
		}
		break;
	case CMD_REMOVE:
		if (!wg)
			break;
		dp_ep_graph_gone(w->ep, wg);
		send_all(w); /* the CLOSEs go out, the links report down, connects fail */
		send_all(w);
		verify_destroy(wg->v);
		rvt_thread_unregister(wg->th);
		for (unsigned i = 0; i < w->ng; i++)
			if (w->g[i] == wg) {
				w->g[i] = w->g[--w->ng];
				break;
			}
		free(wg);
		break;
	case CMD_CONNECT:
		dp_addr_to_ep(&c->addr, &a);
		if (!wg || dp_ep_connect(w->ep, w->now, wg, c->g->id, c->g->id_len, &a, 0)) {
			struct dp_graph_event ev = { .kind = DP_CONNECT_FAILED,
						     .graph = c->g,
						     .reason = DP_CLOSE_FULL };

			dp_ep_to_addr(&a, &ev.addr, &ev.addr_len);
			atomic_fetch_sub(&c->g->connecting, 1);
			dp_node_event_push(w->n, &ev);
		}
		break;
	case CMD_DISCONNECT:
		dp_addr_to_ep(&c->addr, &a);
		for (uint32_t i = 0; i < dp_ep_links_max(w->ep); i++) {
			struct dp_ep_link *el = dp_ep_link_at(w->ep, i);

			if (el && el->graph == wg && el->addr.len == a.len &&
			    !memcmp(el->addr.b, a.b, a.len)) {
				dp_ep_disconnect(w->ep, el, DP_CLOSE_BY_PEER);
				pthread_mutex_lock(&w->n->lock);
				(*c->found)++;
				pthread_mutex_unlock(&w->n->lock);
			}
		}
		break;
	case CMD_NEIGHBOURS:
		neighbours(w, c);
		break;
	}
	if (c->wait)
		dp_node_cmd_done(w->n);
}

static void run_cmds(struct worker *w)
{
	struct cmd batch[NODE_CMDS];
	unsigned n;

	pthread_mutex_lock(&w->cmd_lock);
	n = w->ncmd;
	memcpy(batch, w->cmds, n * sizeof(batch[0]));
	w->ncmd = 0;
	pg_store_relaxed(&w->has_cmd, false);
	pthread_mutex_unlock(&w->cmd_lock);
	for (unsigned i = 0; i < n; i++)
		run_cmd(w, &batch[i]);
}

/* ---- the loop ---- */

/* Copies the endpoint's and links' counters where dp_node_stats() reads them. */
static void snapshot(struct worker *w)
{
	uint64_t retrans = 0, timeouts = 0, bad = 0;

	for (uint32_t i = 0; i < dp_ep_links_max(w->ep); i++) {
		struct dp_ep_link *el = dp_ep_link_at(w->ep, i);
		struct dp_link_stats ls;

		if (!el || !el->user)
			continue;
		dp_link_stats(el->link, &ls);
		retrans += ls.tx_retrans;
		timeouts += ls.reasm_timeout;
		bad += ls.reasm_bad;
	}
	pthread_mutex_lock(&w->st.snap_lock);
	dp_ep_stats(w->ep, &w->st.ep);
	if (w->io)
		w->ops->stats(w->io, &w->st.io); /* only this thread may read them live */
	w->st.retransmits = w->gone_retrans + retrans;
	w->st.reasm_timeouts = w->gone_reasm_timeout + timeouts;
	w->st.reasm_bad = w->gone_reasm_bad + bad;
	pthread_mutex_unlock(&w->st.snap_lock);
}

static void expire(struct worker *w)
{
	for (unsigned i = 0; i < w->ng; i++) {
		if (w->g[i]->v) {
			w->cur_wg = w->g[i];
			verify_deferred_run(w->g[i]->v, w->wall, accept_deferred, w);
			w->cur_wg = NULL;
		}
	}
	for (unsigned i = 0; i < w->ng; i++) {
		struct dp_graph *g = w->g[i]->g;

		if (g->expire_worker != w->no)
			continue;
		g->expire_th = w->g[i]->th;
		pg_store_expire(g->store, w->wall, DP_EXPIRE_PER_TURN);
		g->expire_th = NULL;
	}
}

static void sleep_until(struct worker *w, uint64_t deadline_us)
{
	uint64_t now = pg_mono_ns() / 1000;
	uint64_t t = deadline_us > now ? deadline_us - now : 0;

	pg_store_relaxed(&w->asleep, true);
	/* seq_cst: the flag before the heads (dp_wake_sleepers fences the other way): a record
	 * appended after this look wakes us */
	pg_fence_seq_cst();
	for (unsigned i = 0; i < w->ng; i++) {
		struct wgraph *wg = w->g[i];

		for (unsigned r = 0; r < wg->g->rings.nrings; r++)
			if (pg_load_relaxed(&wg->g->rings.rings[r]->head) != wg->heads[r])
				t = 0; /* something came since the links were filled */
	}
	for (unsigned i = 0; i < w->ng; i++)
		rvt_thread_offline(w->g[i]->th);
	if (!t) {
		/* no wait */
	} else if (w->io) {
		w->ops->wait(w->io, t);
	} else {
		struct pollfd p = { .fd = w->wake_fd, .events = POLLIN };
		uint64_t v;

		if (poll(&p, 1, (int)((t + 999) / 1000)) > 0 &&
		    read(w->wake_fd, &v, sizeof(v)) < 0) {
			/* another wake-up took it */
		}
	}
	for (unsigned i = 0; i < w->ng; i++)
		rvt_thread_online(w->g[i]->th);
	pg_store_relaxed(&w->asleep, false);
}

void *dp_worker_main(void *arg)
{
	struct worker *w = arg;
	struct dp_node *n = w->n;

	while (!pg_load_acquire(&n->stop)) {
		bool busy = false;
		unsigned k = 0;

		/* acquire: pairs with cmd_push's release */
		if (pg_load_acquire(&w->has_cmd))
			run_cmds(w);
		uint64_t t0 = pg_mono_ns(), t1;

		w->now = t0 / 1000;
		w->wall = pg_time_now_us();
		if (w->io && (k = w->ops->rx_burst(w->io, w->pkts, NODE_BURST))) {
			busy = true;
			t1 = pg_mono_ns();
			STAGE(w, DP_STAGE_RX, t1 - t0);
			t0 = t1;
			for (unsigned i = 0; i < k; i++) {
				const struct dp_pkt *p = &w->pkts[i];

				if (w->fault)
					dp_fault_input(w->fault, w->now, p->data, p->len,
						       &p->src.sa, p->src.len, fault_deliver, w);
				else
					take_datagram(w, &p->src, p->data, p->len);
			}
			w->ops->rx_done(w->io, w->pkts, k);
		}
		if (w->fault)
			dp_fault_poll(w->fault, w->now, fault_deliver, w);
		if (w->appended && n->nworkers > 1) {
			w->appended = false;
			dp_wake_sleepers(n, w); /* links on other workers send what we took */
		}
		t1 = pg_mono_ns();
		STAGE(w, DP_STAGE_TAKE, t1 - t0);
		t0 = t1;
		for (unsigned i = 0; i < w->ng; i++) {
			struct wgraph *wg = w->g[i];

			/* acquire: what the heads show is whole before the links read it */
			for (unsigned r = 0; r < wg->g->rings.nrings; r++)
				wg->heads[r] = pg_load_acquire(&wg->g->rings.rings[r]->head);
		}
		for (uint32_t i = 0; i < dp_ep_links_max(w->ep); i++) {
			struct dp_ep_link *el = dp_ep_link_at(w->ep, i);

			if (!el || !el->user)
				continue;
			grant(w, el);
			busy |= fill(w, el);
		}
		t1 = pg_mono_ns();
		STAGE(w, DP_STAGE_FILL, t1 - t0);
		busy |= send_all(w) > 0;
		STAGE(w, DP_STAGE_TX, pg_mono_ns() - t1);
		if (w->now >= w->next_snapshot) {
			snapshot(w);
			w->next_snapshot = w->now + 100000;
		}
		if (w->now >= w->next_expire) {
			expire(w);
			w->next_expire =
			    w->now +
			    (busy || n->tick_us > DP_IDLE_TICK_US ? n->tick_us : DP_IDLE_TICK_US);
		}
		for (unsigned i = 0; i < w->ng; i++)
			rvt_quiescent(w->g[i]->th);
		if (!busy && !pg_load_acquire(&w->has_cmd)) {
			uint64_t d = dp_ep_deadline(w->ep);

			if (w->fault) {
				uint64_t f = dp_fault_next_due(w->fault);

				d = f < d ? f : d;
			}
			if (w->next_expire < d)
				d = w->next_expire;
			if (d > w->now)
				sleep_until(w, d);
		}
	}
	/* stopping: tell every peer */
	for (uint32_t i = 0; i < dp_ep_links_max(w->ep); i++) {
		struct dp_ep_link *el = dp_ep_link_at(w->ep, i);

		if (el)
			dp_ep_disconnect(w->ep, el, DP_CLOSE_SHUTDOWN);
	}
	w->now = pg_mono_ns() / 1000;
	send_all(w);
	send_all(w);
	snapshot(w);
	for (unsigned i = 0; i < w->ng; i++) {
		verify_destroy(w->g[i]->v);
		rvt_thread_unregister(w->g[i]->th);
		free(w->g[i]);
	}
	w->ng = 0;
	return NULL;
}
