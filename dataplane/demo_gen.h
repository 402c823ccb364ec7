/*
 * demo_gen.h - the workload of the single-node demonstration (peergraph-demo).
 *
 * A deterministic script of record operations: creations, duplicate deliveries (the same
 * copy arriving from a second neighbour), stale copies, updates, tombstones and short-lived
 * records that expire during the run. The script also keeps the model of what the node's
 * database must hold at the end, so the demo can check the node against it.
 */
#ifndef PG_DEMO_GEN_H
#define PG_DEMO_GEN_H

#include <stdbool.h>
#include <stdint.h>

#include "record.h"

struct demo_gen_config {
	uint32_t records;	 /* distinct records created */
	uint32_t payload;	 /* payload bytes per record */
	uint32_t update_pct;	 /* % of records updated once (version 2) */
	uint32_t delete_pct;	 /* % of records deleted (tombstone, version 3) */
	uint32_t shortlived_pct; /* % of records that expire during the run */
	uint64_t shortlived_us;	 /* lifetime of a short-lived record */
	uint64_t lifetime_us;	 /* lifetime of every other record */
	uint64_t seed;
};

enum demo_op_kind {
	DEMO_CREATE, /* version 1 */
	DEMO_UPDATE, /* version 2, new modifier and payload */
	DEMO_DELETE, /* version 3, tombstone */
};

/* One record copy to send, built into caller storage by demo_gen_make(). */
struct demo_op {
	uint32_t index; /* record number 0 .. records-1 */
	enum demo_op_kind kind;
};

/* What the database must hold at the end, counted by the script. */
struct demo_model {
	uint64_t live;	     /* records present and not deleted */
	uint64_t tombstones; /* deleted records whose tombstone has not expired */
	uint64_t expired;    /* records that expire during the run */
};

/* Fills rec (a view) for op, writing payload and attribute bytes into buf (>= payload + 256
 * bytes). now_us is the creation time of the whole run. */
void demo_gen_make(const struct demo_gen_config *c, const struct demo_op *op, uint64_t now_us,
		   struct pg_record *rec, uint8_t *buf);
/* True when record index is updated / deleted / short-lived in this script. */
bool demo_gen_updated(const struct demo_gen_config *c, uint32_t index);
bool demo_gen_deleted(const struct demo_gen_config *c, uint32_t index);
bool demo_gen_shortlived(const struct demo_gen_config *c, uint32_t index);
/* The model of the final database once every short-lived record has expired. */
void demo_gen_model(const struct demo_gen_config *c, struct demo_model *m);

#endif
