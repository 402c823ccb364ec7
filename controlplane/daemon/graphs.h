/*
 * graphs.h - peergraphd's graphs: what the daemon knows of each graph, on disk and open.
 *
 * Each graph the daemon knows is a directory under <state>/graphs/, named g-<32 hex digits>
 * (xxHash3-128 of the graph id, so any id is a safe name), holding `graph.props` (the id, the
 * signing identity, the max record size, flags, whether it opens at start; written atomically)
 * and `store/` (the durable store, dataplane/store.h). An open graph holds its store, its
 * signer (a secured graph: one whose identity is set and not marked unsecured), and a bounded
 * queue of store events for the daemon's subscribers.
 *
 * Records made through the API get their creator, modifier, version and times here, and their
 * signature in a secured graph; the store then applies the conflict order and the record rules
 * as it does for any copy, and the record joins the flood: the dataplane is asked for room
 * first (dp_graph_room: none is PG_E_BUSY and nothing is stored), then the store takes the
 * record's encoding, and the same bytes are published to the graph's links. Threads: everything
 * here runs on the daemon's control thread except the store's event callback (any thread), which
 * only appends to the graph's event queue.
 */
#ifndef PGD_GRAPHS_H
#define PGD_GRAPHS_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "identity.h"
#include "keytab.h"
#include "node.h"
#include "record.h"
#include "sign.h"
#include "store.h"

enum {
	PGD_GRAPHS_MAX = 256,	    /* graphs one daemon knows */
	PGD_GRAPH_ID_MAX = 256,	    /* bytes of a graph id */
	PGD_EVENTS_MAX = 65536,	    /* events queued per graph for the subscribers */
	PGD_EVENT_BYTES = 64 << 20, /* bytes of records those events carry */
	PGD_ENCODE_KEEP = 64 << 10, /* a graph keeps an encoding buffer up to this size */
};

enum pgd_graph_flags {
	PGD_GRAPH_UNSECURED = 0x1, /* records unsigned even with an identity (peergraph.h) */
};

/* The store settings every graph gets, and the creator id of records in unsecured graphs. */
struct pgd_graphs_config {
	uint32_t commit_interval_us;
	uint32_t max_records;
	uint64_t max_bytes;
	uint32_t segment_size;
	bool direct_io;
	char node_name[PG_ID_MAX + 1];
};

/* One store event, queued for the subscribers (the record's encoding copied). */
struct pgd_event {
	enum pg_store_event_kind kind;
	uint64_t seq;
	uint8_t *bytes;
	uint32_t len;
};

struct pgd_graph {
	char id[PGD_GRAPH_ID_MAX + 1];
	char dir[PATH_MAX];
	char identity[PG_PEERNAME_SIZE]; /* "" : none */
	uint32_t max_record_size;
	unsigned flags; /* enum pgd_graph_flags */
	bool autoopen;	/* opened when the daemon starts */
	bool open;
	struct pg_record_limits lim;
	struct pg_store *store;
	struct pg_identity *ident; /* open identity, in a secured graph */
	struct pg_signer *signer;  /* NULL: records unsigned */
	const char *creator;	   /* the identity's peer name, or the node name */
	int notify_fd;		   /* eventfd: commits, I/O errors, queued events */
	struct dp_graph *dp;	   /* the dataplane's side: flooding, links (node.h) */
	uint8_t *enc;		   /* the encoding of the record being made (PGD_ENCODE_KEEP) */
	bool had_links;		   /* its status said "has links" last (GRAPH_STATUS events) */

	/* store events for subscribers; the callback may run on any thread */
	pthread_mutex_t ev_lock;
	bool ev_wanted; /* some connection subscribes: queue events */
	struct pgd_event *ev;
	uint32_t ev_head, ev_len;
	uint64_t ev_bytes, ev_dropped;
};

struct pgd_graphs {
	char root[PATH_MAX]; /* <state>/graphs */
	struct pgd_graphs_config cfg;
	struct pg_identity_store *ids; /* borrowed */
	struct dp_node *node;	       /* borrowed: it serves the open graphs (expiry, flooding) */
	struct pg_keytab *keytab;      /* borrowed: the keys the dataplane verifies against */
	struct pgd_graph *g[PGD_GRAPHS_MAX];
	unsigned n;
};

/* Loads every graph under state_dir/graphs (creating it), opening those marked autoopen. A
 * graph that fails to open is logged and stays closed. 0 or -errno. */
int pgd_graphs_init(struct pgd_graphs *gs, const char *state_dir,
		    const struct pgd_graphs_config *cfg, struct pg_identity_store *ids,
		    struct dp_node *node);
/* Closes every open graph (each store made durable first) and frees them. */
void pgd_graphs_fini(struct pgd_graphs *gs);

/* The graph of this id, or NULL. */
struct pgd_graph *pgd_graph_find(struct pgd_graphs *gs, const char *id);

/* The graph's status bits (proto.h's enum pg_api_graph_status): open, secured, and from the
 * dataplane listening and has links. */
uint32_t pgd_graph_status_bits(struct pgd_graph *g);

/* Checks a graph id: 1..256 bytes of UTF-8, no control characters. 0 or -EINVAL. */
int pgd_graph_id_check(const char *id);

/* Creates and opens a graph. identity NULL or "": the default identity, if the store has one
 * (none: an unsecured graph). 0, -EEXIST, -EINVAL, PG_E_BAD_LIMIT, -ENOSPC (PGD_GRAPHS_MAX),
 * an identity or store error, or -errno; msg says what failed. */
int pgd_graph_create(struct pgd_graphs *gs, const char *id, const char *identity,
		     uint32_t max_record_size, unsigned flags, char *msg, size_t msglen);
/* Opens / closes a known graph (remembered for the next start). 0 or an error. */
int pgd_graph_open(struct pgd_graphs *gs, struct pgd_graph *g, char *msg, size_t msglen);
int pgd_graph_close(struct pgd_graphs *gs, struct pgd_graph *g);
/* Removes a directory tree (no symlinks followed). 0 or -errno. */
int pgd_dir_remove_tree(const char *dir);
/* Closes and deletes a graph and its database. 0 or -errno. */
int pgd_graph_delete(struct pgd_graphs *gs, struct pgd_graph *g);

/* ---- records (an open graph) ---- */

/* Makes a record of this node from what a client sent (its id, type, flags, expiry,
 * attributes and payload): creator, version 1, times, signature; stores it and floods it. 0
 * with *ticket set, or why it was refused (PG_E_*: invalid record, -EEXIST when the id is
 * taken, PG_E_STORE_FULL, PG_E_BUSY when the flood queues are full, a signing error). */
/* Adds n (<= PG_BUNDLE_MAX) records as pgd_record_add does, res[i] each one's outcome and
 * *ticket raised to the latest; in a secured graph they are signed together, one signature
 * over their Merkle root (a bundle: shared/bundle.h), which is what lets a fast publisher's
 * records be verified at a fraction of a signature each. */
void pgd_records_add(struct pgd_graph *g, const struct pg_record *in, unsigned n, uint64_t now_us,
		     int *res, uint64_t *ticket);
int pgd_record_add(struct pgd_graph *g, const struct pg_record *in, uint64_t now_us,
		   uint64_t *ticket);
/* Makes the next version of this node's record in->id from what the client sent (stored and
 * flooded). 0 with *ticket, PG_E_NOT_FOUND, PG_E_BAD_FORMAT (another type),
 * PG_E_EXPIRY_SHRANK, PG_E_BUSY, ... */
int pgd_record_update(struct pgd_graph *g, const struct pg_record *in, uint64_t now_us,
		      uint64_t *ticket);
/* Deletes (a tombstone, the next version, flooded) the record (id, creator; NULL: this
 * node's). 0 with *ticket, PG_E_NOT_FOUND, PG_E_BUSY, ... */
int pgd_record_delete(struct pgd_graph *g, const struct pg_guid *id, const char *creator,
		      uint64_t now_us, uint64_t *ticket);

/* Takes up to max queued events (oldest first) into out; the caller frees each bytes. Returns
 * how many; *dropped gets the events dropped since the last call (queue full). */
unsigned pgd_graph_events_take(struct pgd_graph *g, struct pgd_event *out, unsigned max,
			       uint64_t *dropped);
/* Starts / stops queueing events (some connection subscribes to this graph or none does). */
void pgd_graph_events_want(struct pgd_graph *g, bool want);

#endif
