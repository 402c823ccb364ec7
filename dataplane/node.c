/*
 * node.c - a node's dataplane workers (node.h).
 *
 * The stores attached are one array under one mutex, which a worker holds for its turn over
 * its share of them and detach takes to remove one: so a store detached is never touched again,
 * and the lock is taken once per turn per worker (every tick, not per record).
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node.h"
#include "pg_time.h"

struct worker {
	struct dp_node *n;
	unsigned no;
	pthread_t thread;
};

struct dp_node {
	pthread_mutex_t lock;
	pthread_cond_t stop_cv;
	bool stop;
	uint32_t tick_us;
	unsigned nworkers;
	struct worker w[DP_WORKERS_MAX];
	struct pg_store *stores[DP_STORES_MAX];
	unsigned nstores;
};

/* Waits one tick, or less when the node is stopping. Called and returns with the lock. */
static void tick_wait(struct dp_node *n)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_nsec += (long)n->tick_us * 1000;
	ts.tv_sec += ts.tv_nsec / 1000000000;
	ts.tv_nsec %= 1000000000;
	pthread_cond_timedwait(&n->stop_cv, &n->lock, &ts);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct dp_node *n = w->n;

	pthread_mutex_lock(&n->lock);
	while (!n->stop) {
		uint64_t now = pg_time_now_us();

		for (unsigned i = w->no; i < n->nstores; i += n->nworkers)
			pg_store_expire(n->stores[i], now, DP_EXPIRE_PER_TURN);
		tick_wait(n);
	}
	pthread_mutex_unlock(&n->lock);
	return NULL;
}

int dp_node_create(const struct dp_node_config *cfg, struct dp_node **out)
{
	struct dp_node *n;
	int err = 0;

	*out = NULL;
	if (!cfg || cfg->workers == 0 || cfg->workers > DP_WORKERS_MAX)
		return -EINVAL;
	if (!(n = calloc(1, sizeof(*n))))
		return -ENOMEM;
	pthread_mutex_init(&n->lock, NULL);
	pthread_condattr_t ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&n->stop_cv, &ca);
	pthread_condattr_destroy(&ca);
	n->tick_us = cfg->tick_us ? cfg->tick_us : DP_TICK_US_DEFAULT;
	for (unsigned i = 0; i < cfg->workers; i++) {
		n->w[i] = (struct worker){ .n = n, .no = i };
		if ((err = pthread_create(&n->w[i].thread, NULL, worker_main, &n->w[i]))) {
			err = -err;
			break;
		}
		n->nworkers++;
	}
	if (err) {
		dp_node_destroy(n);
		return err;
	}
	*out = n;
	return 0;
}

void dp_node_destroy(struct dp_node *n)
{
	if (!n)
		return;
	pthread_mutex_lock(&n->lock);
	n->stop = true;
	pthread_cond_broadcast(&n->stop_cv);
	pthread_mutex_unlock(&n->lock);
	for (unsigned i = 0; i < n->nworkers; i++)
		pthread_join(n->w[i].thread, NULL);
	pthread_cond_destroy(&n->stop_cv);
	pthread_mutex_destroy(&n->lock);
	free(n);
}

int dp_node_attach(struct dp_node *n, struct pg_store *s)
{
	int err = 0;

	pthread_mutex_lock(&n->lock);
	if (n->nstores == DP_STORES_MAX)
		err = -ENOSPC;
	else
		n->stores[n->nstores++] = s;
	pthread_mutex_unlock(&n->lock);
	return err;
}

void dp_node_detach(struct dp_node *n, struct pg_store *s)
{
	pthread_mutex_lock(&n->lock);
	for (unsigned i = 0; i < n->nstores; i++) {
		if (n->stores[i] == s) {
			memmove(&n->stores[i], &n->stores[i + 1],
				(n->nstores - i - 1) * sizeof(n->stores[0]));
			n->nstores--;
			break;
		}
	}
	pthread_mutex_unlock(&n->lock);
}
