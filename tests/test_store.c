/*
 * test_store.c - the durable record store, one test per promise of store.h: put / get /
 * enumerate, the conflict order, events, expiry and deferred expiry, limits, threads. Reopen,
 * directory durability, compaction, arena cleaning and recovery after SIGKILL are in
 * test_store_persist.c; export / import in test_store_import.c; formats, the scanner and the
 * timer wheel in test_store_format.c. One binary, test-store.
 *
 * Every test works in its own directory under /tmp and removes it. Under sanitizers the
 * workloads shrink (SCALE).
 */
#define CRIT_TSAN_MAIN /* this file holds the TSan stand-in's main (crit_tsan.h) */
#include "crit_tsan.h"
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xxhash.h>

#include "pg_error.h"
#include "pg_time.h"
#include "snapshot.h"
#include "store.h"
#include "store_impl.h"
#include "store_gen.h"
#include "store_test.h"
#include "wal.h"

TestSuite(store, .fini = ts_cleanup);

/* The whole binary needs a writable /tmp on a real file system: otherwise SKIP (exit 77). */
__attribute__((constructor)) static void need_tmp(void)
{
	char dir[] = "/tmp/pg-store-probe-XXXXXX";

	if (!mkdtemp(dir)) {
		fprintf(stderr, "test-store: SKIP: cannot make a directory in /tmp: %s\n",
			strerror(errno));
		exit(77);
	}
	rmdir(dir);
}

/* ---- put / get / enumerate ------------------------------------------------------------ */

/* pg_store_put_decoded with the worker's decoded view and bytes stores exactly what
 * pg_store_put stores -- same gets, same enumeration, same events, same state after a reopen
 * -- and decodes nothing itself: the decoded counter counts only pg_store_put's decodes. */
Test(store, put_decoded_equals_put)
{
	struct pg_record_limits lim;
	struct evlog ea = { 0 }, eb = { 0 };
	struct pg_store_stats sa, sb;
	struct ts a, b;
	struct fp fa, fb;

	pg_record_limits_default(&lim);
	ts_init(&a);
	ts_init(&b);
	ts_open(&a);
	ts_open(&b);
	pg_store_subscribe(a.s, evlog_add, &ea);
	pg_store_subscribe(b.s, evlog_add, &eb);
	for (unsigned k = 0; k < 300; k++) {
		/* new records, updates, tombstones and stale copies */
		struct spec sp = spec(k % 100, 1 + k / 100);
		uint8_t buf[4096];
		struct pg_record r;
		uint64_t ta = 0, tb = 0;
		long len;
		int ra, rb;

		sp.modifier = k >= 100 ? "alice" : NULL;
		if (k >= 200 && k % 7 == 0)
			sp.flags = PG_RECORD_DELETED, sp.payload = 0;
		len = rec_make(buf, sizeof(buf), &sp);
		cr_assert_gt(len, 0);
		cr_assert_eq(pg_record_decode(buf, (size_t)len, &lim, &r), 0);
		ra = pg_store_put(a.s, buf, (size_t)len, &ta);
		rb = pg_store_put_decoded(b.s, &r, buf, (uint32_t)len, &tb);
		cr_assert_eq(ra, rb, "put %u: %d vs %d", k, ra, rb);
		cr_assert_eq(ta, tb, "put %u: same ticket", k);
		if (k % 50 == 0) /* a stale copy: refused the same way */
			cr_assert_eq(pg_store_put_decoded(b.s, &r, buf, (uint32_t)len, NULL),
				     pg_store_put(a.s, buf, (size_t)len, NULL));
	}
	for (unsigned n = 0; n < 100; n++) {
		struct spec sp = spec(n, 3);

		sp.modifier = "alice";
		if ((200 + n) % 7 == 0)
			sp.flags = PG_RECORD_DELETED, sp.payload = 0;
		get_eq_spec(a.s, &sp);
		get_eq_spec(b.s, &sp);
	}
	cr_assert_eq(ea.n, eb.n, "as many events");
	for (int i = 0; i < ea.n; i++) {
		cr_assert_eq(ea.e[i].kind, eb.e[i].kind, "event %d", i);
		cr_assert_eq(ea.e[i].id, eb.e[i].id, "event %d", i);
	}
	fa = fingerprint(a.s);
	fb = fingerprint(b.s);
	cr_assert(fa.n == fb.n && fa.sum == fb.sum, "same enumeration");
	pg_store_stats_get(a.s, &sa);
	pg_store_stats_get(b.s, &sb);
	cr_assert_eq(sa.decoded, 300 + 6, "pg_store_put decoded each of its records once");
	cr_assert_eq(sb.decoded, 0, "pg_store_put_decoded decoded none");
	cr_assert_eq(sa.stale, sb.stale);
	ts_close(&a);
	ts_close(&b);
	ts_open(&a);
	ts_open(&b);
	fa = fingerprint(a.s);
	fb = fingerprint(b.s);
	cr_assert(fa.n == fb.n && fa.sum == fb.sum && fa.n == 100, "same state after a reopen");
	ts_fini(&a);
	ts_fini(&b);
}

Test(store, put_get_enumerate)
{
	struct ts t;
	struct pg_guid type1 = { .b = { 1 } }, type2 = { .b = { 2 } }, id;
	uint8_t small[8];
	size_t len;
	long n = 0;

	ts_init(&t);
	ts_open(&t);
	for (uint64_t i = 0; i < 60; i++) {
		struct spec sp = spec(i, 1);

		sp.type = (uint8_t)(1 + i % 3);
		sp.creator = i % 2 ? "bob" : "alice";
		cr_assert_eq(put_spec(t.s, &sp, NULL), 0);
	}
	for (uint64_t i = 0; i < 60; i++) {
		struct spec sp = spec(i, 1);

		sp.type = (uint8_t)(1 + i % 3);
		sp.creator = i % 2 ? "bob" : "alice";
		get_eq_spec(t.s, &sp);
	}
	sg_id(&id, 999);
	cr_assert_eq(pg_store_get(t.s, &id, "alice", 5, 0, small, sizeof(small), &len),
		     PG_E_NOT_FOUND);
	sg_id(&id, 1);
	cr_assert_eq(pg_store_get(t.s, &id, "alice", 5, 0, small, sizeof(small), &len),
		     PG_E_NOT_FOUND, "record 1 is bob's: (id, alice) names another record");
	cr_assert_eq(pg_store_get(t.s, &id, "bob", 3, 0, small, sizeof(small), &len), -ENOSPC);
	cr_assert_gt(len, sizeof(small), "the size needed is reported");

	cr_assert_eq(pg_store_enum(t.s, NULL, NULL, 0, 0, count_cb, &n), 60);
	cr_assert_eq(pg_store_enum(t.s, &type1, NULL, 0, 0, count_cb, &n), 20);
	cr_assert_eq(pg_store_enum(t.s, &type2, "bob", 3, 0, count_cb, &n), 10);
	cr_assert_eq(pg_store_enum(t.s, NULL, "alice", 5, 0, count_cb, &n), 30);
	cr_assert_eq(pg_store_enum(t.s, NULL, "carol", 5, 0, count_cb, &n), 0);

	/* a tombstone hides the record from get and enumerate unless asked for */
	struct spec del = spec(0, 2);

	del.type = 1;
	del.flags = PG_RECORD_DELETED;
	del.payload = 0;
	cr_assert_eq(put_spec(t.s, &del, NULL), 0);
	sg_id(&id, 0);
	cr_assert_eq(pg_store_get(t.s, &id, "alice", 5, 0, small, sizeof(small), &len),
		     PG_E_NOT_FOUND);
	get_eq_spec(t.s, &del);
	cr_assert_eq(pg_store_enum(t.s, &type1, NULL, 0, 0, count_cb, &n), 19);
	cr_assert_eq(pg_store_enum(t.s, &type1, NULL, 0, PG_STORE_WITH_DELETED, count_cb, &n), 20);

	/* a record view is stored the same as its encoding */
	struct spec sp = spec(100, 1);
	uint8_t raw[2048];
	struct pg_record r;
	long rl = rec_make(raw, sizeof(raw), &sp);

	cr_assert_eq(pg_record_decode(raw, (size_t)rl, &t.c.limits, &r), 0);
	cr_assert_eq(pg_store_put_record(t.s, &r, NULL), 0);
	get_eq_spec(t.s, &sp);
	cr_assert_eq(pg_store_put(t.s, raw, (size_t)rl - 1, NULL), PG_E_TRUNCATED,
		     "a damaged encoding is refused");
	ts_fini(&t);
}

/* ---- conflict order --------------------------------------------------------------------- */

struct order_row {
	int no;
	const char *what;
	struct spec put;
	int want;
};

/* The notify fd wakes an event loop after each group commit: once it is readable, what was put
 * before is durable (the daemon acknowledges adds this way, without a thread per store). */
Test(store, notify_fd_after_each_commit)
{
	struct ts t;
	struct pollfd p;
	uint64_t ticket = 0, count;
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	cr_assert_geq(fd, 0);
	ts_init(&t);
	ts_open(&t);
	pg_store_set_notify_fd(t.s, fd);
	for (int round = 0; round < 3; round++) {
		struct spec sp = spec((uint64_t)round, 1);

		cr_assert_eq(put_spec(t.s, &sp, &ticket), 0);
		p = (struct pollfd){ .fd = fd, .events = POLLIN };
		while (pg_store_durable_seq(t.s) < ticket) {
			cr_assert_eq(poll(&p, 1, 5000), 1, "woken within 5 s");
			cr_assert_eq(read(fd, &count, sizeof(count)), (ssize_t)sizeof(count));
			cr_assert_geq(count, 1);
		}
	}
	pg_store_set_notify_fd(t.s, -1);
	ts_fini(&t);
	close(fd);
}

Test(store, conflict_order)
{
	/* applied in order to one record (n = 7); the held copy starts as version 2 by "m" */
	static const struct order_row rows[] = {
		{ 1, "same copy again is stale", { .version = 2, .modifier = "m" }, PG_E_STALE },
		{ 2, "older version is stale", { .version = 1 }, PG_E_STALE },
		{ 3, "lower modifier is stale", { .version = 2, .modifier = "a" }, PG_E_STALE },
		{ 4, "higher modifier wins", { .version = 2, .modifier = "z" }, 0 },
		{ 5,
		  "later modification wins",
		  { .version = 2, .modifier = "z", .mod_delta = 5 },
		  0 },
		{ 6,
		  "larger secdata wins",
		  { .version = 2, .modifier = "z", .mod_delta = 5, .secdata = "ab" },
		  0 },
		{ 7, "higher version wins", { .version = 3, .modifier = "m" }, 0 },
		{ 8,
		  "expiry may not shrink",
		  { .version = 4, .modifier = "m", .expires = SG_FAR - 1 },
		  PG_E_EXPIRY_SHRANK },
		{ 9,
		  "type may not change",
		  { .version = 4, .modifier = "m", .type = 9 },
		  PG_E_BAD_FORMAT },
		{ 10,
		  "expiry may grow",
		  { .version = 4, .modifier = "m", .expires = SG_FAR + 1 },
		  0 },
	};
	struct spec held = spec(7, 2);
	struct pg_store_stats st;
	struct ts t;

	ts_init(&t);
	ts_open(&t);
	held.modifier = "m";
	cr_assert_eq(put_spec(t.s, &held, NULL), 0);
	for (size_t i = 0; i < PG_ARRAY_SIZE(rows); i++) {
		struct spec sp = rows[i].put;

		sp.n = 7;
		sp.creator = "alice";
		sp.payload = 32;
		sp.expires = sp.expires ? sp.expires : SG_FAR;
		sp.type = sp.type ? sp.type : 0;
		cr_assert_eq(put_spec(t.s, &sp, NULL), rows[i].want, "row %d (%s)", rows[i].no,
			     rows[i].what);
		if (rows[i].want == 0)
			held = sp;
		get_eq_spec(t.s, &held);
	}
	pg_store_stats_get(t.s, &st);
	cr_assert_eq(st.stale, 3);
	cr_assert_eq(st.rejected, 2);
	cr_assert_eq(st.records, 1);
	ts_fini(&t);
}

/* ---- events and expiry ------------------------------------------------------------------ */

Test(store, events_in_order)
{
	static const int want[] = { PG_STORE_ADDED, PG_STORE_UPDATED, PG_STORE_DELETED,
				    PG_STORE_ADDED, PG_STORE_EXPIRED, PG_STORE_EXPIRED };
	struct evlog ev = { 0 };
	struct spec a = spec(1, 1), b = spec(2, 1);
	struct ts t;

	ts_init(&t);
	ts_open(&t);
	pg_store_subscribe(t.s, evlog_add, &ev);
	a.expires = b.expires = SG_T0 + 10000;
	cr_assert_eq(put_spec(t.s, &a, NULL), 0);
	a.version = 2;
	a.modifier = "alice";
	cr_assert_eq(put_spec(t.s, &a, NULL), 0);
	a.version = 3;
	a.flags = PG_RECORD_DELETED;
	a.payload = 0;
	cr_assert_eq(put_spec(t.s, &a, NULL), 0);
	cr_assert_eq(put_spec(t.s, &b, NULL), 0);
	cr_assert_eq(pg_store_expire(t.s, SG_T0 + 9999, 0), 0, "nothing before its time");
	cr_assert_eq(pg_store_expire(t.s, SG_T0 + 10000, 0), 2, "the tombstone expires too");
	cr_assert_eq(ev.n, (int)PG_ARRAY_SIZE(want));
	for (int i = 0; i < ev.n; i++) {
		cr_assert_eq(ev.e[i].kind, want[i], "event %d", i);
		if (i > 0)
			cr_assert_gt(ev.e[i].seq, ev.e[i - 1].seq, "event %d in log order", i);
	}
	/* both expire in one tick, in either order; the tombstone's event shows it as one */
	int tomb = ev.e[4].id == 1 ? 4 : 5;

	cr_assert_eq(ev.e[tomb].id, 1);
	cr_assert_eq(ev.e[9 - tomb].id, 2);
	cr_assert_eq(ev.e[tomb].flags, PG_RECORD_DELETED);
	cr_assert_not(present(t.s, 1));
	cr_assert_not(present(t.s, 2));
	ts_fini(&t);
}

Test(store, expiry_at_its_time)
{
	const unsigned n = 200 * SCALE;
	struct spec sp;
	struct ts t;

	ts_init(&t);
	ts_open(&t);
	/* record i expires at T0 + 1 ms * i + 500 us: within a tick, never early, never late */
	for (unsigned i = 0; i < n; i++) {
		sp = spec(i, 1);
		sp.expires = SG_T0 + 1000ull * i + 500;
		cr_assert_eq(put_spec(t.s, &sp, NULL), 0);
	}
	/* record 0 gets a later expiration: it must be re-scheduled, not fire at the old time */
	sp = spec(0, 2);
	sp.modifier = "alice";
	sp.expires = SG_T0 + 1000ull * n + 500;
	cr_assert_eq(put_spec(t.s, &sp, NULL), 0);
	for (unsigned i = 1; i < n; i++) {
		uint64_t at = SG_T0 + 1000ull * i + 500;

		cr_assert_eq(pg_store_expire(t.s, at - 1, 0), 0);
		cr_assert(present(t.s, i), "record %u still there 1 us before", i);
		cr_assert_eq(pg_store_expire(t.s, at, 0), 1, "record %u expires at its time", i);
		cr_assert_not(present(t.s, i));
	}
	cr_assert(present(t.s, 0), "re-scheduled record 0 survives");
	/* a bound per call, and a jump of years */
	for (unsigned i = 0; i < 10; i++) {
		sp = spec(1000 + i, 1);
		sp.expires = SG_T0 + 5000000 + i;
		cr_assert_eq(put_spec(t.s, &sp, NULL), 0);
	}
	cr_assert_eq(pg_store_expire(t.s, SG_FAR - 1, 4), 4);
	cr_assert_eq(pg_store_expire(t.s, SG_FAR - 1, 0), 7);
	struct pg_store_stats st;

	pg_store_stats_get(t.s, &st);
	cr_assert_eq(st.records, 0);
	cr_assert_eq(st.expired, n + 10);
	ts_fini(&t);
}

/* A copy that has already expired by the store's clock is refused, not stored to be removed
 * at the next tick (or, after its key was forgotten, to come back as ADDED). */
Test(store, expired_copy_refused)
{
	struct pg_store_stats st;
	struct spec late = spec(7, 1), live = spec(8, 1);
	struct ts t;

	ts_init(&t);
	ts_open(&t);
	cr_assert_eq(pg_store_expire(t.s, SG_T0 + 500, 0), 0);
	late.expires = SG_T0 + 500; /* expiration == now: expired */
	live.expires = SG_T0 + 501;
	cr_assert_eq(put_spec(t.s, &late, NULL), PG_E_RECORD_EXPIRED);
	cr_assert_eq(put_spec(t.s, &live, NULL), 0);
	pg_store_stats_get(t.s, &st);
	cr_assert_eq(st.expired_refused, 1);
	cr_assert_eq(st.records, 1);
	/* while expiration is deferred (flag set, graph disconnected) nothing expires: taken */
	pg_store_set_defer_expiration(t.s, true);
	pg_store_set_connected(t.s, false);
	cr_assert_eq(put_spec(t.s, &late, NULL), 0);
	ts_fini(&t);
}

Test(store, defer_expiration)
{
	struct evlog ev = { 0 };
	struct ts t;

	ts_init(&t);
	t.c.defer_expiration = true;
	ts_open(&t);
	pg_store_subscribe(t.s, evlog_add, &ev);
	for (unsigned i = 0; i < 8; i++) {
		struct spec sp = spec(i, 1);

		sp.expires = SG_T0 + 1000 * (i + 1);
		cr_assert_eq(put_spec(t.s, &sp, NULL), 0);
	}
	cr_assert_eq(pg_store_expire(t.s, SG_T0 + 100000, 0), 0, "disconnected: nothing expires");
	cr_assert(present(t.s, 0));
	pg_store_set_connected(t.s, true);
	/* the backlog expires at the next call, earliest first, bounded per call */
	cr_assert_eq(pg_store_expire(t.s, SG_T0 + 100000, 3), 3);
	cr_assert_eq(pg_store_expire(t.s, SG_T0 + 100000, 0), 5);
	for (int i = 0; i < 8; i++) {
		cr_assert_eq(ev.e[8 + i].kind, PG_STORE_EXPIRED);
		cr_assert_eq(ev.e[8 + i].id, (uint64_t)i, "backlog in expiration order");
	}
	/* disconnected again: deferred again; the flag off: expiry regardless */
	struct spec sp = spec(50, 1);

	sp.expires = SG_T0 + 200000;
	cr_assert_eq(put_spec(t.s, &sp, NULL), 0);
	pg_store_set_connected(t.s, false);
	cr_assert_eq(pg_store_expire(t.s, SG_T0 + 300000, 0), 0);
	pg_store_set_defer_expiration(t.s, false);
	cr_assert_eq(pg_store_expire(t.s, SG_T0 + 300000, 0), 1);
	ts_fini(&t);
}

/* ---- limits ---------------------------------------------------------------------------- */

Test(store, limits)
{
	struct pg_store_stats st;
	struct spec sp;
	struct ts t;

	ts_init(&t);
	t.c.max_records = 100;
	ts_open(&t);
	for (unsigned i = 0; i < 100; i++) {
		sp = spec(i, 1);
		sp.expires = SG_T0 + 1000;
		cr_assert_eq(put_spec(t.s, &sp, NULL), 0);
	}
	sp = spec(100, 1);
	cr_assert_eq(put_spec(t.s, &sp, NULL), PG_E_STORE_FULL, "one record too many");
	sp = spec(5, 2);
	sp.modifier = "alice";
	cr_assert_eq(put_spec(t.s, &sp, NULL), 0, "an update needs no new slot");
	cr_assert_eq(pg_store_expire(t.s, SG_T0 + 1000, 0), 99);
	sp = spec(100, 1);
	cr_assert_eq(put_spec(t.s, &sp, NULL), 0, "room again after expiry");
	pg_store_stats_get(t.s, &st);
	cr_assert_eq(st.full_records, 1, "the refusal is counted");
	ts_fini(&t);

	ts_init(&t);
	t.c.max_bytes = 64 << 10;
	ts_open(&t);
	unsigned stored = 0;
	uint8_t buf[2048];
	int err = 0;

	for (unsigned i = 0; i < 100 && !err; i++) {
		sp = spec(i, 1);
		sp.payload = 1000;
		if (!(err = put_spec(t.s, &sp, NULL)))
			stored++;
	}
	uint64_t entry = pg_log_entry_size((uint64_t)rec_make(buf, sizeof(buf), &sp));

	cr_assert_eq(err, PG_E_STORE_FULL);
	cr_assert_eq(stored, (64u << 10) / entry, "exactly what fits in the byte bound");
	pg_store_stats_get(t.s, &st);
	cr_assert_eq(st.full_bytes, 1);
	cr_assert_leq(st.live_bytes, 64u << 10);
	ts_fini(&t);
}

/* ---- threads -------------------------------------------------------------------------------- */

struct worker {
	struct pg_store *s;
	unsigned id, n;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint64_t ticket = 0;

	for (unsigned i = 0; i < w->n; i++) {
		struct spec sp = spec(w->id * 1000000ull + i, 1);

		/* expires after the run: the workers' own expiry calls race with nothing */
		sp.expires = i % 4 == 0 ? SG_T0 + 1000000 + i : SG_FAR;
		PG_ASSERT(put_spec(w->s, &sp, &ticket) == 0);
		if (i % 2 == 0) {
			sp.version = 2;
			sp.modifier = "bob";
			PG_ASSERT(put_spec(w->s, &sp, &ticket) == 0);
		}
		if (i % 64 == 0)
			pg_store_expire(w->s, SG_T0 + i, 0);
	}
	PG_ASSERT(pg_store_wait_durable(w->s, ticket, 30000000) == 0);
	return NULL;
}

static void count_event(void *arg, const struct pg_store_event *ev)
{
	(void)ev;
	/* callbacks of different shards run at the same time (store.h) */
	atomic_fetch_add((_Atomic uint64_t *)arg, 1);
}

Test(store, threads)
{
	const unsigned workers = 4, n = 3000 * SCALE;
	struct worker w[4];
	pthread_t th[4];
	_Atomic uint64_t events = 0;
	struct pg_store_stats st;
	struct fp a;
	struct ts t;

	ts_init(&t);
	t.c.compact_log_bytes = 256 << 10; /* the compactor thread runs too */
	t.c.commit_interval_us = 2000;
	ts_open(&t);
	pg_store_subscribe(t.s, count_event, &events);
	for (unsigned i = 0; i < workers; i++) {
		w[i] = (struct worker){ t.s, i, n };
		cr_assert_eq(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
	}
	for (unsigned k = 0; k < 3; k++)
		cr_assert_eq(pg_store_compact(t.s), 0);
	for (unsigned i = 0; i < workers; i++)
		pthread_join(th[i], NULL);
	pg_store_expire(t.s, SG_T0 + 1000000 + n, 0);
	pg_store_stats_get(t.s, &st);
	cr_assert_eq(st.records, workers * (n - n / 4));
	cr_assert_eq(atomic_load(&events), st.added + st.updated + st.expired);
	cr_assert_eq(st.added, workers * n);
	a = fingerprint(t.s);
	ts_close(&t);
	ts_open(&t);
	cr_assert_eq(fingerprint(t.s).sum, a.sum);
	ts_fini(&t);
}
