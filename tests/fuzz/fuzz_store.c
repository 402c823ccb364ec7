/*
 * fuzz_store.c - libFuzzer target for the store's readers of files: the snapshot parser
 * (pg_snap_parse) and the log scanner (pg_log_scan), both pure functions over memory.
 *
 * Input: byte 0 picks the reader and a mode, the rest is the file image.
 *   bit 0: 0 = snapshot, 1 = log
 *   bit 1: fix the checksums up first (the snapshot trailer and graph key; the log's header,
 *          block and entry checksums, walking whatever frames parse), so mutations get past
 *          the checksums to the length and format checks behind them.
 * Seeds: tests/fuzz/corpus/store/ (written by test-store's store_format::corpus test).
 *
 * Properties checked beyond "no crash, no out-of-bounds read, no leak":
 *   - a snapshot hands out records only when the whole image is valid, exactly its count,
 *     each re-encoding to the very bytes it came from;
 *   - a scan's valid prefix never exceeds the input, covers it all on success, and scans
 *     again on its own to success with the same entries; entries come only from whole blocks.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "pg_assert.h"
#include "pg_bytes.h"
#include "record.h"
#include "snapshot.h"
#include "wal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define GRAPH "store-test-graph"

static const struct pg_record_limits lim = { .max_record_size = 1 << 16 };

static uint64_t graph_key(void)
{
	return pg_graph_key(GRAPH, strlen(GRAPH));
}

static int check_record(void *arg, const struct pg_record *r, const uint8_t *raw, uint32_t len)
{
	uint8_t *buf = malloc(len ? len : 1);

	PG_ASSERT(buf);
	PG_ASSERT(pg_record_encode(r, &lim, buf, len) == (long)len);
	PG_ASSERT(memcmp(buf, raw, len) == 0);
	free(buf);
	(*(uint64_t *)arg)++;
	return 0;
}

static void fix_snapshot(uint8_t *b, size_t len)
{
	if (len >= PG_SNAP_HDR) {
		uint16_t id_len = load_le16(b + 6);

		if (PG_SNAP_HDR + (size_t)id_len <= len)
			store_le64(b + 8, pg_graph_key((const char *)b + PG_SNAP_HDR, id_len));
	}
	if (len >= PG_SNAP_TRAILER)
		store_le64(b + len - 8, XXH3_64bits(b, len - 8));
}

static void fuzz_snapshot(uint8_t *b, size_t len, bool fix)
{
	struct pg_snap_info info;
	uint64_t seen = 0;
	int err;

	if (fix)
		fix_snapshot(b, len);
	err = pg_snap_parse(b, len, fix ? 0 : graph_key(), &lim, check_record, &seen, &info);
	PG_ASSERT(err != 0 || seen == info.count);
	PG_ASSERT(err == 0 || seen == 0);
}

/* Re-seals every entry and block header the frames lead to, trusting nothing. */
static void fix_log(uint8_t *b, size_t len)
{
	uint64_t gk = graph_key();
	size_t off;

	if (len < PG_LOG_FILE_HDR)
		return;
	store_le64(b + 8, gk);
	store_le64(b + 24, XXH3_64bits(b, 24));
	off = load_le16(b + 6);
	if (off < PG_LOG_FILE_HDR || off > len)
		return;
	while (len - off >= PG_LOG_BLOCK_HDR) {
		uint32_t count = load_le32(b + off + 4), bytes = load_le32(b + off + 8);
		uint32_t pad = load_le32(b + off + 12);
		size_t p = off + PG_LOG_BLOCK_HDR, end;

		if (bytes > len - p)
			bytes = (uint32_t)(len - p);
		end = p + bytes;
		for (uint32_t i = 0; i < count && end - p >= PG_LOG_ENTRY_HDR; i++) {
			uint32_t elen = load_le32(b + p);
			uint64_t size = pg_log_entry_size(elen);

			if (size > end - p)
				break;
			pg_log_entry_seal(b + p, b[p + 4], elen, load_le64(b + p + 8),
					  pg_log_body_hash(b + p + PG_LOG_ENTRY_HDR, elen, gk));
			p += (size_t)size;
		}
		pg_log_block_header(b + off, gk, load_le64(b + off + 16), count, bytes, pad);
		if (bytes == 0 || pad > len - end)
			break;
		off = end + pad;
	}
}

struct scan_seen {
	uint64_t entries;
	size_t limit;
};

static int check_entry(void *arg, const struct pg_log_entry *e)
{
	struct scan_seen *s = arg;
	struct pg_record r;

	PG_ASSERT(e->offset + PG_LOG_ENTRY_HDR + e->len <= s->limit);
	PG_ASSERT(e->block_offset < e->offset);
	if (e->kind == PG_LOG_PUT && pg_record_decode(e->body, e->len, &lim, &r) == 0) {
		uint64_t n = 0;

		check_record(&n, &r, e->body, e->len);
	}
	s->entries++;
	return 0;
}

static void fuzz_log(uint8_t *b, size_t len, bool fix)
{
	struct scan_seen seen = { 0, len }, again = { 0, len };
	struct pg_log_scan res, res2;
	int err;

	if (fix)
		fix_log(b, len);
	err = pg_log_scan(b, len, graph_key(), check_entry, &seen, &res);
	PG_ASSERT(res.end <= len);
	PG_ASSERT(err != 0 || res.end == len);
	PG_ASSERT(seen.entries == res.entries);
	if (res.header_ok && res.end >= PG_LOG_FILE_HDR) {
		again.limit = res.end;
		PG_ASSERT(pg_log_scan(b, res.end, graph_key(), check_entry, &again, &res2) == 0);
		PG_ASSERT(again.entries == res.entries && res2.last_seq == res.last_seq);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *b;

	if (size < 1)
		return 0;
	/* a private copy: the fix-up mode writes, and an exact-size buffer lets ASan see any
	 * read past the end */
	b = malloc(size - 1 ? size - 1 : 1);
	PG_ASSERT(b);
	memcpy(b, data + 1, size - 1);
	if (data[0] & 1)
		fuzz_log(b, size - 1, data[0] & 2);
	else
		fuzz_snapshot(b, size - 1, data[0] & 2);
	free(b);
	return 0;
}
