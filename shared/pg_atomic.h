/*
 * pg_atomic.h - the one place memory ordering is spelled.
 *
 * C11 atomics underneath. Every call site says, in a one-line comment, which store must be
 * seen before which load; these names only make the ordering visible at a glance.
 */
#ifndef PG_ATOMIC_H
#define PG_ATOMIC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define PG_CACHE_LINE	 64
#define pg_cache_aligned __attribute__((aligned(PG_CACHE_LINE)))

/* Plain load/store with no ordering: counters, hints, values re-checked later. */
#define pg_load_relaxed(p)     atomic_load_explicit((p), memory_order_relaxed)
#define pg_store_relaxed(p, v) atomic_store_explicit((p), (v), memory_order_relaxed)

/* The same on a plain (not _Atomic) object that its writers change under a lock and one
 * reader reads without it, as a hint it never trusts (a prefetch address): every other access
 * stays plain, under the lock. */
#define pg_load_hint(p)	    __atomic_load_n((p), __ATOMIC_RELAXED)
#define pg_store_hint(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)

/* Load that sees every store made before the matching pg_store_release. */
#define pg_load_acquire(p) atomic_load_explicit((p), memory_order_acquire)
/* Store that publishes every earlier store to a pg_load_acquire of the same object. */
#define pg_store_release(p, v) atomic_store_explicit((p), (v), memory_order_release)

/* Compare-and-swap, acquire+release on success, acquire on failure (we re-read on failure). */
#define pg_cas(p, expected, desired)                                                               \
	atomic_compare_exchange_strong_explicit((p), (expected), (desired), memory_order_acq_rel,  \
						memory_order_acquire)

#define pg_fetch_add_relaxed(p, v) atomic_fetch_add_explicit((p), (v), memory_order_relaxed)

/* One-sided fences, as a seqlock needs them (Boehm, "Can seqlocks get along with programming
 * language memory models?", MSPC 2012): loads before an acquire fence are ordered before every
 * access after it; accesses before a release fence are ordered before stores after it. */
#define pg_fence_acquire() atomic_thread_fence(memory_order_acquire)
#define pg_fence_release() atomic_thread_fence(memory_order_release)

/* Full fence: a store before it is visible before any load after it (store-load ordering). */
#define pg_fence_seq_cst() atomic_thread_fence(memory_order_seq_cst)

static inline void pg_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

#endif
