/*
 * node.c - a node's dataplane: workers and their sockets, graphs, and the control thread's
 * calls (node.h). The burst loop itself is node_worker.c.
 *
 * Steering: the workers' sockets form one SO_REUSEPORT group with a classic BPF program that
 * picks the socket from the datagram itself — the low bits of the receiver's link id, or for
 * a datagram naming no link (HELLO, COOKIE) the low bits of its nonce — so every datagram of
 * a link, and the COOKIE answering our HELLO, reaches the worker that owns it
 * (endpoint.h: link ids and our nonces carry the worker's number).
 */
#include <errno.h>
#include <linux/filter.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <unistd.h>

#include "node_impl.h"
#include "pg_assert.h"
#include "pg_atomic.h"
#include "pg_time.h"

static void msgf(char *msg, size_t len, const char *what, int err)
{
	if (msg && len)
		snprintf(msg, len, "%s: %s", what, strerror(err < 0 ? -err : err));
}

/* ---- addresses ---- */

void dp_addr_to_ep(const struct dp_addr *a, struct dp_ep_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (a->sa.sa_family == AF_INET) {
		struct sockaddr_in in = { .sin_family = AF_INET,
					  .sin_port = a->in.sin_port,
					  .sin_addr = a->in.sin_addr };

		out->len = sizeof(in);
		memcpy(out->b, &in, sizeof(in));
	} else {
		struct sockaddr_in6 in6 = { .sin6_family = AF_INET6,
					    .sin6_port = a->in6.sin6_port,
					    .sin6_addr = a->in6.sin6_addr,
					    .sin6_scope_id = a->in6.sin6_scope_id };

		out->len = sizeof(in6);
		memcpy(out->b, &in6, sizeof(in6));
	}
}

void dp_ep_to_addr(const struct dp_ep_addr *a, struct sockaddr_storage *out, socklen_t *len)
{
	memset(out, 0, sizeof(*out));
	memcpy(out, a->b, a->len);
	*len = a->len;
}

/* A control-plane address as the workers' sockets see peers (IPv4 mapped on an IPv6 one). */
static int addr_from(const struct dp_node *n, const struct sockaddr *sa, socklen_t len,
		     struct dp_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		if (n->addr.sa.sa_family == AF_INET6) {
			out->in6.sin6_family = AF_INET6;
			out->in6.sin6_port = in->sin_port;
			out->in6.sin6_addr.s6_addr[10] = 0xff;
			out->in6.sin6_addr.s6_addr[11] = 0xff;
			memcpy(&out->in6.sin6_addr.s6_addr[12], &in->sin_addr, 4);
			out->len = sizeof(out->in6);
		} else {
			out->in = *in;
			out->len = sizeof(out->in);
		}
		return 0;
	}
	if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6) &&
	    n->addr.sa.sa_family == AF_INET6) {
		out->in6 = *(const struct sockaddr_in6 *)sa;
		out->len = sizeof(out->in6);
		return 0;
	}
	return -EINVAL;
}

/* ---- events and commands ---- */

void dp_node_event_push(struct dp_node *n, const struct dp_graph_event *ev)
{
	uint64_t one = 1;

	pthread_mutex_lock(&n->lock);
	if (n->ev_len == NODE_EVENTS) {
		n->ev_dropped++;
	} else {
		n->ev[(n->ev_head + n->ev_len++) % NODE_EVENTS] = *ev;
	}
	pthread_mutex_unlock(&n->lock);
	if (write(n->event_fd, &one, sizeof(one)) < 0) {
		/* the counter is full: the control thread is already signalled */
	}
}

int dp_node_event_fd(const struct dp_node *n)
{
	return n->event_fd;
}

unsigned dp_node_events(struct dp_node *n, struct dp_graph_event *out, unsigned max,
			uint64_t *dropped)
{
	uint64_t v;
	unsigned k = 0;

	if (read(n->event_fd, &v, sizeof(v)) < 0) {
		/* nothing signalled (EAGAIN): the queue may still hold what a read took before */
	}
	pthread_mutex_lock(&n->lock);
	while (n->ev_len && k < max) {
		out[k++] = n->ev[n->ev_head];
		n->ev_head = (n->ev_head + 1) % NODE_EVENTS;
		n->ev_len--;
	}
	if (dropped)
		*dropped = n->ev_dropped;
	n->ev_dropped = 0;
	if (n->ev_len) {
		uint64_t one = 1;

		if (write(n->event_fd, &one, sizeof(one)) < 0) {
			/* already signalled */
		}
	}
	pthread_mutex_unlock(&n->lock);
	return k;
}

void dp_worker_wake(struct worker *w)
{
	if (w->io) {
		w->ops->wake(w->io);
	} else {
		uint64_t one = 1;

		if (write(w->wake_fd, &one, sizeof(one)) < 0) {
			/* already signalled */
		}
	}
}

void dp_wake_sleepers(struct dp_node *n, const struct worker *self)
{
	/* seq_cst: our ring's new head before the look at each worker's flag; each worker sets
	 * its flag before it looks at the heads (sleep_until), so one of us sees the other */
	pg_fence_seq_cst();
	for (unsigned i = 0; i < n->nworkers; i++)
		if (&n->w[i] != self && pg_load_relaxed(&n->w[i].asleep))
			dp_worker_wake(&n->w[i]);
}

/* Queues a command; -EAGAIN when the worker's queue is full. */
static int cmd_push(struct worker *w, const struct cmd *c)
{
	int err = 0;

	pthread_mutex_lock(&w->cmd_lock);
	if (w->ncmd == NODE_CMDS)
		err = -EAGAIN;
	else
		w->cmds[w->ncmd++] = *c;
	/* release: the command before the flag that says one waits */
	pg_store_release(&w->has_cmd, true);
	pthread_mutex_unlock(&w->cmd_lock);
	dp_worker_wake(w);
	return err;
}

void dp_node_cmd_done(struct dp_node *n)
{
	pthread_mutex_lock(&n->lock);
	n->done++;
	pthread_cond_broadcast(&n->done_cv);
	pthread_mutex_unlock(&n->lock);
}

/* Runs a command on every worker and waits until each has done it. */
static void cmd_all(struct dp_node *n, struct cmd *c)
{
	uint64_t target;

	c->wait = true;
	pthread_mutex_lock(&n->lock);
	target = n->done + n->nworkers;
	pthread_mutex_unlock(&n->lock);
	for (unsigned i = 0; i < n->nworkers; i++)
		while (cmd_push(&n->w[i], c) == -EAGAIN)
			usleep(1000); /* a full queue drains within a turn */
	pthread_mutex_lock(&n->lock);
	while (n->done < target)
		pthread_cond_wait(&n->done_cv, &n->lock);
	pthread_mutex_unlock(&n->lock);
}

/* ---- the node ---- */

/* The steering program: socket = (link id's low byte, or the nonce's when the link id is 0)
 * & 63, modulo the number of workers. Loads past a short datagram's end make the program
 * return 0: the first socket, whose endpoint counts and drops it. */
static int steer(struct worker *w0, unsigned nworkers)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 4),	       /* A = link id (any order) */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 2, 0),  /* 0: look at the nonce */
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 4),	       /* A = link id's low byte */
		BPF_JUMP(BPF_JMP | BPF_JA, 1, 0, 0),	       /* skip the nonce */
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 8),	       /* A = nonce's low byte */
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 63),       /* the worker's number */
		BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, nworkers), /* within the group */
		BPF_STMT(BPF_RET | BPF_A, 0),
	};
	struct sock_fprog prog = { .len = sizeof(code) / sizeof(code[0]), .filter = code };

	return dp_io_reuseport_cbpf(w0->io, &prog);
}

/* The node's fault settings with the pool the workers get. */
static struct dp_fault_config fault_of(const struct dp_fault_config *c, unsigned worker)
{
	struct dp_fault_config fc = *c;

	fc.seed += worker; /* each worker its own sequence, all from the node's seed */
	if (!fc.slots)
		fc.slots = DP_FAULT_SLOTS_DEFAULT;
	if (!fc.max_len)
		fc.max_len = DP_IO_DGRAM_MAX;
	return fc;
}

static int fault_check(const struct dp_fault_config *c)
{
	struct dp_fault_config fc = fault_of(c, 0);

	return dp_fault_config_check(&fc);
}

static int worker_open(struct dp_node *n, struct worker *w, uint64_t seed, char *msg, size_t msglen)
{
	struct dp_ep_config ec;
	int err;

	pthread_mutex_init(&w->cmd_lock, NULL);
	pthread_mutex_init(&w->st.snap_lock, NULL);
	w->n = n;
	w->wake_fd = -1;
	if (n->cfg.addr_len) {
		struct dp_io_config ic;

		dp_io_config_default(&ic);
		ic.backend = n->cfg.backend;
		ic.reuseport = true;
		ic.bind = w->no ? n->addr : (struct dp_addr){ 0 };
		if (!w->no) {
			memcpy(&ic.bind, &n->cfg.addr, n->cfg.addr_len);
			ic.bind.len = n->cfg.addr_len;
		}
		if ((err = dp_io_open(&ic, &w->ops, &w->io))) {
			msgf(msg, msglen, "dataplane socket", err);
			return err;
		}
		if (!w->no && (err = w->ops->local_addr(w->io, &n->addr))) {
			msgf(msg, msglen, "dataplane address", err);
			return err;
		}
		n->backend = w->ops->name;
		w->ops->stats(w->io, &w->st.io);
		w->gso = w->st.io.gso;
	} else if ((w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		err = -errno;
		msgf(msg, msglen, "eventfd", err);
		return err;
	}
	dp_ep_config_default(&ec);
	ec.worker = w->no;
	ec.node_id = n->node_id;
	ec.node_id_len = (uint16_t)strlen(n->node_id);
	ec.link = n->cfg.link;
	ec.link.pad = w->gso;
	ec.reasm_bytes = n->cfg.reasm_bytes ? n->cfg.reasm_bytes : 256u << 20;
	ec.max_links = 256;
	ec.seed = seed + w->no;
	if (getrandom(ec.secret, sizeof(ec.secret), 0) != sizeof(ec.secret)) {
		msgf(msg, msglen, "getrandom", errno);
		return -errno;
	}
	extern const struct dp_ep_ops dp_worker_ep_ops;
	if ((err = dp_ep_create(&ec, &dp_worker_ep_ops, w, &w->ep))) {
		msgf(msg, msglen, "link endpoint", err);
		return err;
	}
	if (dp_fault_enabled(&n->cfg.fault)) {
		struct dp_fault_config fc = fault_of(&n->cfg.fault, w->no);

		if ((err = dp_fault_create(&fc, &w->fault))) {
			msgf(msg, msglen, "fault injection", err);
			return err;
		}
	}
	return 0;
}

static void worker_close(struct worker *w)
{
	dp_fault_destroy(w->fault);
	dp_ep_destroy(w->ep);
	free(w->answer_buf);
	if (w->io)
		w->ops->close(w->io);
	if (w->wake_fd >= 0)
		close(w->wake_fd);
	pthread_mutex_destroy(&w->cmd_lock);
	pthread_mutex_destroy(&w->st.snap_lock);
}

int dp_node_create(const struct dp_node_config *cfg, struct dp_node **out, char *msg, size_t msglen)
{
	struct dp_node *n;
	uint64_t seed;
	int err = 0;

	*out = NULL;
	if (msg && msglen)
		msg[0] = '\0';
	if (!cfg || cfg->workers == 0 || cfg->workers > DP_WORKERS_MAX ||
	    (cfg->node_id && strlen(cfg->node_id) > DP_NODE_ID_MAX) ||
	    (cfg->link.max_dgram && dp_link_config_check(&cfg->link)) ||
	    (dp_fault_enabled(&cfg->fault) && fault_check(&cfg->fault))) {
		if (msg && msglen)
			snprintf(msg, msglen, "invalid dataplane settings");
		return -EINVAL;
	}
	if (!(n = calloc(1, sizeof(*n))))
		return -ENOMEM;
	n->cfg = *cfg;
	if (!cfg->link.max_dgram)
		dp_link_config_default(&n->cfg.link);
	snprintf(n->node_id, sizeof(n->node_id), "%s",
		 cfg->node_id && cfg->node_id[0] ? cfg->node_id : "peergraph");
	n->tick_us = cfg->tick_us ? cfg->tick_us : DP_TICK_US_DEFAULT;
	n->backend = "none";
	pthread_mutex_init(&n->lock, NULL);
	pthread_cond_init(&n->done_cv, NULL);
	n->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (n->event_fd < 0 || getrandom(&seed, sizeof(seed), 0) != sizeof(seed)) {
		err = -errno;
		free(n);
		return err;
	}
	for (unsigned i = 0; i < cfg->workers && !err; i++) {
		n->w[i].no = i;
		err = worker_open(n, &n->w[i], seed, msg, msglen);
		n->nworkers = i + 1;
	}
	if (!err && cfg->addr_len && cfg->workers > 1 && (err = steer(&n->w[0], cfg->workers)))
		msgf(msg, msglen, "steering datagrams to workers", err);
	for (unsigned i = 0; i < n->nworkers && !err; i++) {
		char name[16];

		if ((err = -pthread_create(&n->w[i].thread, NULL, dp_worker_main, &n->w[i]))) {
			msgf(msg, msglen, "worker thread", err);
		} else {
			n->w[i].started = true;
			/* top, perf and gdb say which thread is which */
			snprintf(name, sizeof(name), "pg-worker-%u", i % DP_WORKERS_MAX);
			pthread_setname_np(n->w[i].thread, name);
		}
	}
	if (err) {
		dp_node_destroy(n);
		return err;
	}
	*out = n;
	return 0;
}

void dp_node_destroy(struct dp_node *n)
{
	if (!n)
		return;
	while (n->ngraphs)
		dp_node_graph_remove(n, n->graphs[n->ngraphs - 1]);
	pg_store_release(&n->stop, true);
	for (unsigned i = 0; i < n->nworkers; i++) {
		if (!n->w[i].started)
			continue;
		dp_worker_wake(&n->w[i]);
		pthread_join(n->w[i].thread, NULL);
	}
	for (unsigned i = 0; i < n->nworkers; i++)
		worker_close(&n->w[i]);
	close(n->event_fd);
	pthread_cond_destroy(&n->done_cv);
	pthread_mutex_destroy(&n->lock);
	free(n);
}

int dp_node_addr(const struct dp_node *n, struct sockaddr_storage *addr, socklen_t *len)
{
	if (!n->addr.len)
		return -ENOTCONN;
	memset(addr, 0, sizeof(*addr));
	memcpy(addr, &n->addr.sa, n->addr.len);
	*len = n->addr.len;
	return 0;
}

const char *dp_node_backend(const struct dp_node *n)
{
	return n->backend;
}

/* ---- graphs ---- */

int dp_verifier(const struct dp_node *n, const char *id, uint16_t id_len,
		const struct pg_record_limits *lim, struct verify **out)
{
	struct verify_config vc = {
		.graph_id = id,
		.graph_id_len = id_len,
		.keytab_fd = n->cfg.keytab_fd,
		.limits = *lim,
	};

	return verify_create(&vc, out);
}

static void body_free(void *ctx, const struct pg_record *rec)
{
	(void)ctx;
	free((void *)rec);
}

static void on_store_event(void *arg, const struct pg_store_event *ev)
{
	struct dp_graph *g = arg;

	/* an expiry runs on the graph's expiring worker, whose table thread is expire_th */
	if (ev->kind == PG_STORE_EXPIRED && g->expire_th) {
		struct rvt_view view;

		if (rvt_lookup(g->expire_th, ev->key, &view) == 0 && view.body &&
		    view.body->expires_us <= ev->rec->expires_us)
			rvt_remove_expired(g->expire_th, ev->key, view.body);
	}
	if (g->user_fn)
		g->user_fn(g->user_arg, ev);
}

int dp_node_graph_add(struct dp_node *n, const struct dp_graph_config *c, struct dp_graph **out)
{
	struct rvt_config rc = { 0 };
	struct dp_graph *g;
	struct cmd cmd = { .kind = CMD_ADD };
	uint64_t ring = n->cfg.ring_bytes ? n->cfg.ring_bytes : DP_RING_BYTES_DEFAULT;
	int err;

	if (!c->id_len || c->id_len > DP_WIRE_GRAPH_MAX || !c->store)
		return -EINVAL;
	if (c->secured) {
		/* every worker makes its own verifier: try one here, so errors reach the caller */
		struct verify *v;

		if (n->cfg.keytab_fd <= 0)
			return -ENOKEY;
		if ((err = dp_verifier(n, c->id, c->id_len, &c->limits, &v)))
			return err;
		verify_destroy(v);
	}
	pthread_mutex_lock(&n->lock);
	err = n->ngraphs == DP_STORES_MAX ? -ENOSPC : 0;
	pthread_mutex_unlock(&n->lock);
	if (err)
		return err;
	if (!(g = calloc(1, sizeof(*g))))
		return -ENOMEM;
	g->n = n;
	memcpy(g->id, c->id, c->id_len);
	g->id_len = c->id_len;
	g->store = c->store;
	g->lim = c->limits;
	g->graph_key = pg_graph_key(c->id, c->id_len);
	g->secured = c->secured;
	/* a record must fit half a ring (and the link's bound) to be flooded */
	g->max_record = c->limits.max_record_size + 64 * 1024;
	if (g->max_record > ring / 2 - DP_RING_HDR)
		g->max_record = (uint32_t)(ring / 2 - DP_RING_HDR);
	g->user_fn = c->on_event;
	g->user_arg = c->on_event_arg;
	rc.capacity = c->capacity ? c->capacity : NODE_RVT_DEFAULT;
	rc.max_threads = n->nworkers + 1;
	rc.body_free = body_free;
	if ((err = rvt_create(&rc, &g->rvt))) {
		free(g);
		return err;
	}
	if ((err = dp_ring_set_init(&g->rings, n->nworkers + 1, ring)) ||
	    (err = rvt_thread_register(g->rvt, &g->ctl_th))) {
		dp_ring_set_fini(&g->rings);
		rvt_destroy(g->rvt);
		free(g);
		return err;
	}
	rvt_thread_offline(g->ctl_th);
	pthread_mutex_lock(&n->lock);
	g->expire_worker = n->next_expire_worker++ % n->nworkers;
	n->graphs[n->ngraphs++] = g;
	pthread_mutex_unlock(&n->lock);
	pg_store_subscribe(g->store, on_store_event, g);
	cmd.g = g;
	cmd_all(n, &cmd);
	*out = g;
	return 0;
}

void dp_node_graph_remove(struct dp_node *n, struct dp_graph *g)
{
	struct cmd cmd = { .kind = CMD_REMOVE, .g = g };

	if (!g)
		return;
	pg_store_release(&g->listening, false);
	cmd_all(n, &cmd);
	pg_store_subscribe(g->store, g->user_fn, g->user_arg);
	pthread_mutex_lock(&n->lock);
	for (unsigned i = 0; i < n->ngraphs; i++)
		if (n->graphs[i] == g) {
			n->graphs[i] = n->graphs[--n->ngraphs];
			break;
		}
	pthread_mutex_unlock(&n->lock);
	rvt_thread_online(g->ctl_th);
	rvt_thread_unregister(g->ctl_th);
	rvt_destroy(g->rvt);
	dp_ring_set_fini(&g->rings);
	free(g);
}

void dp_graph_listen(struct dp_graph *g, bool on)
{
	pg_store_release(&g->listening, on);
}

int dp_graph_connect(struct dp_graph *g, const struct sockaddr *addr, socklen_t len)
{
	struct dp_node *n = g->n;
	struct cmd cmd = { .kind = CMD_CONNECT, .g = g };
	struct worker *w;
	int err;

	if (!n->addr.len)
		return -ENOTCONN;
	if ((err = addr_from(n, addr, len, &cmd.addr)))
		return err;
	pthread_mutex_lock(&n->lock);
	w = &n->w[n->next_connect_worker++ % n->nworkers];
	pthread_mutex_unlock(&n->lock);
	if ((err = cmd_push(w, &cmd)))
		return err;
	atomic_fetch_add(&g->connecting, 1);
	return 0;
}

int dp_graph_disconnect(struct dp_graph *g, const struct sockaddr *addr, socklen_t len)
{
	struct cmd cmd = { .kind = CMD_DISCONNECT, .g = g };
	unsigned found = 0;
	int err;

	if ((err = addr_from(g->n, addr, len, &cmd.addr)))
		return err;
	cmd.found = &found;
	cmd_all(g->n, &cmd);
	return found ? 0 : -ENOENT;
}

unsigned dp_graph_neighbours(struct dp_graph *g, struct dp_neighbour *out, unsigned max)
{
	struct cmd cmd = { .kind = CMD_NEIGHBOURS, .g = g, .out = out, .max = max };
	unsigned count = 0;

	cmd.count = &count;
	cmd_all(g->n, &cmd);
	return count;
}

void dp_graph_status(struct dp_graph *g, struct dp_graph_status *st)
{
	st->listening = pg_load_acquire(&g->listening);
	st->links = atomic_load(&g->links);
	st->connecting = atomic_load(&g->connecting);
}

bool dp_graph_room(struct dp_graph *g, uint32_t len)
{
	struct dp_ring *r = g->rings.rings[DP_RING_SRC_LOCAL];

	/* busy once half the ring waits for a slow link: the other half is the reserve that
	 * makes publish() after a yes certain */
	if (len > g->max_record)
		return false;
	return dp_ring_room_reserve(r, dp_ring_entry_bytes(len), r->size / 2);
}

static uint8_t *take_bytes(uint8_t *to, const void *from, size_t len, const void **view)
{
	*view = len ? to : NULL;
	if (len)
		memcpy(to, from, len);
	return to + len;
}

struct body *dp_body_of(const struct pg_record *rec)
{
	size_t n = (size_t)rec->creator_len + rec->modifier_len + rec->secdata_len;
	struct body *b = malloc(sizeof(*b) + n);
	const void *v;
	uint8_t *q;

	if (!b)
		return NULL;
	b->rec = *rec;
	b->rec.attrs = NULL;
	b->rec.attrs_len = 0;
	b->rec.nattrs = 0;
	b->rec.payload = NULL;
	b->rec.payload_len = 0;
	q = take_bytes(b->bytes, rec->creator, rec->creator_len, &v);
	b->rec.creator = v;
	q = take_bytes(q, rec->modifier, rec->modifier_len, &v);
	b->rec.modifier = v;
	take_bytes(q, rec->secdata, rec->secdata_len, &v);
	b->rec.secdata = v;
	return b;
}

void dp_graph_prefetch(struct dp_graph *g, const struct pg_guid *id, const char *creator,
		       uint16_t creator_len)
{
	dp_graph_prefetch_key(g, pg_record_key(g->graph_key, id, creator, creator_len));
}

void dp_graph_prefetch_key(struct dp_graph *g, struct pg_key key)
{
	rvt_prefetch(g->rvt, key);
	pg_store_prefetch(g->store, key);
}

void dp_graph_publish(struct dp_graph *g, const struct pg_record *rec, const uint8_t *raw,
		      uint32_t len)
{
	struct pg_key key = pg_record_key_of(g->graph_key, rec);
	struct body *b = dp_body_of(rec);
	int err = -ENOMEM;

	PG_ASSERT(dp_ring_room(g->rings.rings[DP_RING_SRC_LOCAL], dp_ring_entry_bytes(len)));
	if (b) {
		rvt_thread_online(g->ctl_th);
		do {
			err = rvt_raise(g->ctl_th, key, &b->rec);
			if (err == -EAGAIN)
				rvt_quiescent(g->ctl_th);
		} while (err == -EAGAIN);
		rvt_thread_offline(g->ctl_th);
		if (err)
			free(b); /* stale (a newer copy arrived meanwhile) or full: the store holds
				    it */
	}
	dp_ring_append(g->rings.rings[DP_RING_SRC_LOCAL], raw, len, DP_RING_SRC_LOCAL);
	atomic_fetch_add(&g->records_local, 1);
}

void dp_graph_flush(struct dp_graph *g)
{
	dp_wake_sleepers(g->n, NULL);
}

void dp_node_stats(struct dp_node *n, struct dp_node_stats *st)
{
	memset(st, 0, sizeof(*st));
	for (unsigned i = 0; i < n->nworkers; i++) {
		struct worker *w = &n->w[i];
		struct worker_stats *ws = &w->st;

#define SUM(f) st->f += atomic_load_explicit(&ws->f, memory_order_relaxed)
		SUM(records_in);
		SUM(records_new);
		SUM(records_dup);
		SUM(records_stale);
		SUM(records_bad);
		SUM(records_expired);
		SUM(records_store_err);
		SUM(records_flooded);
		SUM(records_answered);
		SUM(datagrams_refused);
		SUM(verified);
		SUM(deferred);
		SUM(rejected);
		for (unsigned k = 0; k < VERIFY_REASONS; k++)
			st->rejected_by[k] +=
			    atomic_load_explicit(&ws->rejected_by[k], memory_order_relaxed);
#undef SUM
		for (unsigned k = 0; k < DP_STAGES; k++)
			st->stage_ns[k] +=
			    atomic_load_explicit(&ws->stage_ns[k], memory_order_relaxed);
		pthread_mutex_lock(&ws->snap_lock);
		st->rx_datagrams += ws->io.rx_dgrams;
		st->tx_datagrams += ws->io.tx_dgrams;
		st->tx_sends += ws->io.tx_msgs;
		st->syscalls += ws->io.syscalls;
		for (unsigned k = 0; k < DP_EP_DROP_REASONS; k++)
			st->drops[k] += ws->ep.drop[k];
		for (unsigned k = 0; k < 8; k++)
			st->decode_err[k] += ws->ep.decode_err[k];
		st->links_up += ws->ep.links_up;
		st->links_down += ws->ep.links_down;
		st->connects_failed += ws->ep.connects_failed;
		st->links += ws->ep.links;
		st->retransmits += ws->retransmits;
		st->reasm_timeouts += ws->reasm_timeouts;
		st->reasm_bad += ws->reasm_bad;
		pthread_mutex_unlock(&ws->snap_lock);
	}
}
