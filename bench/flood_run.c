/*
 * flood_run.c - one measured flood between peergraphd nodes: a publisher, a watcher per far
 * node, the durability fences (flood_run.h).
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "flood_run.h"
#include "pg_time.h"

enum {
	BUSY_WAIT_US = 500, /* before records answered busy are added again */
	MEET_WAIT_MS = 10,  /* a watcher's wait for the others, between deadline checks */
};

const struct peergraph_guid flood_rec_type = { { 0xf1, 0x00, 0xd0 } };
const struct peergraph_guid flood_fence_type = { { 0xf1, 0x00, 0xde } };

_Noreturn void flood_die(const char *what, const char *why)
{
	fprintf(stderr, "bench-flood: %s: %s\n", what, why);
	exit(1); /* fn_cleanup (atexit) stops the daemons and removes the directory */
}

static double secs(uint64_t ns)
{
	return (double)ns / 1e9;
}

int64_t flood_self_cpu_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000 +
	       ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
}

/* ---- records ---- */

void flood_batch_create(struct flood_batch *bt, size_t cap)
{
	bt->cap = cap;
	bt->r = calloc(cap, sizeof(*bt->r));
	bt->res = calloc(cap, sizeof(*bt->res));
	bt->pay = calloc(cap, sizeof(*bt->pay));
	if (!bt->r || !bt->res || !bt->pay)
		flood_die("batch", strerror(ENOMEM));
}

void flood_batch_destroy(struct flood_batch *bt)
{
	free(bt->r);
	free(bt->res);
	free(bt->pay);
	memset(bt, 0, sizeof(*bt));
}

void flood_batch_fill(struct flood_batch *bt, size_t m, uint64_t run, uint64_t first,
		      const struct peergraph_guid *type)
{
	uint64_t stamp = pg_mono_ns(), exp = pg_time_now_us() + 3600 * PG_USEC_PER_SEC;

	if (m > bt->cap)
		flood_die("batch", "more records than it holds");
	memset(bt->r, 0, m * sizeof(bt->r[0]));
	for (size_t i = 0; i < m; i++) {
		uint64_t k = first + i;

		bt->r[i].type = *type;
		memcpy(bt->r[i].id.b, &run, 8);
		memcpy(bt->r[i].id.b + 8, &k, 8);
		memcpy(bt->pay[i], &stamp, 8);
		memcpy(bt->pay[i] + 8, &k, 8);
		memset(bt->pay[i] + 16, 'f', FLOOD_PAYLOAD - 16);
		bt->r[i].payload = bt->pay[i];
		bt->r[i].payload_len = FLOOD_PAYLOAD;
		bt->r[i].expires_us = exp;
	}
}

int flood_batch_add(struct peergraph *pg, const char *graph, struct flood_batch *bt, size_t m,
		    uint64_t *busy, uint64_t deadline, const char **why)
{
	/* bounded by the deadline: every round that leaves records pauses BUSY_WAIT_US */
	while (m) {
		long got = peergraph_record_add(pg, graph, bt->r, m, bt->res);
		size_t keep = 0;

		if (got < 0 && got != PEERGRAPH_E_BUSY && got != -EBUSY) {
			*why = peergraph_strerror((int)got);
			return (int)got;
		}
		for (size_t i = 0; i < m; i++) {
			if (got >= 0 && bt->res[i] == 0)
				continue;
			if (got >= 0 && bt->res[i] != PEERGRAPH_E_BUSY) {
				*why = peergraph_strerror(bt->res[i]);
				return bt->res[i];
			}
			bt->r[keep] = bt->r[i];
			memmove(bt->pay[keep], bt->pay[i], FLOOD_PAYLOAD);
			bt->r[keep].payload = bt->pay[keep];
			keep++;
		}
		*busy += keep;
		m = keep;
		if (m && pg_mono_ns() > deadline) {
			*why = "still answered busy at the deadline";
			return -ETIMEDOUT;
		}
		if (m)
			usleep(BUSY_WAIT_US);
	}
	return 0;
}

/* ---- the watchers ---- */

/* Where the watchers meet once each saw every record, before the fences. */
struct meet {
	pthread_mutex_t lock;
	pthread_cond_t cv;
	unsigned arrived, parties;
	bool abort;
	uint64_t t0, deadline;
};

struct watcher {
	pthread_t th;
	struct meet *m;
	struct peergraph *pg;
	const char *graph;
	uint64_t want, run, index;
	uint64_t t_stored, t_durable; /* ns after t0 */
	int err;
	char why[FN_MSG];
};

static bool meet_aborted(struct meet *m)
{
	bool a;

	pthread_mutex_lock(&m->lock);
	a = m->abort;
	pthread_mutex_unlock(&m->lock);
	return a;
}

static void meet_abort(struct meet *m)
{
	pthread_mutex_lock(&m->lock);
	m->abort = true;
	pthread_cond_broadcast(&m->cv);
	pthread_mutex_unlock(&m->lock);
}

/* Arrives and waits for the others: true when all came before the deadline, none aborting. */
static bool meet_all(struct meet *m)
{
	bool ok;

	pthread_mutex_lock(&m->lock);
	m->arrived++;
	pthread_cond_broadcast(&m->cv);
	while (m->arrived < m->parties && !m->abort && pg_mono_ns() < m->deadline) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += MEET_WAIT_MS * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&m->cv, &m->lock, &ts);
	}
	ok = m->arrived == m->parties && !m->abort;
	pthread_mutex_unlock(&m->lock);
	return ok;
}

static void *watch_main(void *arg)
{
	struct watcher *w = arg;
	struct peergraph_graph_status st;
	struct flood_batch fence;
	const char *why = "";
	uint64_t busy = 0;

	for (;;) {
		if ((w->err = peergraph_graph_status(w->pg, w->graph, &st))) {
			snprintf(w->why, sizeof(w->why), "status: %s", peergraph_strerror(w->err));
			goto fail;
		}
		if (st.records >= w->want)
			break;
		if (pg_mono_ns() > w->m->deadline || meet_aborted(w->m)) {
			w->err = -ETIMEDOUT;
			snprintf(w->why, sizeof(w->why), "%llu of %llu records stored",
				 (unsigned long long)st.records, (unsigned long long)w->want);
			goto fail;
		}
		usleep(FLOOD_POLL_US);
	}
	w->t_stored = pg_mono_ns() - w->m->t0;
	if (!meet_all(w->m))
		return NULL; /* someone else failed and says why */
	flood_batch_create(&fence, 1);
	flood_batch_fill(&fence, 1, w->run, UINT64_MAX - w->index, &flood_fence_type);
	w->err = flood_batch_add(w->pg, w->graph, &fence, 1, &busy, w->m->deadline, &why);
	flood_batch_destroy(&fence);
	if (w->err) {
		snprintf(w->why, sizeof(w->why), "fence add: %s", why);
		goto fail;
	}
	w->t_durable = pg_mono_ns() - w->m->t0;
	return NULL;
fail:
	meet_abort(w->m);
	return NULL;
}

/* ---- a run ---- */

static void connect_all(struct peergraph **pg, const struct fn_node *nodes, unsigned nn)
{
	for (unsigned i = 0; i < nn; i++) {
		int err = peergraph_connect(nodes[i].sock, &pg[i]);

		if (err)
			flood_die(nodes[i].sock, peergraph_strerror(err));
	}
}

static void close_all(struct peergraph **pg, unsigned nn, const char *graph)
{
	for (unsigned i = 0; i < nn; i++) {
		peergraph_graph_delete(pg[i], graph); /* its store and its links go */
		peergraph_close(pg[i]);
	}
}

static uint64_t retransmits_of(struct peergraph **pg, unsigned nn, const char *graph)
{
	struct peergraph_neighbour nb[FN_NODES_MAX];
	uint64_t sum = 0;

	for (unsigned i = 0; i < nn; i++) {
		unsigned n = 0;

		if (peergraph_graph_neighbours(pg[i], graph, nb, FN_NODES_MAX, &n) == 0)
			for (unsigned k = 0; k < n && k < FN_NODES_MAX; k++)
				sum += nb[k].retransmits;
	}
	return sum;
}

static unsigned graph_serial;

/* The publisher: n records in FLOOD_BATCH batches. 0 or an error with *why. */
static int publish(struct peergraph *pub, const char *graph, uint64_t run, uint64_t n,
		   uint64_t deadline, uint64_t *busy, const char **why)
{
	struct flood_batch bt;
	int err = 0;

	flood_batch_create(&bt, FLOOD_BATCH);
	for (uint64_t done = 0; done < n && !err; done += FLOOD_BATCH) {
		size_t k = n - done < FLOOD_BATCH ? (size_t)(n - done) : FLOOD_BATCH;

		flood_batch_fill(&bt, k, run, done, &flood_rec_type);
		err = flood_batch_add(pub, graph, &bt, k, busy, deadline, why);
	}
	flood_batch_destroy(&bt);
	return err;
}

void flood_run(struct fn_node *nodes, unsigned nn, const unsigned (*edges)[2], unsigned ne,
	       uint64_t n, double deadline_s, bool profile, struct flood_run *r)
{
	struct peergraph *pg[FN_NODES_MAX], *pub;
	struct watcher w[FN_NODES_MAX];
	struct meet m = { .parties = nn - 1 };
	pthread_condattr_t ca;
	char graph[32], msg[FN_MSG];
	const char *why = "";
	uint64_t run = ((uint64_t)getpid() << 32) | ++graph_serial;
	int64_t client0;
	int err;

	if (nn < 2 || nn > FN_NODES_MAX)
		flood_die("flood_run", "2 to FN_NODES_MAX nodes");
	memset(r, 0, sizeof(*r));
	r->n = n;
	snprintf(graph, sizeof(graph), "flood%u", graph_serial);
	connect_all(pg, nodes, nn);
	if ((err = fn_graph_wire(pg, nodes, nn, graph, edges, ne, msg, sizeof(msg))))
		flood_die("wiring the graph", msg);
	if ((err = peergraph_connect(nodes[0].sock, &pub)))
		flood_die("publisher connect", peergraph_strerror(err));
	pthread_mutex_init(&m.lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&m.cv, &ca);
	for (unsigned i = 0; profile && i < nn; i++)
		if ((err = fn_prof_start(&r->prof[i], nodes[i].pid)))
			flood_die("perf / strace", strerror(-err));
	for (unsigned i = 0; i < nn; i++) {
		r->cpu_ns[i] = -fn_cpu_ns(nodes[i].pid);
		if (fn_mem(nodes[i].pid, &r->rss_bytes[i], &r->minflt[i])) {
			r->rss_bytes[i] = -r->rss_bytes[i];
			r->minflt[i] = -r->minflt[i];
		} else {
			r->rss_bytes[i] = r->minflt[i] = INT64_MIN;
		}
	}
	client0 = flood_self_cpu_ns();
	m.t0 = pg_mono_ns();
	m.deadline = m.t0 + (uint64_t)(deadline_s * 1e9);
	for (unsigned i = 1; i < nn; i++) {
		w[i] = (struct watcher){
			.m = &m, .pg = pg[i], .graph = graph, .want = n, .run = run, .index = i
		};
		if (pthread_create(&w[i].th, NULL, watch_main, &w[i]))
			flood_die("pthread_create", strerror(errno));
	}
	err = publish(pub, graph, run, n, m.deadline, &r->busy, &why);
	r->pub_s = secs(pg_mono_ns() - m.t0);
	if (err) {
		snprintf(r->why, sizeof(r->why), "publisher: %s", why);
		meet_abort(&m);
	}
	for (unsigned i = 1; i < nn; i++) {
		pthread_join(w[i].th, NULL);
		if (w[i].err && !r->why[0])
			snprintf(r->why, sizeof(r->why), "node %u: %s", i, w[i].why);
		r->stored_s = fmax(r->stored_s, secs(w[i].t_stored));
		r->durable_s = fmax(r->durable_s, secs(w[i].t_durable));
	}
	r->stored_s = fmax(r->stored_s, r->pub_s);
	r->durable_s = fmax(r->durable_s, r->pub_s);
	for (unsigned i = 0; i < nn; i++) {
		int64_t rss, flt;

		r->cpu_ns[i] += fn_cpu_ns(nodes[i].pid);
		if (r->rss_bytes[i] != INT64_MIN && fn_mem(nodes[i].pid, &rss, &flt)) {
			r->rss_bytes[i] += rss;
			r->minflt[i] += flt;
		} else {
			r->rss_bytes[i] = r->minflt[i] = -1;
		}
	}
	r->client_cpu_ns = flood_self_cpu_ns() - client0;
	for (unsigned i = 0; profile && i < nn; i++)
		fn_prof_stop(&r->prof[i]);
	r->ok = !r->why[0];
	r->retransmits = retransmits_of(pg, nn, graph);
	pthread_cond_destroy(&m.cv);
	pthread_condattr_destroy(&ca);
	pthread_mutex_destroy(&m.lock);
	peergraph_close(pub);
	close_all(pg, nn, graph);
}

double flood_run_rate(const struct flood_run *r)
{
	return r->ok ? (double)r->n / r->durable_s : NAN;
}
