/*
 * bench_rvt.c - the record-version table against three other concurrent hash tables.
 *
 * Claim under test (DESIGN.md, "Records and the version table"): checking a (key, version)
 * against the table costs one hash and one cache line, and concurrent workers insert and
 * raise versions without locks. Each table is measured in the same run on the same 1 M keys,
 * with the same random key sequences, the same operation counts and the same thread counts:
 *
 *   ours     rvt.h, QSBR reclamation of replaced bodies
 *   mutex    a plain open-addressing table (same slot layout and hash) under one pthread mutex
 *   lfht     liburcu's cds_lfht (QSBR flavour, fixed bucket count = 1 M), replaced nodes freed
 *            in batches after urcu_qsbr_synchronize_rcu()
 *   rtehash  DPDK rte_hash, lock-free readers + multi-writer add, bodies freed through the
 *            same QSBR module as ours (rte_hash itself stores only an 8-byte data pointer)
 *
 * (The tables are in rvt_tables.c and rvt_baselines.c behind rvt_tables.h; this file runs
 * the workloads.)
 *
 * Workloads, each at 1 and 2 threads (operations split evenly between the threads):
 *   insert   fill an empty table with every key (version 1)
 *   lookup   uniform random keys; an op yields the held version and body pointer
 *   raise    look the key up, offer a copy one version newer: every table runs the same
 *            pg_record_order() + pg_record_check_update() on the held body and swaps it in
 *   mix      90 % lookup, 10 % raise
 *   lookup/mix "burst": the same ops issued 32 at a time through a table's bulk lookup API
 *            (rvt_lookup_burst, rte_hash_lookup_bulk_data); tables without one are not run.
 *
 * Every worker passes a quiescent state every 64 operations and computes each key with
 * pg_record_key(), as a worker does for a received record. Every table's memory is on
 * transparent huge pages (ours madvises its slot array; the others get glibc's
 * glibc.malloc.hugetlb=1, set by re-executing once, and the EAL heap is madvised), since
 * DPDK runs with --no-huge here. rte_hash keeps only a data pointer, so its version is read
 * from the body: that second cache line is the cost the version-in-slot design avoids.
 *
 * The host is shared: each table runs several short samples, interleaved with the others,
 * and the best is kept; a sample whose threads were on a CPU less than 85 % of the time (other
 * work, the scheduler's per-session fair share, or a thread asleep on the mutex baseline's
 * lock) is flagged. The output is a
 * table of Mops/s, bytes per entry, ratios, and one `summary:` line.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <urcu/urcu-qsbr.h>

#include "pg_assert.h"
#include "pg_config.h"
#include "pg_error.h"
#include "rvt.h"
#include "rvt_tables.h"

enum phase { PH_INSERT, PH_LOOKUP, PH_RAISE, PH_MIX, PH_LOOKUP_BURST, PH_MIX_BURST, PH_COUNT };

static const char *const phase_name[PH_COUNT] = {
	"insert", "lookup", "raise", "mix", "lookupb", "mixb",
};

/* ---- workers ------------------------------------------------------------------------- */

struct bench {
	bool quick;
	uint64_t ops[PH_COUNT]; /* total per thread count, split between the threads */
	pthread_barrier_t barrier;
};

struct worker {
	pthread_t tid;
	unsigned id, nthreads;
	struct bench *b;
	const struct table_ops *ops;
	void *tab;
	void *th;
	struct pool pool;
	uint64_t rng;
	uint64_t sum; /* keeps the compiler from dropping lookups */
	uint64_t start[PH_COUNT], end[PH_COUNT];
	uint64_t cpu[PH_COUNT]; /* this thread's CPU time in the phase */
	uint64_t done[PH_COUNT], failed[PH_COUNT];
	bool init_failed;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t rnd(uint64_t *s)
{
	/* splitmix64: the same sequence for every table */
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Look k up, then offer a copy one version newer. */
static bool raise_one(struct worker *w, uint64_t k)
{
	struct pg_key key = key_of(k);
	const struct pg_record *cur;
	struct pg_record *nb;
	uint32_t ver;

	if (!w->ops->lookup(w->th, &key, &ver, &cur))
		return false;
	nb = pool_get(&w->pool);
	if (!nb)
		return false;
	body_init(nb, ver + 1, cur->expires_us);
	if (w->ops->raise(w->th, &key, nb))
		return true;
	body_release(nb);
	return false;
}

static void run_phase(struct worker *w, enum phase ph)
{
	uint64_t n = w->b->ops[ph] / w->nthreads, ok = 0;
	const struct table_ops *o = w->ops;

	w->rng = 0x5eed0000ull + 977 * w->id + 7919 * (uint64_t)ph;
	if (ph == PH_INSERT) {
		n = 0;
		for (uint64_t i = w->id; i < NKEYS; i += w->nthreads, n++) {
			struct pg_key key = key_of(i);

			ok += o->insert(w->th, &key, &v1_bodies[i]);
			if (n % QUIESCE_EVERY == 0)
				o->quiescent(w->th);
		}
	} else if (ph == PH_LOOKUP_BURST || ph == PH_MIX_BURST) {
		struct pg_key kb[BURST];
		uint32_t vb[BURST];

		for (uint64_t i = 0; i < n; i += BURST) {
			unsigned m = 0;

			for (unsigned j = 0; j < BURST; j++) {
				uint64_t r = rnd(&w->rng), k = r % NKEYS;

				if (ph == PH_MIX_BURST && (r >> 40) % 10 == 0)
					ok += raise_one(w, k);
				else
					kb[m++] = key_of(k);
			}
			o->lookup_burst(w->th, kb, m, vb);
			for (unsigned j = 0; j < m; j++) {
				w->sum += vb[j];
				ok += vb[j] != 0;
			}
			o->quiescent(w->th);
		}
		n = (n + BURST - 1) / BURST * BURST;
	} else {
		for (uint64_t i = 0; i < n; i++) {
			uint64_t r = rnd(&w->rng), k = r % NKEYS;
			const struct pg_record *body;
			struct pg_key key;
			uint32_t ver;

			if (ph == PH_RAISE || (ph == PH_MIX && (r >> 40) % 10 == 0)) {
				ok += raise_one(w, k);
			} else {
				key = key_of(k);
				if (o->lookup(w->th, &key, &ver, &body)) {
					w->sum += ver + (uintptr_t)body;
					ok++;
				}
			}
			if (i % QUIESCE_EVERY == 0)
				o->quiescent(w->th);
		}
	}
	w->done[ph] = n;
	w->failed[ph] = n - ok;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	pool_init(&w->pool);
	tls_pool = &w->pool;
	w->th = w->ops->thread_init(w->tab);
	w->init_failed = w->th == NULL;
	for (int ph = 0; ph < PH_COUNT; ph++) {
		bool burst = ph == PH_LOOKUP_BURST || ph == PH_MIX_BURST;

		if (w->th)
			w->ops->offline(w->th); /* a waiting thread must not hold grace periods */
		pthread_barrier_wait(&w->b->barrier);
		if (!w->th || (burst && !w->ops->lookup_burst))
			continue;
		w->ops->online(w->th);
		w->cpu[ph] = thread_cpu_ns();
		w->start[ph] = now_ns();
		run_phase(w, (enum phase)ph);
		w->end[ph] = now_ns();
		w->cpu[ph] = thread_cpu_ns() - w->cpu[ph];
	}
	if (w->th)
		w->ops->thread_fini(w->th);
	tls_pool = NULL;
	pool_fini(&w->pool);
	return NULL;
}

/* ---- the run -------------------------------------------------------------------------- */

enum { T_OURS, T_MUTEX, T_LFHT, T_RTE, T_COUNT };

struct result {
	double mops[T_COUNT][THREADS_MAX + 1][PH_COUNT];  /* NAN: not run */
	double share[T_COUNT][THREADS_MAX + 1][PH_COUNT]; /* CPU share of the best sample */
	double bytes_per_entry[T_COUNT];		  /* NAN: unknown */
};

static void run_table(struct bench *b, int ti, const struct table_ops *o, unsigned nthreads,
		      struct result *res)
{
	struct worker w[THREADS_MAX];
	uint64_t fails = 0, mallocs = 0;
	void *tab;
	int err;

	v1_init(); /* the last run recycled some of them as newer versions */
	err = o->create(&tab);
	if (err) {
		printf("%-8s %u threads: create failed: %s\n", o->name, nthreads, pg_strerror(err));
		return;
	}
	pthread_barrier_init(&b->barrier, NULL, nthreads);
	memset(w, 0, sizeof(w));
	for (unsigned i = 0; i < nthreads; i++) {
		w[i] =
		    (struct worker){ .id = i, .nthreads = nthreads, .b = b, .ops = o, .tab = tab };
		if (pthread_create(&w[i].tid, NULL, worker_main, &w[i]) != 0)
			abort();
	}
	for (unsigned i = 0; i < nthreads; i++)
		pthread_join(w[i].tid, NULL);
	pthread_barrier_destroy(&b->barrier);
	for (int ph = 0; ph < PH_COUNT; ph++) {
		uint64_t t0 = UINT64_MAX, t1 = 0, n = 0, cpu = 0;

		for (unsigned i = 0; i < nthreads; i++) {
			if (w[i].init_failed || !w[i].end[ph])
				continue;
			t0 = w[i].start[ph] < t0 ? w[i].start[ph] : t0;
			t1 = w[i].end[ph] > t1 ? w[i].end[ph] : t1;
			n += w[i].done[ph];
			cpu += w[i].cpu[ph];
			fails += ph == PH_INSERT ? w[i].failed[ph] : 0;
		}
		if (n && t1 > t0) {
			double v = (double)n / ((double)(t1 - t0) / 1e3);
			double *best = &res->mops[ti][nthreads][ph];

			/* best of the repetitions: noise only ever slows a run */
			if (isnan(*best) || v > *best) {
				*best = v;
				res->share[ti][nthreads][ph] =
				    (double)cpu / ((double)(t1 - t0) * nthreads);
			}
		}
	}
	for (unsigned i = 0; i < nthreads; i++) {
		mallocs += w[i].pool.mallocs;
		if (w[i].init_failed)
			printf("%-8s thread %u failed to register\n", o->name, i);
	}
	if (nthreads == 1)
		res->bytes_per_entry[ti] = o->bytes(tab) ? (double)o->bytes(tab) / NKEYS : NAN;
	if (fails)
		printf("%-8s %u threads: %" PRIu64 " inserts refused\n", o->name, nthreads, fails);
	if (mallocs > 1000)
		printf("%-8s %u threads: %" PRIu64 " bodies malloc'd in timed phases\n", o->name,
		       nthreads, mallocs);
	o->destroy(tab);
}

static const char *const tname[T_COUNT] = { "ours", "mutex", "lfht", "rtehash" };

/* Flags the cells whose best sample did not have its CPUs to itself. */
static void print_notes(const struct result *res)
{
	for (int ti = 0; ti < T_COUNT; ti++) {
		for (unsigned nt = 1; nt <= THREADS_MAX; nt++) {
			for (int ph = 0; ph < PH_COUNT; ph++) {
				double share = res->share[ti][nt][ph];

				if (isnan(res->mops[ti][nt][ph]) || share >= 0.85)
					continue;
				printf("note: %s %u thr %s: threads on a CPU %.0f%% of the best "
				       "sample's time (host busy, or asleep on a lock)\n",
				       tname[ti], nt, phase_name[ph], 100 * share);
			}
		}
	}
}

static void print_results(const struct result *res)
{
	printf("\nMops/s (higher is better); lookupb/mixb = the same ops through a bulk lookup "
	       "API\n");
	printf("%-8s %-3s", "table", "thr");
	for (int ph = 0; ph < PH_COUNT; ph++)
		printf(" %9s", phase_name[ph]);
	printf("\n");
	for (int ti = 0; ti < T_COUNT; ti++) {
		for (unsigned nt = 1; nt <= THREADS_MAX; nt++) {
			printf("%-8s %-3u", tname[ti], nt);
			for (int ph = 0; ph < PH_COUNT; ph++) {
				double v = res->mops[ti][nt][ph];

				if (isnan(v))
					printf(" %9s", "-");
				else
					printf(" %9.2f", v);
			}
			printf("\n");
		}
	}
	print_notes(res);
	printf("\nbytes of table memory per entry at 1 M keys (bodies aside):");
	for (int ti = 0; ti < T_COUNT; ti++) {
		if (isnan(res->bytes_per_entry[ti]))
			printf(" %s n/a", tname[ti]);
		else
			printf(" %s %.1f", tname[ti], res->bytes_per_entry[ti]);
	}
	printf("\n(ours: %d-byte slots, 1.5 slots per key at capacity, plus thread records and "
	       "retire lists; lfht: estimate from its node layout)\n",
	       RVT_SLOT_BYTES);
	printf("\nratios ours / baseline:\n");
	for (int bl = T_MUTEX; bl < T_COUNT; bl++) {
		for (unsigned nt = 1; nt <= THREADS_MAX; nt++) {
			printf("  vs %-8s %u thr:", tname[bl], nt);
			for (int ph = 0; ph < PH_COUNT; ph++) {
				double r = res->mops[T_OURS][nt][ph] / res->mops[bl][nt][ph];

				if (isnan(r))
					printf(" %s -", phase_name[ph]);
				else
					printf(" %s %.2fx", phase_name[ph], r);
			}
			printf("\n");
		}
	}
}

static void print_summary(const struct result *res)
{
	static const char *const key[T_COUNT] = { "ours", "mutex", "lfht", "rtehash" };

	printf("summary:");
	for (int ph = 0; ph < PH_COUNT; ph++) {
		for (unsigned nt = 1; nt <= THREADS_MAX; nt++) {
			for (int ti = 0; ti < T_COUNT; ti++) {
				double v = res->mops[ti][nt][ph];

				if (!isnan(v))
					printf(" %s%u_%s_mops=%.2f", phase_name[ph], nt, key[ti],
					       v);
			}
			for (int bl = T_MUTEX; bl < T_COUNT; bl++) {
				double r = res->mops[T_OURS][nt][ph] / res->mops[bl][nt][ph];

				if (!isnan(r))
					printf(" %s%u_ratio_%s=%.2f", phase_name[ph], nt, key[bl],
					       r);
			}
		}
	}
	printf(" bytes_per_entry=%.1f\n", res->bytes_per_entry[T_OURS]);
}

int main(int argc, char **argv)
{
	static struct result res;
	struct bench b = { 0 };
	const struct table_ops *tables[T_COUNT] = { &ours_ops, &mutex_ops, &lfht_ops, NULL };
	const char *only = NULL;
	uint64_t scale, reps, t0 = now_ns();

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0) {
			b.quick = true;
		} else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
			only = argv[++i];
		} else {
			fprintf(stderr, "usage: %s [--quick] [--only ours|mutex|lfht|rtehash]\n",
				argv[0]);
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* every table's heap on transparent huge pages (ours asks for them itself): re-run
	 * ourselves once with the glibc tunable set, since it is read at start-up only */
	if (!getenv("GLIBC_TUNABLES")) {
		setenv("GLIBC_TUNABLES", "glibc.malloc.hugetlb=1", 1);
		execv("/proc/self/exe", argv);
		printf(
		    "note: re-exec with glibc.malloc.hugetlb=1 failed, baselines on 4 KiB pages\n");
	}
	/* many short samples, tables interleaved: a burst of other work on the host spoils one
	 * sample of each table rather than every sample of one */
	scale = b.quick ? 1 : 4;
	reps = b.quick ? 3 : 5;
	b.ops[PH_INSERT] = NKEYS;
	b.ops[PH_LOOKUP] = b.ops[PH_LOOKUP_BURST] = 1000000 * scale;
	b.ops[PH_RAISE] = 500000 * scale;
	b.ops[PH_MIX] = b.ops[PH_MIX_BURST] = 1000000 * scale;
#if PG_HAVE_DPDK
	eal_start();
	if (eal_ok)
		tables[T_RTE] = &rte_ops;
#else
	printf("rtehash: skipped, built without DPDK\n");
#endif
	printf("bench-rvt: %d keys, %s run; ops per thread count (split between threads): "
	       "lookup %" PRIu64 ", raise %" PRIu64 ", mix %" PRIu64 " (90:10); best of %" PRIu64
	       " repetitions, tables interleaved; GLIBC_TUNABLES=%s\n",
	       NKEYS, b.quick ? "quick" : "full", b.ops[PH_LOOKUP], b.ops[PH_RAISE], b.ops[PH_MIX],
	       reps, getenv("GLIBC_TUNABLES") ? getenv("GLIBC_TUNABLES") : "");
	v1_bodies = malloc(sizeof(*v1_bodies) * NKEYS);
	if (!v1_bodies)
		return 1;
	for (int ti = 0; ti < T_COUNT; ti++) {
		res.bytes_per_entry[ti] = NAN;
		for (unsigned nt = 0; nt <= THREADS_MAX; nt++)
			for (int ph = 0; ph < PH_COUNT; ph++)
				res.mops[ti][nt][ph] = NAN;
	}
	for (uint64_t rep = 0; rep < reps; rep++) {
		for (unsigned nt = 1; nt <= THREADS_MAX; nt++) {
			for (int ti = 0; ti < T_COUNT; ti++) {
				if (!tables[ti] || (only && strcmp(only, tname[ti]) != 0))
					continue;
				run_table(&b, ti, tables[ti], nt, &res);
				printf("  rep %" PRIu64
				       " %-8s %u thr: best so far: lookup %.2f mix %.2f "
				       "Mops/s\n",
				       rep + 1, tname[ti], nt, res.mops[ti][nt][PH_LOOKUP],
				       res.mops[ti][nt][PH_MIX]);
			}
		}
	}
	print_results(&res);
	printf("\nwall time %.1f s; the host is shared and noisy: compare within this run only\n",
	       (double)(now_ns() - t0) / 1e9);
	free(v1_bodies);
	print_summary(&res);
	return 0;
}
