/*
 * arena.c - segments, large blocks and the queue of unwritten ranges (see arena.h).
 *
 * HOW IT WORKS
 *
 * Blocks live in one table. Segments are bump-allocated at the head; when the head cannot
 * take an entry it is sealed and the next head comes from the free list, or is allocated while
 * the pool is below its bound. Each block counts its used, live and written bytes. A block
 * is reused as soon as it has no live byte and every byte is written (the committer is done
 * with it), so expiring or replacing old data frees memory without copying.
 *
 * When the pool is at its bound the store cleans: it takes the written sealed segment with
 * the fewest live bytes and moves those entries into the reserve, an always-empty segment
 * kept for this. The moved entries are appended to the log again (replay treats a copy equal
 * to the one it holds as a no-op). The emptied victim becomes the next reserve.
 *
 * Why cleaning always gains half a segment: the pool holds 2m + 4 segments where m =
 * ceil(max_live / segment). Besides head and reserve, 2m + 2 are sealed; at most two are still
 * being written at any time (the committer drains the queue every few milliseconds), so 2m or
 * more are written, and they share at most max_live <= m segments' worth of live bytes: the
 * emptiest is at most half live.
 *
 * The queue holds (block, offset, length) ranges in append order, extending the tail range
 * while appends stay contiguous in one block. The entries in them carry their own sequence
 * numbers (wal.h); the committer reads them from there.
 *
 * SHARED BUDGET
 *
 * The store keeps one arena per shard, each bounded as above for the whole max_live (a shard
 * may end up with every live byte: keys are hashes, but ids are chosen by peers). Alone, each
 * would grow to its bound before cleaning, and N shards would hold N times one arena's
 * memory. So they share a count of segments with a soft limit (one arena's bound plus each
 * shard's head and reserve): past it, an arena that needs a segment cleans one of its own
 * instead of growing -- when one of its written sealed segments is at most half live, so the
 * copying per freed byte stays what it is for one arena. Otherwise it grows, up to its own
 * bound. An arena grows past the budget only while all of its written sealed segments are
 * more than half live, i.e. while it holds fewer than 2 live_i / segment of them (plus at most
 * two being written): summed over the arenas, about 2 max_live / segment + 4 per arena.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "arena.h"
#include "pg_assert.h"

#define NONE	  UINT32_MAX
#define HUGE_PAGE (2u << 20)

enum block_kind { KIND_EMPTY, KIND_SEGMENT, KIND_LARGE };
enum seg_state { ST_HEAD, ST_SEALED, ST_RESERVE, ST_FREE, ST_CLEANING };

struct block {
	uint8_t *base;
	uint32_t size, used, live, written;
	uint8_t kind, state;
	uint32_t next_free; /* table slot free list, or free segment list */
};

struct range {
	uint32_t block, off, len;
};

struct pg_arena {
	uint32_t seg_size, large_min;
	uint32_t max_segs, nsegs;
	_Atomic uint32_t *budget; /* shared segment count (SHARED BUDGET), or NULL */
	uint32_t budget_soft;
	uint32_t cap; /* table slots */
	struct block *blocks;
	uint32_t free_slots, free_segs;
	uint32_t head, reserve;
	uint64_t large_bytes, large_max, large_n;
	uint64_t live, pending, cleaned, reclaimed;
	uint32_t rhead, rcount;
	struct range ring[PG_ARENA_RANGES];
};

static uint32_t slot_take(struct pg_arena *a)
{
	uint32_t i = a->free_slots;

	if (i != NONE)
		a->free_slots = a->blocks[i].next_free;
	return i;
}

static void slot_put(struct pg_arena *a, uint32_t i)
{
	memset(&a->blocks[i], 0, sizeof(a->blocks[i]));
	a->blocks[i].next_free = a->free_slots;
	a->free_slots = i;
}

/* Segment memory. Segments of 2 MiB or more are 2 MiB-aligned and asked to be transparent
 * huge pages: a fresh segment then costs one page fault per 2 MiB instead of one per 4 KiB,
 * which on this class of VM is a third of the ingest path's CPU. */
static uint8_t *segment_mem(uint32_t size)
{
	uint8_t *base;

	if (size < HUGE_PAGE)
		return aligned_alloc(64, size);
	base = aligned_alloc(HUGE_PAGE, size);
	if (base)
		madvise(base, size, MADV_HUGEPAGE); /* a hint: without it, 4 KiB pages */
	return base;
}

/* A new segment in a table slot, or NONE when the pool is at its bound or out of memory. */
static uint32_t segment_new(struct pg_arena *a)
{
	uint32_t i;
	uint8_t *base;

	if (a->nsegs >= a->max_segs)
		return NONE;
	base = segment_mem(a->seg_size);
	if (!base)
		return NONE;
	i = slot_take(a);
	PG_ASSERT(i != NONE); /* the table has a slot for every segment */
	a->blocks[i] = (struct block){ .base = base, .size = a->seg_size, .kind = KIND_SEGMENT };
	a->nsegs++;
	if (a->budget) /* a count only: nothing is ordered by it */
		atomic_fetch_add_explicit(a->budget, 1, memory_order_relaxed);
	return i;
}

int pg_arena_create(const struct pg_arena_config *c, struct pg_arena **out)
{
	uint64_t m;
	struct pg_arena *a;

	if (c->segment_size < PG_ARENA_SEGMENT_MIN || c->segment_size > PG_ARENA_SEGMENT_MAX ||
	    (c->segment_size & (c->segment_size - 1)) || c->max_live == 0)
		return -EINVAL;
	m = (c->max_live + c->segment_size - 1) / c->segment_size;
	if (m > (1u << 24))
		return -EINVAL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->seg_size = c->segment_size;
	a->large_min = c->segment_size / 4;
	a->budget = c->budget;
	a->budget_soft = c->budget_soft;
	a->max_segs = (uint32_t)(2 * m + 4);
	a->large_max = c->max_live + c->max_live / 2;
	/* large blocks are >= a quarter segment each, and hold <= 1.5 max_live together */
	a->cap = a->max_segs + (uint32_t)(6 * m + 8);
	a->blocks = calloc(a->cap, sizeof(*a->blocks));
	if (!a->blocks) {
		free(a);
		return -ENOMEM;
	}
	a->free_slots = NONE;
	for (uint32_t i = a->cap; i-- > 0;)
		slot_put(a, i);
	a->free_segs = NONE;
	a->head = segment_new(a);
	a->reserve = segment_new(a);
	if (a->head == NONE || a->reserve == NONE) {
		pg_arena_destroy(a);
		return -ENOMEM;
	}
	a->blocks[a->head].state = ST_HEAD;
	a->blocks[a->reserve].state = ST_RESERVE;
	*out = a;
	return 0;
}

void pg_arena_destroy(struct pg_arena *a)
{
	if (!a)
		return;
	if (a->budget)
		atomic_fetch_sub_explicit(a->budget, a->nsegs, memory_order_relaxed);
	for (uint32_t i = 0; i < a->cap; i++)
		free(a->blocks[i].base);
	free(a->blocks);
	free(a);
}

/* Reuses a block that holds nothing live and nothing unwritten. */
static void maybe_free(struct pg_arena *a, uint32_t i)
{
	struct block *b = &a->blocks[i];

	if (b->live != 0 || b->written != b->used)
		return;
	if (b->kind == KIND_LARGE) {
		free(b->base);
		a->large_bytes -= b->size;
		a->large_n--;
		slot_put(a, i);
		a->reclaimed++;
	} else if (b->kind == KIND_SEGMENT && b->state == ST_SEALED) {
		b->state = ST_FREE;
		b->used = b->written = 0;
		b->next_free = a->free_segs;
		a->free_segs = i;
		a->reclaimed++;
	}
}

/* True when a written sealed segment is at most half live: cleaning it frees half a segment. */
static bool cheap_victim(const struct pg_arena *a)
{
	for (uint32_t i = 0; i < a->cap; i++) {
		const struct block *b = &a->blocks[i];

		if (b->kind == KIND_SEGMENT && b->state == ST_SEALED && b->written == b->used &&
		    2ull * b->live <= b->used)
			return true;
	}
	return false;
}

/* True when the arena should clean rather than grow (SHARED BUDGET above). */
static bool over_budget(const struct pg_arena *a)
{
	return a->budget &&
	       atomic_load_explicit(a->budget, memory_order_relaxed) >= a->budget_soft &&
	       cheap_victim(a);
}

/* Makes room in the head for size bytes, rolling to a free or new segment. 0 or -ENOSPC. */
static int head_room(struct pg_arena *a, uint32_t size)
{
	uint32_t old = a->head, next;

	if (a->seg_size - a->blocks[old].used >= size)
		return 0;
	next = a->free_segs;
	if (next != NONE)
		a->free_segs = a->blocks[next].next_free;
	else if (over_budget(a) || (next = segment_new(a)) == NONE)
		return -ENOSPC;
	a->blocks[next].state = ST_HEAD;
	a->blocks[next].used = a->blocks[next].written = a->blocks[next].live = 0;
	a->head = next;
	a->blocks[old].state = ST_SEALED;
	maybe_free(a, old);
	return 0;
}

static struct range *ring_tail(struct pg_arena *a)
{
	return a->rcount ? &a->ring[(a->rhead + a->rcount - 1) % PG_ARENA_RANGES] : NULL;
}

/* Queues [off, off+size) of block for the log; the caller checked there is room. */
static void queue(struct pg_arena *a, uint32_t block, uint32_t off, uint32_t size)
{
	struct range *t = ring_tail(a);

	if (t && t->block == block && t->off + t->len == off) {
		t->len += size;
	} else {
		t = &a->ring[(a->rhead + a->rcount) % PG_ARENA_RANGES];
		t->block = block;
		t->off = off;
		t->len = size;
		a->rcount++;
	}
	a->pending += size;
}

static bool queue_full_for(struct pg_arena *a, uint32_t block, uint32_t off)
{
	struct range *t = ring_tail(a);

	if (t && t->block == block && t->off + t->len == off)
		return false;
	return a->rcount == PG_ARENA_RANGES;
}

static int alloc_large(struct pg_arena *a, uint32_t size, bool queue_it, uint32_t *block,
		       uint8_t **ptr)
{
	uint32_t i, bytes = (size + 63) & ~63u;
	uint8_t *base;

	if (a->large_bytes + bytes > a->large_max || (queue_it && a->rcount == PG_ARENA_RANGES) ||
	    a->free_slots == NONE)
		return -EBUSY;
	base = aligned_alloc(64, bytes);
	if (!base)
		return -ENOMEM;
	i = slot_take(a);
	a->blocks[i] = (struct block){ .base = base,
				       .size = bytes,
				       .used = size,
				       .live = size,
				       .written = queue_it ? 0 : size,
				       .kind = KIND_LARGE };
	a->large_bytes += bytes;
	a->large_n++;
	a->live += size;
	if (queue_it)
		queue(a, i, 0, size);
	*block = i;
	*ptr = base;
	return 0;
}

int pg_arena_alloc(struct pg_arena *a, uint32_t size, bool queue_it, uint32_t *block, uint8_t **ptr)
{
	struct block *h;
	int err;

	PG_ASSERT(size > 0 && size % 8 == 0);
	if (size >= a->large_min)
		return alloc_large(a, size, queue_it, block, ptr);
	if ((err = head_room(a, size)))
		return err;
	h = &a->blocks[a->head];
	if (queue_it && queue_full_for(a, a->head, h->used))
		return -EBUSY;
	*block = a->head;
	*ptr = h->base + h->used;
	if (queue_it) {
		queue(a, a->head, h->used, size);
	} else {
		PG_ASSERT(h->written == h->used); /* replay allocates before anything is queued */
		h->written += size;
	}
	h->used += size;
	h->live += size;
	a->live += size;
	return 0;
}

void pg_arena_release(struct pg_arena *a, uint32_t block, uint32_t size)
{
	struct block *b = &a->blocks[block];

	PG_ASSERT(block < a->cap && b->kind != KIND_EMPTY && b->live >= size && a->live >= size);
	b->live -= size;
	a->live -= size;
	maybe_free(a, block);
}

int pg_arena_clean_begin(struct pg_arena *a, uint32_t *victim, const uint8_t **base, uint32_t *used)
{
	uint32_t best = NONE;

	PG_ASSERT(a->reserve != NONE);
	/* relocated entries are new log entries and need a range; with the ring full the
	 * committer must write some first (the caller waits for room, -EBUSY) */
	if (a->rcount == PG_ARENA_RANGES)
		return -EBUSY;
	for (uint32_t i = 0; i < a->cap; i++) {
		struct block *b = &a->blocks[i];

		if (b->kind != KIND_SEGMENT || b->state != ST_SEALED || b->written != b->used)
			continue;
		if (best == NONE || b->live < a->blocks[best].live)
			best = i;
	}
	if (best == NONE || a->blocks[best].live == a->blocks[best].used)
		return -EBUSY;
	a->blocks[a->head].state = ST_SEALED;
	maybe_free(a, a->head);
	a->head = a->reserve;
	a->reserve = NONE;
	a->blocks[a->head].state = ST_HEAD;
	a->blocks[best].state = ST_CLEANING;
	*victim = best;
	*base = a->blocks[best].base;
	*used = a->blocks[best].used;
	return 0;
}

void pg_arena_clean_end(struct pg_arena *a, uint32_t victim)
{
	struct block *b = &a->blocks[victim];

	PG_ASSERT(b->state == ST_CLEANING && b->live == 0 && a->reserve == NONE);
	b->state = ST_RESERVE;
	b->used = b->written = 0;
	a->reserve = victim;
	a->cleaned++;
}

unsigned pg_arena_gather(struct pg_arena *a, struct iovec *iov, unsigned max_iov,
			 uint64_t max_bytes, struct pg_arena_gather *g)
{
	unsigned n = 0;

	g->bytes = 0;
	g->limited = false;
	while (n < a->rcount && n < PG_ARENA_RANGES) {
		const struct range *r = &a->ring[(a->rhead + n) % PG_ARENA_RANGES];

		if (n == max_iov || (n > 0 && g->bytes + r->len > max_bytes)) {
			g->limited = true;
			break;
		}
		iov[n].iov_base = a->blocks[r->block].base + r->off;
		iov[n].iov_len = r->len;
		g->taken[n] = r->len;
		g->bytes += r->len;
		n++;
	}
	g->ranges = n;
	return n;
}

void pg_arena_written(struct pg_arena *a, const struct pg_arena_gather *g)
{
	for (unsigned k = 0; k < g->ranges; k++) {
		struct range *r = &a->ring[a->rhead];
		struct block *b = &a->blocks[r->block];

		PG_ASSERT(a->rcount > 0 && r->len >= g->taken[k]);
		PG_ASSERT(b->written == r->off);
		b->written += g->taken[k];
		r->off += g->taken[k];
		r->len -= g->taken[k];
		a->pending -= g->taken[k];
		if (r->len == 0) {
			a->rhead = (a->rhead + 1) % PG_ARENA_RANGES;
			a->rcount--;
		} else {
			PG_ASSERT(k + 1 == g->ranges); /* only the tail grows after a gather */
		}
		if (r->block != a->head)
			maybe_free(a, r->block);
	}
}

bool pg_arena_idle(const struct pg_arena *a)
{
	return a->rcount == 0;
}

void pg_arena_stats(const struct pg_arena *a, struct pg_arena_stats *st)
{
	st->segments = a->nsegs;
	st->large_blocks = a->large_n;
	st->bytes = (uint64_t)a->nsegs * a->seg_size + a->large_bytes;
	st->live = a->live;
	st->pending = a->pending;
	st->cleaned = a->cleaned;
	st->reclaimed = a->reclaimed;
}
