/*
 * store_index.c - key table and group lists of the store (see store_index.h).
 *
 * Both tables use linear probing at most half full with backward-shift deletion (Knuth,
 * TAOCP vol. 3, 6.4 Algorithm R): removing an item moves later items of its probe run back
 * into the hole, so no tombstones accumulate and lookups stay short under churn. Record keys
 * are already XXH3 outputs, so their low bits index the key table directly.
 *
 * Both tables start small and double (pg_index_reserve, before an insert) up to the size the
 * record bound needs: a table sized for the bound up front would be touched at random, one
 * fresh page per insert, long before it holds anything like that many keys. A key slot keeps
 * the low 32 bits of the key beside the entry number, so doubling rehashes from the slots
 * alone (sequential reads) without touching the entries. The doubling is O(n) under the store
 * lock, amortized O(1) per insert.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "store_index.h"
#include "pg_assert.h"
#include "pg_atomic.h"

static uint32_t pow2_at_least(uint64_t n)
{
	uint64_t p = 16;

	while (p < n)
		p <<= 1;
	return p > UINT32_MAX ? 0 : (uint32_t)p;
}

enum {
	SLOTS_START = 1 << 12,
	GROUPS_START = 1 << 8,
};

static uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

int pg_index_init(struct pg_index *x, uint32_t max_records)
{
	uint32_t size, gsize;

	memset(x, 0, sizeof(*x));
	if (max_records == 0 || max_records >= (1u << 28))
		return -EINVAL;
	x->slots_max = pow2_at_least(2ull * max_records);
	x->groups_max = pow2_at_least(4ull * max_records);
	size = min_u32(x->slots_max, SLOTS_START);
	gsize = min_u32(x->groups_max, GROUPS_START);
	/* calloc'd entries are touched in order, from the bottom: a large bound costs address
	 * space, not memory */
	x->e = calloc(max_records, sizeof(*x->e));
	x->slots = calloc(size, sizeof(*x->slots));
	x->groups = calloc(gsize, sizeof(*x->groups));
	if (!x->e || !x->slots || !x->groups) {
		pg_index_fini(x);
		return -ENOMEM;
	}
	/* nothing to initialise: zero is an empty slot and an empty group, and entries are
	 * taken from hwm upwards until some are freed */
	x->free_head = PG_INDEX_NONE;
	x->cap = max_records;
	x->mask = size - 1;
	x->gmask = gsize - 1;
	return 0;
}

void pg_index_fini(struct pg_index *x)
{
	free(x->e);
	free(x->slots);
	free(x->groups);
	memset(x, 0, sizeof(*x));
}

static uint64_t slot_val(struct pg_key key, uint32_t i)
{
	return (uint64_t)(uint32_t)key.lo << 32 | ((uint64_t)i + 1);
}

uint32_t pg_index_find(const struct pg_index *x, struct pg_key key)
{
	uint64_t tag = (uint64_t)(uint32_t)key.lo << 32;

	for (uint32_t p = (uint32_t)key.lo & x->mask;; p = (p + 1) & x->mask) {
		uint64_t v = x->slots[p];
		uint32_t i;

		if (v == 0)
			return PG_INDEX_NONE;
		if ((v & ~0xffffffffull) != tag)
			continue;
		i = (uint32_t)v - 1;
		if (pg_key_eq(x->e[i].key, key))
			return i;
	}
}

void pg_index_prefetch(const struct pg_index *x, struct pg_key key)
{
	uintptr_t slots = (uintptr_t)pg_load_hint(&x->slots);
	uint32_t p = (uint32_t)key.lo & pg_load_hint(&x->mask);

	/* integer arithmetic: a mask newer than the pointer may point past the old table */
	__builtin_prefetch((const void *)(slots + (uintptr_t)p * sizeof(uint64_t)), 1, 3);
}

static uint32_t group_home(const struct pg_index *x, uint64_t hash, uint8_t list)
{
	return (uint32_t)(hash ^ list) & x->gmask;
}

/* The group slot of (list, hash), or the empty slot where it would go. */
static uint32_t group_slot(const struct pg_index *x, enum pg_index_list list, uint64_t hash)
{
	uint32_t p = group_home(x, hash, (uint8_t)list);

	while (x->groups[p].count != 0 && !(x->groups[p].hash == hash && x->groups[p].list == list))
		p = (p + 1) & x->gmask;
	return p;
}

static void list_add(struct pg_index *x, uint32_t i, enum pg_index_list list, uint64_t hash)
{
	uint32_t g = group_slot(x, list, hash);
	struct pg_index_group *grp = &x->groups[g];
	struct pg_index_entry *e = &x->e[i];

	if (grp->count == 0) {
		grp->hash = hash;
		grp->list = (uint8_t)list;
		grp->head = PG_INDEX_NONE;
		x->ngroups++;
	}
	e->prev[list] = PG_INDEX_NONE;
	e->next[list] = grp->head;
	if (grp->head != PG_INDEX_NONE)
		x->e[grp->head].prev[list] = i;
	grp->head = i;
	grp->count++;
	e->ghash[list] = hash;
}

/* Removes group slot g, shifting later members of its probe run back (Algorithm R). */
static void group_delete(struct pg_index *x, uint32_t g)
{
	uint32_t hole = g;

	for (uint32_t p = (g + 1) & x->gmask; x->groups[p].count != 0; p = (p + 1) & x->gmask) {
		struct pg_index_group *q = &x->groups[p];
		uint32_t home = group_home(x, q->hash, q->list);

		/* q may move into the hole when its home is not cyclically in (hole, p] */
		if (((p - home) & x->gmask) >= ((p - hole) & x->gmask)) {
			x->groups[hole] = *q;
			hole = p;
		}
	}
	memset(&x->groups[hole], 0, sizeof(x->groups[hole]));
	x->ngroups--;
}

static void list_del(struct pg_index *x, uint32_t i, enum pg_index_list list)
{
	struct pg_index_entry *e = &x->e[i];
	uint32_t g = group_slot(x, list, e->ghash[list]);
	struct pg_index_group *grp = &x->groups[g];

	if (e->prev[list] != PG_INDEX_NONE)
		x->e[e->prev[list]].next[list] = e->next[list];
	else
		grp->head = e->next[list];
	if (e->next[list] != PG_INDEX_NONE)
		x->e[e->next[list]].prev[list] = e->prev[list];
	if (--grp->count == 0) {
		PG_ASSERT(grp->head == PG_INDEX_NONE);
		group_delete(x, g);
	}
}

/* Doubles the key table: every slot is placed again from its own bits. */
static int grow_slots(struct pg_index *x)
{
	uint32_t size = (x->mask + 1) * 2, mask = size - 1;
	uint64_t *n = calloc(size, sizeof(*n));

	if (!n)
		return -ENOMEM;
	for (uint32_t p = 0; p <= x->mask; p++) {
		uint64_t v = x->slots[p];
		uint32_t q;

		if (!v)
			continue;
		for (q = (uint32_t)(v >> 32) & mask; n[q]; q = (q + 1) & mask)
			;
		n[q] = v;
	}
	free(x->slots);
	/* atomic: pg_index_prefetch reads them without the lock */
	pg_store_hint(&x->slots, n);
	pg_store_hint(&x->mask, mask);
	return 0;
}

static int grow_groups(struct pg_index *x)
{
	uint32_t size = (x->gmask + 1) * 2, mask = size - 1;
	struct pg_index_group *n = calloc(size, sizeof(*n));

	if (!n)
		return -ENOMEM;
	for (uint32_t p = 0; p <= x->gmask; p++) {
		const struct pg_index_group *g = &x->groups[p];
		uint32_t q;

		if (!g->count)
			continue;
		for (q = (uint32_t)(g->hash ^ g->list) & mask; n[q].count; q = (q + 1) & mask)
			;
		n[q] = *g;
	}
	free(x->groups);
	x->groups = n;
	x->gmask = mask;
	return 0;
}

int pg_index_reserve(struct pg_index *x)
{
	int err;

	if (2ull * (x->count + 1) > (uint64_t)x->mask + 1 && x->mask + 1 < x->slots_max &&
	    (err = grow_slots(x)))
		return err;
	if (2ull * (x->ngroups + 2) > (uint64_t)x->gmask + 1 && x->gmask + 1 < x->groups_max &&
	    (err = grow_groups(x)))
		return err;
	return 0;
}

uint32_t pg_index_insert(struct pg_index *x, struct pg_key key, uint64_t type_hash,
			 uint64_t creator_hash)
{
	uint32_t i = x->free_head, p;

	PG_ASSERT(x->count < x->cap && 2ull * (x->count + 1) <= (uint64_t)x->mask + 1);
	if (i != PG_INDEX_NONE)
		x->free_head = x->e[i].next[0];
	else
		i = x->hwm; /* count < cap and no free entry: hwm < cap */
	memset(&x->e[i], 0, sizeof(x->e[i]));
	x->e[i].key = key;
	for (p = (uint32_t)key.lo & x->mask; x->slots[p] != 0; p = (p + 1) & x->mask)
		;
	x->slots[p] = slot_val(key, i);
	list_add(x, i, PG_INDEX_BY_TYPE, type_hash);
	list_add(x, i, PG_INDEX_BY_CREATOR, creator_hash);
	x->count++;
	if (i >= x->hwm)
		x->hwm = i + 1;
	return i;
}

void pg_index_relink(struct pg_index *x, uint32_t i, enum pg_index_list list, uint64_t hash)
{
	if (x->e[i].ghash[list] == hash)
		return;
	list_del(x, i, list);
	list_add(x, i, list, hash);
}

void pg_index_remove(struct pg_index *x, uint32_t i)
{
	struct pg_index_entry *e = &x->e[i];
	uint32_t hole, p;

	PG_ASSERT(i < x->cap && e->ent != NULL);
	for (hole = (uint32_t)e->key.lo & x->mask; x->slots[hole] != slot_val(e->key, i);
	     hole = (hole + 1) & x->mask)
		PG_DEBUG_ASSERT(x->slots[hole] != 0);
	for (p = (hole + 1) & x->mask; x->slots[p] != 0; p = (p + 1) & x->mask) {
		uint32_t m = (uint32_t)x->slots[p] - 1;
		uint32_t home = (uint32_t)x->e[m].key.lo & x->mask;

		if (((p - home) & x->mask) >= ((p - hole) & x->mask)) {
			x->slots[hole] = x->slots[p];
			hole = p;
		}
	}
	x->slots[hole] = 0;
	list_del(x, i, PG_INDEX_BY_TYPE);
	list_del(x, i, PG_INDEX_BY_CREATOR);
	memset(e, 0, sizeof(*e));
	e->next[0] = x->free_head;
	x->free_head = i;
	x->count--;
}

uint32_t pg_index_first(const struct pg_index *x, enum pg_index_list list, uint64_t hash)
{
	uint32_t g = group_slot(x, list, hash);

	return x->groups[g].count ? x->groups[g].head : PG_INDEX_NONE;
}

uint64_t pg_index_type_hash(const struct pg_guid *type)
{
	return XXH3_64bits_withSeed(type->b, sizeof(type->b), 0x74797065); /* "type" */
}

uint64_t pg_index_creator_hash(const char *creator, uint16_t len)
{
	return XXH3_64bits_withSeed(creator, len, 0x63726561); /* "crea" */
}
