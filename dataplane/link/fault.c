/*
 * fault.c - seeded fault injection on received datagrams (fault.h).
 *
 * HOW IT WORKS
 *
 * Random numbers: xoshiro256** (Blackman and Vigna, "Scrambled linear pseudorandom number
 * generators", 2021), its state filled from the seed by splitmix64 as its authors advise.
 * Four words of state per filter, a few cycles a number, 64 good bits each. Not rand():
 * its state is one hidden global (two workers' filters would draw from each other's
 * sequence, so no seed would replay), glibc gives only 31 bits, and its sequence is the C
 * library's, not ours, so a seed would not replay on another libc.
 *
 * Fates: one uniform draw u in [0, 1) per datagram picks it: u < drop drops it, then the next
 * dup of the unit interval duplicates it, the next reorder reorders it, the rest delivers it
 * once. Each copy delivered (one, or two for a duplicate) then draws its delay, delay_us
 * plus a uniform integer in [0, jitter_us]; a copy with a delay of 0 is delivered at once,
 * from the caller's buffer, any other is copied into a slot of the pool with its due time.
 * Jitter alone reorders too, as it does on a real path.
 *
 * Reordering: a reordered datagram is held until k later datagrams (k uniform in 1..3, drawn
 * for it) have been delivered, so that exactly those overtake it, or until a bound passes:
 * its own delay (as above) plus DP_FAULT_REORDER_BOUND_US (1 ms), so a datagram is never
 * held for long when traffic stops. "Later" means fed after it (a higher input sequence
 * number): a delayed datagram that arrived before it and comes out after it does not count.
 * It is delivered right after the k-th overtaking delivery, in the same call (the two copies
 * of a duplicate are two deliveries). 1 ms is long enough that at the rates a test sends the
 * later datagrams come first, so the receiver sees it out of order rather than merely late,
 * and short enough that when traffic stops it is held no longer than a late datagram on a
 * real path.
 *
 * One delivery may release several held datagrams, and each of their deliveries may release
 * more (those fed before it). They come out depth first, the lowest sequence number of a
 * batch first: a datagram released by a delivery comes out right after it, before the others
 * of its batch. The others came later than everything that cascade delivers, so it does not
 * count against them, and every datagram released by overtaking is overtaken by exactly its
 * k (the test checks this against a naive count).
 *
 * The pool: slots x max_len bytes and the slot records, allocated at create. Held slots sit
 * in a binary min-heap on (due time, order of holding), so equal due times come out in the
 * order they went in; the reordered ones are also in a list sorted by input sequence number,
 * which every delivery walks to count itself against the ones it overtakes (they are few: a
 * reordered datagram waits for at most three deliveries or 1 ms). Released ones wait on a
 * work stack; each slot is released once, so every call ends after at most slots deliveries
 * from the pool. No slot free, or a datagram longer than max_len: it is delivered at once
 * and counted (pool_full, too_long) - never dropped, and memory never grows.
 *
 * LIMITATIONS
 *
 * Faults apply to what a node receives, one datagram at a time; a GRO batch is one datagram
 * here. A delivery costs O(reordered datagrams held) for the walk; with reorder close to 1
 * and a high rate that is up to the pool's size.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "link/fault.h"
#include "pg_assert.h"

enum {
	NONE = UINT32_MAX, /* no index */
};

struct slot {
	uint64_t due;	/* when it is delivered (reordered: at the latest) */
	uint64_t order; /* of holding: ties of due times come out first in, first out */
	uint64_t seq;	/* the datagram's input sequence number */
	uint32_t len;
	uint32_t heap_pos; /* index in the heap, NONE when not held */
	uint8_t need;	   /* reordered: later deliveries still to wait for; 0 otherwise */
	uint8_t addr_len;
	uint8_t addr[DP_FAULT_ADDR_MAX];
};

struct dp_fault {
	struct dp_fault_config c;
	double t_drop, t_dup, t_reorder; /* cumulative thresholds of the fates in [0, 1) */
	uint64_t rng[4];		 /* xoshiro256** */
	uint64_t seq;			 /* next input sequence number */
	uint64_t order;			 /* next holding order */
	uint64_t now;			 /* latest now_us seen */
	struct slot *slots;
	uint8_t *bytes;	     /* slot i's bytes at bytes + i * max_len */
	uint32_t *free_list; /* free slots, a stack */
	uint32_t nfree;
	uint32_t *heap; /* held slots, a min-heap on (due, order) */
	uint32_t nheap;
	uint32_t *reorder; /* reordered held slots, ascending seq */
	uint32_t nreorder;
	uint32_t *work; /* released slots to deliver, a stack: the lowest seq on top */
	uint32_t nwork;
	struct dp_fault_stats st;
};

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t next_u64(struct dp_fault *f)
{
	uint64_t *s = f->rng, result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

/* Uniform in [0, 1), 53 bits. */
static double next_unit(struct dp_fault *f)
{
	return (double)(next_u64(f) >> 11) * 0x1.0p-53;
}

/* Uniform integer in [0, n] (Lemire's multiply; bias below n / 2^64). */
static uint64_t next_upto(struct dp_fault *f, uint32_t n)
{
	return (uint64_t)(((unsigned __int128)next_u64(f) * ((uint64_t)n + 1)) >> 64);
}

bool dp_fault_enabled(const struct dp_fault_config *c)
{
	return c->drop > 0 || c->dup > 0 || c->reorder > 0 || c->delay_us || c->jitter_us;
}

static bool probability_ok(double p)
{
	return p >= 0 && p <= 1; /* false for NaN */
}

int dp_fault_config_check(const struct dp_fault_config *c)
{
	if (!probability_ok(c->drop) || !probability_ok(c->dup) || !probability_ok(c->reorder))
		return -EINVAL;
	if (c->drop + c->dup + c->reorder > 1 + 1e-9)
		return -EINVAL;
	if (c->delay_us > DP_FAULT_DELAY_MAX_US || c->jitter_us > DP_FAULT_DELAY_MAX_US)
		return -EINVAL;
	if (c->slots < 1 || c->slots > DP_FAULT_SLOTS_MAX || c->max_len < 1 ||
	    c->max_len > DP_FAULT_LEN_MAX)
		return -EINVAL;
	if ((uint64_t)c->slots * c->max_len > DP_FAULT_POOL_BYTES_MAX)
		return -EINVAL;
	return 0;
}

int dp_fault_create(const struct dp_fault_config *c, struct dp_fault **out)
{
	struct dp_fault *f;
	uint64_t x = c->seed;

	if (dp_fault_config_check(c))
		return -EINVAL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->c = *c;
	f->t_drop = c->drop;
	f->t_dup = c->drop + c->dup;
	f->t_reorder = c->drop + c->dup + c->reorder;
	for (int i = 0; i < 4; i++)
		f->rng[i] = splitmix64(&x);
	f->slots = calloc(c->slots, sizeof(*f->slots));
	f->bytes = malloc((size_t)c->slots * c->max_len);
	f->free_list = calloc(c->slots, sizeof(uint32_t));
	f->heap = calloc(c->slots, sizeof(uint32_t));
	f->reorder = calloc(c->slots, sizeof(uint32_t));
	f->work = calloc(c->slots, sizeof(uint32_t));
	if (!f->slots || !f->bytes || !f->free_list || !f->heap || !f->reorder || !f->work) {
		dp_fault_destroy(f);
		return -ENOMEM;
	}
	/* pushed in reverse so that slot 0 is taken first */
	for (uint32_t i = 0; i < c->slots; i++) {
		f->slots[i].heap_pos = NONE;
		f->free_list[i] = c->slots - 1 - i;
	}
	f->nfree = c->slots;
	*out = f;
	return 0;
}

void dp_fault_destroy(struct dp_fault *f)
{
	if (!f)
		return;
	free(f->work);
	free(f->reorder);
	free(f->heap);
	free(f->free_list);
	free(f->bytes);
	free(f->slots);
	free(f);
}

/* The heap on (due, order). */

static bool earlier(const struct dp_fault *f, uint32_t a, uint32_t b)
{
	const struct slot *x = &f->slots[a], *y = &f->slots[b];

	return x->due < y->due || (x->due == y->due && x->order < y->order);
}

static void heap_set(struct dp_fault *f, uint32_t pos, uint32_t s)
{
	f->heap[pos] = s;
	f->slots[s].heap_pos = pos;
}

static void sift_up(struct dp_fault *f, uint32_t pos)
{
	uint32_t s = f->heap[pos];

	while (pos > 0) {
		uint32_t parent = (pos - 1) / 2;

		if (!earlier(f, s, f->heap[parent]))
			break;
		heap_set(f, pos, f->heap[parent]);
		pos = parent;
	}
	heap_set(f, pos, s);
}

static void sift_down(struct dp_fault *f, uint32_t pos)
{
	uint32_t s = f->heap[pos];

	for (;;) {
		uint32_t child = 2 * pos + 1;

		if (child >= f->nheap)
			break;
		if (child + 1 < f->nheap && earlier(f, f->heap[child + 1], f->heap[child]))
			child++;
		if (!earlier(f, f->heap[child], s))
			break;
		heap_set(f, pos, f->heap[child]);
		pos = child;
	}
	heap_set(f, pos, s);
}

static void heap_remove(struct dp_fault *f, uint32_t s)
{
	uint32_t pos = f->slots[s].heap_pos, last;

	PG_ASSERT(pos < f->nheap && f->heap[pos] == s);
	f->slots[s].heap_pos = NONE;
	last = f->heap[--f->nheap];
	if (pos == f->nheap)
		return;
	heap_set(f, pos, last);
	sift_up(f, pos);
	sift_down(f, f->slots[last].heap_pos);
}

/* Copies a datagram into a free slot, due at due, waiting for need later deliveries when
 * need > 0. False (and counted) when it cannot be held: the caller delivers it at once. */
static bool hold(struct dp_fault *f, const uint8_t *data, uint32_t len, const void *addr,
		 uint32_t addr_len, uint64_t seq, uint64_t due, uint8_t need)
{
	struct slot *sl;
	uint32_t s;

	if (len > f->c.max_len) {
		f->st.too_long++;
		return false;
	}
	if (!f->nfree) {
		f->st.pool_full++;
		return false;
	}
	s = f->free_list[--f->nfree];
	sl = &f->slots[s];
	sl->due = due;
	sl->order = f->order++;
	sl->seq = seq;
	sl->len = len;
	sl->need = need;
	sl->addr_len = (uint8_t)addr_len;
	if (addr_len)
		memcpy(sl->addr, addr, addr_len);
	if (len)
		memcpy(f->bytes + (size_t)s * f->c.max_len, data, len);
	f->heap[f->nheap] = s;
	sift_up(f, f->nheap++);
	if (need)
		f->reorder[f->nreorder++] = s; /* seq grows, so the list stays sorted */
	f->st.held++;
	return true;
}

/* Takes slot s out of the reorder list (it is there). */
static void reorder_remove(struct dp_fault *f, uint32_t s)
{
	for (uint32_t i = 0; i < f->nreorder; i++) {
		if (f->reorder[i] == s) {
			memmove(&f->reorder[i], &f->reorder[i + 1],
				(f->nreorder - i - 1) * sizeof(f->reorder[0]));
			f->nreorder--;
			return;
		}
	}
	PG_ASSERT(!"reordered slot missing from its list");
}

/* A datagram of sequence number seq was delivered: it overtakes every reordered one fed
 * before it; those that have waited for enough go on the work stack, the lowest sequence
 * number on top. */
static void overtake(struct dp_fault *f, uint64_t seq)
{
	uint32_t i = 0, first = f->nwork;

	while (i < f->nreorder) {
		uint32_t s = f->reorder[i];
		struct slot *sl = &f->slots[s];

		if (sl->seq >= seq)
			break; /* sorted: the rest came later */
		if (--sl->need) {
			i++;
			continue;
		}
		memmove(&f->reorder[i], &f->reorder[i + 1],
			(f->nreorder - i - 1) * sizeof(f->reorder[0]));
		f->nreorder--;
		heap_remove(f, s);
		PG_ASSERT(f->nwork < f->c.slots);
		f->work[f->nwork++] = s;
	}
	/* pushed in ascending order: turn them so that the lowest pops first */
	for (uint32_t a = first, b = f->nwork; a + 1 < b; a++, b--) {
		uint32_t t = f->work[a];

		f->work[a] = f->work[b - 1];
		f->work[b - 1] = t;
	}
}

static void emit(struct dp_fault *f, const uint8_t *data, uint32_t len, const void *addr,
		 uint32_t addr_len, uint64_t seq, dp_fault_deliver_fn deliver, void *ctx)
{
	deliver(ctx, data, len, addr, addr_len);
	f->st.delivered++;
	if (f->nreorder)
		overtake(f, seq);
}

/* Delivers slot s (out of the heap and the reorder list already) and frees it. */
static void emit_slot(struct dp_fault *f, uint32_t s, dp_fault_deliver_fn deliver, void *ctx)
{
	struct slot *sl = &f->slots[s];

	PG_ASSERT(sl->heap_pos == NONE && f->nfree < f->c.slots);
	emit(f, f->bytes + (size_t)s * f->c.max_len, sl->len, sl->addr, sl->addr_len, sl->seq,
	     deliver, ctx);
	sl->need = 0;
	f->free_list[f->nfree++] = s;
	f->st.held--;
}

/* Delivers the released slots, and those their deliveries release in turn, depth first:
 * what a delivery releases comes out right after it, before the ones released with it, so
 * that each reordered datagram is overtaken by exactly its k (see the top of the file). */
static void drain(struct dp_fault *f, dp_fault_deliver_fn deliver, void *ctx)
{
	while (f->nwork)
		emit_slot(f, f->work[--f->nwork], deliver, ctx);
}

/* Takes the earliest held slot out of the heap (and the reorder list) and delivers it. */
static void emit_first(struct dp_fault *f, dp_fault_deliver_fn deliver, void *ctx)
{
	uint32_t s = f->heap[0];

	heap_remove(f, s);
	if (f->slots[s].need)
		reorder_remove(f, s);
	emit_slot(f, s, deliver, ctx);
	drain(f, deliver, ctx);
}

uint64_t dp_fault_next_due(const struct dp_fault *f)
{
	return f->nheap ? f->slots[f->heap[0]].due : UINT64_MAX;
}

uint64_t dp_fault_poll(struct dp_fault *f, uint64_t now_us, dp_fault_deliver_fn deliver, void *ctx)
{
	PG_ASSERT(now_us >= f->now);
	f->now = now_us;
	/* each turn frees a slot and none is taken: at most slots turns */
	while (f->nheap && f->slots[f->heap[0]].due <= now_us)
		emit_first(f, deliver, ctx);
	return dp_fault_next_due(f);
}

uint32_t dp_fault_flush(struct dp_fault *f, dp_fault_deliver_fn deliver, void *ctx)
{
	uint64_t before = f->st.delivered;

	while (f->nheap)
		emit_first(f, deliver, ctx);
	return (uint32_t)(f->st.delivered - before);
}

/* delay_us plus the jitter draw (no draw when jitter_us is 0). */
static uint64_t draw_delay(struct dp_fault *f)
{
	return f->c.delay_us + (f->c.jitter_us ? next_upto(f, f->c.jitter_us) : 0);
}

void dp_fault_input(struct dp_fault *f, uint64_t now_us, const uint8_t *data, uint32_t len,
		    const void *addr, uint32_t addr_len, dp_fault_deliver_fn deliver, void *ctx)
{
	uint64_t seq, delay;
	double u;
	int copies = 1;

	PG_ASSERT(len <= DP_FAULT_LEN_MAX && addr_len <= DP_FAULT_ADDR_MAX);
	PG_ASSERT(data || !len);
	PG_ASSERT(addr || !addr_len);
	dp_fault_poll(f, now_us, deliver, ctx);
	seq = f->seq++;
	f->st.in++;
	u = next_unit(f);
	if (u < f->t_drop) {
		f->st.dropped++;
		return;
	}
	if (u < f->t_dup) {
		f->st.duplicated++;
		copies = 2;
	} else if (u < f->t_reorder) {
		uint8_t need = (uint8_t)(1 + next_upto(f, DP_FAULT_REORDER_MAX - 1));

		delay = draw_delay(f) + DP_FAULT_REORDER_BOUND_US;
		if (hold(f, data, len, addr, addr_len, seq, now_us + delay, need))
			f->st.reordered++;
		else
			emit(f, data, len, addr, addr_len, seq, deliver, ctx);
		drain(f, deliver, ctx);
		return;
	}
	for (int i = 0; i < copies; i++) {
		delay = f->c.delay_us || f->c.jitter_us ? draw_delay(f) : 0;
		if (delay && hold(f, data, len, addr, addr_len, seq, now_us + delay, 0))
			f->st.delayed++;
		else
			emit(f, data, len, addr, addr_len, seq, deliver, ctx);
	}
	drain(f, deliver, ctx);
}

void dp_fault_stats(const struct dp_fault *f, struct dp_fault_stats *s)
{
	*s = f->st;
}
