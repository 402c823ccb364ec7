/*
 * server.h - peergraphd's control API server: the Unix socket, its clients, and the one epoll
 * loop of the control thread that serves them, the graphs' durability notifications and the
 * daemon's signals.
 *
 * Who may connect: the daemon's own uid, root, and members of the configured group (checked
 * with SO_PEERCRED and the peer's groups); anyone else gets a failed HELLO reply (-EACCES),
 * is closed, and is logged. The socket is created mode 0660.
 *
 * Each connection is served in order: a frame is read whole, checked against its schema
 * (api/frame.h) and handled; a reply that must wait for durability (record add / update /
 * delete) is held until its graph's store has committed the last ticket, while the next frames
 * are handled, and every reply leaves in the order of the requests. Held replies are bounded
 * per connection (server_impl.h): at the bound the connection is not read until the oldest are
 * durable, which paces a client to the disk. Output is queued per connection and bounded:
 * past client_queue_bytes the connection is not read until its client reads; events past the
 * bound (or past event_queue queued events) are dropped and counted, and the subscriber is
 * sent a LOST event with the count as soon as there is room. A client that disconnects mid-
 * frame costs only its buffers, freed at once.
 */
#ifndef PGD_SERVER_H
#define PGD_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "graphs.h"
#include "identity.h"

struct pgd_server;

struct pgd_server_config {
	const char *socket_path;
	const char *state_dir; /* its tmp/ holds identity exports and imports in flight */
	gid_t group;	       /* admitted besides the daemon's uid and root; (gid_t)-1: none */
	uint32_t max_clients;
	uint64_t client_queue_bytes; /* bound of a connection's queued output */
	uint32_t event_queue;	     /* events queued per connection before they are dropped */
	const char *version;	     /* the daemon's version string (HELLO) */
};

/* Called by the loop when the signal fd is readable. Return false to stop the loop. */
typedef bool (*pgd_signal_fn)(void *ctx);

/* Binds the socket (removing a stale socket file first, refusing a live one: -EADDRINUSE) and
 * prepares the loop. 0 or -errno (msg says what). */
int pgd_server_create(const struct pgd_server_config *cfg, struct pgd_graphs *gs,
		      struct pg_identity_store *ids, int signal_fd, pgd_signal_fn on_signal,
		      void *ctx, struct pgd_server **out, char *msg, size_t msglen);
/* Runs the loop until on_signal returns false. 0 or -errno of epoll itself. */
int pgd_server_run(struct pgd_server *srv);
/* Stops accepting (closes the listening socket and removes its file). Cannot fail. */
void pgd_server_stop_accepting(struct pgd_server *srv);
/* Sends what is queued (bounded wait), closes every connection, frees the server. */
void pgd_server_destroy(struct pgd_server *srv);
/* Applies reloadable settings (SIGHUP). Cannot fail. */
void pgd_server_reconfigure(struct pgd_server *srv, uint64_t client_queue_bytes,
			    uint32_t event_queue);

#endif
