/*
 * wire.h - the datagrams nodes exchange: one codec for every frame (doc/flood.md, "Datagrams").
 *
 * Every datagram starts with a 16-byte header (magic, version, type, flags, the receiver's
 * link id, a sequence number or nonce); the body depends on the type. dp_wire_decode() is the
 * one door for bytes from the network: it checks every length before reading it and every
 * field against its range, and for a DATA datagram walks every chunk once, so that the chunk
 * iterator afterwards cannot fail. Views point into the caller's buffer; nothing allocates.
 * The encoders write into a caller's buffer and return the length, or 0 when it is too small.
 */
#ifndef DP_WIRE_H
#define DP_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	DP_WIRE_MAGIC = 0xa7,
	DP_WIRE_VERSION = 1,
	DP_WIRE_HDR_LEN = 16,
	DP_WIRE_DGRAM_MIN = 512,      /* the smallest max datagram a node may announce */
	DP_WIRE_DGRAM_DEFAULT = 1472, /* one Ethernet frame's UDP payload */
	DP_WIRE_DGRAM_MAX = 65507,    /* the largest UDP payload over IPv4 */
	DP_WIRE_COOKIE_LEN = 16,
	DP_WIRE_SACK_MAX = 32,	 /* ranges one ACK carries */
	DP_WIRE_GRAPH_MAX = 256, /* bytes of a graph id */
	DP_WIRE_NODE_MAX = 256,	 /* bytes of a node id */
	DP_WIRE_RECORD_HDR = 5,	 /* a RECORD chunk's kind and length */
	DP_WIRE_FRAG_HDR = 21,	 /* a FRAGMENT chunk's kind, message id, total, offset, length */
};

enum dp_wire_type {
	DP_WIRE_HELLO = 1,
	DP_WIRE_COOKIE = 2,
	DP_WIRE_WELCOME = 3,
	DP_WIRE_DATA = 4,
	DP_WIRE_ACK = 5,
	DP_WIRE_PING = 6,
	DP_WIRE_PONG = 7,
	DP_WIRE_CLOSE = 8,
	DP_WIRE_TYPES, /* bound for per-type counters */
};

enum dp_wire_chunk_kind {
	DP_CHUNK_PAD = 0,
	DP_CHUNK_RECORD = 1,
	DP_CHUNK_FRAGMENT = 2,
};

/* Why a link was closed (CLOSE's reason). */
enum dp_wire_close_reason {
	DP_CLOSE_BY_PEER = 1,  /* disconnected by its node (graph disconnect / close) */
	DP_CLOSE_NO_GRAPH = 2, /* the responder has no such graph open and listening */
	DP_CLOSE_VERSION = 3,  /* no common protocol version */
	DP_CLOSE_FULL = 4,     /* the responder's link table is full */
	DP_CLOSE_PROTOCOL = 5, /* the peer broke the protocol (e.g. acked what was not sent) */
	DP_CLOSE_SHUTDOWN = 6, /* the node is stopping */
	DP_CLOSE_SELF = 7,     /* a node connected to itself */
	DP_CLOSE_REASON_MAX = 7,
};

struct dp_wire_hello {
	uint32_t link;	    /* the initiator's link id, nonzero */
	uint32_t max_dgram; /* DP_WIRE_DGRAM_MIN .. DP_WIRE_DGRAM_MAX */
	const char *graph;  /* 1 .. DP_WIRE_GRAPH_MAX bytes */
	const char *node;   /* 1 .. DP_WIRE_NODE_MAX bytes */
	const uint8_t *cookie;
	uint16_t graph_len, node_len;
	uint8_t cookie_len; /* 0 or DP_WIRE_COOKIE_LEN */
};

struct dp_wire_welcome {
	uint32_t link; /* the responder's link id, nonzero */
	uint32_t max_dgram;
	const char *node;
	uint16_t node_len;
};

struct dp_wire_range {
	uint32_t gap, len; /* gap >= 1 unreceived, then len >= 1 received */
};

struct dp_wire_ack {
	uint64_t cum;	   /* every sequence number below it was received */
	uint64_t limit;	   /* the sender may send below it; >= cum */
	uint32_t delay_us; /* how long the receiver held this ack */
	uint16_t n;	   /* ranges, <= DP_WIRE_SACK_MAX */
	struct dp_wire_range r[DP_WIRE_SACK_MAX];
};

/* A decoded datagram. */
struct dp_wire_msg {
	uint8_t type, flags;
	uint32_t link;
	uint64_t seq; /* DATA: sequence number; HELLO / COOKIE / WELCOME: nonce */
	union {
		struct dp_wire_hello hello;
		const uint8_t *cookie; /* COOKIE: DP_WIRE_COOKIE_LEN bytes */
		struct dp_wire_welcome welcome;
		struct dp_wire_ack ack;
		uint64_t token;	 /* PING, PONG */
		uint32_t reason; /* CLOSE */
		struct {
			const uint8_t *body; /* the chunks */
			uint32_t len;
			uint16_t records, fragments;
		} data;
	} u;
};

/* One chunk of a DATA datagram. */
struct dp_wire_chunk {
	uint8_t kind; /* DP_CHUNK_RECORD or DP_CHUNK_FRAGMENT */
	const uint8_t *bytes;
	uint32_t len;
	uint64_t msg;	/* FRAGMENT: the message id */
	uint32_t total; /* FRAGMENT: the whole record's length */
	uint32_t off;	/* FRAGMENT: where these bytes go */
};

/* Decodes one datagram of len bytes. 0, or PG_E_WIRE_MAGIC / _VERSION / _TYPE / _FLAGS /
 * _LENGTH / _FIELD; *m is meaningful only on 0. Accepts trailing bytes only as DATA padding. A
 * FRAGMENT must lie within its total (offset + len <= total, len >= 1, total >= 1); a RECORD
 * holds at least one byte (its contents are the record decoder's business). */
int dp_wire_decode(const uint8_t *buf, size_t len, struct dp_wire_msg *m);

/* Iterates the chunks of a decoded DATA datagram: *pos starts at 0. 1 with *c filled, 0 at the
 * end. Cannot fail on a datagram dp_wire_decode() accepted. */
int dp_wire_chunk_next(const struct dp_wire_msg *m, uint32_t *pos, struct dp_wire_chunk *c);

/* ---- encoders: the length written, or 0 when cap is too small or a field is out of range */

size_t dp_wire_hello(uint8_t *buf, size_t cap, uint64_t nonce, const struct dp_wire_hello *h);
size_t dp_wire_cookie(uint8_t *buf, size_t cap, uint64_t nonce,
		      const uint8_t cookie[DP_WIRE_COOKIE_LEN]);
size_t dp_wire_welcome(uint8_t *buf, size_t cap, uint32_t to_link, uint64_t nonce,
		       const struct dp_wire_welcome *w);
size_t dp_wire_ack(uint8_t *buf, size_t cap, uint32_t to_link, const struct dp_wire_ack *a);
size_t dp_wire_ping(uint8_t *buf, size_t cap, uint32_t to_link, uint8_t type, uint64_t token);
size_t dp_wire_close(uint8_t *buf, size_t cap, uint32_t to_link, uint32_t reason);

/* A DATA datagram being written. */
struct dp_wire_data {
	uint8_t *buf;
	uint32_t cap, len;
	uint16_t records, fragments;
};

/* Starts a DATA datagram for link to_link, sequence seq, in buf[0..cap); cap must be at least
 * DP_WIRE_HDR_LEN + DP_WIRE_FRAG_HDR + 1 (asserted). */
void dp_wire_data_begin(struct dp_wire_data *w, uint8_t *buf, uint32_t cap, uint32_t to_link,
			uint64_t seq);
/* Room for a record of len bytes? */
static inline bool dp_wire_data_fits(const struct dp_wire_data *w, uint32_t len)
{
	return (uint64_t)w->len + DP_WIRE_RECORD_HDR + len <= w->cap;
}
/* Appends a whole record encoding. 0, or -ENOSPC (nothing written). */
int dp_wire_data_record(struct dp_wire_data *w, const uint8_t *rec, uint32_t len);
/* Appends as much of rec[off..total) as fits as one FRAGMENT of message msg; returns the bytes
 * of the record taken (0: not even one byte fits). */
uint32_t dp_wire_data_fragment(struct dp_wire_data *w, uint64_t msg, const uint8_t *rec,
			       uint32_t total, uint32_t off);
/* Pads to pad_to bytes (0 or <= len: no padding) and returns the datagram's length. */
uint32_t dp_wire_data_end(struct dp_wire_data *w, uint32_t pad_to);

/* The type's name ("DATA"), or "?" */
const char *dp_wire_type_name(unsigned type);

#endif
