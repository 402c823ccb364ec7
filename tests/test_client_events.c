/*
 * test_client_events.c - libpeergraph's events and the end of its connection, against a fake
 * daemon (client_fake.h): events interleaved with replies and the queue's bound with its loss
 * report; the daemon closing the connection, also while event_next waits; and a numbered
 * table of broken replies, each an error and a closed connection, never a crash.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>

#include <criterion/criterion.h>

#include "client/client_priv.h"
#include "client_fake.h"
#include "peergraph.h"
#include "pg_time.h"

/* ---- events ------------------------------------------------------------------------------ */

static void serve_events(struct fake *f)
{
	struct pg_api_field fld;
	long len;

	FAKE_CHECK(f, fake_hello(f));
	FAKE_CHECK(f, fake_read(f, PG_API_SUBSCRIBE));
	FAKE_CHECK(f, fake_str_is(f, PG_API_T_GRAPH, "g"));
	FAKE_CHECK(f, fake_u32_is(f, PG_API_T_EVENT_MASK,
				  (1u << PG_API_EV_ADDED) | (1u << PG_API_EV_LOST)));
	fake_reply(f, 0);
	FAKE_CHECK(f, fake_send(f));

	/* two events come before the reply to a get */
	FAKE_CHECK(f, fake_read(f, PG_API_RECORD_GET));
	FAKE_CHECK(f, fake_field(f, PG_API_T_RECORD_ID, &fld) && fld.v[0] == 9);
	FAKE_CHECK(f, !fake_field(f, PG_API_T_CREATOR, &fld));
	fake_event(f, PG_API_EV_ADDED);
	pg_api_put_str(&f->w, PG_API_T_GRAPH, "g");
	put_daemon_rec(f, 7);
	pg_api_put_u64(&f->w, PG_API_T_SEQ, 10);
	FAKE_CHECK(f, fake_send(f));
	fake_event(f, PG_API_EV_LOST);
	pg_api_put_str(&f->w, PG_API_T_GRAPH, "g");
	pg_api_put_u64(&f->w, PG_API_T_LOST, 5);
	FAKE_CHECK(f, fake_send(f));
	fake_reply(f, 0);
	put_daemon_rec(f, 9);
	FAKE_CHECK(f, fake_send(f));

	/* an event that arrives in two pieces, 300 ms apart */
	FAKE_CHECK(f, fake_hello(f));
	fake_event(f, PG_API_EV_GRAPH_STATUS);
	pg_api_put_u32(&f->w, PG_API_T_STATUS, PG_API_GS_OPEN | PG_API_GS_SECURED);
	len = pg_api_end(&f->w);
	FAKE_CHECK(f, len > 10 && fake_io(f->fd, f->w.buf, 10, true));
	usleep(300 * 1000);
	FAKE_CHECK(f, fake_io(f->fd, f->w.buf + 10, (size_t)len - 10, true));

	FAKE_CHECK(f, fake_read(f, PG_API_UNSUBSCRIBE));
	fake_reply(f, 0);
	FAKE_CHECK(f, fake_send(f));
}

Test(client, events_interleaved_with_replies)
{
	struct peergraph_guid id = { { 9 } };
	struct peergraph_record rec;
	struct peergraph_event ev;
	struct peergraph *pg;
	struct fake f;

	pg = start(&f, serve_events, NULL);
	cr_assert_eq(peergraph_subscribe(
			 pg, "g", (1u << PEERGRAPH_EVENT_ADDED) | (1u << PEERGRAPH_EVENT_LOST)),
		     0);
	cr_assert_eq(peergraph_record_get(pg, "g", &id, NULL, 0, &rec), 0);
	expect_daemon_rec(&rec, 9);

	cr_assert_eq(peergraph_event_next(pg, &ev, 0), 1);
	cr_expect_eq(ev.kind, PEERGRAPH_EVENT_ADDED);
	cr_expect_str_eq(ev.graph_id, "g");
	cr_expect_eq(ev.seq, 10);
	expect_daemon_rec(&ev.record, 7);
	cr_assert_eq(peergraph_event_next(pg, &ev, 0), 1);
	cr_expect_eq(ev.kind, PEERGRAPH_EVENT_LOST);
	cr_expect_eq(ev.lost, 5);
	cr_expect_str_eq(ev.record.creator, "", "no record: empty strings, not NULL");
	cr_expect_eq(peergraph_event_next(pg, &ev, 0), 0, "nothing more yet");

	cr_assert_eq(peergraph_hello(pg, NULL, 0, NULL), 0);
	cr_expect_eq(peergraph_event_next(pg, &ev, 50), 0, "half an event is no event");
	cr_assert_eq(peergraph_event_next(pg, &ev, 5000), 1);
	cr_expect_eq(ev.kind, PEERGRAPH_EVENT_GRAPH_STATUS);
	cr_expect_eq(ev.status, PEERGRAPH_GRAPH_OPEN | PEERGRAPH_GRAPH_SECURED);
	cr_expect_str_empty(ev.graph_id);
	cr_expect_eq(peergraph_unsubscribe(pg, "g"), 0);
	finish(&f, pg);
}

enum {
	FLOOD = 4100,	   /* events sent before one reply */
	QUEUED = 4096 - 1, /* the library queues this many, then marks the gap */
};

static void serve_flood(struct fake *f)
{
	FAKE_CHECK(f, fake_hello(f));
	FAKE_CHECK(f, fake_read(f, PG_API_HELLO));
	for (uint64_t i = 1; i <= FLOOD; i++) {
		fake_event(f, PG_API_EV_DELETED);
		pg_api_put_u64(&f->w, PG_API_T_SEQ, i);
		FAKE_CHECK(f, fake_send(f));
	}
	fake_reply(f, 0);
	pg_api_put_str(&f->w, PG_API_T_VERSION_STR, "v");
	pg_api_put_u32(&f->w, PG_API_T_UID, 0);
	FAKE_CHECK(f, fake_send(f));
	/* after the program drained the queue: one more, behind the gap's marker */
	FAKE_CHECK(f, fake_read(f, PG_API_HELLO));
	fake_event(f, PG_API_EV_DELETED);
	pg_api_put_u64(&f->w, PG_API_T_SEQ, FLOOD + 1);
	FAKE_CHECK(f, fake_send(f));
	fake_reply(f, 0);
	pg_api_put_str(&f->w, PG_API_T_VERSION_STR, "v");
	pg_api_put_u32(&f->w, PG_API_T_UID, 0);
	FAKE_CHECK(f, fake_send(f));
	FAKE_CHECK(f, fake_hello(f)); /* holds the connection open until the test is done */
}

Test(client, event_queue_is_bounded_and_reports_loss)
{
	struct peergraph_event ev;
	struct peergraph *pg;
	struct fake f;

	pg = start(&f, serve_flood, NULL);
	cr_assert_eq(peergraph_hello(pg, NULL, 0, NULL), 0);
	for (uint64_t i = 1; i <= QUEUED; i++) {
		cr_assert_eq(peergraph_event_next(pg, &ev, 0), 1);
		cr_assert_eq(ev.kind, PEERGRAPH_EVENT_DELETED);
		cr_assert_eq(ev.seq, i);
	}
	cr_assert_eq(peergraph_hello(pg, NULL, 0, NULL), 0);
	cr_assert_eq(peergraph_event_next(pg, &ev, 0), 1);
	cr_expect_eq(ev.kind, PEERGRAPH_EVENT_LOST);
	cr_expect_eq(ev.lost, FLOOD - QUEUED);
	cr_expect_str_empty(ev.graph_id, "the library's own gap names no graph");
	cr_assert_eq(peergraph_event_next(pg, &ev, 0), 1);
	cr_expect_eq(ev.seq, FLOOD + 1, "events after the gap follow its marker");
	cr_expect_eq(peergraph_event_next(pg, &ev, 0), 0);
	cr_expect_eq(peergraph_hello(pg, NULL, 0, NULL), 0);
	finish(&f, pg);
}

/* ---- the daemon going away, and broken replies ------------------------------------------- */

static void serve_then_close(struct fake *f)
{
	FAKE_CHECK(f, fake_hello(f));
	FAKE_CHECK(f, fake_read(f, PG_API_GRAPH_STATUS));
	fake_event(f, PG_API_EV_EXPIRED);
	FAKE_CHECK(f, fake_send(f));
	/* no reply: the connection closes */
}

Test(client, daemon_closes_the_connection)
{
	struct peergraph_graph_status st;
	struct peergraph_event ev;
	struct peergraph *pg;
	struct fake f;

	pg = start(&f, serve_then_close, NULL);
	cr_expect_eq(peergraph_graph_status(pg, "g", &st), -ECONNRESET);
	cr_expect_not_null(strstr(peergraph_strerror(-ECONNRESET), "daemon went away"));
	cr_expect_eq(peergraph_fd(pg), -1);
	cr_expect_eq(peergraph_event_next(pg, &ev, 0), 1, "what was queued is still handed out");
	cr_expect_eq(ev.kind, PEERGRAPH_EVENT_EXPIRED);
	cr_expect_eq(peergraph_event_next(pg, &ev, -1), -ENOTCONN);
	cr_expect_eq(peergraph_hello(pg, NULL, 0, NULL), -ENOTCONN);
	finish(&f, pg);
}

static void serve_close_while_waiting(struct fake *f)
{
	FAKE_CHECK(f, fake_hello(f));
	FAKE_CHECK(f, fake_hello(f));
	usleep(100 * 1000);
}

Test(client, daemon_closes_while_event_next_waits)
{
	struct peergraph_event ev;
	struct peergraph *pg;
	struct fake f;

	pg = start(&f, serve_close_while_waiting, NULL);
	cr_assert_eq(peergraph_hello(pg, NULL, 0, NULL), 0);
	cr_expect_eq(peergraph_event_next(pg, &ev, -1), -ECONNRESET);
	finish(&f, pg);
}

/* Broken answers to a RECORD_GET, one per row: each is an error and closes the connection. */
struct bad_reply {
	int n;
	const char *what;
	int err;
};

static const struct bad_reply bad_replies[] = {
	{ 1, "a field the reply may not carry", PG_E_API_FIELD },
	{ 2, "the required RECORD missing", PG_E_API_FIELD },
	{ 3, "a RECORD that does not decode", PG_E_BAD_FORMAT },
	{ 4, "a header length below 12", PG_E_API_FRAME },
	{ 5, "a header length past the frame bound", PG_E_API_FRAME },
	{ 6, "protocol version 2", PG_E_API_VERSION },
	{ 7, "the reply to another request id", PG_E_API_FRAME },
	{ 8, "a reply of another type", PG_E_API_FRAME },
	{ 9, "a positive status", PG_E_API_FRAME },
	{ 10, "a field header cut short", PG_E_API_FIELD },
	{ 11, "an event with an id", PG_E_API_FRAME },
	{ 12, "an event with an unknown field", PG_E_API_FIELD },
	{ 13, "a body cut short by the close", -ECONNRESET },
	{ 14, "a failed reply with a field besides MESSAGE", PG_E_API_FIELD },
	{ 15, "a string field that is not UTF-8", PG_E_API_FIELD },
};

static void serve_bad(struct fake *f)
{
	const struct bad_reply *row = f->arg;
	uint8_t junk[PG_RECORD_HDR_LEN];
	long len;

	FAKE_CHECK(f, fake_hello(f));
	FAKE_CHECK(f, fake_read(f, PG_API_RECORD_GET));
	memset(junk, 0x5a, sizeof(junk));
	fake_reply(f, 0);
	switch (row->n) {
	case 1:
		put_daemon_rec(f, 1);
		pg_api_put_u32(&f->w, PG_API_T_RESULT, 0);
		break;
	case 2:
		break;
	case 3:
		pg_api_put_bytes(&f->w, PG_API_T_RECORD, junk, sizeof(junk));
		break;
	case 9:
		fake_reply(f, 5);
		break;
	case 10:
		pg_api_put_bytes(&f->w, PG_API_T_MESSAGE, NULL, 0);
		f->w.len -= 5; /* 3 bytes of a field header */
		break;
	case 11:
	case 12:
		fake_event(f, PG_API_EV_ADDED);
		if (row->n == 12)
			pg_api_put_u32(&f->w, PG_API_T_UID, 0);
		break;
	case 14:
		fake_reply(f, PG_E_NOT_FOUND);
		pg_api_put_str(&f->w, PG_API_T_GRAPH, "g");
		break;
	case 15:
		fake_reply(f, PG_E_NOT_FOUND);
		pg_api_put_str(&f->w, PG_API_T_MESSAGE, "\xc0\x80");
		break;
	default:
		put_daemon_rec(f, 1);
		break;
	}
	len = pg_api_end(&f->w);
	FAKE_CHECK(f, len > 0);
	if (row->n == 4)
		store_le32(f->w.buf + PG_API_OFF_LEN, 11);
	if (row->n == 5)
		store_le32(f->w.buf + PG_API_OFF_LEN, PG_API_FRAME_MAX);
	if (row->n == 6)
		store_le16(f->w.buf + PG_API_OFF_VERSION, 2);
	if (row->n == 7)
		store_le32(f->w.buf + PG_API_OFF_ID, f->h.id + 1);
	if (row->n == 8)
		store_le16(f->w.buf + PG_API_OFF_TYPE, PG_API_RECORD_ENUM | PG_API_REPLY);
	if (row->n == 11)
		store_le32(f->w.buf + PG_API_OFF_ID, 3);
	if (row->n == 13)
		len -= 4;
	FAKE_CHECK(f, fake_io(f->fd, f->w.buf, (size_t)len, true));
}

Test(client, broken_replies_close_the_connection)
{
	for (size_t i = 0; i < sizeof(bad_replies) / sizeof(bad_replies[0]); i++) {
		const struct bad_reply *row = &bad_replies[i];
		struct peergraph_guid id = { { 1 } };
		struct peergraph_record rec;
		struct peergraph *pg;
		struct fake f;
		int err;

		pg = start(&f, serve_bad, (void *)row);
		err = peergraph_record_get(pg, "g", &id, NULL, 0, &rec);
		cr_expect_eq(err, row->err, "row %d (%s): %d %s", row->n, row->what, err,
			     pg_strerror(err));
		cr_expect_str_not_empty(peergraph_last_message(pg), "row %d says what", row->n);
		cr_expect_eq(peergraph_hello(pg, NULL, 0, NULL), -ENOTCONN, "row %d", row->n);
		finish(&f, pg);
	}
}
