/*
 * client.c - libpeergraph's connection to peergraphd and its request / reply core
 * (peergraph.h; the protocol is controlplane/api/proto.h and doc/api.md).
 *
 * A call writes one request frame, sends it whole, and reads frames until the reply that
 * echoes its id; event frames the daemon sends in between (once subscribed) are queued for
 * peergraph_event_next. A batch of records pipelines: it sends up to PGC_WINDOW_MAX frames
 * before reading the oldest one's reply (the window: the daemon answers in request order).
 * Every frame is checked against the one schema table (frame.c) before anything reads it,
 * the requests we send included, so a bad argument (a graph id too long, a string that is not
 * UTF-8) fails here with PG_E_API_FIELD instead of on the daemon's side.
 *
 * WHAT CLOSES A CONNECTION
 *
 * A failed reply is the daemon's answer to one call: its status is returned and the
 * connection stays usable. Anything else that goes wrong on the stream -- the daemon closing
 * it, a short write, a frame of another version or an impossible length, a reply to another
 * request, a body that does not match its schema, a record that does not decode -- leaves
 * the stream in an unknown place, so the connection closes: that call returns the error, and
 * every later call -ENOTCONN, except peergraph_event_next, which first hands out the events
 * already queued. Nothing the daemon sends makes the library abort.
 *
 * The frame reader never blocks in recv: it keeps a partial frame across calls and waits in
 * poll, so peergraph_event_next honours its timeout even when a frame arrives in pieces, and
 * a program may poll peergraph_fd() and call peergraph_event_next(..., 0) without stalling.
 * A request is written whole before the call returns or waits, but never by blocking in
 * send: while the socket is full the library reads, queuing events and taking the replies
 * of earlier requests in the window. peergraphd stops reading a client whose output queue is
 * past its bound (events and replies it has not read); a client blocked in send would then
 * wait for a daemon waiting for it.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "client_priv.h"
#include "peername.h"
#include "pg_assert.h"
#include "pg_error.h"
#include "pg_time.h"

/* The public constants are the protocol's and the codec's; these pairs must never drift. */
_Static_assert(SAME(PEERGRAPH_PEER_NAME_SIZE, PG_PEERNAME_SIZE), "peer name buffer");
_Static_assert(SAME(PEERGRAPH_FRIENDLY_NAME_SIZE, PG_FRIENDLY_NAME_SIZE), "friendly name buffer");
_Static_assert(SAME(PEERGRAPH_ID_MAX, PG_ID_MAX), "creator id bound");
_Static_assert(SAME(PEERGRAPH_ATTRS_MAX, PG_ATTRS_MAX), "attribute count bound");
_Static_assert(SAME(PEERGRAPH_ATTR_NAME_MAX, PG_ATTR_NAME_MAX), "attribute name bound");
_Static_assert(SAME(PEERGRAPH_GRAPH_OPEN, PG_API_GS_OPEN) &&
		   SAME(PEERGRAPH_GRAPH_SECURED, PG_API_GS_SECURED) &&
		   SAME(PEERGRAPH_GRAPH_LISTENING, PG_API_GS_LISTENING),
	       "graph status bits travel as they are");
_Static_assert(SAME(PEERGRAPH_EVENT_ADDED, PG_API_EV_ADDED) &&
		   SAME(PEERGRAPH_EVENT_LOST, PG_API_EV_LOST) &&
		   SAME(PEERGRAPH_EVENT_GRAPH_STATUS, PG_API_EV_GRAPH_STATUS) &&
		   SAME(PEERGRAPH_EVENT_NEIGHBOUR_UP, PG_API_EV_NEIGHBOUR_UP) &&
		   SAME(PEERGRAPH_EVENT_NEIGHBOUR_DOWN, PG_API_EV_NEIGHBOUR_DOWN) &&
		   SAME(PEERGRAPH_EVENT_CONNECT_FAILED, PG_API_EV_CONNECT_FAILED),
	       "event kinds travel as they are");
_Static_assert(SAME(PEERGRAPH_GRAPH_CONNECTED, PG_API_GS_CONNECTED), "the has-links bit");
_Static_assert(SAME(PEERGRAPH_ADDRESS_SIZE, PG_API_ADDRESS_MAX + 1) &&
		   SAME(PEERGRAPH_NODE_ID_SIZE, PG_API_NODE_MAX + 1),
	       "address and node id buffers");
_Static_assert(SAME(PEERGRAPH_REASON_TIMEOUT, PG_API_REASON_TIMEOUT) &&
		   SAME(PEERGRAPH_REASON_SELF, PG_API_REASON_SELF),
	       "link reasons travel as they are");
_Static_assert(SAME(PEERGRAPH_E_BUSY, PG_E_BUSY), "the busy code is the daemon's");

enum {
	RX_MIN = 4096, /* the reply buffer's first size */
};

const struct pg_record_limits pgc_limits = { PG_RECORD_SIZE_MAX };

/* clang-format off */
static const char *const tag_names[PG_API_TAGS] = {
	[PG_API_T_VERSION_STR] = "VERSION_STR", [PG_API_T_UID] = "UID",
	[PG_API_T_IDENTITY] = "IDENTITY", [PG_API_T_CLASSIFIER] = "CLASSIFIER",
	[PG_API_T_FRIENDLY_NAME] = "FRIENDLY_NAME", [PG_API_T_PASSWORD] = "PASSWORD",
	[PG_API_T_DATA] = "DATA", [PG_API_T_FLAGS] = "FLAGS", [PG_API_T_GRAPH] = "GRAPH",
	[PG_API_T_PATH] = "PATH", [PG_API_T_STATUS] = "STATUS", [PG_API_T_COUNT] = "COUNT",
	[PG_API_T_RECORD] = "RECORD", [PG_API_T_RECORD_ID] = "RECORD_ID", [PG_API_T_TYPE] = "TYPE",
	[PG_API_T_CREATOR] = "CREATOR", [PG_API_T_QUERY] = "QUERY", [PG_API_T_CURSOR] = "CURSOR",
	[PG_API_T_RESULT] = "RESULT", [PG_API_T_EVENT_KIND] = "EVENT_KIND",
	[PG_API_T_EVENT_MASK] = "EVENT_MASK", [PG_API_T_LOST] = "LOST", [PG_API_T_ITEM] = "ITEM",
	[PG_API_T_MAX_RECORD_SIZE] = "MAX_RECORD_SIZE", [PG_API_T_MESSAGE] = "MESSAGE",
	[PG_API_T_SEQ] = "SEQ", [PG_API_T_ADDRESS] = "ADDRESS", [PG_API_T_NODE] = "NODE",
	[PG_API_T_REASON] = "REASON", [PG_API_T_RECORDS_RX] = "RECORDS_RX",
	[PG_API_T_RECORDS_TX] = "RECORDS_TX", [PG_API_T_RETRANSMITS] = "RETRANSMITS",
	[PG_API_T_SRTT_US] = "SRTT_US", [PG_API_T_LINKS] = "LINKS",
};
/* clang-format on */

const char *pgc_tag_name(uint16_t tag)
{
	if (tag < PG_API_TAGS && tag_names[tag])
		return tag_names[tag];
	return tag ? "(an unknown tag)" : "(a field header)";
}

int pgc_fail(struct peergraph *pg, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(pg->message, sizeof(pg->message), fmt, ap);
	va_end(ap);
	if (pg->fd >= 0)
		close(pg->fd);
	pg->fd = -1;
	pg->got = 0;
	pg->win.count = 0; /* those replies will never come */
	return err;
}

int pgc_usable(struct peergraph *pg)
{
	if (pg->in_callback)
		return -EDEADLK; /* the reply being walked would be overwritten */
	pg->message[0] = '\0';
	return pg->fd < 0 ? -ENOTCONN : 0;
}

/* ---- the frame reader ----------------------------------------------------------------- */

static size_t rx_body_len(const struct peergraph *pg)
{
	return pg->rx_hdr.len - (PG_API_HDR_LEN - 4);
}

/* Takes a whole header: decodes it and makes room for the body. 0 or an error. */
static int header_take(struct peergraph *pg)
{
	size_t body;
	uint8_t *rx;
	int err;

	err = pg_api_hdr_decode(pg->hdr, &pg->rx_hdr);
	if (err == PG_E_API_VERSION)
		return pgc_fail(pg, err, "the daemon speaks protocol version %u, this library %u",
				pg->rx_hdr.version, PG_API_VERSION);
	if (err)
		return pgc_fail(pg, err, "the daemon sent a frame of length %u", pg->rx_hdr.len);
	body = rx_body_len(pg);
	if (body > pg->rx_cap) {
		rx = realloc(pg->rx, body);
		if (!rx)
			return pgc_fail(pg, -ENOMEM, "no memory for a frame of %zu bytes", body);
		pg->rx = rx;
		pg->rx_cap = body;
	}
	return 0;
}

/* Reads what has arrived of the current frame without blocking: 1 when it is whole, 0 when
 * more is to come, or an error. */
static int rx_fill(struct peergraph *pg)
{
	for (;;) {
		size_t have, want;
		uint8_t *dst;
		ssize_t n;
		int err;

		if (pg->got < PG_API_HDR_LEN) {
			dst = pg->hdr + pg->got;
			want = PG_API_HDR_LEN - pg->got;
		} else if ((have = pg->got - PG_API_HDR_LEN) < rx_body_len(pg)) {
			dst = pg->rx + have;
			want = rx_body_len(pg) - have;
		} else {
			return 1;
		}
		n = recv(pg->fd, dst, want, MSG_DONTWAIT);
		if (n == 0)
			return pgc_fail(pg, -ECONNRESET, "the daemon closed the connection");
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0) {
			err = -errno;
			return pgc_fail(pg, err, "reading from the daemon: %s", strerror(-err));
		}
		pg->got += (size_t)n;
		if (pg->got == PG_API_HDR_LEN && (err = header_take(pg)))
			return err;
	}
}

/* Waits up to timeout_ms (-1: for ever) for the current frame to be whole. 1 when it is
 * (pg->got is reset: the body stays in pg->rx until the next frame), 0 on timeout, or an
 * error. */
static int rx_frame(struct peergraph *pg, int timeout_ms)
{
	uint64_t deadline = pg_mono_ns() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000;
	struct pollfd p = { .fd = pg->fd, .events = POLLIN };
	int r, wait = timeout_ms < 0 ? -1 : 0;

	for (;;) {
		r = rx_fill(pg);
		if (r == 1)
			pg->got = 0;
		if (r != 0)
			return r;
		if (timeout_ms >= 0) {
			uint64_t now = pg_mono_ns();

			if (now >= deadline)
				return 0;
			wait = (int)((deadline - now + 999999) / 1000000);
		}
		if (poll(&p, 1, wait) < 0 && errno != EINTR) {
			r = -errno;
			return pgc_fail(pg, r, "waiting for the daemon: %s", strerror(-r));
		}
	}
}

/* Checks and queues the event frame just read. 0 or an error. */
static int event_take(struct peergraph *pg)
{
	uint16_t bad;
	int err;

	err = pg_api_body_check(PG_API_EVENT, pg->rx_hdr.status, pg->rx, rx_body_len(pg),
				&pgc_limits, &bad);
	if (err || pg->rx_hdr.id != 0)
		return pgc_fail(pg, err ? err : PG_E_API_FRAME,
				"malformed event from the daemon: field %s", pgc_tag_name(bad));
	pgc_event_push(pg, pg->rx, rx_body_len(pg));
	return 0;
}

int pgc_read_event(struct peergraph *pg, int timeout_ms)
{
	int r = rx_frame(pg, timeout_ms);

	if (r <= 0)
		return r;
	if (pg->rx_hdr.type != PG_API_EVENT)
		return pgc_fail(pg, PG_E_API_FRAME,
				"the daemon sent a frame of type %#x with no request waiting",
				pg->rx_hdr.type);
	r = event_take(pg);
	return r ? r : 1;
}

/* Checks the reply just read against the request it must answer. 0, the reply's status, or
 * an error. */
static int reply_take(struct peergraph *pg, uint16_t type, uint32_t id)
{
	const struct pg_api_hdr *h = &pg->rx_hdr;
	struct pg_api_field f;
	uint16_t bad;
	int err;

	if (h->type != (type | PG_API_REPLY) || h->id != id || h->status > 0)
		return pgc_fail(pg, PG_E_API_FRAME,
				"request %u (type %u) answered by type %#x, id %u, status %d", id,
				type, h->type, h->id, h->status);
	err = pg_api_body_check(h->type, h->status, pg->rx, rx_body_len(pg), &pgc_limits, &bad);
	if (err)
		return pgc_fail(pg, err, "malformed reply from the daemon: field %s",
				pgc_tag_name(bad));
	if (h->status == 0)
		return 0;
	/* the first failure of a call is the one to explain (a window may hold more) */
	if (!pg->message[0] && pg_api_find(pg->rx, rx_body_len(pg), PG_API_T_MESSAGE, &f))
		pg_api_str(&f, pg->message, sizeof(pg->message));
	return h->status;
}

/* Takes the whole frame just read: an event is queued (0); a reply must answer the oldest
 * request of the window, which it leaves (1, with the reply's status in *status). Or an
 * error (the connection then closed). */
static int frame_take(struct peergraph *pg, int *status)
{
	struct pgc_window *w = &pg->win;
	int r;

	if (pg->rx_hdr.type == PG_API_EVENT)
		return event_take(pg);
	if (!w->count)
		return pgc_fail(pg, PG_E_API_FRAME,
				"the daemon sent a frame of type %#x with no request waiting",
				pg->rx_hdr.type);
	r = reply_take(pg, w->type[w->head], w->id[w->head]);
	if (pg->fd < 0)
		return r; /* not an answer: the stream broke */
	w->head = (w->head + 1) % PGC_WINDOW_MAX;
	w->count--;
	*status = r;
	return 1;
}

/* Hands a reply taken by frame_take on. */
static int reply_done(struct peergraph *pg, int status)
{
	return pg->win.on_reply ? pg->win.on_reply(pg, pg->win.ctx, status) : status;
}

/* ---- the request / reply core --------------------------------------------------------- */

int pgc_begin(struct peergraph *pg, uint16_t type)
{
	int err = pgc_usable(pg);

	if (err)
		return err;
	if (++pg->next_id == 0)
		pg->next_id = 1; /* 0 is the id of events */
	pg->req_type = type;
	pg_api_begin(&pg->w, type, pg->next_id, 0);
	return 0;
}

/* Reads what has arrived while a send waits for room: whole frames are taken (events
 * queued, replies handed on). 0 or an error (the connection then closed). */
static int rx_while_sending(struct peergraph *pg)
{
	int r, status;

	for (;;) {
		if ((r = rx_fill(pg)) <= 0)
			return r;
		pg->got = 0;
		if ((r = frame_take(pg, &status)) < 0)
			return r;
		if (r == 1 && (r = reply_done(pg, status)) < 0 && pg->fd < 0)
			return r;
		/* a failed reply's status is on_reply's to keep: the stream is fine */
	}
}

/* Sends len bytes whole, reading whenever the socket is full (see the top of this file). 0
 * or an error (the connection then closed: a frame may be cut). */
static int send_all(struct peergraph *pg, const uint8_t *p, size_t len)
{
	struct pollfd pfd = { .fd = pg->fd, .events = POLLIN | POLLOUT };
	int err;

	while (len) {
		ssize_t n = send(pg->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			err = errno == EPIPE ? -ECONNRESET : -errno;
			return pgc_fail(pg, err, "writing to the daemon: %s", strerror(-err));
		}
		if (poll(&pfd, 1, -1) < 0 && errno != EINTR) {
			err = -errno;
			return pgc_fail(pg, err, "waiting for the daemon: %s", strerror(-err));
		}
		if ((pfd.revents & (POLLIN | POLLHUP | POLLERR)) && (err = rx_while_sending(pg)))
			return err;
	}
	return 0;
}

void pgc_window_open(struct peergraph *pg, pgc_reply_fn on_reply, void *ctx)
{
	PG_ASSERT(!pg->win.count);
	pg->win.on_reply = on_reply;
	pg->win.ctx = ctx;
}

void pgc_window_close(struct peergraph *pg)
{
	PG_ASSERT(!pg->win.count);
	pg->win.on_reply = NULL;
	pg->win.ctx = NULL;
}

int pgc_send(struct peergraph *pg)
{
	struct pgc_window *w = &pg->win;
	long len = pg_api_end(&pg->w);
	uint16_t bad;
	int err;

	PG_ASSERT(w->count < PGC_WINDOW_MAX);
	if (len < 0)
		return (int)len; /* nothing was sent: the connection is fine */
	err = pg_api_body_check(pg->req_type, 0, pg->w.buf + PG_API_HDR_LEN,
				(size_t)len - PG_API_HDR_LEN, &pgc_limits, &bad);
	if (err) {
		snprintf(pg->message, sizeof(pg->message),
			 "request field %s is too long, not UTF-8, repeated or missing",
			 pgc_tag_name(bad));
		return err;
	}
	if ((err = send_all(pg, pg->w.buf, (size_t)len)))
		return err;
	/* its reply cannot have been read yet: the window takes it in order, after the others */
	w->id[(w->head + w->count) % PGC_WINDOW_MAX] = pg->next_id;
	w->type[(w->head + w->count) % PGC_WINDOW_MAX] = pg->req_type;
	w->count++;
	return 0;
}

int pgc_wait(struct peergraph *pg)
{
	int r, status;

	PG_ASSERT(pg->win.count);
	for (;;) {
		if ((r = rx_frame(pg, -1)) < 0)
			return r;
		if ((r = frame_take(pg, &status)) < 0)
			return r;
		if (r == 1)
			return reply_done(pg, status);
	}
}

int pgc_call(struct peergraph *pg)
{
	int err;

	PG_ASSERT(!pg->win.count && !pg->win.on_reply);
	if ((err = pgc_send(pg)))
		return err;
	return pgc_wait(pg);
}

int pgc_call_str(struct peergraph *pg, uint16_t type, uint16_t tag, const char *s)
{
	int err;

	if (!s)
		return -EINVAL;
	if ((err = pgc_begin(pg, type)))
		return err;
	pg_api_put_str(&pg->w, tag, s);
	return pgc_call(pg);
}

long pgc_call_list(struct peergraph *pg, uint16_t type, size_t max,
		   void (*fill)(const struct pg_api_field *item, void *out, size_t i), void *out)
{
	struct pg_api_field f;
	struct pg_api_iter it;
	const uint8_t *body;
	size_t len, n = 0;
	int err;

	if (max && !out)
		return -EINVAL;
	if ((err = pgc_begin(pg, type)) || (err = pgc_call(pg)))
		return err;
	body = pgc_body(pg, &len);
	pg_api_iter_init(&it, body, len);
	for (; pg_api_iter_next(&it, &f); n++) /* ITEMs only, by the schema */
		if (n < max)
			fill(&f, out, n);
	return (long)n;
}

/* ---- connections ---------------------------------------------------------------------- */

int peergraph_connect(const char *socket_path, struct peergraph **out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = socket_path;
	struct peergraph *pg;
	int err;

	*out = NULL;
	/* secure_getenv: a set-uid program must not be pointed at another socket */
	if (!path || !*path)
		path = secure_getenv(PEERGRAPH_SOCKET_ENV);
	if (!path || !*path)
		path = PEERGRAPH_SOCKET_DEFAULT;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);

	pg = calloc(1, sizeof(*pg));
	if (!pg)
		return -ENOMEM;
	pg->fd = -1;
	pg_api_writer_init(&pg->w, PG_API_FRAME_MAX);
	pg->rx = malloc(RX_MIN);
	if (!pg->rx) {
		err = -ENOMEM;
		goto err_free_connection;
	}
	pg->rx_cap = RX_MIN;
	pg->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (pg->fd < 0) {
		err = -errno;
		goto err_free_connection;
	}
	if (connect(pg->fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		goto err_free_connection;
	}
	if ((err = peergraph_hello(pg, NULL, 0, NULL)))
		goto err_free_connection;
	*out = pg;
	return 0;

err_free_connection:
	peergraph_close(pg);
	return err;
}

void peergraph_close(struct peergraph *pg)
{
	if (!pg)
		return;
	if (pg->fd >= 0)
		close(pg->fd);
	pgc_event_queue_free(pg);
	pg_api_writer_free(&pg->w);
	free(pg->rx);
	free(pg->scratch);
	free(pg->event_body);
	free(pg);
}

int peergraph_hello(struct peergraph *pg, char *version, size_t cap, uint32_t *uid)
{
	struct pg_api_field f;
	const uint8_t *body;
	size_t len;
	int err;

	if ((err = pgc_begin(pg, PG_API_HELLO)) || (err = pgc_call(pg)))
		return err;
	body = pgc_body(pg, &len);
	/* both fields are required by the reply's schema */
	if (uid && pg_api_find(body, len, PG_API_T_UID, &f))
		*uid = pg_api_u32(&f);
	if (version && pg_api_find(body, len, PG_API_T_VERSION_STR, &f) &&
	    !pg_api_str(&f, version, cap))
		return -ERANGE;
	return 0;
}

int peergraph_fd(const struct peergraph *pg)
{
	return pg->fd;
}

const char *peergraph_last_message(const struct peergraph *pg)
{
	return pg->message;
}

/* ---- messages ------------------------------------------------------------------------- */

#define NO_DAEMON                                                                                  \
	"the daemon is not running: start it with `peergraphd` (or `systemctl start "              \
	"peergraphd`), or point PEERGRAPH_SOCKET at its socket"

static const struct {
	int err;
	const char *text;
} hints[] = {
	{ -ENOENT, "no such file or directory; when connecting: " NO_DAEMON },
	{ -ECONNREFUSED, "connection refused: " NO_DAEMON },
	{ -EACCES, "permission denied: not allowed: the daemon admits its own user, root and its "
		   "configured group" },
	{ -ECONNRESET, "connection reset: the daemon went away (stopped or restarted); connect "
		       "again" },
	{ -ENOTCONN, "not connected: this connection closed after an earlier error (see "
		     "peergraph_last_message); connect again" },
	{ -EDEADLK, "a record callback called its own connection: finish the enumeration first, "
		    "or use another connection" },
	{ -EBUSY, "the daemon is busy: retry later" },
	{ PG_E_BUSY,
	  "busy: the node's flood queues are full (a neighbour is slower than this "
	  "publisher): nothing was stored; retry after a pause, or publish more slowly" },
	{ -EISCONN, "already connected: the graph has a link to that address" },
	{ -EADDRNOTAVAIL, "the host does not resolve to an IPv4 or IPv6 address" },
};

const char *peergraph_strerror(int err)
{
	for (size_t i = 0; i < sizeof(hints) / sizeof(hints[0]); i++)
		if (hints[i].err == err)
			return hints[i].text;
	return pg_strerror(err);
}
