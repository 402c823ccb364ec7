/*
 * node_impl.h - what node.c (lifecycle, the control thread's calls) and node_worker.c (the
 * burst loop) share. Not for other files.
 *
 * Ownership: a worker owns its socket, its endpoint (links), its fault filter and its list of
 * per-graph states (struct wgraph); nothing else touches them. The control thread reaches a
 * worker only through its command queue (a mutex taken by the worker only when a flag says a
 * command waits) and waits for the commands that must be done before it returns (add,
 * remove, neighbours). A graph (struct dp_graph) is shared: its version table and rings are
 * made for many threads; its counters are atomics.
 */
#ifndef DP_NODE_IMPL_H
#define DP_NODE_IMPL_H

#include <pthread.h>
#include <stdatomic.h>

#include "endpoint.h"
#include "fault.h"
#include "io/io.h"
#include "node.h"
#include "ring.h"
#include "rvt.h"

enum {
	NODE_BURST = 64,    /* datagrams received per turn */
	NODE_OUT = 256,	    /* datagrams sent per system call batch */
	NODE_CMDS = 64,	    /* commands waiting per worker */
	NODE_EVENTS = 4096, /* neighbour events waiting for the control thread */
	NODE_RVT_DEFAULT = 1u << 20,
};

struct dp_graph {
	struct dp_node *n;
	char id[DP_WIRE_GRAPH_MAX];
	uint16_t id_len;
	struct pg_store *store;
	struct pg_record_limits lim;
	uint64_t graph_key;
	uint32_t max_record; /* what a link carries: the record bound, within half a ring */
	struct rvt *rvt;
	struct rvt_thread *ctl_th; /* the control thread's (offline between calls) */
	struct dp_ring_set rings;  /* 0: the API's records; 1 + w: worker w's */
	bool secured;
	_Atomic bool listening;
	_Atomic unsigned links, connecting;
	unsigned expire_worker;
	struct rvt_thread *expire_th; /* set by the expiring worker around pg_store_expire */
	pg_store_event_fn user_fn;
	void *user_arg;
	_Atomic uint64_t records_local; /* published by this node */
};

/* The body the version table owns: a record's header, what the conflict order, the update
 * check and expiry read (rec, with no attributes and no payload), and the bytes its creator,
 * modifier and security data point to. Not the record's encoding: that is the store's, and
 * a copy here would be a third copy of every record in new memory (bench-flood's
 * rss_per_rec), for the rare older copy answered with ours (answered from the store). Allocated
 * with malloc; the table gives it back to body_free (node.c). */
struct body {
	struct pg_record rec; /* first: the table frees what it hands back */
	uint8_t bytes[];
};

/* dp_graph_prefetch of a key. */
void dp_graph_prefetch_key(struct dp_graph *g, struct pg_key key);

/* The body of rec, or NULL when out of memory. */
struct body *dp_body_of(const struct pg_record *rec);

/* A graph as one worker sees it. */
struct wgraph {
	struct dp_graph *g;
	struct rvt_thread *th;
	struct verify *v; /* secured graphs */
	unsigned nlinks;
	uint64_t heads[DP_RING_PRODUCERS]; /* the rings' heads when the links were last filled */
};

/* A link's flooding state (dp_ep_link.user). */
struct flink {
	struct wgraph *wg;
	struct dp_ring_cursor *cur;
};

enum cmd_kind { CMD_ADD = 1, CMD_REMOVE, CMD_CONNECT, CMD_DISCONNECT, CMD_NEIGHBOURS };

struct cmd {
	enum cmd_kind kind;
	struct dp_graph *g;
	struct dp_addr addr;
	struct dp_neighbour *out; /* NEIGHBOURS */
	unsigned max;
	unsigned *count; /* NEIGHBOURS: added to under the node's done lock */
	unsigned *found; /* DISCONNECT: links closed */
	bool wait;	 /* the control thread waits for it */
};

struct worker_stats {
	_Atomic uint64_t records_in, records_new, records_dup, records_stale, records_bad,
	    records_expired, records_store_err, records_flooded, records_answered,
	    datagrams_refused;
	_Atomic uint64_t verified, deferred, rejected, rejected_by[VERIFY_REASONS];
	_Atomic uint64_t stage_ns[DP_STAGES];
	/* the endpoint's and the links' counters, copied every 100 ms of a worker's turns */
	pthread_mutex_t snap_lock;
	struct dp_ep_stats ep;
	struct dp_io_stats io;
	uint64_t retransmits, reasm_timeouts, reasm_bad; /* links gone and live */
};

struct worker {
	struct dp_node *n;
	unsigned no;
	pthread_t thread;
	bool started;
	const struct dp_io_ops *ops;
	struct dp_io *io;
	bool gso;    /* the backend sends GSO runs: links pad full datagrams, sends merge them */
	int wake_fd; /* without a socket: an eventfd to sleep on */
	struct dp_ep *ep;
	struct dp_fault *fault;
	struct wgraph *g[DP_STORES_MAX];
	unsigned ng;

	pthread_mutex_t cmd_lock;
	_Atomic bool has_cmd;
	_Atomic bool asleep; /* in (or about to enter) its wait: producers wake it */
	struct cmd cmds[NODE_CMDS];
	unsigned ncmd;

	/* the turn */
	uint64_t now;  /* monotonic microseconds: links, timers */
	uint64_t wall; /* wall clock microseconds: records' times */
	uint64_t next_expire, next_snapshot;
	uint64_t gone_retrans, gone_reasm_timeout, gone_reasm_bad; /* under st.snap_lock */
	struct dp_ep_link *cur_el; /* the link whose datagram is being taken */
	struct wgraph *cur_wg;	   /* the graph of a deferred record being accepted */
	bool appended;		   /* this turn put records in our rings */
	uint8_t *answer_buf;	   /* our copy of a record, read from the store to answer */
	size_t answer_cap;
	struct dp_pkt pkts[NODE_BURST];
	struct dp_ep_out out[NODE_OUT];
	struct dp_tx tx[NODE_OUT];
	struct worker_stats st;
};

struct dp_node {
	struct dp_node_config cfg;
	char node_id[DP_NODE_ID_MAX + 1];
	_Atomic bool stop;
	unsigned nworkers;
	struct worker w[DP_WORKERS_MAX];
	struct dp_addr addr; /* bound; len 0: no dataplane socket */
	const char *backend;
	uint32_t tick_us;

	pthread_mutex_t lock; /* graphs, the done counter, events */
	pthread_cond_t done_cv;
	uint64_t done;
	struct dp_graph *graphs[DP_STORES_MAX];
	unsigned ngraphs, next_expire_worker, next_connect_worker;

	int event_fd;
	struct dp_graph_event ev[NODE_EVENTS];
	unsigned ev_head, ev_len;
	uint64_t ev_dropped;
};

/* node_worker.c */
void *dp_worker_main(void *arg);
/* node.c */
int dp_verifier(const struct dp_node *n, const char *id, uint16_t id_len,
		const struct pg_record_limits *lim, struct verify **out);
void dp_node_event_push(struct dp_node *n, const struct dp_graph_event *ev);
void dp_node_cmd_done(struct dp_node *n);
void dp_worker_wake(struct worker *w);
/* Wakes every sleeping worker but self (NULL: the control thread) after an append. */
void dp_wake_sleepers(struct dp_node *n, const struct worker *self);
void dp_addr_to_ep(const struct dp_addr *a, struct dp_ep_addr *out);
void dp_ep_to_addr(const struct dp_ep_addr *a, struct sockaddr_storage *out, socklen_t *len);

#endif
