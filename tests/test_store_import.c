/*
 * test_store_import.c - a store's export and import (store.h): a round trip, an import that
 * reads a private copy of a file changing under it, all or nothing under racing puts, its
 * order within the byte bound, and files out of bounds.
 *
 * Every test works in its own directory under /tmp and removes it (test_store.c checks /tmp).
 */
#include "crit_tsan.h"

#include "pg_error.h"
#include "store_test.h"

TestSuite(store_import, .fini = ts_cleanup);

/* ---- export / import ---------------------------------------------------------------------- */

Test(store_import, export_import)
{
	struct ts a, b, c;
	char path[128], bad[128];
	struct evlog ev = { 0 };
	uint64_t ticket = 0;
	struct fp fa, fb;

	ts_init(&a);
	ts_open(&a);
	history(a.s, 0, 120);
	snprintf(path, sizeof(path), "%s/export.pgdb", a.dir);
	cr_assert_eq(pg_store_export(a.s, path), 0);
	pg_store_set_listening(a.s, true);
	cr_assert_eq(pg_store_export(a.s, path), PG_E_LISTENING);
	cr_assert_eq(pg_store_import(a.s, path, NULL), PG_E_LISTENING);
	pg_store_set_listening(a.s, false);
	fa = fingerprint(a.s);

	ts_init(&b);
	ts_open(&b);
	pg_store_subscribe(b.s, evlog_add, &ev);
	cr_assert_eq(pg_store_import(b.s, path, &ticket), 0);
	fb = fingerprint(b.s);
	cr_assert_eq(fa.n, fb.n);
	cr_assert_eq(fa.sum, fb.sum, "round trip equals the original");
	cr_assert_eq((uint64_t)ev.n, fa.n, "one event per imported record");
	cr_assert_eq(pg_store_wait_durable(b.s, ticket, 10000000), 0);
	cr_assert_eq(pg_store_import(b.s, path, NULL), 0, "importing again changes nothing");
	cr_assert_eq((uint64_t)ev.n, fa.n);
	ts_close(&b);
	ts_open(&b);
	cr_assert_eq(fingerprint(b.s).sum, fa.sum, "the import is durable");
	ts_fini(&b);

	/* another graph's file, a damaged file, a truncated one: refused, nothing changed */
	ts_init(&c);
	c.c.graph_id = "another-graph";
	c.c.graph_id_len = 13;
	ts_open(&c);
	cr_assert_eq(pg_store_import(c.s, path, NULL), PG_E_GRAPH_MISMATCH);
	cr_assert_eq(fingerprint(c.s).n, 0);
	ts_fini(&c);
	ts_init(&c);
	ts_open(&c);
	snprintf(bad, sizeof(bad), "%s/bad.pgdb", c.dir);
	copy_file(path, bad, 100, -1);
	cr_assert_eq(pg_store_import(c.s, bad, NULL), PG_E_CHECKSUM);
	copy_file(path, bad, -1, file_size(a.dir, "export.pgdb") - 9);
	cr_assert_eq(pg_store_import(c.s, bad, NULL), PG_E_TRUNCATED);
	cr_assert_eq(fingerprint(c.s).n, 0);
	ts_fini(&c);

	/* all or nothing: over the record bound, or one update that shrinks an expiry */
	ts_init(&c);
	c.c.max_records = (uint32_t)fa.n - 1;
	ts_open(&c);
	cr_assert_eq(pg_store_import(c.s, path, NULL), PG_E_STORE_FULL);
	cr_assert_eq(fingerprint(c.s).n, 0);
	ts_fini(&c);
	ts_init(&c);
	ts_open(&c);
	struct spec sp = spec(1, 1);

	sp.type = 1;
	sp.expires = SG_FAR + 5; /* the file holds record 1 at version 1 with SG_FAR... */
	sp.mod_delta = -1;	 /* ...and a later modification time, so the file's copy wins */
	cr_assert_eq(put_spec(c.s, &sp, NULL), 0);
	cr_assert_eq(pg_store_import(c.s, path, NULL), PG_E_EXPIRY_SHRANK);
	cr_assert_eq(fingerprint(c.s).n, 1, "nothing of the file was applied");
	ts_fini(&c);
	ts_fini(&a);
}

/* ---- import: the file changing under it, puts racing with it, its order ------------------ */

/* True when s holds exactly the record of a spec. */
static bool holds_spec(struct pg_store *s, const struct spec *sp)
{
	static uint8_t want[18 << 10], got[18 << 10];
	long len = rec_make(want, sizeof(want), sp);
	const char *creator = sp->creator ? sp->creator : "alice";
	struct pg_guid id;
	size_t n = 0;

	PG_ASSERT(len > 0);
	sg_id(&id, sp->n);
	return pg_store_get(s, &id, creator, (uint16_t)strlen(creator), PG_STORE_WITH_DELETED, got,
			    sizeof(got), &n) == 0 &&
	       n == (size_t)len && memcmp(got, want, n) == 0;
}

/* Fills a fresh store with the records of spec(first + i, 1) for i < n, payload bytes each,
 * exports it to path and returns its fingerprint. */
/* Exports n records numbered from first (one_shard: the numbers of shard 0 from first on). */
static struct fp export_records_in(const char *path, uint64_t first, unsigned n, uint32_t payload,
				   bool one_shard)
{
	struct ts src;
	struct fp f;

	ts_init(&src);
	ts_open(&src);
	for (unsigned i = 0; i < n; i++) {
		struct spec sp = spec(one_shard ? shard0_no(first, i) : first + i, 1);

		sp.payload = payload;
		cr_assert_eq(put_spec(src.s, &sp, NULL), 0);
	}
	cr_assert_eq(pg_store_export(src.s, path), 0);
	f = fingerprint(src.s);
	ts_fini(&src);
	return f;
}

static struct fp export_records(const char *path, uint64_t first, unsigned n, uint32_t payload)
{
	return export_records_in(path, first, n, payload, false);
}

enum file_change { TRUNCATE_ALL = 1, TRUNCATE_HALF, ZERO_FILL };

struct changer {
	int fd;
	enum file_change how;
	bool done;
};

/* The event callback that changes the file being imported once its first record is applied:
 * the import must work from bytes of its own by then. Runs in the importing thread. */
static void change_file(void *arg, const struct pg_store_event *ev)
{
	static const uint8_t zeros[4096];
	struct changer *c = arg;
	struct stat st;

	(void)ev;
	if (c->done)
		return;
	c->done = true;
	PG_ASSERT(fstat(c->fd, &st) == 0);
	if (c->how == TRUNCATE_ALL)
		PG_ASSERT(ftruncate(c->fd, 0) == 0);
	else if (c->how == TRUNCATE_HALF)
		PG_ASSERT(ftruncate(c->fd, st.st_size / 2) == 0);
	else
		for (off_t off = 0; off < st.st_size; off += (off_t)sizeof(zeros)) {
			size_t n = (size_t)(st.st_size - off) < sizeof(zeros)
				       ? (size_t)(st.st_size - off)
				       : sizeof(zeros);

			PG_ASSERT(pwrite(c->fd, zeros, n, off) == (ssize_t)n);
		}
}

/* Import used to map the caller's file and read it three times (a validating parse, a
 * collecting parse inside PG_ASSERT, then the record bytes while applying): a file truncated
 * meanwhile raised SIGBUS, one rewritten in place stored bytes that were never checked (and
 * a later read of them aborted). Here the file changes, deterministically, after the first
 * record is applied. */
Test(store_import, import_reads_a_private_copy)
{
	static const struct {
		int no;
		enum file_change how;
	} rows[] = { { 1, TRUNCATE_ALL }, { 2, TRUNCATE_HALF }, { 3, ZERO_FILL } };
	char path[128];
	struct ts dir;
	struct fp want;

	ts_init(&dir);
	snprintf(path, sizeof(path), "%s/export.pgdb", dir.dir);
	for (unsigned k = 0; k < PG_ARRAY_SIZE(rows); k++) {
		struct changer c = { .how = rows[k].how };
		struct ts t;

		want = export_records(path, 0, 64, 1000); /* 17 pages: most of it faults in late */
		ts_init(&t);
		ts_open(&t);
		c.fd = open(path, O_WRONLY | O_CLOEXEC);
		cr_assert_geq(c.fd, 0);
		pg_store_subscribe(t.s, change_file, &c);
		cr_assert_eq(pg_store_import(t.s, path, NULL), 0, "row %d", rows[k].no);
		cr_assert(c.done, "row %d: the file changed during the import", rows[k].no);
		pg_store_subscribe(t.s, NULL, NULL);
		close(c.fd);
		cr_assert_eq(fingerprint(t.s).n, want.n, "row %d", rows[k].no);
		cr_assert_eq(fingerprint(t.s).sum, want.sum, "row %d: the bytes that were checked",
			     rows[k].no);
		ts_fini(&t);
	}
	ts_fini(&dir);
}

struct rewriter {
	const char *path;
	const uint8_t *image;
	size_t len;
	atomic_bool stop;
	atomic_uint rounds;
};

/* Rewrites the file over and over: emptied, written back in four pieces, left whole for a
 * moment, cut to a third, filled with zeros to its size. */
static void *rewriter_main(void *arg)
{
	struct rewriter *w = arg;
	uint64_t x = 0x2545f4914f6cdd1dull;
	int fd = open(w->path, O_WRONLY | O_CLOEXEC);

	PG_ASSERT(fd >= 0);
	while (!atomic_load(&w->stop)) {
		size_t piece = w->len / 4 + 1;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		PG_ASSERT(ftruncate(fd, 0) == 0);
		for (size_t off = 0; off < w->len; off += piece) {
			size_t n = w->len - off < piece ? w->len - off : piece;

			PG_ASSERT(pwrite(fd, w->image + off, n, (off_t)off) == (ssize_t)n);
		}
		usleep((useconds_t)(x % 400)); /* whole: an import may succeed */
		PG_ASSERT(ftruncate(fd, (off_t)(w->len / 3)) == 0);
		usleep((useconds_t)(x >> 32) % 50);
		PG_ASSERT(ftruncate(fd, (off_t)w->len) == 0);
		atomic_fetch_add(&w->rounds, 1);
	}
	close(fd);
	return NULL;
}

/* The same against a file another thread keeps rewriting: every import returns 0 or the
 * error of a file that is not whole, never crashes, and what it imported is the file's. A
 * race, so not certain to catch a regression, but the old import crashed here (SIGBUS) in
 * each of 20 runs. */
Test(store_import, import_file_changing_meanwhile)
{
	const unsigned imports = 150 * SCALE, rewrites = 100;
	unsigned ok = 0, changed = 0, other = 0;
	uint64_t deadline = pg_mono_ns() + 20000000000ull;
	struct rewriter w = { 0 };
	char path[128];
	pthread_t th;
	struct fp want, got;
	struct ts t;

	ts_init(&t);
	snprintf(path, sizeof(path), "%s/export.pgdb", t.dir);
	want = export_records(path, 0, 64, 1000);
	w.path = path;
	w.image = read_file(path, &w.len);
	ts_open(&t);
	cr_assert_eq(pthread_create(&th, NULL, rewriter_main, &w), 0);
	for (unsigned i = 0;
	     (i < imports || atomic_load(&w.rounds) < rewrites) && pg_mono_ns() < deadline; i++) {
		int err = pg_store_import(t.s, path, NULL);

		ok += err == 0;
		changed += err == PG_E_FILE_CHANGED;
		other += err != 0 && err != PG_E_FILE_CHANGED;
		cr_assert(err == 0 || err == PG_E_FILE_CHANGED || err == PG_E_TRUNCATED ||
			      err == PG_E_CHECKSUM || err == PG_E_BAD_MAGIC ||
			      err == PG_E_BAD_FORMAT || err == PG_E_LENGTH || err == PG_E_TRAILING,
			  "import %u: %s", i, pg_strerror_name(err));
	}
	atomic_store(&w.stop, true);
	pthread_join(th, NULL);
	cr_log_info("import under rewrites: %u whole, %u changed size while read, %u other "
		    "errors, %u rewrites",
		    ok, changed, other, atomic_load(&w.rounds));
	got = fingerprint(t.s);
	cr_assert(got.n == 0 || (got.n == want.n && got.sum == want.sum),
		  "only whole copies of the file were imported");
	write_file(path, w.image, w.len);
	cr_assert_eq(pg_store_import(t.s, path, NULL), 0, "the file left whole imports");
	cr_assert_eq(fingerprint(t.s).sum, want.sum);
	free((void *)w.image);
	ts_fini(&t);
}

/* A put that races with an import: the import's first record wakes it, and it waits on the
 * store lock until the import lets go of it. */
struct racer {
	struct pg_store *s;
	atomic_bool go, ready;
	atomic_int result;
};

static void start_racer(void *arg, const struct pg_store_event *ev)
{
	struct racer *r = arg;

	(void)ev;
	if (atomic_load(&r->go))
		return;
	atomic_store(&r->go, true);
	while (!atomic_load(&r->ready))
		usleep(100);
	usleep(2000); /* it is blocked on the store lock by now */
}

static void *racer_main(void *arg)
{
	struct racer *r = arg;
	struct spec sp = spec(5000, 1); /* one new record: the store is then at its record bound */

	while (!atomic_load(&r->go))
		usleep(100);
	atomic_store(&r->ready, true);
	atomic_store(&r->result, put_spec(r->s, &sp, NULL));
	return NULL;
}

/* All or nothing against a concurrent put. The import must wait for the committer halfway
 * (large records whose dead predecessors are not written yet fill the large-block bound, with
 * one group commit a second); a put arrives meanwhile and takes the last record slot. The old
 * import let go of the lock while it waited, so the put got in, and the rest of the import was
 * refused with PG_E_STORE_FULL after most of its records had been applied. */
Test(store_import, import_all_or_nothing_under_puts)
{
	enum { HELD = 40, FILE_RECS = 16, BIG = 17000 }; /* ~17 KiB: a large block each */
	bool waited = false;
	char path[128];
	struct ts dir;

	ts_init(&dir);
	snprintf(path, sizeof(path), "%s/export.pgdb", dir.dir);
	/* all in one shard: its arena alone has the large-block bound to fill */
	export_records_in(path, 1000, FILE_RECS, BIG, true);
	for (unsigned round = 1; round <= 3 && !waited; round++) {
		struct pg_store_stats before, after;
		struct racer r = { 0 };
		struct spec warm = spec(9999, 1);
		unsigned held = 0;
		pthread_t th;
		struct ts t;
		int err;

		ts_init(&t);
		t.c.segment_size = 64 << 10; /* large blocks from 16 KiB */
		t.c.max_bytes = 1 << 20;     /* large blocks up to 1.5 MiB, dead ones included */
		t.c.max_records = 1 + HELD + FILE_RECS;
		t.c.commit_interval_us = 1000000;
		ts_open(&t);
		/* a commit now, then none for a second unless someone must wait for room */
		cr_assert_eq(put_spec(t.s, &warm, NULL), 0);
		cr_assert_eq(pg_store_sync(t.s), 0);
		for (uint32_t v = 1; v <= 2; v++) {
			for (unsigned i = 0; i < HELD; i++) {
				struct spec sp = spec(shard0_no(0, i), v);

				sp.payload = BIG;
				sp.modifier = v > 1 ? "alice" : "";
				cr_assert_eq(put_spec(t.s, &sp, NULL), 0);
			}
		}
		r.s = t.s;
		cr_assert_eq(pthread_create(&th, NULL, racer_main, &r), 0);
		pg_store_subscribe(t.s, start_racer, &r);
		pg_store_stats_get(t.s, &before);
		err = pg_store_import(t.s, path, NULL);
		pg_store_stats_get(t.s, &after);
		atomic_store(&r.go, true); /* had the import failed before its first record */
		pthread_join(th, NULL);
		pg_store_subscribe(t.s, NULL, NULL);
		for (unsigned i = 0; i < FILE_RECS; i++) {
			struct spec sp = spec(shard0_no(1000, i), 1);

			sp.payload = BIG;
			held += holds_spec(t.s, &sp);
		}
		waited = after.busy_waits > before.busy_waits;
		cr_log_info("round %u: import %s, %u of %u records held, the put %s, %s", round,
			    pg_strerror_name(err), held, FILE_RECS,
			    pg_strerror_name(atomic_load(&r.result)),
			    waited ? "the import waited for room" : "no wait for room");
		cr_assert(err ? held == 0 : held == FILE_RECS,
			  "round %u: the import returned %s but %u of its %u records are held",
			  round, pg_strerror_name(err), held, FILE_RECS);
		cr_assert_eq(err, 0, "round %u: the check accepted it, so it was applied", round);
		cr_assert_eq(atomic_load(&r.result), PG_E_STORE_FULL,
			     "round %u: the put came after the import", round);
		ts_fini(&t);
	}
	cr_assert(waited, "an import waited for room (three rounds over a second each?)");
	ts_fini(&dir);
}

/* The check adds the sizes of all updates up; applying them in key order could pass through a
 * state over the byte bound (a growing update before a shrinking one) and refuse halfway. Both
 * assignments of the roles are tried, so one puts the growing record first in key order. */
Test(store_import, import_order_stays_in_the_byte_bound)
{
	for (unsigned grow = 0; grow < 2; grow++) {
		struct pg_store_stats st;
		struct spec sp[2];
		char path[128];
		struct ts src, t;

		ts_init(&src);
		ts_open(&src);
		snprintf(path, sizeof(path), "%s/export.pgdb", src.dir);
		ts_init(&t);
		ts_open(&t);
		for (unsigned i = 0; i < 2; i++) {
			sp[i] = spec(i, 1);
			sp[i].payload = i == grow ? 1000 : 3000;
			cr_assert_eq(put_spec(t.s, &sp[i], NULL), 0);
			sp[i].version = 2; /* the file's copy: the sizes swapped, no other change */
			sp[i].payload = i == grow ? 3000 : 1000;
			cr_assert_eq(put_spec(src.s, &sp[i], NULL), 0);
		}
		cr_assert_eq(pg_store_export(src.s, path), 0);
		pg_store_stats_get(t.s, &st);
		ts_close(&t);
		t.c.max_bytes = st.live_bytes; /* full, and exactly as full after the import */
		ts_open(&t);
		cr_assert_eq(pg_store_import(t.s, path, NULL), 0, "record %u grows", grow);
		cr_assert(holds_spec(t.s, &sp[0]) && holds_spec(t.s, &sp[1]));
		ts_fini(&t);
		ts_fini(&src);
	}
}

/* What import reads: at most a full store's snapshot, max_bytes + 328 bytes (header 64,
 * graph id up to 256, trailer 8), and exactly the size the file had when opened. */
Test(store_import, import_file_bounds)
{
	static uint8_t zeros[(64 << 10) + 329];
	const uint64_t max = (64 << 10) + 328;
	char path[128];
	struct ts t;

	ts_init(&t);
	t.c.max_bytes = 64 << 10;
	ts_open(&t);
	snprintf(path, sizeof(path), "%s/big.pgdb", t.dir);
	write_file(path, zeros, max + 1);
	cr_assert_eq(pg_store_import(t.s, path, NULL), -EFBIG, "1: one byte over the bound");
	write_file(path, zeros, max);
	cr_assert_eq(pg_store_import(t.s, path, NULL), PG_E_BAD_MAGIC, "2: at the bound: read");
	write_file(path, zeros, PG_SNAP_HDR - 1);
	cr_assert_eq(pg_store_import(t.s, path, NULL), PG_E_TRUNCATED, "3: under a header");
	/* sysfs states 4096 bytes for every attribute and reads back fewer: a file whose size
	 * is not what its reads give */
	if (access("/sys/kernel/mm/transparent_hugepage/enabled", R_OK) == 0)
		cr_assert_eq(
		    pg_store_import(t.s, "/sys/kernel/mm/transparent_hugepage/enabled", NULL),
		    PG_E_FILE_CHANGED, "4: reads end before the size stated");
	cr_assert_eq(fingerprint(t.s).n, 0);
	ts_fini(&t);
}
