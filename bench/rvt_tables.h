/*
 * rvt_tables.h - the tables bench-rvt measures, behind one interface (bench_rvt.c drives them):
 * ours (rvt.h) and the mutex table in rvt_tables.c, liburcu's cds_lfht and DPDK's rte_hash in
 * rvt_baselines.c; and what every table shares: the keys, version-1 bodies, and per-thread
 * pools of bodies so that no table pays malloc inside a timed phase.
 */
#ifndef PG_BENCH_RVT_TABLES_H
#define PG_BENCH_RVT_TABLES_H

#include <stdbool.h>
#include <stdint.h>

#include "pg_config.h"
#include "record.h"

enum {
	NKEYS = 1000000,
	THREADS_MAX = 2,
	QUIESCE_EVERY = 64,
	BURST = 32,
	POOL_PREFILL = 8192, /* bodies per thread ready before the clock starts */
	POOL_CAP = 1 << 16,
	LFHT_DEFER_MAX = 1024, /* replaced lfht nodes per urcu_qsbr_synchronize_rcu() */
};

/* ---- keys, bodies and per-thread body pools ------------------------------------------ */

struct pool {
	const struct pg_record **items;
	unsigned n;
	uint64_t mallocs; /* pool ran dry inside a timed phase */
};

extern struct pg_record *v1_bodies; /* version 1 of every key, never freed one by one */
extern __thread struct pool *tls_pool;

/* Key k, computed as a worker computes it for each received record. */
struct pg_key key_of(uint64_t k);
/* Whether b is one of v1_bodies. */
bool is_v1(const struct pg_record *b);
void body_init(struct pg_record *b, uint32_t version, uint64_t expires_us);
struct pg_record *pool_get(struct pool *p);
/* Takes back a body a table released, into the calling thread's pool. */
void body_release(const struct pg_record *b);
void pool_init(struct pool *p);
void pool_fini(struct pool *p);
/* Fills v1_bodies (allocated by the caller, NKEYS of them). */
void v1_init(void);
/* The decision every table makes before swapping a body in. */
bool newer(const struct pg_record *cur, const struct pg_record *rec);

/* ---- the table interface ------------------------------------------------------------- */

struct table_ops {
	const char *name;
	int (*create)(void **tab);
	void (*destroy)(void *tab);
	void *(*thread_init)(void *tab);
	void (*thread_fini)(void *th);
	bool (*lookup)(void *th, const struct pg_key *k, uint32_t *version,
		       const struct pg_record **body);
	/* optional: versions of n <= BURST keys, 0 for a missing key */
	void (*lookup_burst)(void *th, const struct pg_key *k, unsigned n, uint32_t *versions);
	bool (*insert)(void *th, const struct pg_key *k, const struct pg_record *body);
	bool (*raise)(void *th, const struct pg_key *k, const struct pg_record *body);
	void (*quiescent)(void *th);
	void (*offline)(void *th);
	void (*online)(void *th);
	uint64_t (*bytes)(void *tab); /* 0 when unknown */
};

extern const struct table_ops ours_ops, mutex_ops, lfht_ops;
#if PG_HAVE_DPDK
extern const struct table_ops rte_ops;
extern bool eal_ok; /* rte_ops can run: eal_start() succeeded */
/* Starts DPDK's EAL once (no huge pages, no PCI), giving the process its CPUs back. */
void eal_start(void);
#endif

#endif
