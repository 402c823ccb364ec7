/*
 * ring_stress.c - flood rings under threads (dataplane/flood/ring.h): two producers append
 * numbered records while reader threads (links), each with its own cursor and source id,
 * read every ring. Every reader must see each producer's records exactly in order, intact,
 * without the ones of its own source, while producers wait for the slowest. Readers come and
 * go midway (a link up, a link down). A plain program so that TSan can run it (Criterion
 * cannot start under TSan); bounded in records and time.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_bytes.h"
#include "pg_time.h"
#include "ring.h"

enum { PRODUCERS = 2, READERS = 3, RECORDS = 200000 };

static struct dp_ring_set set;
static atomic_int failures;
static atomic_int done_producers;

#define FAIL(...)                                                                                  \
	do {                                                                                       \
		fprintf(stderr, "ring-stress: " __VA_ARGS__);                                      \
		fputc('\n', stderr);                                                               \
		atomic_fetch_add(&failures, 1);                                                    \
	} while (0)

static uint32_t len_of(uint32_t i)
{
	return 8 + (i * 97) % 700;
}

static void *producer(void *arg)
{
	unsigned p = (unsigned)(uintptr_t)arg;
	struct dp_ring *r = set.rings[p];
	uint8_t b[800];
	uint64_t deadline = pg_time_now_us() + 60000000;

	for (uint32_t i = 0; i < RECORDS && pg_time_now_us() < deadline;) {
		uint32_t len = len_of(i);

		if (!dp_ring_room(r, dp_ring_entry_bytes(len))) {
			sched_yield();
			continue;
		}
		memset(b, (int)(i & 0xff), len);
		store_le32(b, i);
		store_le32(b + 4, p);
		/* every 7th record is attributed to source 100 + i % READERS: its reader skips it
		 */
		dp_ring_append(r, b, len, i % 7 == 0 ? 100 + i % READERS : DP_RING_SRC_LOCAL);
		i++;
	}
	atomic_fetch_add(&done_producers, 1);
	return NULL;
}

struct reader {
	unsigned no;
	uint64_t seen;
};

static void *reader(void *arg)
{
	struct reader *rd = arg;
	uint32_t src = 100 + rd->no;
	uint64_t deadline = pg_time_now_us() + 60000000;

	/* the second half of the readers comes up late and leaves early, twice */
	for (unsigned life = 0; life < (rd->no ? 2 : 1); life++) {
		struct dp_ring_cursor *c = dp_ring_cursor_add(&set, src);
		int64_t next[PRODUCERS];
		bool first[PRODUCERS] = { true, true };

		if (!c) {
			FAIL("no cursor");
			return NULL;
		}
		for (;;) {
			bool idle = true;

			for (unsigned p = 0; p < PRODUCERS; p++) {
				const uint8_t *rec;
				uint32_t len;

				while (dp_ring_peek(&set, c, p, &rec, &len)) {
					uint32_t i = load_le32(rec);

					idle = false;
					if (first[p])
						next[p] = i, first[p] = false;
					/* skip what is ours: the next expected is past it */
					while (next[p] % 7 == 0 && 100 + next[p] % READERS == src &&
					       next[p] < (int64_t)i)
						next[p]++;
					if (i != next[p] || len != len_of(i) ||
					    load_le32(rec + 4) != p ||
					    (len > 8 && rec[len - 1] != (uint8_t)(i & 0xff)) ||
					    (i % 7 == 0 && 100 + i % READERS == src)) {
						FAIL("reader %u ring %u: got %u (len %u), want %ld",
						     rd->no, p, i, len, (long)next[p]);
						dp_ring_cursor_remove(&set, c);
						return NULL;
					}
					next[p]++;
					rd->seen++;
					dp_ring_next(&set, c, p);
				}
			}
			if (rd->no && life == 0 && rd->seen > RECORDS / 2)
				break; /* leave midway */
			if (idle && atomic_load(&done_producers) == PRODUCERS)
				break;
			if (pg_time_now_us() > deadline) {
				FAIL("reader %u: timed out", rd->no);
				break;
			}
			if (idle)
				sched_yield();
		}
		dp_ring_cursor_remove(&set, c);
	}
	return NULL;
}

int main(void)
{
	pthread_t pt[PRODUCERS], rt[READERS];
	struct reader rd[READERS];

	if (dp_ring_set_init(&set, PRODUCERS, DP_RING_MIN) != 0) {
		fprintf(stderr, "ring-stress: init\n");
		return 1;
	}
	for (unsigned i = 0; i < READERS; i++) {
		rd[i] = (struct reader){ .no = i };
		pthread_create(&rt[i], NULL, reader, &rd[i]);
	}
	for (unsigned p = 0; p < PRODUCERS; p++)
		pthread_create(&pt[p], NULL, producer, (void *)(uintptr_t)p);
	for (unsigned p = 0; p < PRODUCERS; p++)
		pthread_join(pt[p], NULL);
	for (unsigned i = 0; i < READERS; i++)
		pthread_join(rt[i], NULL);
	dp_ring_set_fini(&set);
	if (rd[0].seen < (uint64_t)PRODUCERS * RECORDS * 6 / 7)
		FAIL("reader 0 saw only %lu records", (unsigned long)rd[0].seen);
	printf("ring-stress: %lu records read by reader 0, %d failures\n",
	       (unsigned long)rd[0].seen, atomic_load(&failures));
	return atomic_load(&failures) ? 1 : 0;
}
