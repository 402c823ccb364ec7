/*
 * server_impl.h - what server.c (frames, connections, the loop) and api_handlers.c (the
 * messages) share: the server's and a connection's state, and the calls between them.
 */
#ifndef PGD_SERVER_IMPL_H
#define PGD_SERVER_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "api/frame.h"
#include "graphs.h"
#include "pg_bytes.h"
#include "pg_time.h"
#include "server.h"

enum watch_kind { WATCH_LISTEN, WATCH_SIGNAL, WATCH_GRAPH, WATCH_CONN, WATCH_NODE };

/* What an epoll event is about. */
struct watch {
	enum watch_kind kind;
	void *obj; /* the graph or the connection */
};

/* A connection's subscription to one graph's events. */
struct sub {
	struct pgd_graph *g;
	uint32_t mask;	   /* bits 1 << pg_api_event_kind */
	uint64_t lost;	   /* events dropped for it so far */
	bool lost_pending; /* a LOST event is owed */
};

enum {
	SUBS_MAX = 16, /* graphs one connection subscribes to */
	/* Replies a connection holds back, waiting for durability or behind one that does, and
	 * their bytes: at either bound the connection is not read until the oldest go out (a
	 * client's back-pressure; one request makes at most one reply, so the count is exact and
	 * the bytes bound is passed by one reply at most). */
	HELD_MAX = 32,
	HELD_BYTES_MAX = 8 << 20,
};

/* A reply held back so that a connection's replies leave in the order of its requests. */
struct held {
	struct pgd_graph *g; /* sent once ticket is durable in g's store; NULL: ready */
	uint64_t ticket;
	uint8_t *frame;
	size_t len;
};

struct conn {
	struct watch watch;
	int fd;
	uid_t uid;
	pid_t pid;
	uint32_t epoll_events;
	bool closing; /* close once the output is sent */
	bool dead;    /* closed; freed after the current batch of epoll events */
	bool refused; /* not admitted: its first frame gets -EACCES, then it is closed */
	struct conn *next_dead;

	uint8_t *in; /* frames read, not yet handled */
	size_t in_len, in_cap;

	uint8_t *out; /* replies and events queued */
	size_t out_off, out_len, out_cap;
	uint32_t out_events; /* event frames among them */

	struct held held[HELD_MAX]; /* a FIFO from held_head: the oldest reply first */
	unsigned held_head, nheld;
	size_t held_bytes;
	bool resume; /* replies left: handle the frames it holds once this batch of events ends */

	struct sub subs[SUBS_MAX];
	unsigned nsubs;
};

struct pgd_server {
	struct pgd_server_config cfg;
	int lfd, epfd;
	pgd_signal_fn on_signal;
	void *ctx;
	struct pgd_graphs *gs;
	struct pg_identity_store *ids;
	struct conn **conns;
	unsigned nconns;
	struct conn *dead; /* closed in this batch of events, freed after it */
	struct watch listen_watch, signal_watch, node_watch;
	struct watch graph_watch[PGD_GRAPHS_MAX];
	struct pg_api_writer w;	 /* the reply being built (one at a time: one thread) */
	struct pg_api_writer ev; /* an event being built: a handler may send one (a graph's
				  * status) while its own reply is in w */
	char msg[512];		 /* the detail of the failing request, "" if none */
};

static inline uint16_t load_type(const uint8_t *frame)
{
	return load_le16(frame + PG_API_OFF_TYPE);
}

static inline uint32_t load_id(const uint8_t *frame)
{
	return load_le32(frame + PG_API_OFF_ID);
}

/* A message's handler: reads the checked body, writes the reply's fields into srv->w. 0, 1
 * when it answered itself (pgd_conn_reply or pgd_conn_park), or the request's error with
 * srv->msg saying what went wrong. */
typedef int (*pgd_handler_fn)(struct pgd_server *srv, struct conn *c, const struct pg_api_hdr *h,
			      const uint8_t *body, size_t len);

/* api_handlers.c: checks a frame's body and answers it (pgd_conn_reply or pgd_conn_park). */
void pgd_frame_dispatch(struct pgd_server *srv, struct conn *c, const struct pg_api_hdr *h,
			const uint8_t *body, size_t len);
/* Copies a checked string field, present or not, into out ("" when absent). */
void pgd_field_str(const uint8_t *body, size_t len, uint16_t tag, char *out, size_t cap);
/* The graph a request names (open, if must_be_open), or NULL with the error in *err and the
 * detail in srv->msg. */
struct pgd_graph *pgd_request_graph(struct pgd_server *srv, const uint8_t *body, size_t len,
				    bool must_be_open, int *err);

/* api_links.c: the flooding messages (doc/api.md, "Links between nodes", "The node's
 * counters"), and the
 * dataplane's neighbour events turned into subscribers' events. */
int pgd_h_graph_listen(struct pgd_server *srv, struct conn *c, const struct pg_api_hdr *h,
		       const uint8_t *body, size_t len);
int pgd_h_graph_connect(struct pgd_server *srv, struct conn *c, const struct pg_api_hdr *h,
			const uint8_t *body, size_t len);
int pgd_h_graph_disconnect(struct pgd_server *srv, struct conn *c, const struct pg_api_hdr *h,
			   const uint8_t *body, size_t len);
int pgd_h_graph_neighbours(struct pgd_server *srv, struct conn *c, const struct pg_api_hdr *h,
			   const uint8_t *body, size_t len);
int pgd_h_node_stats(struct pgd_server *srv, struct conn *c, const struct pg_api_hdr *h,
		     const uint8_t *body, size_t len);
/* Takes the dataplane's queued neighbour events (its event fd was readable) and sends them to
 * the subscribers of their graphs, with a GRAPH_STATUS event when a graph gets its first link
 * or loses its last. Cannot fail. */
void pgd_server_node_events(struct pgd_server *srv);

/* server.c */
/* Queues a frame on the connection's output and sends what it can, ahead of any held reply
 * (events). Cannot fail (a connection out of memory is closed). */
void pgd_conn_queue(struct pgd_server *srv, struct conn *c, const uint8_t *frame, size_t len);
/* Sends the reply to the request being handled: now, or behind the replies held before it.
 * Cannot fail (as pgd_conn_queue). */
void pgd_conn_reply(struct pgd_server *srv, struct conn *c, const uint8_t *reply, size_t len);
/* Sends the reply to the request being handled once ticket is durable in g's store and the
 * replies before it have gone (now, if both are so already). Cannot fail (as above). */
void pgd_conn_park(struct pgd_server *srv, struct conn *c, struct pgd_graph *g, uint64_t ticket,
		   const uint8_t *reply, size_t len);
/* Watches / stops watching an open graph's notify fd. 0 or -errno. */
int pgd_server_watch_graph(struct pgd_server *srv, struct pgd_graph *g);
void pgd_server_unwatch_graph(struct pgd_server *srv, struct pgd_graph *g);
/* Sends the held replies that are ready now g's store is durable further (with force: every
 * one of g's is, the graph closed and closing made its store durable; g may then be freed). */
void pgd_server_graph_durable(struct pgd_server *srv, struct pgd_graph *g, bool force);
/* A GRAPH_STATUS event to g's subscribers. */
void pgd_server_graph_status_event(struct pgd_server *srv, struct pgd_graph *g, uint32_t status);
/* Offers the event frame (of this kind) to each subscriber of g that wants the kind: queued
 * where there is room, else counted lost for it. */
void pgd_server_event_fan_out(struct pgd_server *srv, struct pgd_graph *g, uint32_t kind,
			      const uint8_t *frame, size_t len);
/* Subscribes c to g (replacing its mask if subscribed). 0 or -ENOSPC (SUBS_MAX). */
int pgd_server_subscribe(struct pgd_server *srv, struct conn *c, struct pgd_graph *g,
			 uint32_t mask);
/* Ends c's subscription to g (if any). */
void pgd_server_unsubscribe(struct pgd_server *srv, struct conn *c, struct pgd_graph *g);
/* Ends every connection's subscription to g (the graph closes). */
void pgd_server_graph_gone(struct pgd_server *srv, struct pgd_graph *g);

#endif
