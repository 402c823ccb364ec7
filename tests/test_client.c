/*
 * test_client.c - libpeergraph (controlplane/client/peergraph.h) against a fake daemon
 * (client_fake.h): connecting, what each call puts on the wire (records decoded back with the
 * codec: defaults, random ids written back, placeholders of an update), how it reads replies
 * (per-record results, failed replies and their messages, enumerations continued by cursor,
 * batches split over frames), identities and graphs. Events and the connection's end
 * (the daemon going away, broken replies) are in test_client_events.c; links and the
 * node's counters in test_client_links.c.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>

#include <criterion/criterion.h>

#include "client/client_priv.h"
#include "client_fake.h"
#include "peergraph.h"
#include "pg_time.h"

/* ---- connecting ------------------------------------------------------------------------ */

static void serve_hello_twice(struct fake *f)
{
	FAKE_CHECK(f, fake_hello(f));
	FAKE_CHECK(f, fake_hello(f));
}

Test(client, connect_and_hello)
{
	struct fake f;
	struct peergraph *pg;
	char version[64];
	uint32_t uid = 0;

	pg = start(&f, serve_hello_twice, NULL);
	cr_assert_eq(peergraph_hello(pg, version, sizeof(version), &uid), 0);
	cr_expect_str_eq(version, "peergraphd 0.1.0-fake");
	cr_expect_eq(uid, 4242);
	cr_expect_geq(peergraph_fd(pg), 0);
	cr_expect_str_empty(peergraph_last_message(pg));
	finish(&f, pg);
}

Test(client, connect_by_environment)
{
	struct fake f;
	struct peergraph *pg = NULL;

	fake_start(&f, serve_hello_twice, NULL);
	cr_assert_eq(setenv(PEERGRAPH_SOCKET_ENV, f.path, 1), 0);
	cr_assert_eq(peergraph_connect(NULL, &pg), 0);
	cr_assert_eq(peergraph_hello(pg, NULL, 0, NULL), 0);
	unsetenv(PEERGRAPH_SOCKET_ENV);
	finish(&f, pg);
}

Test(client, connect_failures)
{
	static char not_a_connection;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct peergraph *pg = (struct peergraph *)&not_a_connection;
	char dir[] = "/tmp/pg-client-XXXXXX", path[200];
	int fd;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/none.sock", dir);
	cr_expect_eq(peergraph_connect(path, &pg), -ENOENT);
	cr_expect_null(pg, "no connection on failure");
	cr_expect_not_null(strstr(peergraph_strerror(-ENOENT), "peergraphd"));
	cr_expect_not_null(strstr(peergraph_strerror(-ECONNREFUSED), "PEERGRAPH_SOCKET"));
	cr_expect_not_null(strstr(peergraph_strerror(-EACCES), "configured group"));

	/* a socket nobody listens on */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	strcpy(sa.sun_path, path);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_expect_eq(peergraph_connect(path, &pg), -ECONNREFUSED);
	close(fd);
	unlink(path);
	rmdir(dir);

	memset(path, 'x', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	cr_expect_eq(peergraph_connect(path, &pg), -ENAMETOOLONG);
	peergraph_close(NULL);
}

/* The daemon speaks another protocol version: a refusal, then a frame of version 2. */
static void serve_other_version(struct fake *f)
{
	FAKE_CHECK(f, fake_read(f, PG_API_HELLO));
	fake_reply(f, PG_E_API_VERSION);
	pg_api_put_str(&f->w, PG_API_T_MESSAGE, "daemon speaks version 2");
	FAKE_CHECK(f, fake_send(f));
}

static void serve_version_2(struct fake *f)
{
	FAKE_CHECK(f, fake_read(f, PG_API_HELLO));
	fake_reply(f, 0);
	pg_api_put_str(&f->w, PG_API_T_VERSION_STR, "peergraphd 2");
	pg_api_put_u32(&f->w, PG_API_T_UID, 0);
	store_le16(f->w.buf + PG_API_OFF_VERSION, 2);
	FAKE_CHECK(f, fake_send(f));
}

Test(client, connect_version_mismatch)
{
	void (*scripts[])(struct fake *) = { serve_other_version, serve_version_2 };

	for (int i = 0; i < 2; i++) {
		struct peergraph *pg = NULL;
		struct fake f;

		fake_start(&f, scripts[i], NULL);
		cr_expect_eq(peergraph_connect(f.path, &pg), PG_E_API_VERSION, "script %d", i);
		cr_expect_null(pg);
		fake_stop(&f);
	}
}

/* ---- adding, updating, deleting ---------------------------------------------------------- */

struct add_seen {
	struct pg_guid id0; /* the random id the library drew for record 0 */
};

static void serve_add(struct fake *f)
{
	struct add_seen *seen = f->arg;
	uint64_t now = pg_time_now_us();
	struct pg_record r[2];
	struct pg_api_field fld;
	struct pg_api_iter it;
	struct pg_attr a;
	unsigned n = 0;

	FAKE_CHECK(f, fake_hello(f));
	FAKE_CHECK(f, fake_read(f, PG_API_RECORD_ADD));
	FAKE_CHECK(f, fake_str_is(f, PG_API_T_GRAPH, "g1"));
	pg_api_iter_init(&it, f->body, f->len);
	while (pg_api_iter_next(&it, &fld)) {
		if (fld.tag != PG_API_T_RECORD)
			continue;
		FAKE_CHECK(f, n < 2); /* record 2 has a bad attribute: refused, not sent */
		FAKE_CHECK(f, pg_record_decode(fld.v, fld.len, &f->lim, &r[n]) == 0);
		n++;
	}
	FAKE_CHECK(f, n == 2);

	/* record 0: defaults filled in by the library */
	FAKE_CHECK(f, r[0].version == 1 && r[0].creator_len == 0 && r[0].modifier_len == 0);
	FAKE_CHECK(f, r[0].created_us == r[0].modified_us);
	FAKE_CHECK(f, r[0].created_us + 60 * PG_USEC_PER_SEC > now &&
			  r[0].created_us < now + 60 * PG_USEC_PER_SEC);
	FAKE_CHECK(f, r[0].expires_us == r[0].created_us + HOUR_US);
	FAKE_CHECK(f, (r[0].id.b[6] & 0xf0) == 0x40 && (r[0].id.b[8] & 0xc0) == 0x80);
	seen->id0 = r[0].id;
	FAKE_CHECK(f, r[0].type.b[0] == 0x77 && r[0].flags == 0);
	FAKE_CHECK(f, r[0].payload_len == 2 && !memcmp(r[0].payload, "p0", 2));
	FAKE_CHECK(f, r[0].nattrs == 2);
	FAKE_CHECK(f, pg_attr_find(&r[0], "color", 5, &a) == 0 && a.type == PG_ATTR_STRING &&
			  a.v.str.len == 3 && !memcmp(a.v.str.ptr, "red", 3));
	FAKE_CHECK(f,
		   pg_attr_find(&r[0], "size", 4, &a) == 0 && a.type == PG_ATTR_INT && a.v.i == -7);

	/* record 1: its own id, expiry and flags */
	FAKE_CHECK(f, r[1].id.b[0] == 0x11 && r[1].id.b[15] == 0x11);
	FAKE_CHECK(f, r[1].expires_us == T0 * 2);
	FAKE_CHECK(f, r[1].flags == PG_RECORD_AUTO_REFRESH && r[1].nattrs == 0);
	FAKE_CHECK(f, r[1].payload_len == 0);

	fake_reply(f, 0);
	pg_api_put_u32(&f->w, PG_API_T_RESULT, 0);
	pg_api_put_u32(&f->w, PG_API_T_RESULT, (uint32_t)PG_E_TOO_LARGE);
	FAKE_CHECK(f, fake_send(f));
}

Test(client, add_defaults_ids_and_results)
{
	struct peergraph_attr attrs0[] = {
		{ .name = "size", .type = PEERGRAPH_ATTR_INT, .i = -7 },
		{ .name = "color", .type = PEERGRAPH_ATTR_STRING, .str = "red" },
	};
	struct peergraph_attr bad[] = { { .name = "bad name", .type = PEERGRAPH_ATTR_INT } };
	struct peergraph_record recs[3];
	int results[3] = { 99, 99, 99 };
	struct add_seen seen;
	struct peergraph *pg;
	struct fake f;
	long n;

	memset(recs, 0, sizeof(recs));
	recs[0].type.b[0] = 0x77;
	recs[0].attrs = attrs0;
	recs[0].nattrs = 2;
	recs[0].payload = "p0";
	recs[0].payload_len = 2;
	memset(recs[1].id.b, 0x11, 16);
	recs[1].flags = PEERGRAPH_RECORD_AUTO_REFRESH;
	recs[1].expires_us = T0 * 2; /* 2077 */
	recs[2].attrs = bad;
	recs[2].nattrs = 1;

	pg = start(&f, serve_add, &seen);
	n = peergraph_record_add(pg, "g1", recs, 3, results);
	cr_expect_eq(n, 1, "added: %ld (%s)", n, peergraph_last_message(pg));
	cr_expect_eq(results[0], 0);
	cr_expect_eq(results[1], PG_E_TOO_LARGE);
	cr_expect_eq(results[2], PG_E_ATTR_NAME, "refused before sending");
	finish(&f, pg);
	cr_expect_eq(memcmp(recs[0].id.b, seen.id0.b, 16), 0, "the random id is written back");
}

/* ---- a batch over several frames, pipelined ----------------------------------------------- */

enum {
	/* records of 300 KiB: three fill a frame (PGC_BATCH_FRAME_MAX, 1 MiB) */
	BIG_PAYLOAD = 300 << 10,
	PER_FRAME = 3,
	BIG_FRAMES = PGC_WINDOW_MAX + 4, /* more frames than the window */
	BIG_RECORDS = BIG_FRAMES * PER_FRAME - 1,
	REFUSED = 7, /* the daemon refuses this record (PG_E_TOO_LARGE) */
};
_Static_assert(PER_FRAME *(BIG_PAYLOAD + 256) <= PGC_BATCH_FRAME_MAX &&
		   (PER_FRAME + 1) * BIG_PAYLOAD > PGC_BATCH_FRAME_MAX,
	       "PER_FRAME records fill a frame");

/* What the fake daemon is told and what it saw. */
struct window_case {
	int fail_frame;	   /* this frame fails as a whole with -EBUSY; -1: none */
	unsigned frames;   /* frames read */
	unsigned max_sent; /* frames the client had sent before the first reply */
	unsigned records[BIG_FRAMES + 1];
};

/* Reads one ADD frame of the batch: counts its records; false if it is not one. */
static bool read_batch_frame(struct fake *f, struct window_case *wc, uint32_t *id)
{
	struct pg_api_iter it;
	struct pg_api_field fld;

	if (wc->frames == BIG_FRAMES || !fake_read(f, PG_API_RECORD_ADD))
		return false;
	id[wc->frames] = f->h.id;
	pg_api_iter_init(&it, f->body, f->len);
	while (pg_api_iter_next(&it, &fld))
		wc->records[wc->frames] += fld.tag == PG_API_T_RECORD;
	wc->frames++;
	return true;
}

/* Answers frame k (its id) of the batch: per-record results, or the whole frame failed. */
static bool answer_batch_frame(struct fake *f, struct window_case *wc, unsigned k, uint32_t id)
{
	pg_api_begin(&f->w, PG_API_RECORD_ADD | PG_API_REPLY, id,
		     (int)k == wc->fail_frame ? -EBUSY : 0);
	if ((int)k == wc->fail_frame) {
		pg_api_put_str(&f->w, PG_API_T_MESSAGE, "store queue full");
		return fake_send(f);
	}
	for (unsigned i = 0; i < wc->records[k]; i++)
		pg_api_put_u32(&f->w, PG_API_T_RESULT,
			       k * PER_FRAME + i == REFUSED ? (uint32_t)PG_E_TOO_LARGE : 0);
	return fake_send(f);
}

/* Reads frames until the client stops sending without a reply (its window), then answers
 * them in order after an event, then serves the rest one by one until the client closes. */
static void serve_window(struct fake *f)
{
	struct window_case *wc = f->arg;
	struct pollfd p = { .fd = f->fd, .events = POLLIN };
	uint32_t id[BIG_FRAMES];

	FAKE_CHECK(f, fake_hello(f));
	do
		FAKE_CHECK(f, read_batch_frame(f, wc, id));
	while (poll(&p, 1, 200) == 1);
	wc->max_sent = wc->frames;
	for (unsigned k = 1; k < wc->frames; k++)
		FAKE_CHECK(f, id[k] == id[k - 1] + 1);
	fake_event(f, PG_API_EV_GRAPH_STATUS);
	pg_api_put_str(&f->w, PG_API_T_GRAPH, "big");
	pg_api_put_u32(&f->w, PG_API_T_STATUS, PG_API_GS_OPEN);
	FAKE_CHECK(f, fake_send(f));
	for (unsigned k = 0; k < wc->max_sent; k++)
		FAKE_CHECK(f, answer_batch_frame(f, wc, k, id[k]));
	while (read_batch_frame(f, wc, id))
		FAKE_CHECK(f, answer_batch_frame(f, wc, wc->frames - 1, id[wc->frames - 1]));
}

static void run_window(struct window_case *wc)
{
	static struct peergraph_record recs[BIG_RECORDS];
	static int results[BIG_RECORDS];
	void *payload = calloc(1, BIG_PAYLOAD);
	struct peergraph_event ev;
	struct peergraph *pg;
	struct fake f;
	long n, added = 0;
	char msg[256];

	cr_assert_not_null(payload);
	for (int i = 0; i < BIG_RECORDS; i++) {
		memset(&recs[i], 0, sizeof(recs[i]));
		recs[i].payload = payload;
		recs[i].payload_len = BIG_PAYLOAD;
	}
	pg = start(&f, serve_window, wc);
	n = peergraph_record_add(pg, "big", recs, BIG_RECORDS, results);
	snprintf(msg, sizeof(msg), "%s", peergraph_last_message(pg));
	cr_expect_eq(peergraph_event_next(pg, &ev, 0), 1, "the event met among the replies");
	cr_expect_eq(ev.kind, PEERGRAPH_EVENT_GRAPH_STATUS);
	if (wc->fail_frame >= 0)
		cr_expect_str_eq(msg, "store queue full");
	peergraph_close(pg);
	fake_stop(&f);
	cr_expect_eq(wc->max_sent, PGC_WINDOW_MAX, "frames sent before the first reply");
	for (unsigned k = 0; k < wc->frames; k++)
		cr_expect_eq(wc->records[k], k == BIG_FRAMES - 1 ? PER_FRAME - 1 : PER_FRAME,
			     "frame %u: %u records", k, wc->records[k]);
	for (int i = 0; i < BIG_RECORDS; i++) {
		int frame = i / PER_FRAME, want = i == REFUSED ? PG_E_TOO_LARGE : 0;

		if (frame == wc->fail_frame || frame >= (int)wc->frames)
			want = -EBUSY; /* the failed frame's, and those never sent */
		cr_expect_eq(results[i], want, "record %d: %d", i, results[i]);
		added += want == 0;
	}
	cr_expect_eq(n, added, "added %ld (%s)", n, msg);
	free(payload);
}

/* A window of frames before the first reply, the replies matched in order to their records
 * (an event among them queued), then one frame per reply. */
Test(client, add_pipelines_a_window_of_frames)
{
	struct window_case wc = { .fail_frame = -1 };

	run_window(&wc);
	cr_expect_eq(wc.frames, BIG_FRAMES);
}

/* A frame fails as a whole: once its reply is read nothing more is sent (the replies before
 * it each let one more frame go, and one may be on its way); the frames sent after it keep
 * their own outcome (they were added), the records never sent get its error, and the call
 * says how many were added. */
Test(client, add_window_stops_at_a_failed_frame)
{
	struct window_case wc = { .fail_frame = 2 };

	run_window(&wc);
	cr_expect_leq(wc.frames, PGC_WINDOW_MAX + 2 + 1, "%u frames sent", wc.frames);
	cr_expect_lt(wc.frames, BIG_FRAMES, "the failure stopped the batch");
}

static void serve_update_delete(struct fake *f)
{
	struct pg_api_field fld;
	struct pg_api_iter it;
	struct pg_record r;
	unsigned ids = 0;

	FAKE_CHECK(f, fake_hello(f));
	FAKE_CHECK(f, fake_read(f, PG_API_RECORD_UPDATE));
	FAKE_CHECK(f, fake_field(f, PG_API_T_RECORD, &fld));
	FAKE_CHECK(f, pg_record_decode(fld.v, fld.len, &f->lim, &r) == 0);
	/* the placeholders the daemon replaces, and what the caller gave */
	FAKE_CHECK(f, r.version == 1 && r.creator_len == 0 && r.modifier_len == 0);
	FAKE_CHECK(f, r.id.b[0] == 0x42 && r.type.b[0] == 0x77 && r.expires_us == T0 * 2);
	FAKE_CHECK(f, r.payload_len == 3 && !memcmp(r.payload, "new", 3));
	fake_reply(f, 0);
	pg_api_put_u32(&f->w, PG_API_T_RESULT, 0);
	FAKE_CHECK(f, fake_send(f));

	FAKE_CHECK(f, fake_read(f, PG_API_RECORD_DELETE));
	FAKE_CHECK(f, fake_str_is(f, PG_API_T_CREATOR, "alice"));
	pg_api_iter_init(&it, f->body, f->len);
	while (pg_api_iter_next(&it, &fld)) {
		if (fld.tag != PG_API_T_RECORD_ID)
			continue;
		FAKE_CHECK(f, fld.v[0] == ids + 1); /* in order */
		ids++;
	}
	FAKE_CHECK(f, ids == 2);
	fake_reply(f, 0);
	pg_api_put_u32(&f->w, PG_API_T_RESULT, 0);
	pg_api_put_u32(&f->w, PG_API_T_RESULT, (uint32_t)PG_E_NOT_FOUND);
	FAKE_CHECK(f, fake_send(f));
}

Test(client, update_and_delete)
{
	struct peergraph_record rec = { .payload = "new", .payload_len = 3, .expires_us = T0 * 2 };
	struct peergraph_guid ids[2] = { { { 1 } }, { { 2 } } };
	int results[2];
	struct peergraph *pg;
	struct fake f;

	rec.id.b[0] = 0x42;
	rec.type.b[0] = 0x77;
	pg = start(&f, serve_update_delete, NULL);
	cr_expect_eq(peergraph_record_update(pg, "g", &rec, 1, NULL), 1);
	cr_expect_eq(rec.id.b[0], 0x42, "an update keeps its id");
	cr_expect_eq(peergraph_record_delete(pg, "g", ids, 2, "alice", results), 1);
	cr_expect_eq(results[0], 0);
	cr_expect_eq(results[1], PG_E_NOT_FOUND);
	cr_expect_eq(peergraph_record_add(pg, "g", NULL, 0, NULL), 0, "nothing to send");
	cr_expect_eq(peergraph_record_add(pg, "g", &rec, PEERGRAPH_BATCH_MAX + 1, NULL), -EINVAL);
	finish(&f, pg);
}

/* ---- failed replies and requests refused before sending --------------------------------- */

static void serve_failures(struct fake *f)
{
	FAKE_CHECK(f, fake_hello(f));
	FAKE_CHECK(f, fake_read(f, PG_API_GRAPH_OPEN));
	FAKE_CHECK(f, fake_str_is(f, PG_API_T_GRAPH, "nope"));
	fake_reply(f, PG_E_NOT_FOUND);
	pg_api_put_str(&f->w, PG_API_T_MESSAGE, "no graph named nope");
	FAKE_CHECK(f, fake_send(f));
	/* the refused requests never arrive: the next one is this */
	FAKE_CHECK(f, fake_read(f, PG_API_GRAPH_CLOSE));
	fake_reply(f, 0);
	FAKE_CHECK(f, fake_send(f));
}

Test(client, failed_reply_keeps_message_and_connection)
{
	char long_id[300];
	struct peergraph *pg;
	struct fake f;

	memset(long_id, 'g', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	pg = start(&f, serve_failures, NULL);
	cr_expect_eq(peergraph_graph_open(pg, "nope"), PG_E_NOT_FOUND);
	cr_expect_str_eq(peergraph_last_message(pg), "no graph named nope");

	/* checked against the schema before sending: too long, not UTF-8 */
	cr_expect_eq(peergraph_graph_open(pg, long_id), PG_E_API_FIELD);
	cr_expect_not_null(strstr(peergraph_last_message(pg), "GRAPH"));
	cr_expect_eq(peergraph_graph_open(pg, "\xff"), PG_E_API_FIELD);
	cr_expect_eq(peergraph_graph_open(pg, NULL), -EINVAL);

	cr_expect_eq(peergraph_graph_close(pg, "g"), 0, "the connection is still usable");
	cr_expect_str_empty(peergraph_last_message(pg), "a call that succeeds clears it");
	finish(&f, pg);
}

/* ---- get, enumerate, search ---------------------------------------------------------------- */

static void serve_enum(struct fake *f)
{
	struct pg_api_field fld;

	FAKE_CHECK(f, fake_hello(f));
	FAKE_CHECK(f, fake_read(f, PG_API_RECORD_ENUM));
	FAKE_CHECK(f, fake_str_is(f, PG_API_T_GRAPH, "g") &&
			  fake_str_is(f, PG_API_T_CREATOR, "alice"));
	FAKE_CHECK(f, fake_field(f, PG_API_T_TYPE, &fld) && fld.v[0] == 0xaa);
	FAKE_CHECK(f, fake_u32_is(f, PG_API_T_FLAGS, 1));
	FAKE_CHECK(f, !fake_field(f, PG_API_T_CURSOR, &fld));
	fake_reply(f, 0);
	put_daemon_rec(f, 1);
	put_daemon_rec(f, 2);
	pg_api_put_bytes(&f->w, PG_API_T_CURSOR, "cur-1", 5);
	FAKE_CHECK(f, fake_send(f));

	FAKE_CHECK(f, fake_read(f, PG_API_RECORD_ENUM));
	FAKE_CHECK(f, fake_str_is(f, PG_API_T_CREATOR, "alice"));
	FAKE_CHECK(f, fake_field(f, PG_API_T_CURSOR, &fld) && fld.len == 5 &&
			  !memcmp(fld.v, "cur-1", 5));
	fake_reply(f, 0);
	put_daemon_rec(f, 3);
	FAKE_CHECK(f, fake_send(f));

	/* a search whose callback stops at the first record: no second round */
	FAKE_CHECK(f, fake_read(f, PG_API_RECORD_SEARCH));
	FAKE_CHECK(f, fake_str_is(f, PG_API_T_QUERY, "name = 'rec'"));
	fake_reply(f, 0);
	put_daemon_rec(f, 4);
	put_daemon_rec(f, 5);
	pg_api_put_bytes(&f->w, PG_API_T_CURSOR, "cur-2", 5);
	FAKE_CHECK(f, fake_send(f));
	FAKE_CHECK(f, fake_hello(f));
}

struct collect {
	unsigned n, stop_after;
	uint8_t ids[8];
};

static int collect(void *ctx, const struct peergraph_record *rec)
{
	struct collect *c = ctx;

	expect_daemon_rec(rec, rec->id.b[0]);
	if (c->n < 8)
		c->ids[c->n] = rec->id.b[0];
	return ++c->n == c->stop_after;
}

Test(client, enum_follows_cursor_and_search_stops)
{
	struct peergraph_guid type = { { 0xaa } };
	struct collect c = { 0 };
	struct peergraph *pg;
	struct fake f;

	pg = start(&f, serve_enum, NULL);
	cr_expect_eq(
	    peergraph_record_enum(pg, "g", &type, "alice", PEERGRAPH_WITH_DELETED, collect, &c), 3);
	cr_expect_eq(c.n, 3);
	cr_expect(c.ids[0] == 1 && c.ids[1] == 2 && c.ids[2] == 3);
	memset(&c, 0, sizeof(c));
	c.stop_after = 1;
	cr_expect_eq(peergraph_record_search(pg, "g", "name = 'rec'", 0, collect, &c), 1);
	cr_expect_eq(c.ids[0], 4);
	cr_expect_eq(peergraph_hello(pg, NULL, 0, NULL), 0, "no round was left pending");
	finish(&f, pg);
}

static void serve_reentry(struct fake *f)
{
	FAKE_CHECK(f, fake_hello(f));
	FAKE_CHECK(f, fake_read(f, PG_API_RECORD_ENUM));
	fake_reply(f, 0);
	put_daemon_rec(f, 1);
	FAKE_CHECK(f, fake_send(f));
	FAKE_CHECK(f, fake_hello(f));
}

static int call_back_in(void *ctx, const struct peergraph_record *rec)
{
	struct peergraph *pg = ctx;
	struct peergraph_record other;
	struct peergraph_event ev;

	cr_expect_eq(peergraph_record_get(pg, "g", &rec->id, NULL, 0, &other), -EDEADLK);
	cr_expect_eq(peergraph_event_next(pg, &ev, 0), -EDEADLK);
	return 0;
}

Test(client, callback_cannot_call_its_connection)
{
	struct peergraph *pg;
	struct fake f;

	pg = start(&f, serve_reentry, NULL);
	cr_expect_eq(peergraph_record_enum(pg, "g", NULL, NULL, 0, call_back_in, pg), 1);
	cr_expect_eq(peergraph_hello(pg, NULL, 0, NULL), 0);
	finish(&f, pg);
}

/* ---- identities and graphs ------------------------------------------------------------- */

static void put_item_identity(struct fake *f, const char *name, uint32_t flags)
{
	pg_api_item_begin(&f->w);
	pg_api_put_str(&f->w, PG_API_T_IDENTITY, name);
	pg_api_put_str(&f->w, PG_API_T_FRIENDLY_NAME, "Friendly");
	pg_api_put_u32(&f->w, PG_API_T_FLAGS, flags);
	pg_api_item_end(&f->w);
}

static void serve_admin(struct fake *f)
{
	struct pg_api_field fld;

	FAKE_CHECK(f, fake_hello(f));
	FAKE_CHECK(f, fake_read(f, PG_API_IDENTITY_CREATE));
	FAKE_CHECK(f, fake_str_is(f, PG_API_T_CLASSIFIER, "alice") &&
			  fake_str_is(f, PG_API_T_FRIENDLY_NAME, "Alice"));
	FAKE_CHECK(f, fake_u32_is(f, PG_API_T_FLAGS, 1));
	fake_reply(f, 0);
	pg_api_put_str(&f->w, PG_API_T_IDENTITY, "0.alice");
	FAKE_CHECK(f, fake_send(f));

	FAKE_CHECK(f, fake_read(f, PG_API_IDENTITY_LIST));
	fake_reply(f, 0);
	put_item_identity(f, "0.a", PEERGRAPH_IDENTITY_IS_DEFAULT);
	put_item_identity(f, "0.b", 0);
	put_item_identity(f, "0.c", 0);
	FAKE_CHECK(f, fake_send(f));

	FAKE_CHECK(f, fake_read(f, PG_API_IDENTITY_EXPORT));
	FAKE_CHECK(f, fake_str_is(f, PG_API_T_PASSWORD, "pw"));
	fake_reply(f, 0);
	pg_api_put_bytes(&f->w, PG_API_T_DATA, "blob", 4);
	FAKE_CHECK(f, fake_send(f));

	FAKE_CHECK(f, fake_read(f, PG_API_IDENTITY_IMPORT));
	FAKE_CHECK(f, fake_field(f, PG_API_T_DATA, &fld) && fld.len == 4);
	fake_reply(f, 0);
	pg_api_put_str(&f->w, PG_API_T_IDENTITY, "0.imported");
	FAKE_CHECK(f, fake_send(f));

	FAKE_CHECK(f, fake_read(f, PG_API_GRAPH_CREATE));
	FAKE_CHECK(f, fake_str_is(f, PG_API_T_IDENTITY, "0.alice"));
	FAKE_CHECK(f, fake_u32_is(f, PG_API_T_MAX_RECORD_SIZE, 4096));
	FAKE_CHECK(f, fake_u32_is(f, PG_API_T_FLAGS, 1));
	fake_reply(f, 0);
	FAKE_CHECK(f, fake_send(f));

	FAKE_CHECK(f, fake_read(f, PG_API_GRAPH_STATUS));
	fake_reply(f, 0);
	pg_api_put_u32(&f->w, PG_API_T_STATUS, PG_API_GS_OPEN);
	pg_api_put_u64(&f->w, PG_API_T_COUNT, 12345);
	pg_api_put_u32(&f->w, PG_API_T_MAX_RECORD_SIZE, 4096);
	FAKE_CHECK(f, fake_send(f));

	FAKE_CHECK(f, fake_read(f, PG_API_GRAPH_LIST));
	fake_reply(f, 0);
	pg_api_item_begin(&f->w);
	pg_api_put_str(&f->w, PG_API_T_GRAPH, "g1");
	pg_api_put_u32(&f->w, PG_API_T_STATUS, PG_API_GS_OPEN | PG_API_GS_SECURED);
	pg_api_put_str(&f->w, PG_API_T_IDENTITY, "0.alice");
	pg_api_item_end(&f->w);
	FAKE_CHECK(f, fake_send(f));

	FAKE_CHECK(f, fake_read(f, PG_API_GRAPH_EXPORT));
	FAKE_CHECK(f, fake_str_is(f, PG_API_T_PATH, "/tmp/g1.pg"));
	fake_reply(f, 0);
	FAKE_CHECK(f, fake_send(f));
}

Test(client, identities_and_graphs)
{
	struct peergraph_graph_props props = { .identity = "0.alice",
					       .max_record_size = 4096,
					       .flags = PEERGRAPH_GRAPH_UNSECURED };
	char name[PEERGRAPH_PEER_NAME_SIZE];
	struct peergraph_identity ids[2];
	struct peergraph_graph_status st, list[4];
	struct peergraph *pg;
	struct fake f;
	uint8_t *data;
	size_t len;

	pg = start(&f, serve_admin, NULL);
	cr_assert_eq(
	    peergraph_identity_create(pg, "alice", "Alice", PEERGRAPH_IDENTITY_MAKE_DEFAULT, name),
	    0);
	cr_expect_str_eq(name, "0.alice");
	cr_expect_eq(peergraph_identity_list(pg, ids, 2), 3, "the total, past max");
	cr_expect_str_eq(ids[0].peer_name, "0.a");
	cr_expect_eq(ids[0].flags, PEERGRAPH_IDENTITY_IS_DEFAULT);
	cr_expect_str_eq(ids[1].friendly_name, "Friendly");
	cr_assert_eq(peergraph_identity_export(pg, "0.alice", "pw", &data, &len), 0);
	cr_expect(len == 4 && !memcmp(data, "blob", 4));
	cr_assert_eq(peergraph_identity_import(pg, data, len, "pw", 0, name), 0);
	cr_expect_str_eq(name, "0.imported");
	free(data);
	cr_expect_eq(peergraph_graph_create(pg, "g1", &props), 0);
	cr_assert_eq(peergraph_graph_status(pg, "g1", &st), 0);
	cr_expect_str_eq(st.graph_id, "g1");
	cr_expect(st.status == PEERGRAPH_GRAPH_OPEN && st.records == 12345 &&
		  st.max_record_size == 4096);
	cr_expect_str_empty(st.identity);
	cr_expect_eq(peergraph_graph_list(pg, list, 4), 1);
	cr_expect_str_eq(list[0].graph_id, "g1");
	cr_expect_str_eq(list[0].identity, "0.alice");
	cr_expect_eq(list[0].status, PEERGRAPH_GRAPH_OPEN | PEERGRAPH_GRAPH_SECURED);
	cr_expect_eq(peergraph_graph_export(pg, "g1", "/tmp/g1.pg"), 0);
	finish(&f, pg);
}

/* ---- links ------------------------------------------------------------------------------- */

Test(client, guids)
{
	struct peergraph_guid g, back, r1, r2;
	char text[37];

	for (int i = 0; i < 16; i++)
		g.b[i] = (uint8_t)(i * 17);
	peergraph_guid_format(&g, text);
	cr_expect_str_eq(text, "00112233-4455-6677-8899-aabbccddeeff");
	cr_assert_eq(peergraph_guid_parse(text, &back), 0);
	cr_expect_eq(memcmp(&g, &back, 16), 0);
	cr_expect_eq(peergraph_guid_parse("{00112233-4455-6677-8899-AABBCCDDEEFF}", &back), 0);
	cr_expect_eq(memcmp(&g, &back, 16), 0);
	cr_expect_eq(peergraph_guid_parse("00112233-4455-6677-8899-aabbccddeef", &back), -EINVAL);
	cr_expect_eq(peergraph_guid_parse("00112233x4455-6677-8899-aabbccddeeff", &back), -EINVAL);
	cr_expect_eq(peergraph_guid_parse(NULL, &back), -EINVAL);
	peergraph_guid_random(&r1);
	peergraph_guid_random(&r2);
	cr_expect_neq(memcmp(&r1, &r2, 16), 0);
	cr_expect_eq(r1.b[6] >> 4, 4, "version 4");
	cr_expect_eq(r1.b[8] >> 6, 2, "RFC 4122 variant");
}

Test(client, strerror)
{
	cr_expect_str_eq(peergraph_strerror(PG_E_NOT_FOUND), pg_strerror(PG_E_NOT_FOUND));
	cr_expect_str_eq(peergraph_strerror(-EINVAL), pg_strerror(-EINVAL));
	cr_expect_not_null(strstr(peergraph_strerror(-ENOTCONN), "connect again"));
	cr_expect_not_null(peergraph_strerror(12345));
	/* a full flood queue says what to do about it */
	cr_expect_eq(PEERGRAPH_E_BUSY, PG_E_BUSY);
	cr_expect_not_null(strstr(peergraph_strerror(PEERGRAPH_E_BUSY), "flood queues are full"));
	cr_expect_not_null(strstr(peergraph_strerror(PEERGRAPH_E_BUSY), "retry after a pause"));
}
