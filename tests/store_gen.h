/*
 * store_gen.h - deterministic records for the store tests and the crash writer (store_writer.c),
 * so both sides of a SIGKILL agree byte for byte on what record n at version v must be.
 *
 * The crash workload: operation j creates record j at version 1, except every eighth
 * (j % 8 == 7), which updates record j - 7 to version 2.
 */
#ifndef PG_STORE_GEN_H
#define PG_STORE_GEN_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "pg_bytes.h"
#include "record.h"

#define SG_T0	   1700000000000000ull		       /* base wall clock of the tests (2023) */
#define SG_FAR	   (SG_T0 + 3650ull * 86400 * 1000000) /* ten years later */
#define SG_GRAPH   "store-test-graph"
#define SG_PAYLOAD 128
#define SG_TAG	   0x5354 /* "ST" in the first id bytes */

static inline void sg_id(struct pg_guid *g, uint64_t n)
{
	memset(g, 0, sizeof(*g));
	store_le16(g->b, SG_TAG);
	store_le64(g->b + 8, n);
}

/* The n of an id made by sg_id, or UINT64_MAX. */
static inline uint64_t sg_id_n(const struct pg_guid *g)
{
	return load_le16(g->b) == SG_TAG ? load_le64(g->b + 8) : UINT64_MAX;
}

/* Encodes crash-workload record n at version v into buf; returns its length (or < 0). */
static inline long sg_record(uint8_t *buf, size_t cap, uint64_t n, uint32_t v)
{
	static const uint8_t empty[1];
	struct pg_record_limits lim = { .max_record_size = PG_RECORD_SIZE_DEFAULT };
	uint8_t payload[SG_PAYLOAD];
	uint64_t x = n * 0x9e3779b97f4a7c15ull + v;
	struct pg_record r;

	for (int i = 0; i < SG_PAYLOAD; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		payload[i] = (uint8_t)x;
	}
	memset(&r, 0, sizeof(r));
	sg_id(&r.id, n);
	r.type.b[0] = 1;
	r.version = v;
	r.creator = "writer";
	r.creator_len = 6;
	r.modifier = v > 1 ? "writer" : "";
	r.modifier_len = v > 1 ? 6 : 0;
	r.created_us = SG_T0 + n;
	r.modified_us = r.created_us + v;
	r.expires_us = SG_FAR;
	r.attrs = empty;
	r.payload = payload;
	r.payload_len = SG_PAYLOAD;
	return pg_record_encode(&r, &lim, buf, cap);
}

/* The operation j of the crash workload: which record, at which version. */
static inline void sg_op(uint64_t j, uint64_t *n, uint32_t *v)
{
	*n = j % 8 == 7 ? j - 7 : j;
	*v = j % 8 == 7 ? 2 : 1;
}

#endif
