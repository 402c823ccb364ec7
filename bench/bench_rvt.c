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
#include <urcu/rculfhash.h>

#include "pg_assert.h"
#include "pg_config.h"
#include "pg_error.h"
#include "qsbr.h"
#include "record.h"
#include "rvt.h"

#if PG_HAVE_DPDK
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_lcore.h>
#include <rte_memory.h>
#endif

enum {
	NKEYS = 1000000,
	THREADS_MAX = 2,
	QUIESCE_EVERY = 64,
	BURST = 32,
	POOL_PREFILL = 8192, /* bodies per thread ready before the clock starts */
	POOL_CAP = 1 << 16,
	LFHT_DEFER_MAX = 1024, /* replaced lfht nodes per urcu_qsbr_synchronize_rcu() */
};

enum phase { PH_INSERT, PH_LOOKUP, PH_RAISE, PH_MIX, PH_LOOKUP_BURST, PH_MIX_BURST, PH_COUNT };

static const char *const phase_name[PH_COUNT] = {
	"insert", "lookup", "raise", "mix", "lookupb", "mixb",
};

/* ---- keys, bodies and per-thread body pools ------------------------------------------ */

struct pool {
	const struct pg_record **items;
	unsigned n;
	uint64_t mallocs; /* pool ran dry inside a timed phase */
};

static struct pg_record *v1_bodies; /* version 1 of every key, never freed one by one */
static __thread struct pool *tls_pool;

/* Key k, computed as a worker computes it for each received record: one xxHash3-128 of the id
 * and a creator the length of a peer name (40 hex digits, a dot, a classifier). (Loading it
 * from a 16 MB array instead would add a cache miss to every table's every operation.) */
static struct pg_key key_of(uint64_t k)
{
	static const char creator[] = "0123456789abcdef0123456789abcdef01234567.bench";
	struct pg_guid id = { { 0 } };
	uint32_t i = (uint32_t)k;

	memcpy(id.b, &i, sizeof(i));
	return pg_record_key(0xbe5c4ull, &id, creator, sizeof(creator) - 1);
}

static bool is_v1(const struct pg_record *b)
{
	return b >= v1_bodies && b < v1_bodies + NKEYS;
}

static void body_init(struct pg_record *b, uint32_t version, uint64_t expires_us)
{
	memset(b, 0, sizeof(*b));
	b->version = version;
	b->created_us = 1;
	b->modified_us = 1 + version;
	b->expires_us = expires_us;
	b->creator = "bench";
	b->creator_len = 5;
	b->modifier = "";
}

static struct pg_record *pool_get(struct pool *p)
{
	if (p->n)
		return (struct pg_record *)(uintptr_t)p->items[--p->n];
	p->mallocs++;
	return malloc(sizeof(struct pg_record));
}

/* Takes back a body the table released, into the pool of the thread that released it (a
 * version-1 body too: its slot of the array is reused until the next table run). */
static void body_release(const struct pg_record *b)
{
	struct pool *p = tls_pool;

	if (p && p->n < POOL_CAP) {
		p->items[p->n++] = b;
		return;
	}
	if (!is_v1(b))
		free((void *)(uintptr_t)b);
}

static void pool_init(struct pool *p)
{
	p->items = malloc(sizeof(*p->items) * POOL_CAP);
	if (!p->items)
		abort();
	p->n = 0;
	p->mallocs = 0;
	while (p->n < POOL_PREFILL) {
		struct pg_record *b = malloc(sizeof(*b));

		if (!b)
			abort();
		p->items[p->n++] = b;
	}
}

static void pool_fini(struct pool *p)
{
	while (p->n) {
		const struct pg_record *b = p->items[--p->n];

		if (!is_v1(b))
			free((void *)(uintptr_t)b);
	}
	free(p->items);
}

static void v1_init(void)
{
	for (uint32_t i = 0; i < NKEYS; i++)
		body_init(&v1_bodies[i], 1, 1000000);
}

/* The decision every table makes before swapping a body in. */
static bool newer(const struct pg_record *cur, const struct pg_record *rec)
{
	return pg_record_order(rec, cur) > 0 && pg_record_check_update(cur, rec) == 0;
}

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

/* ---- ours ------------------------------------------------------------------------------ */

static void ours_free(void *ctx, const struct pg_record *b)
{
	(void)ctx;
	body_release(b);
}

static int ours_create(void **tab)
{
	struct rvt_config cfg = {
		.capacity = NKEYS,
		.max_threads = THREADS_MAX + 1,
		.body_free = ours_free,
	};

	return rvt_create(&cfg, (struct rvt **)tab);
}

static void ours_destroy(void *tab)
{
	rvt_destroy(tab);
}

static void *ours_thread_init(void *tab)
{
	struct rvt_thread *th;

	return rvt_thread_register(tab, &th) == 0 ? th : NULL;
}

static void ours_thread_fini(void *th)
{
	rvt_thread_unregister(th);
}

static bool ours_lookup(void *th, const struct pg_key *k, uint32_t *version,
			const struct pg_record **body)
{
	struct rvt_view v;

	if (rvt_lookup(th, *k, &v) != 0)
		return false;
	*version = v.version;
	*body = v.body;
	return true;
}

static void ours_lookup_burst(void *th, const struct pg_key *k, unsigned n, uint32_t *versions)
{
	struct rvt_view v[BURST];

	rvt_lookup_burst(th, k, n, v);
	for (unsigned i = 0; i < n; i++)
		versions[i] = v[i].version;
}

static bool ours_insert(void *th, const struct pg_key *k, const struct pg_record *body)
{
	return rvt_insert(th, *k, body) == 0;
}

static bool ours_raise(void *th, const struct pg_key *k, const struct pg_record *body)
{
	return rvt_raise(th, *k, body) == 0;
}

static void ours_quiescent(void *th)
{
	rvt_quiescent(th);
}

static void ours_offline(void *th)
{
	rvt_thread_offline(th);
}

static void ours_online(void *th)
{
	rvt_thread_online(th);
}

static uint64_t ours_bytes(void *tab)
{
	struct rvt_stats st;

	rvt_stats_read(tab, &st);
	return st.total_bytes;
}

static const struct table_ops ours_ops = {
	.name = "ours",
	.create = ours_create,
	.destroy = ours_destroy,
	.thread_init = ours_thread_init,
	.thread_fini = ours_thread_fini,
	.lookup = ours_lookup,
	.lookup_burst = ours_lookup_burst,
	.insert = ours_insert,
	.raise = ours_raise,
	.quiescent = ours_quiescent,
	.offline = ours_offline,
	.online = ours_online,
	.bytes = ours_bytes,
};

/* ---- mutex: open addressing under one lock ----------------------------------------------- */

struct mslot {
	struct pg_key key;
	const struct pg_record *body;
	uint32_t version;
};

struct mtab {
	pthread_mutex_t lock;
	struct mslot *slots;
	uint64_t nslots;
};

static int mutex_create(void **tab)
{
	struct mtab *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	m->nslots = (uint64_t)NKEYS + NKEYS / 2 + 1; /* the load factor of ours */
	m->slots = calloc(m->nslots, sizeof(*m->slots));
	if (!m->slots) {
		free(m);
		return -ENOMEM;
	}
	pthread_mutex_init(&m->lock, NULL);
	*tab = m;
	return 0;
}

static void mutex_destroy(void *tab)
{
	struct mtab *m = tab;

	for (uint64_t i = 0; i < m->nslots; i++)
		if (m->slots[i].body)
			body_release(m->slots[i].body);
	pthread_mutex_destroy(&m->lock);
	free(m->slots);
	free(m);
}

static void *mutex_thread_init(void *tab)
{
	return tab;
}

static void mutex_nop(void *th)
{
	(void)th;
}

/* The slot of k, or the empty slot where it would go; NULL when the table is full. */
static struct mslot *mutex_find(struct mtab *m, const struct pg_key *k)
{
	uint64_t i = (uint64_t)(((unsigned __int128)k->lo * m->nslots) >> 64);

	for (uint64_t n = 0; n < m->nslots; n++) {
		struct mslot *s = &m->slots[i];

		if (!s->body || pg_key_eq(s->key, *k))
			return s;
		if (++i == m->nslots)
			i = 0;
	}
	return NULL;
}

static bool mutex_lookup(void *th, const struct pg_key *k, uint32_t *version,
			 const struct pg_record **body)
{
	struct mtab *m = th;
	struct mslot *s;
	bool found;

	pthread_mutex_lock(&m->lock);
	s = mutex_find(m, k);
	found = s && s->body;
	if (found) {
		*version = s->version;
		*body = s->body;
	}
	pthread_mutex_unlock(&m->lock);
	return found;
}

static bool mutex_insert(void *th, const struct pg_key *k, const struct pg_record *body)
{
	struct mtab *m = th;
	struct mslot *s;
	bool ok;

	pthread_mutex_lock(&m->lock);
	s = mutex_find(m, k);
	ok = s && !s->body;
	if (ok) {
		s->key = *k;
		s->version = body->version;
		s->body = body;
	}
	pthread_mutex_unlock(&m->lock);
	return ok;
}

static bool mutex_raise(void *th, const struct pg_key *k, const struct pg_record *body)
{
	struct mtab *m = th;
	const struct pg_record *old = NULL;
	struct mslot *s;
	bool ok;

	pthread_mutex_lock(&m->lock);
	s = mutex_find(m, k);
	ok = s && s->body && newer(s->body, body);
	if (ok) {
		old = s->body;
		s->version = body->version;
		s->body = body;
	}
	pthread_mutex_unlock(&m->lock);
	if (old)
		body_release(old); /* readers copy out under the lock: no grace period needed */
	return ok;
}

static uint64_t mutex_bytes(void *tab)
{
	struct mtab *m = tab;

	return m->nslots * sizeof(struct mslot) + sizeof(*m);
}

static const struct table_ops mutex_ops = {
	.name = "mutex",
	.create = mutex_create,
	.destroy = mutex_destroy,
	.thread_init = mutex_thread_init,
	.thread_fini = mutex_nop,
	.lookup = mutex_lookup,
	.insert = mutex_insert,
	.raise = mutex_raise,
	.quiescent = mutex_nop,
	.offline = mutex_nop,
	.online = mutex_nop,
	.bytes = mutex_bytes,
};

/* ---- lfht: liburcu cds_lfht, QSBR flavour ------------------------------------------------ */

struct lnode {
	struct cds_lfht_node node;
	struct pg_key key;
	uint32_t version;
	const struct pg_record *body;
};

struct lthread {
	struct cds_lfht *ht;
	struct lnode *defer[LFHT_DEFER_MAX];
	unsigned ndefer;
};

static int lfht_match(struct cds_lfht_node *node, const void *key)
{
	const struct lnode *n = caa_container_of(node, struct lnode, node);

	return pg_key_eq(n->key, *(const struct pg_key *)key);
}

static int lfht_create(void **tab)
{
	unsigned long buckets = 1;

	while (buckets < NKEYS)
		buckets <<= 1;
	*tab = cds_lfht_new_flavor(buckets, buckets, buckets, 0, &urcu_qsbr_flavor, NULL);
	return *tab ? 0 : -ENOMEM;
}

static void lfht_destroy(void *tab)
{
	struct cds_lfht *ht = tab;
	struct lnode **all = malloc(sizeof(*all) * NKEYS), *n;
	struct cds_lfht_iter it;
	size_t count = 0;

	if (!all)
		abort();
	urcu_qsbr_register_thread();
	urcu_qsbr_read_lock();
	cds_lfht_for_each_entry(ht, &it, n, node)
	{
		if (cds_lfht_del(ht, &n->node) == 0 && count < NKEYS)
			all[count++] = n;
	}
	urcu_qsbr_read_unlock();
	urcu_qsbr_synchronize_rcu();
	urcu_qsbr_unregister_thread();
	for (size_t i = 0; i < count; i++) {
		body_release(all[i]->body);
		free(all[i]);
	}
	free(all);
	cds_lfht_destroy(ht, NULL);
}

static void *lfht_thread_init(void *tab)
{
	struct lthread *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->ht = tab;
	urcu_qsbr_register_thread();
	return t;
}

static void lfht_reclaim(struct lthread *t)
{
	urcu_qsbr_synchronize_rcu(); /* goes offline while it waits (QSBR flavour) */
	for (unsigned i = 0; i < t->ndefer; i++) {
		body_release(t->defer[i]->body);
		free(t->defer[i]);
	}
	t->ndefer = 0;
}

static void lfht_thread_fini(void *th)
{
	struct lthread *t = th;

	lfht_reclaim(t);
	urcu_qsbr_unregister_thread();
	free(t);
}

static bool lfht_lookup(void *th, const struct pg_key *k, uint32_t *version,
			const struct pg_record **body)
{
	struct lthread *t = th;
	struct cds_lfht_iter it;
	struct cds_lfht_node *node;
	bool found = false;

	urcu_qsbr_read_lock();
	cds_lfht_lookup(t->ht, (unsigned long)k->lo, lfht_match, k, &it);
	node = cds_lfht_iter_get_node(&it);
	if (node) {
		const struct lnode *n = caa_container_of(node, struct lnode, node);

		*version = n->version;
		*body = n->body;
		found = true;
	}
	urcu_qsbr_read_unlock();
	return found;
}

static bool lfht_insert(void *th, const struct pg_key *k, const struct pg_record *body)
{
	struct lthread *t = th;
	struct lnode *n = malloc(sizeof(*n));
	struct cds_lfht_node *got;

	if (!n)
		return false;
	cds_lfht_node_init(&n->node);
	n->key = *k;
	n->version = body->version;
	n->body = body;
	urcu_qsbr_read_lock();
	got = cds_lfht_add_unique(t->ht, (unsigned long)k->lo, lfht_match, k, &n->node);
	urcu_qsbr_read_unlock();
	if (got != &n->node) {
		free(n);
		return false;
	}
	return true;
}

static bool lfht_raise(void *th, const struct pg_key *k, const struct pg_record *body)
{
	struct lthread *t = th;
	struct cds_lfht_iter it;
	struct cds_lfht_node *node;
	struct lnode *old, *n;
	bool ok = false;

	if (t->ndefer == LFHT_DEFER_MAX)
		lfht_reclaim(t);
	n = malloc(sizeof(*n));
	if (!n)
		return false;
	cds_lfht_node_init(&n->node);
	n->key = *k;
	n->version = body->version;
	n->body = body;
	urcu_qsbr_read_lock();
	for (int tries = 0; tries < 64; tries++) {
		cds_lfht_lookup(t->ht, (unsigned long)k->lo, lfht_match, k, &it);
		node = cds_lfht_iter_get_node(&it);
		if (!node)
			break;
		old = caa_container_of(node, struct lnode, node);
		if (!newer(old->body, body))
			break;
		if (cds_lfht_replace(t->ht, &it, (unsigned long)k->lo, lfht_match, k, &n->node) ==
		    0) {
			t->defer[t->ndefer++] = old;
			ok = true;
			break;
		}
	}
	urcu_qsbr_read_unlock();
	if (!ok)
		free(n);
	return ok;
}

static void lfht_quiescent(void *th)
{
	(void)th;
	urcu_qsbr_quiescent_state();
}

static void lfht_offline(void *th)
{
	(void)th;
	urcu_qsbr_thread_offline();
}

static void lfht_online(void *th)
{
	(void)th;
	urcu_qsbr_thread_online();
}

static uint64_t lfht_bytes(void *tab)
{
	unsigned long buckets = 1;

	(void)tab;
	while (buckets < NKEYS)
		buckets <<= 1;
	/* bucket array (one dummy node per bucket) + one malloc'd node per key (+16 B malloc
	 * header); an estimate from the layout, liburcu has no accounting call */
	return buckets * sizeof(struct cds_lfht_node) +
	       (uint64_t)NKEYS * (sizeof(struct lnode) + 16);
}

static const struct table_ops lfht_ops = {
	.name = "lfht",
	.create = lfht_create,
	.destroy = lfht_destroy,
	.thread_init = lfht_thread_init,
	.thread_fini = lfht_thread_fini,
	.lookup = lfht_lookup,
	.insert = lfht_insert,
	.raise = lfht_raise,
	.quiescent = lfht_quiescent,
	.offline = lfht_offline,
	.online = lfht_online,
	.bytes = lfht_bytes,
};

/* ---- rtehash: DPDK rte_hash, lock-free readers, multi-writer add ------------------------- */

#if PG_HAVE_DPDK
struct rtab {
	struct rte_hash *h;
	struct qsbr *q; /* defers freeing replaced bodies: rte_hash stores only the pointer */
};

struct rthread {
	struct rtab *r;
	struct qsbr_thread *q;
};

static bool eal_ok;

static uint32_t rte_keyhash(const void *key, uint32_t len, uint32_t init)
{
	const struct pg_key *k = key;

	(void)len;
	(void)init;
	return (uint32_t)k->hi; /* keys are uniform hashes already */
}

static void rte_body_free(void *ctx, const void *ptr)
{
	(void)ctx;
	body_release(ptr);
}

static int rte_create(void **tab)
{
	struct rte_hash_parameters p = {
		.name = "bench_rvt",
		.entries = NKEYS + NKEYS / 4, /* cuckoo buckets of 8, plus per-lcore caches */
		.key_len = sizeof(struct pg_key),
		.hash_func = rte_keyhash,
		.socket_id = 0,
		.extra_flag =
		    RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_MULTI_WRITER_ADD,
	};
	struct qsbr_config qc = {
		.max_threads = THREADS_MAX + 1,
		.free_fn = rte_body_free,
	};
	struct rtab *r = calloc(1, sizeof(*r));
	int err;

	if (!r)
		return -ENOMEM;
	r->h = rte_hash_create(&p);
	if (!r->h) {
		err = -rte_errno;
		goto err_free_r;
	}
	err = qsbr_create(&qc, &r->q);
	if (err)
		goto err_free_hash;
	*tab = r;
	return 0;

err_free_hash:
	rte_hash_free(r->h);
err_free_r:
	free(r);
	return err;
}

static void rte_destroy(void *tab)
{
	struct rtab *r = tab;
	const void *key;
	void *data;
	uint32_t next = 0;

	while (rte_hash_iterate(r->h, &key, &data, &next) >= 0)
		body_release(data);
	rte_hash_free(r->h);
	qsbr_destroy(r->q);
	free(r);
}

static void *rte_thread_init(void *tab)
{
	struct rthread *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->r = tab;
	if (rte_thread_register() != 0 || qsbr_thread_register(t->r->q, &t->q) != 0) {
		free(t);
		return NULL;
	}
	return t;
}

static void rte_thread_fini(void *th)
{
	struct rthread *t = th;

	qsbr_thread_unregister(t->q);
	rte_thread_unregister();
	free(t);
}

static bool rte_lookup(void *th, const struct pg_key *k, uint32_t *version,
		       const struct pg_record **body)
{
	struct rthread *t = th;
	void *data;

	if (rte_hash_lookup_data(t->r->h, k, &data) < 0)
		return false;
	*body = data;
	*version = (*body)->version; /* the version lives in the body: a second cache line */
	return true;
}

static void rte_lookup_burst(void *th, const struct pg_key *k, unsigned n, uint32_t *versions)
{
	struct rthread *t = th;
	const void *kp[BURST];
	void *data[BURST];
	uint64_t hits = 0;

	for (unsigned i = 0; i < n; i++)
		kp[i] = &k[i];
	rte_hash_lookup_bulk_data(t->r->h, kp, n, &hits, data);
	for (unsigned i = 0; i < n; i++)
		if (hits & (1ull << i))
			__builtin_prefetch(data[i]);
	for (unsigned i = 0; i < n; i++)
		versions[i] = hits & (1ull << i) ? ((const struct pg_record *)data[i])->version : 0;
}

static bool rte_insert(void *th, const struct pg_key *k, const struct pg_record *body)
{
	struct rthread *t = th;

	return rte_hash_add_key_data(t->r->h, k, (void *)(uintptr_t)body) == 0;
}

/* Not atomic: another writer can slip in between the lookup and the overwrite. Measured as a
 * best case; rte_hash offers no compare-and-swap of the data. */
static bool rte_raise(void *th, const struct pg_key *k, const struct pg_record *body)
{
	struct rthread *t = th;
	void *data;

	if (rte_hash_lookup_data(t->r->h, k, &data) < 0 || !newer(data, body))
		return false;
	if (!qsbr_retire_reserve(t->q))
		return false;
	if (rte_hash_add_key_data(t->r->h, k, (void *)(uintptr_t)body) != 0)
		return false;
	qsbr_retire(t->q, data);
	return true;
}

static void rte_quiescent(void *th)
{
	qsbr_quiescent(((struct rthread *)th)->q);
}

static void rte_offline(void *th)
{
	qsbr_thread_offline(((struct rthread *)th)->q);
}

static void rte_online(void *th)
{
	qsbr_thread_online(((struct rthread *)th)->q);
}

static uint64_t rte_bytes(void *tab)
{
	(void)tab;
	return 0; /* rte_hash has no memory accounting call */
}

static const struct table_ops rte_ops = {
	.name = "rtehash",
	.create = rte_create,
	.destroy = rte_destroy,
	.thread_init = rte_thread_init,
	.thread_fini = rte_thread_fini,
	.lookup = rte_lookup,
	.lookup_burst = rte_lookup_burst,
	.insert = rte_insert,
	.raise = rte_raise,
	.quiescent = rte_quiescent,
	.offline = rte_offline,
	.online = rte_online,
	.bytes = rte_bytes,
};

/* The EAL heap (anonymous memory with --no-huge) gets transparent huge pages like the rest. */
static int eal_thp(const struct rte_memseg_list *msl, void *arg)
{
	(void)arg;
	madvise(msl->base_va, msl->len, MADV_HUGEPAGE);
	return 0;
}

/* EAL pins the calling thread to its main lcore; give the process its CPUs back. */
static void eal_start(void)
{
	/* --no-shconf, not --in-memory: --no-huge implies --legacy-mem, which --in-memory
	 * refuses */
	char *argv[] = { "bench-rvt",	"--no-huge",	 "--no-pci",	   "-l", "0", "-m", "1024",
			 "--no-shconf", "--log-level=1", "--no-telemetry", NULL };
	cpu_set_t cpus;

	pthread_getaffinity_np(pthread_self(), sizeof(cpus), &cpus);
	if (rte_eal_init((int)PG_ARRAY_SIZE(argv) - 1, argv) < 0) {
		printf("rtehash: skipped, rte_eal_init failed: %s\n", rte_strerror(rte_errno));
		return;
	}
	pthread_setaffinity_np(pthread_self(), sizeof(cpus), &cpus);
	rte_memseg_list_walk(eal_thp, NULL);
	eal_ok = true;
}
#endif

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
