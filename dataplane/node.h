/*
 * node.h - the dataplane of one node, as peergraphd starts it: its worker threads, its
 * dataplane socket, and the graphs it keeps and floods (doc/flood.md).
 *
 * Each worker is a burst loop over its own socket (all bound to the node's dataplane address
 * with SO_REUSEPORT, so the kernel steers each peer to one worker, which owns that peer's
 * links): receive a burst -> decode -> version table -> store -> flood rings -> links ->
 * send; then the expiry of the stores it serves. The control plane starts a node, adds the
 * graphs it opens, and drives links (listen, connect, disconnect) through this header only;
 * the dataplane includes no control-plane header. Calls below are for the control thread
 * unless said otherwise; the workers never block on it.
 */
#ifndef DP_NODE_H
#define DP_NODE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "endpoint.h"
#include "fault.h"
#include "link.h"
#include "record.h"
#include "store.h"
#include "verify.h"

enum {
	DP_WORKERS_MAX = 64,
	DP_STORES_MAX = 256,	   /* graphs one node serves */
	DP_TICK_US_DEFAULT = 1000, /* between expiry turns of a busy worker */
	/* between expiry turns of a worker that had nothing to do: an idle node wakes 100
	 * times a second, not 1000 (an expired record goes up to this late while idle) */
	DP_IDLE_TICK_US = 10000,
	DP_EXPIRE_PER_TURN = 4096, /* records one store expires per turn at most */
	DP_RING_BYTES_DEFAULT = 64 << 20,
	DP_PORT_DEFAULT = 3587,
	DP_NODE_ID_MAX = 256,
};

struct dp_node;
struct dp_graph;

struct dp_node_config {
	unsigned workers; /* 1 .. DP_WORKERS_MAX */
	uint32_t tick_us; /* 0: DP_TICK_US_DEFAULT */
	/* flooding: addr_len 0 = no dataplane socket (the node only keeps its stores' expiry) */
	struct sockaddr_storage addr;
	socklen_t addr_len;
	const char *backend; /* "uring" (default; falls back to "sockets") or "sockets" */
	const char *node_id; /* this node's name in HELLOs, 1 .. DP_NODE_ID_MAX bytes */
	struct dp_link_config link;
	struct dp_fault_config fault; /* all zero: no fault injection */
	uint64_t ring_bytes;	      /* each graph's ring per producer; 0: the default */
	uint64_t reasm_bytes;	      /* each worker's reassembly budget; 0: 256 MiB */
	int keytab_fd;	  /* > 0: the key table secured graphs verify against (attached read-only
			   * by each worker; shared/keytab.h); <= 0: no secured graph can be added */
	bool timing;	  /* time every stage of every record (bench: costs ~3 clock reads) */
	uint32_t slow_us; /* for tests: a worker spends this long on every DATA datagram it
			   * takes, as a slow node would (0: no such wait) */
};

/* Starts the workers (and binds their sockets). 0, -EINVAL, -ENOMEM, -errno of socket /
 * bind / pthread_create; msg (may be NULL) says what failed. */
int dp_node_create(const struct dp_node_config *cfg, struct dp_node **out, char *msg,
		   size_t msglen);
/* Stops the workers (links are closed, peers told) and frees the node; graphs still added are
 * removed first. NULL is fine. */
void dp_node_destroy(struct dp_node *n);
/* The dataplane address the workers are bound to (port 0 resolved). 0 or -ENOTCONN (no
 * dataplane socket). */
int dp_node_addr(const struct dp_node *n, struct sockaddr_storage *addr, socklen_t *len);
/* The io backend actually in use ("uring" or "sockets"), or "none". */
const char *dp_node_backend(const struct dp_node *n);

/* ---- graphs ---- */

struct dp_graph_config {
	const char *id; /* the graph id HELLOs name */
	uint16_t id_len;
	struct pg_store *store; /* stays the caller's; must outlive the graph */
	struct pg_record_limits limits;
	uint32_t capacity; /* records the version table holds; 0: 1 Mi */
	bool secured;	   /* records must carry a signature the key table vouches for */
	/* The node subscribes to the store (pg_store_subscribe) for the version table, and hands
	 * every store event on to this callback (NULL: none), under the same rules. */
	pg_store_event_fn on_event;
	void *on_event_arg;
};

/* Serves a graph from the next turn on: its store's expiry, and flooding over its links.
 * 0, -ENOSPC (DP_STORES_MAX), -ENOMEM, -ENOKEY (secured without a key table), or a
 * verifier's error (verify_create). */
int dp_node_graph_add(struct dp_node *n, const struct dp_graph_config *c, struct dp_graph **out);
/* Closes the graph's links and stops serving it; when it returns no worker touches it or its
 * store any more. NULL is fine. */
void dp_node_graph_remove(struct dp_node *n, struct dp_graph *g);

/* Accepts (or stops accepting) links for this graph from other nodes. */
void dp_graph_listen(struct dp_graph *g, bool on);
/* Starts connecting to a node at addr; the outcome comes as an event (NEIGHBOUR_UP with this
 * address, or CONNECT_FAILED). 0, -EINVAL, -ENOTCONN (no dataplane socket), -EAGAIN (the
 * workers' command queue is full: retry). */
int dp_graph_connect(struct dp_graph *g, const struct sockaddr *addr, socklen_t len);
/* Closes the links to addr. 0 or -ENOENT (no link to it). */
int dp_graph_disconnect(struct dp_graph *g, const struct sockaddr *addr, socklen_t len);

struct dp_neighbour {
	struct sockaddr_storage addr;
	socklen_t addr_len;
	char node[DP_NODE_ID_MAX + 1];
	bool initiator; /* we connected to it */
	unsigned worker;
	struct dp_link_stats link;
};
/* The graph's established links (a snapshot; up to max). Returns how many there are. */
unsigned dp_graph_neighbours(struct dp_graph *g, struct dp_neighbour *out, unsigned max);

struct dp_graph_status {
	bool listening;
	unsigned links, connecting;
};
void dp_graph_status(struct dp_graph *g, struct dp_graph_status *st);

/* Records this node made (the API's adds, updates and deletes) join the flood after the store
 * took them: dp_graph_room() first (false: answer PG_E_BUSY and store nothing), then the
 * store, then dp_graph_publish() with the record's view and exact encoding. Publish cannot
 * fail after room said yes for that many bytes (asserted). Room says no once the control
 * thread's ring is more than half full: a neighbour slower than the publisher. */
bool dp_graph_room(struct dp_graph *g, uint32_t len);
/* A hint before adding a batch: starts loading the version-table slot and the store's index
 * slot of the record (id, creator) a few records ahead of the one being added, so that its
 * two random reads overlap with the work on the others. */
void dp_graph_prefetch(struct dp_graph *g, const struct pg_guid *id, const char *creator,
		       uint16_t creator_len);
/* rec is a view of raw as pg_record_decode() makes it; both need to be valid only during the
 * call (the version table keeps a copy of the header). */
void dp_graph_publish(struct dp_graph *g, const struct pg_record *rec, const uint8_t *raw,
		      uint32_t len);
/* Tells the workers what was published since (a sleeping worker is woken; call it once per
 * batch: a wake-up is a system call). */
void dp_graph_flush(struct dp_graph *g);

/* ---- events (neighbours) ---- */

enum dp_graph_event_kind {
	DP_NEIGHBOUR_UP = 1,
	DP_NEIGHBOUR_DOWN = 2,
	DP_CONNECT_FAILED = 3,
};

struct dp_graph_event {
	enum dp_graph_event_kind kind;
	struct dp_graph *graph;
	struct sockaddr_storage addr;
	socklen_t addr_len;
	char node[DP_NODE_ID_MAX + 1]; /* UP, DOWN */
	uint32_t reason;	       /* DOWN, CONNECT_FAILED: DP_CLOSE_* (wire.h); 0: timeout */
	bool by_peer;
};

/* An eventfd that becomes readable when events are queued (the control thread polls it). */
int dp_node_event_fd(const struct dp_node *n);
/* Takes up to max queued events, oldest first. Returns how many; *dropped gets the events
 * lost since the last call (the queue is bounded). */
unsigned dp_node_events(struct dp_node *n, struct dp_graph_event *out, unsigned max,
			uint64_t *dropped);

/* ---- counters ---- */

/* Where a worker's time goes (timing on: every stage; off: the per-burst ones only). */
enum dp_stage {
	DP_STAGE_RX,	 /* receiving: the system calls */
	DP_STAGE_DECODE, /* decoding records (timing on) */
	DP_STAGE_TABLE,	 /* the version table (timing on) */
	DP_STAGE_VERIFY, /* signatures (timing on) */
	DP_STAGE_STORE,	 /* the store (timing on) */
	DP_STAGE_TAKE,	 /* all of taking datagrams: the three above and the link's own work */
	DP_STAGE_FILL,	 /* filling links from the rings */
	DP_STAGE_TX,	 /* sending: building and the system calls */
	DP_STAGES,
};

/* Counters summed over the workers. Those of the endpoint, the links and the io backends are
 * copies the workers refresh every 100 ms (and when they stop). */
struct dp_node_stats {
	uint64_t rx_datagrams, tx_datagrams, syscalls; /* the io backends' */
	uint64_t tx_sends; /* send messages the kernel took: a GSO run of datagrams is one */
	uint64_t records_in, records_new, records_dup, records_stale, records_bad, records_expired,
	    records_store_err, records_flooded, records_answered;
	uint64_t datagrams_refused;	    /* DATA we could not take (no room): sent again later */
	uint64_t drops[DP_EP_DROP_REASONS]; /* datagrams dropped before a link, by reason */
	uint64_t decode_err[8];		    /* of those, by wire error (endpoint.h) */
	uint64_t links_up, links_down, connects_failed;
	uint64_t retransmits, reasm_timeouts, reasm_bad;
	/* secured graphs: verified, waiting for their signer's key, refused (by reason) */
	uint64_t verified, deferred, rejected, rejected_by[VERIFY_REASONS];
	uint64_t stage_ns[DP_STAGES];
	unsigned links;
};
void dp_node_stats(struct dp_node *n, struct dp_node_stats *st);

#endif
