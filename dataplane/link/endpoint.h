/*
 * endpoint.h - the links of one worker: the hello exchange, the link table and the dispatch
 * of datagrams to links, without I/O (doc/flood.md).
 *
 * An endpoint is what one worker's socket talks through. It answers HELLOs statelessly with
 * a COOKIE (a keyed BLAKE2b of the source address, the nonce, the graph and the minute) and
 * creates a link only for a HELLO that carries a valid cookie for its source address: a
 * spoofed source never sees its cookie, so it can neither open a link nor make us send more
 * than one small datagram per datagram it sends. It drives the initiator's side of connects
 * (HELLO, retried, until WELCOME, CLOSE or the timeout), hands each datagram of an established
 * link to that link (DATA is returned to the caller, whose flood layer decides what to take),
 * and collects what every link has to send.
 *
 * Steering: a link id's low DP_EP_WORKER_BITS bits, and a connect's nonce's, are the worker's
 * number, so a socket filter can send every datagram of a link (and the COOKIE answering our
 * HELLO) to the worker that owns it.
 *
 * Like link.h it does no I/O and reads no clock: the caller passes now, the source address of
 * each datagram as opaque bytes (a sockaddr, compared byte for byte), and transmits what
 * dp_ep_poll() returns. Events (link up, link down, connect failed) go to a callback.
 * Threads: one endpoint is used by one thread.
 */
#ifndef DP_ENDPOINT_H
#define DP_ENDPOINT_H

#include <stdint.h>

#include "link.h"
#include "wire.h"

enum {
	DP_EP_ADDR_MAX = 28, /* a sockaddr_in6 */
	DP_EP_LINKS_MAX = 1024,
	DP_EP_WORKER_BITS = 6, /* the worker's number sits in a link id's low bits */
	DP_EP_HELLO_RETRY_US = 250000,
	DP_EP_HELLO_TIMEOUT_US = 5000000,
	DP_EP_COOKIE_PERIOD_US = 60000000, /* a cookie is good for this period and the next */
	DP_EP_CTL_QUEUE = 256,		   /* handshake datagrams waiting to be sent */
};

/* A peer's address: opaque bytes, compared whole. */
struct dp_ep_addr {
	uint8_t len;
	uint8_t b[DP_EP_ADDR_MAX];
};

/* An established link and what the endpoint knows of it. */
struct dp_ep_link {
	struct dp_link *link;
	struct dp_ep_addr addr;
	void *graph; /* the caller's graph */
	uint64_t nonce;
	uint64_t token; /* the connect's token (initiator), 0 for accepted links */
	bool initiator;
	uint16_t node_len;
	char node[DP_WIRE_NODE_MAX + 1]; /* the peer's node id */
	void *user;			 /* the caller's per-link state */
};

enum dp_ep_event_kind {
	DP_EP_UP = 1,		  /* a link is established (either side) */
	DP_EP_DOWN = 2,		  /* a link closed or died: destroyed after the callback */
	DP_EP_CONNECT_FAILED = 3, /* refused (reason: DP_CLOSE_*) or timed out (reason 0) */
};

struct dp_ep_event {
	enum dp_ep_event_kind kind;
	struct dp_ep_link *el; /* UP, DOWN: valid during the callback */
	void *graph;
	const struct dp_ep_addr *addr;
	uint64_t token;	 /* CONNECT_FAILED, or UP of an initiated link */
	uint32_t reason; /* DOWN, CONNECT_FAILED: DP_CLOSE_*; 0 = dead / timed out */
	bool by_peer;	 /* DOWN: the peer closed it */
};

struct dp_ep_ops {
	/* The caller's graph a HELLO names, when it is open and listening; NULL otherwise. */
	void *(*graph_find)(void *ctx, const char *id, uint16_t len);
	void (*event)(void *ctx, const struct dp_ep_event *ev);
};

struct dp_ep_config {
	unsigned worker; /* 0 .. 2^DP_EP_WORKER_BITS - 1 */
	const char *node_id;
	uint16_t node_id_len;
	struct dp_link_config link;
	uint64_t reasm_bytes; /* reassembly budget of this endpoint's links */
	uint32_t max_links;   /* 1 .. DP_EP_LINKS_MAX */
	uint32_t hello_retry_us, hello_timeout_us;
	uint8_t secret[32]; /* the cookie key: random, from the caller */
	uint64_t seed;	    /* for link ids and nonces: random, from the caller */
};

/* Why datagrams were dropped before reaching a link. */
enum dp_ep_drop {
	DP_EP_DROP_DECODE,	/* dp_wire_decode refused it (see the by-code counters) */
	DP_EP_DROP_UNKNOWN,	/* names a link we do not have */
	DP_EP_DROP_ADDRESS,	/* names a link, from another address */
	DP_EP_DROP_COOKIE,	/* a HELLO with a cookie that is not valid for its source */
	DP_EP_DROP_NO_GRAPH,	/* a HELLO for a graph not open and listening here */
	DP_EP_DROP_SHORT_HELLO, /* a HELLO smaller than our COOKIE (no amplification) */
	DP_EP_DROP_UNEXPECTED,	/* a COOKIE or WELCOME no connect of ours waits for */
	DP_EP_DROP_FULL,	/* no free link slot, or the handshake queue full */
	DP_EP_DROP_SELF,	/* a HELLO from this very node */
	DP_EP_DROP_REASONS,
};

struct dp_ep_stats {
	uint64_t rx, rx_by_type[DP_WIRE_TYPES];
	uint64_t drop[DP_EP_DROP_REASONS];
	uint64_t decode_err[8]; /* by PG_E_WIRE_* code: magic, version, type, flags, length,
				 * field */
	uint64_t cookies_sent, welcomes_sent, hellos_sent, closes_sent;
	uint64_t links_up, links_down, connects_failed;
	uint32_t links, pending;
};

/* Where dp_ep_input() leaves a DATA datagram for the caller. */
enum dp_ep_rx {
	DP_EP_RX_DONE = 0, /* handled (or dropped and counted) */
	DP_EP_RX_DATA = 1, /* a new DATA datagram of *el: the caller takes it (dp_link_data) */
};

/* One datagram to transmit; valid until the next call on the endpoint. */
struct dp_ep_out {
	const struct dp_ep_addr *addr;
	const uint8_t *data;
	uint32_t len;
};

struct dp_ep;

/* Defaults for everything but worker, node id, secret and seed. */
void dp_ep_config_default(struct dp_ep_config *c);
/* 0, -EINVAL or -ENOMEM. */
int dp_ep_create(const struct dp_ep_config *c, const struct dp_ep_ops *ops, void *ctx,
		 struct dp_ep **out);
/* Destroys the endpoint and its links, without events. NULL is fine. */
void dp_ep_destroy(struct dp_ep *ep);

/* Starts connecting graph (graph_id) to addr; token comes back in the UP or CONNECT_FAILED
 * event. 0, -ENOSPC (no link slot) or -EINVAL. */
int dp_ep_connect(struct dp_ep *ep, uint64_t now, void *graph, const char *graph_id,
		  uint16_t graph_id_len, const struct dp_ep_addr *addr, uint64_t token);

/* Takes one datagram from addr. DP_EP_RX_DATA with *m decoded and *el its link when a new
 * DATA datagram is for the caller to take (dp_link_data_check() said new); DP_EP_RX_DONE
 * otherwise (handled, or dropped and counted by reason). */
enum dp_ep_rx dp_ep_input(struct dp_ep *ep, uint64_t now, const struct dp_ep_addr *addr,
			  const uint8_t *data, uint32_t len, struct dp_wire_msg *m,
			  struct dp_ep_link **el);

/* Runs timers (hello retries, connect timeouts, each link's) and returns up to max datagrams
 * to transmit; links that closed or died are reported (DOWN) and destroyed here. */
unsigned dp_ep_poll(struct dp_ep *ep, uint64_t now, struct dp_ep_out *out, unsigned max);
/* The earliest time dp_ep_poll has something to do without input (UINT64_MAX: never). */
uint64_t dp_ep_deadline(const struct dp_ep *ep);

/* The established links, for the flood layer to fill: i in 0 .. dp_ep_links_max(), which is
 * one past the highest slot in use (links and connects), not the table's size. NULL for a
 * slot not holding an established link. */
uint32_t dp_ep_links_max(const struct dp_ep *ep);
struct dp_ep_link *dp_ep_link_at(struct dp_ep *ep, uint32_t i);
/* Closes a link (a CLOSE goes to the peer at the next poll, then DOWN). */
void dp_ep_disconnect(struct dp_ep *ep, struct dp_ep_link *el, uint32_t reason);
/* Closes every link and abandons every connect of this graph (DOWN / CONNECT_FAILED events
 * follow at the next poll). */
void dp_ep_graph_gone(struct dp_ep *ep, void *graph);

void dp_ep_stats(const struct dp_ep *ep, struct dp_ep_stats *st);

#endif
