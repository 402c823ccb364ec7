/*
 * bench_store.c - durable ingest into the record store with group commit, beside the raw
 * sequential write + fdatasync rate of the same directory measured in the same run.
 *
 * Records carry a 128-byte payload (240 bytes per log entry). A record counts only once it
 * is durable: each run ends when the last ticket is acknowledged (its block fdatasync()ed),
 * and its rate is records / (first put .. last acknowledgement). Compaction is off, so the
 * disk sees exactly the log.
 *
 * Runs, each on a fresh store:
 *   - unthrottled producers with commit intervals 1, 5 and 20 ms: the batch per commit is
 *     whatever arrives during one interval plus one write + fdatasync, so it grows with the
 *     interval (and, unthrottled, with the disk's latency);
 *   - offered rates of 100 k, 300 k and 1 M records/s at the default 5 ms;
 *   - put_decoded: one producer, then two producer threads (as flooding's workers: each record
 *     decoded once by its worker, so the store only copies it), unthrottled and at 1 M/s, at
 *     the default 5 ms. The producer keeps one decoded view and updates its id with the bytes:
 *     the rows measure the store, not the decoder.
 * For each: records/s, log MB/s, records and bytes per commit, the commit interval (time
 * between commit starts), commit duration (write + fdatasync) and the put -> durable latency
 * (every 256th put), as p50 / p99.
 *
 * Raw: the same directory, sequential write() + fdatasync() of a fresh file in chunks of
 * 256 KiB, 1 MiB, 4 MiB and 16 MiB, buffered and O_DIRECT. Two ratios, both against the
 * better raw rate (buffered or O_DIRECT) at the chunk size nearest the largest-batch run's
 * mean bytes per commit - the ceiling for that write size on this disk, today:
 *   ratio_large_batch  = the run's durable log MB/s end to end / ceiling (the producer's CPU
 *                        bounds it when the disk is fast);
 *   commit_path_ratio  = the run's log bytes / time spent in write + fdatasync / ceiling
 *                        (how close the group commit itself comes to the disk).
 *
 * The put2 rows are compared with the best raw O_DIRECT rate of the run (put2_vs_odirect = the
 * unthrottled two-producer row's durable log MB/s / that rate).
 *
 * usage: bench-store [--quick] [--dir DIR] [--threads N] [--keep]
 *   --dir: where to write (default: a new directory under /var/tmp, on the disk; not tmpfs)
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "pg_assert.h"
#include "pg_bytes.h"
#include "pg_error.h"
#include "pg_time.h"
#include "record.h"
#include "store.h"

#define GRAPH	    "bench-graph"
#define T0	    1700000000000000ull
#define PAYLOAD	    128
#define SAMPLE	    256 /* one latency sample per this many puts */
#define TMPFS_MAGIC 0x01021994

static struct {
	bool quick, keep;
	const char *dir;
	unsigned threads;
	double seconds;
} opt = { .threads = 1 };

static double now_s(void)
{
	return (double)pg_mono_ns() / 1e9;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* p-th percentile (0..100) of v[0..n) in ms; sorts v. */
static double pct_ms(uint64_t *v, size_t n, double p)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_u64);
	return (double)v[(size_t)((double)(n - 1) * p / 100.0)] / 1e6;
}

/* ---- raw disk -------------------------------------------------------------------------- */

static double raw_rate(bool direct, size_t chunk, uint64_t total)
{
	char path[512];
	uint8_t *buf;
	double t;
	int fd;

	snprintf(path, sizeof(path), "%s/raw.bin", opt.dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | (direct ? O_DIRECT : 0), 0644);
	if (fd < 0)
		return -1;
	buf = aligned_alloc(4096, chunk);
	if (!buf) {
		close(fd);
		return -1;
	}
	memset(buf, 0x5a, chunk);
	t = now_s();
	for (uint64_t done = 0; done < total; done += chunk)
		if (write(fd, buf, chunk) != (ssize_t)chunk || fdatasync(fd) < 0) {
			t = -1;
			break;
		}
	if (t > 0)
		t = now_s() - t;
	close(fd);
	unlink(path);
	free(buf);
	return t > 0 ? (double)total / t / 1e6 : -1;
}

/* ---- store runs -------------------------------------------------------------------------- */

struct run {
	const char *name;
	uint32_t interval_us;
	double offered;	  /* records/s over all producers; 0: unthrottled */
	unsigned threads; /* producers; 0: --threads */
	bool decoded;	  /* pg_store_put_decoded instead of pg_store_put */
	/* results */
	uint64_t records;
	double secs, rec_s, mb_s, rec_per_commit, bytes_per_commit;
	double write_mb_s; /* log bytes / (write + fdatasync time): the commit path alone */
	double ival_p50, ival_p99, dur_p50, dur_p99, ack_p50, ack_p99;
};

struct sample {
	uint64_t ticket, t_ns;
};

struct producer {
	struct pg_store *s;
	struct run *r;
	unsigned id;
	double start, end;
	uint64_t n, last_ticket;
	struct sample *samples;
	size_t nsamples, cap;
	int err;
};

static void *producer_main(void *arg)
{
	struct producer *p = arg;
	struct pg_record_limits lim = { .max_record_size = PG_RECORD_SIZE_DEFAULT };
	static const uint8_t empty[1];
	uint8_t payload[PAYLOAD], rec[512];
	unsigned threads = p->r->threads ? p->r->threads : opt.threads;
	double rate = p->r->offered / threads;
	struct pg_record r, view;
	long len;

	memset(payload, 0xa5, sizeof(payload));
	memset(&r, 0, sizeof(r));
	r.type.b[0] = 7;
	r.version = 1;
	r.creator = "bench";
	r.creator_len = 5;
	r.modifier = "";
	r.created_us = r.modified_us = T0;
	r.expires_us = T0 + 86400ull * 1000000;
	r.attrs = empty;
	r.payload = payload;
	r.payload_len = PAYLOAD;
	len = pg_record_encode(&r, &lim, rec, sizeof(rec));
	if (len < 0 || (p->err = pg_record_decode(rec, (size_t)len, &lim, &view))) {
		p->err = len < 0 ? (int)len : p->err;
		return NULL;
	}
	for (;;) {
		double t = now_s();

		if (t >= p->end)
			break;
		if (rate > 0 && (double)p->n >= (t - p->start) * rate) {
			struct timespec ts = { 0, 50000 };

			nanosleep(&ts, NULL);
			continue;
		}
		/* a burst of 64 puts between clock reads */
		for (int k = 0; k < 64; k++) {
			uint64_t ticket;

			store_le32(rec + 24, p->id); /* the record id: producer, counter */
			store_le64(rec + 32, p->n);
			if (p->r->decoded) {
				memcpy(view.id.b, rec + 24, sizeof(view.id.b));
				p->err =
				    pg_store_put_decoded(p->s, &view, rec, (uint32_t)len, &ticket);
			} else {
				p->err = pg_store_put(p->s, rec, (size_t)len, &ticket);
			}
			if (p->err)
				return NULL;
			if (p->n % SAMPLE == 0 && p->nsamples < p->cap)
				p->samples[p->nsamples++] = (struct sample){ ticket, pg_mono_ns() };
			p->last_ticket = ticket;
			p->n++;
		}
	}
	return NULL;
}

/* Collects the store's commit records every 20 ms (it keeps the last 256). */
struct monitor {
	struct pg_store *s;
	atomic_bool stop;
	struct pg_store_commit *c;
	size_t n, cap;
};

static void monitor_poll(struct monitor *m)
{
	struct pg_store_commit buf[256];
	unsigned got = pg_store_commits(m->s, buf, 256);
	uint64_t last = m->n ? m->c[m->n - 1].first_seq : 0;

	for (unsigned i = 0; i < got; i++)
		if (buf[i].first_seq > last && m->n < m->cap)
			m->c[m->n++] = buf[i];
}

static void *monitor_main(void *arg)
{
	struct monitor *m = arg;

	while (!atomic_load(&m->stop)) {
		struct timespec ts = { 0, 20000000 };

		monitor_poll(m);
		nanosleep(&ts, NULL);
	}
	return NULL;
}

/* The end time of the commit holding ticket, or 0. Commits are in seq order. */
static uint64_t ack_time(const struct monitor *m, uint64_t ticket)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct pg_store_commit *c = &m->c[mid];

		if (ticket < c->first_seq)
			hi = mid;
		else if (ticket >= c->first_seq + c->entries)
			lo = mid + 1;
		else
			return c->start_ns + c->write_ns + c->sync_ns;
	}
	return 0;
}

static int run_one(struct run *r, unsigned no)
{
	struct producer p[16];
	pthread_t th[16], mon;
	struct monitor m = { .cap = 1 << 20 };
	struct pg_store_config c;
	struct pg_store_stats st;
	struct pg_store *s;
	char dir[512], cmd[600];
	uint64_t *iv, *dur, *ack, last = 0, records = 0;
	unsigned threads = r->threads ? r->threads : opt.threads;
	size_t nack = 0;
	double start, done;
	int err;

	snprintf(dir, sizeof(dir), "%s/store-%u", opt.dir, no);
	pg_store_config_default(&c);
	c.dir = dir;
	c.graph_id = GRAPH;
	c.graph_id_len = (uint16_t)strlen(GRAPH);
	c.max_records = 1 << 27;
	c.max_bytes = 64ull << 30;
	c.segment_size = 4 << 20;
	c.commit_interval_us = r->interval_us;
	c.compact_log_bytes = 0;
	c.now_us = T0;
	if ((err = pg_store_open(&c, &s))) {
		fprintf(stderr, "bench-store: open %s: %s\n", dir, pg_strerror(err));
		return err;
	}
	m.s = s;
	m.c = calloc(m.cap, sizeof(*m.c));
	pthread_create(&mon, NULL, monitor_main, &m);
	start = now_s();
	for (unsigned i = 0; i < threads; i++) {
		p[i] = (struct producer){ .s = s,
					  .r = r,
					  .id = i,
					  .start = start,
					  .end = start + opt.seconds,
					  .cap = 1 << 20 };
		p[i].samples = calloc(p[i].cap, sizeof(*p[i].samples));
		pthread_create(&th[i], NULL, producer_main, &p[i]);
	}
	for (unsigned i = 0; i < threads; i++) {
		pthread_join(th[i], NULL);
		if (p[i].err) {
			fprintf(stderr, "bench-store: put: %s\n", pg_strerror(p[i].err));
			return p[i].err;
		}
		if (p[i].last_ticket > last)
			last = p[i].last_ticket;
		records += p[i].n;
	}
	/* counted only when durable: wait for the last ticket of all producers */
	err = pg_store_wait_durable(s, last, 60000000);
	done = now_s();
	atomic_store(&m.stop, true);
	pthread_join(mon, NULL);
	monitor_poll(&m);
	pg_store_stats_get(s, &st);
	pg_store_close(s);
	if (err) {
		fprintf(stderr, "bench-store: wait durable: %s\n", pg_strerror(err));
		return err;
	}

	r->records = records;
	r->secs = done - start;
	r->rec_s = (double)records / r->secs;
	r->mb_s = (double)st.commit_bytes / r->secs / 1e6;
	r->rec_per_commit = (double)st.commit_entries / (double)(st.commits ? st.commits : 1);
	r->bytes_per_commit = (double)st.commit_bytes / (double)(st.commits ? st.commits : 1);
	iv = calloc(m.n + 1, sizeof(*iv));
	dur = calloc(m.n + 1, sizeof(*dur));
	ack = calloc(records / SAMPLE + 16, sizeof(*ack));
	uint64_t busy = 0, bytes = 0;

	for (size_t i = 0; i < m.n; i++) {
		dur[i] = m.c[i].write_ns + m.c[i].sync_ns;
		busy += dur[i];
		bytes += m.c[i].bytes + 32;
		if (i)
			iv[i - 1] = m.c[i].start_ns - m.c[i - 1].start_ns;
	}
	for (unsigned i = 0; i < threads; i++)
		for (size_t k = 0; k < p[i].nsamples; k++) {
			uint64_t t = ack_time(&m, p[i].samples[k].ticket);

			if (t > p[i].samples[k].t_ns)
				ack[nack++] = t - p[i].samples[k].t_ns;
		}
	r->write_mb_s = busy ? (double)bytes / ((double)busy / 1e9) / 1e6 : 0;
	r->ival_p50 = pct_ms(iv, m.n ? m.n - 1 : 0, 50);
	r->ival_p99 = pct_ms(iv, m.n ? m.n - 1 : 0, 99);
	r->dur_p50 = pct_ms(dur, m.n, 50);
	r->dur_p99 = pct_ms(dur, m.n, 99);
	r->ack_p50 = pct_ms(ack, nack, 50);
	r->ack_p99 = pct_ms(ack, nack, 99);
	free(iv);
	free(dur);
	free(ack);
	free(m.c);
	for (unsigned i = 0; i < threads; i++)
		free(p[i].samples);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -EIO;
}

static void usage(void)
{
	fprintf(stderr, "usage: bench-store [--quick] [--dir DIR] [--threads N] [--keep]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const size_t chunks[] = { 256 << 10, 1 << 20, 4 << 20, 16 << 20 };
	double raw_buf[4], raw_dir[4];
	struct run runs[] = {
		{ "max, 1 ms", 1000, 0 },
		{ "max, 5 ms", 5000, 0 },
		{ "max, 20 ms", 20000, 0 },
		{ "100k/s, 5 ms", 5000, 100000 },
		{ "300k/s, 5 ms", 5000, 300000 },
		{ "1M/s, 5 ms", 5000, 1000000 },
		{ "dec1 max, 5 ms", 5000, 0, 1, true },
		{ "put2 max, 5 ms", 5000, 0, 2, true },
		{ "put2 1M/s, 5ms", 5000, 1000000, 2, true },
	};
	enum { DEC1 = 6, PUT2 = 7, PUT2_1M = 8 };
	char made[] = "/var/tmp/pg-bench-store-XXXXXX";
	struct statfs sfs;
	uint64_t raw_total;
	size_t big = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0)
			opt.quick = true;
		else if (strcmp(argv[i], "--keep") == 0)
			opt.keep = true;
		else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
			opt.dir = argv[++i];
		else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
			opt.threads = (unsigned)atoi(argv[++i]);
		else
			usage();
	}
	if (opt.threads < 1 || opt.threads > 16)
		usage();
	if (!opt.dir) {
		if (!mkdtemp(made)) {
			perror("bench-store: mkdtemp /var/tmp");
			return 1;
		}
		opt.dir = made;
	} else if (mkdir(opt.dir, 0755) < 0 && errno != EEXIST) {
		perror("bench-store: mkdir");
		return 1;
	}
	if (statfs(opt.dir, &sfs) == 0 && sfs.f_type == TMPFS_MAGIC)
		fprintf(stderr, "bench-store: warning: %s is tmpfs: fdatasync costs nothing\n",
			opt.dir);
	opt.seconds = opt.quick ? 2.0 : 6.0;
	raw_total = opt.quick ? 256ull << 20 : 1ull << 30;

	printf("bench-store: dir %s, %u producer thread(s), %.0f s per run, 128-byte payloads\n",
	       opt.dir, opt.threads, opt.seconds);
	printf("\nraw sequential write + fdatasync per chunk, %llu MiB each:\n",
	       (unsigned long long)(raw_total >> 20));
	printf("  %10s %14s %14s\n", "chunk", "buffered MB/s", "O_DIRECT MB/s");
	for (size_t i = 0; i < 4; i++) {
		raw_buf[i] = raw_rate(false, chunks[i], raw_total);
		raw_dir[i] = raw_rate(true, chunks[i], raw_total);
		printf("  %7zu KiB %14.0f %14.0f\n", chunks[i] >> 10, raw_buf[i], raw_dir[i]);
	}

	printf("\nstore ingest (durable when counted):\n");
	printf("  %-14s %10s %7s %9s %10s %8s %15s %15s %15s\n", "run", "records/s", "MB/s",
	       "rec/commit", "KiB/commit", "wr MB/s", "interval p50/99", "write+sync p50/99",
	       "put->ack p50/99");
	for (size_t i = 0; i < PG_ARRAY_SIZE(runs); i++) {
		struct run *r = &runs[i];

		if (run_one(r, (unsigned)i))
			return 1;
		printf("  %-14s %10.0f %7.1f %9.0f %10.0f %8.0f %7.2f/%-7.2f %7.2f/%-7.2f "
		       "%7.2f/%-7.2f "
		       "ms\n",
		       r->name, r->rec_s, r->mb_s, r->rec_per_commit, r->bytes_per_commit / 1024,
		       r->write_mb_s, r->ival_p50, r->ival_p99, r->dur_p50, r->dur_p99, r->ack_p50,
		       r->ack_p99);
		if (i < DEC1 && r->offered == 0 && r->bytes_per_commit > runs[big].bytes_per_commit)
			big = i;
	}

	/* the raw ceiling at the write size nearest the largest-batch run's commits */
	size_t ci = 0;

	for (size_t i = 1; i < 4; i++)
		if (labs((long)chunks[i] - (long)runs[big].bytes_per_commit) <
		    labs((long)chunks[ci] - (long)runs[big].bytes_per_commit))
			ci = i;
	double ceiling = raw_buf[ci] > raw_dir[ci] ? raw_buf[ci] : raw_dir[ci];
	const struct run *b = &runs[big], *fast = &runs[0];

	for (size_t i = 0; i < DEC1; i++)
		if (runs[i].rec_s > fast->rec_s)
			fast = &runs[i];
	double odirect = 0;

	for (size_t i = 0; i < 4; i++)
		if (raw_dir[i] > odirect)
			odirect = raw_dir[i];
	printf("two producers (put_decoded): %.0f records/s, %.1f MB/s = %.2f x the best raw "
	       "O_DIRECT rate (%.0f MB/s); one producer (put_decoded) %.0f records/s, %.2f x; at "
	       "1M/s offered: commit interval p50/p99 %.2f/%.2f ms\n",
	       runs[PUT2].rec_s, runs[PUT2].mb_s, runs[PUT2].mb_s / odirect, odirect,
	       runs[DEC1].rec_s, runs[DEC1].mb_s / odirect, runs[PUT2_1M].ival_p50,
	       runs[PUT2_1M].ival_p99);
	printf("\nlargest batches: run \"%s\", %.0f KiB per commit; raw at %zu KiB: buffered %.0f, "
	       "O_DIRECT %.0f MB/s; the ratio compares with the better (%s)\n",
	       b->name, b->bytes_per_commit / 1024, chunks[ci] >> 10, raw_buf[ci], raw_dir[ci],
	       raw_buf[ci] > raw_dir[ci] ? "buffered" : "O_DIRECT");
	printf("summary: ingest_rec_s=%.0f ingest_mb_s=%.1f raw_direct_mb_s=%.0f "
	       "raw_buffered_mb_s=%.0f raw_chunk_kib=%zu ratio_large_batch=%.2f "
	       "commit_path_ratio=%.2f commit_p50_ms=%.2f commit_p99_ms=%.2f ack_1m_p50_ms=%.2f "
	       "ack_1m_p99_ms=%.2f threads=%u put1_dec_rec_s=%.0f put2_rec_s=%.0f put2_mb_s=%.1f "
	       "put2_vs_odirect=%.2f put2_ival_p50_ms=%.2f put2_ival_p99_ms=%.2f "
	       "put2_1m_ival_p50_ms=%.2f put2_1m_ival_p99_ms=%.2f\n",
	       fast->rec_s, b->mb_s, raw_dir[ci], raw_buf[ci], chunks[ci] >> 10, b->mb_s / ceiling,
	       b->write_mb_s / ceiling, b->ack_p50, b->ack_p99, runs[5].ack_p50, runs[5].ack_p99,
	       opt.threads, runs[DEC1].rec_s, runs[PUT2].rec_s, runs[PUT2].mb_s,
	       runs[PUT2].mb_s / odirect, runs[PUT2].ival_p50, runs[PUT2].ival_p99,
	       runs[PUT2_1M].ival_p50, runs[PUT2_1M].ival_p99);
	if (!opt.keep && opt.dir == made)
		rmdir(made);
	return 0;
}
