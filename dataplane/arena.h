/*
 * arena.h - the store's body memory: log-structured segments that double as the log buffer.
 *
 * Every record body lives inside its log entry (wal.h) in an arena block, copied there once
 * when it is stored. A block is either a segment (fixed size, bump-allocated, shared by many
 * entries) or a large block (one entry bigger than a quarter segment). Entries that must reach
 * the log are queued as byte ranges in append order; the committer gathers those ranges into
 * an iovec and writes them straight from the arena, then marks them written. A block whose
 * entries are all dead and written is reused at once; a sealed segment with some live entries
 * is *cleaned*: the store moves its live entries into the reserve segment (see store.c), after
 * which the emptied segment becomes the new reserve.
 *
 * Memory bound: segments <= 2 * ceil(max_live / segment) + 4, large blocks <= 1.5 * max_live.
 * With live bytes <= max_live, a full pool always holds a written sealed segment at most half
 * live, so cleaning frees at least half a segment (pigeonhole; see arena.c). Several arenas
 * (the store's shards) may share a soft budget of segments: past it an arena cleans one of
 * its own segments instead of growing whenever one is at most half live (arena.c, SHARED
 * BUDGET), so together they stay near one arena's bound although each may reach its own.
 *
 * Not thread-safe: the store calls it under its shard's lock, except that the committer may
 * read the bytes of gathered ranges without the lock until it calls pg_arena_written().
 */
#ifndef PG_ARENA_H
#define PG_ARENA_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

enum {
	PG_ARENA_SEGMENT_MIN = 64 << 10,
	PG_ARENA_SEGMENT_MAX = 256 << 20,
	PG_ARENA_SEGMENT_DEFAULT = 1 << 20,
	PG_ARENA_RANGES = 4096, /* bound on queued, unwritten ranges */
	PG_ARENA_NONE = -1,
};

struct pg_arena_config {
	uint32_t segment_size;	  /* power of two, PG_ARENA_SEGMENT_MIN .. _MAX */
	uint64_t max_live;	  /* the live-byte bound the store enforces */
	_Atomic uint32_t *budget; /* segments of all arenas sharing a budget; NULL: none */
	uint32_t budget_soft;	  /* past it, clean a half-live segment rather than grow */
};

/* Counters, read under the store lock. */
struct pg_arena_stats {
	uint64_t segments, large_blocks;
	uint64_t bytes;	    /* memory held by blocks */
	uint64_t live;	    /* bytes of live entries */
	uint64_t pending;   /* queued bytes not yet written */
	uint64_t cleaned;   /* segments emptied by cleaning */
	uint64_t reclaimed; /* blocks reused without copying (all dead) */
};

/* What the committer took: written back with pg_arena_written(). */
struct pg_arena_gather {
	unsigned ranges;
	bool limited; /* stopped by max_iov or max_bytes with more queued */
	uint64_t bytes;
	uint32_t taken[PG_ARENA_RANGES]; /* bytes taken of each range; the caller may lower the
					  * last one it keeps, and the count, before written */
};

struct pg_arena;

/* Creates an arena; it allocates its first segment and the reserve. 0, -EINVAL, -ENOMEM. */
int pg_arena_create(const struct pg_arena_config *c, struct pg_arena **out);
/* Frees every block. NULL is fine. */
void pg_arena_destroy(struct pg_arena *a);

/* Allocates size bytes (a multiple of 8, > 0) for one entry. queue: the bytes are queued for
 * the log after everything queued before; otherwise they are marked written (replay).
 * 0; -ENOSPC when the pool is full (or past the shared budget) and a segment must be cleaned;
 * -EBUSY when only the committer can make room (ranges queue full, large-block bound, nothing
 * cleanable). */
int pg_arena_alloc(struct pg_arena *a, uint32_t size, bool queue, uint32_t *block, uint8_t **ptr);
/* Marks size bytes of block dead (an entry replaced, expired or moved). Cannot fail. */
void pg_arena_release(struct pg_arena *a, uint32_t block, uint32_t size);

/* Starts cleaning: picks the written sealed segment with the fewest live bytes (if cleaning
 * it gains anything), seals the head and makes the reserve the head. 0 with the victim's
 * bytes in *base / *used, or -EBUSY. The caller moves every live entry with pg_arena_alloc
 * and pg_arena_release, then calls pg_arena_clean_end. */
int pg_arena_clean_begin(struct pg_arena *a, uint32_t *victim, const uint8_t **base,
			 uint32_t *used);
/* Ends cleaning: the victim (now without live bytes) becomes the reserve. Cannot fail. */
void pg_arena_clean_end(struct pg_arena *a, uint32_t victim);

/* Gathers queued ranges, at most max_iov of them and max_bytes (a range is never split), into
 * iov. Returns how many iovecs were filled. */
unsigned pg_arena_gather(struct pg_arena *a, struct iovec *iov, unsigned max_iov,
			 uint64_t max_bytes, struct pg_arena_gather *g);
/* Marks what pg_arena_gather took as written (g->ranges ranges, taken[k] bytes from the front
 * of each; only the last may be short); blocks that are all dead become free. */
void pg_arena_written(struct pg_arena *a, const struct pg_arena_gather *g);
/* True when nothing is queued. */
bool pg_arena_idle(const struct pg_arena *a);

/* Fills the counters. */
void pg_arena_stats(const struct pg_arena *a, struct pg_arena_stats *st);

#endif
