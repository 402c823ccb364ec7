/*
 * server.c - peergraphd's control API server (server.h): the listening socket and peer
 * credentials, per-connection input and output, frame dispatch, replies held until durable,
 * and the fan-out of store events to subscribers. The handlers of the messages are in
 * api_handlers.c; this file only moves frames.
 *
 * The loop is one epoll set on the control thread. Everything registered carries a `watch`
 * saying what it is: the listener, the signal fd, a graph's notify eventfd (commits, I/O
 * errors and queued events of that graph), the dataplane's event fd (neighbours up and down),
 * or a connection.
 *
 * HELD REPLIES: HOW A CONNECTION PIPELINES
 *
 * A record write is answered only once its records are durable, which takes up to a group
 * commit (store.commit_interval_us). A connection is not stopped meanwhile: the reply joins
 * the connection's FIFO of held replies (struct held: its graph and the store ticket it
 * waits for) and the next frames are read and handled, so that a client streaming writes
 * keeps the store busy while earlier commits are pending. Replies must still leave in the
 * order of the requests (the client matches them by position), so once the FIFO holds one,
 * every later reply -- a GET, an error -- joins it too, ready at once but sent only behind
 * the older ones. A graph's notify fd (after each commit, or an I/O error) releases, on every
 * connection, the replies from the oldest on while each one's own graph is durable up to its
 * ticket (a FIFO may mix graphs); one whose store failed gets that error instead. Closing or
 * deleting a graph makes its store durable first, so its held replies become ready then.
 *
 * LIMITS. HELD_MAX replies and HELD_BYTES_MAX bytes per connection: at either, the connection
 * is not read (EPOLLIN off) until replies go out, as when its output is past
 * client_queue_bytes. Frames already read wait in its input buffer; after replies are
 * released the connection is marked `resume` and those frames are handled once the current
 * batch of epoll events is done (not from inside a handler, whose reply is being built).
 * A connection that closes frees what it holds: its records stay stored, unanswered.
 */
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "api/frame.h"
#include "log.h"
#include "pg_assert.h"
#include "pg_error.h"
#include "server_impl.h"

enum {
	IN_INITIAL = 64 << 10, /* a connection's first input buffer */
	EVENTS_BATCH = 256,    /* events taken from a graph's queue at a time */
	EPOLL_BATCH = 64,
	STOP_FLUSH_MS = 2000, /* bounded wait to send what is queued at shutdown */
};

/* ---- watches ------------------------------------------------------------------------------- */

static int watch_add(struct pgd_server *srv, int fd, struct watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	return epoll_ctl(srv->epfd, EPOLL_CTL_ADD, fd, &ev) == 0 ? 0 : -errno;
}

/* The connection is at one of its bounds (held replies, output): it is not read meanwhile. */
static bool conn_held(const struct pgd_server *srv, const struct conn *c)
{
	return c->nheld == HELD_MAX || c->held_bytes >= HELD_BYTES_MAX ||
	       c->out_len - c->out_off > srv->cfg.client_queue_bytes;
}

/* The connection can be freed: nothing more will be read, queued or held for it. */
static bool conn_done(const struct conn *c)
{
	return c->closing && c->out_off == c->out_len && !c->nheld;
}

static void conn_set_events(struct pgd_server *srv, struct conn *c)
{
	uint32_t want = 0;
	struct epoll_event ev;

	if (!conn_held(srv, c) && !c->closing)
		want |= EPOLLIN;
	if (c->out_len > c->out_off)
		want |= EPOLLOUT;
	if (want == c->epoll_events)
		return;
	ev = (struct epoll_event){ .events = want, .data.ptr = &c->watch };
	if (epoll_ctl(srv->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->epoll_events = want;
}

int pgd_server_watch_graph(struct pgd_server *srv, struct pgd_graph *g)
{
	struct watch *w;
	int err;

	for (unsigned i = 0; i < PGD_GRAPHS_MAX; i++) {
		if (srv->graph_watch[i].obj)
			continue;
		w = &srv->graph_watch[i];
		w->kind = WATCH_GRAPH;
		w->obj = g;
		if ((err = watch_add(srv, g->notify_fd, w, EPOLLIN))) {
			w->obj = NULL;
			return err;
		}
		return 0;
	}
	return -ENOSPC;
}

void pgd_server_unwatch_graph(struct pgd_server *srv, struct pgd_graph *g)
{
	for (unsigned i = 0; i < PGD_GRAPHS_MAX; i++) {
		if (srv->graph_watch[i].obj == g) {
			epoll_ctl(srv->epfd, EPOLL_CTL_DEL, g->notify_fd, NULL);
			srv->graph_watch[i].obj = NULL;
		}
	}
}

/* ---- output -------------------------------------------------------------------------------- */

/* Appends bytes to a connection's output. Replies always fit (the bound only stops reading);
 * 0 or -ENOMEM. */
static int out_append(struct conn *c, const uint8_t *p, size_t len)
{
	if (c->out_off && c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	if (c->out_len + len > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 64 << 10;
		uint8_t *b;

		if (c->out_off) { /* reclaim what was sent before growing */
			memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
			c->out_len -= c->out_off;
			c->out_off = 0;
		}
		while (cap < c->out_len + len)
			cap *= 2;
		if (cap != c->out_cap) {
			if (!(b = realloc(c->out, cap)))
				return -ENOMEM;
			c->out = b;
			c->out_cap = cap;
		}
	}
	memcpy(c->out + c->out_len, p, len);
	c->out_len += len;
	return 0;
}

/* Writes what it can without blocking. 0, or -errno (the peer is gone). */
static int out_flush(struct conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? 0 : -errno;
		}
		c->out_off += (size_t)n;
	}
	if (c->out_off == c->out_len) {
		c->out_off = c->out_len = 0;
		c->out_events = 0;
	}
	return 0;
}

void pgd_conn_queue(struct pgd_server *srv, struct conn *c, const uint8_t *frame, size_t len)
{
	if (out_append(c, frame, len)) {
		pgd_log(PGD_LOG_ERROR, "client pid %d: out of memory for a reply: closing it",
			(int)c->pid);
		c->closing = true;
		return;
	}
	if (out_flush(c))
		c->closing = true;
	conn_set_events(srv, c);
}

/* Builds a failed reply in srv->w: status and, if any, the detail in srv->msg. Its length,
 * or a negative error. */
static long error_build(struct pgd_server *srv, uint16_t type, uint32_t id, int status)
{
	pg_api_begin(&srv->w, (uint16_t)(type | PG_API_REPLY), id, status);
	if (srv->msg[0])
		pg_api_put_str(&srv->w, PG_API_T_MESSAGE, srv->msg);
	return pg_api_end(&srv->w);
}

/* A failed reply to the request being handled. */
static void reply_error(struct pgd_server *srv, struct conn *c, uint16_t type, uint32_t id,
			int status)
{
	long n = error_build(srv, type, id, status);

	if (n > 0)
		pgd_conn_reply(srv, c, srv->w.buf, (size_t)n);
	else
		c->closing = true;
}

static void conn_readable(struct pgd_server *srv, struct conn *c);

/* ---- events -------------------------------------------------------------------------------- */

static struct sub *sub_of(struct conn *c, const struct pgd_graph *g)
{
	for (unsigned i = 0; i < c->nsubs; i++)
		if (c->subs[i].g == g)
			return &c->subs[i];
	return NULL;
}

/* Queues an event frame if the connection has room; else counts it lost. */
static void event_offer(struct pgd_server *srv, struct conn *c, struct sub *s, const uint8_t *frame,
			size_t len)
{
	if (c->out_len - c->out_off + len > srv->cfg.client_queue_bytes ||
	    c->out_events >= srv->cfg.event_queue) {
		s->lost++;
		s->lost_pending = true;
		return;
	}
	c->out_events++;
	pgd_conn_queue(srv, c, frame, len);
}

/* Tells a subscriber how many events it lost, once it has room again. */
static void lost_offer(struct pgd_server *srv, struct conn *c, struct sub *s)
{
	long n;

	if (!s->lost_pending || c->out_len - c->out_off > srv->cfg.client_queue_bytes / 2)
		return;
	pg_api_begin(&srv->ev, PG_API_EVENT, 0, 0);
	pg_api_put_u32(&srv->ev, PG_API_T_EVENT_KIND, PG_API_EV_LOST);
	pg_api_put_str(&srv->ev, PG_API_T_GRAPH, s->g->id);
	pg_api_put_u64(&srv->ev, PG_API_T_LOST, s->lost);
	if ((n = pg_api_end(&srv->ev)) > 0) {
		s->lost_pending = false;
		pgd_conn_queue(srv, c, srv->ev.buf, (size_t)n);
	}
}

static void events_fan_out(struct pgd_server *srv, struct pgd_graph *g)
{
	struct pgd_event ev[EVENTS_BATCH];
	uint64_t dropped;
	unsigned n;

	do {
		n = pgd_graph_events_take(g, ev, EVENTS_BATCH, &dropped);
		for (unsigned k = 0; k < srv->nconns; k++) {
			struct conn *c = srv->conns[k];
			struct sub *s = sub_of(c, g);

			if (!s)
				continue;
			if (dropped) {
				s->lost += dropped;
				s->lost_pending = true;
			}
			lost_offer(srv, c, s);
			for (unsigned i = 0; i < n; i++) {
				long len;

				if (!(s->mask & (1u << ev[i].kind)))
					continue;
				pg_api_begin(&srv->ev, PG_API_EVENT, 0, 0);
				pg_api_put_u32(&srv->ev, PG_API_T_EVENT_KIND, (uint32_t)ev[i].kind);
				pg_api_put_str(&srv->ev, PG_API_T_GRAPH, g->id);
				pg_api_put_bytes(&srv->ev, PG_API_T_RECORD, ev[i].bytes, ev[i].len);
				pg_api_put_u64(&srv->ev, PG_API_T_SEQ, ev[i].seq);
				if ((len = pg_api_end(&srv->ev)) > 0)
					event_offer(srv, c, s, srv->ev.buf, (size_t)len);
			}
		}
		for (unsigned i = 0; i < n; i++)
			free(ev[i].bytes);
	} while (n == EVENTS_BATCH);
}

void pgd_server_event_fan_out(struct pgd_server *srv, struct pgd_graph *g, uint32_t kind,
			      const uint8_t *frame, size_t len)
{
	for (unsigned k = 0; k < srv->nconns; k++) {
		struct conn *c = srv->conns[k];
		struct sub *s = sub_of(c, g);

		if (s && (s->mask & (1u << kind)))
			event_offer(srv, c, s, frame, len);
	}
}

void pgd_server_graph_status_event(struct pgd_server *srv, struct pgd_graph *g, uint32_t status)
{
	long len;

	pg_api_begin(&srv->ev, PG_API_EVENT, 0, 0);
	pg_api_put_u32(&srv->ev, PG_API_T_EVENT_KIND, PG_API_EV_GRAPH_STATUS);
	pg_api_put_str(&srv->ev, PG_API_T_GRAPH, g->id);
	pg_api_put_u32(&srv->ev, PG_API_T_STATUS, status);
	if ((len = pg_api_end(&srv->ev)) > 0)
		pgd_server_event_fan_out(srv, g, PG_API_EV_GRAPH_STATUS, srv->ev.buf, (size_t)len);
}

/* ---- subscriptions --------------------------------------------------------------------------- */

static bool graph_subscribed(struct pgd_server *srv, const struct pgd_graph *g)
{
	for (unsigned k = 0; k < srv->nconns; k++)
		if (sub_of(srv->conns[k], g))
			return true;
	return false;
}

int pgd_server_subscribe(struct pgd_server *srv, struct conn *c, struct pgd_graph *g, uint32_t mask)
{
	struct sub *s = sub_of(c, g);

	(void)srv;
	if (!s) {
		if (c->nsubs == SUBS_MAX)
			return -ENOSPC;
		s = &c->subs[c->nsubs++];
		*s = (struct sub){ .g = g };
	}
	s->mask = mask ? mask : ~0u;
	pgd_graph_events_want(g, true);
	return 0;
}

void pgd_server_unsubscribe(struct pgd_server *srv, struct conn *c, struct pgd_graph *g)
{
	struct sub *s = sub_of(c, g);

	if (!s)
		return;
	*s = c->subs[--c->nsubs];
	if (!graph_subscribed(srv, g))
		pgd_graph_events_want(g, false);
}

void pgd_server_graph_gone(struct pgd_server *srv, struct pgd_graph *g)
{
	pgd_server_graph_status_event(srv, g, 0);
	for (unsigned k = 0; k < srv->nconns; k++)
		pgd_server_unsubscribe(srv, srv->conns[k], g);
}

/* ---- held replies (see HELD REPLIES at the top) ------------------------------------------ */

/* Holds a copy of a reply behind the ones before it. */
static void held_push(struct pgd_server *srv, struct conn *c, struct pgd_graph *g, uint64_t ticket,
		      const uint8_t *reply, size_t len)
{
	struct held *h;

	/* frames_handle dispatches a frame only below the bound, and a frame makes one reply */
	PG_ASSERT(c->nheld < HELD_MAX);
	h = &c->held[(c->held_head + c->nheld) % HELD_MAX];
	if (!(h->frame = malloc(len))) {
		pgd_log(PGD_LOG_ERROR, "client pid %d: out of memory to hold a reply: closing it",
			(int)c->pid);
		c->closing = true; /* the replies before it still go out */
		conn_set_events(srv, c);
		return;
	}
	memcpy(h->frame, reply, len);
	h->len = len;
	h->g = g;
	h->ticket = ticket;
	c->nheld++;
	c->held_bytes += len;
	conn_set_events(srv, c);
}

static void held_pop(struct conn *c)
{
	struct held *h = &c->held[c->held_head];

	c->held_bytes -= h->len;
	free(h->frame);
	*h = (struct held){ 0 };
	c->held_head = (c->held_head + 1) % HELD_MAX;
	c->nheld--;
}

/* The store I/O error of g, 0 if none. */
static int store_io_error(struct pgd_graph *g)
{
	struct pg_store_stats st;

	pg_store_stats_get(g->store, &st);
	return st.io_error;
}

/* Moves the oldest held replies to the output while each is ready: its graph durable up to
 * its ticket, or (a graph of `notified` only: its notify fd also tells I/O errors) its store
 * failed, which is answered instead. failed replies are built in srv->w, so `notified` is
 * NULL when a handler's reply is being built there. Marks the connection to resume. */
static void held_release(struct pgd_server *srv, struct conn *c, struct pgd_graph *notified)
{
	unsigned released = 0;
	int io_error;
	long n;

	while (c->nheld && !c->dead) {
		struct held *h = &c->held[c->held_head];

		io_error = 0;
		if (h->g && h->ticket > pg_store_durable_seq(h->g->store) &&
		    (h->g != notified || !(io_error = store_io_error(h->g))))
			break;
		if (io_error) {
			snprintf(srv->msg, sizeof(srv->msg),
				 "the graph's store failed to write: %s", pg_strerror(io_error));
			n = error_build(srv, (uint16_t)(load_type(h->frame) & ~PG_API_REPLY),
					load_id(h->frame), io_error);
			if (n > 0)
				pgd_conn_queue(srv, c, srv->w.buf, (size_t)n);
			else
				c->closing = true;
		} else {
			pgd_conn_queue(srv, c, h->frame, h->len);
		}
		held_pop(c);
		released++;
	}
	if (released) {
		c->resume = true;
		conn_set_events(srv, c);
	}
}

void pgd_server_graph_durable(struct pgd_server *srv, struct pgd_graph *g, bool force)
{
	for (unsigned k = 0; k < srv->nconns; k++) {
		struct conn *c = srv->conns[k];

		if (!c->nheld)
			continue;
		for (unsigned i = 0; force && i < c->nheld; i++) {
			struct held *h = &c->held[(c->held_head + i) % HELD_MAX];

			/* durable: its store closed, and g may be freed next */
			if (h->g == g)
				h->g = NULL;
		}
		held_release(srv, c, force ? NULL : g);
	}
}

void pgd_conn_reply(struct pgd_server *srv, struct conn *c, const uint8_t *reply, size_t len)
{
	if (c->nheld)
		held_push(srv, c, NULL, 0, reply, len);
	else
		pgd_conn_queue(srv, c, reply, len);
}

void pgd_conn_park(struct pgd_server *srv, struct conn *c, struct pgd_graph *g, uint64_t ticket,
		   const uint8_t *reply, size_t len)
{
	if (!c->nheld && ticket <= pg_store_durable_seq(g->store))
		pgd_conn_queue(srv, c, reply, len);
	else
		held_push(srv, c, g, ticket, reply, len);
}

static void graph_ready(struct pgd_server *srv, struct pgd_graph *g)
{
	uint64_t count;

	if (read(g->notify_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		pgd_log(PGD_LOG_WARN, "graph \"%s\": notify fd: %s", g->id, strerror(errno));
	pgd_server_graph_durable(srv, g, false);
	events_fan_out(srv, g);
}

/* ---- connections ----------------------------------------------------------------------------- */

/* Closes a connection at once; its memory goes after the current batch of epoll events, which
 * may still name it (reaped by conns_reap). */
static void conn_free(struct pgd_server *srv, struct conn *c)
{
	if (c->dead)
		return;
	while (c->nsubs)
		pgd_server_unsubscribe(srv, c, c->subs[0].g);
	epoll_ctl(srv->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->in);
	free(c->out);
	c->in = c->out = NULL;
	while (c->nheld)
		held_pop(c);
	for (unsigned k = 0; k < srv->nconns; k++) {
		if (srv->conns[k] == c) {
			srv->conns[k] = srv->conns[--srv->nconns];
			break;
		}
	}
	c->dead = true;
	c->next_dead = srv->dead;
	srv->dead = c;
}

static void conns_reap(struct pgd_server *srv)
{
	while (srv->dead) {
		struct conn *c = srv->dead;

		srv->dead = c->next_dead;
		free(c);
	}
}

static bool in_group(uid_t uid, gid_t primary, gid_t group)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	gid_t groups[256];
	int n = 256;

	if (primary == group)
		return true;
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) != 0 || !res)
		return false;
	if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &n) < 0)
		return false;
	for (int i = 0; i < n; i++)
		if (groups[i] == group)
			return true;
	return false;
}

static bool admitted(struct pgd_server *srv, const struct ucred *cr)
{
	if (cr->uid == geteuid() || cr->uid == 0)
		return true;
	return srv->cfg.group != (gid_t)-1 && in_group(cr->uid, cr->gid, srv->cfg.group);
}

static void accept_clients(struct pgd_server *srv)
{
	for (;;) {
		int fd = accept4(srv->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct ucred cr;
		socklen_t crlen = sizeof(cr);
		struct conn *c;

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				pgd_log(PGD_LOG_WARN, "accept: %s", strerror(errno));
			return;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) != 0) {
			close(fd);
			continue;
		}
		if (srv->nconns == srv->cfg.max_clients) {
			pgd_log(PGD_LOG_WARN, "refused pid %d: at max_clients (%u)", (int)cr.pid,
				srv->cfg.max_clients);
			close(fd);
			continue;
		}
		if (!(c = calloc(1, sizeof(*c)))) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->uid = cr.uid;
		c->pid = cr.pid;
		/* a refused peer is answered -EACCES to its first frame, then closed: closing at
		 * once would make its HELLO fail with EPIPE instead of saying why */
		if ((c->refused = !admitted(srv, &cr)))
			pgd_log(PGD_LOG_WARN,
				"refused a client: uid %u (pid %d) is not the daemon's user, root, "
				"or in its group",
				(unsigned)cr.uid, (int)cr.pid);
		c->watch.kind = WATCH_CONN;
		c->watch.obj = c;
		c->epoll_events = EPOLLIN;
		if (watch_add(srv, fd, &c->watch, EPOLLIN)) {
			close(fd);
			free(c);
			continue;
		}
		srv->conns[srv->nconns++] = c;
		pgd_log(PGD_LOG_DEBUG, "client pid %d uid %u connected", (int)cr.pid,
			(unsigned)cr.uid);
	}
}

/* Handles every whole frame in the input buffer (stopping when the connection is at a bound:
 * held replies, or its output). Returns false when the connection must close. */
static bool frames_handle(struct pgd_server *srv, struct conn *c)
{
	size_t off = 0;

	while (!c->closing && !conn_held(srv, c)) {
		struct pg_api_hdr h;
		int err;

		if (c->in_len - off < PG_API_HDR_LEN)
			break;
		if ((err = pg_api_hdr_decode(c->in + off, &h))) {
			/* the stream cannot be framed any more: say why, then close */
			snprintf(srv->msg, sizeof(srv->msg), "%s", pg_strerror(err));
			reply_error(srv, c, h.type, h.id, err);
			c->closing = true;
			break;
		}
		if (c->refused) {
			/* answered from its header alone: a peer not admitted never makes the
			 * daemon allocate room for the body it announces */
			pgd_frame_dispatch(srv, c, &h, NULL, 0);
			break;
		}
		if (c->in_len - off < (size_t)h.len + 4) {
			if (c->in_cap < (size_t)h.len + 4) {
				uint8_t *b = realloc(c->in, (size_t)h.len + 4);

				if (!b)
					return false;
				c->in = b;
				c->in_cap = (size_t)h.len + 4;
			}
			break;
		}
		pgd_frame_dispatch(srv, c, &h, c->in + off + PG_API_HDR_LEN,
				   (size_t)h.len + 4 - PG_API_HDR_LEN);
		off += (size_t)h.len + 4;
	}
	if (off) {
		memmove(c->in, c->in + off, c->in_len - off);
		c->in_len -= off;
	}
	return true;
}

static void conn_readable(struct pgd_server *srv, struct conn *c)
{
	/* frames read while it was at a bound come first */
	if (c->in_len && !frames_handle(srv, c))
		goto close_it;
	for (;;) {
		ssize_t n;

		if (!c->in) {
			if (!(c->in = malloc(IN_INITIAL)))
				goto close_it;
			c->in_cap = IN_INITIAL;
		}
		if (c->in_len == c->in_cap) {
			if (!frames_handle(srv, c))
				goto close_it;
			if (c->in_len == c->in_cap || conn_held(srv, c) || c->closing)
				break; /* at a bound, or a frame to grow for */
		}
		n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, MSG_DONTWAIT);
		if (n == 0)
			goto close_it; /* mid-frame or not: its buffers go with it */
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			goto close_it;
		}
		c->in_len += (size_t)n;
		if (!frames_handle(srv, c))
			goto close_it;
		if (conn_held(srv, c) || c->closing)
			break;
	}
	conn_set_events(srv, c);
	if (conn_done(c))
		conn_free(srv, c);
	return;

close_it:
	conn_free(srv, c);
}

static void conn_writable(struct pgd_server *srv, struct conn *c)
{
	if (out_flush(c)) {
		conn_free(srv, c);
		return;
	}
	for (unsigned i = 0; i < c->nsubs; i++)
		lost_offer(srv, c, &c->subs[i]);
	if (conn_done(c)) {
		conn_free(srv, c);
		return;
	}
	conn_set_events(srv, c);
	if (!conn_held(srv, c) && c->in_len)
		conn_readable(srv, c); /* frames read before the output filled up */
}

/* Goes on with the connections whose held replies went out: frames they hold, more input, or
 * closing. After a batch of events, so never inside a handler. */
static void conns_resume(struct pgd_server *srv)
{
	for (unsigned k = 0; k < srv->nconns;) {
		struct conn *c = srv->conns[k];

		if (!c->resume) {
			k++;
			continue;
		}
		c->resume = false;
		conn_readable(srv, c);
		if (!c->dead)
			k++; /* else conn_free moved the last connection into slot k */
	}
}

static void conn_event(struct pgd_server *srv, struct conn *c, uint32_t events)
{
	if (c->dead)
		return; /* closed earlier in this batch */
	if (events & EPOLLOUT)
		conn_writable(srv, c);
	if (c->dead)
		return;
	/* a hang-up with EPOLLIN off (at a bound) must still be seen: the read finds the end of
	 * the stream and closes */
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		conn_readable(srv, c);
}

/* ---- set-up and the loop ----------------------------------------------------------------------
 */

static int listen_on(struct pgd_server *srv, char *msg, size_t msglen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = srv->cfg.socket_path;
	int fd, probe;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(msg, msglen, "socket path longer than %zu bytes: %s",
			 sizeof(sa.sun_path) - 1, path);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	/* a live daemon answers on the path; a stale file from a crash does not */
	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		close(probe);
		snprintf(msg, msglen, "another peergraphd serves %s", path);
		return -EADDRINUSE;
	}
	if (probe >= 0)
		close(probe);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto err;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || chmod(path, 0660) != 0 ||
	    (srv->cfg.group != (gid_t)-1 && chown(path, (uid_t)-1, srv->cfg.group) != 0) ||
	    listen(fd, 128) != 0) {
		int e = errno;

		close(fd);
		unlink(path);
		errno = e;
		goto err;
	}
	srv->lfd = fd;
	return 0;

err:
	snprintf(msg, msglen, "socket %s: %s", path, strerror(errno));
	return -errno;
}

int pgd_server_create(const struct pgd_server_config *cfg, struct pgd_graphs *gs,
		      struct pg_identity_store *ids, int signal_fd, pgd_signal_fn on_signal,
		      void *ctx, struct pgd_server **out, char *msg, size_t msglen)
{
	struct pgd_server *srv = calloc(1, sizeof(*srv));
	int err;

	*out = NULL;
	if (!srv)
		return -ENOMEM;
	srv->cfg = *cfg;
	srv->gs = gs;
	srv->ids = ids;
	srv->on_signal = on_signal;
	srv->ctx = ctx;
	srv->lfd = srv->epfd = -1;
	pg_api_writer_init(&srv->w, PG_API_FRAME_MAX);
	pg_api_writer_init(&srv->ev, PG_API_FRAME_MAX);
	srv->conns = calloc(cfg->max_clients, sizeof(*srv->conns));
	srv->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!srv->conns || srv->epfd < 0) {
		err = srv->conns ? -errno : -ENOMEM;
		snprintf(msg, msglen, "epoll: %s", strerror(-err));
		goto err_destroy;
	}
	if ((err = listen_on(srv, msg, msglen)))
		goto err_destroy;
	srv->listen_watch.kind = WATCH_LISTEN;
	srv->signal_watch.kind = WATCH_SIGNAL;
	srv->node_watch.kind = WATCH_NODE;
	if ((err = watch_add(srv, srv->lfd, &srv->listen_watch, EPOLLIN)) ||
	    (err = watch_add(srv, signal_fd, &srv->signal_watch, EPOLLIN)) ||
	    (err = watch_add(srv, dp_node_event_fd(gs->node), &srv->node_watch, EPOLLIN))) {
		snprintf(msg, msglen, "epoll_ctl: %s", strerror(-err));
		goto err_destroy;
	}
	for (unsigned i = 0; i < gs->n; i++) {
		if (gs->g[i]->open && (err = pgd_server_watch_graph(srv, gs->g[i]))) {
			snprintf(msg, msglen, "watch graph %s: %s", gs->g[i]->id, strerror(-err));
			goto err_destroy;
		}
	}
	*out = srv;
	return 0;

err_destroy:
	pgd_server_destroy(srv);
	return err;
}

int pgd_server_run(struct pgd_server *srv)
{
	struct epoll_event ev[EPOLL_BATCH];

	for (;;) {
		int n = epoll_wait(srv->epfd, ev, EPOLL_BATCH, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n; i++) {
			struct watch *w = ev[i].data.ptr;

			switch (w->kind) {
			case WATCH_LISTEN:
				accept_clients(srv);
				break;
			case WATCH_SIGNAL:
				if (!srv->on_signal(srv->ctx))
					return 0;
				break;
			case WATCH_GRAPH:
				if (w->obj)
					graph_ready(srv, w->obj);
				break;
			case WATCH_CONN:
				conn_event(srv, w->obj, ev[i].events);
				break;
			case WATCH_NODE:
				pgd_server_node_events(srv);
				break;
			}
		}
		conns_resume(srv);
		conns_reap(srv);
	}
}

void pgd_server_stop_accepting(struct pgd_server *srv)
{
	if (srv->lfd < 0)
		return;
	epoll_ctl(srv->epfd, EPOLL_CTL_DEL, srv->lfd, NULL);
	close(srv->lfd);
	srv->lfd = -1;
	unlink(srv->cfg.socket_path);
}

void pgd_server_reconfigure(struct pgd_server *srv, uint64_t client_queue_bytes,
			    uint32_t event_queue)
{
	srv->cfg.client_queue_bytes = client_queue_bytes;
	srv->cfg.event_queue = event_queue;
}

void pgd_server_destroy(struct pgd_server *srv)
{
	uint64_t deadline;

	if (!srv)
		return;
	pgd_server_stop_accepting(srv);
	/* bounded: a client that stopped reading does not hold the shutdown */
	deadline = pg_mono_ns() + (uint64_t)STOP_FLUSH_MS * 1000000u;
	for (unsigned k = 0; k < srv->nconns; k++) {
		struct conn *c = srv->conns[k];

		while (c->out_off < c->out_len && pg_mono_ns() < deadline) {
			struct pollfd p = { .fd = c->fd, .events = POLLOUT };

			if (poll(&p, 1, 50) < 0 || out_flush(c))
				break;
		}
	}
	while (srv->nconns)
		conn_free(srv, srv->conns[0]);
	conns_reap(srv);
	free(srv->conns);
	if (srv->epfd >= 0)
		close(srv->epfd);
	pg_api_writer_free(&srv->w);
	pg_api_writer_free(&srv->ev);
	free(srv);
}
