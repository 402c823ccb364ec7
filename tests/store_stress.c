/*
 * store_stress.c - the store under concurrency, as a plain self-checking program (run as
 * `store-writer stress`, the meson test store-stress; TSan runs it where Criterion cannot).
 *
 * Four workers put, update and delete their own records and wait for durability -- in
 * parallel, each key in its shard, the odd ones through pg_store_put_decoded as a dataplane
 * worker does; a reader
 * gets and enumerates; an expirer advances the clock and toggles the connection of a graph
 * that defers expiration; the main thread compacts, exports and syncs meanwhile, while the
 * committer and the compactor threads do their work. Afterwards the counters must add up,
 * the reopened store must equal the closed one, and the export imported into a fresh store
 * must equal the state at export time. Exit 0, or 1 with the first failed check.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xxhash.h>

#include "pg_error.h"
#include "pg_time.h"
#include "store.h"
#include "store_gen.h"

int store_stress(void);

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define PER 10000u
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
#define PER 10000u
#endif
#endif
#ifndef PER
#define PER 100000u
#endif

enum { WORKERS = 4 };

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "store-stress: %s:%d: ", __FILE__, __LINE__);              \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
			exit(1);                                                                   \
		}                                                                                  \
	} while (0)

struct shared {
	struct pg_store *s;
	atomic_bool stop;
	atomic_uint_fast64_t gets, enums;
	atomic_uint_fast64_t events; /* callbacks of different shards run at the same time */
};

/* Record n of worker w at version v; every fourth expires at T0 + 1 s. */
static long make(uint8_t *buf, size_t cap, unsigned w, unsigned n, uint32_t v, bool tomb)
{
	static const uint8_t empty[1];
	struct pg_record_limits lim = { .max_record_size = PG_RECORD_SIZE_DEFAULT };
	uint8_t payload[64];
	struct pg_record r;

	memset(payload, (int)(n + v), sizeof(payload));
	memset(&r, 0, sizeof(r));
	sg_id(&r.id, (uint64_t)w << 32 | n);
	r.type.b[0] = (uint8_t)(n % 3);
	r.version = v;
	r.flags = tomb ? PG_RECORD_DELETED : 0;
	r.creator = "stress";
	r.creator_len = 6;
	r.modifier = v > 1 ? "stress" : "";
	r.modifier_len = v > 1 ? 6 : 0;
	r.created_us = SG_T0 - 10;
	r.modified_us = SG_T0 - 10 + v;
	r.expires_us = n % 4 == 0 ? SG_T0 + 1000000 : SG_FAR;
	r.attrs = empty;
	r.payload = payload;
	r.payload_len = tomb ? 0 : sizeof(payload);
	return pg_record_encode(&r, &lim, buf, cap);
}

struct worker {
	struct shared *sh;
	unsigned w;
};

/* A put the way worker w makes it: odd workers decode first, as the dataplane does. */
static int put(struct worker *wk, const uint8_t *buf, long len, uint64_t *ticket)
{
	struct pg_record_limits lim;
	struct pg_record r;

	if (wk->w % 2 == 0)
		return pg_store_put(wk->sh->s, buf, (size_t)len, ticket);
	pg_record_limits_default(&lim);
	CHECK(pg_record_decode(buf, (size_t)len, &lim, &r) == 0, "decode");
	return pg_store_put_decoded(wk->sh->s, &r, buf, (uint32_t)len, ticket);
}

static void *worker_main(void *arg)
{
	struct worker *wk = arg;
	uint8_t buf[512];
	uint64_t ticket = 0;

	for (unsigned n = 0; n < PER; n++) {
		long len = make(buf, sizeof(buf), wk->w, n, 1, false);

		int err = put(wk, buf, len, &ticket);

		CHECK(err == 0, "put: %s", pg_strerror(err));
		if (n % 2 == 0) {
			len = make(buf, sizeof(buf), wk->w, n, 2, n % 8 == 0);
			CHECK(put(wk, buf, len, &ticket) == 0, "update");
			CHECK(put(wk, buf, len, NULL) == PG_E_STALE, "stale");
		}
	}
	CHECK(pg_store_wait_durable(wk->sh->s, ticket, 60000000) == 0, "durable");
	return NULL;
}

static int count_rec(void *arg, const struct pg_record *r, const uint8_t *raw, uint32_t len)
{
	(void)r, (void)raw, (void)len;
	(*(uint64_t *)arg)++;
	return 0;
}

static void *reader_main(void *arg)
{
	struct shared *sh = arg;
	struct pg_guid id, type = { .b = { 1 } };
	uint8_t buf[512];
	size_t len;

	for (unsigned i = 0; !atomic_load(&sh->stop); i++) {
		uint64_t n = 0;

		sg_id(&id, (uint64_t)(i % WORKERS) << 32 | (i % PER));
		pg_store_get(sh->s, &id, "stress", 6, PG_STORE_WITH_DELETED, buf, sizeof(buf),
			     &len);
		atomic_fetch_add(&sh->gets, 1);
		if (i % 256 == 0) {
			pg_store_enum(sh->s, &type, NULL, 0, 0, count_rec, &n);
			atomic_fetch_add(&sh->enums, 1);
		}
	}
	return NULL;
}

static void *expirer_main(void *arg)
{
	struct shared *sh = arg;

	for (unsigned i = 0; !atomic_load(&sh->stop); i++) {
		pg_store_set_connected(sh->s, i % 3 != 0);
		/* the clock stays below the expirations until the end */
		pg_store_expire(sh->s, SG_T0 + i % 1000, 64);
		usleep(200);
	}
	return NULL;
}

static void count_event(void *arg, const struct pg_store_event *ev)
{
	(void)ev;
	atomic_fetch_add(&((struct shared *)arg)->events, 1);
}

struct fp {
	uint64_t n, sum;
};

static int fp_add(void *arg, const struct pg_record *r, const uint8_t *raw, uint32_t len)
{
	struct fp *f = arg;

	(void)r;
	f->n++;
	f->sum += XXH3_64bits(raw, len);
	return 0;
}

static struct fp fingerprint(struct pg_store *s)
{
	struct fp f = { 0, 0 };

	pg_store_enum(s, NULL, NULL, 0, PG_STORE_WITH_DELETED, fp_add, &f);
	return f;
}

static void config(struct pg_store_config *c, const char *dir)
{
	pg_store_config_default(c);
	c->dir = dir;
	c->graph_id = SG_GRAPH;
	c->graph_id_len = (uint16_t)strlen(SG_GRAPH);
	c->max_records = 1 << 20;
	c->max_bytes = 256ull << 20;
	c->commit_interval_us = 1000;
	c->compact_log_bytes = 512 << 10;
	c->defer_expiration = true;
	c->now_us = SG_T0;
}

int store_stress(void)
{
	char dir[] = "/tmp/pg-store-stress-XXXXXX", dir2[] = "/tmp/pg-store-stress-XXXXXX";
	char path[128], cmd[256];
	struct worker wk[WORKERS];
	pthread_t th[WORKERS], reader, expirer;
	struct shared sh = { 0 };
	struct pg_store_config c;
	struct pg_store_stats st;
	struct fp before, after, exported;
	struct pg_store *s2;
	uint64_t t0 = pg_mono_ns();

	CHECK(mkdtemp(dir) && mkdtemp(dir2), "mkdtemp");
	config(&c, dir);
	CHECK(pg_store_open(&c, &sh.s) == 0, "open");
	pg_store_subscribe(sh.s, count_event, &sh);
	for (unsigned w = 0; w < WORKERS; w++) {
		wk[w] = (struct worker){ &sh, w };
		CHECK(pthread_create(&th[w], NULL, worker_main, &wk[w]) == 0, "thread");
	}
	CHECK(pthread_create(&reader, NULL, reader_main, &sh) == 0, "thread");
	CHECK(pthread_create(&expirer, NULL, expirer_main, &sh) == 0, "thread");
	snprintf(path, sizeof(path), "%s/export.pgdb", dir2);
	for (unsigned k = 0; k < 3; k++) {
		CHECK(pg_store_compact(sh.s) == 0, "compact");
		usleep(2000);
	}
	for (unsigned w = 0; w < WORKERS; w++)
		pthread_join(th[w], NULL);
	CHECK(pg_store_export(sh.s, path) == 0, "export");
	exported = fingerprint(sh.s);
	atomic_store(&sh.stop, true);
	pthread_join(reader, NULL);
	pthread_join(expirer, NULL);

	pg_store_set_connected(sh.s, true);
	pg_store_expire(sh.s, SG_T0 + 1000000, 0);
	CHECK(pg_store_sync(sh.s) == 0, "sync");
	pg_store_stats_get(sh.s, &st);
	CHECK(st.records == WORKERS * (PER - PER / 4), "records %llu",
	      (unsigned long long)st.records);
	CHECK(st.added == WORKERS * PER, "added %llu", (unsigned long long)st.added);
	CHECK(st.stale == WORKERS * PER / 2, "stale %llu", (unsigned long long)st.stale);
	CHECK(st.decoded == (WORKERS / 2) * (PER + PER), "decoded %llu",
	      (unsigned long long)st.decoded);
	CHECK(atomic_load(&sh.events) == st.added + st.updated + st.deleted + st.expired, "events");
	CHECK(st.io_error == 0 && st.durable_seq == st.appended_seq, "durable");
	before = fingerprint(sh.s);
	pg_store_close(sh.s);

	CHECK(pg_store_open(&c, &sh.s) == 0, "reopen");
	after = fingerprint(sh.s);
	CHECK(before.n == after.n && before.sum == after.sum, "reopen equals");
	pg_store_close(sh.s);

	snprintf(cmd, sizeof(cmd), "%s/db", dir2);
	config(&c, cmd);
	c.compact_log_bytes = 0;
	CHECK(pg_store_open(&c, &s2) == 0, "open 2");
	CHECK(pg_store_import(s2, path, NULL) == 0, "import");
	after = fingerprint(s2);
	CHECK(after.n == exported.n && after.sum == exported.sum, "import equals export");
	pg_store_close(s2);

	printf("store-stress: %u workers x %u records, %llu gets, %llu enums, %llu commits, "
	       "%llu compactions in %.2f s: ok\n",
	       WORKERS, PER, (unsigned long long)atomic_load(&sh.gets),
	       (unsigned long long)atomic_load(&sh.enums), (unsigned long long)st.commits,
	       (unsigned long long)st.compactions, (double)(pg_mono_ns() - t0) / 1e9);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", dir, dir2);
	return system(cmd) == 0 ? 0 : 1;
}
