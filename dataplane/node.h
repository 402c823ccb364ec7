/*
 * node.h - the dataplane of one node, as peergraphd starts it: its worker threads and the
 * graphs' stores they serve.
 *
 * Today a worker's turn keeps the expiry of the stores attached to it (pg_store_expire every
 * tick, bounded per turn); flooding between nodes (links, the receive burst loop) joins the
 * same turn next. Stores are spread over the workers by attach order. The control plane starts
 * a node through this header only; the dataplane includes no control-plane header.
 */
#ifndef DP_NODE_H
#define DP_NODE_H

#include <stdint.h>

#include "store.h"

enum {
	DP_WORKERS_MAX = 64,
	DP_STORES_MAX = 256,	   /* stores attached to one node */
	DP_TICK_US_DEFAULT = 1000, /* a worker's turn */
	DP_EXPIRE_PER_TURN = 4096, /* records one store expires per turn at most */
};

struct dp_node;

struct dp_node_config {
	unsigned workers; /* 1 .. DP_WORKERS_MAX */
	uint32_t tick_us; /* 0: DP_TICK_US_DEFAULT */
};

/* Starts the workers. 0, -EINVAL, -ENOMEM or -errno of pthread_create. */
int dp_node_create(const struct dp_node_config *cfg, struct dp_node **out);
/* Stops the workers and frees the node; attached stores are left to their owner (NULL is
 * fine). */
void dp_node_destroy(struct dp_node *n);
/* Serves a store from the next turn on. 0 or -ENOSPC (DP_STORES_MAX). */
int dp_node_attach(struct dp_node *n, struct pg_store *s);
/* Stops serving a store; when it returns no worker touches it any more. Cannot fail. */
void dp_node_detach(struct dp_node *n, struct pg_store *s);

#endif
