/*
 * test_flood_raw.c - a daemon's dataplane port against datagrams written by hand (the wire
 * format of doc/flood.md, "Datagrams", through dataplane/link/wire.h's encoders), from raw
 * UDP sockets of this test:
 *
 *   - partial_fragments_freed: a peer that shakes hands properly (HELLO, COOKIE, HELLO with
 *     the cookie, WELCOME), then sends the first pieces of a 256 KiB record and never the
 *     last: the daemon holds them until its reassembly timeout ([dataplane]
 *     reassembly_timeout_ms, 1 s here), then frees and counts them (NODE_STATS
 *     reasm_timeouts, the link's REASM_TIMEOUTS), stores nothing, and keeps serving.
 *   - partial_fragments_counted_when_link_closes: the same, but the peer closes the link
 *     before the timeout.
 *   - older_copy_answered_with_ours: the peer sends a record, then an older version of it:
 *     the daemon stores the first, and answers the older copy with its own (read from its
 *     store: the version table keeps only headers), byte for byte, counted as answered.
 *   - junk_changes_nothing: random bytes, truncated datagrams, lengths past the end, wrong
 *     versions, types and flags, unknown link ids, replayed handshake datagrams, DATA for a
 *     real link from another address, and a flood from a non-neighbour: the database is the
 *     same after as before (digest), the daemon serves, the real link stays up, and each
 *     datagram is counted by its reason (drops_*, decode_err_*), exactly.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <time.h>

#include "flood_fixture.h"
#include "link/wire.h"
#include "record.h"

static void fini(void)
{
	fnodes_fini();
}

TestSuite(flood_raw, .fini = fini, .timeout = 60);

enum {
	RAW_DGRAM = DP_WIRE_DGRAM_DEFAULT,
	REASM_TIMEOUT_MS = 1000,
	FRAG_TOTAL = 256 << 10, /* the record the fragments claim to be part of */
	FRAG_DATAGRAMS = 48,	/* sent: ~68 KiB of it, under the link's first window (64) */
	MY_LINK = 0x1234,	/* the raw peer's link id */
};

/* A UDP socket of the test, bound to 127.0.0.1, aimed at a daemon's dataplane. */
struct raw {
	int fd;
	struct sockaddr_in to;
	uint8_t buf[DP_WIRE_DGRAM_MAX];
};

static void raw_open(struct raw *r, const char *addr)
{
	struct sockaddr_in me = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	const char *colon = strrchr(addr, ':');

	cr_assert_not_null(colon, "%s", addr);
	memset(&r->to, 0, sizeof(r->to));
	r->to.sin_family = AF_INET;
	r->to.sin_port = htons((uint16_t)atoi(colon + 1));
	r->to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	r->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(r->fd, 0);
	cr_assert_eq(bind(r->fd, (struct sockaddr *)&me, sizeof(me)), 0);
}

static void raw_send(struct raw *r, const void *b, size_t len)
{
	cr_assert_eq(sendto(r->fd, b, len, 0, (struct sockaddr *)&r->to, sizeof(r->to)),
		     (ssize_t)len);
}

/* Receives until a datagram of that type decodes into *m (pointing into r->buf), within
 * timeout_ms; others are skipped. */
static void raw_expect(struct raw *r, uint8_t type, struct dp_wire_msg *m, int timeout_ms)
{
	uint64_t end = now_ms() + (uint64_t)timeout_ms;

	for (;;) {
		struct pollfd p = { .fd = r->fd, .events = POLLIN };
		int left = (int)(end - now_ms());
		ssize_t n;

		cr_assert(left > 0 && poll(&p, 1, left) == 1, "no %s within %d ms",
			  dp_wire_type_name(type), timeout_ms);
		n = recv(r->fd, r->buf, sizeof(r->buf), 0);
		cr_assert_gt(n, 0);
		if (dp_wire_decode(r->buf, (size_t)n, m) == 0 && m->type == type)
			return;
	}
}

/* HELLO -> COOKIE -> HELLO with the cookie -> WELCOME, for graph GRAPH. Returns the
 * daemon's link id; cookie and hello (len *hello_len) keep what was sent, for replays. */
static uint32_t raw_handshake(struct raw *r, uint64_t nonce, uint8_t cookie[DP_WIRE_COOKIE_LEN],
			      uint8_t *hello, size_t *hello_len)
{
	struct dp_wire_hello h = {
		.link = MY_LINK,
		.max_dgram = RAW_DGRAM,
		.graph = GRAPH,
		.graph_len = (uint16_t)strlen(GRAPH),
		.node = "raw-peer",
		.node_len = 8,
	};
	struct dp_wire_msg m;
	size_t len = dp_wire_hello(hello, RAW_DGRAM, nonce, &h);

	cr_assert_gt(len, 0);
	raw_send(r, hello, len);
	raw_expect(r, DP_WIRE_COOKIE, &m, 2000);
	cr_assert_eq(m.seq, nonce);
	memcpy(cookie, m.u.cookie, DP_WIRE_COOKIE_LEN);
	h.cookie = cookie;
	h.cookie_len = DP_WIRE_COOKIE_LEN;
	*hello_len = dp_wire_hello(hello, RAW_DGRAM, nonce, &h);
	raw_send(r, hello, *hello_len);
	raw_expect(r, DP_WIRE_WELCOME, &m, 2000);
	cr_assert_eq(m.link, MY_LINK);
	cr_assert_neq(m.u.welcome.link, 0);
	return m.u.welcome.link;
}

static void raw_ping(struct raw *r, uint32_t link)
{
	uint8_t b[64];
	size_t len = dp_wire_ping(b, sizeof(b), link, DP_WIRE_PING, 7);

	cr_assert_gt(len, 0);
	raw_send(r, b, len);
}

/* One daemon with the graph, listening; `records` records of its own. */
static void one_node(const char *const *sets, size_t records, struct facks *acks)
{
	fnode_start(0, sets);
	fnode_graph(0, 0);
	if (records)
		fnode_publish(0, 0, records, true, 0, acks, NULL, NULL);
}

static struct peergraph_node_stats stats_of(unsigned i)
{
	struct peergraph_node_stats st;

	cr_assert_eq(peergraph_node_stats(fnodes[i].pg, &st), 0);
	return st;
}

Test(flood_raw, partial_fragments_freed)
{
	static const char *const sets[] = { "dataplane.reassembly_timeout_ms=1000", NULL };
	static uint8_t record[FRAG_TOTAL], dgram[RAW_DGRAM];
	uint8_t cookie[DP_WIRE_COOKIE_LEN], hello[RAW_DGRAM];
	struct peergraph_neighbour nb;
	struct peergraph_node_stats st;
	uint32_t link, off = 0;
	uint64_t sent_at, end;
	struct raw r;
	size_t hello_len;
	unsigned n;

	one_node(sets, 0, NULL);
	raw_open(&r, fnodes[0].addr);
	link = raw_handshake(&r, 0x5eed0001, cookie, hello, &hello_len);
	fnode_wait_links(0, 1);

	memset(record, 0xab, sizeof(record));
	for (uint64_t seq = 0; seq < FRAG_DATAGRAMS; seq++) {
		struct dp_wire_data w;

		dp_wire_data_begin(&w, dgram, sizeof(dgram), link, seq);
		off += dp_wire_data_fragment(&w, 77, record, FRAG_TOTAL, off);
		raw_send(&r, dgram, dp_wire_data_end(&w, 0));
	}
	sent_at = now_ms();
	cr_assert_lt(off, FRAG_TOTAL, "the last piece is never sent");

	/* held, not yet freed, well before the timeout */
	sleep_ms(REASM_TIMEOUT_MS / 4);
	st = stats_of(0);
	cr_expect_eq(st.reasm_timeouts, 0, "freed after %llu ms, the timeout is %d ms",
		     (unsigned long long)(now_ms() - sent_at), REASM_TIMEOUT_MS);
	cr_expect_eq(st.drops[PEERGRAPH_DROP_UNKNOWN] + st.drops[PEERGRAPH_DROP_DECODE], 0);

	/* freed within the timeout and a few worker turns; the link is kept alive meanwhile */
	end = sent_at + REASM_TIMEOUT_MS * 3;
	do {
		raw_ping(&r, link);
		sleep_ms(POLL_MS);
		st = stats_of(0);
	} while (st.reasm_timeouts == 0 && now_ms() < end);
	cr_assert_eq(st.reasm_timeouts, 1, "no reassembly timeout within %d ms",
		     REASM_TIMEOUT_MS * 3);
	cr_log_info("freed %llu ms after the last piece (timeout %d ms)",
		    (unsigned long long)(now_ms() - sent_at), REASM_TIMEOUT_MS);
	cr_expect_geq(now_ms() - sent_at, REASM_TIMEOUT_MS);
	cr_expect_eq(st.records_in + st.records_new + st.reasm_bad, 0, "nothing taken");
	cr_expect_eq(fnode_records(0), 0, "nothing stored");
	cr_assert_eq(peergraph_graph_neighbours(fnodes[0].pg, GRAPH, &nb, 1, &n), 0);
	cr_assert_eq(n, 1, "the link stays up");
	cr_expect_str_eq(nb.node, "raw-peer");
	cr_expect_eq(nb.reasm_timeouts, 1, "counted on the link too");
	/* still serving */
	cr_expect_eq(peergraph_hello(fnodes[0].pg, NULL, 0, NULL), 0);
	close(r.fd);
}

/*
 * doc/flood.md, "Fragmentation": a message not completed within the timeout, "or whose link
 * dies, is freed and counted". A link that closes holding a partial record frees it when it
 * leaves the up state and counts it with the timed-out ones (it failed before link.c did).
 */
Test(flood_raw, partial_fragments_counted_when_link_closes)
{
	static uint8_t record[FRAG_TOTAL], dgram[RAW_DGRAM];
	uint8_t cookie[DP_WIRE_COOKIE_LEN], hello[RAW_DGRAM], b[64];
	struct peergraph_node_stats st;
	uint32_t link, off = 0;
	struct raw r;
	size_t hello_len;

	one_node(NULL, 0, NULL); /* the default reassembly timeout: 10 s, longer than this test */
	raw_open(&r, fnodes[0].addr);
	link = raw_handshake(&r, 0x5eed0003, cookie, hello, &hello_len);
	fnode_wait_links(0, 1);
	for (uint64_t seq = 0; seq < 8; seq++) {
		struct dp_wire_data w;

		dp_wire_data_begin(&w, dgram, sizeof(dgram), link, seq);
		off += dp_wire_data_fragment(&w, 78, record, FRAG_TOTAL, off);
		raw_send(&r, dgram, dp_wire_data_end(&w, 0));
	}
	sleep_ms(SETTLE_MS);
	raw_send(&r, b, dp_wire_close(b, sizeof(b), link, DP_CLOSE_BY_PEER));
	fnode_wait_links(0, 0);
	sleep_ms(SETTLE_MS); /* the counters are published every 100 ms */
	st = stats_of(0);
	cr_expect_eq(st.links_down, 1);
	cr_expect_eq(st.reasm_timeouts, 1, "the partial record freed with its link, not counted");
	close(r.fd);
}

/* ---- an older copy ------------------------------------------------------------------------- */

/* The encoding of a record of the raw peer's, version `version` (updated when > 1). */
static size_t raw_record(uint8_t *out, size_t cap, uint32_t version)
{
	static const uint8_t payload[64] = { 0x5a };
	struct pg_record_limits lim;
	uint64_t now = (uint64_t)time(NULL) * 1000000;
	struct pg_record r = {
		.type = { { 0x0a, 0x5e } },
		.id = { { 0x01, 0xd0 } },
		.version = version,
		.created_us = now,
		.modified_us = now + version,
		.expires_us = now + 3600ull * 1000000,
		.creator = "raw-peer",
		.creator_len = 8,
		.modifier = version > 1 ? "raw-peer" : NULL,
		.modifier_len = version > 1 ? 8 : 0,
		.payload = payload,
		.payload_len = sizeof(payload),
	};
	long len;

	pg_record_limits_default(&lim);
	len = pg_record_encode(&r, &lim, out, cap);
	cr_assert_gt(len, 0);
	return (size_t)len;
}

Test(flood_raw, older_copy_answered_with_ours)
{
	static uint8_t dgram[RAW_DGRAM];
	uint8_t cookie[DP_WIRE_COOKIE_LEN], hello[RAW_DGRAM], v2[512], v1[512];
	size_t hello_len, n2 = raw_record(v2, sizeof(v2), 2), n1 = raw_record(v1, sizeof(v1), 1);
	struct dp_wire_data w;
	struct dp_wire_msg m;
	struct dp_wire_chunk ch;
	struct peergraph_node_stats st;
	struct raw r;
	uint32_t link;
	bool found = false;

	one_node(NULL, 0, NULL);
	raw_open(&r, fnodes[0].addr);
	link = raw_handshake(&r, 0x5eed0005, cookie, hello, &hello_len);
	fnode_wait_links(0, 1);
	dp_wire_data_begin(&w, dgram, sizeof(dgram), link, 0);
	cr_assert_eq(dp_wire_data_record(&w, v2, (uint32_t)n2), 0);
	raw_send(&r, dgram, dp_wire_data_end(&w, 0));
	for (uint64_t end = now_ms() + 5000; fnode_records(0) < 1 && now_ms() < end;)
		sleep_ms(POLL_MS);
	cr_assert_eq(fnode_records(0), 1, "version 2 stored");

	dp_wire_data_begin(&w, dgram, sizeof(dgram), link, 1);
	cr_assert_eq(dp_wire_data_record(&w, v1, (uint32_t)n1), 0);
	raw_send(&r, dgram, dp_wire_data_end(&w, 0));
	raw_expect(&r, DP_WIRE_DATA, &m, 3000);
	cr_assert_eq(m.link, MY_LINK);
	for (uint32_t pos = 0; dp_wire_chunk_next(&m, &pos, &ch);)
		found |= ch.kind == DP_CHUNK_RECORD && ch.len == n2 && !memcmp(ch.bytes, v2, n2);
	cr_assert(found, "the answer carries our version 2, byte for byte");
	sleep_ms(SETTLE_MS);
	st = stats_of(0);
	cr_expect_eq(st.records_new, 1);
	cr_expect_eq(st.records_stale, 1);
	cr_expect_eq(st.records_answered, 1);
	cr_expect_eq(fnode_records(0), 1);
	close(r.fd);
}

/* ---- junk at the port ---------------------------------------------------------------------- */

enum {
	JUNK_RECORDS = 200,   /* the node's own, before the junk */
	JUNK_MAGIC = 36,      /* random bytes whose first is not the magic */
	JUNK_SHORT = 8,	      /* the magic and version, then cut before 16 bytes */
	JUNK_PAST = 8,	      /* a length that runs past the end */
	JUNK_EACH = 4,	      /* of each wrong version, type, flags, field */
	JUNK_UNKNOWN = 16,    /* ACK, PING, DATA to a link id the node does not have */
	JUNK_FLOOD = 400,     /* DATA full of records from a non-neighbour */
	JUNK_REPLAYS = 2,     /* of each handshake replay */
	JUNK_ADDRESS = 8,     /* DATA on the real link, from another address */
	JUNK_CLOSE_OTHER = 2, /* CLOSE of the real link, from another address */
	JUNK_PACE = 32,	      /* datagrams between two 1 ms pauses: no loss in the kernel */
};

static uint64_t junk_seed = 0x6a756e6b;

static uint64_t rnd(void)
{
	junk_seed ^= junk_seed << 13;
	junk_seed ^= junk_seed >> 7;
	junk_seed ^= junk_seed << 17;
	return junk_seed;
}

static unsigned paced;

/* Sends and, every JUNK_PACE datagrams, pauses so the daemon's socket never overflows. */
static void send_paced(struct raw *r, const void *b, size_t len)
{
	raw_send(r, b, len);
	if (++paced % JUNK_PACE == 0)
		sleep_ms(1);
}

/* A 16-byte header as the wire has it, fields as given (no checks: that is the point). */
static void hdr(uint8_t *b, uint8_t magic, uint8_t version, uint8_t type, uint8_t flags,
		uint32_t link, uint64_t seq)
{
	b[0] = magic;
	b[1] = version;
	b[2] = type;
	b[3] = flags;
	memcpy(b + 4, &link, 4); /* little-endian host (x86-64, arm64) */
	memcpy(b + 8, &seq, 8);
}

/* A DATA datagram for link with `records` RECORD chunks of junk (they would be the record
 * decoder's business, which they must never reach). */
static size_t data_records(uint8_t *b, size_t cap, uint32_t link, uint64_t seq, unsigned records)
{
	struct dp_wire_data w;
	uint8_t rec[100];

	dp_wire_data_begin(&w, b, (uint32_t)cap, link, seq);
	for (unsigned i = 0; i < records; i++) {
		for (size_t k = 0; k < sizeof(rec); k++)
			rec[k] = (uint8_t)rnd();
		cr_assert_eq(dp_wire_data_record(&w, rec, sizeof(rec)), 0);
	}
	return dp_wire_data_end(&w, 0);
}

/* The decode errors, in PG_E_WIRE_* order. */
static void send_malformed(struct raw *r, uint32_t real)
{
	uint8_t b[RAW_DGRAM];
	size_t len;

	for (unsigned i = 0; i < JUNK_MAGIC; i++) {
		len = i < 4 ? 1 + rnd() % 15 : 16 + rnd() % (RAW_DGRAM - 16);
		for (size_t k = 0; k < len; k++)
			b[k] = (uint8_t)rnd();
		if (b[0] == DP_WIRE_MAGIC)
			b[0] ^= 0xff;
		send_paced(r, b, len);
	}
	for (unsigned i = 0; i < JUNK_SHORT; i++) {
		hdr(b, DP_WIRE_MAGIC, DP_WIRE_VERSION, DP_WIRE_DATA, 0, real, i);
		send_paced(r, b, 1 + i % 15);
	}
	for (unsigned i = 0; i < JUNK_PAST; i++) {
		/* a RECORD chunk that says 1000 bytes with 10 behind it; a HELLO whose graph id
		 * runs past the end */
		if (i % 2 == 0) {
			hdr(b, DP_WIRE_MAGIC, DP_WIRE_VERSION, DP_WIRE_DATA, 0, real, 1000 + i);
			b[16] = DP_CHUNK_RECORD;
			memcpy(b + 17, &(uint32_t){ 1000 }, 4);
			memset(b + 21, 0x55, 10);
			send_paced(r, b, 31);
		} else {
			hdr(b, DP_WIRE_MAGIC, DP_WIRE_VERSION, DP_WIRE_HELLO, 0, 0, 9);
			memcpy(b + 16, &(uint32_t){ 5 }, 4);
			memcpy(b + 20, &(uint32_t){ RAW_DGRAM }, 4);
			memcpy(b + 24, &(uint16_t){ 200 }, 2);
			memset(b + 26, 'g', 30);
			send_paced(r, b, 56);
		}
	}
	for (unsigned i = 0; i < JUNK_EACH; i++) {
		hdr(b, DP_WIRE_MAGIC, DP_WIRE_VERSION + 1 + (uint8_t)i, DP_WIRE_PING, 0, real, 0);
		send_paced(r, b, 24);
		hdr(b, DP_WIRE_MAGIC, DP_WIRE_VERSION, i % 2 ? 0 : DP_WIRE_TYPES + (uint8_t)i, 0,
		    real, 0);
		send_paced(r, b, 24);
		hdr(b, DP_WIRE_MAGIC, DP_WIRE_VERSION, DP_WIRE_PING, (uint8_t)(1u << i), real, 0);
		send_paced(r, b, 24);
		/* an ACK without a link id (every type but HELLO and COOKIE needs one) */
		len = dp_wire_ping(b, sizeof(b), real, DP_WIRE_PING, 1);
		memset(b + 4, 0, 4);
		send_paced(r, b, len);
	}
}

Test(flood_raw, junk_changes_nothing)
{
	uint8_t cookie[DP_WIRE_COOKIE_LEN], hello[RAW_DGRAM], b[RAW_DGRAM];
	struct peergraph_node_stats st0, st;
	struct facks acks = { 0 };
	struct raw a, other;
	uint64_t before, end;
	size_t hello_len, len, count;
	uint32_t real;

	one_node(NULL, JUNK_RECORDS, &acks);
	before = fnode_digest(0, &count);
	cr_assert_eq(count, JUNK_RECORDS);
	cr_assert_eq(before, facks_digest(&acks));
	raw_open(&a, fnodes[0].addr);
	raw_open(&other, fnodes[0].addr);
	real = raw_handshake(&a, 0x5eed0002, cookie, hello, &hello_len);
	fnode_wait_links(0, 1);
	end = now_ms() + 2000; /* the counters are published every 100 ms (node_worker.c) */
	while ((st0 = stats_of(0)).links_up == 0 && now_ms() < end)
		sleep_ms(POLL_MS);
	cr_assert_eq(st0.links_up, 1);

	send_malformed(&other, real);
	/* link ids the node does not have: ACK, PING, and a flood of DATA with records */
	for (unsigned i = 0; i < JUNK_UNKNOWN + JUNK_FLOOD; i++) {
		uint32_t id = (uint32_t)rnd() | 1;
		struct dp_wire_ack ack = { .cum = 1, .limit = 64 };

		if (id == real)
			id ^= 2;
		if (i < JUNK_UNKNOWN / 2)
			len = dp_wire_ack(b, sizeof(b), id, &ack);
		else if (i < JUNK_UNKNOWN)
			len = dp_wire_ping(b, sizeof(b), id, DP_WIRE_PING, i);
		else
			len = data_records(b, sizeof(b), id, i, 12);
		cr_assert_gt(len, 0);
		send_paced(&other, b, len);
	}
	/* replays: the COOKIE back to the node, the HELLO with a's cookie from another address,
	 * a's HELLO from a again (answered with the same WELCOME: no drop, no second link) */
	for (unsigned i = 0; i < JUNK_REPLAYS; i++) {
		len = dp_wire_cookie(b, sizeof(b), 0x5eed0002, cookie);
		send_paced(&a, b, len);
		send_paced(&other, hello, hello_len);
		send_paced(&a, hello, hello_len);
	}
	/* the real link's id from another address: DATA with records, and CLOSE */
	for (unsigned i = 0; i < JUNK_ADDRESS; i++) {
		len = data_records(b, sizeof(b), real, i, 12);
		send_paced(&other, b, len);
	}
	for (unsigned i = 0; i < JUNK_CLOSE_OTHER; i++) {
		len = dp_wire_close(b, sizeof(b), real, DP_CLOSE_BY_PEER);
		send_paced(&other, b, len);
	}

	/* every datagram counted, by reason; then a last look that nothing more moves */
	end = now_ms() + 5000;
	do {
		sleep_ms(POLL_MS);
		st = stats_of(0);
	} while (st.drops[PEERGRAPH_DROP_ADDRESS] - st0.drops[PEERGRAPH_DROP_ADDRESS] <
		     JUNK_ADDRESS + JUNK_CLOSE_OTHER &&
		 now_ms() < end);
	sleep_ms(SETTLE_MS);
	st = stats_of(0);
#define DELTA(f) (st.f - st0.f)
	cr_expect_eq(DELTA(decode_err[PEERGRAPH_DECODE_MAGIC]), JUNK_MAGIC);
	cr_expect_eq(DELTA(decode_err[PEERGRAPH_DECODE_LENGTH]), JUNK_SHORT + JUNK_PAST);
	cr_expect_eq(DELTA(decode_err[PEERGRAPH_DECODE_VERSION]), JUNK_EACH);
	cr_expect_eq(DELTA(decode_err[PEERGRAPH_DECODE_TYPE]), JUNK_EACH);
	cr_expect_eq(DELTA(decode_err[PEERGRAPH_DECODE_FLAGS]), JUNK_EACH);
	cr_expect_eq(DELTA(decode_err[PEERGRAPH_DECODE_FIELD]), JUNK_EACH);
	cr_expect_eq(DELTA(drops[PEERGRAPH_DROP_DECODE]),
		     JUNK_MAGIC + JUNK_SHORT + JUNK_PAST + 4 * JUNK_EACH);
	cr_expect_eq(DELTA(drops[PEERGRAPH_DROP_UNKNOWN]), JUNK_UNKNOWN + JUNK_FLOOD);
	cr_expect_eq(DELTA(drops[PEERGRAPH_DROP_UNEXPECTED]), JUNK_REPLAYS);
	cr_expect_eq(DELTA(drops[PEERGRAPH_DROP_COOKIE]), JUNK_REPLAYS);
	cr_expect_eq(DELTA(drops[PEERGRAPH_DROP_ADDRESS]), JUNK_ADDRESS + JUNK_CLOSE_OTHER);
	cr_expect_eq(DELTA(drops[PEERGRAPH_DROP_NO_GRAPH] + st.drops[PEERGRAPH_DROP_FULL]), 0);
	cr_expect_eq(DELTA(records_in), 0, "no junk reached the record decoder");
	cr_expect_eq(DELTA(links_up) + DELTA(links_down), 0,
		     "a replay made or ended no link: up %llu -> %llu, down %llu -> %llu",
		     (unsigned long long)st0.links_up, (unsigned long long)st.links_up,
		     (unsigned long long)st0.links_down, (unsigned long long)st.links_down);
#undef DELTA
	cr_expect_eq(st.links, 1, "the real link is up");
	cr_expect_eq(fnode_links(0), 1);

	/* the database is what it was, and the daemon still serves */
	cr_expect_eq(fnode_digest(0, &count), before);
	cr_expect_eq(count, JUNK_RECORDS);
	cr_expect_eq(peergraph_hello(fnodes[0].pg, NULL, 0, NULL), 0);
	fnode_publish(0, JUNK_RECORDS, 1, true, 0, &acks, NULL, NULL);
	cr_expect_eq(fnode_records(0), JUNK_RECORDS + 1);
	close(a.fd);
	close(other.fd);
	free(acks.a);
}
