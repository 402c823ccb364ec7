/*
 * test_fault.c - fault injection on received datagrams (dataplane/link/fault.h), in virtual
 * time: the configuration's bounds row by row; with no fault, the input sequence comes out
 * unchanged and at once; over 100k datagrams the fates come out at their probabilities
 * (within 6 sigma of the binomial: with fixed seeds these never flake, and a fate whose
 * rate is off by a tenth fails); the same seed replays the same deliveries and another seed
 * does not; reordering reorders by 1..3 places and loses nothing; delays are honoured to the
 * microsecond; a full pool and a datagram longer than a slot are delivered at once and
 * counted.
 *
 * Every datagram fed carries its index in its first four bytes and a pattern after it, so
 * the log of deliveries says which datagram came out, when, and whether its bytes and its
 * address came through intact.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "link/fault.h"

enum {
	N_STATS = 100000, /* datagrams of the convergence test */
	LOG_MAX = 2 * N_STATS + 16,
	DGRAM = 64, /* bytes of a test datagram */
	ADDR_LEN = 28,
};

struct delivery {
	uint32_t id;
	uint64_t at; /* virtual time of the delivery */
};

struct log {
	struct delivery *d;
	uint32_t n;
	uint64_t now; /* the time the test is at, for the deliveries it causes */
	uint32_t bad; /* deliveries whose bytes or address were not what was fed */
};

static struct log lg;

static void log_init(void)
{
	lg.d = calloc(LOG_MAX, sizeof(*lg.d));
	cr_assert_not_null(lg.d);
	lg.n = 0;
	lg.now = 0;
	lg.now = 0;
	lg.bad = 0;
}

static void log_fini(void)
{
	free(lg.d);
	lg.d = NULL;
}

TestSuite(fault, .init = log_init, .fini = log_fini);

static uint8_t pattern(uint32_t id, uint32_t i)
{
	return (uint8_t)(id * 31 + i * 7);
}

static void make_dgram(uint32_t id, uint8_t *buf, uint32_t len, uint8_t addr[ADDR_LEN])
{
	memcpy(buf, &id, sizeof(id));
	for (uint32_t i = sizeof(id); i < len; i++)
		buf[i] = pattern(id, i);
	for (uint32_t i = 0; i < ADDR_LEN; i++)
		addr[i] = pattern(id, i + 100);
}

static void on_deliver(void *ctx, const uint8_t *data, uint32_t len, const void *addr,
		       uint32_t addr_len)
{
	struct log *l = ctx;
	uint8_t want[DP_FAULT_LEN_MAX], want_addr[ADDR_LEN];
	uint32_t id;

	cr_assert_geq(len, sizeof(id));
	cr_assert_lt(l->n, LOG_MAX);
	memcpy(&id, data, sizeof(id));
	make_dgram(id, want, len, want_addr);
	if (memcmp(want, data, len) || addr_len != ADDR_LEN || memcmp(want_addr, addr, ADDR_LEN))
		l->bad++;
	l->d[l->n++] = (struct delivery){ id, l->now };
}

static void feed(struct dp_fault *f, uint64_t now, uint32_t id, uint32_t len)
{
	uint8_t buf[DP_FAULT_LEN_MAX], addr[ADDR_LEN];

	make_dgram(id, buf, len, addr);
	lg.now = now;
	dp_fault_input(f, now, buf, len, addr, ADDR_LEN, on_deliver, &lg);
}

/* Runs virtual time on to `to`, polling at each due time on the way (as a worker sleeps until
 * the next due time or the next datagram). */
static void advance(struct dp_fault *f, uint64_t to)
{
	for (uint32_t turns = 0; dp_fault_next_due(f) <= to; turns++) {
		uint64_t due = dp_fault_next_due(f);

		cr_assert_lt(turns, LOG_MAX, "advance does not end");
		cr_assert_geq(due, lg.now, "due in the past");
		lg.now = due;
		dp_fault_poll(f, due, on_deliver, &lg);
	}
	lg.now = to;
}

/* Runs virtual time on until nothing is held. */
static void run_out(struct dp_fault *f)
{
	advance(f, UINT64_MAX - 1);
	cr_expect_eq(dp_fault_next_due(f), UINT64_MAX);
}

/* Feeds n datagrams of DGRAM bytes, ids 0..n-1, one every step_us from t = 0, then runs out. */
static void feed_all(struct dp_fault *f, uint32_t n, uint64_t step_us)
{
	for (uint32_t i = 0; i < n; i++) {
		advance(f, (uint64_t)i * step_us);
		feed(f, (uint64_t)i * step_us, i, DGRAM);
	}
	run_out(f);
}

static struct dp_fault_config config(double drop, double dup, double reorder, uint32_t delay,
				     uint32_t jitter, uint64_t seed)
{
	return (struct dp_fault_config){ .drop = drop,
					 .dup = dup,
					 .reorder = reorder,
					 .delay_us = delay,
					 .jitter_us = jitter,
					 .seed = seed,
					 .slots = DP_FAULT_SLOTS_DEFAULT,
					 .max_len = DP_FAULT_LEN_DEFAULT };
}

static struct dp_fault *make(const struct dp_fault_config *c)
{
	struct dp_fault *f = NULL;

	cr_assert_eq(dp_fault_create(c, &f), 0);
	cr_assert_not_null(f);
	return f;
}

/* A filter of c with a pool of its own size. */
static struct dp_fault *make_pool(struct dp_fault_config c, uint32_t slots, uint32_t max_len)
{
	c.slots = slots;
	c.max_len = max_len;
	return make(&c);
}

/* After everything ran out: nothing held, nothing lost, and the bytes intact. */
static void expect_accounted(struct dp_fault *f)
{
	struct dp_fault_stats s;

	dp_fault_stats(f, &s);
	cr_expect_eq(s.held, 0);
	cr_expect_eq(s.delivered, s.in - s.dropped + s.duplicated, "delivered %llu",
		     (unsigned long long)s.delivered);
	cr_expect_eq(s.delivered, lg.n);
	cr_expect_eq(lg.bad, 0, "%u deliveries with wrong bytes or address", lg.bad);
}

Test(fault, config_bounds)
{
	static const struct {
		double drop, dup, reorder;
		uint32_t delay, jitter, slots, max_len;
		int want;
	} rows[] = {
		/* 0 */ { 0, 0, 0, 0, 0, 1, 1, 0 },
		/* 1 */ { 1, 0, 0, 0, 0, 1, 1, 0 },
		/* 2 */ { 0, 1, 0, 0, 0, 1, 1, 0 },
		/* 3 */ { 0, 0, 1, 0, 0, 1, 1, 0 },
		/* 4: the sum at 1 with the rounding of decimal fractions */
		{ 0.1, 0.2, 0.7, 0, 0, 1, 1, 0 },
		/* 5 */ { 0.5, 0.5, 0.000001, 0, 0, 1, 1, -EINVAL },
		/* 6 */ { -0.000001, 0, 0, 0, 0, 1, 1, -EINVAL },
		/* 7 */ { 0, 1.000001, 0, 0, 0, 1, 1, -EINVAL },
		/* 8 */ { 0, 0, NAN, 0, 0, 1, 1, -EINVAL },
		/* 9 */ { 0, 0, 0, DP_FAULT_DELAY_MAX_US, DP_FAULT_DELAY_MAX_US, 1, 1, 0 },
		/* 10 */ { 0, 0, 0, DP_FAULT_DELAY_MAX_US + 1, 0, 1, 1, -EINVAL },
		/* 11 */ { 0, 0, 0, 0, DP_FAULT_DELAY_MAX_US + 1, 1, 1, -EINVAL },
		/* 12 */ { 0, 0, 0, 0, 0, 0, 1, -EINVAL },
		/* 13 */ { 0, 0, 0, 0, 0, 1, 0, -EINVAL },
		/* 14 */ { 0, 0, 0, 0, 0, DP_FAULT_SLOTS_MAX, 256, 0 },
		/* 15 */ { 0, 0, 0, 0, 0, DP_FAULT_SLOTS_MAX + 1, 1, -EINVAL },
		/* 16 */ { 0, 0, 0, 0, 0, 4096, DP_FAULT_LEN_MAX, 0 },
		/* 17 */ { 0, 0, 0, 0, 0, 1, DP_FAULT_LEN_MAX + 1, -EINVAL },
		/* 18: the pool's bytes */ { 0, 0, 0, 0, 0, 4097, DP_FAULT_LEN_MAX, -EINVAL },
		/* 19 */ { 0, 0, 0, 0, 0, DP_FAULT_SLOTS_MAX, 257, -EINVAL },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct dp_fault_config c = {
			.drop = rows[i].drop,
			.dup = rows[i].dup,
			.reorder = rows[i].reorder,
			.delay_us = rows[i].delay,
			.jitter_us = rows[i].jitter,
			.seed = i,
			.slots = rows[i].slots,
			.max_len = rows[i].max_len,
		};
		struct dp_fault *f = (struct dp_fault *)&c; /* must stay as it is on error */
		int ret;

		cr_expect_eq(dp_fault_config_check(&c), rows[i].want, "row %zu", i);
		ret = dp_fault_create(&c, &f);
		cr_expect_eq(ret, rows[i].want, "row %zu: create %d", i, ret);
		if (ret)
			cr_expect_eq(f, (struct dp_fault *)&c, "row %zu: *out set on error", i);
		else
			dp_fault_destroy(f);
	}
	dp_fault_destroy(NULL);
}

Test(fault, enabled)
{
	struct dp_fault_config c = config(0, 0, 0, 0, 0, 12345);

	cr_expect_not(dp_fault_enabled(&c), "seed, slots and max_len are no fault");
	c.slots = 0;
	c.max_len = 0;
	cr_expect_not(dp_fault_enabled(&c));
	for (int i = 0; i < 5; i++) {
		c = config(i == 0 ? 0.01 : 0, i == 1 ? 0.01 : 0, i == 2 ? 0.01 : 0, i == 3,
			   (i == 4) * 5, 0);
		cr_expect(dp_fault_enabled(&c), "field %d", i);
	}
}

/* No fault: every datagram comes out once, at once, in order, intact. */
Test(fault, passthrough)
{
	struct dp_fault_config c = config(0, 0, 0, 0, 0, 7);
	struct dp_fault *f = make(&c);
	struct dp_fault_stats s;

	for (uint32_t i = 0; i < 1000; i++) {
		feed(f, i / 3, i, 4 + i % DGRAM);
		cr_assert_eq(lg.n, i + 1, "datagram %u not delivered at once", i);
		cr_assert_eq(lg.d[i].id, i);
	}
	cr_expect_eq(dp_fault_next_due(f), UINT64_MAX);
	cr_expect_eq(dp_fault_poll(f, 1000, on_deliver, &lg), UINT64_MAX);
	cr_expect_eq(dp_fault_flush(f, on_deliver, &lg), 0);
	dp_fault_stats(f, &s);
	cr_expect_eq(s.in, 1000);
	cr_expect_eq(s.delivered, 1000);
	cr_expect_eq(s.dropped + s.duplicated + s.reordered + s.delayed + s.pool_full + s.too_long,
		     0);
	expect_accounted(f);
	dp_fault_destroy(f);
}

/* |got - n p| within 6 standard deviations of Binomial(n, p). */
static void expect_binomial(uint64_t got, uint64_t n, double p, const char *what)
{
	double mean = (double)n * p, sd = sqrt((double)n * p * (1 - p));

	cr_expect(fabs((double)got - mean) <= 6 * sd, "%s: %llu, expected %.0f +- %.0f", what,
		  (unsigned long long)got, mean, 6 * sd);
}

/* Over 100k datagrams each fate comes out at its probability, as counted from the
 * deliveries themselves, and the counters agree with them. Each row is one seed. */
Test(fault, probabilities_converge)
{
	static const struct {
		double drop, dup, reorder;
		uint64_t seed;
	} rows[] = {
		{ 0.1, 0.05, 0.05, 1 },
		{ 0.01, 0.3, 0.2, 2 },
		{ 0.5, 0, 0.5, 3 },
	};
	uint8_t *times = malloc(N_STATS);

	cr_assert_not_null(times);
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct dp_fault_config c =
		    config(rows[r].drop, rows[r].dup, rows[r].reorder, 0, 0, rows[r].seed);
		struct dp_fault *f = make(&c);
		struct dp_fault_stats s;
		uint64_t lost = 0, twice = 0, late = 0;

		lg.n = 0;
		lg.now = 0;
		memset(times, 0, N_STATS);
		feed_all(f, N_STATS, 1);
		for (uint32_t i = 0; i < lg.n; i++) {
			cr_assert_lt(lg.d[i].id, N_STATS);
			cr_assert_lt(times[lg.d[i].id], 2, "row %zu: %u thrice", r, lg.d[i].id);
			times[lg.d[i].id]++;
			late += lg.d[i].at != lg.d[i].id; /* fed at t = id */
		}
		for (uint32_t i = 0; i < N_STATS; i++) {
			lost += times[i] == 0;
			twice += times[i] == 2;
		}
		dp_fault_stats(f, &s);
		cr_expect_eq(s.in, N_STATS);
		cr_expect_eq(s.dropped, lost, "row %zu", r);
		cr_expect_eq(s.duplicated, twice, "row %zu", r);
		cr_expect_eq(s.pool_full + s.too_long + s.delayed, 0, "row %zu", r);
		expect_binomial(lost, N_STATS, rows[r].drop, "dropped");
		expect_binomial(twice, N_STATS, rows[r].dup, "duplicated");
		expect_binomial(s.reordered, N_STATS, rows[r].reorder, "reordered");
		/* only the reordered come out after the time they were fed */
		cr_expect_eq(late, s.reordered, "row %zu: %llu late", r, (unsigned long long)late);
		expect_accounted(f);
		dp_fault_destroy(f);
	}
	free(times);
}

/* A fingerprint of the log: which datagram came out when, in order. */
static uint64_t log_hash(void)
{
	uint64_t h = 1469598103934665603ull;

	for (uint32_t i = 0; i < lg.n; i++) {
		h = (h ^ lg.d[i].id) * 1099511628211ull;
		h = (h ^ lg.d[i].at) * 1099511628211ull;
	}
	return h;
}

/* Every fault at once, fed at irregular times; returns the log's fingerprint. */
static uint64_t run_mixed(uint64_t seed, uint32_t *n_out)
{
	struct dp_fault_config c = config(0.1, 0.1, 0.1, 50, 200, seed);
	struct dp_fault *f = make(&c);
	uint64_t now = 0;

	lg.n = 0;
	lg.now = 0;
	for (uint32_t i = 0; i < 20000; i++) {
		now += (i * 2654435761u) % 7; /* 0..6 us apart, several at the same time */
		advance(f, now);
		feed(f, now, i, 4 + i % DGRAM);
	}
	run_out(f);
	expect_accounted(f);
	dp_fault_destroy(f);
	*n_out = lg.n;
	return log_hash();
}

Test(fault, deterministic)
{
	uint32_t n1, n2, n3;
	uint64_t h1 = run_mixed(42, &n1), h2 = run_mixed(42, &n2), h3 = run_mixed(43, &n3);

	cr_expect_eq(n1, n2);
	cr_expect_eq(h1, h2, "the same seed gave another sequence");
	cr_expect_neq(h1, h3, "another seed gave the same sequence");
}

/* over[id]: how many datagrams fed after datagram id came out before it (each delivered
 * once). O(n^2) on purpose: the naive model of "overtaken". */
static void count_overtakers(uint32_t *over)
{
	for (uint32_t i = 0; i < lg.n; i++) {
		over[lg.d[i].id] = 0;
		for (uint32_t j = 0; j < i; j++)
			over[lg.d[i].id] += lg.d[j].id > lg.d[i].id;
	}
}

Test(fault, reorder_reorders_and_loses_nothing)
{
	enum { N = 5000 };
	struct dp_fault_config c = config(0, 0, 0.2, 0, 0, 9);
	struct dp_fault *f = make(&c);
	struct dp_fault_stats s;
	static uint32_t over[N], seen[N];
	uint32_t by_k[4] = { 0 }, overtaken = 0;

	feed_all(f, N, 1);
	dp_fault_stats(f, &s);
	cr_assert_eq(lg.n, N);
	for (uint32_t i = 0; i < N; i++)
		seen[lg.d[i].id]++;
	for (uint32_t i = 0; i < N; i++)
		cr_assert_eq(seen[i], 1, "datagram %u came out %u times", i, seen[i]);
	count_overtakers(over);
	for (uint32_t i = 0; i < N; i++) {
		cr_assert_leq(over[i], DP_FAULT_REORDER_MAX, "datagram %u overtaken %u times", i,
			      over[i]);
		by_k[over[i]]++;
	}
	overtaken = by_k[1] + by_k[2] + by_k[3];
	/* every reordered datagram was overtaken, but perhaps the last few (they time out) */
	cr_expect_leq(overtaken, s.reordered);
	cr_expect_geq(overtaken + DP_FAULT_REORDER_MAX, s.reordered, "%u of %llu", overtaken,
		      (unsigned long long)s.reordered);
	expect_binomial(s.reordered, N, 0.2, "reordered");
	for (int k = 1; k <= 3; k++)
		expect_binomial(by_k[k], overtaken, 1.0 / 3, "overtaken k times");
	/* with a datagram every microsecond none but the last few waits for its bound */
	for (uint32_t i = 0; i < N; i++)
		if (lg.d[i].id < N - 50)
			cr_expect_lt(lg.d[i].at, lg.d[i].id + DP_FAULT_REORDER_BOUND_US, "entry %u",
				     i);
	expect_accounted(f);
	dp_fault_destroy(f);
}

/* A reordered datagram with nothing after it comes out at its bound, not before. */
Test(fault, reorder_bound)
{
	struct dp_fault_config c = config(0, 0, 1, 0, 0, 5);
	struct dp_fault *f = make(&c);
	struct dp_fault_stats s;

	feed(f, 100, 0, DGRAM);
	cr_expect_eq(lg.n, 0);
	cr_expect_eq(dp_fault_next_due(f), 100 + DP_FAULT_REORDER_BOUND_US);
	lg.now = 100 + DP_FAULT_REORDER_BOUND_US - 1;
	cr_expect_eq(dp_fault_poll(f, lg.now, on_deliver, &lg), 100 + DP_FAULT_REORDER_BOUND_US);
	cr_expect_eq(lg.n, 0);
	lg.now++;
	cr_expect_eq(dp_fault_poll(f, lg.now, on_deliver, &lg), UINT64_MAX);
	cr_assert_eq(lg.n, 1);
	cr_expect_eq(lg.d[0].at, 100 + DP_FAULT_REORDER_BOUND_US);
	dp_fault_stats(f, &s);
	cr_expect_eq(s.reordered, 1);
	expect_accounted(f);
	dp_fault_destroy(f);
}

/* Each copy comes out delay_us + a jitter in [0, jitter_us] after it was fed, never
 * earlier, and the jitter is uniform (its mean within 6 sigma, both ends reached). */
Test(fault, delay_honoured)
{
	enum { N = 20000, DELAY = 500, JITTER = 200 };
	struct dp_fault_config c = config(0, 0.1, 0, DELAY, JITTER, 77);
	struct dp_fault *f = make(&c);
	struct dp_fault_stats s;
	uint64_t sum = 0, lo = UINT64_MAX, hi = 0;
	double mean, sd;

	feed_all(f, N, 3); /* datagram i fed at 3 i */
	for (uint32_t i = 0; i < lg.n; i++) {
		uint64_t waited = lg.d[i].at - 3ull * lg.d[i].id;

		cr_assert_geq(lg.d[i].at, 3ull * lg.d[i].id);
		cr_assert_geq(waited, DELAY, "entry %u waited %llu", i, (unsigned long long)waited);
		cr_assert_leq(waited, DELAY + JITTER, "entry %u", i);
		sum += waited - DELAY;
		lo = waited < lo ? waited : lo;
		hi = waited > hi ? waited : hi;
	}
	cr_expect_eq(lo, DELAY);
	cr_expect_eq(hi, DELAY + JITTER);
	mean = (double)sum / lg.n;
	sd = JITTER / sqrt(12.0 * lg.n);
	cr_expect(fabs(mean - JITTER / 2.0) <= 6 * sd, "jitter mean %.2f", mean);
	dp_fault_stats(f, &s);
	cr_expect_eq(s.delayed, lg.n, "every copy is held: %llu", (unsigned long long)s.delayed);
	expect_accounted(f);
	dp_fault_destroy(f);
}

/* A fixed delay keeps the order, and poll says when to come back. */
Test(fault, delay_fixed)
{
	struct dp_fault_config c = config(0, 0, 0, 250, 0, 1);
	struct dp_fault *f = make(&c);

	feed(f, 10, 0, DGRAM);
	feed(f, 10, 1, DGRAM);
	feed(f, 20, 2, DGRAM);
	cr_expect_eq(lg.n, 0);
	lg.now = 259;
	cr_expect_eq(dp_fault_poll(f, 259, on_deliver, &lg), 260);
	cr_expect_eq(lg.n, 0);
	lg.now = 265;
	cr_expect_eq(dp_fault_poll(f, 265, on_deliver, &lg), 270);
	cr_assert_eq(lg.n, 2);
	cr_expect_eq(lg.d[0].id, 0);
	cr_expect_eq(lg.d[1].id, 1);
	/* input delivers what is due before it looks at its datagram */
	feed(f, 270, 3, DGRAM);
	cr_assert_eq(lg.n, 3);
	cr_expect_eq(lg.d[2].id, 2);
	cr_expect_eq(lg.d[2].at, 270);
	cr_expect_eq(dp_fault_next_due(f), 520);
	cr_expect_eq(dp_fault_flush(f, on_deliver, &lg), 1);
	cr_expect_eq(dp_fault_next_due(f), UINT64_MAX);
	expect_accounted(f);
	dp_fault_destroy(f);
}

/* With the pool full, or a datagram longer than a slot, it comes out at once, counted. */
Test(fault, pool_full)
{
	struct dp_fault *f = make_pool(config(0, 0, 0, 100, 0, 3), 4, 32);
	struct dp_fault_stats s;

	for (uint32_t i = 0; i < 10; i++)
		feed(f, 0, i, 16);
	dp_fault_stats(f, &s);
	cr_expect_eq(s.held, 4);
	cr_expect_eq(s.delayed, 4);
	cr_expect_eq(s.pool_full, 6);
	cr_assert_eq(lg.n, 6);
	for (uint32_t i = 0; i < 6; i++)
		cr_expect_eq(lg.d[i].id, 4 + i);
	/* 33 bytes do not fit a slot of 32 */
	feed(f, 1, 10, 33);
	feed(f, 1, 11, 32);
	dp_fault_stats(f, &s);
	cr_expect_eq(s.too_long, 1);
	cr_expect_eq(s.pool_full, 7);
	cr_assert_eq(lg.n, 8);
	cr_expect_eq(lg.d[6].id, 10);
	cr_expect_eq(lg.d[7].id, 11);
	/* the four held come out at their time, and the pool takes datagrams again */
	lg.now = 100;
	cr_expect_eq(dp_fault_poll(f, 100, on_deliver, &lg), UINT64_MAX);
	cr_assert_eq(lg.n, 12);
	for (uint32_t i = 0; i < 4; i++)
		cr_expect_eq(lg.d[8 + i].id, i);
	feed(f, 100, 12, 32);
	dp_fault_stats(f, &s);
	cr_expect_eq(s.held, 1);
	cr_expect_eq(s.delayed, 5);
	run_out(f);
	expect_accounted(f);
	dp_fault_destroy(f);
}

/* A reordered datagram that finds the pool full is delivered at once, not reordered. */
Test(fault, pool_full_reorder)
{
	struct dp_fault *f = make_pool(config(0, 0, 1, 0, 0, 4), 2, DP_FAULT_LEN_DEFAULT);
	struct dp_fault_stats s;

	for (uint32_t i = 0; i < 5; i++)
		feed(f, 0, i, DGRAM);
	dp_fault_stats(f, &s);
	cr_expect_eq(s.reordered + s.pool_full, 5);
	cr_expect_geq(s.reordered, 2);
	run_out(f);
	expect_accounted(f);
	dp_fault_destroy(f);
}

/* drop = 1 lets nothing through; dup = 1 everything twice, each copy right after the other. */
Test(fault, certain_fates)
{
	struct dp_fault_config c = config(1, 0, 0, 0, 0, 11);
	struct dp_fault *f = make(&c);

	feed_all(f, 1000, 1);
	cr_expect_eq(lg.n, 0);
	expect_accounted(f);
	dp_fault_destroy(f);

	c = config(0, 1, 0, 0, 0, 11);
	f = make(&c);
	feed_all(f, 1000, 1);
	cr_assert_eq(lg.n, 2000);
	for (uint32_t i = 0; i < 2000; i++)
		cr_expect_eq(lg.d[i].id, i / 2);
	expect_accounted(f);
	dp_fault_destroy(f);
}

/* Datagrams held at destroy are freed (ASan's leak check sees this). */
Test(fault, destroy_holding)
{
	struct dp_fault_config c = config(0, 0, 0.5, 1000, 0, 8);
	struct dp_fault *f = make(&c);
	struct dp_fault_stats s;

	for (uint32_t i = 0; i < 100; i++)
		feed(f, i, i, DGRAM);
	dp_fault_stats(f, &s);
	cr_expect_gt(s.held, 0);
	dp_fault_destroy(f);
}
