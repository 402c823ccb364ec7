/*
 * qsbr.c - quiescent-state-based reclamation: epochs, per-thread retire lists, grace periods.
 *
 * HOW IT WORKS
 *
 * One global epoch E (starts at 1) and, per registered thread, the epoch `seen` it read at its
 * last quiescent state (0 = offline). A writer that unlinks an object tags it with the global
 * epoch G it reads *after* the unlink and appends it to its own FIFO retire list. The object
 * may be freed once every online thread has seen >= G + 1:
 *
 *   - somebody moved the epoch from G to G + 1 after the writer read G, so after the unlink;
 *   - a thread announcing seen >= G + 1 read the epoch (seq_cst) after that move, then
 *     stored `seen` (release: its earlier uses of the object are complete). Its later loads
 *     of protected pointers are seq_cst too (qsbr.h), so in the single total order S of
 *     seq_cst operations they follow its epoch load, which follows the move, the writer's
 *     epoch load and the unlink: they observe the unlink and can no longer find the object.
 *     (No fence: on x86-64 a seq_cst load is a plain load, and gcc's TSan has no fences.)
 *   - the reclaimer reads each `seen` with acquire, so those earlier uses happen before the
 *     free.
 *   - a thread coming online (seen 0 -> e) is the one case the argument above misses: the
 *     reclaimer skips offline threads, so the thread's `seen` store must be visible before
 *     its first protected load. That store is seq_cst (an xchg on x86) and the reclaimer's
 *     loads of `seen` are seq_cst: in S either the reclaimer reads e (and keeps everything
 *     retired at >= e), or its load precedes the store, and then the thread's later
 *     protected loads follow the unlink and cannot find the object. A release store alone
 *     lets the protected load pass the store in the store buffer (store-buffering), and
 *     that was a use-after-free.
 *
 * Epochs advance lazily: a thread whose oldest pending object is tagged with the current epoch
 * moves it forward by one compare-and-swap (at most one move per epoch whichever thread wins),
 * so a busy writer does not bounce the global cache line on every retire. Quiescent states
 * cost one load of the epoch; `seen` is written only when the epoch moved. Each thread frees only
 * its own list, so no list is ever shared.
 *
 * LIMITATIONS
 *
 * A registered thread that neither passes quiescent states nor goes offline stops every grace
 * period: retire lists then fill to retire_max and qsbr_retire_reserve() says so (counted);
 * the caller must report the failure, never queue more. Reclaim scans all max_threads
 * records, so keep max_threads near the real worker count. A thread that unregisters leaves
 * its pending objects on its record until the next thread registers there or the domain is
 * destroyed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pg_assert.h"
#include "pg_atomic.h"
#include "qsbr.h"

struct retired {
	const void *ptr;
	uint64_t epoch; /* global epoch read after the unlink */
};

struct qsbr_thread {
	/* shared: written by the owner at quiescent states, read by every reclaimer */
	_Atomic uint64_t seen;
	_Atomic uint32_t in_use;
	/* owner only (and the next owner after a release / acquire hand-over) */
	struct qsbr *q pg_cache_aligned;
	struct retired *ring;
	uint32_t head, count;
	uint32_t turns;
	_Atomic uint64_t retired, freed, full; /* owner writes, anyone reads */
} pg_cache_aligned;

struct qsbr {
	_Atomic uint64_t epoch pg_cache_aligned;
	struct qsbr_config cfg pg_cache_aligned;
	struct qsbr_thread *threads;
	struct retired *rings;
};

/* Reclaim every this many quiescent states while objects are pending (or when half full). */
#define RECLAIM_EVERY 8u

static void count_add(_Atomic uint64_t *c, uint64_t n)
{
	/* one writer per counter: a relaxed load + store is enough and avoids a locked add */
	pg_store_relaxed(c, pg_load_relaxed(c) + n);
}

int qsbr_create(const struct qsbr_config *cfg, struct qsbr **out)
{
	struct qsbr *q;
	uint32_t retire_max = cfg->retire_max ? cfg->retire_max : QSBR_RETIRE_DEFAULT;

	if (cfg->max_threads == 0 || cfg->max_threads > QSBR_THREADS_MAX || !cfg->free_fn ||
	    retire_max < QSBR_RETIRE_MIN || retire_max > QSBR_RETIRE_MAX)
		return -EINVAL;
	q = aligned_alloc(PG_CACHE_LINE, sizeof(*q));
	if (!q)
		return -ENOMEM;
	memset(q, 0, sizeof(*q));
	q->cfg = *cfg;
	q->cfg.retire_max = retire_max;
	q->threads = aligned_alloc(PG_CACHE_LINE, sizeof(*q->threads) * cfg->max_threads);
	if (!q->threads)
		goto err_free_q;
	memset(q->threads, 0, sizeof(*q->threads) * cfg->max_threads);
	q->rings = calloc((size_t)cfg->max_threads * retire_max, sizeof(*q->rings));
	if (!q->rings)
		goto err_free_threads;
	for (uint32_t i = 0; i < cfg->max_threads; i++) {
		q->threads[i].q = q;
		q->threads[i].ring = q->rings + (size_t)i * retire_max;
	}
	atomic_init(&q->epoch, 1);
	*out = q;
	return 0;

err_free_threads:
	free(q->threads);
err_free_q:
	free(q);
	return -ENOMEM;
}

static void free_head(struct qsbr_thread *th)
{
	struct qsbr *q = th->q;

	q->cfg.free_fn(q->cfg.free_ctx, th->ring[th->head].ptr);
	if (++th->head == q->cfg.retire_max)
		th->head = 0;
	th->count--;
}

void qsbr_destroy(struct qsbr *q)
{
	if (!q)
		return;
	for (uint32_t i = 0; i < q->cfg.max_threads; i++) {
		struct qsbr_thread *th = &q->threads[i];

		PG_ASSERT(pg_load_relaxed(&th->in_use) == 0);
		while (th->count) {
			free_head(th);
			count_add(&th->freed, 1);
		}
	}
	free(q->rings);
	free(q->threads);
	free(q);
}

/* Reads the epoch and publishes it as our quiescent state; see HOW IT WORKS for the order. */
static void announce(struct qsbr_thread *th)
{
	uint64_t e = atomic_load(&th->q->epoch); /* seq_cst: ordered after every earlier unlink */

	uint64_t old = pg_load_relaxed(&th->seen);

	if (old == e)
		return; /* nothing new to publish: no reclaimer can gain from a repeated store */
	if (old == 0) {
		/* Coming online: seq_cst (xchg on x86), so the store is visible before our next
		 * protected load. A release store could wait in the store buffer while that load
		 * returns a pointer a reclaimer frees because it still reads us as offline (the
		 * store-buffering pattern; liburcu's rcu_thread_online has smp_mb() for it). */
		atomic_store(&th->seen, e);
		return;
	}
	/* release: our uses of pointers read before this point complete before a reclaimer
	 * that reads `seen` frees them. Moving from one epoch to a later one needs no more: a
	 * reclaimer that still reads the older epoch only frees less. */
	pg_store_release(&th->seen, e);
}

int qsbr_thread_register(struct qsbr *q, struct qsbr_thread **out)
{
	for (uint32_t i = 0; i < q->cfg.max_threads; i++) {
		struct qsbr_thread *th = &q->threads[i];
		uint32_t expect = 0;

		/* acquire on success: the previous owner's retire list is ours to continue */
		if (pg_cas(&th->in_use, &expect, 1)) {
			th->turns = 0;
			announce(th);
			*out = th;
			return 0;
		}
	}
	return -EBUSY;
}

void qsbr_thread_unregister(struct qsbr_thread *th)
{
	qsbr_thread_offline(th);
	qsbr_reclaim(th);
	/* release: the next owner sees our retire list as we left it */
	pg_store_release(&th->in_use, 0);
}

void qsbr_thread_offline(struct qsbr_thread *th)
{
	/* release: our uses of protected pointers complete before a reclaimer sees us offline */
	pg_store_release(&th->seen, 0);
}

void qsbr_thread_online(struct qsbr_thread *th)
{
	announce(th);
}

void qsbr_quiescent(struct qsbr_thread *th)
{
	announce(th);
	if (th->count &&
	    (th->count >= th->q->cfg.retire_max / 2 || ++th->turns % RECLAIM_EVERY == 0))
		qsbr_reclaim(th);
}

/* The smallest epoch any online thread has announced; UINT64_MAX when none is online. */
static uint64_t min_seen(const struct qsbr *q)
{
	uint64_t min = UINT64_MAX;

	for (uint32_t i = 0; i < q->cfg.max_threads; i++) {
		/* seq_cst (a plain load on x86): ordered after our epoch bump in the single total
		 * order, against announce()'s seq_cst store when a thread comes online; it is also
		 * an acquire, pairing with the release in announce() */
		uint64_t s = atomic_load(&q->threads[i].seen);

		if (s != 0 && s < min)
			min = s;
	}
	return min;
}

unsigned qsbr_reclaim(struct qsbr_thread *th)
{
	struct qsbr *q = th->q;
	unsigned freed = 0;
	uint64_t min, oldest;

	if (th->count == 0)
		return 0;
	min = min_seen(q);
	while (th->count && th->ring[th->head].epoch < min) {
		free_head(th);
		freed++;
	}
	if (freed)
		count_add(&th->freed, freed);
	if (th->count) {
		/* start the grace period our oldest object waits for, unless one already began */
		oldest = th->ring[th->head].epoch;
		atomic_compare_exchange_strong(&q->epoch, &oldest, oldest + 1);
	}
	return freed;
}

bool qsbr_retire_reserve(struct qsbr_thread *th)
{
	if (th->count < th->q->cfg.retire_max)
		return true;
	qsbr_reclaim(th);
	if (th->count < th->q->cfg.retire_max)
		return true;
	count_add(&th->full, 1);
	return false;
}

void qsbr_retire(struct qsbr_thread *th, const void *ptr)
{
	struct qsbr *q = th->q;
	uint32_t tail;

	PG_ASSERT(th->count < q->cfg.retire_max);
	tail = th->head + th->count;
	if (tail >= q->cfg.retire_max)
		tail -= q->cfg.retire_max;
	th->ring[tail].ptr = ptr;
	/* seq_cst: read after the unlink (the caller's compare-and-swap) in the total order */
	th->ring[tail].epoch = atomic_load(&q->epoch);
	th->count++;
	count_add(&th->retired, 1);
}

void qsbr_stats_read(const struct qsbr *q, struct qsbr_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (uint32_t i = 0; i < q->cfg.max_threads; i++) {
		const struct qsbr_thread *th = &q->threads[i];

		out->retired += pg_load_relaxed(&th->retired);
		out->freed += pg_load_relaxed(&th->freed);
		out->full += pg_load_relaxed(&th->full);
	}
	out->pending = out->retired - out->freed;
	out->epoch = pg_load_relaxed(&q->epoch);
}

uint64_t qsbr_memory_bytes(const struct qsbr *q)
{
	return sizeof(*q) + sizeof(*q->threads) * q->cfg.max_threads +
	       sizeof(*q->rings) * (uint64_t)q->cfg.max_threads * q->cfg.retire_max;
}
