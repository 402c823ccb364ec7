/*
 * ring.h - a flood ring: the record encodings one producer let into the node, which every link
 * of the graph reads at its own cursor (doc/flood.md, "Flooding and back-pressure").
 *
 * One producer (a worker, or the control thread for the API's records) appends entries: the
 * record's length, the link it came from, its bytes. Any number of readers (links, on any
 * worker) each keep a cursor and read entries between it and the head; an entry is never
 * changed once the head has passed it. The producer reuses space only below every registered
 * cursor: a slow link holds its cursor back, the ring fills, and the producer's owner stops
 * taking records (credit, refusal, PG_E_BUSY) — the ring is the node's bound, not a queue per
 * link.
 *
 * Threads: one producer thread; readers on any thread, each cursor read and moved by one
 * thread at a time. Positions are 64-bit byte offsets that only grow. The head is published
 * with a release store, cursors likewise; the producer looks at the cursors (under the
 * cursor set's lock) only when its cached lower bound says the ring is full, so the lock is
 * off the hot path. A cursor registered starts at the head it sees under that lock, which is
 * never below the bound a producer computed before, so nothing it will read can be reused
 * before it has read it.
 */
#ifndef DP_RING_H
#define DP_RING_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

enum {
	DP_RING_HDR = 8,	/* an entry's length and source */
	DP_RING_MIN = 64 << 10, /* the smallest ring */
	DP_RING_PRODUCERS = 65, /* the control thread and up to 64 workers */
	DP_RING_CURSORS = 1024, /* links of one graph, all workers together */
	DP_RING_SRC_LOCAL = 0,	/* the source of records this node made */
};

struct dp_ring {
	uint8_t *buf;
	uint64_t size, mask;
	_Atomic uint64_t head; /* the end of the published entries */
	uint64_t low;	       /* producer's: no cursor is below it */
	struct dp_ring_set *set;
	unsigned index; /* this ring's position in its set */
};

/* A link's cursors into every ring of its graph. */
struct dp_ring_cursor {
	_Atomic uint64_t pos[DP_RING_PRODUCERS];
	bool used;    /* under the set's lock */
	uint32_t src; /* entries from this source are skipped */
};

/* The rings of one graph and the cursors that read them. */
struct dp_ring_set {
	pthread_mutex_t lock;
	unsigned nrings;
	struct dp_ring *rings[DP_RING_PRODUCERS];
	struct dp_ring_cursor cur[DP_RING_CURSORS];
	uint32_t ncur; /* slots in use up to here */
};

/* 0, -EINVAL (nrings 1 .. DP_RING_PRODUCERS) or -ENOMEM. */
int dp_ring_set_init(struct dp_ring_set *s, unsigned nrings, uint64_t ring_bytes);
void dp_ring_set_fini(struct dp_ring_set *s);

/* Registers a link's cursors at every ring's head; src is the link's source id (its entries
 * are skipped). NULL when DP_RING_CURSORS are in use. Any thread. */
struct dp_ring_cursor *dp_ring_cursor_add(struct dp_ring_set *s, uint32_t src);
/* Releases the cursors: the producers may reuse what only they held back. Any thread. */
void dp_ring_cursor_remove(struct dp_ring_set *s, struct dp_ring_cursor *c);

/* Bytes an entry for a record of len bytes takes (its header, 8-byte aligned). */
static inline uint64_t dp_ring_entry_bytes(uint32_t len)
{
	return DP_RING_HDR + (((uint64_t)len + 7) & ~(uint64_t)7);
}

/* Producer: is there room for `bytes` of entries (sum of dp_ring_entry_bytes)? Looks at the
 * cursors only when the cached bound says no. */
bool dp_ring_room(struct dp_ring *r, uint64_t bytes);
/* Producer: room for `bytes` of entries with `reserve` bytes still free after them? */
bool dp_ring_room_reserve(struct dp_ring *r, uint64_t bytes, uint64_t reserve);
/* Producer: free bytes, from the cached bound (a lower bound of the truth). */
uint64_t dp_ring_free(const struct dp_ring *r);
/* Producer: appends one record; the caller checked room for it (asserted). */
void dp_ring_append(struct dp_ring *r, const uint8_t *rec, uint32_t len, uint32_t src);

/* Reader: the next entry at or after the cursor in ring i not from the cursor's own source;
 * 1 with *rec, *len (valid until the cursor passes it), 0 when the reader is at the head.
 * Entries of the reader's own source are passed over (the cursor moves past them). */
int dp_ring_peek(struct dp_ring_set *s, struct dp_ring_cursor *c, unsigned i, const uint8_t **rec,
		 uint32_t *len);
/* Reader: moves the cursor past the entry dp_ring_peek() returned. */
void dp_ring_next(struct dp_ring_set *s, struct dp_ring_cursor *c, unsigned i);
/* Reader: bytes between the cursor and the head of ring i (how far the link lags). */
uint64_t dp_ring_lag(struct dp_ring_set *s, const struct dp_ring_cursor *c, unsigned i);

#endif
