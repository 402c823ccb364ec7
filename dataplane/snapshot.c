/*
 * snapshot.c - writer and parser of the snapshot format of snapshot.h.
 *
 * The parser is pure (no I/O, no allocation) so recovery, import and the fuzzer share it. It
 * works in two passes: the first checks the frame, the checksum, the graph and decodes every
 * record; only when all of it holds does the second pass hand records to the caller, so a
 * rejected image never changes anything the caller owns.
 */
#include <string.h>

#include <xxhash.h>

#include "pg_assert.h"
#include "pg_bytes.h"
#include "pg_error.h"
#include "snapshot.h"

enum {
	SH_MAGIC = 0,
	SH_FMT = 4,
	SH_IDLEN = 6,
	SH_GRAPH = 8,
	SH_GEN = 16,
	SH_SEQ = 24,
	SH_COUNT = 32,
	SH_BYTES = 40,
	SH_CREATED = 48,
	SH_RSV = 56,
	SH_END = 64,
};
_Static_assert((int)SH_END == (int)PG_SNAP_HDR, "snapshot header is 64 bytes");

static uint64_t pad8(uint64_t n)
{
	return (n + 7) & ~(uint64_t)7;
}

uint64_t pg_snap_size(uint16_t id_len, uint64_t count, uint64_t padded_bytes)
{
	return PG_SNAP_HDR + pad8(id_len) + count * PG_SNAP_REC_HDR + padded_bytes +
	       PG_SNAP_TRAILER;
}

void pg_snap_begin(struct pg_snap_writer *w, uint8_t *buf, size_t cap, const char *graph_id,
		   uint16_t id_len, uint64_t log_gen, uint64_t seq, uint64_t count,
		   uint64_t created_us)
{
	size_t body = PG_SNAP_HDR + (size_t)pad8(id_len);

	PG_ASSERT(id_len <= PG_SNAP_ID_MAX && cap >= body + PG_SNAP_TRAILER);
	memset(buf, 0, body);
	store_le32(buf + SH_MAGIC, PG_SNAP_MAGIC);
	store_le16(buf + SH_FMT, PG_SNAP_FMT);
	store_le16(buf + SH_IDLEN, id_len);
	store_le64(buf + SH_GRAPH, pg_graph_key(graph_id, id_len));
	store_le64(buf + SH_GEN, log_gen);
	store_le64(buf + SH_SEQ, seq);
	store_le64(buf + SH_COUNT, count);
	store_le64(buf + SH_BYTES, cap - body - PG_SNAP_TRAILER);
	store_le64(buf + SH_CREATED, created_us);
	if (id_len)
		memcpy(buf + SH_END, graph_id, id_len);
	w->buf = buf;
	w->cap = cap;
	w->off = body;
	w->count = 0;
}

void pg_snap_add(struct pg_snap_writer *w, const uint8_t *rec, uint32_t len)
{
	size_t size = (size_t)pg_snap_record_size(len);

	PG_ASSERT(w->cap - PG_SNAP_TRAILER - w->off >= size);
	store_le32(w->buf + w->off, len);
	store_le32(w->buf + w->off + 4, 0);
	memcpy(w->buf + w->off + PG_SNAP_REC_HDR, rec, len);
	memset(w->buf + w->off + PG_SNAP_REC_HDR + len, 0, size - PG_SNAP_REC_HDR - len);
	w->off += size;
	w->count++;
}

size_t pg_snap_end(struct pg_snap_writer *w)
{
	PG_ASSERT(w->off + PG_SNAP_TRAILER == w->cap);
	PG_ASSERT(w->count == load_le64(w->buf + SH_COUNT));
	store_le64(w->buf + w->off, XXH3_64bits(w->buf, w->off));
	w->off += PG_SNAP_TRAILER;
	return w->off;
}

static bool zero_bytes(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* Walks the records section [off, end). With fn NULL it only validates. */
static int walk_records(const uint8_t *buf, size_t off, size_t end, uint64_t count,
			const struct pg_record_limits *lim, pg_snap_record_fn fn, void *arg)
{
	struct pg_record r;
	int err;

	for (uint64_t i = 0; i < count; i++) {
		uint32_t len;
		uint64_t size;

		if (end - off < PG_SNAP_REC_HDR)
			return PG_E_TRUNCATED;
		len = load_le32(buf + off);
		if (load_le32(buf + off + 4) != 0)
			return PG_E_BAD_FORMAT;
		size = pg_snap_record_size(len);
		if (size > end - off)
			return PG_E_LENGTH;
		if (!zero_bytes(buf + off + PG_SNAP_REC_HDR + len,
				(size_t)size - PG_SNAP_REC_HDR - len))
			return PG_E_BAD_FORMAT;
		if ((err = pg_record_decode(buf + off + PG_SNAP_REC_HDR, len, lim, &r)))
			return err;
		if (fn && (err = fn(arg, &r, buf + off + PG_SNAP_REC_HDR, len)))
			return err;
		off += (size_t)size;
	}
	return off == end ? 0 : PG_E_TRAILING;
}

int pg_snap_parse(const uint8_t *buf, size_t len, uint64_t graph_key,
		  const struct pg_record_limits *lim, pg_snap_record_fn fn, void *arg,
		  struct pg_snap_info *info)
{
	uint64_t count, bytes, key, total, start;
	uint16_t id_len;
	int err;

	if (len < PG_SNAP_HDR)
		return PG_E_TRUNCATED;
	if (load_le32(buf + SH_MAGIC) != PG_SNAP_MAGIC)
		return PG_E_BAD_MAGIC;
	if (load_le16(buf + SH_FMT) != PG_SNAP_FMT || load_le64(buf + SH_RSV) != 0)
		return PG_E_BAD_FORMAT;
	id_len = load_le16(buf + SH_IDLEN);
	if (id_len > PG_SNAP_ID_MAX)
		return PG_E_LENGTH;
	count = load_le64(buf + SH_COUNT);
	bytes = load_le64(buf + SH_BYTES);
	start = PG_SNAP_HDR + pad8(id_len);
	/* every record takes at least its frame and a record header, so count is bounded by
	 * bytes, and bytes by the input: no sum below can overflow */
	if (bytes > len || count > bytes / (PG_SNAP_REC_HDR + PG_RECORD_HDR_LEN))
		return PG_E_LENGTH;
	total = start + bytes + PG_SNAP_TRAILER;
	if (len < total)
		return PG_E_TRUNCATED;
	if (len > total)
		return PG_E_TRAILING;
	if (load_le64(buf + total - PG_SNAP_TRAILER) != XXH3_64bits(buf, total - PG_SNAP_TRAILER))
		return PG_E_CHECKSUM;
	key = load_le64(buf + SH_GRAPH);
	if (graph_key && key != graph_key)
		return PG_E_GRAPH_MISMATCH;
	if (key != pg_graph_key((const char *)buf + SH_END, id_len) ||
	    !zero_bytes(buf + SH_END + id_len, (size_t)(start - SH_END - id_len)))
		return PG_E_BAD_FORMAT;
	if ((err =
		 walk_records(buf, (size_t)start, (size_t)(start + bytes), count, lim, NULL, NULL)))
		return err;
	if (info) {
		info->graph_key = key;
		info->log_gen = load_le64(buf + SH_GEN);
		info->seq = load_le64(buf + SH_SEQ);
		info->count = count;
		info->created_us = load_le64(buf + SH_CREATED);
		info->graph_id = (const char *)buf + SH_END;
		info->graph_id_len = id_len;
	}
	if (!fn)
		return 0;
	return walk_records(buf, (size_t)start, (size_t)(start + bytes), count, lim, fn, arg);
}
