/*
 * client_priv.h - libpeergraph's insides: the connection, the request / reply core (client.c),
 * the event queue (client_event.c) and the record conversions (client_record.c) that the
 * call files share. Nothing here is exported: the library's version script (peergraph.map)
 * keeps every symbol but peergraph_* local.
 *
 * Memory a call returns (records, events) lives in the connection: fixed arrays for the
 * creator, modifier, graph id and attribute table, a growing scratch buffer for attribute
 * names and strings, and the reply (or event) frame itself for payloads. Each of these is
 * overwritten by the next call, which is the header's "valid until the next call".
 */
#ifndef PG_CLIENT_PRIV_H
#define PG_CLIENT_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/frame.h"
#include "peergraph.h"
#include "record.h"

/* Two constants of different enums are equal (for the _Static_asserts pairing the public
 * constants with the protocol's and the codec's). */
#define SAME(a, b) ((long)(a) == (long)(b))

/* peergraph.h states these bounds in its prose: change both together. */
enum {
	/* Events the connection queues while the program is busy elsewhere, and their bytes.
	 * Past either bound it drops events and surfaces one LOST event for each gap. */
	PGC_EVENTS_MAX = 4096,
	PGC_EVENT_BYTES_MAX = 16 << 20,
	/* A batch frame takes records up to either bound before the rest of the batch goes in
	 * another frame (one record larger than this still travels alone, up to
	 * PG_API_FRAME_MAX). Small enough that the daemon stores one frame while the next is
	 * on its way and the one before waits for its commit; large enough that a frame's
	 * fixed costs vanish. Measured with bench-api (see the commit that set them). */
	PGC_BATCH_FRAME_MAX = 1 << 20,
	PGC_BATCH_FRAME_RECORDS = 1024,
	/* Requests sent and not answered yet, per connection: a batch sends this many frames
	 * before it reads the oldest reply. Within the daemon's own bound of held replies. */
	PGC_WINDOW_MAX = 16,
	/* Rounds of one enumeration (a reply with a CURSOR asks for another). */
	PGC_SCAN_ROUNDS_MAX = 1 << 22,
};

/* One queued event frame's body; body NULL is a LOST marker the connection made itself. */
struct pgc_event_slot {
	uint8_t *body;
	uint32_t len;
	uint64_t lost; /* a marker's: events this connection had dropped so far */
};

/* A ring of event frames, bounded in count and bytes (client_event.c). */
struct pgc_event_queue {
	struct pgc_event_slot slot[PGC_EVENTS_MAX];
	uint32_t head, count;
	size_t bytes;
	uint64_t dropped; /* events this connection dropped since it connected */
};

/* Called with each reply of the window, oldest first, as it is read: status is the reply's
 * (0, or the failed reply's error); the checked body is in pgc_body(). Returns 0, or an error
 * that ends the call (the connection then closed). */
typedef int (*pgc_reply_fn)(struct peergraph *pg, void *ctx, int status);

/* The requests sent and not yet answered, oldest first (their replies come in this order). */
struct pgc_window {
	uint32_t id[PGC_WINDOW_MAX];
	uint16_t type[PGC_WINDOW_MAX];
	unsigned head, count;
	pgc_reply_fn on_reply; /* NULL: pgc_wait returns the status */
	void *ctx;
};

struct peergraph {
	int fd; /* -1 once closed after an error */
	bool in_callback;
	uint32_t next_id; /* the id of the request being written */
	uint16_t req_type;
	struct pg_api_writer w; /* the request being written */
	struct pgc_window win;

	/* the frame being read: got bytes of it so far, the header first */
	uint8_t hdr[PG_API_HDR_LEN];
	size_t got;
	struct pg_api_hdr rx_hdr;
	uint8_t *rx; /* its body; grows to the largest frame read (<= PG_API_FRAME_MAX) */
	size_t rx_cap;

	/* what the last call returned (see the top of this file) */
	uint8_t *scratch;
	size_t scratch_cap, scratch_used;
	struct peergraph_attr attrs[PEERGRAPH_ATTRS_MAX];
	char creator[PEERGRAPH_ID_MAX + 1];
	char modifier[PEERGRAPH_ID_MAX + 1];
	char graph_id[PEERGRAPH_GRAPH_ID_MAX + 1];
	char address[PEERGRAPH_ADDRESS_SIZE]; /* a neighbour event's */
	char node[PEERGRAPH_NODE_ID_SIZE];
	uint8_t *event_body; /* the body of the event event_next returned last */

	struct pgc_event_queue events;
	char message[PG_API_STRING_MAX + 1];
};

/* ---- the request / reply core (client.c) ---------------------------------------------- */

/* What records received are decoded under: the largest record any graph may hold (the
 * daemon enforces each graph's own bound). */
extern const struct pg_record_limits pgc_limits;

/* Starts a request of this type in pg->w with a fresh id. 0, or pgc_usable()'s error. */
int pgc_begin(struct peergraph *pg, uint16_t type);
/* Checks and sends the request in pg->w and waits for its reply, queuing events that come
 * first. 0 with the reply's checked body in pgc_body(); the reply's status when it failed
 * (its MESSAGE kept for peergraph_last_message); or an error. A malformed or unexpected
 * frame, or a broken stream, also closes the connection. The window must be empty. */
int pgc_call(struct peergraph *pg);
/* Pipelining: replies of the requests pgc_send sends go to on_reply(pg, ctx, status) as
 * they are read, until pgc_window_close. The window must be empty. */
void pgc_window_open(struct peergraph *pg, pgc_reply_fn on_reply, void *ctx);
void pgc_window_close(struct peergraph *pg);
/* Checks and sends the request in pg->w without waiting for its reply; it joins the window,
 * which must have room (pgc_wait first). While the socket is full it reads what arrives:
 * events are queued and replies handed on, so that the daemon, which stops reading a client
 * that does not read its replies, is never waited for while it waits for us. 0; an error of
 * the request before anything was sent (the connection stays usable); or an error that
 * closed the connection, on_reply's included. */
int pgc_send(struct peergraph *pg);
/* Waits for the oldest request's reply (events queued meanwhile) and hands it on. on_reply's
 * return (the reply's status without one), or an error (the connection then closed). */
int pgc_wait(struct peergraph *pg);
/* A request with one string field (a graph, an identity) and an empty reply. Same returns
 * as pgc_call(), or -EINVAL for a NULL string. */
int pgc_call_str(struct peergraph *pg, uint16_t type, uint16_t tag, const char *s);
/* A request with no fields whose reply lists ITEMs (IDENTITY_LIST, GRAPH_LIST): fill(item,
 * out, i) takes the first max of them. How many the reply lists, -EINVAL for max items and
 * no out, or pgc_call()'s error. */
long pgc_call_list(struct peergraph *pg, uint16_t type, size_t max,
		   void (*fill)(const struct pg_api_field *item, void *out, size_t i), void *out);
/* The body of the reply pgc_call() returned 0 for. */
static inline const uint8_t *pgc_body(const struct peergraph *pg, size_t *len)
{
	*len = pg->rx_hdr.len - (PG_API_HDR_LEN - 4);
	return pg->rx;
}
/* Waits up to timeout_ms (-1: for ever) for one whole frame and handles it: an event is
 * queued, anything else closes the connection. 1 when an event was queued, 0 on timeout, or
 * an error (the connection then closed). */
int pgc_read_event(struct peergraph *pg, int timeout_ms);
/* Closes the connection after a protocol or stream error; sets the message (printf format)
 * and returns err. */
int pgc_fail(struct peergraph *pg, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Refuses a call the connection cannot make now: -EDEADLK from inside a callback, -ENOTCONN
 * after it closed. 0 when it can. Clears the last message. */
int pgc_usable(struct peergraph *pg);
/* The name of a field tag, for messages. */
const char *pgc_tag_name(uint16_t tag);

/* ---- records (client_record.c) ------------------------------------------------------- */

/* Decodes a RECORD field's value into *out; strings and attributes go to the connection's
 * memory (overwriting the last ones), the payload points into the frame. 0, or a malformed
 * record's error, which closes the connection (the daemon only sends records it decoded). */
int pgc_record_export(struct peergraph *pg, const struct pg_api_field *f,
		      struct peergraph_record *out);

/* Random record ids drawn from the kernel many at a time: one getrandom per record cost more
 * than the rest of a record's encoding (bench-api: 13% of all CPU). */
enum { PGC_ID_POOL = 256 }; /* 4 KiB */
struct pgc_id_pool {
	uint8_t b[PGC_ID_POOL][16];
	unsigned left; /* the unused ones: b[0 .. left) */
};
/* A random (version 4) id into *out, from the pool; an empty pool is refilled with up to want
 * ids (those the caller may still need, so a small batch draws few). Cannot fail. */
void pgc_id_draw(struct pgc_id_pool *p, size_t want, struct peergraph_guid *out);

/* ---- events (client_event.c) --------------------------------------------------------- */

/* Queues a copy of a checked event body; past the queue's bounds counts it dropped. */
void pgc_event_push(struct peergraph *pg, const uint8_t *body, size_t len);
/* Frees the queue's frames. */
void pgc_event_queue_free(struct peergraph *pg);

#endif
