/*
 * client_fake.h - a fake peergraphd for test_client.c: a thread that listens on a Unix socket
 * in a scratch directory, accepts libpeergraph's one connection and runs a script against it,
 * reading each request with frame.h (checked against the request schema) and answering
 * canned replies, events and deliberately broken frames.
 *
 * A script checks what the client sent with FAKE_CHECK; Criterion's asserts belong to the
 * test's main thread, so a failed check is recorded (and printed at once), the script stops
 * and closes the connection, and fake_stop() fails the test after joining the thread.
 */
#ifndef PG_CLIENT_FAKE_H
#define PG_CLIENT_FAKE_H

#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include "api/frame.h"
#include "pg_bytes.h"
#include "pg_error.h"
#include "pg_time.h"

struct fake {
	char dir[64];
	char path[108];
	int lfd, fd;
	pthread_t thread;
	void (*script)(struct fake *f);
	void *arg; /* the test's, for its script */
	char failure[512];
	struct pg_record_limits lim;
	/* the request just read */
	struct pg_api_hdr h;
	uint8_t *body;
	size_t len;
	struct pg_api_writer w; /* the reply being written */
};

#define FAKE_CHECK(f, cond)                                                                        \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fake_failed(f, __LINE__, #cond);                                           \
			return;                                                                    \
		}                                                                                  \
	} while (0)

static inline void fake_failed(struct fake *f, int line, const char *what)
{
	if (!f->failure[0])
		snprintf(f->failure, sizeof(f->failure), "fake daemon, line %d: %s", line, what);
	fprintf(stderr, "%s\n", f->failure);
}

static inline bool fake_io(int fd, void *buf, size_t len, bool out)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = out ? send(fd, p, len, MSG_NOSIGNAL) : recv(fd, p, len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* Reads one request; true when it is a well-formed request of this type. */
static inline bool fake_read(struct fake *f, uint16_t type)
{
	uint8_t hdr[PG_API_HDR_LEN];

	if (!fake_io(f->fd, hdr, sizeof(hdr), false) || pg_api_hdr_decode(hdr, &f->h))
		return false;
	free(f->body);
	f->len = f->h.len - (PG_API_HDR_LEN - 4);
	f->body = malloc(f->len ? f->len : 1);
	if (!f->body || !fake_io(f->fd, f->body, f->len, false))
		return false;
	return f->h.type == type && f->h.status == 0 && f->h.id != 0 &&
	       pg_api_body_check(type, 0, f->body, f->len, &f->lim, NULL) == 0;
}

/* The request's first field with this tag (true when found). */
static inline bool fake_field(struct fake *f, uint16_t tag, struct pg_api_field *out)
{
	return pg_api_find(f->body, f->len, tag, out);
}

/* True when the request's string field tag is s. */
static inline bool fake_str_is(struct fake *f, uint16_t tag, const char *s)
{
	struct pg_api_field v;

	return fake_field(f, tag, &v) && v.len == strlen(s) && !memcmp(v.v, s, v.len);
}

/* True when the request's u32 field tag is v. */
static inline bool fake_u32_is(struct fake *f, uint16_t tag, uint32_t v)
{
	struct pg_api_field u;

	return fake_field(f, tag, &u) && pg_api_u32(&u) == v;
}

/* Starts the reply to the request just read. */
static inline void fake_reply(struct fake *f, int32_t status)
{
	pg_api_begin(&f->w, f->h.type | PG_API_REPLY, f->h.id, status);
}

/* Starts an event. */
static inline void fake_event(struct fake *f, uint32_t kind)
{
	pg_api_begin(&f->w, PG_API_EVENT, 0, 0);
	pg_api_put_u32(&f->w, PG_API_T_EVENT_KIND, kind);
}

/* Sends the frame written; true when it went out whole. */
static inline bool fake_send(struct fake *f)
{
	long len = pg_api_end(&f->w);

	return len > 0 && fake_io(f->fd, f->w.buf, (size_t)len, true);
}

/* Answers the HELLO every connection starts with. */
static inline bool fake_hello(struct fake *f)
{
	if (!fake_read(f, PG_API_HELLO))
		return false;
	fake_reply(f, 0);
	pg_api_put_str(&f->w, PG_API_T_VERSION_STR, "peergraphd 0.1.0-fake");
	pg_api_put_u32(&f->w, PG_API_T_UID, 4242);
	return fake_send(f);
}

static inline void *fake_main(void *arg)
{
	struct fake *f = arg;

	struct timeval tv = { .tv_sec = 20 }; /* a client that sends nothing fails, not hangs */

	f->fd = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC);
	if (f->fd < 0) {
		fake_failed(f, __LINE__, "accept");
		return NULL;
	}
	setsockopt(f->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	f->script(f);
	close(f->fd);
	return NULL;
}

/* Listens on a fresh socket path and runs script on the connection the test makes. */
static inline void fake_start(struct fake *f, void (*script)(struct fake *f), void *arg)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memset(f, 0, sizeof(*f));
	strcpy(f->dir, "/tmp/pg-client-XXXXXX");
	cr_assert_not_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/peergraphd.sock", f->dir);
	f->script = script;
	f->arg = arg;
	f->lim.max_record_size = PG_RECORD_SIZE_MAX;
	pg_api_writer_init(&f->w, PG_API_FRAME_MAX);
	f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(f->lfd, 0);
	strcpy(sa.sun_path, f->path);
	cr_assert_eq(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(listen(f->lfd, 1), 0);
	cr_assert_eq(pthread_create(&f->thread, NULL, fake_main, f), 0);
}

/* Waits for the script to end and fails the test if one of its checks failed. */
static inline void fake_stop(struct fake *f)
{
	pthread_join(f->thread, NULL);
	close(f->lfd);
	unlink(f->path);
	rmdir(f->dir);
	free(f->body);
	pg_api_writer_free(&f->w);
	cr_assert_str_empty(f->failure, "%s", f->failure);
}

/* ---- what every test-client file does with a fake daemon ---- */

static inline struct peergraph *connect_to(struct fake *f)
{
	struct peergraph *pg = NULL;
	int err = peergraph_connect(f->path, &pg);

	cr_assert_eq(err, 0, "connect: %s (%s)", peergraph_strerror(err),
		     pg ? peergraph_last_message(pg) : "");
	return pg;
}

/* Starts a fake daemon running script and connects to it. */
static inline struct peergraph *start(struct fake *f, void (*script)(struct fake *f), void *arg)
{
	fake_start(f, script, arg);
	return connect_to(f);
}

/* Closes the connection, then fails the test if a check of the fake daemon's script did. */
static inline void finish(struct fake *f, struct peergraph *pg)
{
	peergraph_close(pg);
	fake_stop(f);
}

/* ---- records as the daemon sends them (test_client.c, test_client_events.c) ------------ */

#define HOUR_US (3600ull * PG_USEC_PER_SEC)
#define T0	1700000000000000ull /* µs: 2023-11-14 */

/* A record as the daemon would send it: creator alice, modified by bob, three attributes. */
struct daemon_rec {
	struct pg_record r;
	uint8_t attrs[128];
};

static inline void daemon_rec(struct daemon_rec *d, uint8_t n)
{
	struct pg_attr a[3] = { pg_attr_str("name", "rec"), pg_attr_int("count", n),
				pg_attr_date("when", T0) };
	long len = pg_attrs_encode(a, 3, d->attrs, sizeof(d->attrs));

	memset(&d->r, 0, sizeof(d->r));
	d->r.type.b[0] = 0xaa;
	d->r.id.b[0] = n;
	d->r.version = 2;
	d->r.created_us = T0;
	d->r.modified_us = T0 + 1;
	d->r.expires_us = T0 + HOUR_US;
	d->r.creator = "alice";
	d->r.creator_len = 5;
	d->r.modifier = "bob";
	d->r.modifier_len = 3;
	d->r.attrs = d->attrs;
	d->r.attrs_len = (uint32_t)len;
	d->r.nattrs = 3;
	d->r.payload = (const uint8_t *)"hello";
	d->r.payload_len = 5;
}

static inline void put_daemon_rec(struct fake *f, uint8_t n)
{
	struct daemon_rec d;

	daemon_rec(&d, n);
	pg_api_put_record(&f->w, &d.r, &f->lim);
}

/* What test code expects of a record daemon_rec(n) made, as the library returns it. */
static inline void expect_daemon_rec(const struct peergraph_record *rec, uint8_t n)
{
	cr_expect_eq(rec->id.b[0], n);
	cr_expect_eq(rec->type.b[0], 0xaa);
	cr_expect_eq(rec->version, 2);
	cr_expect_str_eq(rec->creator, "alice");
	cr_expect_str_eq(rec->modifier, "bob");
	cr_expect_eq(rec->created_us, T0);
	cr_expect_eq(rec->modified_us, T0 + 1);
	cr_expect_eq(rec->expires_us, T0 + HOUR_US);
	cr_assert_eq(rec->nattrs, 3);
	/* the codec's order: sorted by name */
	cr_expect_str_eq(rec->attrs[0].name, "count");
	cr_expect_eq(rec->attrs[0].type, PEERGRAPH_ATTR_INT);
	cr_expect_eq(rec->attrs[0].i, n);
	cr_expect_str_eq(rec->attrs[1].name, "name");
	cr_expect_eq(rec->attrs[1].type, PEERGRAPH_ATTR_STRING);
	cr_expect_str_eq(rec->attrs[1].str, "rec");
	cr_expect_str_eq(rec->attrs[2].name, "when");
	cr_expect_eq(rec->attrs[2].date, T0);
	cr_expect_eq(rec->payload_len, 5);
	cr_expect_eq(memcmp(rec->payload, "hello", 5), 0);
	cr_expect_not(rec->is_signed);
}

#endif
