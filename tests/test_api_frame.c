/*
 * test_api_frame.c - control-API frames (controlplane/api/frame.h, proto.h): what the writer
 * makes, the checker accepts and the iterator reads back; and a numbered table of malformed
 * frames, each refused with its own error.
 */
#include <errno.h>
#include <string.h>

#include <criterion/criterion.h>

#include "api/frame.h"
#include "pg_assert.h"
#include "pg_bytes.h"
#include "pg_error.h"

static struct pg_record_limits lim;

static void setup(void)
{
	pg_record_limits_default(&lim);
}

TestSuite(api_frame, .init = setup);

/* Decodes a whole frame and checks its body: the receiver's two steps. */
static int receive(const uint8_t *buf, size_t len, struct pg_api_hdr *h, uint16_t *bad)
{
	int err;

	if (len < PG_API_HDR_LEN)
		return PG_E_API_FRAME;
	if ((err = pg_api_hdr_decode(buf, h)))
		return err;
	if ((size_t)h->len + 4 != len)
		return PG_E_API_FRAME;
	return pg_api_body_check(h->type, h->status, buf + PG_API_HDR_LEN, len - PG_API_HDR_LEN,
				 &lim, bad);
}

static struct pg_record sample(uint8_t n)
{
	struct pg_record r;

	memset(&r, 0, sizeof(r));
	r.type.b[0] = 0xa0;
	r.id.b[0] = n;
	r.version = 1;
	r.created_us = r.modified_us = 1000;
	r.expires_us = 2000;
	r.creator = "alice";
	r.creator_len = 5;
	r.payload = (const uint8_t *)"hello";
	r.payload_len = 5;
	return r;
}

Test(api_frame, round_trip)
{
	struct pg_api_writer w;
	struct pg_api_hdr h;
	struct pg_api_iter it;
	struct pg_api_field f;
	struct pg_record r = sample(1), back;
	unsigned records = 0;
	long len;

	pg_api_writer_init(&w, 1 << 20);
	pg_api_begin(&w, PG_API_RECORD_ADD, 42, 0);
	pg_api_put_str(&w, PG_API_T_GRAPH, "graph-one");
	for (uint8_t i = 0; i < 100; i++) {
		r = sample(i);
		pg_api_put_record(&w, &r, &lim);
	}
	len = pg_api_end(&w);
	cr_assert_gt(len, 0, "end: %s", pg_strerror((int)len));
	cr_assert_eq(receive(w.buf, (size_t)len, &h, NULL), 0);
	cr_assert_eq(h.type, PG_API_RECORD_ADD);
	cr_assert_eq(h.id, 42);
	pg_api_iter_init(&it, w.buf + PG_API_HDR_LEN, (size_t)len - PG_API_HDR_LEN);
	while (pg_api_iter_next(&it, &f)) {
		if (f.tag != PG_API_T_RECORD)
			continue;
		cr_assert_eq(pg_record_decode(f.v, f.len, &lim, &back), 0);
		cr_assert_eq(back.id.b[0], records);
		records++;
	}
	cr_assert_eq(records, 100);
	cr_assert(
	    pg_api_find(w.buf + PG_API_HDR_LEN, (size_t)len - PG_API_HDR_LEN, PG_API_T_GRAPH, &f));
	char graph[64];
	cr_assert(pg_api_str(&f, graph, sizeof(graph)));
	cr_assert_str_eq(graph, "graph-one");
	cr_assert_not(pg_api_str(&f, graph, 9), "no room for the NUL");

	/* a list reply with items */
	pg_api_begin(&w, PG_API_IDENTITY_LIST | PG_API_REPLY, 7, 0);
	for (int i = 0; i < 3; i++) {
		pg_api_item_begin(&w);
		pg_api_put_str(&w, PG_API_T_IDENTITY, "0123.alice");
		pg_api_put_u32(&w, PG_API_T_FLAGS, (uint32_t)i);
		pg_api_item_end(&w);
	}
	len = pg_api_end(&w);
	cr_assert_gt(len, 0);
	cr_assert_eq(receive(w.buf, (size_t)len, &h, NULL), 0);
	pg_api_iter_init(&it, w.buf + PG_API_HDR_LEN, (size_t)len - PG_API_HDR_LEN);
	for (uint32_t i = 0; i < 3; i++) {
		struct pg_api_field g;

		cr_assert(pg_api_iter_next(&it, &f));
		cr_assert_eq(f.tag, PG_API_T_ITEM);
		cr_assert(pg_api_find(f.v, f.len, PG_API_T_FLAGS, &g));
		cr_assert_eq(pg_api_u32(&g), i);
	}
	cr_assert_not(pg_api_iter_next(&it, &f));

	/* a failed reply carries a message only */
	pg_api_begin(&w, PG_API_GRAPH_OPEN | PG_API_REPLY, 9, PG_E_NOT_FOUND);
	pg_api_put_str(&w, PG_API_T_MESSAGE, "no graph named x");
	len = pg_api_end(&w);
	cr_assert_eq(receive(w.buf, (size_t)len, &h, NULL), 0);
	cr_assert_eq(h.status, PG_E_NOT_FOUND);
	pg_api_writer_free(&w);
}

/* The flooding messages and events as the daemon and the library write them. */
Test(api_frame, flood_messages)
{
	char addr[PG_API_ADDRESS_MAX + 1];
	struct pg_api_writer w;
	struct pg_api_field f, g;
	struct pg_api_iter it;
	struct pg_api_hdr h;
	unsigned items = 0;
	long len;

	/* the longest address: a 253-byte host in brackets and a 5-digit port */
	memset(addr, 'h', sizeof(addr));
	addr[0] = '[';
	memcpy(addr + 254, "]:65535", 8);
	cr_assert_eq(strlen(addr), PG_API_ADDRESS_MAX);
	pg_api_writer_init(&w, 1 << 20);
	pg_api_begin(&w, PG_API_GRAPH_CONNECT, 3, 0);
	pg_api_put_str(&w, PG_API_T_GRAPH, "lab");
	pg_api_put_str(&w, PG_API_T_ADDRESS, addr);
	len = pg_api_end(&w);
	cr_assert_eq(receive(w.buf, (size_t)len, &h, NULL), 0, "connect");
	pg_api_begin(&w, PG_API_GRAPH_CONNECT | PG_API_REPLY, 3, 0);
	pg_api_put_str(&w, PG_API_T_ADDRESS, "[::1]:3587");
	len = pg_api_end(&w);
	cr_assert_eq(receive(w.buf, (size_t)len, &h, NULL), 0, "connect reply");
	pg_api_begin(&w, PG_API_GRAPH_LISTEN, 4, 0);
	pg_api_put_str(&w, PG_API_T_GRAPH, "lab");
	pg_api_put_u32(&w, PG_API_T_FLAGS, PG_API_LISTEN_STOP);
	len = pg_api_end(&w);
	cr_assert_eq(receive(w.buf, (size_t)len, &h, NULL), 0, "listen --stop");
	pg_api_begin(&w, PG_API_GRAPH_DISCONNECT, 5, 0);
	pg_api_put_str(&w, PG_API_T_GRAPH, "lab");
	pg_api_put_str(&w, PG_API_T_ADDRESS, "10.0.0.1:3587");
	len = pg_api_end(&w);
	cr_assert_eq(receive(w.buf, (size_t)len, &h, NULL), 0, "disconnect");
	pg_api_begin(&w, PG_API_GRAPH_STATUS | PG_API_REPLY, 6, 0);
	pg_api_put_u32(&w, PG_API_T_STATUS, PG_API_GS_OPEN | PG_API_GS_LISTENING);
	pg_api_put_u64(&w, PG_API_T_COUNT, 7);
	pg_api_put_u32(&w, PG_API_T_LINKS, 2);
	len = pg_api_end(&w);
	cr_assert_eq(receive(w.buf, (size_t)len, &h, NULL), 0, "status with links");

	/* a neighbour list: every field in the first item, the address only in the second */
	pg_api_begin(&w, PG_API_GRAPH_NEIGHBOURS | PG_API_REPLY, 7, 0);
	pg_api_item_begin(&w);
	pg_api_put_str(&w, PG_API_T_ADDRESS, "127.0.0.1:40002");
	pg_api_put_str(&w, PG_API_T_NODE, "0.node2");
	pg_api_put_u32(&w, PG_API_T_FLAGS, PG_API_LINK_INITIATOR);
	pg_api_put_u64(&w, PG_API_T_RECORDS_RX, 10);
	pg_api_put_u64(&w, PG_API_T_RECORDS_TX, 1000);
	pg_api_put_u64(&w, PG_API_T_RETRANSMITS, 3);
	pg_api_put_u64(&w, PG_API_T_SRTT_US, 85);
	pg_api_put_u64(&w, PG_API_T_REASM_TIMEOUTS, 2);
	pg_api_item_end(&w);
	pg_api_item_begin(&w);
	pg_api_put_str(&w, PG_API_T_ADDRESS, "[::1]:40003");
	pg_api_item_end(&w);
	len = pg_api_end(&w);
	cr_assert_eq(receive(w.buf, (size_t)len, &h, NULL), 0, "neighbours");
	pg_api_iter_init(&it, w.buf + PG_API_HDR_LEN, (size_t)len - PG_API_HDR_LEN);
	while (pg_api_iter_next(&it, &f)) {
		cr_assert_eq(f.tag, PG_API_T_ITEM);
		cr_assert(pg_api_find(f.v, f.len, PG_API_T_ADDRESS, &g));
		if (items++ == 0) {
			cr_assert(pg_api_find(f.v, f.len, PG_API_T_RECORDS_TX, &g));
			cr_expect_eq(pg_api_u64(&g), 1000);
		}
	}
	cr_expect_eq(items, 2);

	/* the node's counters: a request without fields; a reply with the address and counters,
	 * or without the address (no dataplane socket) */
	pg_api_begin(&w, PG_API_NODE_STATS, 8, 0);
	len = pg_api_end(&w);
	cr_assert_eq(receive(w.buf, (size_t)len, &h, NULL), 0, "node stats");
	for (int with_address = 0; with_address < 2; with_address++) {
		pg_api_begin(&w, PG_API_NODE_STATS | PG_API_REPLY, 8, 0);
		if (with_address)
			pg_api_put_str(&w, PG_API_T_ADDRESS, "127.0.0.1:40001");
		for (uint64_t i = 0; i < 3; i++) {
			pg_api_item_begin(&w);
			pg_api_put_str(&w, PG_API_T_NAME, i ? "drops_unknown" : "records_in");
			pg_api_put_u64(&w, PG_API_T_COUNT, i * 1000);
			pg_api_item_end(&w);
		}
		len = pg_api_end(&w);
		cr_assert_eq(receive(w.buf, (size_t)len, &h, NULL), 0, "node stats reply %d",
			     with_address);
	}

	/* the three neighbour events */
	for (uint32_t kind = PG_API_EV_NEIGHBOUR_UP; kind <= PG_API_EV_CONNECT_FAILED; kind++) {
		pg_api_begin(&w, PG_API_EVENT, 0, 0);
		pg_api_put_u32(&w, PG_API_T_EVENT_KIND, kind);
		pg_api_put_str(&w, PG_API_T_GRAPH, "lab");
		pg_api_put_str(&w, PG_API_T_ADDRESS, "127.0.0.1:40002");
		if (kind != PG_API_EV_CONNECT_FAILED)
			pg_api_put_str(&w, PG_API_T_NODE, "0.node2");
		if (kind != PG_API_EV_NEIGHBOUR_UP) {
			pg_api_put_u32(&w, PG_API_T_REASON, PG_API_REASON_CLOSED);
			pg_api_put_u32(&w, PG_API_T_FLAGS, PG_API_LINK_BY_PEER);
		}
		len = pg_api_end(&w);
		cr_assert_eq(receive(w.buf, (size_t)len, &h, NULL), 0, "event %u", kind);
		cr_assert(pg_api_find(w.buf + PG_API_HDR_LEN, (size_t)len - PG_API_HDR_LEN,
				      PG_API_T_EVENT_KIND, &f));
		cr_expect_eq(pg_api_u32(&f), kind);
	}
	pg_api_writer_free(&w);
}

Test(api_frame, writer_errors_stick)
{
	struct pg_api_writer w;
	struct pg_record r = sample(1);
	char big[2048];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	pg_api_writer_init(&w, 1024);
	pg_api_begin(&w, PG_API_HELLO, 1, 0);
	pg_api_put_str(&w, PG_API_T_VERSION_STR, big);
	pg_api_put_u32(&w, PG_API_T_UID, 0);
	cr_assert_eq(pg_api_end(&w), -ENOSPC, "past max");
	pg_api_begin(&w, PG_API_RECORD_ADD, 1, 0);
	r.version = 0;
	pg_api_put_record(&w, &r, &lim);
	cr_assert_eq(pg_api_end(&w), PG_E_BAD_VERSION, "an invalid record");
	pg_api_begin(&w, PG_API_IDENTITY_LIST | PG_API_REPLY, 1, 0);
	pg_api_item_begin(&w);
	cr_assert_eq(pg_api_end(&w), -EINVAL, "an unclosed item");
	pg_api_begin(&w, PG_API_IDENTITY_LIST | PG_API_REPLY, 1, 0);
	pg_api_item_begin(&w);
	pg_api_item_begin(&w);
	cr_assert_eq(pg_api_end(&w), -EINVAL, "a nested item");
	pg_api_writer_free(&w);
}

/* ---- malformed frames ------------------------------------------------------------------ */

struct bad_row {
	int no;
	const char *what;
	void (*make)(struct pg_api_writer *w);
	void (*mangle)(uint8_t *buf, size_t *len);
	int want;
	uint16_t bad_tag;
};

static void open_graph(struct pg_api_writer *w)
{
	pg_api_begin(w, PG_API_GRAPH_OPEN, 1, 0);
	pg_api_put_str(w, PG_API_T_GRAPH, "g");
}
static void nothing(uint8_t *b, size_t *len)
{
	(void)b, (void)len;
}
static void m_version(uint8_t *b, size_t *len)
{
	(void)len;
	store_le16(b + PG_API_OFF_VERSION, 2);
}
static void m_len_small(uint8_t *b, size_t *len)
{
	(void)len;
	store_le32(b, 11);
}
static void m_len_huge(uint8_t *b, size_t *len)
{
	(void)len;
	store_le32(b, PG_API_FRAME_MAX);
}
static void m_type(uint8_t *b, size_t *len)
{
	(void)len;
	store_le16(b + PG_API_OFF_TYPE, 999);
}
static void m_status(uint8_t *b, size_t *len)
{
	(void)len;
	store_le32(b + PG_API_OFF_STATUS, (uint32_t)-1);
}
static void m_reserved(uint8_t *b, size_t *len)
{
	(void)len;
	b[PG_API_HDR_LEN + 2] = 1;
}
static void m_tag_zero(uint8_t *b, size_t *len)
{
	(void)len;
	store_le16(b + PG_API_HDR_LEN, 0);
}
static void m_tag_unknown(uint8_t *b, size_t *len)
{
	(void)len;
	store_le16(b + PG_API_HDR_LEN, PG_API_TAGS);
}
static void m_tag_not_allowed(uint8_t *b, size_t *len)
{
	(void)len;
	store_le16(b + PG_API_HDR_LEN, PG_API_T_PATH);
}
static void m_value_past_end(uint8_t *b, size_t *len)
{
	(void)len;
	store_le32(b + PG_API_HDR_LEN + 4, 100);
}
static void m_cut_field(uint8_t *b, size_t *len)
{
	*len -= 2;
	store_le32(b, (uint32_t)(*len - 4));
}
static void m_nul(uint8_t *b, size_t *len)
{
	(void)len;
	b[PG_API_HDR_LEN + 8] = 0;
}
static void m_utf8(uint8_t *b, size_t *len)
{
	(void)len;
	b[PG_API_HDR_LEN + 8] = 0xff;
}
static void m_trailing_byte(uint8_t *b, size_t *len)
{
	b[(*len)++] = 0;
	store_le32(b, (uint32_t)(*len - 4));
}
static void graph_twice(struct pg_api_writer *w)
{
	open_graph(w);
	pg_api_put_str(w, PG_API_T_GRAPH, "h");
}
static void graph_missing(struct pg_api_writer *w)
{
	pg_api_begin(w, PG_API_GRAPH_OPEN, 1, 0);
}
static void u32_short(struct pg_api_writer *w)
{
	pg_api_begin(w, PG_API_GRAPH_CREATE, 1, 0);
	pg_api_put_str(w, PG_API_T_GRAPH, "g");
	pg_api_put_bytes(w, PG_API_T_FLAGS, "abc", 3);
}
static void guid_long(struct pg_api_writer *w)
{
	pg_api_begin(w, PG_API_RECORD_GET, 1, 0);
	pg_api_put_str(w, PG_API_T_GRAPH, "g");
	pg_api_put_bytes(w, PG_API_T_RECORD_ID, "0123456789abcdefX", 17);
}
static void string_long(struct pg_api_writer *w)
{
	char s[300];

	memset(s, 'g', sizeof(s) - 1);
	s[sizeof(s) - 1] = '\0';
	pg_api_begin(w, PG_API_GRAPH_OPEN, 1, 0);
	pg_api_put_str(w, PG_API_T_GRAPH, s);
}
static void record_short(struct pg_api_writer *w)
{
	pg_api_begin(w, PG_API_RECORD_ADD, 1, 0);
	pg_api_put_str(w, PG_API_T_GRAPH, "g");
	pg_api_put_bytes(w, PG_API_T_RECORD, "tiny", 4);
}
static void add_without_records(struct pg_api_writer *w)
{
	pg_api_begin(w, PG_API_RECORD_ADD, 1, 0);
	pg_api_put_str(w, PG_API_T_GRAPH, "g");
}
static void item_bad_field(struct pg_api_writer *w)
{
	pg_api_begin(w, PG_API_GRAPH_LIST | PG_API_REPLY, 1, 0);
	pg_api_item_begin(w);
	pg_api_put_str(w, PG_API_T_GRAPH, "g");
	pg_api_put_u32(w, PG_API_T_STATUS, 1);
	pg_api_put_str(w, PG_API_T_QUERY, "x");
	pg_api_item_end(w);
}
static void item_missing_field(struct pg_api_writer *w)
{
	pg_api_begin(w, PG_API_GRAPH_LIST | PG_API_REPLY, 1, 0);
	pg_api_item_begin(w);
	pg_api_put_str(w, PG_API_T_GRAPH, "g");
	pg_api_item_end(w);
}
static void failed_reply_extra(struct pg_api_writer *w)
{
	pg_api_begin(w, PG_API_GRAPH_STATUS | PG_API_REPLY, 1, PG_E_NOT_FOUND);
	pg_api_put_u32(w, PG_API_T_STATUS, 1);
}
static void item_in_request(struct pg_api_writer *w)
{
	pg_api_begin(w, PG_API_HELLO, 1, 0);
	pg_api_item_begin(w);
	pg_api_item_end(w);
}

static void connect_no_address(struct pg_api_writer *w)
{
	pg_api_begin(w, PG_API_GRAPH_CONNECT, 1, 0);
	pg_api_put_str(w, PG_API_T_GRAPH, "g");
}
static void connect_address_long(struct pg_api_writer *w)
{
	char s[PG_API_ADDRESS_MAX + 2];

	memset(s, '1', sizeof(s) - 1);
	s[sizeof(s) - 1] = '\0';
	pg_api_begin(w, PG_API_GRAPH_CONNECT, 1, 0);
	pg_api_put_str(w, PG_API_T_GRAPH, "g");
	pg_api_put_str(w, PG_API_T_ADDRESS, s);
}
static void neighbour_no_address(struct pg_api_writer *w)
{
	pg_api_begin(w, PG_API_GRAPH_NEIGHBOURS | PG_API_REPLY, 1, 0);
	pg_api_item_begin(w);
	pg_api_put_str(w, PG_API_T_NODE, "n1");
	pg_api_item_end(w);
}
static void event_reason_u64(struct pg_api_writer *w)
{
	pg_api_begin(w, PG_API_EVENT, 0, 0);
	pg_api_put_u32(w, PG_API_T_EVENT_KIND, PG_API_EV_NEIGHBOUR_DOWN);
	pg_api_put_u64(w, PG_API_T_REASON, 1);
}
static void listen_with_address(struct pg_api_writer *w)
{
	pg_api_begin(w, PG_API_GRAPH_LISTEN, 1, 0);
	pg_api_put_str(w, PG_API_T_GRAPH, "g");
	pg_api_put_str(w, PG_API_T_ADDRESS, "127.0.0.1:1");
}
static void connect_reply_empty(struct pg_api_writer *w)
{
	pg_api_begin(w, PG_API_GRAPH_CONNECT | PG_API_REPLY, 1, 0);
}
static void neighbours_counter_u32(struct pg_api_writer *w)
{
	pg_api_begin(w, PG_API_GRAPH_NEIGHBOURS | PG_API_REPLY, 1, 0);
	pg_api_item_begin(w);
	pg_api_put_str(w, PG_API_T_ADDRESS, "127.0.0.1:1");
	pg_api_put_u32(w, PG_API_T_RECORDS_RX, 1);
	pg_api_item_end(w);
}

static void node_stats_with_graph(struct pg_api_writer *w)
{
	pg_api_begin(w, PG_API_NODE_STATS, 1, 0);
	pg_api_put_str(w, PG_API_T_GRAPH, "g");
}
static void node_stats_item_without_count(struct pg_api_writer *w)
{
	pg_api_begin(w, PG_API_NODE_STATS | PG_API_REPLY, 1, 0);
	pg_api_item_begin(w);
	pg_api_put_str(w, PG_API_T_NAME, "records_in");
	pg_api_item_end(w);
}
static void node_stats_name_long(struct pg_api_writer *w)
{
	char s[PG_API_NAME_MAX + 2];

	memset(s, 'a', sizeof(s) - 1);
	s[sizeof(s) - 1] = '\0';
	pg_api_begin(w, PG_API_NODE_STATS | PG_API_REPLY, 1, 0);
	pg_api_item_begin(w);
	pg_api_put_str(w, PG_API_T_NAME, s);
	pg_api_put_u64(w, PG_API_T_COUNT, 1);
	pg_api_item_end(w);
}
static void node_stats_count_u32(struct pg_api_writer *w)
{
	pg_api_begin(w, PG_API_NODE_STATS | PG_API_REPLY, 1, 0);
	pg_api_item_begin(w);
	pg_api_put_str(w, PG_API_T_NAME, "records_in");
	pg_api_put_u32(w, PG_API_T_COUNT, 1);
	pg_api_item_end(w);
}
static void neighbours_reasm_u32(struct pg_api_writer *w)
{
	pg_api_begin(w, PG_API_GRAPH_NEIGHBOURS | PG_API_REPLY, 1, 0);
	pg_api_item_begin(w);
	pg_api_put_str(w, PG_API_T_ADDRESS, "127.0.0.1:1");
	pg_api_put_u32(w, PG_API_T_REASM_TIMEOUTS, 1);
	pg_api_item_end(w);
}

static const struct bad_row bad_rows[] = {
	{ 1, "another protocol version", open_graph, m_version, PG_E_API_VERSION, 0 },
	{ 2, "len below the header", open_graph, m_len_small, PG_E_API_FRAME, 0 },
	{ 3, "len above the frame bound", open_graph, m_len_huge, PG_E_API_FRAME, 0 },
	{ 4, "unknown message type", open_graph, m_type, PG_E_API_TYPE, 0 },
	{ 5, "a request with a status", open_graph, m_status, PG_E_API_FIELD, 0 },
	{ 6, "field reserved bytes set", open_graph, m_reserved, PG_E_API_FIELD, PG_API_T_GRAPH },
	{ 7, "tag 0", open_graph, m_tag_zero, PG_E_API_FIELD, 0 },
	{ 8, "tag past the last", open_graph, m_tag_unknown, PG_E_API_FIELD, PG_API_TAGS },
	{ 9, "tag not allowed in this message", open_graph, m_tag_not_allowed, PG_E_API_FIELD,
	  PG_API_T_PATH },
	{ 10, "value past the end", open_graph, m_value_past_end, PG_E_API_FIELD, PG_API_T_GRAPH },
	{ 11, "field header cut short", open_graph, m_cut_field, PG_E_API_FIELD, 0 },
	{ 12, "NUL in a string", open_graph, m_nul, PG_E_API_FIELD, PG_API_T_GRAPH },
	{ 13, "string not UTF-8", open_graph, m_utf8, PG_E_API_FIELD, PG_API_T_GRAPH },
	{ 14, "a stray byte after the fields", open_graph, m_trailing_byte, PG_E_API_FIELD, 0 },
	{ 15, "a single field twice", graph_twice, nothing, PG_E_API_FIELD, PG_API_T_GRAPH },
	{ 16, "a required field missing", graph_missing, nothing, PG_E_API_FIELD, PG_API_T_GRAPH },
	{ 17, "u32 of 3 bytes", u32_short, nothing, PG_E_API_FIELD, PG_API_T_FLAGS },
	{ 18, "GUID of 17 bytes", guid_long, nothing, PG_E_API_FIELD, PG_API_T_RECORD_ID },
	{ 19, "graph id over 256 bytes", string_long, nothing, PG_E_API_FIELD, PG_API_T_GRAPH },
	{ 20, "record shorter than a header", record_short, nothing, PG_E_API_FIELD,
	  PG_API_T_RECORD },
	{ 21, "add without a record", add_without_records, nothing, PG_E_API_FIELD,
	  PG_API_T_RECORD },
	{ 22, "item with a field it may not carry", item_bad_field, nothing, PG_E_API_FIELD,
	  PG_API_T_QUERY },
	{ 23, "item missing a required field", item_missing_field, nothing, PG_E_API_FIELD,
	  PG_API_T_STATUS },
	{ 24, "failed reply with more than a message", failed_reply_extra, nothing, PG_E_API_FIELD,
	  PG_API_T_STATUS },
	{ 25, "item in a message without lists", item_in_request, nothing, PG_E_API_FIELD,
	  PG_API_T_ITEM },
	{ 26, "connect without an address", connect_no_address, nothing, PG_E_API_FIELD,
	  PG_API_T_ADDRESS },
	{ 27, "address over 261 bytes", connect_address_long, nothing, PG_E_API_FIELD,
	  PG_API_T_ADDRESS },
	{ 28, "neighbour item without its address", neighbour_no_address, nothing, PG_E_API_FIELD,
	  PG_API_T_ADDRESS },
	{ 29, "reason of 8 bytes", event_reason_u64, nothing, PG_E_API_FIELD, PG_API_T_REASON },
	{ 30, "listen with an address", listen_with_address, nothing, PG_E_API_FIELD,
	  PG_API_T_ADDRESS },
	{ 31, "connect reply without the resolved address", connect_reply_empty, nothing,
	  PG_E_API_FIELD, PG_API_T_ADDRESS },
	{ 32, "a link counter of 4 bytes", neighbours_counter_u32, nothing, PG_E_API_FIELD,
	  PG_API_T_RECORDS_RX },
	{ 33, "node stats naming a graph", node_stats_with_graph, nothing, PG_E_API_FIELD,
	  PG_API_T_GRAPH },
	{ 34, "a counter without its value", node_stats_item_without_count, nothing, PG_E_API_FIELD,
	  PG_API_T_COUNT },
	{ 35, "a counter's name over 64 bytes", node_stats_name_long, nothing, PG_E_API_FIELD,
	  PG_API_T_NAME },
	{ 36, "a counter of 4 bytes", node_stats_count_u32, nothing, PG_E_API_FIELD,
	  PG_API_T_COUNT },
	{ 37, "a reassembly count of 4 bytes", neighbours_reasm_u32, nothing, PG_E_API_FIELD,
	  PG_API_T_REASM_TIMEOUTS },
};

Test(api_frame, malformed_frames_are_refused)
{
	static uint8_t buf[4096];
	struct pg_api_writer w;

	pg_api_writer_init(&w, sizeof(buf) - 16);
	for (size_t i = 0; i < PG_ARRAY_SIZE(bad_rows); i++) {
		const struct bad_row *row = &bad_rows[i];
		struct pg_api_hdr h;
		uint16_t bad = 0;
		long n;
		size_t len;
		int got;

		row->make(&w);
		n = pg_api_end(&w);
		cr_assert_gt(n, 0, "row %d builds", row->no);
		len = (size_t)n;
		memcpy(buf, w.buf, len);
		row->mangle(buf, &len);
		got = receive(buf, len, &h, &bad);
		cr_expect_eq(got, row->want, "row %d (%s): got %s", row->no, row->what,
			     pg_strerror_name(got));
		if (row->want == PG_E_API_FIELD)
			cr_expect_eq(bad, row->bad_tag, "row %d: names field %u, not %u", row->no,
				     bad, row->bad_tag);
	}
	pg_api_writer_free(&w);
}
