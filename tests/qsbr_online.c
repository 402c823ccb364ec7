/*
 * qsbr_online.c - regression test: a thread coming online must not have objects freed under it.
 *
 * A reader goes online, loads the protected pointer (seq_cst, as qsbr.h prescribes) and checks
 * the object stays alive until it goes offline again; a writer meanwhile unlinks the object,
 * retires it and reclaims as hard as it can. The free callback poisons the object instead of
 * freeing it, so a premature free is seen, not crashed on. With the online announcement as a
 * plain release store this saw 20-50 premature frees per 3 M rounds on x86-64 (the store sat in
 * the store buffer while the protected load went ahead: the store-buffering pattern); it must
 * see none. A plain program, bounded in rounds and in time.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include "pg_time.h"
#include "qsbr.h"

enum {
	ROUNDS = 2000000,
	SPINS_BEFORE_YIELD = 1000,
};
#define DEADLINE_NS (20ull * 1000000000ull)

struct obj {
	_Atomic int alive;
};

static struct obj objs[2];
static _Atomic(struct obj *) ptr;
static _Atomic int go, done, stop;
static long premature, held_unlinked;
static struct qsbr *domain;

static void poison(void *ctx, const void *p)
{
	(void)ctx;
	atomic_store_explicit(&((struct obj *)p)->alive, 0, memory_order_relaxed);
}

/* Spins until *v == want or the run is stopped; yields now and then (a busy host may give both
 * threads one CPU). */
static bool wait_for(_Atomic int *v, int want)
{
	for (unsigned n = 0; atomic_load_explicit(v, memory_order_acquire) != want; n++) {
		if (atomic_load_explicit(&stop, memory_order_relaxed))
			return false;
		if (n % SPINS_BEFORE_YIELD == SPINS_BEFORE_YIELD - 1)
			sched_yield();
	}
	return true;
}

static void *reader(void *arg)
{
	struct qsbr_thread *th;

	(void)arg;
	if (qsbr_thread_register(domain, &th))
		return NULL;
	qsbr_thread_offline(th);
	for (int i = 1; i <= ROUNDS && wait_for(&go, i); i++) {
		qsbr_thread_online(th);
		struct obj *p = atomic_load(&ptr); /* the protected load */

		if (p == &objs[(i - 1) & 1])
			held_unlinked++;
		for (int k = 0; k < 64; k++) {
			if (!atomic_load_explicit(&p->alive, memory_order_relaxed)) {
				premature++;
				break;
			}
		}
		qsbr_thread_offline(th);
		atomic_store_explicit(&done, i, memory_order_release);
	}
	qsbr_thread_unregister(th);
	return NULL;
}

int main(void)
{
	struct qsbr_config c = { .max_threads = 2, .retire_max = 4, .free_fn = poison };
	uint64_t until = pg_mono_ns() + DEADLINE_NS;
	struct qsbr_thread *w;
	pthread_t t;
	int i;

	if (qsbr_create(&c, &domain) || qsbr_thread_register(domain, &w) ||
	    pthread_create(&t, NULL, reader, NULL)) {
		fprintf(stderr, "qsbr_online: setup failed\n");
		return 1;
	}
	for (i = 1; i <= ROUNDS && pg_mono_ns() < until; i++) {
		struct obj *old = &objs[(i - 1) & 1], *neu = &objs[i & 1];

		atomic_store(&old->alive, 1);
		atomic_store(&neu->alive, 1);
		atomic_store(&ptr, old);
		atomic_store_explicit(&go, i, memory_order_release);
		for (volatile int k = 0; k < (i % 5) * 2; k++)
			;
		qsbr_retire_reserve(w);
		atomic_exchange(&ptr, neu); /* unlink */
		qsbr_retire(w, old);
		qsbr_reclaim(w);   /* starts the grace period */
		qsbr_quiescent(w); /* this thread saw the new epoch */
		qsbr_reclaim(w);   /* frees old if every online thread saw it too */
		if (!wait_for(&done, i))
			break;
		qsbr_thread_offline(w); /* the reader is offline: free what is left */
		qsbr_reclaim(w);
		qsbr_thread_online(w);
	}
	atomic_store(&stop, 1);
	pthread_join(t, NULL);
	qsbr_thread_unregister(w);
	qsbr_destroy(domain);
	printf("qsbr_online: %d rounds, reader held the unlinked object %ld times, saw it freed "
	       "under it %ld times\n",
	       i - 1, held_unlinked, premature);
	if (i - 1 < 1000) {
		fprintf(stderr, "qsbr_online: too few rounds in the time bound to mean anything\n");
		return 1;
	}
	return premature == 0 ? 0 : 1;
}
