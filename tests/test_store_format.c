/*
 * test_store_format.c - the store's on-disk formats and what recovery does with damaged
 * files: table-driven cases for the log scanner and the snapshot parser (one row per check,
 * each with the exact code it must give), torn tails cut at many offsets, corruption in the
 * middle of a log, and the timer wheel against a naive model.
 *
 * With PG_STORE_CORPUS=<dir> set, the `corpus` test writes the fuzz seed corpus
 * (tests/fuzz/corpus/store/) there; fuzz_store.c documents the input format.
 */
#include "crit_tsan.h"

#include "pg_bytes.h"
#include "pg_error.h"
#include "snapshot.h"
#include "store_test.h"
#include "timerwheel.h"
#include "wal.h"

TestSuite(store_format, .fini = ts_cleanup);

#define GK  pg_graph_key(SG_GRAPH, strlen(SG_GRAPH))
#define LIM (&(struct pg_record_limits){ .max_record_size = PG_RECORD_SIZE_DEFAULT })

/* ---- log images ------------------------------------------------------------------------- */

struct img {
	uint8_t b[16384];
	size_t len;
	size_t block[8]; /* offsets of the blocks appended */
	int nblocks;
};

static void img_header(struct img *m, uint64_t gk)
{
	m->len = 0;
	m->nblocks = 0;
	pg_log_file_header(m->b, gk, 1, PG_LOG_FILE_HDR); /* the store uses 4096; any will do */
	m->len = PG_LOG_FILE_HDR;
}

/* Appends a block of n entries (records first_seq..; with remove, the last is a REMOVE). */
static void img_block(struct img *m, uint64_t first_seq, uint32_t n, bool remove)
{
	size_t at = m->len, p = at + PG_LOG_BLOCK_HDR;

	for (uint32_t i = 0; i < n; i++) {
		uint8_t body[512];
		long len;
		uint8_t kind = PG_LOG_PUT;

		if (remove && i + 1 == n) {
			memset(body, 0, PG_LOG_REMOVE_LEN);
			sg_id((struct pg_guid *)body, first_seq);
			store_le32(body + 16, 1);
			store_le32(body + 20, PG_LOG_EXPIRED);
			len = PG_LOG_REMOVE_LEN;
			kind = PG_LOG_REMOVE;
		} else {
			struct spec sp = { .n = first_seq + i, .version = 1, .payload = 16 };

			len = rec_make(body, sizeof(body), &sp);
		}
		memcpy(m->b + p + PG_LOG_ENTRY_HDR, body, (size_t)len);
		pg_log_entry_seal(m->b + p, kind, (uint32_t)len, first_seq + i,
				  pg_log_body_hash(body, (size_t)len, GK));
		p += (size_t)pg_log_entry_size((uint64_t)len);
	}
	pg_log_block_header(m->b + at, GK, first_seq, n, (uint32_t)(p - at - PG_LOG_BLOCK_HDR), 0);
	m->block[m->nblocks++] = at;
	m->len = p;
}

/* The standard image: header, a block of 3 entries (seq 1..3), a block of 2 (4..5, the last
 * a REMOVE of record 4). */
static void img_std(struct img *m)
{
	img_header(m, GK);
	img_block(m, 1, 3, false);
	img_block(m, 4, 2, true);
}

/* Re-seals the entry at off after its header or body was changed. */
static void reseal_entry(struct img *m, size_t off)
{
	uint32_t len = load_le32(m->b + off);
	uint64_t hb = pg_log_body_hash(m->b + off + PG_LOG_ENTRY_HDR, len, GK);

	pg_log_entry_seal(m->b + off, m->b[off + 4], len, load_le64(m->b + off + 8), hb);
}

static void reseal_block(struct img *m, size_t off)
{
	pg_log_block_header(m->b + off, GK, load_le64(m->b + off + 16), load_le32(m->b + off + 4),
			    load_le32(m->b + off + 8), load_le32(m->b + off + 12));
}

static void m_empty(struct img *m)
{
	m->len = 0;
}
static void m_header_only(struct img *m)
{
	img_header(m, GK);
}
static void m_std(struct img *m)
{
	(void)m;
}
static void m_bad_magic(struct img *m)
{
	m->b[0] ^= 1;
}
static void m_header_sum(struct img *m)
{
	m->b[16] ^= 1;
}
static void m_other_graph(struct img *m)
{
	pg_log_file_header(m->b, GK + 1, 1, PG_LOG_FILE_HDR);
}
static void m_format(struct img *m)
{
	store_le16(m->b + 4, PG_LOG_FMT + 1);
	store_le64(m->b + 24, XXH3_64bits(m->b, 24));
}
static void m_cut_last(struct img *m)
{
	m->len -= 1;
}
static void m_flip_last(struct img *m)
{
	m->b[m->block[1] + PG_LOG_BLOCK_HDR + 30] ^= 1;
}
static void m_flip_first(struct img *m)
{
	m->b[m->block[0] + PG_LOG_BLOCK_HDR + 60] ^= 1;
}
static void m_seq_gap(struct img *m)
{
	size_t b = m->block[1];

	store_le64(m->b + b + 16, 9);
	for (size_t p = b + PG_LOG_BLOCK_HDR, i = 0; i < 2; i++) {
		store_le64(m->b + p + 8, 9 + i);
		reseal_entry(m, p);
		p += (size_t)pg_log_entry_size(load_le32(m->b + p));
	}
	reseal_block(m, b);
}
static void m_entry_len(struct img *m)
{
	size_t p = m->block[1] + PG_LOG_BLOCK_HDR;

	store_le32(m->b + p, 4000);
}
static void m_block_huge(struct img *m)
{
	store_le32(m->b + m->block[1] + 8, PG_LOG_BLOCK_MAX + 8);
	reseal_block(m, m->block[1]);
}
static void m_block_count0(struct img *m)
{
	store_le32(m->b + m->block[1] + 4, 0);
	reseal_block(m, m->block[1]);
}
static void m_zero_tail(struct img *m)
{
	memset(m->b + m->len, 0, 4096);
	m->len += 4096;
}
static void m_junk_tail(struct img *m)
{
	for (int i = 0; i < 300; i++)
		m->b[m->len++] = (uint8_t)(i * 37 + 11);
}
static void m_remove_len(struct img *m)
{
	size_t p = m->block[1] + PG_LOG_BLOCK_HDR;

	p += (size_t)pg_log_entry_size(load_le32(m->b + p));
	store_le32(m->b + p, PG_LOG_REMOVE_LEN - 8);
	reseal_entry(m, p);
}
static void m_block_pad(struct img *m)
{
	store_le32(m->b + m->block[1] + 12, 8); /* padding announced, not there */
	reseal_block(m, m->block[1]);
}
static void m_data_off(struct img *m)
{
	store_le16(m->b + 6, 4097);
	store_le64(m->b + 24, XXH3_64bits(m->b, 24));
}
static void m_pad_nonzero(struct img *m)
{
	size_t p = m->block[0] + PG_LOG_BLOCK_HDR;
	uint32_t len = load_le32(m->b + p);

	PG_ASSERT(len % 8 != 0);
	m->b[p + PG_LOG_ENTRY_HDR + len] = 1;
}

struct log_row {
	int no;
	const char *what;
	void (*mutate)(struct img *m);
	int want;
	bool torn;
	uint64_t entries;
	int end_block; /* -1: the whole image; -2: offset 0; else that block's offset */
};

static const struct log_row log_rows[] = {
	{ 1, "empty file", m_empty, PG_E_TRUNCATED, true, 0, -2 },
	{ 2, "header only", m_header_only, 0, false, 0, -1 },
	{ 3, "two valid blocks", m_std, 0, false, 5, -1 },
	{ 4, "bad file magic", m_bad_magic, PG_E_BAD_MAGIC, false, 0, -2 },
	{ 5, "header checksum", m_header_sum, PG_E_CHECKSUM, false, 0, -2 },
	{ 6, "another graph", m_other_graph, PG_E_GRAPH_MISMATCH, false, 0, -2 },
	{ 7, "unknown format", m_format, PG_E_BAD_FORMAT, false, 0, -2 },
	{ 8, "last block cut short", m_cut_last, PG_E_TRUNCATED, true, 3, 1 },
	{ 9, "last block bit flip", m_flip_last, PG_E_CHECKSUM, true, 3, 1 },
	{ 10, "first block bit flip, valid block after", m_flip_first, PG_E_CHECKSUM, false, 0, 0 },
	{ 11, "sequence gap", m_seq_gap, PG_E_BAD_FORMAT, true, 3, 1 },
	{ 12, "entry length past its block", m_entry_len, PG_E_LENGTH, true, 3, 1 },
	{ 13, "block over the size bound", m_block_huge, PG_E_LENGTH, true, 3, 1 },
	{ 14, "block of zero entries", m_block_count0, PG_E_BAD_FORMAT, true, 3, 1 },
	{ 15, "zero-filled tail", m_zero_tail, PG_E_BAD_MAGIC, true, 5, -3 },
	{ 16, "garbage tail", m_junk_tail, PG_E_BAD_MAGIC, true, 5, -3 },
	{ 17, "REMOVE entry of the wrong length", m_remove_len, PG_E_BAD_FORMAT, true, 3, 1 },
	{ 18, "non-zero padding", m_pad_nonzero, PG_E_BAD_FORMAT, false, 0, 0 },
	{ 19, "block padding past the end", m_block_pad, PG_E_TRUNCATED, true, 3, 1 },
	{ 20, "data offset over 4096", m_data_off, PG_E_BAD_FORMAT, false, 0, -2 },
};

static int count_entry(void *arg, const struct pg_log_entry *e)
{
	(void)e;
	(*(uint64_t *)arg)++;
	return 0;
}

Test(store_format, log_scan_table)
{
	for (size_t i = 0; i < PG_ARRAY_SIZE(log_rows); i++) {
		const struct log_row *row = &log_rows[i];
		struct pg_log_scan res;
		uint64_t seen = 0;
		struct img m;
		size_t std_len;
		int err;

		img_std(&m);
		std_len = m.len;
		row->mutate(&m);
		err = pg_log_scan(m.b, m.len, GK, count_entry, &seen, &res);
		cr_expect_eq(err, row->want, "row %d (%s): %s, want %s", row->no, row->what,
			     pg_strerror_name(err), pg_strerror_name(row->want));
		cr_expect_eq(res.torn, row->torn, "row %d: torn", row->no);
		cr_expect_eq(seen, row->entries, "row %d: entries handed out", row->no);
		size_t want_end = row->end_block == -1	 ? m.len
				  : row->end_block == -2 ? 0
				  : row->end_block == -3 ? std_len
							 : m.block[row->end_block];

		cr_expect_eq(res.end, want_end, "row %d: valid prefix", row->no);
	}
}

/* ---- snapshot images ----------------------------------------------------------------------- */

struct simg {
	uint8_t b[4096];
	size_t len;
	size_t rec; /* offset of the first record frame */
};

static void simg_build(struct simg *m, const char *graph, unsigned nrec)
{
	uint8_t recs[8][512];
	long lens[8];
	uint64_t padded = 0;
	struct pg_snap_writer w;

	for (unsigned i = 0; i < nrec; i++) {
		struct spec sp = { .n = i, .version = 1, .payload = 20 + i };

		lens[i] = rec_make(recs[i], sizeof(recs[i]), &sp);
		padded += ((uint64_t)lens[i] + 7) & ~7ull;
	}
	m->len = (size_t)pg_snap_size((uint16_t)strlen(graph), nrec, padded);
	pg_snap_begin(&w, m->b, m->len, graph, (uint16_t)strlen(graph), 2, 9, nrec, SG_T0);
	m->rec = w.off;
	for (unsigned i = 0; i < nrec; i++)
		pg_snap_add(&w, recs[i], (uint32_t)lens[i]);
	PG_ASSERT(pg_snap_end(&w) == m->len);
}

static void simg_reseal(struct simg *m)
{
	store_le64(m->b + m->len - 8, XXH3_64bits(m->b, m->len - 8));
}

static void s_valid(struct simg *m)
{
	(void)m;
}
static void s_empty(struct simg *m)
{
	m->len = 0;
}
static void s_short(struct simg *m)
{
	m->len--;
}
static void s_long(struct simg *m)
{
	m->b[m->len++] = 0;
}
static void s_magic(struct simg *m)
{
	m->b[1] ^= 1;
}
static void s_format(struct simg *m)
{
	m->b[4] = 2;
	simg_reseal(m);
}
static void s_flip(struct simg *m)
{
	m->b[m->rec + 40] ^= 1;
}
static void s_other(struct simg *m)
{
	simg_build(m, "other", 3);
}
static void s_idlen(struct simg *m)
{
	store_le16(m->b + 6, 300);
}
static void s_key(struct simg *m)
{
	m->b[PG_SNAP_HDR] ^= 1; /* the graph id no longer hashes to the key */
	simg_reseal(m);
}
static void s_record(struct simg *m)
{
	m->b[m->rec + PG_SNAP_REC_HDR] = 7; /* record format byte */
	simg_reseal(m);
}
static void s_reclen(struct simg *m)
{
	store_le32(m->b + m->rec, 3000);
	simg_reseal(m);
}
static void s_count_up(struct simg *m)
{
	store_le64(m->b + 32, 4);
	simg_reseal(m);
}
static void s_count_down(struct simg *m)
{
	store_le64(m->b + 32, 2);
	simg_reseal(m);
}
static void s_pad(struct simg *m)
{
	uint32_t len = load_le32(m->b + m->rec);

	PG_ASSERT(len % 8);
	m->b[m->rec + PG_SNAP_REC_HDR + len] = 1;
	simg_reseal(m);
}

struct snap_row {
	int no;
	const char *what;
	void (*mutate)(struct simg *m);
	int want;
};

static const struct snap_row snap_rows[] = {
	{ 1, "valid", s_valid, 0 },
	{ 2, "empty", s_empty, PG_E_TRUNCATED },
	{ 3, "one byte short", s_short, PG_E_TRUNCATED },
	{ 4, "one byte extra", s_long, PG_E_TRAILING },
	{ 5, "bad magic", s_magic, PG_E_BAD_MAGIC },
	{ 6, "unknown format", s_format, PG_E_BAD_FORMAT },
	{ 7, "bit flip", s_flip, PG_E_CHECKSUM },
	{ 8, "another graph", s_other, PG_E_GRAPH_MISMATCH },
	{ 9, "graph id too long", s_idlen, PG_E_LENGTH },
	{ 10, "graph key is not the id's", s_key, PG_E_BAD_FORMAT },
	{ 11, "record that does not decode", s_record, PG_E_BAD_FORMAT },
	{ 12, "record length past the end", s_reclen, PG_E_LENGTH },
	{ 13, "count above the records", s_count_up, PG_E_TRUNCATED },
	{ 14, "count below the records", s_count_down, PG_E_TRAILING },
	{ 15, "non-zero padding", s_pad, PG_E_BAD_FORMAT },
};

static int count_rec(void *arg, const struct pg_record *r, const uint8_t *raw, uint32_t len)
{
	(void)r, (void)raw, (void)len;
	(*(uint64_t *)arg)++;
	return 0;
}

Test(store_format, snap_parse_table)
{
	for (size_t i = 0; i < PG_ARRAY_SIZE(snap_rows); i++) {
		const struct snap_row *row = &snap_rows[i];
		struct pg_snap_info info;
		uint64_t seen = 0;
		struct simg m;
		int err;

		simg_build(&m, SG_GRAPH, 3);
		row->mutate(&m);
		err = pg_snap_parse(m.b, m.len, GK, LIM, count_rec, &seen, &info);
		cr_expect_eq(err, row->want, "row %d (%s): %s, want %s", row->no, row->what,
			     pg_strerror_name(err), pg_strerror_name(row->want));
		cr_expect_eq(seen, err ? 0 : 3, "row %d: records only after full validation",
			     row->no);
		if (!err) {
			cr_expect_eq(info.log_gen, 2);
			cr_expect_eq(info.seq, 9);
			cr_expect_eq(info.graph_id_len, strlen(SG_GRAPH));
		}
	}
	/* the record limits apply too */
	struct simg m;
	struct pg_record_limits small = { .max_record_size = PG_RECORD_SIZE_MIN };
	uint8_t big[1200];
	struct spec sp = { .n = 1, .version = 1, .payload = 1100 };
	long len = rec_make(big, sizeof(big), &sp);
	struct pg_snap_writer w;

	m.len = (size_t)pg_snap_size((uint16_t)strlen(SG_GRAPH), 1, ((uint64_t)len + 7) & ~7ull);
	pg_snap_begin(&w, m.b, m.len, SG_GRAPH, (uint16_t)strlen(SG_GRAPH), 0, 0, 1, SG_T0);
	pg_snap_add(&w, big, (uint32_t)len);
	pg_snap_end(&w);
	cr_expect_eq(pg_snap_parse(m.b, m.len, GK, &small, NULL, NULL, NULL), PG_E_TOO_LARGE);
}

/* ---- recovery from damaged logs ---------------------------------------------------------- */

struct blockmap {
	size_t off[64];
	uint64_t first_n[64], count[64];
	int n;
};

static int map_entry(void *arg, const struct pg_log_entry *e)
{
	struct blockmap *bm = arg;
	struct pg_guid id;

	if (bm->n == 0 || bm->off[bm->n - 1] != e->block_offset) {
		PG_ASSERT(bm->n < 64);
		bm->off[bm->n] = e->block_offset;
		memcpy(id.b, e->body + 24, 16);
		bm->first_n[bm->n] = sg_id_n(&id);
		bm->count[bm->n++] = 0;
	}
	bm->count[bm->n - 1]++;
	return 0;
}

/* Opens a copy of src whose newest log is damaged by (flip, keep); returns open's result and
 * the store (when it opened) in u. */
static int open_damaged(const struct ts *src, const char *log, long flip, long keep, struct ts *u)
{
	char a[256], b[256];

	ts_init(u);
	u->c = src->c;
	u->c.dir = u->dir;
	copy_dir(src->dir, u->dir);
	snprintf(a, sizeof(a), "%s/%s", src->dir, log);
	snprintf(b, sizeof(b), "%s/%s", u->dir, log);
	copy_file(a, b, flip, keep);
	return pg_store_open(&u->c, &u->s);
}

Test(store_format, torn_tail_and_corruption)
{
	enum { BATCHES = 6, PER = 5 };
	struct blockmap bm = { .n = 0 };
	struct pg_store_stats st;
	struct pg_log_scan res;
	char log[32];
	uint8_t *image;
	size_t len;
	struct ts t, u;

	ts_init(&t);
	ts_open(&t);
	for (unsigned b = 0; b < BATCHES; b++) {
		for (unsigned i = 0; i < PER; i++) {
			struct spec sp = { .n = b * PER + i, .version = 1, .payload = 100 };

			cr_assert_eq(put_spec(t.s, &sp, NULL), 0);
		}
		cr_assert_eq(pg_store_sync(t.s), 0);
	}
	ts_close(&t);
	newest_log(t.dir, log);
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", t.dir, log);
	image = read_file(path, &len);
	cr_assert_eq(pg_log_scan(image, len, GK, map_entry, &bm, &res), 0);
	cr_assert_geq(bm.n, BATCHES, "one block per sync at least");

	/* cut at the header, inside and at the edges of every block */
	for (int k = -1; k < bm.n; k++) {
		size_t start = k < 0 ? 0 : bm.off[k], end = k + 1 < bm.n ? bm.off[k + 1] : len;
		size_t cuts[] = { start + 1,  start + 8,	 start + 31,
				  start + 32, (start + end) / 2, end - 1 };

		for (size_t c = 0; c < PG_ARRAY_SIZE(cuts); c++) {
			size_t x = cuts[c];
			/* blocks before k survive whole; the one cut in is gone */
			uint64_t keep_n = k <= 0 ? 0 : bm.first_n[k - 1] + bm.count[k - 1];
			size_t valid = k < 0 ? 0 : start;

			if (x >= end || x <= start)
				continue;
			cr_assert_eq(open_damaged(&t, log, -1, (long)x, &u), 0, "cut at %zu", x);
			pg_store_stats_get(u.s, &st);
			cr_assert_eq(st.torn_bytes, x - valid, "cut at %zu: torn bytes", x);
			cr_assert_eq(st.records, keep_n, "cut at %zu: whole blocks kept", x);
			for (uint64_t n = 0; n < BATCHES * PER; n++) {
				struct spec sp = { .n = n, .version = 1, .payload = 100 };

				if (n < keep_n)
					get_eq_spec(u.s, &sp);
			}
			cr_assert_eq(file_size(u.dir, log), k < 0 ? -1 : (long)valid,
				     "cut at %zu: truncated to the valid end", x);
			ts_close(&u);
			ts_open(&u);
			pg_store_stats_get(u.s, &st);
			cr_assert_eq(st.torn_bytes, 0, "a second open finds nothing torn");
			cr_assert_eq(st.records, keep_n);
			ts_fini(&u);
		}
	}

	/* a zero-filled tail (size extended, data never written) */
	uint8_t *z = calloc(1, len + 4096);

	memcpy(z, image, len);
	snprintf(path, sizeof(path), "%s/%s", t.dir, log);
	write_file(path, z, len + 4096);
	cr_assert_eq(open_damaged(&t, log, -1, -1, &u), 0);
	pg_store_stats_get(u.s, &st);
	cr_assert_eq(st.records, BATCHES * PER);
	cr_assert_eq(st.torn_bytes, 4096);
	ts_fini(&u);
	write_file(path, image, len);
	free(z);

	/* a bit flip in the last block: a torn tail, that block is discarded */
	cr_assert_eq(open_damaged(&t, log, (long)bm.off[bm.n - 1] + 70, -1, &u), 0);
	pg_store_stats_get(u.s, &st);
	cr_assert_eq(st.records, BATCHES * PER - bm.count[bm.n - 1]);
	ts_fini(&u);

	/* a bit flip in the first block, valid blocks after it: refuse, change nothing */
	cr_assert_eq(open_damaged(&t, log, (long)bm.off[0] + 70, -1, &u), PG_E_CHECKSUM);
	cr_assert_eq(file_size(u.dir, log), (long)len, "the damaged log is left as it was");
	ts_fini(&u);
	cr_assert_eq(open_damaged(&t, log, 20, -1, &u), PG_E_CHECKSUM, "damaged file header");
	ts_fini(&u);

	/* the log of another graph */
	ts_init(&u);
	u.c = t.c;
	u.c.dir = u.dir;
	u.c.graph_id = "another-graph";
	u.c.graph_id_len = 13;
	copy_dir(t.dir, u.dir);
	cr_assert_eq(pg_store_open(&u.c, &u.s), PG_E_GRAPH_MISMATCH);
	ts_fini(&u);
	free(image);
	ts_fini(&t);
}

/* ---- the timer wheel against a naive model ------------------------------------------------ */

struct fired {
	uint32_t id[512];
	uint64_t when[512];
	unsigned n;
	int refuse_after; /* -1: never */
};

static int fire_rec(void *arg, uint32_t id, uint64_t when)
{
	struct fired *f = arg;

	if (f->refuse_after >= 0 && f->n == (unsigned)f->refuse_after)
		return -1;
	PG_ASSERT(f->n < 512);
	f->id[f->n] = id;
	f->when[f->n++] = when;
	return 0;
}

static uint64_t rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* A span from a few ticks to millennia, so every level and the overflow list are used. */
static uint64_t span(uint64_t *x)
{
	static const uint64_t scale[] = {
		2000, 100000, 10000000, 10000000000ull, 10000000000000ull, 1ull << 62
	};

	return rnd(x) % scale[rnd(x) % PG_ARRAY_SIZE(scale)];
}

Test(store_format, wheel_vs_model)
{
	enum { CAP = 512 };
	uint64_t when[CAP], now = SG_T0, x = 0x2545f4914f6cdd1dull;
	bool on[CAP] = { false };
	struct pg_wheel *w;
	unsigned count = 0;

	cr_assert_eq(pg_wheel_create(CAP, 1000, now, &w), 0);
	for (unsigned step = 0; step < 20000u * SCALE; step++) {
		uint64_t op = rnd(&x) % 10;
		uint32_t id = (uint32_t)(rnd(&x) % CAP);

		if (op < 5) {
			/* mostly the future, sometimes the past */
			when[id] = rnd(&x) % 8 ? now + span(&x) : now - rnd(&x) % 5000;
			count += !on[id];
			on[id] = true;
			pg_wheel_schedule(w, id, when[id]);
		} else if (op < 6) {
			count -= on[id];
			on[id] = false;
			pg_wheel_cancel(w, id);
		} else {
			struct fired f = { .n = 0, .refuse_after = rnd(&x) % 7 == 0 ? 2 : -1 };
			uint64_t max = rnd(&x) % 3 == 0 ? 1 + rnd(&x) % 5 : 0;

			if (UINT64_MAX - now > (1ull << 62))
				now += op == 9 ? span(&x) : rnd(&x) % 3000;
			uint64_t got = pg_wheel_advance(w, now, max, fire_rec, &f);

			cr_assert_eq(got, f.n);
			for (unsigned k = 0; k < f.n; k++) {
				cr_assert(on[f.id[k]], "step %u: fired an unscheduled timer", step);
				cr_assert_eq(f.when[k], when[f.id[k]]);
				cr_assert_leq(when[f.id[k]], now, "step %u: fired early", step);
				on[f.id[k]] = false;
				count--;
			}
			bool stopped = (max && got == max) || f.refuse_after == (int)f.n;

			for (uint32_t i = 0; i < CAP && !stopped; i++)
				cr_assert(!(on[i] && when[i] <= now), "step %u: timer %u is late",
					  step, i);
		}
		cr_assert_eq(pg_wheel_count(w), count);
		cr_assert_eq(pg_wheel_scheduled(w, id), on[id]);
	}
	pg_wheel_destroy(w);
}

/* ---- the fuzz seed corpus ------------------------------------------------------------------- */

static void seed(const char *dir, const char *name, uint8_t mode, const uint8_t *b, size_t len)
{
	char path[512];
	uint8_t *buf = malloc(len + 1);

	buf[0] = mode;
	memcpy(buf + 1, b, len);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	write_file(path, buf, len + 1);
	free(buf);
}

Test(store_format, corpus)
{
	const char *dir = getenv("PG_STORE_CORPUS");
	struct simg s;
	struct img m;

	if (!dir)
		return; /* only when asked to (re)generate tests/fuzz/corpus/store */
	simg_build(&s, SG_GRAPH, 3);
	seed(dir, "snap-3", 0, s.b, s.len);
	seed(dir, "snap-3-fixup", 2, s.b, s.len);
	s_flip(&s);
	seed(dir, "snap-bad-sum", 0, s.b, s.len);
	simg_build(&s, SG_GRAPH, 0);
	seed(dir, "snap-0", 0, s.b, s.len);
	img_std(&m);
	seed(dir, "log-2", 1, m.b, m.len);
	seed(dir, "log-2-fixup", 3, m.b, m.len);
	m_cut_last(&m);
	seed(dir, "log-torn", 1, m.b, m.len);
	img_std(&m);
	m_flip_first(&m);
	seed(dir, "log-corrupt", 1, m.b, m.len);
	img_header(&m, GK);
	seed(dir, "log-header", 1, m.b, m.len);

	/* a log and a snapshot as the store itself writes them (4 KiB pages, padded blocks) */
	struct ts t;
	char log[32], path[256];
	uint8_t *img;
	size_t len;

	ts_init(&t);
	ts_open(&t);
	for (uint64_t n = 0; n < 4; n++) {
		struct spec sp = { .n = n, .version = 1, .payload = 8 };

		cr_assert_eq(put_spec(t.s, &sp, NULL), 0);
		if (n % 2)
			cr_assert_eq(pg_store_sync(t.s), 0);
	}
	cr_assert_eq(pg_store_compact(t.s), 0);
	ts_close(&t);
	snprintf(path, sizeof(path), "%s/snap", t.dir);
	img = read_file(path, &len);
	seed(dir, "snap-store", 0, img, len);
	free(img);
	ts_fini(&t);
	ts_init(&t);
	ts_open(&t);
	for (uint64_t n = 0; n < 3; n++) {
		struct spec sp = { .n = n, .version = 1, .payload = 8 };

		cr_assert_eq(put_spec(t.s, &sp, NULL), 0);
		cr_assert_eq(pg_store_sync(t.s), 0);
	}
	ts_close(&t);
	newest_log(t.dir, log);
	snprintf(path, sizeof(path), "%s/%s", t.dir, log);
	img = read_file(path, &len);
	seed(dir, "log-store", 1, img, len);
	free(img);
	ts_fini(&t);
	seed(dir, "junk", 3, (const uint8_t *)"PGCBPGSNPGLG\0\0\0\0\x01\x02", 18);
}
