/*
 * test_ring.c - flood rings (dataplane/flood/ring.h) on one thread: order, a link's own
 * records passed over, wrapping, and the space a lagging cursor holds back. ring-stress
 * (ring_stress.c) runs a producer against readers on threads, also under TSan.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "pg_bytes.h"
#include "ring.h"

static struct dp_ring_set set;

static void rec_make(uint8_t *b, uint32_t i, uint32_t len)
{
	memset(b, (int)(i & 0xff), len);
	if (len >= 4)
		store_le32(b, i);
}

static uint32_t rec_len(uint32_t i)
{
	return 1 + (i * 131) % 3000;
}

/* Reads every entry at the cursor in ring 0 and checks they are i = from, from + step, ... */
static uint32_t drain(struct dp_ring_cursor *c, uint32_t from, uint32_t step)
{
	const uint8_t *rec;
	uint32_t len, i = from, n = 0;

	while (dp_ring_peek(&set, c, 0, &rec, &len)) {
		cr_assert_eq(len, rec_len(i), "entry %u: length %u", i, len);
		if (len >= 4)
			cr_assert_eq(load_le32(rec), i);
		if (len > 4)
			cr_assert_eq(rec[len - 1], (uint8_t)i);
		dp_ring_next(&set, c, 0);
		i += step;
		n++;
	}
	return n;
}

Test(ring, entries_in_order_across_many_wraps)
{
	static uint8_t b[4096];
	struct dp_ring *r;
	struct dp_ring_cursor *c;
	uint32_t i = 0, got = 0;

	cr_assert_eq(dp_ring_set_init(&set, 2, 100000), 0);
	r = set.rings[0];
	cr_assert_eq(r->size, 128 << 10, "rounded up to a power of two");
	c = dp_ring_cursor_add(&set, 5);
	for (unsigned round = 0; round < 200; round++) {
		while (dp_ring_room(r, dp_ring_entry_bytes(rec_len(i)))) {
			rec_make(b, i, rec_len(i));
			dp_ring_append(r, b, rec_len(i), 9);
			i++;
		}
		/* full: the cursor holds everything back */
		cr_assert(!dp_ring_room(r, dp_ring_entry_bytes(rec_len(i))));
		got += drain(c, got, 1);
		cr_assert_eq(got, i);
	}
	cr_assert_gt(i, 200 * 60);
	dp_ring_cursor_remove(&set, c);
	dp_ring_set_fini(&set);
}

Test(ring, a_links_own_records_are_passed_over)
{
	uint8_t b[64];
	struct dp_ring_cursor *c5, *c0;
	const uint8_t *rec;
	uint32_t len;

	cr_assert_eq(dp_ring_set_init(&set, 1, 0), 0);
	c5 = dp_ring_cursor_add(&set, 5);
	c0 = dp_ring_cursor_add(&set, 6);
	for (uint32_t i = 0; i < 10; i++) {
		rec_make(b, i, 40);
		dp_ring_append(set.rings[0], b, 40, i % 2 ? 5 : DP_RING_SRC_LOCAL);
	}
	for (uint32_t i = 0; i < 10; i += 2) {
		cr_assert_eq(dp_ring_peek(&set, c5, 0, &rec, &len), 1);
		cr_assert_eq(load_le32(rec), i);
		dp_ring_next(&set, c5, 0);
	}
	cr_assert_eq(dp_ring_peek(&set, c5, 0, &rec, &len), 0);
	for (uint32_t i = 0; i < 10; i++) {
		cr_assert_eq(dp_ring_peek(&set, c0, 0, &rec, &len), 1);
		cr_assert_eq(load_le32(rec), i);
		dp_ring_next(&set, c0, 0);
	}
	cr_assert_eq(dp_ring_lag(&set, c0, 0), 0);
	dp_ring_set_fini(&set);
}

Test(ring, the_slowest_cursor_bounds_the_producer)
{
	uint8_t b[1000] = { 0 };
	struct dp_ring *r;
	struct dp_ring_cursor *slow, *fast, *late;
	const uint8_t *rec;
	uint32_t len, n = 0;

	cr_assert_eq(dp_ring_set_init(&set, 1, DP_RING_MIN), 0);
	r = set.rings[0];
	/* no cursor: nothing holds the producer back */
	for (unsigned i = 0; i < 1000; i++) {
		cr_assert(dp_ring_room(r, dp_ring_entry_bytes(sizeof(b))));
		dp_ring_append(r, b, sizeof(b), 1);
	}
	slow = dp_ring_cursor_add(&set, 2);
	fast = dp_ring_cursor_add(&set, 3);
	cr_assert_eq(dp_ring_lag(&set, slow, 0), 0, "a new cursor starts at the head");
	while (dp_ring_room(r, dp_ring_entry_bytes(sizeof(b)))) {
		dp_ring_append(r, b, sizeof(b), 1);
		n++;
		while (dp_ring_peek(&set, fast, 0, &rec, &len))
			dp_ring_next(&set, fast, 0);
	}
	cr_assert_eq(n, DP_RING_MIN / dp_ring_entry_bytes(sizeof(b)));
	cr_assert_eq(dp_ring_lag(&set, fast, 0), 0);
	/* a cursor added now starts at the head and does not hold back what is older */
	late = dp_ring_cursor_add(&set, 4);
	cr_assert_eq(dp_ring_lag(&set, late, 0), 0);
	/* the slow one reads one entry: room for exactly one more */
	cr_assert_eq(dp_ring_peek(&set, slow, 0, &rec, &len), 1);
	dp_ring_next(&set, slow, 0);
	cr_assert(dp_ring_room(r, dp_ring_entry_bytes(sizeof(b))));
	dp_ring_append(r, b, sizeof(b), 1);
	cr_assert(!dp_ring_room(r, dp_ring_entry_bytes(sizeof(b))));
	/* the slow link goes away: its hold is released */
	dp_ring_cursor_remove(&set, slow);
	while (dp_ring_peek(&set, late, 0, &rec, &len))
		dp_ring_next(&set, late, 0);
	while (dp_ring_peek(&set, fast, 0, &rec, &len))
		dp_ring_next(&set, fast, 0);
	cr_assert(dp_ring_room(r, DP_RING_MIN / 2), "everything read: any half of the ring fits");
	dp_ring_set_fini(&set);
}

Test(ring, cursors_bounded)
{
	cr_assert_eq(dp_ring_set_init(&set, 0, 0), -EINVAL);
	cr_assert_eq(dp_ring_set_init(&set, DP_RING_PRODUCERS + 1, 0), -EINVAL);
	cr_assert_eq(dp_ring_set_init(&set, 1, 0), 0);
	for (unsigned i = 0; i < DP_RING_CURSORS; i++)
		cr_assert_not_null(dp_ring_cursor_add(&set, i + 1));
	cr_assert_null(dp_ring_cursor_add(&set, 99999));
	dp_ring_cursor_remove(&set, &set.cur[17]);
	cr_assert_eq(dp_ring_cursor_add(&set, 5), &set.cur[17]);
	dp_ring_set_fini(&set);
}
