/*
 * flood_lat.c - bench-flood's latency phase: add -> stored on the far node, as a subscriber
 * there sees it (flood_run.h).
 *
 * FLOOD_LAT_PUBS publisher connections to node 0 share a schedule of calls of LAT_BATCH
 * records, call c due at t0 + c x LAT_BATCH / rate (a connection is one thread; each call
 * returns only once durable on node 0, so several connections keep the offered rate while
 * each waits for its group commit). Every record carries in its payload the CLOCK_MONOTONIC
 * time its call started (one host: one clock). A subscriber on node 1 takes the ADDED events
 * of the graph and records now - stamp for each. A call that starts late is not made up for
 * by a burst: the offered rate printed is what was actually offered.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flood_run.h"
#include "pg_time.h"

enum {
	LAT_BATCH = 256,	  /* records per call */
	LAT_PUBS = 4,		  /* publisher connections */
	LAT_IDLE_NS = 2000000000, /* the subscriber stops this long after the last event */
	LAT_EVENT_MS = 100,	  /* one wait for an event */
};

struct lat_shared {
	const struct fn_node *nodes;
	const char *graph;
	uint64_t run, n, calls, t0, gap_ns, deadline;
	pthread_mutex_t lock;
	pthread_cond_t cv;
	bool sub_ready, pubs_done;
};

struct lat_pub {
	pthread_t th;
	struct lat_shared *sh;
	unsigned no;
	uint64_t sent, busy, last_start;
	int err;
	const char *why;
};

struct lat_sub {
	pthread_t th;
	struct lat_shared *sh;
	uint64_t *lat, seen, lost_daemon, lost_lib, other;
	int err;
	const char *why;
};

static void sleep_until(uint64_t due)
{
	uint64_t now = pg_mono_ns();

	if (due > now)
		usleep((useconds_t)((due - now) / 1000));
}

static void *pub_main(void *arg)
{
	struct lat_pub *p = arg;
	struct lat_shared *sh = p->sh;
	struct flood_batch bt;
	struct peergraph *pg;

	if ((p->err = peergraph_connect(sh->nodes[0].sock, &pg))) {
		p->why = peergraph_strerror(p->err);
		return NULL;
	}
	flood_batch_create(&bt, LAT_BATCH);
	for (uint64_t c = p->no; c < sh->calls && !p->err; c += LAT_PUBS) {
		uint64_t first = c * LAT_BATCH,
			 k = sh->n - first < LAT_BATCH ? sh->n - first : LAT_BATCH;

		sleep_until(sh->t0 + c * sh->gap_ns);
		if (pg_mono_ns() > sh->deadline) {
			p->err = -ETIMEDOUT;
			p->why = "the phase's deadline passed";
			break;
		}
		p->last_start = pg_mono_ns();
		flood_batch_fill(&bt, (size_t)k, sh->run, first, &flood_rec_type);
		p->err =
		    flood_batch_add(pg, sh->graph, &bt, (size_t)k, &p->busy, sh->deadline, &p->why);
		if (!p->err)
			p->sent += k;
	}
	flood_batch_destroy(&bt);
	peergraph_close(pg);
	return NULL;
}

/* One event: a latency sample, a loss count, or something else. */
static void sub_take(struct lat_sub *s, const struct peergraph_event *ev, uint64_t now)
{
	const struct peergraph_record *r = &ev->record;
	uint64_t stamp, run;

	if (ev->kind == PEERGRAPH_EVENT_LOST) {
		/* running totals: the library's ("" graph) and the daemon's subscription's */
		if (!ev->graph_id[0])
			s->lost_lib = ev->lost;
		else
			s->lost_daemon = ev->lost;
		return;
	}
	memcpy(&run, r->id.b, 8);
	if (ev->kind != PEERGRAPH_EVENT_ADDED || r->payload_len < 16 || run != s->sh->run ||
	    memcmp(&r->type, &flood_rec_type, sizeof(r->type)) || s->seen == s->sh->n) {
		s->other++;
		return;
	}
	memcpy(&stamp, r->payload, 8);
	s->lat[s->seen++] = now > stamp ? now - stamp : 0;
}

static void *sub_main(void *arg)
{
	struct lat_sub *s = arg;
	struct lat_shared *sh = s->sh;
	struct peergraph *pg = NULL;
	uint64_t last = pg_mono_ns();

	if ((s->err = peergraph_connect(sh->nodes[1].sock, &pg)) ||
	    (s->err = peergraph_subscribe(pg, sh->graph, 0)))
		s->why = peergraph_strerror(s->err);
	pthread_mutex_lock(&sh->lock);
	sh->sub_ready = true;
	pthread_cond_broadcast(&sh->cv);
	pthread_mutex_unlock(&sh->lock);
	while (!s->err && s->seen + s->lost_daemon + s->lost_lib < sh->n) {
		struct peergraph_event ev;
		uint64_t now;
		int rc = peergraph_event_next(pg, &ev, LAT_EVENT_MS);
		bool done;

		now = pg_mono_ns();
		if (rc < 0) {
			s->err = rc;
			s->why = peergraph_strerror(rc);
			break;
		}
		if (rc == 1) {
			sub_take(s, &ev, now);
			last = now;
		}
		pthread_mutex_lock(&sh->lock);
		done = sh->pubs_done;
		pthread_mutex_unlock(&sh->lock);
		if (now > sh->deadline || (done && now - last > LAT_IDLE_NS))
			break;
	}
	peergraph_close(pg);
	return NULL;
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, c = *(const uint64_t *)y;

	return (a > c) - (a < c);
}

/* Starts the subscriber and waits until it subscribed (or failed). */
static void sub_start(struct lat_sub *sub)
{
	struct lat_shared *sh = sub->sh;

	if (!(sub->lat = calloc(sh->n, sizeof(*sub->lat))))
		flood_die("latency samples", strerror(ENOMEM));
	if (pthread_create(&sub->th, NULL, sub_main, sub))
		flood_die("pthread_create", strerror(errno));
	pthread_mutex_lock(&sh->lock);
	while (!sh->sub_ready)
		pthread_cond_wait(&sh->cv, &sh->lock); /* sub_main sets it before anything else */
	pthread_mutex_unlock(&sh->lock);
}

static void lat_result(struct flood_lat *out, const struct lat_shared *sh, struct lat_sub *sub,
		       const struct lat_pub *pubs)
{
	uint64_t last = sh->t0;

	for (unsigned i = 0; i < LAT_PUBS; i++) {
		out->sent += pubs[i].sent;
		if (pubs[i].last_start > last)
			last = pubs[i].last_start;
		if (pubs[i].err && !out->why[0])
			snprintf(out->why, sizeof(out->why), "publisher %u: %s", i, pubs[i].why);
	}
	if (sub->err && !out->why[0])
		snprintf(out->why, sizeof(out->why), "subscriber: %s", sub->why);
	out->offered_s = (double)out->sent / ((double)(last - sh->t0 + sh->gap_ns) / 1e9);
	out->seen = sub->seen;
	out->lost = sub->lost_daemon + sub->lost_lib;
	out->other = sub->other;
	if (!out->why[0] && !sub->seen)
		snprintf(out->why, sizeof(out->why), "the subscriber saw no record");
	out->ok = !out->why[0];
	if (sub->seen) {
		qsort(sub->lat, sub->seen, sizeof(*sub->lat), cmp_u64);
		out->p50_ms = (double)sub->lat[sub->seen / 2] / 1e6;
		out->p99_ms = (double)sub->lat[sub->seen * 99 / 100] / 1e6;
		out->max_ms = (double)sub->lat[sub->seen - 1] / 1e6;
	}
}

void flood_latency(struct fn_node *nodes, uint64_t n, double rate, double deadline_s,
		   struct flood_lat *out)
{
	static const unsigned edge[1][2] = { { 0, 1 } };
	struct lat_shared sh = { .nodes = nodes, .graph = "latency", .n = n };
	struct lat_pub pubs[LAT_PUBS];
	struct lat_sub sub = { .sh = &sh };
	struct peergraph *pg[2];
	char msg[FN_MSG];
	int err;

	memset(out, 0, sizeof(*out));
	out->target_s = rate;
	for (unsigned i = 0; i < 2; i++)
		if ((err = peergraph_connect(nodes[i].sock, &pg[i])))
			flood_die(nodes[i].sock, peergraph_strerror(err));
	if ((err = fn_graph_wire(pg, nodes, 2, sh.graph, edge, 1, msg, sizeof(msg))))
		flood_die("wiring the latency graph", msg);
	pthread_mutex_init(&sh.lock, NULL);
	pthread_cond_init(&sh.cv, NULL);
	sh.run = ((uint64_t)getpid() << 32) | 0xffffu;
	sh.calls = (n + LAT_BATCH - 1) / LAT_BATCH;
	sh.gap_ns = (uint64_t)(1e9 * LAT_BATCH / rate);
	sub_start(&sub);
	sh.t0 = pg_mono_ns();
	sh.deadline = sh.t0 + (uint64_t)(deadline_s * 1e9);
	for (unsigned i = 0; i < LAT_PUBS; i++) {
		pubs[i] = (struct lat_pub){ .sh = &sh, .no = i };
		if (pthread_create(&pubs[i].th, NULL, pub_main, &pubs[i]))
			flood_die("pthread_create", strerror(errno));
	}
	for (unsigned i = 0; i < LAT_PUBS; i++)
		pthread_join(pubs[i].th, NULL);
	pthread_mutex_lock(&sh.lock);
	sh.pubs_done = true;
	pthread_mutex_unlock(&sh.lock);
	pthread_join(sub.th, NULL);
	lat_result(out, &sh, &sub, pubs);
	free(sub.lat);
	pthread_cond_destroy(&sh.cv);
	pthread_mutex_destroy(&sh.lock);
	for (unsigned i = 0; i < 2; i++) {
		peergraph_graph_delete(pg[i], sh.graph);
		peergraph_close(pg[i]);
	}
}
