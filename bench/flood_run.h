/*
 * flood_run.h - one measured flood between running peergraphd nodes (flood_nodes.h), and the
 * latency phase: what bench_flood.c strings together.
 *
 * A run publishes n records on node 0 and times them to every other node, on a graph of its
 * own (created, wired, and deleted afterwards on every node):
 *   - one publisher connection adds records of FLOOD_PAYLOAD bytes in batches of FLOOD_BATCH
 *     (libpeergraph sends them as pipelined frames; each call returns once durable on node 0);
 *     records answered busy are added again after a pause;
 *   - a watcher thread per other node polls that node's graph status (COUNT: records
 *     *stored*) every FLOOD_POLL_US until it holds n;
 *   - once every watcher saw n, each adds one fence record on its own node: the fence's
 *     acknowledgement means that node's store is durable up to it, and the store's log is one
 *     sequence, so durable up to every record stored before it. The fence may wait for one
 *     group commit more than the records would have: "durable" is an upper bound.
 * Every wait is bounded by the run's deadline; a run that misses it fails with the reason.
 */
#ifndef PG_FLOOD_RUN_H
#define PG_FLOOD_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "flood_nodes.h"

enum {
	FLOOD_PAYLOAD = 128,
	FLOOD_BATCH = 16384, /* records of one peergraph_record_add in a run */
	FLOOD_POLL_US = 1000,
	FLOOD_RUNS_MAX = 9,
};

struct flood_run {
	bool ok;
	char why[FN_MSG]; /* when !ok */
	uint64_t n, busy, retransmits;
	double pub_s, stored_s,
	    durable_s;		      /* first add -> publisher acked / last stored / durable */
	int64_t cpu_ns[FN_NODES_MAX]; /* each daemon's CPU during the run */
	int64_t client_cpu_ns;	      /* this process's (publisher, watchers) */
	/* each daemon's resident memory growth and minor page faults during the run (-1: not
	 * read): what a record costs in fresh memory */
	int64_t rss_bytes[FN_NODES_MAX], minflt[FN_NODES_MAX];
	struct fn_prof prof[FN_NODES_MAX]; /* when profiled */
};

/* The run as the header says, on nodes[0..nn) joined by edges, deadline_s at most; with
 * profile, perf / strace is attached to every daemon for the run. Fails (dies) only when the
 * graph cannot be set up; a run that misses its deadline comes back with ok false. */
void flood_run(struct fn_node *nodes, unsigned nn, const unsigned (*edges)[2], unsigned ne,
	       uint64_t n, double deadline_s, bool profile, struct flood_run *r);
/* Records per second until durable on every node; NAN for a failed run. */
double flood_run_rate(const struct flood_run *r);

struct flood_lat {
	bool ok;
	char why[FN_MSG];
	double target_s, offered_s;	  /* records/s asked for / actually offered */
	uint64_t sent, seen, lost, other; /* other: events not of this phase's records */
	double p50_ms, p99_ms, max_ms;
};

/* The latency phase on nodes[0] -> nodes[1] (already linked by the caller's daemons: it
 * wires a graph of its own): n records offered at rate records/s by 4 paced
 * connections, a subscriber on node 1 taking ADDED events. Dies only on set-up failures. */
void flood_latency(struct fn_node *nodes, uint64_t n, double rate, double deadline_s,
		   struct flood_lat *out);

/* ---- records, for flood_run.c and flood_lat.c ---- */

/* up to cap records with their payloads and results (flood_batch_create) */
struct flood_batch {
	size_t cap;
	struct peergraph_record *r;
	int *res;
	uint8_t (*pay)[FLOOD_PAYLOAD];
};

extern const struct peergraph_guid flood_rec_type, flood_fence_type;

/* Allocates a batch of cap records; dies on want of memory. */
void flood_batch_create(struct flood_batch *bt, size_t cap);
void flood_batch_destroy(struct flood_batch *bt);
/* Fills m records: id = (run, first + i), payload = CLOCK_MONOTONIC ns now | first + i |
 * filler, an hour's lifetime. */
void flood_batch_fill(struct flood_batch *bt, size_t m, uint64_t run, uint64_t first,
		      const struct peergraph_guid *type);
/* Adds bt's first m records until every one is in, re-adding those answered busy after a
 * pause (counted in *busy) until deadline (CLOCK_MONOTONIC ns). 0, or an error with *why. */
int flood_batch_add(struct peergraph *pg, const char *graph, struct flood_batch *bt, size_t m,
		    uint64_t *busy, uint64_t deadline, const char **why);
/* This process's CPU time (every thread), ns. */
int64_t flood_self_cpu_ns(void);

/* Exits with the reason after fn_cleanup (atexit) stopped everything. */
_Noreturn void flood_die(const char *what, const char *why);

#endif
