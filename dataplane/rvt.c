/*
 * rvt.c - the record-version table: a lock-free, multi-writer, open-addressing hash table
 * from 128-bit record keys to the body of the copy this node holds.
 *
 * HOW IT WORKS
 *
 * Slots. The table is one array of 32-byte slots, two per cache line, about capacity * 3 / 2
 * of them (load factor at most 2/3 when full):
 *
 *     offset 0   key.lo, key.hi      claimed once by a 16-byte compare-and-swap from (0, 0)
 *     offset 16  body                } one 16-byte unit, changed only by a 16-byte
 *     offset 24  word                } compare-and-swap (cmpxchg16b, inlined with -mcx16)
 *
 *     word = seq:31 (bits 33..63) | held:1 (bit 32) | deleted:1 (bit 31) | version:31
 *
 * The word caches what a reader needs to classify an incoming (key, version) -- the version
 * held, whether it is a tombstone, whether anything is held at all -- next to the key, so a
 * copy we already hold (or an older one) costs one hash and one cache line, and the body is
 * touched only on an equal-version tie (pg_record_order decides) or an actual replacement
 * (pg_record_check_update needs the held expiry). The version is the first step of
 * pg_record_order, so "held version > incoming version" is decided from the word alone; every
 * other comparison calls pg_record_order / pg_record_check_update on the bodies. An exact
 * duplicate (same version, same copy) is the common tie: it is answered read-only (no CAS, no
 * write to the slot's line), at once when it is the very body held, otherwise after one
 * pg_record_order on the body's first lines.
 *
 * Atomicity. (body, word) change together, by one 16-byte CAS whose expected value is the
 * whole pair, so the version in the word is always the version of the body next to it, and a
 * writer's decision (made on that body) is applied only if nothing changed meanwhile. A
 * replacement happens only when pg_record_order says the new copy wins, so the held copy --
 * and the cached version -- never moves backwards. Removal on expiry stores (NULL, version
 * | !held): the slot remembers the version it dropped, so a late older copy stays stale and
 * no observer ever sees the version go back. `seq` changes on every CAS.
 *
 * Readers never write: they load the word, the body (seq_cst, a plain load on x86: it pairs
 * with the writer's CAS, a full barrier, so the body's fields are visible) and the word again; two
 * equal words (same seq) mean the body belongs to that word (a seqlock-style validation of a
 * 16-byte unit that x86 cannot load atomically without a write). After a few failed tries
 * (a slot under a storm of writes) a reader falls back to a CAS that rewrites the same value,
 * so it still finishes in bounded steps. The body sits at the lower address of the unit on
 * purpose: ThreadSanitizer models a 16-byte atomic as an 8-byte access at its address, so
 * the load of `body` is what it sees synchronising with the writer.
 *
 * Probing. Keys are uniform hashes, so the home slot is key.lo scaled to the slot count
 * (multiply-shift, no modulo); probing is linear and bounded by probe_max. A key's slot is
 * claimed at the first empty slot of its probe sequence; slots never become empty again
 * while threads run, so a probe stops at the first empty slot and a key occupies exactly one
 * slot. A claim in flight (one half of the key already visible) is settled by a 16-byte CAS
 * that doubles as an atomic read; readers simply treat it as another key's slot.
 *
 * Capacity. Each claim spends one credit of `capacity`. Threads take credits from a shared
 * pool in batches (no shared write per insert) and give back the rest when they unregister.
 * With no credit left, or a probe at its bound, the table returns PG_E_TABLE_FULL and counts
 * it; nothing is overwritten or dropped. A table of 2 MiB or more asks for transparent huge
 * pages: probes are random accesses, and a TLB miss each would double their cost.
 *
 * Reclamation. A replaced or removed body is retired to the calling thread's QSBR list
 * (qsbr.c) and handed to the caller's free callback after a grace period. The retire slot is
 * reserved before the CAS, so a full list (a thread stuck outside quiescent states) makes
 * the operation return -EAGAIN, counted, with the table unchanged.
 *
 * LIMITATIONS
 *
 * - Removed keys keep their slot (and their last version) until rvt_compact(), which needs
 *   every thread unregistered (it deletes with Knuth's Algorithm R, TAOCP 6.4). Until then
 *   they count against capacity (stats.used); a node must compact before expired keys fill it.
 * - Credits are handed out CREDIT_BATCH (32) at a time, so PG_E_TABLE_FULL can come up to
 *   31 claims per other registered thread before `capacity` keys are held. Size capacity with
 *   that slack; the slot array has 50 % headroom beyond capacity either way.
 * - Keys with a zero 64-bit half are refused (-EINVAL): (0, 0) marks an empty slot and a
 *   zero half marks a claim in flight. For xxHash3-128 keys that is 2^-63 per record.
 * - The 31-bit seq wraps: a reader descheduled between two loads of one slot while 2^31
 *   writes hit that slot could accept a mismatched pair. Not reachable in practice.
 * - Mixed 8/16-byte atomics on one object are outside ISO C11; they are sound on x86-64
 *   (cmpxchg16b is atomic; aligned 8-byte loads are atomic) and TSan-clean as laid out here.
 *   Other architectures need a 16-byte CAS (e.g. arm64 LSE casp) and a port of this file.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "pg_assert.h"
#include "pg_atomic.h"
#include "pg_error.h"
#include "qsbr.h"
#include "rvt.h"

typedef unsigned __int128 u128;

struct slot {
	_Atomic uint64_t key_lo;
	_Atomic uint64_t key_hi;
	_Atomic(const struct pg_record *) body;
	_Atomic uint64_t word;
} __attribute__((aligned(RVT_SLOT_BYTES)));

_Static_assert(sizeof(struct slot) == RVT_SLOT_BYTES, "two slots per cache line");
_Static_assert(offsetof(struct slot, body) == 16, "(body, word) is one aligned 16-byte unit");
_Static_assert(offsetof(struct slot, word) == 24, "body at the low half (see TSan note)");
_Static_assert(sizeof(void *) == 8, "the 16-byte unit packs a 64-bit pointer");

#define W_VERSION 0x7fffffffull
#define W_DELETED (1ull << 31)
#define W_HELD	  (1ull << 32)
#define W_SEQ_ONE (1ull << 33)
#define W_SEQ	  (~(W_SEQ_ONE - 1))

_Static_assert(PG_RECORD_VERSION_MAX == W_VERSION, "the word keeps 31 version bits");

enum counter {
	C_INSERT,
	C_RAISE,
	C_TOMBSTONE,
	C_STALE,
	C_DUP,
	C_EXISTS,
	C_REJECTED,
	C_FULL,
	C_PROBE_LIMIT,
	C_REMOVE,
	C_REMOVE_STALE,
	C_AGAIN,
	C_CLAIM,
	C_COUNT,
};

struct rvt_thread {
	_Atomic uint32_t in_use;
	struct rvt *t;
	struct qsbr_thread *q;
	uint32_t credits;	     /* capacity this thread may still claim without the pool */
	_Atomic uint64_t c[C_COUNT]; /* owner writes, rvt_stats_read() sums */
} pg_cache_aligned;

#define REG_COMPACTING (1u << 31)

struct rvt {
	struct slot *slots;
	uint64_t nslots;
	uint64_t slot_bytes; /* allocated: rounded up to the page size asked for */
	uint32_t probe_max;
	struct rvt_config cfg;
	struct qsbr *qsbr;
	struct rvt_thread *threads;
	_Atomic uint64_t pool pg_cache_aligned; /* capacity no thread has taken yet */
	_Atomic uint64_t dropped;		/* slots returned by rvt_compact() */
	_Atomic uint32_t nregistered;		/* | REG_COMPACTING while compacting */
};

enum {
	CREDIT_BATCH = 32,    /* claims a thread takes from the pool at once */
	PAIR_READ_TRIES = 8,  /* validated reads before the CAS fallback */
	CAS_TRIES_MAX = 4096, /* lost compare-and-swaps before -EAGAIN */
};

#define HUGE_PAGE ((size_t)2 << 20)

static void count(struct rvt_thread *th, enum counter c)
{
	/* one writer per counter: relaxed load + store, no locked instruction */
	pg_store_relaxed(&th->c[c], pg_load_relaxed(&th->c[c]) + 1);
}

/* ---- the 16-byte units ------------------------------------------------------------- */

static inline u128 pair_make(const struct pg_record *body, uint64_t word)
{
	return (u128)word << 64 | (uintptr_t)body;
}

static inline const struct pg_record *pair_body(u128 p)
{
	return (const struct pg_record *)(uintptr_t)(uint64_t)p;
}

static inline uint64_t pair_word(u128 p)
{
	return (uint64_t)(p >> 64);
}

/* 16-byte CAS; returns the value found (== expected on success). Full barrier. */
static inline u128 cas16(void *p, u128 expected, u128 desired)
{
	return __sync_val_compare_and_swap((u128 *)p, expected, desired);
}

static inline uint64_t word_next(uint64_t prev, uint32_t version, bool deleted, bool held)
{
	return ((prev & W_SEQ) + W_SEQ_ONE) | version | (deleted ? W_DELETED : 0) |
	       (held ? W_HELD : 0);
}

/* A consistent (body, word) of s without writing to it in the common case. */
static u128 pair_read(struct slot *s)
{
	for (unsigned i = 0; i < PAIR_READ_TRIES; i++) {
		/* acquire: the body load below is not hoisted above this first word load */
		uint64_t w1 = pg_load_acquire(&s->word);
		/* seq_cst (a plain load on x86-64), so at least acquire: pairs with the writer's
		 * CAS, the body's fields are visible; and seq_cst for the QSBR contract (qsbr.h) */
		const struct pg_record *b = atomic_load(&s->body);
		/* ordered after the body load by that acquire */
		uint64_t w2 = pg_load_relaxed(&s->word);

		if (w1 == w2)
			return pair_make(b, w1);
		pg_cpu_relax();
	}
	/* a CAS that stores what it finds: an atomic 16-byte read, bounded */
	return cas16(&s->body, 0, 0);
}

/* ---- probing ----------------------------------------------------------------------- */

static inline bool key_ok(struct pg_key k)
{
	return k.lo != 0 && k.hi != 0;
}

static inline uint64_t home_of(const struct rvt *t, struct pg_key k)
{
	return (uint64_t)(((u128)k.lo * t->nslots) >> 64);
}

/* The slot holding key k, or NULL. Reads only. */
static struct slot *find(const struct rvt *t, struct pg_key k)
{
	uint64_t i = home_of(t, k);

	for (uint32_t n = 0; n < t->probe_max; n++) {
		struct slot *s = &t->slots[i];
		uint64_t lo = pg_load_relaxed(&s->key_lo);
		uint64_t hi = pg_load_relaxed(&s->key_hi);

		if (lo == k.lo && hi == k.hi)
			return s;
		if ((lo | hi) == 0)
			return NULL; /* an empty slot ends every probe sequence through it */
		if (++i == t->nslots)
			i = 0;
	}
	return NULL;
}

/* Makes sure this thread may claim one slot; false when the capacity is spent. */
static bool credit_take(struct rvt_thread *th)
{
	struct rvt *t = th->t;
	uint64_t avail;

	if (th->credits)
		return true;
	avail = pg_load_relaxed(&t->pool);
	/* lock-free: every failed CAS means another thread took or returned credits */
	for (unsigned tries = 0; avail && tries < CAS_TRIES_MAX; tries++) {
		uint64_t take = avail < CREDIT_BATCH ? avail : CREDIT_BATCH;

		if (pg_cas(&t->pool, &avail, avail - take)) {
			th->credits = (uint32_t)take;
			return true;
		}
	}
	return false;
}

/* Finds key k's slot, claiming the first empty one of its probe sequence if k has none. */
static int find_or_claim(struct rvt_thread *th, struct pg_key k, struct slot **out)
{
	struct rvt *t = th->t;
	u128 want = (u128)k.hi << 64 | k.lo;
	uint64_t i = home_of(t, k);

	for (uint32_t n = 0; n < t->probe_max; n++) {
		struct slot *s = &t->slots[i];
		uint64_t lo = pg_load_relaxed(&s->key_lo);
		uint64_t hi = pg_load_relaxed(&s->key_hi);

		if (lo == k.lo && hi == k.hi) {
			*out = s;
			return 0;
		}
		if (lo == 0 || hi == 0) {
			/* empty, or a claim in flight: one 16-byte CAS claims it, or reads it
			 * atomically (storing back the (0, 0) it may find) when we cannot claim */
			bool claim = (lo | hi) == 0 && credit_take(th);
			u128 found = cas16(&s->key_lo, 0, claim ? want : 0);

			if (claim && found == 0) {
				th->credits--;
				count(th, C_CLAIM);
				*out = s;
				return 0;
			}
			if (found == want) {
				*out = s;
				return 0;
			}
			if (found == 0) {
				count(th, C_FULL); /* k is absent and the capacity is spent */
				return PG_E_TABLE_FULL;
			}
		}
		if (++i == t->nslots)
			i = 0;
	}
	count(th, C_FULL);
	count(th, C_PROBE_LIMIT);
	return PG_E_TABLE_FULL;
}

/* ---- lookups ----------------------------------------------------------------------- */

/* A removed key's view keeps the version it dropped (body NULL): the writers treat copies at
 * or below it as stale, and a reader must be able to say so without a write (verify.c). */
static int view_of(struct slot *s, struct rvt_view *out)
{
	u128 p = pair_read(s);
	uint64_t w = pair_word(p);

	out->version = (uint32_t)(w & W_VERSION);
	if (!(w & W_HELD)) {
		out->body = NULL;
		out->deleted = false;
		return PG_E_NOT_FOUND;
	}
	out->body = pair_body(p);
	out->deleted = (w & W_DELETED) != 0;
	PG_DEBUG_ASSERT(out->body != NULL);
	return 0;
}

int rvt_lookup(struct rvt_thread *th, struct pg_key key, struct rvt_view *out)
{
	struct slot *s;

	memset(out, 0, sizeof(*out));
	if (!key_ok(key))
		return -EINVAL;
	s = find(th->t, key);
	if (!s)
		return PG_E_NOT_FOUND;
	return view_of(s, out);
}

void rvt_prefetch(const struct rvt *t, struct pg_key key)
{
	__builtin_prefetch(&t->slots[home_of(t, key)], 1, 3);
}

unsigned rvt_lookup_burst(struct rvt_thread *th, const struct pg_key *keys, unsigned n,
			  struct rvt_view *out)
{
	const struct rvt *t = th->t;
	unsigned found = 0;

	for (unsigned base = 0; base < n; base += RVT_BURST_MAX) {
		unsigned m = n - base < RVT_BURST_MAX ? n - base : RVT_BURST_MAX;

		/* issue every home slot's miss before waiting on the first one */
		for (unsigned i = 0; i < m; i++)
			__builtin_prefetch(&t->slots[home_of(t, keys[base + i])], 0, 3);
		for (unsigned i = 0; i < m; i++) {
			struct rvt_view *v = &out[base + i];

			found += rvt_lookup(th, keys[base + i], v) == 0;
		}
	}
	return found;
}

/* ---- writers ----------------------------------------------------------------------- */

enum mode {
	MODE_INSERT, /* only if nothing is held */
	MODE_RAISE,  /* if nothing is held or rec wins the conflict order */
};

static bool rec_ok(const struct pg_record *rec)
{
	return rec && rec->version != 0 && rec->version <= PG_RECORD_VERSION_MAX;
}

static uint64_t word_of(uint64_t prev, const struct pg_record *rec)
{
	return word_next(prev, rec->version, (rec->flags & PG_RECORD_DELETED) != 0, true);
}

/* Decides rec against the held body b; 0 when rec should replace it, else the answer. */
static int judge(struct rvt_thread *th, const struct pg_record *b, uint64_t w,
		 const struct pg_record *rec)
{
	int c, err;

	if (b == rec) {
		count(th, C_DUP); /* the very copy we hold */
		return PG_E_STALE;
	}
	if ((w & W_VERSION) > rec->version) {
		count(th, C_STALE); /* step 1 of the order, from the word: the body stays cold */
		return PG_E_STALE;
	}
	c = pg_record_order(rec, b);
	if (c <= 0) {
		count(th, c == 0 ? C_DUP : C_STALE);
		return PG_E_STALE;
	}
	err = pg_record_check_update(b, rec);
	if (err) {
		count(th, C_REJECTED);
		return err;
	}
	return 0;
}

static void count_store(struct rvt_thread *th, const struct pg_record *rec, enum counter c)
{
	count(th, c);
	if (rec->flags & PG_RECORD_DELETED)
		count(th, C_TOMBSTONE);
}

static int apply(struct rvt_thread *th, struct pg_key key, const struct pg_record *rec,
		 enum mode mode)
{
	struct slot *s;
	u128 cur;
	int err;

	if (!key_ok(key) || !rec_ok(rec))
		return -EINVAL;
	err = find_or_claim(th, key, &s);
	if (err)
		return err;
	cur = pair_read(s);
	for (unsigned tries = 0; tries < CAS_TRIES_MAX; tries++) {
		const struct pg_record *b = pair_body(cur);
		uint64_t w = pair_word(cur);
		u128 found;

		if (!(w & W_HELD)) {
			/* nothing held; a removed key remembers the version it dropped */
			if ((w & W_VERSION) >= rec->version) {
				count(th, C_STALE);
				return PG_E_STALE;
			}
			found = cas16(&s->body, cur, pair_make(rec, word_of(w, rec)));
			if (found == cur) {
				count_store(th, rec, C_INSERT);
				return 0;
			}
			cur = found;
			continue;
		}
		if (mode == MODE_INSERT) {
			count(th, C_EXISTS);
			return -EEXIST;
		}
		err = judge(th, b, w, rec);
		if (err)
			return err;
		if (!qsbr_retire_reserve(th->q)) {
			count(th, C_AGAIN);
			return -EAGAIN;
		}
		found = cas16(&s->body, cur, pair_make(rec, word_of(w, rec)));
		if (found == cur) {
			qsbr_retire(th->q, b);
			count_store(th, rec, C_RAISE);
			return 0;
		}
		cur = found;
	}
	count(th, C_AGAIN);
	return -EAGAIN;
}

int rvt_insert(struct rvt_thread *th, struct pg_key key, const struct pg_record *rec)
{
	return apply(th, key, rec, MODE_INSERT);
}

int rvt_raise(struct rvt_thread *th, struct pg_key key, const struct pg_record *rec)
{
	return apply(th, key, rec, MODE_RAISE);
}

int rvt_tombstone(struct rvt_thread *th, struct pg_key key, const struct pg_record *rec)
{
	if (!rec || !(rec->flags & PG_RECORD_DELETED))
		return -EINVAL;
	return apply(th, key, rec, MODE_RAISE);
}

int rvt_remove_expired(struct rvt_thread *th, struct pg_key key, const struct pg_record *body)
{
	struct slot *s;
	u128 cur;

	if (!key_ok(key) || !body)
		return -EINVAL;
	s = find(th->t, key);
	if (!s)
		return PG_E_NOT_FOUND;
	cur = pair_read(s);
	/* bounded: a lost CAS means the body changed, and a body never comes back while we are
	 * online (it cannot be freed and reused before our next quiescent state) */
	for (unsigned tries = 0; tries < 2; tries++) {
		uint64_t w = pair_word(cur);
		u128 found;

		if (!(w & W_HELD))
			return PG_E_NOT_FOUND;
		if (pair_body(cur) != body) {
			count(th, C_REMOVE_STALE);
			return PG_E_STALE;
		}
		if (!qsbr_retire_reserve(th->q)) {
			count(th, C_AGAIN);
			return -EAGAIN;
		}
		found =
		    cas16(&s->body, cur,
			  pair_make(NULL, word_next(w, (uint32_t)(w & W_VERSION), false, false)));
		if (found == cur) {
			qsbr_retire(th->q, body);
			count(th, C_REMOVE);
			return 0;
		}
		cur = found;
	}
	/* unreachable by the argument above: the second pass always returns */
	PG_ASSERT(!"rvt_remove_expired: body came back");
	return -EAGAIN;
}

/* ---- threads ----------------------------------------------------------------------- */

int rvt_thread_register(struct rvt *t, struct rvt_thread **out)
{
	uint32_t n = pg_load_relaxed(&t->nregistered);

	/* acq_rel: orders us after a finished rvt_compact() and before the next one */
	do {
		if (n & REG_COMPACTING)
			return -EBUSY;
	} while (!pg_cas(&t->nregistered, &n, n + 1));

	for (uint32_t i = 0; i < t->cfg.max_threads; i++) {
		struct rvt_thread *th = &t->threads[i];
		uint32_t expect = 0;

		if (!pg_cas(&th->in_use, &expect, 1))
			continue;
		if (qsbr_thread_register(t->qsbr, &th->q) != 0) {
			pg_store_release(&th->in_use, 0);
			break;
		}
		th->credits = 0;
		*out = th;
		return 0;
	}
	atomic_fetch_sub(&t->nregistered, 1);
	return -EBUSY;
}

void rvt_thread_unregister(struct rvt_thread *th)
{
	struct rvt *t = th->t;

	atomic_fetch_add(&t->pool, th->credits); /* unused capacity goes back */
	th->credits = 0;
	qsbr_thread_unregister(th->q);
	th->q = NULL;
	pg_store_release(&th->in_use, 0);
	atomic_fetch_sub(&t->nregistered, 1);
}

void rvt_quiescent(struct rvt_thread *th)
{
	qsbr_quiescent(th->q);
}

void rvt_thread_offline(struct rvt_thread *th)
{
	qsbr_thread_offline(th->q);
}

void rvt_thread_online(struct rvt_thread *th)
{
	qsbr_thread_online(th->q);
}

/* ---- life cycle -------------------------------------------------------------------- */

static void free_retired(void *ctx, const void *ptr)
{
	struct rvt *t = ctx;

	t->cfg.body_free(t->cfg.body_free_ctx, ptr);
}

int rvt_create(const struct rvt_config *cfg, struct rvt **out)
{
	struct qsbr_config qc = {
		.max_threads = cfg->max_threads,
		.retire_max = cfg->retire_max,
		.free_fn = free_retired,
	};
	struct rvt *t;
	size_t bytes, align;
	int err;

	if (cfg->capacity == 0 || cfg->capacity > RVT_CAPACITY_MAX || !cfg->body_free ||
	    cfg->max_threads == 0 || cfg->max_threads > QSBR_THREADS_MAX)
		return -EINVAL;
	t = aligned_alloc(PG_CACHE_LINE, sizeof(*t));
	if (!t)
		return -ENOMEM;
	memset(t, 0, sizeof(*t));
	t->cfg = *cfg;
	/* load factor <= 2/3 at capacity; +1 keeps an empty slot even for tiny tables */
	t->nslots = (uint64_t)cfg->capacity + cfg->capacity / 2 + 1;
	t->probe_max = cfg->probe_max ? cfg->probe_max : RVT_PROBE_DEFAULT;
	if (t->probe_max > t->nslots)
		t->probe_max = (uint32_t)t->nslots;
	/* a big table sits on 2 MiB pages when the kernel allows (THP in madvise mode): every
	 * probe is a random access, and a TLB miss per probe would cost as much as the probe */
	align = t->nslots * sizeof(struct slot) >= HUGE_PAGE ? HUGE_PAGE : PG_CACHE_LINE;
	bytes = (t->nslots * sizeof(struct slot) + align - 1) & ~(align - 1);
	t->slots = aligned_alloc(align, bytes);
	if (!t->slots) {
		err = -ENOMEM;
		goto err_free_t;
	}
	if (align == HUGE_PAGE)
		madvise(t->slots, bytes, MADV_HUGEPAGE); /* a hint: failure only costs speed */
	memset(t->slots, 0, bytes);
	t->slot_bytes = bytes;
	t->threads = aligned_alloc(PG_CACHE_LINE, sizeof(*t->threads) * cfg->max_threads);
	if (!t->threads) {
		err = -ENOMEM;
		goto err_free_slots;
	}
	memset(t->threads, 0, sizeof(*t->threads) * cfg->max_threads);
	for (uint32_t i = 0; i < cfg->max_threads; i++)
		t->threads[i].t = t;
	qc.free_ctx = t;
	err = qsbr_create(&qc, &t->qsbr);
	if (err)
		goto err_free_threads;
	atomic_init(&t->pool, cfg->capacity);
	*out = t;
	return 0;

err_free_threads:
	free(t->threads);
err_free_slots:
	free(t->slots);
err_free_t:
	free(t);
	return err;
}

void rvt_destroy(struct rvt *t)
{
	if (!t)
		return;
	PG_ASSERT(pg_load_acquire(&t->nregistered) == 0);
	for (uint64_t i = 0; i < t->nslots; i++) {
		const struct pg_record *b = pg_load_relaxed(&t->slots[i].body);

		if (b)
			t->cfg.body_free(t->cfg.body_free_ctx, b);
	}
	qsbr_destroy(t->qsbr);
	free(t->threads);
	free(t->slots);
	free(t);
}

/* ---- compaction (exclusive) ------------------------------------------------------------ */

static bool slot_empty(struct slot *s)
{
	return (pg_load_relaxed(&s->key_lo) | pg_load_relaxed(&s->key_hi)) == 0;
}

static bool slot_dead(struct slot *s)
{
	return !slot_empty(s) && !(pg_load_relaxed(&s->word) & W_HELD);
}

static void slot_copy(struct slot *dst, struct slot *src)
{
	pg_store_relaxed(&dst->key_lo, pg_load_relaxed(&src->key_lo));
	pg_store_relaxed(&dst->key_hi, pg_load_relaxed(&src->key_hi));
	pg_store_relaxed(&dst->body, pg_load_relaxed(&src->body));
	pg_store_relaxed(&dst->word, pg_load_relaxed(&src->word));
}

static void slot_clear(struct slot *s)
{
	pg_store_relaxed(&s->key_lo, 0);
	pg_store_relaxed(&s->key_hi, 0);
	pg_store_relaxed(&s->body, NULL);
	pg_store_relaxed(&s->word, 0);
}

/* Knuth's Algorithm R (TAOCP vol. 3, 6.4): empties slot i and moves later entries of its
 * cluster back so that every entry stays reachable from its home without an empty slot. */
static void slot_delete(struct rvt *t, uint64_t i)
{
	uint64_t j = i;

	for (uint64_t n = 0; n < t->nslots; n++) {
		struct pg_key k;
		uint64_t r;
		bool stays;

		if (++j == t->nslots)
			j = 0;
		if (slot_empty(&t->slots[j]))
			break;
		k.lo = pg_load_relaxed(&t->slots[j].key_lo);
		k.hi = pg_load_relaxed(&t->slots[j].key_hi);
		r = home_of(t, k);
		/* the entry at j stays if its home lies cyclically in (i, j] */
		stays = i <= j ? (i < r && r <= j) : (i < r || r <= j);
		if (stays)
			continue;
		slot_copy(&t->slots[i], &t->slots[j]);
		i = j;
	}
	slot_clear(&t->slots[i]);
}

long rvt_compact(struct rvt *t)
{
	uint32_t idle = 0;
	long dropped = 0;

	/* acq_rel: everything registered threads did happens before we touch the slots */
	if (!pg_cas(&t->nregistered, &idle, REG_COMPACTING))
		return -EBUSY;
	/* a pass can wrap a dead entry into slots it already passed; a second pass takes it */
	for (int pass = 0; pass < 3; pass++) {
		long before = dropped;

		for (uint64_t i = 0; i < t->nslots; i++) {
			/* bounded: each delete empties a slot or moves an entry nearer its home */
			for (uint64_t n = 0; n < t->nslots && slot_dead(&t->slots[i]); n++) {
				slot_delete(t, i);
				dropped++;
			}
		}
		if (dropped == before)
			break;
	}
	atomic_fetch_add(&t->pool, (uint64_t)dropped);
	atomic_fetch_add(&t->dropped, (uint64_t)dropped);
	/* release: threads that register next see the compacted slots */
	pg_store_release(&t->nregistered, 0);
	return dropped;
}

/* ---- statistics -------------------------------------------------------------------- */

void rvt_stats_read(const struct rvt *t, struct rvt_stats *out)
{
	uint64_t c[C_COUNT] = { 0 };
	struct qsbr_stats qs;

	for (uint32_t i = 0; i < t->cfg.max_threads; i++)
		for (int k = 0; k < C_COUNT; k++)
			c[k] += pg_load_relaxed(&t->threads[i].c[k]);
	qsbr_stats_read(t->qsbr, &qs);
	memset(out, 0, sizeof(*out));
	out->inserts = c[C_INSERT];
	out->raises = c[C_RAISE];
	out->tombstones = c[C_TOMBSTONE];
	out->stale = c[C_STALE];
	out->dups = c[C_DUP];
	out->exists = c[C_EXISTS];
	out->rejected = c[C_REJECTED];
	out->full = c[C_FULL];
	out->probe_limit = c[C_PROBE_LIMIT];
	out->removes = c[C_REMOVE];
	out->remove_stale = c[C_REMOVE_STALE];
	out->again = c[C_AGAIN];
	out->retired = qs.retired;
	out->freed = qs.freed;
	out->used = c[C_CLAIM] - pg_load_relaxed(&t->dropped);
	out->capacity = t->cfg.capacity;
	out->slots = t->nslots;
	out->table_bytes = t->slot_bytes;
	out->total_bytes = out->table_bytes + sizeof(*t) +
			   sizeof(*t->threads) * t->cfg.max_threads + qsbr_memory_bytes(t->qsbr);
}
