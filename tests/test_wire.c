/*
 * test_wire.c - the datagram codec (dataplane/link/wire.h): every frame round-trips, and every
 * cut, wrong field and past-the-end length is refused with its reason.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "pg_bytes.h"
#include "pg_error.h"
#include "wire.h"

static uint8_t buf[DP_WIRE_DGRAM_MAX];

static const uint8_t cookie[DP_WIRE_COOKIE_LEN] = { 1, 2,  3,  4,  5,  6,  7,  8,
						    9, 10, 11, 12, 13, 14, 15, 16 };

static size_t hello(uint8_t *out, bool with_cookie)
{
	struct dp_wire_hello h = {
		.link = 77,
		.max_dgram = 1472,
		.graph = "lab",
		.graph_len = 3,
		.node = "node-1",
		.node_len = 6,
		.cookie = cookie,
		.cookie_len = with_cookie ? DP_WIRE_COOKIE_LEN : 0,
	};

	return dp_wire_hello(out, DP_WIRE_DGRAM_MAX, 0x1122334455667788ull, &h);
}

/* Every proper prefix of a valid datagram is refused as cut short. */
static void all_prefixes_refused(const uint8_t *d, size_t len)
{
	struct dp_wire_msg m;

	cr_assert_eq(dp_wire_decode(d, len, &m), 0);
	for (size_t i = 0; i < len; i++) {
		int rc = dp_wire_decode(d, i, &m);

		cr_assert(rc == PG_E_WIRE_LENGTH ||
			      (rc == PG_E_WIRE_FIELD && m.type == DP_WIRE_DATA),
			  "prefix %zu of %zu: %d", i, len, rc);
	}
}

Test(wire, hello_round_trip_and_prefixes)
{
	struct dp_wire_msg m;
	size_t len = hello(buf, true);

	cr_assert_gt(len, 0);
	cr_assert_eq(dp_wire_decode(buf, len, &m), 0);
	cr_assert_eq(m.type, DP_WIRE_HELLO);
	cr_assert_eq(m.link, 0);
	cr_assert_eq(m.seq, 0x1122334455667788ull);
	cr_assert_eq(m.u.hello.link, 77);
	cr_assert_eq(m.u.hello.max_dgram, 1472);
	cr_assert_eq(m.u.hello.graph_len, 3);
	cr_assert(!memcmp(m.u.hello.graph, "lab", 3));
	cr_assert(!memcmp(m.u.hello.node, "node-1", 6));
	cr_assert_eq(m.u.hello.cookie_len, DP_WIRE_COOKIE_LEN);
	cr_assert(!memcmp(m.u.hello.cookie, cookie, sizeof(cookie)));
	all_prefixes_refused(buf, len);
	/* a trailing byte is not padding outside DATA */
	cr_assert_eq(dp_wire_decode(buf, len + 1, &m), PG_E_WIRE_LENGTH);

	len = hello(buf, false);
	cr_assert_eq(dp_wire_decode(buf, len, &m), 0);
	cr_assert_eq(m.u.hello.cookie_len, 0);
}

Test(wire, header_fields_refused)
{
	struct dp_wire_msg m;
	size_t len = hello(buf, false);

	buf[0] = 0x50;
	cr_assert_eq(dp_wire_decode(buf, len, &m), PG_E_WIRE_MAGIC);
	cr_assert_eq(dp_wire_decode(buf, 3, &m), PG_E_WIRE_MAGIC);
	buf[0] = DP_WIRE_MAGIC;
	buf[1] = 2;
	cr_assert_eq(dp_wire_decode(buf, len, &m), PG_E_WIRE_VERSION);
	buf[1] = DP_WIRE_VERSION;
	buf[2] = 0;
	cr_assert_eq(dp_wire_decode(buf, len, &m), PG_E_WIRE_TYPE);
	buf[2] = DP_WIRE_TYPES;
	cr_assert_eq(dp_wire_decode(buf, len, &m), PG_E_WIRE_TYPE);
	buf[2] = DP_WIRE_HELLO;
	buf[3] = 1;
	cr_assert_eq(dp_wire_decode(buf, len, &m), PG_E_WIRE_FLAGS);
	buf[3] = 0;
	store_le32(buf + 4, 9); /* a HELLO names no link */
	cr_assert_eq(dp_wire_decode(buf, len, &m), PG_E_WIRE_FIELD);
	store_le32(buf + 4, 0);
	cr_assert_eq(dp_wire_decode(buf, len, &m), 0);
}

Test(wire, hello_fields_refused)
{
	struct dp_wire_msg m;
	size_t len = hello(buf, true);
	uint8_t *b = buf + DP_WIRE_HDR_LEN;

	store_le32(b, 0); /* link id 0 */
	cr_assert_eq(dp_wire_decode(buf, len, &m), PG_E_WIRE_FIELD);
	store_le32(b, 77);
	store_le32(b + 4, DP_WIRE_DGRAM_MIN - 1);
	cr_assert_eq(dp_wire_decode(buf, len, &m), PG_E_WIRE_FIELD);
	store_le32(b + 4, DP_WIRE_DGRAM_MAX + 1);
	cr_assert_eq(dp_wire_decode(buf, len, &m), PG_E_WIRE_FIELD);
	store_le32(b + 4, 1472);
	store_le16(b + 8, 0); /* empty graph id */
	cr_assert_eq(dp_wire_decode(buf, len, &m), PG_E_WIRE_FIELD);
	store_le16(b + 8, 0xffff); /* past the end */
	cr_assert_eq(dp_wire_decode(buf, len, &m), PG_E_WIRE_FIELD);
	store_le16(b + 8, 300);
	cr_assert_eq(dp_wire_decode(buf, len, &m), PG_E_WIRE_FIELD);
	store_le16(b + 8, 3);
	buf[len - DP_WIRE_COOKIE_LEN - 1] = 15; /* cookie length neither 0 nor 16 */
	cr_assert_eq(dp_wire_decode(buf, len, &m), PG_E_WIRE_FIELD);
	buf[len - DP_WIRE_COOKIE_LEN - 1] = DP_WIRE_COOKIE_LEN;
	cr_assert_eq(dp_wire_decode(buf, len, &m), 0);
}

Test(wire, cookie_welcome_ping_close)
{
	struct dp_wire_msg m;
	struct dp_wire_welcome w = { .link = 5, .max_dgram = 9000, .node = "n2", .node_len = 2 };
	size_t len;

	len = dp_wire_cookie(buf, sizeof(buf), 42, cookie);
	cr_assert_eq(dp_wire_decode(buf, len, &m), 0);
	cr_assert_eq(m.type, DP_WIRE_COOKIE);
	cr_assert_eq(m.seq, 42);
	cr_assert(!memcmp(m.u.cookie, cookie, sizeof(cookie)));
	all_prefixes_refused(buf, len);

	len = dp_wire_welcome(buf, sizeof(buf), 77, 42, &w);
	cr_assert_eq(dp_wire_decode(buf, len, &m), 0);
	cr_assert_eq(m.type, DP_WIRE_WELCOME);
	cr_assert_eq(m.link, 77);
	cr_assert_eq(m.u.welcome.link, 5);
	cr_assert_eq(m.u.welcome.max_dgram, 9000);
	cr_assert(!memcmp(m.u.welcome.node, "n2", 2));
	all_prefixes_refused(buf, len);
	store_le32(buf + 4, 0); /* a WELCOME must name the initiator's link */
	cr_assert_eq(dp_wire_decode(buf, len, &m), PG_E_WIRE_FIELD);
	cr_assert_eq(dp_wire_welcome(buf, sizeof(buf), 0, 42, &w), 0);

	len = dp_wire_ping(buf, sizeof(buf), 3, DP_WIRE_PONG, 99);
	cr_assert_eq(dp_wire_decode(buf, len, &m), 0);
	cr_assert_eq(m.type, DP_WIRE_PONG);
	cr_assert_eq(m.u.token, 99);
	all_prefixes_refused(buf, len);
	store_le64(buf + 8, 1); /* only DATA and the handshake use the sequence field */
	cr_assert_eq(dp_wire_decode(buf, len, &m), PG_E_WIRE_FIELD);

	len = dp_wire_close(buf, sizeof(buf), 3, DP_CLOSE_NO_GRAPH);
	cr_assert_eq(dp_wire_decode(buf, len, &m), 0);
	cr_assert_eq(m.u.reason, DP_CLOSE_NO_GRAPH);
	store_le32(buf + DP_WIRE_HDR_LEN, DP_CLOSE_REASON_MAX + 1);
	cr_assert_eq(dp_wire_decode(buf, len, &m), PG_E_WIRE_FIELD);
	cr_assert_eq(dp_wire_close(buf, sizeof(buf), 3, 0), 0);
	cr_assert_eq(dp_wire_cookie(buf, DP_WIRE_HDR_LEN + 15, 1, cookie), 0);
}

Test(wire, ack_ranges)
{
	struct dp_wire_ack a = { .cum = 100, .limit = 300, .delay_us = 250, .n = 2 };
	struct dp_wire_msg m;
	size_t len;

	a.r[0] = (struct dp_wire_range){ 2, 5 };  /* 102..106 */
	a.r[1] = (struct dp_wire_range){ 10, 1 }; /* 117 */
	len = dp_wire_ack(buf, sizeof(buf), 8, &a);
	cr_assert_eq(dp_wire_decode(buf, len, &m), 0);
	cr_assert_eq(m.u.ack.cum, 100);
	cr_assert_eq(m.u.ack.limit, 300);
	cr_assert_eq(m.u.ack.delay_us, 250);
	cr_assert_eq(m.u.ack.n, 2);
	cr_assert_eq(m.u.ack.r[1].gap, 10);
	all_prefixes_refused(buf, len);

	store_le32(buf + DP_WIRE_HDR_LEN + 22, 0); /* a gap of 0 */
	cr_assert_eq(dp_wire_decode(buf, len, &m), PG_E_WIRE_FIELD);
	store_le32(buf + DP_WIRE_HDR_LEN + 22, 2);
	store_le32(buf + DP_WIRE_HDR_LEN + 34, 0xffffffffu); /* past the limit */
	cr_assert_eq(dp_wire_decode(buf, len, &m), PG_E_WIRE_FIELD);
	store_le32(buf + DP_WIRE_HDR_LEN + 34, 1);
	store_le64(buf + DP_WIRE_HDR_LEN + 8, 99); /* limit below cum */
	cr_assert_eq(dp_wire_decode(buf, len, &m), PG_E_WIRE_FIELD);
	store_le64(buf + DP_WIRE_HDR_LEN + 8, 300);
	store_le16(buf + DP_WIRE_HDR_LEN + 20, DP_WIRE_SACK_MAX + 1);
	cr_assert_eq(dp_wire_decode(buf, len, &m), PG_E_WIRE_FIELD);
	store_le16(buf + DP_WIRE_HDR_LEN + 20, 3); /* more ranges than the datagram holds */
	cr_assert_eq(dp_wire_decode(buf, len, &m), PG_E_WIRE_LENGTH);
}

Test(wire, data_records_fragments_padding)
{
	static uint8_t big[5000];
	struct dp_wire_data w;
	struct dp_wire_msg m;
	struct dp_wire_chunk c;
	uint32_t pos = 0, len, taken;

	for (unsigned i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7);
	dp_wire_data_begin(&w, buf, 1472, 12, 1000);
	cr_assert_eq(dp_wire_data_record(&w, (const uint8_t *)"abc", 3), 0);
	cr_assert_eq(dp_wire_data_record(&w, big, 1472), -ENOSPC);
	taken = dp_wire_data_fragment(&w, 7, big, sizeof(big), 100);
	cr_assert_eq(taken, 1472 - DP_WIRE_HDR_LEN - 8 - DP_WIRE_FRAG_HDR);
	cr_assert_eq(dp_wire_data_fragment(&w, 7, big, sizeof(big), 100 + taken), 0);
	len = dp_wire_data_end(&w, 1472);
	cr_assert_eq(len, 1472);
	cr_assert_eq(dp_wire_decode(buf, len, &m), 0);
	cr_assert_eq(m.seq, 1000);
	cr_assert_eq(m.u.data.records, 1);
	cr_assert_eq(m.u.data.fragments, 1);
	cr_assert_eq(dp_wire_chunk_next(&m, &pos, &c), 1);
	cr_assert_eq(c.kind, DP_CHUNK_RECORD);
	cr_assert_eq(c.len, 3);
	cr_assert(!memcmp(c.bytes, "abc", 3));
	cr_assert_eq(dp_wire_chunk_next(&m, &pos, &c), 1);
	cr_assert_eq(c.kind, DP_CHUNK_FRAGMENT);
	cr_assert_eq(c.msg, 7);
	cr_assert_eq(c.total, sizeof(big));
	cr_assert_eq(c.off, 100);
	cr_assert_eq(c.len, taken);
	cr_assert(!memcmp(c.bytes, big + 100, taken));
	cr_assert_eq(dp_wire_chunk_next(&m, &pos, &c), 0);

	/* padding: a datagram that is only padding carries nothing and is refused */
	dp_wire_data_begin(&w, buf, 1472, 12, 1);
	len = dp_wire_data_end(&w, 600);
	cr_assert_eq(dp_wire_decode(buf, len, &m), PG_E_WIRE_FIELD);
	/* an unknown chunk kind */
	dp_wire_data_begin(&w, buf, 1472, 12, 1);
	dp_wire_data_record(&w, (const uint8_t *)"x", 1);
	buf[DP_WIRE_HDR_LEN] = 3;
	cr_assert_eq(dp_wire_decode(buf, w.len, &m), PG_E_WIRE_TYPE);
}

Test(wire, data_lengths_past_the_end)
{
	struct dp_wire_data w;
	struct dp_wire_msg m;
	uint32_t len;
	uint8_t rec[64] = { 0 };

	dp_wire_data_begin(&w, buf, 1472, 12, 1);
	dp_wire_data_record(&w, rec, sizeof(rec));
	len = dp_wire_data_end(&w, 0);
	all_prefixes_refused(buf, len);
	store_le32(buf + DP_WIRE_HDR_LEN + 1, 65); /* one byte past the end */
	cr_assert_eq(dp_wire_decode(buf, len, &m), PG_E_WIRE_LENGTH);
	store_le32(buf + DP_WIRE_HDR_LEN + 1, 0xffffffffu);
	cr_assert_eq(dp_wire_decode(buf, len, &m), PG_E_WIRE_LENGTH);
	store_le32(buf + DP_WIRE_HDR_LEN + 1, 0); /* an empty record */
	cr_assert_eq(dp_wire_decode(buf, len, &m), PG_E_WIRE_FIELD);

	dp_wire_data_begin(&w, buf, 1472, 12, 1);
	cr_assert_eq(dp_wire_data_fragment(&w, 1, rec, sizeof(rec), 10), 54);
	len = dp_wire_data_end(&w, 0);
	cr_assert_eq(dp_wire_decode(buf, len, &m), 0);
	store_le32(buf + DP_WIRE_HDR_LEN + 13, 11); /* offset + len past total */
	cr_assert_eq(dp_wire_decode(buf, len, &m), PG_E_WIRE_FIELD);
	store_le32(buf + DP_WIRE_HDR_LEN + 13, 0xfffffff0u); /* and wrapping 32 bits */
	cr_assert_eq(dp_wire_decode(buf, len, &m), PG_E_WIRE_FIELD);
	store_le32(buf + DP_WIRE_HDR_LEN + 13, 10);
	store_le32(buf + DP_WIRE_HDR_LEN + 9, 0); /* total 0 */
	cr_assert_eq(dp_wire_decode(buf, len, &m), PG_E_WIRE_FIELD);
}

Test(wire, encoders_refuse_what_decoder_would)
{
	struct dp_wire_hello h = { .link = 1,
				   .max_dgram = 100,
				   .graph = "g",
				   .graph_len = 1,
				   .node = "n",
				   .node_len = 1 };
	struct dp_wire_ack a = { .cum = 5, .limit = 4 };

	cr_assert_eq(dp_wire_hello(buf, sizeof(buf), 1, &h), 0);
	h.max_dgram = 1472;
	cr_assert_gt(dp_wire_hello(buf, sizeof(buf), 1, &h), 0);
	cr_assert_eq(dp_wire_hello(buf, DP_WIRE_HDR_LEN + 8, 1, &h), 0);
	cr_assert_eq(dp_wire_ack(buf, sizeof(buf), 1, &a), 0);
	cr_assert_str_eq(dp_wire_type_name(DP_WIRE_DATA), "DATA");
	cr_assert_str_eq(dp_wire_type_name(0), "?");
	cr_assert_str_eq(dp_wire_type_name(200), "?");
}
