/*
 * timerwheel.c - hierarchical timer wheel (Varghese & Lauck, "Hashed and hierarchical timing
 * wheels", SOSP 1987), with occupancy bitmaps so that a jump in time costs per non-empty slot,
 * not per tick.
 *
 * HOW IT WORKS
 *
 * Time is counted in ticks (when / tick_us); `cur` is the tick being processed. Level l has
 * 64 slots of 64^l ticks each; a timer due at tick t > cur sits at the lowest level whose
 * range covers t - cur, in slot (t >> 6l) & 63. A timer at or before cur sits in level 0's
 * slot for cur. So level 0 slots hold single ticks, and a slot of level l >= 1 holds timers
 * whose tick lies in one 64^l-tick period that starts after cur's. When cur enters a new
 * period of level l (its low 6l bits are zero) that level's slot for the period is
 * "cascaded": its timers are placed again, now at lower levels. Higher levels cascade first,
 * since their timers may land in a lower slot that cascades at the same tick.
 *
 * Advancing to now processes level 0's slot for cur (firing every timer <= now), then jumps
 * cur straight to the next tick at which a non-empty slot needs work — found per level with
 * one rotate and count-trailing-zeros on the level's 64-bit occupancy bitmap — or to now's
 * tick if nothing needs work before it. Timers in now's own tick that are later than now stay
 * in their slot and fire on a later call.
 *
 * Eight levels of 6 bits cover 2^48 ticks (8900 years at 1 ms). Timers further out wait in
 * an overflow list that is re-placed each time cur crosses a top-level period (2^42 ticks).
 *
 * LIMITATIONS: time going backwards is ignored (cur never decreases); a timer is never fired
 * early, and fires on the first advance whose now reaches it.
 */
#include <errno.h>
#include <stdlib.h>

#include "pg_assert.h"
#include "timerwheel.h"

#define NONE UINT32_MAX

enum {
	WHERE_NONE = 0, /* so calloc'd nodes are unscheduled */
	WHERE_OVERFLOW = 0xffff,
	TOP_SHIFT = PG_WHEEL_SLOT_BITS * (PG_WHEEL_LEVELS - 1),
};
_Static_assert(PG_WHEEL_LEVELS *PG_WHEEL_SLOTS < WHERE_OVERFLOW, "slot numbers fit in u16");

/* where = list + 1: 1..512 for level * 64 + slot, WHERE_OVERFLOW, or WHERE_NONE */
#define SLOT(level, slot) ((uint16_t)((level)*PG_WHEEL_SLOTS + (slot) + 1))
_Static_assert(PG_WHEEL_SLOTS == 64, "one 64-bit occupancy word per level");

struct node {
	uint64_t when;
	uint32_t next, prev;
	uint16_t where; /* SLOT(level, slot), WHERE_OVERFLOW or WHERE_NONE */
};

struct pg_wheel {
	uint64_t tick_us, cur;
	uint32_t cap, count;
	uint64_t bitmap[PG_WHEEL_LEVELS];
	uint32_t head[PG_WHEEL_LEVELS * PG_WHEEL_SLOTS];
	uint32_t overflow;
	/* nodes [touched, cap) were never scheduled: their memory is calloc's, maybe not yet
	 * mapped, and a read before the first write would map the zero page only for the
	 * write to fault again */
	uint32_t touched;
	struct node *nodes;
};

int pg_wheel_create(uint32_t capacity, uint64_t tick_us, uint64_t now_us, struct pg_wheel **out)
{
	struct pg_wheel *w;

	if (tick_us == 0 || capacity == 0 || capacity == NONE)
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->nodes = calloc(capacity, sizeof(*w->nodes));
	if (!w->nodes) {
		free(w);
		return -ENOMEM;
	}
	for (size_t i = 0; i < PG_ARRAY_SIZE(w->head); i++)
		w->head[i] = NONE;
	w->overflow = NONE;
	w->tick_us = tick_us;
	w->cur = now_us / tick_us;
	w->cap = capacity;
	*out = w;
	return 0;
}

void pg_wheel_destroy(struct pg_wheel *w)
{
	if (!w)
		return;
	free(w->nodes);
	free(w);
}

static uint32_t *list_of(struct pg_wheel *w, uint16_t where)
{
	return where == WHERE_OVERFLOW ? &w->overflow : &w->head[where - 1];
}

static void bit_set(struct pg_wheel *w, uint16_t where, bool on)
{
	uint64_t bit = 1ull << ((where - 1) % PG_WHEEL_SLOTS);

	if (where == WHERE_OVERFLOW)
		return;
	if (on)
		w->bitmap[(where - 1) / PG_WHEEL_SLOTS] |= bit;
	else
		w->bitmap[(where - 1) / PG_WHEEL_SLOTS] &= ~bit;
}

static void link_node(struct pg_wheel *w, uint32_t id, uint16_t where)
{
	struct node *n = &w->nodes[id];
	uint32_t *head = list_of(w, where);

	n->where = where;
	n->prev = NONE;
	n->next = *head;
	if (*head != NONE)
		w->nodes[*head].prev = id;
	*head = id;
	bit_set(w, where, true);
}

static void unlink_node(struct pg_wheel *w, uint32_t id)
{
	struct node *n = &w->nodes[id];
	uint32_t *head = list_of(w, n->where);

	if (n->prev != NONE)
		w->nodes[n->prev].next = n->next;
	else
		*head = n->next;
	if (n->next != NONE)
		w->nodes[n->next].prev = n->prev;
	if (*head == NONE)
		bit_set(w, n->where, false);
	n->where = WHERE_NONE;
}

/* Puts a node (its when set, not linked) where it belongs relative to cur. */
static void place(struct pg_wheel *w, uint32_t id)
{
	uint64_t t = w->nodes[id].when / w->tick_us;
	unsigned level;

	if (t <= w->cur) {
		link_node(w, id, SLOT(0, w->cur % PG_WHEEL_SLOTS));
		return;
	}
	level = (unsigned)(63 - __builtin_clzll(t - w->cur)) / PG_WHEEL_SLOT_BITS;
	if (level >= PG_WHEEL_LEVELS) {
		link_node(w, id, WHERE_OVERFLOW);
		return;
	}
	link_node(w, id, SLOT(level, (t >> (PG_WHEEL_SLOT_BITS * level)) % PG_WHEEL_SLOTS));
}

void pg_wheel_schedule(struct pg_wheel *w, uint32_t id, uint64_t when_us)
{
	bool fresh = id >= w->touched; /* never scheduled: not read (see touched) */

	PG_ASSERT(id < w->cap);
	if (fresh)
		w->touched = id + 1;
	if (!fresh && w->nodes[id].where != WHERE_NONE)
		unlink_node(w, id);
	else
		w->count++;
	w->nodes[id].when = when_us;
	place(w, id);
}

void pg_wheel_cancel(struct pg_wheel *w, uint32_t id)
{
	PG_ASSERT(id < w->cap);
	if (id >= w->touched || w->nodes[id].where == WHERE_NONE)
		return;
	unlink_node(w, id);
	w->count--;
}

bool pg_wheel_scheduled(const struct pg_wheel *w, uint32_t id)
{
	return id < w->touched && w->nodes[id].where != WHERE_NONE;
}

uint32_t pg_wheel_count(const struct pg_wheel *w)
{
	return w->count;
}

/* Detaches a whole list and places each of its nodes again relative to cur. */
static void replace_list(struct pg_wheel *w, uint16_t where)
{
	uint32_t id = *list_of(w, where);

	*list_of(w, where) = NONE;
	bit_set(w, where, false);
	while (id != NONE) {
		uint32_t next = w->nodes[id].next;

		w->nodes[id].where = WHERE_NONE;
		place(w, id);
		id = next;
	}
}

/* The work due at tick cur, which just became current: overflow, then levels top down. */
static void cascade(struct pg_wheel *w)
{
	if (w->overflow != NONE && (w->cur & ((1ull << TOP_SHIFT) - 1)) == 0)
		replace_list(w, WHERE_OVERFLOW);
	for (unsigned l = PG_WHEEL_LEVELS - 1; l >= 1; l--) {
		unsigned shift = PG_WHEEL_SLOT_BITS * l;

		if ((w->cur & ((1ull << shift) - 1)) != 0)
			continue;
		replace_list(w, SLOT(l, (w->cur >> shift) % PG_WHEEL_SLOTS));
	}
}

static uint64_t rotr64(uint64_t v, unsigned r)
{
	r &= 63;
	return r ? (v >> r) | (v << (64 - r)) : v;
}

/* The first tick after cur at which a non-empty slot (or the overflow list) needs work. */
static uint64_t next_event(const struct pg_wheel *w)
{
	uint64_t best = UINT64_MAX;

	for (unsigned l = 0; l < PG_WHEEL_LEVELS; l++) {
		unsigned shift = PG_WHEEL_SLOT_BITS * l;
		uint64_t base = w->cur >> shift, bm = w->bitmap[l], t;
		unsigned idx = (unsigned)(base % PG_WHEEL_SLOTS);

		if (!bm)
			continue;
		/* slot idx+k (k = 1..64, mod 64) is processed at the start of period base+k */
		t = (base + (uint64_t)__builtin_ctzll(rotr64(bm, idx + 1)) + 1) << shift;
		if (t < best)
			best = t;
	}
	if (w->overflow != NONE) {
		uint64_t t = ((w->cur >> TOP_SHIFT) + 1) << TOP_SHIFT;

		if (t < best)
			best = t;
	}
	return best;
}

uint64_t pg_wheel_advance(struct pg_wheel *w, uint64_t now_us, uint64_t max, pg_wheel_fire_fn fn,
			  void *arg)
{
	uint64_t target = now_us / w->tick_us, fired = 0, next;

	if (target < w->cur)
		target = w->cur;
	for (;;) {
		uint32_t id = w->head[w->cur % PG_WHEEL_SLOTS];

		while (id != NONE) {
			struct node *n = &w->nodes[id];
			uint32_t nid = n->next;

			if (n->when <= now_us) {
				if (fn(arg, id, n->when) < 0)
					return fired;
				unlink_node(w, id);
				w->count--;
				if (++fired == max)
					return fired;
			}
			id = nid;
		}
		if (w->cur >= target)
			break;
		next = next_event(w);
		if (next > target) {
			w->cur = target;
			break;
		}
		w->cur = next;
		cascade(w);
	}
	return fired;
}
