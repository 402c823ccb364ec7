/*
 * rvt.h - the record-version table: which version of each record this node holds.
 *
 * Every received record is checked here first (DESIGN.md, "Records and the version table"): a
 * lock-free open-addressing hash table keyed by the 128-bit record key, mapping each key to
 * the caller's immutable body (a decoded struct pg_record) and caching its version and deleted
 * flag in the slot, so a copy we already hold is recognised from one cache line. Writers on
 * any thread insert and raise with compare-and-swap; readers never block. A body handed to the
 * table belongs to it until the table passes it to the configured free callback, after a
 * grace period (QSBR, see qsbr.h).
 *
 * Threads: every thread that touches the table registers and passes a quiescent state once
 * per loop turn (rvt_quiescent). A body pointer obtained from the table stays valid until the
 * calling thread's next rvt_quiescent() or rvt_thread_offline().
 */
#ifndef PG_RVT_H
#define PG_RVT_H

#include <stdbool.h>
#include <stdint.h>

#include "record.h"

enum {
	RVT_CAPACITY_MAX = 1u << 30, /* keys (live and removed) a table can hold */
	RVT_PROBE_DEFAULT = 512,     /* slots a probe visits before the table counts as full */
	RVT_BURST_MAX = 32,	     /* keys per rvt_lookup_burst() prefetch batch */
	RVT_SLOT_BYTES = 32,	     /* table memory per slot; slots = capacity * 3 / 2 */
};

struct rvt;
struct rvt_thread;

struct rvt_config {
	uint32_t capacity;    /* keys, 1 .. RVT_CAPACITY_MAX; removed keys count until compaction */
	uint32_t max_threads; /* threads registered at once, 1 .. 64 */
	uint32_t retire_max;  /* per-thread replaced bodies awaiting a grace period; 0 = 4096 */
	uint32_t probe_max;   /* probe bound in slots; 0 = RVT_PROBE_DEFAULT */
	/* Receives every body the table releases: replaced, removed, or held at destroy. */
	void (*body_free)(void *ctx, const struct pg_record *body);
	void *body_free_ctx;
};

/* What the table holds for a key. Body NULL when it holds nothing: then version is the version
 * a removed (expired) key remembers, copies at or below which are stale, or 0. */
struct rvt_view {
	const struct pg_record *body;
	uint32_t version;
	bool deleted; /* the body is a tombstone */
};

/* Counters summed over every thread that ever registered. */
struct rvt_stats {
	uint64_t inserts;      /* bodies stored for a key that held none */
	uint64_t raises;       /* bodies replaced by a newer copy (tombstones included) */
	uint64_t tombstones;   /* of the raises and inserts, bodies with PG_RECORD_DELETED */
	uint64_t stale;	       /* copies older than the one held (PG_E_STALE) */
	uint64_t dups;	       /* exact duplicates of the copy held (PG_E_STALE) */
	uint64_t exists;       /* rvt_insert() on a key that holds a body (-EEXIST) */
	uint64_t rejected;     /* newer copies refused by pg_record_check_update() */
	uint64_t full;	       /* PG_E_TABLE_FULL returned */
	uint64_t probe_limit;  /* of those, a probe that reached probe_max */
	uint64_t removes;      /* bodies removed on expiry */
	uint64_t remove_stale; /* removals refused because another body is now held */
	uint64_t again;	       /* -EAGAIN: retire list at its bound or a compare-and-swap storm */
	uint64_t retired;      /* bodies queued for the free callback */
	uint64_t freed;	       /* bodies handed to the free callback */
	uint64_t used;	       /* slots holding a key (live, tombstoned or removed) */
	uint64_t capacity;
	uint64_t slots;
	uint64_t table_bytes; /* the slot array */
	uint64_t total_bytes; /* slots, thread records and retire lists */
};

/* Creates a table. 0, -EINVAL for a bad config, or -ENOMEM. */
int rvt_create(const struct rvt_config *cfg, struct rvt **out);
/* Hands every body still held or retired to body_free and frees the table. No thread may be
 * registered. */
void rvt_destroy(struct rvt *t);

/* Registers the calling thread (online). 0, or -EBUSY when max_threads are registered. */
int rvt_thread_register(struct rvt *t, struct rvt_thread **out);
/* Unregisters; bodies it retired are freed later by the table. */
void rvt_thread_unregister(struct rvt_thread *th);
/* A quiescent state: the thread holds no body pointer from the table. Once per loop turn. */
void rvt_quiescent(struct rvt_thread *th);
/* Leaves the read side before blocking; rvt_thread_online() returns to it. */
void rvt_thread_offline(struct rvt_thread *th);
void rvt_thread_online(struct rvt_thread *th);

/* Looks a key up; *out is always filled. 0 (a body is held, tombstones included);
 * PG_E_NOT_FOUND (none: out->version is a removed key's remembered version, or 0); or -EINVAL
 * for a key with a zero half. Never writes shared memory. */
int rvt_lookup(struct rvt_thread *th, struct pg_key key, struct rvt_view *out);
/* Starts loading key's home slot into the cache, for a lookup or a raise a little later: a
 * hint, any thread, registered or not; never faults. */
void rvt_prefetch(const struct rvt *t, struct pg_key key);
/* Looks up n keys with their slots prefetched ahead; out[i] as rvt_lookup fills it. Returns how
 * many hold a body. */
unsigned rvt_lookup_burst(struct rvt_thread *th, const struct pg_key *keys, unsigned n,
			  struct rvt_view *out);

/* Stores rec if the key holds no body. 0; -EEXIST when a body is held; PG_E_STALE when the
 * key was removed at this version or a newer one; PG_E_TABLE_FULL; -EINVAL. */
int rvt_insert(struct rvt_thread *th, struct pg_key key, const struct pg_record *rec);
/* Stores rec if the key holds no body or rec wins pg_record_order() against the held body
 * and passes pg_record_check_update(). 0 (the table owns rec); PG_E_STALE (older copy or
 * exact duplicate); PG_E_EXPIRY_SHRANK or PG_E_BAD_FORMAT; PG_E_TABLE_FULL; -EAGAIN when the
 * retire list is at its bound (pass a quiescent state, retry); -EINVAL. */
int rvt_raise(struct rvt_thread *th, struct pg_key key, const struct pg_record *rec);
/* rvt_raise() for a tombstone; -EINVAL unless rec has PG_RECORD_DELETED. */
int rvt_tombstone(struct rvt_thread *th, struct pg_key key, const struct pg_record *rec);
/* Removes the key's body if it is still `body` (the copy that expired); the slot remembers its
 * version so older copies stay stale. 0, PG_E_NOT_FOUND, PG_E_STALE (another body is held),
 * -EAGAIN (retire list at its bound), -EINVAL. */
int rvt_remove_expired(struct rvt_thread *th, struct pg_key key, const struct pg_record *body);

/* Drops removed keys so their slots return to the capacity. Exclusive: no thread may be
 * registered. Returns the number of slots freed, or -EBUSY. */
long rvt_compact(struct rvt *t);

/* Sums the per-thread counters into *out. */
void rvt_stats_read(const struct rvt *t, struct rvt_stats *out);

#endif
