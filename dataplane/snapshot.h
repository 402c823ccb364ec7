/*
 * snapshot.h - a graph database as one file: compaction snapshots and export/import.
 *
 * The same format serves both: compaction writes it as `snap` beside the log files (naming
 * the first log generation to replay after it), export writes it wherever it is told (log
 * generation 0, seq 0), import reads it back. All integers are little-endian.
 *
 *   header (64) = u32 magic "PGSN" | u16 fmt (=1) | u16 graph id length (<= 256)
 *                 | u64 graph key | u64 log generation | u64 seq | u64 record count
 *                 | u64 record bytes | u64 created (us) | u64 reserved (=0)
 *   graph id    = id bytes, zero padding to 8
 *   records     = count x { u32 record length | u32 reserved (=0) | record | zero pad to 8 }
 *                 (record bytes = the size of this section)
 *   trailer (8) = u64 XXH3-64 of every byte before it (seed 0)
 *
 * The graph key must be pg_graph_key(graph id). The checksum is unseeded so a sound file of
 * another graph reports PG_E_GRAPH_MISMATCH, not PG_E_CHECKSUM.
 */
#ifndef PG_SNAPSHOT_H
#define PG_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"

enum {
	PG_SNAP_MAGIC = 0x4e534750, /* "PGSN" */
	PG_SNAP_FMT = 1,
	PG_SNAP_HDR = 64,
	PG_SNAP_REC_HDR = 8,
	PG_SNAP_TRAILER = 8,
	PG_SNAP_ID_MAX = 256,
};

struct pg_snap_info {
	uint64_t graph_key;
	uint64_t log_gen;
	uint64_t seq;
	uint64_t count;
	uint64_t created_us;
	const char *graph_id; /* points into the image */
	uint16_t graph_id_len;
};

/* Called once per record, in file order, after the whole image was validated; rec is a view
 * over the image, raw/raw_len its encoded bytes. Non-zero stops the walk and is returned. */
typedef int (*pg_snap_record_fn)(void *arg, const struct pg_record *rec, const uint8_t *raw,
				 uint32_t raw_len);

/* Bytes of a snapshot for a graph id of id_len bytes holding count records whose lengths,
 * each rounded up to a multiple of 8, add up to padded_bytes. */
uint64_t pg_snap_size(uint16_t id_len, uint64_t count, uint64_t padded_bytes);

/* Bytes one record of len bytes takes in the records section. */
static inline uint64_t pg_snap_record_size(uint64_t len)
{
	return PG_SNAP_REC_HDR + ((len + 7) & ~(uint64_t)7);
}

/* Incremental writer into a buffer of exactly pg_snap_size() bytes. */
struct pg_snap_writer {
	uint8_t *buf;
	size_t cap, off;
	uint64_t count;
};

/* Writes the header; cap must be pg_snap_size(id_len, count, padded_bytes). Cannot fail. */
void pg_snap_begin(struct pg_snap_writer *w, uint8_t *buf, size_t cap, const char *graph_id,
		   uint16_t id_len, uint64_t log_gen, uint64_t seq, uint64_t count,
		   uint64_t created_us);
/* Appends one encoded record. Cannot fail: the caller sized the buffer (asserted). */
void pg_snap_add(struct pg_snap_writer *w, const uint8_t *rec, uint32_t len);
/* Writes the trailer; returns the image length (== cap, asserted). */
size_t pg_snap_end(struct pg_snap_writer *w);

/* Parses a snapshot image from memory: checks every length before reading it, the checksum,
 * the graph (graph_key 0 accepts any), and decodes every record under lim; only then walks
 * the records through fn (may be NULL). 0, or PG_E_TRUNCATED / _BAD_MAGIC / _BAD_FORMAT /
 * _LENGTH / _TRAILING / _CHECKSUM / _GRAPH_MISMATCH / a record decode error, or fn's result.
 * On any error other than fn's, fn was never called. info may be NULL. */
int pg_snap_parse(const uint8_t *buf, size_t len, uint64_t graph_key,
		  const struct pg_record_limits *lim, pg_snap_record_fn fn, void *arg,
		  struct pg_snap_info *info);

#endif
