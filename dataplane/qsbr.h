/*
 * qsbr.h - quiescent-state-based reclamation for the dataplane's lock-free tables.
 *
 * A lock-free table unlinks an object while readers on other threads may still hold a pointer
 * to it. QSBR defers freeing until every registered thread has passed a quiescent state (a
 * point where it holds no such pointer, e.g. the top of its poll loop) after the unlink: the
 * grace period. Readers pay nothing but one call per loop turn; writers put unlinked objects
 * on a bounded per-thread retire list, and a caller-supplied callback frees them later.
 *
 * Contract for a registered thread: pointers read from a protected structure stay valid until
 * its next qsbr_quiescent() or qsbr_thread_offline(). A thread that blocks (sleeps, waits on
 * I/O) goes offline first so it never stalls everybody's grace periods. The structure loads
 * its protected pointers with seq_cst loads (plain loads on x86-64) and unlinks them with
 * seq_cst read-modify-writes; that is what lets a quiescent state skip a fence (qsbr.c).
 */
#ifndef PG_QSBR_H
#define PG_QSBR_H

#include <stdbool.h>
#include <stdint.h>

enum {
	QSBR_THREADS_MAX = 64, /* registered threads per domain */
	QSBR_RETIRE_MIN = 4,   /* bounds of the per-thread retire list */
	QSBR_RETIRE_MAX = 1u << 20,
	QSBR_RETIRE_DEFAULT = 4096,
};

struct qsbr;
struct qsbr_thread;

struct qsbr_config {
	uint32_t max_threads; /* 1 .. QSBR_THREADS_MAX */
	uint32_t retire_max;  /* per-thread retired objects awaiting a grace period; 0 = default */
	/* Frees one retired object; runs on the thread that retired it (or that inherited its
	 * list), never concurrently with a reader that could still see the object. */
	void (*free_fn)(void *ctx, const void *ptr);
	void *free_ctx;
};

struct qsbr_stats {
	uint64_t retired; /* objects put on a retire list */
	uint64_t freed;	  /* objects handed to free_fn */
	uint64_t full;	  /* times a retire list was at its bound after a reclaim attempt */
	uint64_t pending; /* retired - freed */
	uint64_t epoch;	  /* the current global epoch (grace periods started + 1) */
};

/* Creates a domain. 0, -EINVAL for a bad config, or -ENOMEM. */
int qsbr_create(const struct qsbr_config *cfg, struct qsbr **out);
/* Frees every object still retired and the domain. No thread may be registered. */
void qsbr_destroy(struct qsbr *q);

/* Registers the calling thread, online. 0, or -EBUSY when max_threads are registered. A
 * thread record left by an earlier thread is reused with its pending retire list. */
int qsbr_thread_register(struct qsbr *q, struct qsbr_thread **out);
/* Goes offline, frees what is already safe, and releases the record (pending objects stay
 * on it for the next thread that registers, or for qsbr_destroy()). */
void qsbr_thread_unregister(struct qsbr_thread *th);

/* Announces a quiescent state: the thread holds no protected pointer. Frees due objects now
 * and then. Call it once per loop turn. */
void qsbr_quiescent(struct qsbr_thread *th);
/* Leaves the read side for a while (before blocking); grace periods no longer wait for us. */
void qsbr_thread_offline(struct qsbr_thread *th);
/* Comes back online after qsbr_thread_offline(). */
void qsbr_thread_online(struct qsbr_thread *th);

/* True when the retire list has room for one more object, reclaiming first if it is full;
 * false (counted in stats.full) when it stays full because a thread has not passed a
 * quiescent state. Call before unlinking, so a full list never forces a leak. */
bool qsbr_retire_reserve(struct qsbr_thread *th);
/* Queues an unlinked object for free_fn after a grace period. Needs a prior successful
 * qsbr_retire_reserve() on this thread with no retire in between. */
void qsbr_retire(struct qsbr_thread *th, const void *ptr);
/* Frees the objects of this thread whose grace period is over and starts the next grace
 * period if some still wait. Returns how many it freed. */
unsigned qsbr_reclaim(struct qsbr_thread *th);

/* Sums the per-thread counters (racy but each counter is exact once threads are quiet). */
void qsbr_stats_read(const struct qsbr *q, struct qsbr_stats *out);
/* Bytes the domain allocated (thread records and retire lists). */
uint64_t qsbr_memory_bytes(const struct qsbr *q);

#endif
