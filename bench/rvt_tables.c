/*
 * rvt_tables.c - bench-rvt's shared keys, bodies and body pools, and two of its tables: ours
 * (rvt.h, QSBR reclamation of replaced bodies) and a plain open-addressing table of the same
 * slot layout and hash under one pthread mutex (rvt_tables.h).
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

#include "pg_assert.h"
#include "pg_error.h"
#include "rvt.h"
#include "rvt_tables.h"

/* ---- keys, bodies and per-thread body pools ------------------------------------------ */

struct pg_record *v1_bodies; /* version 1 of every key, never freed one by one */
__thread struct pool *tls_pool;

/* Key k, computed as a worker computes it for each received record: one xxHash3-128 of the id
 * and a creator the length of a peer name (40 hex digits, a dot, a classifier). (Loading it
 * from a 16 MB array instead would add a cache miss to every table's every operation.) */
struct pg_key key_of(uint64_t k)
{
	static const char creator[] = "0123456789abcdef0123456789abcdef01234567.bench";
	struct pg_guid id = { { 0 } };
	uint32_t i = (uint32_t)k;

	memcpy(id.b, &i, sizeof(i));
	return pg_record_key(0xbe5c4ull, &id, creator, sizeof(creator) - 1);
}

bool is_v1(const struct pg_record *b)
{
	return b >= v1_bodies && b < v1_bodies + NKEYS;
}

void body_init(struct pg_record *b, uint32_t version, uint64_t expires_us)
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

struct pg_record *pool_get(struct pool *p)
{
	if (p->n)
		return (struct pg_record *)(uintptr_t)p->items[--p->n];
	p->mallocs++;
	return malloc(sizeof(struct pg_record));
}

/* Takes back a body the table released, into the pool of the thread that released it (a
 * version-1 body too: its slot of the array is reused until the next table run). */
void body_release(const struct pg_record *b)
{
	struct pool *p = tls_pool;

	if (p && p->n < POOL_CAP) {
		p->items[p->n++] = b;
		return;
	}
	if (!is_v1(b))
		free((void *)(uintptr_t)b);
}

void pool_init(struct pool *p)
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

void pool_fini(struct pool *p)
{
	while (p->n) {
		const struct pg_record *b = p->items[--p->n];

		if (!is_v1(b))
			free((void *)(uintptr_t)b);
	}
	free(p->items);
}

void v1_init(void)
{
	for (uint32_t i = 0; i < NKEYS; i++)
		body_init(&v1_bodies[i], 1, 1000000);
}

/* The decision every table makes before swapping a body in. */
bool newer(const struct pg_record *cur, const struct pg_record *rec)
{
	return pg_record_order(rec, cur) > 0 && pg_record_check_update(cur, rec) == 0;
}

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

const struct table_ops ours_ops = {
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

const struct table_ops mutex_ops = {
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
