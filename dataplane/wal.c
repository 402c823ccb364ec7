/*
 * wal.c - the log format of wal.h: headers, entry sealing, and the scanner recovery and the
 * fuzzer share.
 *
 * TORN TAIL OR CORRUPTION
 *
 * The committer writes one block per group commit and fdatasync()s it before writing the
 * next (store_commit.c), and a file is only rotated away from once its last block is durable.
 * So after a crash at most one block can be partly on disk: the last block of the newest
 * file, and only its bytes were never acknowledged. The scanner therefore calls a bad block
 * (or a bad file header) *torn* when no valid block follows it anywhere in the image: the
 * caller truncates the file there and loses nothing it acknowledged. If a valid block does
 * follow, the bad block had been durable when that later one was written, so the bytes rotted
 * or were overwritten after the fact: that is corruption, and recovery refuses to open the
 * store (PG_E_CHECKSUM) rather than silently dropping acknowledged records.
 *
 * LIMITATION: a record payload may itself contain bytes that form a valid block (the format
 * is public and XXH3 is not keyed). Such a record sitting after a torn block makes the torn
 * tail look like corruption, so the store refuses to open: an availability failure, never a
 * bad entry accepted.
 */
#include <string.h>

#include <xxhash.h>

#include "pg_assert.h"
#include "pg_bytes.h"
#include "pg_error.h"
#include "wal.h"

/* File header offsets. */
enum {
	FH_MAGIC = 0,
	FH_FMT = 4,
	FH_DATA = 6,
	FH_GRAPH = 8,
	FH_GEN = 16,
	FH_SUM = 24,
	FH_END = 32,
};
_Static_assert((int)FH_END == (int)PG_LOG_FILE_HDR, "log file header is 32 bytes");

/* Block header offsets. */
enum {
	BH_MAGIC = 0,
	BH_COUNT = 4,
	BH_BYTES = 8,
	BH_PAD = 12,
	BH_FIRST = 16,
	BH_SUM = 24,
	BH_END = 32,
};
_Static_assert((int)BH_END == (int)PG_LOG_BLOCK_HDR, "block header is 32 bytes");

/* Entry header offsets. */
enum {
	EH_LEN = 0,
	EH_KIND = 4,
	EH_RSV8 = 5,
	EH_RSV16 = 6,
	EH_SEQ = 8,
	EH_SUM = 16,
	EH_END = 24,
};
_Static_assert((int)EH_END == (int)PG_LOG_ENTRY_HDR, "entry header is 24 bytes");
_Static_assert((int)EH_KIND == (int)PG_LOG_ENTRY_KIND_OFF, "kind offset is public");
_Static_assert(PG_LOG_ENTRY_HDR % 8 == 0 && PG_LOG_BLOCK_HDR % 8 == 0, "8-byte framing");

static bool data_off_ok(uint32_t off)
{
	return off >= PG_LOG_FILE_HDR && off <= PG_LOG_ALIGN && off % 8 == 0;
}

void pg_log_file_header(uint8_t *out, uint64_t graph_key, uint64_t gen, uint16_t data_off)
{
	PG_ASSERT(data_off_ok(data_off));
	memset(out + FH_END, 0, data_off - FH_END);
	store_le32(out + FH_MAGIC, PG_LOG_MAGIC);
	store_le16(out + FH_FMT, PG_LOG_FMT);
	store_le16(out + FH_DATA, data_off);
	store_le64(out + FH_GRAPH, graph_key);
	store_le64(out + FH_GEN, gen);
	store_le64(out + FH_SUM, XXH3_64bits(out, FH_SUM));
}

void pg_log_block_header(uint8_t out[PG_LOG_BLOCK_HDR], uint64_t graph_key, uint64_t first_seq,
			 uint32_t count, uint32_t bytes, uint32_t pad)
{
	store_le32(out + BH_MAGIC, PG_LOG_BLOCK_MAGIC);
	store_le32(out + BH_COUNT, count);
	store_le32(out + BH_BYTES, bytes);
	store_le32(out + BH_PAD, pad);
	store_le64(out + BH_FIRST, first_seq);
	store_le64(out + BH_SUM, XXH3_64bits_withSeed(out, BH_SUM, graph_key));
}

uint64_t pg_log_body_hash(const void *body, size_t len, uint64_t graph_key)
{
	return XXH3_64bits_withSeed(body, len, graph_key);
}

void pg_log_entry_seal(uint8_t *ent, uint8_t kind, uint32_t len, uint64_t seq, uint64_t body_hash)
{
	size_t pad = (size_t)(pg_log_entry_size(len) - PG_LOG_ENTRY_HDR - len);

	store_le32(ent + EH_LEN, len);
	ent[EH_KIND] = kind;
	ent[EH_RSV8] = 0;
	store_le16(ent + EH_RSV16, 0);
	store_le64(ent + EH_SEQ, seq);
	store_le64(ent + EH_SUM, XXH3_64bits_withSeed(ent, EH_SUM, body_hash));
	if (pad)
		memset(ent + EH_END + len, 0, pad);
}

static bool zero_bytes(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* Checks one entry at buf[off..end): every length before it is read. */
static int check_entry(const uint8_t *buf, size_t off, size_t end, uint64_t graph_key,
		       uint64_t want_seq, size_t *next)
{
	const uint8_t *e = buf + off;
	uint64_t size, hb;
	uint32_t len;

	if (end - off < PG_LOG_ENTRY_HDR)
		return PG_E_LENGTH;
	len = load_le32(e + EH_LEN);
	size = pg_log_entry_size(len);
	if (size > end - off)
		return PG_E_LENGTH;
	if ((e[EH_KIND] != PG_LOG_PUT && e[EH_KIND] != PG_LOG_REMOVE) || e[EH_RSV8] != 0 ||
	    load_le16(e + EH_RSV16) != 0)
		return PG_E_BAD_FORMAT;
	if (e[EH_KIND] == PG_LOG_REMOVE && len != PG_LOG_REMOVE_LEN)
		return PG_E_BAD_FORMAT;
	if (load_le64(e + EH_SEQ) != want_seq)
		return PG_E_BAD_FORMAT;
	if (!zero_bytes(e + EH_END + len, (size_t)size - EH_END - len))
		return PG_E_BAD_FORMAT;
	hb = pg_log_body_hash(e + EH_END, len, graph_key);
	if (load_le64(e + EH_SUM) != XXH3_64bits_withSeed(e, EH_SUM, hb))
		return PG_E_CHECKSUM;
	*next = off + (size_t)size;
	return 0;
}

/* Checks the whole block at buf[off..len). want_seq 0 accepts any first sequence number.
 * On success *next is the offset after it. */
static int check_block(const uint8_t *buf, size_t len, size_t off, uint64_t graph_key,
		       uint64_t want_seq, size_t *next)
{
	const uint8_t *h = buf + off;
	uint32_t count, bytes, pad;
	uint64_t first;
	size_t p, end;
	int err;

	if (len - off < PG_LOG_BLOCK_HDR)
		return PG_E_TRUNCATED;
	if (load_le32(h + BH_MAGIC) != PG_LOG_BLOCK_MAGIC)
		return PG_E_BAD_MAGIC;
	if (load_le64(h + BH_SUM) != XXH3_64bits_withSeed(h, BH_SUM, graph_key))
		return PG_E_CHECKSUM;
	count = load_le32(h + BH_COUNT);
	bytes = load_le32(h + BH_BYTES);
	pad = load_le32(h + BH_PAD);
	first = load_le64(h + BH_FIRST);
	if (pad >= PG_LOG_ALIGN || pad % 8 != 0 || count == 0 || bytes % 8 != 0 ||
	    count > bytes / PG_LOG_ENTRY_HDR || first == 0 || first > UINT64_MAX - count)
		return PG_E_BAD_FORMAT;
	if (want_seq && first != want_seq)
		return PG_E_BAD_FORMAT;
	if (bytes > PG_LOG_BLOCK_MAX)
		return PG_E_LENGTH;
	if (bytes > len - off - PG_LOG_BLOCK_HDR)
		return PG_E_TRUNCATED;
	p = off + PG_LOG_BLOCK_HDR;
	end = p + bytes;
	for (uint32_t i = 0; i < count; i++)
		if ((err = check_entry(buf, p, end, graph_key, first + i, &p)))
			return err;
	if (p != end)
		return PG_E_TRAILING;
	if (pad > len - end)
		return PG_E_TRUNCATED;
	if (!zero_bytes(buf + end, pad))
		return PG_E_BAD_FORMAT;
	*next = end + pad;
	return 0;
}

/* True when some 8-aligned offset at or after from starts a valid block whose first
 * sequence number is above after_seq: evidence that the bad bytes before it were durable. */
static bool valid_block_after(const uint8_t *buf, size_t len, size_t from, uint64_t graph_key,
			      uint64_t after_seq)
{
	size_t next;

	for (size_t o = (from + 7) & ~(size_t)7; o < len && len - o >= PG_LOG_BLOCK_HDR; o += 8) {
		if (load_le32(buf + o) != PG_LOG_BLOCK_MAGIC)
			continue;
		if (check_block(buf, len, o, graph_key, 0, &next) == 0 &&
		    load_le64(buf + o + BH_FIRST) > after_seq)
			return true;
	}
	return false;
}

static int check_file_header(const uint8_t *buf, size_t len, uint64_t graph_key,
			     struct pg_log_scan *res)
{
	if (len < PG_LOG_FILE_HDR)
		return PG_E_TRUNCATED;
	if (load_le32(buf + FH_MAGIC) != PG_LOG_MAGIC)
		return PG_E_BAD_MAGIC;
	if (load_le64(buf + FH_SUM) != XXH3_64bits(buf, FH_SUM))
		return PG_E_CHECKSUM;
	res->header_ok = true;
	res->graph_key = load_le64(buf + FH_GRAPH);
	res->gen = load_le64(buf + FH_GEN);
	res->data_off = load_le16(buf + FH_DATA);
	if (load_le16(buf + FH_FMT) != PG_LOG_FMT || !data_off_ok(res->data_off))
		return PG_E_BAD_FORMAT;
	if (res->graph_key != graph_key)
		return PG_E_GRAPH_MISMATCH;
	/* the header page may be torn after the sound header: no block can be trusted then */
	if (len < res->data_off)
		return PG_E_TRUNCATED;
	if (!zero_bytes(buf + FH_END, res->data_off - FH_END))
		return PG_E_CHECKSUM;
	return 0;
}

/* Yields the entries of a block check_block() accepted. */
static int emit_block(const uint8_t *buf, size_t off, pg_log_entry_fn fn, void *arg)
{
	uint32_t count = load_le32(buf + off + BH_COUNT);
	size_t p = off + PG_LOG_BLOCK_HDR;
	struct pg_log_entry e;
	int err;

	for (uint32_t i = 0; i < count; i++) {
		e.len = load_le32(buf + p + EH_LEN);
		e.kind = buf[p + EH_KIND];
		e.seq = load_le64(buf + p + EH_SEQ);
		e.body = buf + p + PG_LOG_ENTRY_HDR;
		e.offset = p;
		e.block_offset = off;
		if ((err = fn(arg, &e)))
			return err;
		p += (size_t)pg_log_entry_size(e.len);
	}
	return 0;
}

int pg_log_scan(const uint8_t *buf, size_t len, uint64_t graph_key, pg_log_entry_fn fn, void *arg,
		struct pg_log_scan *res)
{
	size_t off, next;
	uint64_t want = 0;
	int err;

	memset(res, 0, sizeof(*res));
	err = check_file_header(buf, len, graph_key, res);
	if (err == PG_E_BAD_FORMAT || err == PG_E_GRAPH_MISMATCH)
		return err; /* a sound header that is not ours: never a torn tail */
	if (err) {
		res->header_ok = false;
		res->torn = !valid_block_after(buf, len, 0, graph_key, 0);
		return err;
	}
	off = res->data_off;
	while (off < len) {
		err = check_block(buf, len, off, graph_key, want, &next);
		if (err) {
			res->end = off;
			res->torn = !valid_block_after(buf, len, off + 8, graph_key, res->last_seq);
			return err;
		}
		if (fn && (err = emit_block(buf, off, fn, arg))) {
			res->end = off;
			return err;
		}
		uint64_t first = load_le64(buf + off + BH_FIRST);
		uint32_t count = load_le32(buf + off + BH_COUNT);

		if (!res->first_seq)
			res->first_seq = first;
		res->last_seq = first + count - 1;
		res->entries += count;
		res->blocks++;
		want = res->last_seq + 1;
		off = next;
	}
	res->end = len;
	return 0;
}
