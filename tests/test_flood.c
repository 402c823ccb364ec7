/*
 * test_flood.c - flooding between real peergraphd processes on 127.0.0.1, driven through
 * libpeergraph as applications drive them (doc/flood.md). What the flood promises and this
 * file checks:
 *
 *   - mesh_*: 8 nodes, a ring plus seeded random chords, 3 publishers: every record reaches
 *     every node and every database ends identical to the set the publishers got
 *     acknowledged (digests of the sorted (id, creator, version, payload hash) lists), with
 *     no faults, with 10% loss on every node, and with 5% duplication + 5% reordering.
 *   - slow_node: a publisher as fast as it can go beside a node that takes 300 µs per
 *     datagram: the publisher is told busy, no daemon's memory passes a bound computed from
 *     its configuration, and every acknowledged record ends on every node.
 *   - large_record: a 1 MiB record (fragmented: far larger than a datagram) crosses two
 *     links whole, byte for byte.
 *
 * Each test starts its own daemons; sizes are chosen so each takes seconds on 2 cores, ASan
 * builds included. Raw datagrams against a daemon are test_flood_raw.c's.
 */
#include <stdlib.h>

#include "flood_fixture.h"
#include "link/link.h"
#include "node.h"

static void fini(void)
{
	fnodes_fini();
}

TestSuite(flood, .fini = fini, .timeout = 180);

enum {
	MESH_NODES = 8,
	MESH_CHORDS = 4,			      /* random links beside the ring */
	MESH_RECORDS = 2000,			      /* per publisher */
	MESH_TIMEOUT_MS = UNDER_ASAN ? 90000 : 40000, /* to converge after the last add */
};

static const unsigned publishers[] = { 0, 3, 5 };

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* The ring i -> i + 1 and MESH_CHORDS other pairs drawn from seed; adj[i][j] marks a link. */
static void mesh_links(uint64_t seed, bool adj[MESH_NODES][MESH_NODES])
{
	memset(adj, 0, sizeof(bool) * MESH_NODES * MESH_NODES);
	for (unsigned i = 0; i < MESH_NODES; i++)
		adj[i][(i + 1) % MESH_NODES] = adj[(i + 1) % MESH_NODES][i] = true;
	for (unsigned c = 0; c < MESH_CHORDS;) {
		unsigned a = (unsigned)(xorshift(&seed) % MESH_NODES);
		unsigned b = (unsigned)(xorshift(&seed) % MESH_NODES);

		if (a == b || adj[a][b])
			continue;
		adj[a][b] = adj[b][a] = true;
		cr_log_info("chord %u - %u", a, b);
		c++;
	}
}

/* The mesh with faults (--set values for every node, NULL-ended) on every node; lossy: the
 * faults lose datagrams, so links must have sent some again. */
static void mesh_run(const char *const *faults, bool lossy)
{
	uint64_t retransmits = 0;
	bool adj[MESH_NODES][MESH_NODES];
	struct facks acks = { 0 };
	uint64_t t0;

	for (unsigned i = 0; i < MESH_NODES; i++) {
		const char *sets[SET_PAIRS_MAX];
		char seed[32];
		unsigned k = 0;

		snprintf(seed, sizeof(seed), "fault.seed=%u", 1000 + i);
		for (; faults && faults[k]; k++)
			sets[k] = faults[k];
		sets[k++] = seed;
		sets[k] = NULL;
		fnode_start(i, sets);
		fnode_graph(i, 0);
	}
	mesh_links(0x5eed, adj);
	for (unsigned i = 0; i < MESH_NODES; i++)
		for (unsigned j = i + 1; j < MESH_NODES; j++)
			if (adj[i][j])
				fnode_connect(i, j);
	for (unsigned i = 0; i < MESH_NODES; i++) {
		unsigned degree = 0;

		for (unsigned j = 0; j < MESH_NODES; j++)
			degree += adj[i][j];
		fnode_wait_links(i, degree);
	}
	t0 = now_ms();
	/* the publishers take turns batch by batch, so their floods overlap */
	for (size_t first = 0; first < MESH_RECORDS; first += BATCH)
		for (size_t p = 0; p < PG_ARRAY_SIZE(publishers); p++)
			fnode_publish(publishers[p], first,
				      MESH_RECORDS - first < BATCH ? MESH_RECORDS - first : BATCH,
				      true, 0, &acks, NULL, NULL);
	cr_assert_eq(acks.n, PG_ARRAY_SIZE(publishers) * MESH_RECORDS);
	fnodes_converge(MESH_NODES, &acks, MESH_TIMEOUT_MS);
	cr_log_info("%zu records on %u nodes in %llu ms", acks.n, MESH_NODES,
		    (unsigned long long)(now_ms() - t0));
	sleep_ms(SETTLE_MS); /* link counters are published every 100 ms */
	for (unsigned i = 0; i < MESH_NODES; i++) {
		struct peergraph_node_stats st;

		cr_assert_eq(peergraph_node_stats(fnodes[i].pg, &st), 0);
		retransmits += st.retransmits;
		cr_expect_eq(st.records_bad + st.records_store_err, 0, "node %u", i);
	}
	cr_log_info("%llu datagrams sent again", (unsigned long long)retransmits);
	if (lossy)
		cr_expect_gt(retransmits, 0, "the injected loss was not seen");
	free(acks.a);
}

Test(flood, mesh_no_faults)
{
	mesh_run(NULL, false);
}

Test(flood, mesh_loss_10pct)
{
	static const char *const faults[] = { "fault.drop=0.1", NULL };

	mesh_run(faults, true);
}

Test(flood, mesh_dup_5pct_reorder_5pct)
{
	static const char *const faults[] = { "fault.duplicate=0.05", "fault.reorder=0.05", NULL };

	mesh_run(faults, false);
}

/* ---- a slow node behind a fast publisher ----------------------------------------------- */

enum {
	SLOW_US = 300,		      /* [fault] slow_us of the slow node */
	SLOW_RING = 2 << 20,	      /* [dataplane] ring_bytes of every node */
	SLOW_PUBLISH_MS = 3000,	      /* how long the publisher goes */
	SLOW_TIMEOUT_MS = 60000,      /* for the slow node to catch up afterwards */
	SLOW_WORKERS = 1,	      /* [dataplane] workers (the default) */
	SLOW_STORE_PER_RECORD = 1024, /* resident bytes one stored 128-byte record may cost */
	SLOW_SLACK = 16 << 20,	      /* allocator arenas, stacks, client buffers */
	SLOW_NODES = 3,		      /* 0 publishes, 1 is slow, 2 is fast */
};

static long rss_base[SLOW_NODES], rss_max[SLOW_NODES];

static void rss_sample(void)
{
	for (unsigned i = 0; i < SLOW_NODES; i++) {
		long kb = pgd_rss_kb(&fnodes[i].d);

		if (kb > rss_max[i])
			rss_max[i] = kb;
	}
}

/*
 * The memory bound of a daemon (doc/flood.md, "Flooding and back-pressure": a node's bound
 * is its rings plus its links' windows plus its reassembly budget), over what it held idle
 * with the graph open and its links up (measured: the base):
 *
 *   bound = base
 *         + ring_bytes x (workers + 1)          the graph's flood rings, one per producer
 *         + links x window x max_datagram       each link's send window, full
 *         + records stored x 1 KiB              the store's copy and index, the version
 *                                               table's copy (measured: ~0.93 KiB each
 *                                               for these 128-byte records)
 *         + 16 MiB                              allocator arenas, thread stacks, API buffers
 *
 * No record here is larger than a datagram, so the reassembly budget stays unused (0).
 */
static long bound_kb(unsigned i, unsigned links, size_t records)
{
	uint64_t b = (uint64_t)SLOW_RING * (SLOW_WORKERS + 1) +
		     (uint64_t)links * DP_LINK_WINDOW_DEFAULT * DP_WIRE_DGRAM_DEFAULT +
		     (uint64_t)records * SLOW_STORE_PER_RECORD + SLOW_SLACK;

	return rss_base[i] + (long)(b >> 10);
}

Test(flood, slow_node)
{
	static const unsigned links[SLOW_NODES] = { 2, 1, 1 };
	char ring[48], slow_us[32];
	const char *const fast[] = { ring, NULL }, *const slow[] = { ring, slow_us, NULL };
	struct facks acks = { 0 };
	size_t published = 0;
	uint64_t busy;

	snprintf(ring, sizeof(ring), "dataplane.ring_bytes=%u", SLOW_RING);
	snprintf(slow_us, sizeof(slow_us), "fault.slow_us=%u", SLOW_US);
	for (unsigned i = 0; i < SLOW_NODES; i++) {
		fnode_start(i, i == 1 ? slow : fast);
		fnode_graph(i, 0);
	}
	fnode_connect(0, 1);
	fnode_connect(0, 2);
	for (unsigned i = 0; i < SLOW_NODES; i++)
		fnode_wait_links(i, links[i]);
	for (unsigned i = 0; i < SLOW_NODES; i++)
		rss_max[i] = rss_base[i] = pgd_rss_kb(&fnodes[i].d);

	busy = fnode_publish(0, 0, SIZE_MAX / 2, false, now_ms() + SLOW_PUBLISH_MS, &acks,
			     rss_sample, &published);
	cr_log_info("published %zu records in %u ms: %zu acknowledged, %llu busy", published,
		    SLOW_PUBLISH_MS, acks.n, (unsigned long long)busy);
	cr_expect_gt(busy, 0, "the publisher was never told busy");

	/* everything acknowledged reaches both nodes; memory is sampled while they catch up */
	for (uint64_t end = now_ms() + SLOW_TIMEOUT_MS;
	     fnode_records(1) < acks.n && now_ms() < end;) {
		rss_sample();
		sleep_ms(POLL_MS);
	}
	fnodes_converge(SLOW_NODES, &acks, SLOW_TIMEOUT_MS);
	rss_sample();
	for (unsigned i = 0; i < SLOW_NODES; i++) {
		long bound = bound_kb(i, links[i], acks.n);

		cr_log_info("node %u: VmRSS %ld kB idle, %ld kB at most, bound %ld kB", i,
			    rss_base[i], rss_max[i], bound);
		cr_expect_gt(rss_base[i], 0);
		if (!UNDER_ASAN)
			cr_expect_leq(rss_max[i], bound,
				      "node %u: VmRSS %ld kB over its bound %ld kB", i, rss_max[i],
				      bound);
	}
	if (UNDER_ASAN)
		cr_log_info("memory bound not checked: ASan's shadow memory and quarantine are "
			    "not the daemon's");
	free(acks.a);
}

/* ---- a record larger than a datagram ---------------------------------------------------- */

Test(flood, large_record)
{
	static const char *const sets[] = { "store.segment_size=4M", NULL };
	static const struct peergraph_guid type = { { 0x1a, 0x26 } };
	const size_t len = 1 << 20;
	struct peergraph_record r = { 0 }, got;
	struct peergraph_node_stats st;
	uint64_t seed = 0x1a26e, end;
	uint8_t *payload = malloc(len);
	int res = 0;

	cr_assert_not_null(payload);
	for (size_t i = 0; i < len; i++)
		payload[i] = (uint8_t)xorshift(&seed);
	for (unsigned i = 0; i < 3; i++) {
		fnode_start(i, sets);
		fnode_graph(i, 2 << 20);
	}
	fnode_connect(0, 1);
	fnode_connect(1, 2);
	fnode_wait_links(0, 1);
	fnode_wait_links(1, 2);
	fnode_wait_links(2, 1);

	r.type = type;
	r.payload = payload;
	r.payload_len = len;
	cr_assert_eq(peergraph_record_add(fnodes[0].pg, GRAPH, &r, 1, &res), 1, "%s",
		     peergraph_strerror(res));
	end = now_ms() + 20000;
	while (fnode_records(2) < 1 && now_ms() < end)
		sleep_ms(POLL_MS);
	for (unsigned i = 1; i < 3; i++) {
		cr_assert_eq(
		    peergraph_record_get(fnodes[i].pg, GRAPH, &r.id, fnodes[0].creator, 0, &got), 0,
		    "node %u has not got the record", i);
		cr_assert_eq(got.payload_len, len, "node %u: %zu bytes", i, got.payload_len);
		cr_expect_eq(memcmp(got.payload, payload, len), 0, "node %u: other bytes", i);
		cr_expect_eq(got.version, 1);
		cr_assert_eq(peergraph_node_stats(fnodes[i].pg, &st), 0);
		cr_expect_eq(st.records_new, 1, "node %u took it once", i);
		cr_expect_eq(st.reasm_timeouts + st.reasm_bad, 0);
	}
	free(payload);
}

/* ---- updates and deletes ------------------------------------------------------------------ */

struct tomb_ctx {
	unsigned n, bad;
};

static int tomb_one(void *ctx, const struct peergraph_record *rec)
{
	struct tomb_ctx *t = ctx;

	t->n++;
	t->bad += rec->version != 3 || !(rec->flags & PEERGRAPH_RECORD_DELETED);
	return 0;
}

/* Records added, updated and deleted on one node reach the other as their last version: a
 * tombstone of version 3 each. (Each write after the first is judged by the version table
 * against the one before: a regression test for a view of the record that outlived its
 * buffer, which ASan saw as a use after free in the daemon.) */
Test(flood, updates_and_deletes)
{
	enum { N = 64 };
	struct peergraph_record r[N];
	struct peergraph_guid ids[N];
	struct facks acks = { 0 };
	struct tomb_ctx t = { 0 };
	uint64_t end;
	int res[N];

	for (unsigned i = 0; i < 2; i++) {
		fnode_start(i, NULL);
		fnode_graph(i, 0);
	}
	fnode_connect(0, 1);
	fnode_wait_links(1, 1);
	fnode_publish(0, 0, N, true, 0, &acks, NULL, NULL);
	cr_assert_eq(acks.n, N);
	memset(r, 0, sizeof(r));
	for (unsigned i = 0; i < N; i++) {
		ids[i] = acks.a[i].id;
		r[i].id = ids[i];
		r[i].type = (struct peergraph_guid){ { 0xf1, 0x00, 0xd0 } };
		r[i].payload = "updated";
		r[i].payload_len = 7;
	}
	cr_assert_eq(peergraph_record_update(fnodes[0].pg, GRAPH, r, N, res), N, "%s",
		     peergraph_strerror(res[0]));
	cr_assert_eq(peergraph_record_delete(fnodes[0].pg, GRAPH, ids, N, NULL, res), N, "%s",
		     peergraph_strerror(res[0]));
	end = now_ms() + 10000;
	do {
		sleep_ms(POLL_MS);
		t = (struct tomb_ctx){ 0 };
		cr_assert_geq(peergraph_record_enum(fnodes[1].pg, GRAPH, NULL, NULL,
						    PEERGRAPH_WITH_DELETED, tomb_one, &t),
			      0);
	} while ((t.n < N || t.bad) && now_ms() < end);
	cr_expect_eq(t.n, N);
	cr_expect_eq(t.bad, 0, "%u records not a tombstone of version 3", t.bad);
	cr_expect_eq(peergraph_hello(fnodes[0].pg, NULL, 0, NULL), 0, "node 0 still serves");
	free(acks.a);
}
