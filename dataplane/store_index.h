/*
 * store_index.h - the store's in-memory index: record key -> current copy, and the type and
 * creator lists that enumeration walks.
 *
 * Entries live in an array allocated once for max_records; their slot number is stable for
 * a record's life in the store, so the expiry wheel uses it as the timer id. The key table
 * is open addressing with linear probing (tombstone-free backward-shift deletion), at most
 * half full. Two more lists thread through the entries: one per record type and one per
 * creator, found in a group table keyed by a 64-bit hash of the type or creator bytes (equal
 * hashes share a list; enumeration compares the real bytes). Not thread-safe: the store
 * calls it under its lock.
 */
#ifndef PG_STORE_INDEX_H
#define PG_STORE_INDEX_H

#include <stdbool.h>
#include <stdint.h>

#include "record.h"

#define PG_INDEX_NONE UINT32_MAX

enum pg_index_list {
	PG_INDEX_BY_TYPE = 0,
	PG_INDEX_BY_CREATOR = 1,
};

struct pg_index_entry {
	struct pg_key key;
	uint8_t *ent; /* the log entry in the arena; NULL when the slot is free */
	uint64_t expires_us;
	uint32_t body_len; /* record bytes after the entry header */
	uint32_t block;	   /* arena block holding ent */
	uint32_t version;
	uint16_t flags;
	uint32_t next[2], prev[2]; /* type list, creator list */
	uint64_t ghash[2];	   /* their group hashes */
};

struct pg_index_group {
	uint64_t hash;
	uint32_t head;
	uint32_t count; /* 0: the group slot is empty */
	uint8_t list;
};

struct pg_index {
	struct pg_index_entry *e;
	uint64_t *slots; /* (uint32_t)key.lo << 32 | (entry + 1); 0 = empty */
	struct pg_index_group *groups;
	uint32_t cap, count, free_head;
	uint32_t hwm; /* entries [hwm, cap) have never been used */
	uint32_t mask, gmask, ngroups;
	uint32_t slots_max, groups_max; /* what the bound needs: the tables grow up to it */
};

/* Allocates an index for max_records entries. 0, -EINVAL or -ENOMEM. */
int pg_index_init(struct pg_index *x, uint32_t max_records);
/* Frees it. Cannot fail. */
void pg_index_fini(struct pg_index *x);
/* The entry holding key, or PG_INDEX_NONE. */
uint32_t pg_index_find(const struct pg_index *x, struct pg_key key);
/* Prefetches the slot where key's probe starts. Without the index's lock: the table pointer
 * and mask are read (and written, by a doubling) atomically, and a prefetch of an address a
 * doubling has just freed is harmless. */
void pg_index_prefetch(const struct pg_index *x, struct pg_key key);
/* Makes room for one more entry and two more groups, doubling a table if needed. 0 or
 * -ENOMEM. Call before pg_index_insert or pg_index_relink. */
int pg_index_reserve(struct pg_index *x);
/* Adds key (not present; count < cap, room reserved: asserted) on the lists of the two group
 * hashes and returns its entry, with ent still NULL for the caller to fill. Cannot fail. */
uint32_t pg_index_insert(struct pg_index *x, struct pg_key key, uint64_t type_hash,
			 uint64_t creator_hash);
/* Moves entry i to the list of another group hash (room reserved). Cannot fail. */
void pg_index_relink(struct pg_index *x, uint32_t i, enum pg_index_list list, uint64_t hash);
/* Removes an entry from the key table and its lists; the slot becomes free. Cannot fail. */
void pg_index_remove(struct pg_index *x, uint32_t i);
/* First entry on the list of a group hash, or PG_INDEX_NONE; continue with e[i].next[list]. */
uint32_t pg_index_first(const struct pg_index *x, enum pg_index_list list, uint64_t hash);

/* Group hashes of a record's type and creator. */
uint64_t pg_index_type_hash(const struct pg_guid *type);
uint64_t pg_index_creator_hash(const char *creator, uint16_t len);

#endif
