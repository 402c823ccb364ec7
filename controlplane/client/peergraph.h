/*
 * peergraph.h - libpeergraph, the C client of peergraphd.
 *
 * A program talks to the daemon of its node through this library only: it connects to the
 * daemon's control socket, manages identities and graphs, and adds, reads, searches and
 * watches records. The shape follows the original Peer-to-Peer Graphing API (graph create /
 * open / close / delete; record add / update / delete / get / enumerate / search; events),
 * with batching added: one call adds many records in one round trip.
 *
 * Conventions:
 *   - Every function that can fail returns 0 (or a count) or a negative error: a project code
 *     (<= -1000) or a negated errno. peergraph_strerror() says what it means and, for the
 *     common ones, what to do.
 *   - A connection is not thread-safe: one thread at a time (open one per thread).
 *   - Pointers in what the library returns (records, events) point into the connection's own
 *     memory and are valid until the next call on that connection, unless said otherwise.
 *   - A record is named by its id and its creator. Where a call takes a record id and a
 *     creator, a NULL creator means the graph's identity (the node's own records).
 *   - A failed reply is the daemon's answer to one call and leaves the connection usable. A
 *     broken stream does not: the daemon going away (-ECONNRESET) or sending a malformed frame
 *     (PG_E_API_FRAME, PG_E_API_FIELD, a record that does not decode) closes the connection,
 *     and every later call returns -ENOTCONN (peergraph_event_next first hands out the events
 *     already queued). Nothing the daemon sends makes the library abort.
 *
 * The protocol underneath is doc/api.md; the daemon is peergraphd(8).
 */
#ifndef PEERGRAPH_H
#define PEERGRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PEERGRAPH_SOCKET_ENV "PEERGRAPH_SOCKET"
/* A record refused because the node's flood queues are full (a neighbour is slower than the
 * publisher): nothing was stored; retry it after a pause, or publish more slowly. The same
 * number as the daemon's PG_E_BUSY. */
#define PEERGRAPH_E_BUSY	 (-1190)
#define PEERGRAPH_SOCKET_DEFAULT "/run/peergraph/peergraphd.sock"

enum {
	PEERGRAPH_PEER_NAME_SIZE = 191,	     /* a peer name and its NUL */
	PEERGRAPH_FRIENDLY_NAME_SIZE = 1021, /* 255 code points of UTF-8 and a NUL */
	PEERGRAPH_GRAPH_ID_MAX = 256,	     /* bytes of a graph id */
	PEERGRAPH_ID_MAX = 256,		     /* bytes of a creator / modifier id */
	PEERGRAPH_ATTRS_MAX = 128,	     /* attributes of one record */
	PEERGRAPH_ATTR_NAME_MAX = 40,	     /* ASCII letters and digits */
	PEERGRAPH_BATCH_MAX = 65536,	     /* records of one add / update / delete call */
	PEERGRAPH_LIFETIME_DEFAULT_S = 3600, /* a record's lifetime when expires_us is 0 */
	PEERGRAPH_ADDRESS_SIZE = 262,	     /* "host:port" / "[IPv6]:port" and its NUL */
	PEERGRAPH_NODE_ID_SIZE = 257,	     /* a node id (1..256 bytes) and its NUL */
};

struct peergraph;

struct peergraph_guid {
	uint8_t b[16];
};

/* ---- connections ------------------------------------------------------------------------ */

/* Connects to the daemon at socket_path; NULL means $PEERGRAPH_SOCKET, else the default path.
 * 0; -ENOENT / -ECONNREFUSED (no daemon there), -EACCES (not allowed: the daemon admits its own
 * user, root and its configured group), PG_E_API_VERSION, or -errno. */
int peergraph_connect(const char *socket_path, struct peergraph **out);
/* Closes the connection (NULL is fine). */
void peergraph_close(struct peergraph *pg);
/* The daemon's version string and the uid it runs as (either may be NULL). 0, -ERANGE when the
 * version does not fit in cap bytes, or an error. */
int peergraph_hello(struct peergraph *pg, char *version, size_t cap, uint32_t *uid);
/* What an error code means, with a hint where there is one. Never NULL. */
const char *peergraph_strerror(int err);
/* The detail of the last call's failure on this connection: the daemon's MESSAGE, or the
 * library's own for a request it refused or a stream it closed. "" when the last call
 * succeeded or nothing more is known. Valid until the next call. */
const char *peergraph_last_message(const struct peergraph *pg);

/* ---- identities --------------------------------------------------------------------------- */

enum peergraph_identity_flags {
	PEERGRAPH_IDENTITY_DEFAULT_IF_NONE = 0x0, /* default only if there is none yet */
	PEERGRAPH_IDENTITY_MAKE_DEFAULT = 0x1,
	PEERGRAPH_IDENTITY_NOT_DEFAULT = 0x2,
	PEERGRAPH_IDENTITY_IS_DEFAULT = 0x4, /* in a listing: this one is the default */
};

struct peergraph_identity {
	char peer_name[PEERGRAPH_PEER_NAME_SIZE];
	char friendly_name[PEERGRAPH_FRIENDLY_NAME_SIZE];
	unsigned flags; /* PEERGRAPH_IDENTITY_IS_DEFAULT */
};

/* Creates an identity (a new Ed25519 key pair) in the daemon's store; its peer name goes to
 * peer_name. friendly_name may be NULL. 0 or an error. */
int peergraph_identity_create(struct peergraph *pg, const char *classifier,
			      const char *friendly_name, unsigned flags,
			      char peer_name[PEERGRAPH_PEER_NAME_SIZE]);
/* Lists up to max identities into out; returns how many the daemon holds (may be more than
 * max) or an error. */
long peergraph_identity_list(struct peergraph *pg, struct peergraph_identity *out, size_t max);
/* Deletes an identity. 0 or an error. */
int peergraph_identity_delete(struct peergraph *pg, const char *peer_name);
/* Sets an identity's friendly name. 0 or an error. */
int peergraph_identity_set_friendly_name(struct peergraph *pg, const char *peer_name,
					 const char *friendly_name);
/* Makes an identity the default. 0 or an error. */
int peergraph_identity_set_default(struct peergraph *pg, const char *peer_name);
/* Exports an identity, its key encrypted under password, as bytes the caller frees with
 * free(). 0 or an error. */
int peergraph_identity_export(struct peergraph *pg, const char *peer_name, const char *password,
			      uint8_t **data, size_t *len);
/* Imports an exported identity; its peer name goes to peer_name. 0 or an error. */
int peergraph_identity_import(struct peergraph *pg, const uint8_t *data, size_t len,
			      const char *password, unsigned flags,
			      char peer_name[PEERGRAPH_PEER_NAME_SIZE]);

/* ---- graphs ------------------------------------------------------------------------------- */

enum peergraph_graph_status_bits {
	PEERGRAPH_GRAPH_OPEN = 0x1,	 /* the daemon has it open */
	PEERGRAPH_GRAPH_SECURED = 0x2,	 /* its records are signed by its identity */
	PEERGRAPH_GRAPH_LISTENING = 0x4, /* accepts links from other nodes */
	PEERGRAPH_GRAPH_CONNECTED = 0x8, /* has one link to another node or more */
};

enum peergraph_graph_flags {
	PEERGRAPH_GRAPH_UNSECURED = 0x1, /* records unsigned, even with an identity */
};

struct peergraph_graph_props {
	const char *identity;	  /* signer; NULL: the daemon's default identity, if any */
	uint32_t max_record_size; /* payload + attributes; 0: the default (1 MiB) */
	unsigned flags;		  /* enum peergraph_graph_flags */
};

struct peergraph_graph_status {
	char graph_id[PEERGRAPH_GRAPH_ID_MAX + 1];
	uint32_t status; /* enum peergraph_graph_status_bits */
	uint64_t records;
	char identity[PEERGRAPH_PEER_NAME_SIZE]; /* "" for an unsecured graph */
	uint32_t max_record_size;
	unsigned links; /* established links to other nodes (status only; 0 when closed) */
};

/* Creates a graph (its store under the daemon's state directory) and opens it. props may be
 * NULL. 0 or an error. */
int peergraph_graph_create(struct peergraph *pg, const char *graph_id,
			   const struct peergraph_graph_props *props);
/* Opens / closes a graph the daemon knows. 0 or an error. */
int peergraph_graph_open(struct peergraph *pg, const char *graph_id);
int peergraph_graph_close(struct peergraph *pg, const char *graph_id);
/* Deletes a graph and its database (closing it first). 0 or an error. */
int peergraph_graph_delete(struct peergraph *pg, const char *graph_id);
/* A graph's status. 0 or an error. */
int peergraph_graph_status(struct peergraph *pg, const char *graph_id,
			   struct peergraph_graph_status *out);
/* Lists up to max graphs; returns how many the daemon knows, or an error. A listing carries
 * each graph's id, status bits and identity; records and max_record_size are 0 (ask
 * peergraph_graph_status for them). */
long peergraph_graph_list(struct peergraph *pg, struct peergraph_graph_status *out, size_t max);
/* Writes the graph's database to path (on the daemon's host; absolute), or merges a file
 * written so into the graph, all or nothing. 0 or an error. */
int peergraph_graph_export(struct peergraph *pg, const char *graph_id, const char *path);
int peergraph_graph_import(struct peergraph *pg, const char *graph_id, const char *path);

/* ---- links: flooding a graph between nodes ---------------------------------------------- */

/*
 * A graph's records are flooded to every node it has a link with, and from them to theirs.
 * A link is made by one node connecting to another that listens for that graph; both must
 * have it open. Addresses are "host:port" or "[IPv6]:port": the dataplane address of the other
 * node's daemon ([dataplane] address in its peergraphd.conf, default port 3587); a host name is
 * resolved by the daemon.
 */

struct peergraph_neighbour {
	char address[PEERGRAPH_ADDRESS_SIZE]; /* the other node's, as the daemon resolved it */
	char node[PEERGRAPH_NODE_ID_SIZE];    /* its node id ("" when it announced none) */
	bool initiator;			      /* this node connected to it */
	uint64_t records_rx, records_tx;      /* records received from it, sent to it */
	uint64_t retransmits;		      /* datagrams sent to it again */
	uint64_t srtt_us;		      /* smoothed round-trip time */
	uint64_t reasm_timeouts; /* records larger than a datagram it never finished sending */
};

/* Starts (on) or stops accepting links for an open graph from other nodes; links up stay up.
 * 0, or an error (-ENOTCONN: the graph is closed or the daemon has no dataplane socket). */
int peergraph_graph_listen(struct peergraph *pg, const char *graph_id, bool on);
/* Starts a link to the node at address and returns at once; resolved (may be NULL) gets the
 * address as the daemon resolved and writes it. The outcome is an event with that address:
 * PEERGRAPH_EVENT_NEIGHBOUR_UP, or PEERGRAPH_EVENT_CONNECT_FAILED (the daemon gives up after
 * 5 s). To wait for it, subscribe to the graph before connecting. 0; -EINVAL (not
 * host:port), -EADDRNOTAVAIL (the host does not resolve), -EISCONN (linked already),
 * -ENOTCONN, PG_E_BUSY (retry), or an error. */
int peergraph_graph_connect(struct peergraph *pg, const char *graph_id, const char *address,
			    char resolved[PEERGRAPH_ADDRESS_SIZE]);
/* Closes the graph's link to address. 0, -ENOENT (no link to it), or an error. */
int peergraph_graph_disconnect(struct peergraph *pg, const char *graph_id, const char *address);
/* The graph's established links: up to max into out, and how many there are into *n (may be
 * more than max). 0 or an error. */
int peergraph_graph_neighbours(struct peergraph *pg, const char *graph_id,
			       struct peergraph_neighbour *out, unsigned max, unsigned *n);

/* Why a link ended or never came up (an event's reason). */
enum peergraph_link_reason {
	PEERGRAPH_REASON_TIMEOUT = 0,  /* nothing heard: a dead link, or no answer to the hello */
	PEERGRAPH_REASON_CLOSED = 1,   /* disconnected by a node (disconnect, graph close) */
	PEERGRAPH_REASON_NO_GRAPH = 2, /* the other node has no such graph open and listening */
	PEERGRAPH_REASON_VERSION = 3,  /* no common protocol version */
	PEERGRAPH_REASON_FULL = 4,     /* the other node's link table is full */
	PEERGRAPH_REASON_PROTOCOL = 5, /* a node broke the protocol */
	PEERGRAPH_REASON_SHUTDOWN = 6, /* the node is stopping */
	PEERGRAPH_REASON_SELF = 7,     /* the address is the connecting node's own */
};
/* A reason in words ("no such graph open and listening there"). Never NULL. */
const char *peergraph_link_reason_text(uint32_t reason);

/* ---- the node's counters ---------------------------------------------------------------- */

/* Why datagrams were dropped before reaching a link (drops[]). */
enum peergraph_drop {
	PEERGRAPH_DROP_DECODE,	    /* not a datagram of the protocol (see decode_err[]) */
	PEERGRAPH_DROP_UNKNOWN,	    /* names a link the node does not have */
	PEERGRAPH_DROP_ADDRESS,	    /* names a link, from another address */
	PEERGRAPH_DROP_COOKIE,	    /* a hello with a cookie not valid for its source */
	PEERGRAPH_DROP_NO_GRAPH,    /* a hello for a graph not open and listening */
	PEERGRAPH_DROP_SHORT_HELLO, /* a hello smaller than the cookie it would get */
	PEERGRAPH_DROP_UNEXPECTED,  /* a cookie or welcome no connect waits for */
	PEERGRAPH_DROP_FULL,	    /* no free link slot, or the handshake queue full */
	PEERGRAPH_DROP_SELF,	    /* a hello from this very node */
	PEERGRAPH_DROP_REASONS,
};

/* Of the DECODE drops, what the decoder found wrong (decode_err[]). */
enum peergraph_decode_err {
	PEERGRAPH_DECODE_MAGIC,	  /* not a peergraph datagram */
	PEERGRAPH_DECODE_VERSION, /* another protocol version */
	PEERGRAPH_DECODE_TYPE,	  /* unknown datagram type or chunk kind */
	PEERGRAPH_DECODE_FLAGS,	  /* unknown flag bits */
	PEERGRAPH_DECODE_LENGTH,  /* cut short, or a length past the end */
	PEERGRAPH_DECODE_FIELD,	  /* a field out of its range */
	PEERGRAPH_DECODE_ERRORS = 8,
};

/* Where the workers' time goes (stage_ns[]); decode, table and store only with
 * [dataplane] timing on. */
enum peergraph_stage {
	PEERGRAPH_STAGE_RX,	/* receiving: the system calls */
	PEERGRAPH_STAGE_DECODE, /* decoding records */
	PEERGRAPH_STAGE_TABLE,	/* the version table */
	PEERGRAPH_STAGE_VERIFY, /* signatures (secured graphs) */
	PEERGRAPH_STAGE_STORE,	/* the store */
	PEERGRAPH_STAGE_TAKE,	/* all of taking datagrams */
	PEERGRAPH_STAGE_FILL,	/* filling links from the flood rings */
	PEERGRAPH_STAGE_TX,	/* sending */
	PEERGRAPH_STAGES,
};

/* The counters of the node's dataplane since the daemon started, summed over its workers and
 * graphs. Each worker publishes its link and drop counters every 100 ms, so those lag by up
 * to that much; the record counters do not. */
struct peergraph_node_stats {
	char address[PEERGRAPH_ADDRESS_SIZE]; /* the dataplane's bound address; "" for none */
	uint64_t rx_datagrams, tx_datagrams, syscalls;
	uint64_t tx_sends;	    /* send messages: a GSO run of datagrams is one */
	uint64_t records_in;	    /* records received from links */
	uint64_t records_new;	    /* ... new to this node: stored and flooded on */
	uint64_t records_dup;	    /* ... of a version the node holds already */
	uint64_t records_stale;	    /* ... older than the node's (answered with ours) */
	uint64_t records_bad;	    /* ... that did not decode or verify */
	uint64_t records_expired;   /* ... already expired */
	uint64_t records_store_err; /* ... the store refused */
	uint64_t records_flooded;   /* records sent over links */
	uint64_t records_answered;  /* newer copies sent back for stale ones */
	uint64_t datagrams_refused; /* taken later: no room in the flood rings */
	uint64_t drops[PEERGRAPH_DROP_REASONS];
	uint64_t decode_err[PEERGRAPH_DECODE_ERRORS];
	uint64_t links_up, links_down, connects_failed;
	uint64_t retransmits;	 /* datagrams sent again */
	uint64_t reasm_timeouts; /* records received in pieces, freed unfinished */
	uint64_t reasm_bad;	 /* ... freed for pieces that did not fit together */
	uint64_t verified;	 /* secured graphs: records whose signature checked out */
	uint64_t deferred;	 /* ... held until their signer's key is known */
	uint64_t rejected;	 /* ... refused: never stored, never flooded */
	uint64_t stage_ns[PEERGRAPH_STAGES];
	uint64_t links; /* established now */
};

/* The node's counters into *out. 0 or an error. */
int peergraph_node_stats(struct peergraph *pg, struct peergraph_node_stats *out);

/* One counter of struct peergraph_node_stats: its name on the wire and in `peergraph stats
 * --json` ("records_in", "drops_unknown", "stage_ns_rx", ...) and where it sits. */
struct peergraph_node_stat_field {
	const char *name;
	size_t offset; /* of a uint64_t in struct peergraph_node_stats */
};
/* Every counter, in the order of the struct; *n gets how many. Never NULL. */
const struct peergraph_node_stat_field *peergraph_node_stat_fields(size_t *n);

/* ---- records ------------------------------------------------------------------------------ */

enum peergraph_attr_type {
	PEERGRAPH_ATTR_INT = 1,
	PEERGRAPH_ATTR_STRING = 2,
	PEERGRAPH_ATTR_DATE = 3, /* microseconds since the Unix epoch */
};

struct peergraph_attr {
	const char *name; /* NUL-terminated, 1..40 ASCII letters and digits */
	enum peergraph_attr_type type;
	int64_t i;	 /* INT */
	uint64_t date;	 /* DATE */
	const char *str; /* STRING: NUL-terminated UTF-8 */
};

enum peergraph_record_flags {
	PEERGRAPH_RECORD_AUTO_REFRESH = 0x1,
	PEERGRAPH_RECORD_DELETED = 0x2, /* a tombstone (get / enumerate with ..._WITH_DELETED) */
};

/*
 * A record. To add one, fill type, payload, attributes and expires_us (absolute Unix µs; 0:
 * PEERGRAPH_LIFETIME_DEFAULT_S from now) and id (all zero: a random one, which the library
 * writes back); the daemon sets the creator (the graph's identity, or its node name in an
 * unsecured graph), the version, the modifier and the times, and signs it in a secured graph.
 * To update, give the id and the new type-matching payload / attributes / expiry (which may
 * only grow; 0: PEERGRAPH_LIFETIME_DEFAULT_S from now). What the library returns has every
 * field set; strings are NUL-terminated copies (an attribute string with a NUL byte inside
 * reads as ending there).
 */
struct peergraph_record {
	struct peergraph_guid type;
	struct peergraph_guid id;
	uint32_t version;
	uint32_t flags;	      /* enum peergraph_record_flags */
	const char *creator;  /* NUL-terminated */
	const char *modifier; /* "" while never updated */
	uint64_t created_us;  /* Unix µs */
	uint64_t modified_us;
	uint64_t expires_us;
	const struct peergraph_attr *attrs;
	unsigned nattrs;
	const void *payload;
	size_t payload_len;
	bool is_signed; /* carries a signature (a secured graph's record) */
};

/* Adds n records (n <= PEERGRAPH_BATCH_MAX, else -EINVAL); returns once the daemon has stored
 * every accepted one durably. results[i] (may be NULL) gets record i's outcome: 0, or why it
 * was refused (PG_E_TOO_LARGE, PG_E_TOO_MANY_ATTRS, ...; PEERGRAPH_E_BUSY when the node's
 * flood queues are full: nothing stored, retry it later and slower); a record the library itself
 * finds invalid (a bad attribute name, an expiry in the past) is refused so without being sent.
 * Returns how many were added, or an error for the whole call (the graph not open, the daemon
 * busy: -EBUSY, retry later). A batch travels in frames of up to 1024 records or 1 MiB, several
 * sent before the first is answered; when one fails as a whole, no more are sent, and the call
 * returns how many were added (those of the frames sent before it and of those already sent
 * after it: results[] tells which), or that error when none were; results[] gives the error
 * to the failed frame's records and to those never sent. */
long peergraph_record_add(struct peergraph *pg, const char *graph_id, struct peergraph_record *recs,
			  size_t n, int *results);
/* Updates n records of this node (version + 1); same returns. */
long peergraph_record_update(struct peergraph *pg, const char *graph_id,
			     struct peergraph_record *recs, size_t n, int *results);
/* Deletes n records (tombstones, kept until their expiry); creator NULL: the node's own.
 * Same returns (PG_E_NOT_FOUND for an id it does not hold). */
long peergraph_record_delete(struct peergraph *pg, const char *graph_id,
			     const struct peergraph_guid *ids, size_t n, const char *creator,
			     int *results);

enum peergraph_get_flags {
	PEERGRAPH_WITH_DELETED = 0x1, /* tombstones too */
};

/* Gets one record into *out (valid until the next call). 0, PG_E_NOT_FOUND, or an error. */
int peergraph_record_get(struct peergraph *pg, const char *graph_id,
			 const struct peergraph_guid *id, const char *creator, unsigned flags,
			 struct peergraph_record *out);

/* Called per record by enumerate and search; rec is valid during the call. Non-zero stops.
 * It must not close its connection, and calls on it return -EDEADLK: the reply being walked
 * would be overwritten (use another connection). */
typedef int (*peergraph_record_fn)(void *ctx, const struct peergraph_record *rec);

/* Enumerates the records of a type (NULL: any) and / or a creator (NULL: any). Returns how
 * many fn saw, or an error. */
long peergraph_record_enum(struct peergraph *pg, const char *graph_id,
			   const struct peergraph_guid *type, const char *creator, unsigned flags,
			   peergraph_record_fn fn, void *ctx);
/* Searches with the query language (doc: shared/query.h). Returns how many fn saw, or an
 * error (PG_E_QUERY_* for a query that does not parse). */
long peergraph_record_search(struct peergraph *pg, const char *graph_id, const char *query,
			     unsigned flags, peergraph_record_fn fn, void *ctx);

/* ---- events ------------------------------------------------------------------------------- */

enum peergraph_event_kind {
	PEERGRAPH_EVENT_ADDED = 1,
	PEERGRAPH_EVENT_UPDATED = 2,
	PEERGRAPH_EVENT_DELETED = 3,
	PEERGRAPH_EVENT_EXPIRED = 4,
	PEERGRAPH_EVENT_GRAPH_STATUS = 5,
	PEERGRAPH_EVENT_LOST = 6, /* this subscriber fell behind: `lost` events were dropped */
	PEERGRAPH_EVENT_NEIGHBOUR_UP = 7,   /* a link came up: address, node */
	PEERGRAPH_EVENT_NEIGHBOUR_DOWN = 8, /* a link ended: address, node, reason, by_peer */
	PEERGRAPH_EVENT_CONNECT_FAILED = 9, /* a connect gave up: address, reason, by_peer */
};

struct peergraph_event {
	enum peergraph_event_kind kind;
	const char *graph_id;		/* "" when the event names none */
	struct peergraph_record record; /* ADDED .. EXPIRED */
	uint64_t seq;			/* the change's sequence number in the graph's log */
	uint64_t lost;			/* LOST: events dropped so far (see below) */
	uint32_t status;		/* GRAPH_STATUS */
	const char *address;		/* NEIGHBOUR_*, CONNECT_FAILED; "" otherwise */
	const char *node;		/* NEIGHBOUR_UP, NEIGHBOUR_DOWN; "" otherwise */
	uint32_t reason;		/* NEIGHBOUR_DOWN, CONNECT_FAILED: peergraph_link_reason */
	bool by_peer; /* NEIGHBOUR_DOWN, CONNECT_FAILED: the other node ended it */
};

/* Subscribes this connection to a graph's events (mask: bits 1 << kind; 0: all). While
 * subscribed, the daemon queues events for this connection, bounded: a subscriber that falls
 * behind gets a LOST event saying how many it missed. 0 or an error. */
int peergraph_subscribe(struct peergraph *pg, const char *graph_id, uint32_t mask);
int peergraph_unsubscribe(struct peergraph *pg, const char *graph_id);
/* Waits up to timeout_ms (-1: for ever) for the next event. 1 with *ev filled (valid until
 * the next call), 0 on timeout, or an error (-ECONNRESET: the daemon went away).
 *
 * Events that arrive while a call waits for its reply are queued in the connection, at most
 * 4096 of them or 16 MiB. Past that the library drops events and marks the gap with a LOST
 * event of its own: its graph_id is "" and its `lost` the connection's running total of
 * dropped events. A LOST the daemon sends names its graph and counts that subscription's. */
int peergraph_event_next(struct peergraph *pg, struct peergraph_event *ev, int timeout_ms);
/* The connection's descriptor, to poll for events alongside other work; -1 once the connection
 * closed. Events may already be queued inside the library without the descriptor being
 * readable: call peergraph_event_next(pg, ev, 0) until it returns 0 before polling. */
int peergraph_fd(const struct peergraph *pg);

/* ---- helpers ------------------------------------------------------------------------------ */

/* Formats a GUID as 8-4-4-4-12 lowercase hex (out: 37 bytes with the NUL). */
void peergraph_guid_format(const struct peergraph_guid *g, char out[37]);
/* Parses that form (braces optional). 0 or -EINVAL. */
int peergraph_guid_parse(const char *s, struct peergraph_guid *out);
/* A random GUID. */
void peergraph_guid_random(struct peergraph_guid *out);

#ifdef __cplusplus
}
#endif

#endif
