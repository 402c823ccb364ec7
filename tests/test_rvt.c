/*
 * test_rvt.c - the record-version table: its contract row by row, its bounds, and a
 * multi-threaded stress test checked against a naive single-threaded model.
 *
 * Bodies are heap copies tagged with a magic number, their key and their author; the free
 * callback poisons and frees them, so a body freed too early shows up as a bad magic here
 * and as a use-after-free under ASan, and a body never freed shows up as a leak.
 *
 * Under ThreadSanitizer Criterion cannot start (its sandbox maps an arena at random addresses
 * in a range TSan reserves: "Could not initialize inheritable arena", Criterion issue #274),
 * so there the same tests run under the minimal runner below: same macros, one process,
 * exit status 1 on any failed expectation.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pg_assert.h"
#include "pg_error.h"
#include "record.h"
#include "rvt.h"

#define CRIT_TSAN_MAIN /* this file holds the TSan stand-in's main (crit_tsan.h) */
#include "crit_tsan.h"

#ifdef CRIT_ON_SANITIZER
#define RUNNING_ON_SANITIZER 1
#else
#define RUNNING_ON_SANITIZER 0
#endif

enum {
	MAGIC_LIVE = 0x52565442, /* "RVTB" */
	MAGIC_DEAD = 0xdeadbeef,
};

struct tbody {
	struct pg_record r; /* first: the table sees &tb->r */
	uint32_t magic;
	uint32_t key_idx;
	uint32_t author;
};

static _Atomic uint64_t n_alloc, n_free;

static const struct pg_guid type_a = { { 0xa } }, type_b = { { 0xb } };

struct spec {
	uint32_t version;
	uint16_t flags;
	const char *modifier;
	uint64_t modified_us;
	uint64_t expires_us;
	const struct pg_guid *type;
};

static struct pg_record *body_new(const struct spec *sp, uint32_t key_idx, uint32_t author)
{
	struct tbody *tb = calloc(1, sizeof(*tb));

	cr_assert(tb != NULL);
	tb->r.type = sp->type ? *sp->type : type_a;
	tb->r.version = sp->version;
	tb->r.flags = sp->flags;
	tb->r.created_us = 1;
	tb->r.modified_us = sp->modified_us;
	tb->r.expires_us = sp->expires_us;
	tb->r.modifier = sp->modifier ? sp->modifier : "";
	tb->r.modifier_len = (uint16_t)strlen(tb->r.modifier);
	tb->r.creator = "creator";
	tb->r.creator_len = 7;
	tb->magic = MAGIC_LIVE;
	tb->key_idx = key_idx;
	tb->author = author;
	atomic_fetch_add(&n_alloc, 1);
	return &tb->r;
}

static struct tbody *tb_of(const struct pg_record *r)
{
	return (struct tbody *)(uintptr_t)r;
}

/* Frees a body the table never took. */
static void body_drop(const struct pg_record *r)
{
	struct tbody *tb = tb_of(r);

	tb->magic = MAGIC_DEAD;
	free(tb);
	atomic_fetch_add(&n_free, 1);
}

static void body_free_cb(void *ctx, const struct pg_record *r)
{
	(void)ctx;
	if (tb_of(r)->magic != MAGIC_LIVE) {
		fprintf(stderr, "free callback: body %p freed twice or corrupt\n", (const void *)r);
		abort();
	}
	body_drop(r);
}

static struct pg_key key_of(uint32_t i)
{
	struct pg_guid id = { { 0 } };

	memcpy(id.b, &i, sizeof(i));
	return pg_record_key(0x5eed5eed5eedull, &id, "rvt-test", 8);
}

static struct rvt *table_new(uint32_t capacity, uint32_t max_threads, uint32_t retire_max)
{
	struct rvt_config cfg = {
		.capacity = capacity,
		.max_threads = max_threads,
		.retire_max = retire_max,
		.body_free = body_free_cb,
	};
	struct rvt *t = NULL;

	cr_assert_eq(rvt_create(&cfg, &t), 0);
	return t;
}

/* Destroys t and checks every body ever allocated was freed exactly once. */
static void table_done(struct rvt *t)
{
	rvt_destroy(t);
	cr_assert_eq(atomic_load(&n_alloc), atomic_load(&n_free),
		     "bodies allocated %llu, freed %llu", (unsigned long long)atomic_load(&n_alloc),
		     (unsigned long long)atomic_load(&n_free));
}

/* ---- single-threaded contract, one row per case ------------------------------------- */

enum op { LOOKUP, INSERT, RAISE, TOMB, REMOVE };

struct row {
	int no;
	const char *what;
	enum op op;
	uint32_t key;
	struct spec sp; /* the copy offered (INSERT / RAISE / TOMB) */
	int ref;	/* REMOVE, or RAISE of an earlier body: that row's body */
	int want;
	uint32_t want_version; /* after the op; 0 = nothing held */
	bool want_deleted;
};

#define DEL	 PG_RECORD_DELETED
#define STALE	 PG_E_STALE
#define NOTFOUND PG_E_NOT_FOUND
#define SHRANK	 PG_E_EXPIRY_SHRANK
#define BADTYPE	 PG_E_BAD_FORMAT

static const struct row rows[] = {
	{ 1, "lookup missing", LOOKUP, 0, { 0 }, 0, NOTFOUND, 0, false },
	{ 2, "insert absent", INSERT, 0, { 1, 0, "", 10, 100 }, 0, 0, 1, false },
	{ 3, "insert present", INSERT, 0, { 2, 0, "", 20, 100 }, 0, -EEXIST, 1, false },
	{ 4, "raise newer", RAISE, 0, { 2, 0, "", 20, 100 }, 0, 0, 2, false },
	{ 5, "raise older", RAISE, 0, { 1, 0, "", 30, 100 }, 0, STALE, 2, false },
	{ 6, "equal: exact dup", RAISE, 0, { 2, 0, "", 20, 100 }, 0, STALE, 2, false },
	{ 7, "equal: updated wins", RAISE, 0, { 2, 0, "bob", 20, 100 }, 0, 0, 2, false },
	{ 8, "equal: lower modifier", RAISE, 0, { 2, 0, "alice", 30, 100 }, 0, STALE, 2, false },
	{ 9, "newer, expiry shrank", RAISE, 0, { 3, 0, "bob", 30, 50 }, 0, SHRANK, 2, false },
	{ 10, "tombstone", TOMB, 0, { 3, DEL, "bob", 30, 100 }, 0, 0, 3, true },
	{ 11, "below tombstone", RAISE, 0, { 2, 0, "zed", 40, 100 }, 0, STALE, 3, true },
	{ 12, "remove replaced body", REMOVE, 0, { 0 }, 7, STALE, 3, true },
	{ 13, "remove held body", REMOVE, 0, { 0 }, 10, 0, 0, false },
	{ 14, "remove again", REMOVE, 0, { 0 }, 10, NOTFOUND, 0, false },
	{ 15, "insert at removed", INSERT, 0, { 3, 0, "bob", 30, 100 }, 0, STALE, 0, false },
	{ 16, "raise below removed", RAISE, 0, { 2, 0, "bob", 30, 100 }, 0, STALE, 0, false },
	{ 17, "insert above removed", INSERT, 0, { 4, 0, "bob", 40, 200 }, 0, 0, 4, false },
	{ 18, "raise absent: inserts", RAISE, 1, { 5, 0, "", 10, 100 }, 0, 0, 5, false },
	{ 19, "tomb without flag", TOMB, 1, { 6, 0, "", 20, 100 }, 0, -EINVAL, 5, false },
	{ 20, "lookup other missing", LOOKUP, 2, { 0 }, 0, NOTFOUND, 0, false },
	{ 21, "newer, other type", RAISE, 1, { 6, 0, "", 20, 100, &type_b }, 0, BADTYPE, 5, false },
	{ 22, "raise the held body", RAISE, 1, { 0 }, 18, STALE, 5, false },
	{ 23, "tombstone, absent key", TOMB, 3, { 2, DEL, "", 10, 100 }, 0, 0, 2, true },
};

Test(rvt, contract_table)
{
	const struct pg_record *body[PG_ARRAY_SIZE(rows) + 1] = { 0 };
	struct rvt *t = table_new(16, 1, 0);
	struct rvt_thread *th;
	struct rvt_stats st;

	cr_assert_eq(rvt_thread_register(t, &th), 0);
	for (size_t i = 0; i < PG_ARRAY_SIZE(rows); i++) {
		const struct row *r = &rows[i];
		struct pg_key k = key_of(r->key);
		struct rvt_view v;
		const struct pg_record *b = NULL;
		int rc = -EINVAL;

		cr_assert_eq(r->no, (int)i + 1, "rows are numbered in order");
		if (r->op == INSERT || r->op == RAISE || r->op == TOMB)
			b = r->ref ? body[r->ref] : body_new(&r->sp, r->key, 0);
		switch (r->op) {
		case LOOKUP:
			rc = rvt_lookup(th, k, &v);
			break;
		case INSERT:
			rc = rvt_insert(th, k, b);
			break;
		case RAISE:
			rc = rvt_raise(th, k, b);
			break;
		case TOMB:
			rc = rvt_tombstone(th, k, b);
			break;
		case REMOVE:
			rc = rvt_remove_expired(th, k, body[r->ref]);
			break;
		}
		cr_expect_eq(rc, r->want, "row %d (%s): got %d (%s), want %d (%s)", r->no, r->what,
			     rc, pg_strerror_name(rc), r->want, pg_strerror_name(r->want));
		if (b && !r->ref) {
			if (rc == 0)
				body[r->no] = b; /* the table owns it now */
			else
				body_drop(b);
		}
		rc = rvt_lookup(th, k, &v);
		if (r->want_version == 0) {
			cr_expect_eq(rc, PG_E_NOT_FOUND, "row %d (%s): key should hold nothing",
				     r->no, r->what);
			continue;
		}
		cr_expect_eq(rc, 0, "row %d (%s): lookup after", r->no, r->what);
		cr_expect_eq(v.version, r->want_version, "row %d (%s): version", r->no, r->what);
		cr_expect_eq(v.deleted, r->want_deleted, "row %d (%s): deleted", r->no, r->what);
		cr_expect_eq(v.body->version, v.version, "row %d: body matches the slot", r->no);
	}
	rvt_stats_read(t, &st);
	cr_expect_eq(st.inserts, 4, "rows 2, 17, 18, 23");
	cr_expect_eq(st.raises, 3, "rows 4, 7, 10");
	cr_expect_eq(st.tombstones, 2, "rows 10, 23");
	cr_expect_eq(st.stale, 5, "rows 5, 8, 11, 15, 16");
	cr_expect_eq(st.dups, 2, "rows 6, 22");
	cr_expect_eq(st.exists, 1, "row 3");
	cr_expect_eq(st.rejected, 2, "rows 9, 21");
	cr_expect_eq(st.removes, 1, "row 13");
	cr_expect_eq(st.remove_stale, 1, "row 12");
	cr_expect_eq(st.full, 0);
	cr_expect_eq(st.retired, 4, "three raises and one removal retire a body");
	cr_expect_eq(st.used, 3, "keys 0, 1, 3");
	rvt_thread_unregister(th);
	table_done(t);
}

/* ---- bounds -------------------------------------------------------------------------- */

static const struct spec v1 = { 1, 0, "", 10, 100 };

Test(rvt, full_table)
{
	struct rvt *t = table_new(4, 1, 0);
	struct rvt_thread *th;
	struct rvt_view v;
	struct rvt_stats st;
	struct pg_record *b;

	cr_assert_eq(rvt_thread_register(t, &th), 0);
	for (uint32_t i = 0; i < 4; i++)
		cr_assert_eq(rvt_insert(th, key_of(i), body_new(&v1, i, 0)), 0, "key %u", i);
	b = body_new(&v1, 4, 0);
	cr_expect_eq(rvt_insert(th, key_of(4), b), PG_E_TABLE_FULL);
	cr_expect_eq(rvt_raise(th, key_of(4), b), PG_E_TABLE_FULL);
	body_drop(b);
	cr_expect_eq(rvt_lookup(th, key_of(5), &v), PG_E_NOT_FOUND,
		     "bounded probe in a full table");
	b = body_new(&(struct spec){ 2, 0, "", 20, 100 }, 0, 0);
	cr_expect_eq(rvt_raise(th, key_of(0), b), 0, "a held key still rises when full");
	rvt_stats_read(t, &st);
	cr_expect_eq(st.full, 2);
	cr_expect_eq(st.used, 4);
	cr_expect_eq(st.inserts, 4);
	for (uint32_t i = 0; i < 4; i++)
		cr_expect_eq(rvt_lookup(th, key_of(i), &v), 0, "key %u survives", i);
	rvt_thread_unregister(th);
	table_done(t);
}

Test(rvt, probe_limit)
{
	struct rvt_config cfg = {
		.capacity = 256, .max_threads = 1, .probe_max = 1, .body_free = body_free_cb
	};
	struct rvt *t;
	struct rvt_thread *th;
	struct rvt_stats st;
	struct rvt_view v;
	unsigned ok = 0;

	cr_assert_eq(rvt_create(&cfg, &t), 0);
	cr_assert_eq(rvt_thread_register(t, &th), 0);
	for (uint32_t i = 0; i < 256; i++) {
		struct pg_record *b = body_new(&v1, i, 0);
		int rc = rvt_insert(th, key_of(i), b);

		cr_assert(rc == 0 || rc == PG_E_TABLE_FULL, "key %u: %d", i, rc);
		if (rc)
			body_drop(b);
		else
			ok++;
		/* every key inserted so far is found; a refused one is not */
		cr_assert_eq(rvt_lookup(th, key_of(i), &v), rc == 0 ? 0 : PG_E_NOT_FOUND);
	}
	rvt_stats_read(t, &st);
	cr_expect_gt(st.probe_limit, 0, "256 keys in 385 slots collide at least once");
	cr_expect_eq(st.full, st.probe_limit);
	cr_expect_eq(st.inserts, ok);
	rvt_thread_unregister(th);
	table_done(t);
}

/* A registered thread that never passes a quiescent state blocks grace periods: the retire
 * list fills, the writer gets -EAGAIN with the table unchanged, and recovers afterwards. */
Test(rvt, retire_bound)
{
	struct rvt *t = table_new(8, 2, 4);
	struct rvt_thread *w, *stuck;
	struct rvt_stats st;
	struct rvt_view v;
	struct pg_record *b;
	uint32_t ver;

	cr_assert_eq(rvt_thread_register(t, &w), 0);
	cr_assert_eq(rvt_thread_register(t, &stuck), 0);
	cr_assert_eq(rvt_insert(w, key_of(0), body_new(&v1, 0, 0)), 0);
	for (ver = 2; ver <= 5; ver++) {
		b = body_new(&(struct spec){ ver, 0, "", 10 + ver, 100 }, 0, 0);
		cr_assert_eq(rvt_raise(w, key_of(0), b), 0, "version %u", ver);
		rvt_quiescent(w);
	}
	b = body_new(&(struct spec){ 6, 0, "", 16, 100 }, 0, 0);
	cr_expect_eq(rvt_raise(w, key_of(0), b), -EAGAIN, "retire list at its bound");
	cr_expect_eq(rvt_lookup(w, key_of(0), &v), 0);
	cr_expect_eq(v.version, 5, "the table did not change");
	rvt_stats_read(t, &st);
	cr_expect_eq(st.again, 1);
	cr_expect_eq(st.freed, 0, "nothing freed while a thread is stuck");
	/* two grace periods: the four bodies were retired under two different epochs */
	for (int round = 0; round < 2; round++) {
		rvt_quiescent(stuck);
		rvt_quiescent(w);
	}
	rvt_stats_read(t, &st);
	cr_expect_eq(st.freed, 4);
	cr_expect_eq(rvt_raise(w, key_of(0), b), 0, "room again after the grace period");
	rvt_thread_unregister(stuck);
	rvt_thread_unregister(w);
	table_done(t);
}

Test(rvt, lookup_burst)
{
	struct rvt *t = table_new(256, 1, 0);
	struct rvt_thread *th;
	struct pg_key keys[150];
	struct rvt_view out[150], one;

	cr_assert_eq(rvt_thread_register(t, &th), 0);
	for (uint32_t i = 0; i < 150; i++) {
		keys[i] = key_of(i);
		if (i % 3 != 2)
			cr_assert_eq(
			    rvt_insert(th, keys[i],
				       body_new(&(struct spec){ 1 + i, 0, "", 10, 100 }, i, 0)),
			    0);
	}
	cr_expect_eq(rvt_lookup_burst(th, keys, 150, out), 100);
	for (uint32_t i = 0; i < 150; i++) {
		int rc = rvt_lookup(th, keys[i], &one);

		cr_expect_eq(rc, i % 3 != 2 ? 0 : PG_E_NOT_FOUND, "key %u", i);
		cr_expect_eq(out[i].body, rc == 0 ? one.body : NULL, "key %u", i);
		cr_expect_eq(out[i].version, rc == 0 ? 1 + i : 0, "key %u", i);
	}
	rvt_thread_unregister(th);
	table_done(t);
}

Test(rvt, compact)
{
	struct rvt *t = table_new(64, 1, 0);
	const struct pg_record *held[64];
	struct rvt_thread *th;
	struct rvt_stats st;
	struct rvt_view v;
	struct pg_record *b;

	cr_assert_eq(rvt_thread_register(t, &th), 0);
	for (uint32_t i = 0; i < 64; i++) {
		held[i] = body_new(&v1, i, 0);
		cr_assert_eq(rvt_insert(th, key_of(i), held[i]), 0);
	}
	for (uint32_t i = 0; i < 64; i += 2)
		cr_assert_eq(rvt_remove_expired(th, key_of(i), held[i]), 0);
	/* a removed key is not found, but its view says which version it dropped (issue 12) */
	cr_expect_eq(rvt_lookup(th, key_of(0), &v), PG_E_NOT_FOUND);
	cr_expect_eq(v.version, v1.version, "a removed key's view remembers its version");
	cr_expect(v.body == NULL, "a removed key holds no body");
	cr_expect_eq(rvt_lookup(th, key_of(1000), &v), PG_E_NOT_FOUND);
	cr_expect_eq(v.version, 0, "a key never seen has no version");
	b = body_new(&v1, 64, 0);
	cr_expect_eq(rvt_insert(th, key_of(64), b), PG_E_TABLE_FULL, "removed keys still count");
	cr_expect_eq(rvt_compact(t), -EBUSY, "compaction is exclusive");
	rvt_thread_unregister(th);
	cr_expect_eq(rvt_compact(t), 32);
	cr_expect_eq(rvt_compact(t), 0, "nothing left to drop");
	cr_assert_eq(rvt_thread_register(t, &th), 0);
	for (uint32_t i = 0; i < 64; i++)
		cr_expect_eq(rvt_lookup(th, key_of(i), &v), i % 2 ? 0 : PG_E_NOT_FOUND, "key %u",
			     i);
	cr_expect_eq(rvt_insert(th, key_of(64), b), 0, "capacity came back");
	for (uint32_t i = 0; i < 64; i += 2) {
		int rc = rvt_insert(th, key_of(i), b = body_new(&v1, i, 0));

		if (i < 62)
			cr_expect_eq(rc, 0, "a compacted key starts over, key %u", i);
		else
			cr_expect_eq(rc, PG_E_TABLE_FULL, "64 keys again");
		if (rc)
			body_drop(b);
	}
	rvt_stats_read(t, &st);
	cr_expect_eq(st.used, 64);
	rvt_thread_unregister(th);
	table_done(t);
}

Test(rvt, invalid)
{
	struct rvt_config bad = { .capacity = 0, .max_threads = 1, .body_free = body_free_cb };
	struct pg_key zero_half = { .lo = 7, .hi = 0 };
	struct pg_record r0 = { .version = 0 };
	struct rvt *t;
	struct rvt_thread *th, *extra;
	struct rvt_view v;

	cr_expect_eq(rvt_create(&bad, &t), -EINVAL, "capacity 0");
	bad.capacity = 8;
	bad.max_threads = 0;
	cr_expect_eq(rvt_create(&bad, &t), -EINVAL, "no threads");
	bad.max_threads = 1;
	bad.body_free = NULL;
	cr_expect_eq(rvt_create(&bad, &t), -EINVAL, "no free callback");
	t = table_new(8, 1, 0);
	cr_assert_eq(rvt_thread_register(t, &th), 0);
	cr_expect_eq(rvt_thread_register(t, &extra), -EBUSY, "max_threads bound");
	cr_expect_eq(rvt_lookup(th, zero_half, &v), -EINVAL);
	cr_expect_eq(rvt_insert(th, zero_half, &r0), -EINVAL);
	cr_expect_eq(rvt_raise(th, key_of(0), &r0), -EINVAL, "version 0");
	cr_expect_eq(rvt_remove_expired(th, key_of(0), NULL), -EINVAL);
	rvt_thread_unregister(th);
	table_done(t);
}

/* ---- multi-threaded stress against a naive model ------------------------------------ */

/*
 * 4 threads on 128 keys, millions of mixed operations. Keys 0..95 ("N keys") only ever rise:
 * a thread offers its own copy (modifier "t<thread>", so copies of one version differ and the
 * tie-break decides) of a version just above what it last saw, now and then an older one;
 * some versions are tombstones. Keys 96..127 ("E keys") rise the same way, end in one
 * tombstone at V_FINAL offered by every thread, and a thread that sees that tombstone removes
 * it as expired, concurrently with everybody else's raises.
 *
 * The end state is independent of the interleaving: an N key holds the largest, by
 * pg_record_order, of the copies that were offered to rvt_raise (with a definite answer) or
 * stored by rvt_insert -- per thread that is its highest such version, so the model keeps one
 * number per thread and key; an E key holds nothing and rejects every version up to V_FINAL.
 * Along the way each thread checks what it observes: the version in the slot equals the
 * body's (no torn pair), the body is alive and belongs to the key, and per key the copies it
 * sees never go backwards in the conflict order (an E key may vanish, and then stays gone).
 */

enum {
	NKEYS = 128,
	E_FIRST = 96,
	NTHREADS = 4,
	V_FINAL = 1u << 30, /* above any version the random walk reaches */
};

static const char *const mods[NTHREADS] = { "t0", "t1", "t2", "t3" };

struct stress {
	pthread_t tid;
	uint32_t id;
	struct rvt *t;
	struct rvt_thread *th;
	uint64_t ops, ops_target, deadline_ns;
	uint64_t rng;
	uint32_t maxv[NKEYS]; /* our highest copy with a definite answer, or stored */
	struct pg_record last[NKEYS];
	bool seen[NKEYS], gone[NKEYS];
	uint64_t stored, removed, again, stale_removes;
	uint64_t violations;
	char first[256];
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t rnd(struct stress *s)
{
	/* xorshift64* */
	s->rng ^= s->rng >> 12;
	s->rng ^= s->rng << 25;
	s->rng ^= s->rng >> 27;
	return s->rng * 0x2545f4914f6cdd1dull;
}

static struct spec copy_spec(uint32_t author, uint32_t k, uint32_t v)
{
	struct spec sp = {
		.version = v,
		.modifier = mods[author],
		.modified_us = 1000 + v,
		.expires_us = 1000000 + (uint64_t)v, /* grows with the version, equal within one */
	};

	if (v == V_FINAL)
		sp.modifier = ""; /* every thread's final E copy is the same copy */
	if (v == V_FINAL || (k * 7 + v) % 5 == 0)
		sp.flags = PG_RECORD_DELETED;
	return sp;
}

static struct pg_key keys_tab[NKEYS];

#define violation(s, ...)                                                                          \
	do {                                                                                       \
		if ((s)->violations++ == 0)                                                        \
			snprintf((s)->first, sizeof((s)->first), __VA_ARGS__);                     \
	} while (0)

/* Looks k up and checks the observation against the rules above. */
static int observe(struct stress *s, uint32_t k, struct rvt_view *v)
{
	const struct tbody *tb;
	int rc = rvt_lookup(s->th, keys_tab[k], v);

	if (rc == PG_E_NOT_FOUND) {
		if (s->seen[k] && k < E_FIRST)
			violation(s, "t%u key %u: held v%u, then nothing", s->id, k,
				  s->last[k].version);
		if (s->seen[k])
			s->gone[k] = true;
		return rc;
	}
	if (rc != 0) {
		violation(s, "t%u key %u: lookup %d", s->id, k, rc);
		return rc;
	}
	tb = tb_of(v->body);
	if (tb->magic != MAGIC_LIVE || tb->key_idx != k) {
		violation(s, "t%u key %u: body freed or of key %u", s->id, k, tb->key_idx);
		return -EIO;
	}
	if (v->version != v->body->version ||
	    v->deleted != ((v->body->flags & PG_RECORD_DELETED) != 0))
		violation(s, "t%u key %u: torn pair, slot v%u/%d, body v%u", s->id, k, v->version,
			  v->deleted, v->body->version);
	if (s->gone[k])
		violation(s, "t%u key %u: came back at v%u after removal", s->id, k, v->version);
	if (s->seen[k] && pg_record_order(v->body, &s->last[k]) < 0)
		violation(s, "t%u key %u: went back from v%u/%.*s to v%u/%.*s", s->id, k,
			  s->last[k].version, s->last[k].modifier_len, s->last[k].modifier,
			  v->body->version, v->body->modifier_len, v->body->modifier);
	s->last[k] = *v->body; /* shallow: modifier points to a static string */
	s->last[k].secdata = NULL;
	s->seen[k] = true;
	return 0;
}

static void offered(struct stress *s, uint32_t k, uint32_t v)
{
	if (v > s->maxv[k])
		s->maxv[k] = v;
}

/* Offers our copy (k, v) with rvt_raise / rvt_tombstone / rvt_insert. */
static int offer(struct stress *s, uint32_t k, uint32_t v, bool insert)
{
	struct spec sp = copy_spec(s->id, k, v);
	struct pg_record *b = body_new(&sp, k, s->id);
	int rc;

	if (insert)
		rc = rvt_insert(s->th, keys_tab[k], b);
	else if (sp.flags & PG_RECORD_DELETED)
		rc = rvt_tombstone(s->th, keys_tab[k], b);
	else
		rc = rvt_raise(s->th, keys_tab[k], b);
	if (rc == 0) {
		s->stored++;
		offered(s, k, v);
		return 0;
	}
	body_drop(b);
	if (rc == -EAGAIN) {
		/* a grace period waits on a thread that is not running (4 threads, 2 cores): let
		 * it run, as a worker would report and move on */
		s->again++;
		sched_yield();
	} else if (rc == PG_E_STALE && !insert)
		offered(s, k, v);
	else if (!(insert && (rc == -EEXIST || rc == PG_E_STALE)))
		violation(s, "t%u key %u v%u: %s %d (%s)", s->id, k, v, insert ? "insert" : "raise",
			  rc, pg_strerror_name(rc));
	return rc;
}

/* E key: remove the final tombstone as expired, if that is what is held. */
static void expire(struct stress *s, uint32_t k)
{
	struct rvt_view v;
	int rc;

	if (observe(s, k, &v) != 0 || v.version != V_FINAL)
		return;
	rc = rvt_remove_expired(s->th, keys_tab[k], v.body);
	if (rc == 0)
		s->removed++;
	else if (rc == -EAGAIN)
		s->again++;
	else if (rc != PG_E_NOT_FOUND)
		violation(s, "t%u key %u: remove of the final tombstone: %d", s->id, k, rc);
}

/* N key: replace what we see, then removing the copy we saw must be refused. */
static void stale_remove(struct stress *s, uint32_t k)
{
	struct rvt_view v;
	int rc;

	if (observe(s, k, &v) != 0)
		return;
	if (offer(s, k, v.version + 1, false) != 0)
		return;
	rc = rvt_remove_expired(s->th, keys_tab[k], v.body); /* v.body is retired, not freed */
	if (rc != PG_E_STALE)
		violation(s, "t%u key %u: removing a replaced body gave %d", s->id, k, rc);
	s->stale_removes++;
}

/* The next version to offer for k: just above what we last saw, sometimes below. */
static uint32_t next_version(struct stress *s, uint32_t k, uint64_t r)
{
	uint32_t base = s->seen[k] && !s->gone[k] ? s->last[k].version : 0;

	if (base >= V_FINAL)
		return V_FINAL;
	if ((r & 7) == 0 && base > 4)
		return base - (uint32_t)((r >> 3) & 3); /* older or equal: stale, dup or tie */
	return base + 1 + (uint32_t)((r >> 3) & 1);
}

static void *stress_main(void *arg)
{
	struct stress *s = arg;
	struct rvt_view v;

	if (rvt_thread_register(s->t, &s->th) != 0) {
		violation(s, "t%u: register failed", s->id);
		return NULL;
	}
	for (s->ops = 0; s->ops < s->ops_target; s->ops++) {
		uint64_t r = rnd(s);
		uint32_t k = (uint32_t)(r % NKEYS);
		uint32_t choice = (uint32_t)((r >> 8) % 100);

		if (choice < 40)
			offer(s, k, next_version(s, k, r >> 16), false);
		else if (choice < 48)
			offer(s, k, next_version(s, k, r >> 16), true);
		else if (choice < 94)
			observe(s, k, &v);
		else if (k >= E_FIRST)
			expire(s, k);
		else
			stale_remove(s, k);
		rvt_quiescent(s->th);
		if (s->ops % 4096 == 0 && now_ns() > s->deadline_ns)
			break;
	}
	/* sweep: every E key gets the final tombstone offered, then removed if still held */
	for (uint32_t k = E_FIRST; k < NKEYS; k++) {
		for (int tries = 0; tries < 100000; tries++) {
			int rc = offer(s, k, V_FINAL, false);

			rvt_quiescent(s->th);
			if (rc != -EAGAIN)
				break;
		}
		for (int tries = 0; tries < 100000; tries++) {
			uint64_t again = s->again;

			expire(s, k);
			rvt_quiescent(s->th);
			if (s->again == again)
				break;
		}
	}
	rvt_thread_unregister(s->th);
	return NULL;
}

/* Checks one N key against the model: the best of every thread's highest offered copy. */
static void check_model(struct rvt_thread *th, const struct stress *st, uint32_t k)
{
	struct pg_record best = { 0 }, c;
	struct spec best_sp = { 0 }, sp;
	struct rvt_view v;
	int rc = rvt_lookup(th, keys_tab[k], &v);

	for (uint32_t a = 0; a < NTHREADS; a++) {
		if (st[a].maxv[k] == 0)
			continue;
		sp = copy_spec(a, k, st[a].maxv[k]);
		memset(&c, 0, sizeof(c));
		c.version = sp.version;
		c.modifier = sp.modifier;
		c.modifier_len = (uint16_t)strlen(sp.modifier);
		c.modified_us = sp.modified_us;
		if (best.version == 0 || pg_record_order(&c, &best) > 0) {
			best = c;
			best_sp = sp;
		}
	}
	if (best.version == 0) {
		cr_expect_eq(rc, PG_E_NOT_FOUND, "key %u: nothing was offered", k);
		return;
	}
	cr_expect_eq(rc, 0, "key %u: the model holds v%u", k, best.version);
	if (rc != 0)
		return;
	cr_expect_eq(pg_record_order(v.body, &best), 0,
		     "key %u: table holds v%u/%.*s, model v%u/%s", k, v.version,
		     v.body->modifier_len, v.body->modifier, best.version, best.modifier);
	cr_expect_eq(v.deleted, (best_sp.flags & PG_RECORD_DELETED) != 0, "key %u", k);
}

Test(rvt, stress_vs_model, .timeout = 280)
{
	static struct stress st[NTHREADS];
	const uint64_t per_thread = RUNNING_ON_SANITIZER ? 400000 : 1500000;
	const uint64_t budget_ns = (RUNNING_ON_SANITIZER ? 150 : 45) * 1000000000ull;
	/* capacity 2x the keys: a thread may hold a batch of claims it does not use */
	struct rvt *t = table_new(2 * NKEYS, NTHREADS + 1, 256);
	struct rvt_thread *th;
	struct rvt_stats stats;
	uint64_t total = 0, stored = 0, removed = 0, again = 0, stale_removes = 0;
	uint64_t start = now_ns();

	for (uint32_t k = 0; k < NKEYS; k++)
		keys_tab[k] = key_of(k);
	memset(st, 0, sizeof(st));
	for (uint32_t i = 0; i < NTHREADS; i++) {
		st[i].id = i;
		st[i].t = t;
		st[i].ops_target = per_thread;
		st[i].deadline_ns = start + budget_ns;
		st[i].rng = 0x9e3779b97f4a7c15ull * (i + 1);
		cr_assert_eq(pthread_create(&st[i].tid, NULL, stress_main, &st[i]), 0);
	}
	for (uint32_t i = 0; i < NTHREADS; i++) {
		pthread_join(st[i].tid, NULL);
		cr_expect_eq(st[i].violations, 0, "%llu violations, first: %s",
			     (unsigned long long)st[i].violations, st[i].first);
		total += st[i].ops;
		stored += st[i].stored;
		removed += st[i].removed;
		again += st[i].again;
		stale_removes += st[i].stale_removes;
	}
	if (!RUNNING_ON_SANITIZER)
		cr_expect_geq(total, 1000000, "only %llu ops before the deadline",
			      (unsigned long long)total);

	cr_assert_eq(rvt_thread_register(t, &th), 0);
	for (uint32_t k = 0; k < E_FIRST; k++)
		check_model(th, st, k);
	for (uint32_t k = E_FIRST; k < NKEYS; k++) {
		struct rvt_view v;
		struct spec sp = copy_spec(0, k, V_FINAL);
		struct pg_record *b = body_new(&sp, k, 0);

		cr_expect_eq(rvt_lookup(th, keys_tab[k], &v), PG_E_NOT_FOUND, "E key %u held", k);
		cr_expect_eq(rvt_raise(th, keys_tab[k], b), PG_E_STALE, "E key %u came back", k);
		body_drop(b);
	}
	rvt_thread_unregister(th);
	rvt_stats_read(t, &stats);
	cr_expect_eq(stats.inserts + stats.raises, stored, "every store counted once");
	cr_expect_eq(stats.removes, removed);
	cr_expect_eq(stats.rejected, 0);
	cr_expect_eq(stats.full, 0);
	cr_expect_eq(stats.used, NKEYS);
	cr_log_info("stress: %llu ops in %.2f s, %llu stored, %llu removed, %llu stale removes "
		    "refused, %llu -EAGAIN, retired %llu, freed %llu",
		    (unsigned long long)total, (double)(now_ns() - start) / 1e9,
		    (unsigned long long)stored, (unsigned long long)removed,
		    (unsigned long long)stale_removes, (unsigned long long)again,
		    (unsigned long long)stats.retired, (unsigned long long)stats.freed);
	table_done(t);
}
