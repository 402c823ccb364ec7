/*
 * rvt_baselines.c - bench-rvt's well-known baselines behind its table interface
 * (rvt_tables.h): liburcu's cds_lfht (QSBR flavour, fixed bucket count, replaced nodes freed
 * in batches after urcu_qsbr_synchronize_rcu()) and DPDK's rte_hash (lock-free readers,
 * multi-writer add, bodies freed through our QSBR module: rte_hash stores only a pointer).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <urcu/urcu-qsbr.h>
#include <urcu/rculfhash.h>

#include "pg_assert.h"
#include "pg_error.h"
#include "qsbr.h"
#include "rvt_tables.h"

#if PG_HAVE_DPDK
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_lcore.h>
#include <rte_memory.h>
#endif

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

const struct table_ops lfht_ops = {
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

bool eal_ok;

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

const struct table_ops rte_ops = {
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
void eal_start(void)
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
