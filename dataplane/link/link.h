/*
 * link.h - one established link between two nodes: reliability, flow and congestion control,
 * liveness and fragmentation, as a state machine without I/O (doc/flood.md).
 *
 * A link does no I/O and reads no clock: the caller passes `now` (microseconds, any monotonic
 * origin) to every call, hands it the datagrams the peer sent (decoded by wire.h) and takes
 * from dp_link_poll() the datagrams to transmit. The worker loop drives it over a socket;
 * tests and the simulator drive the very same code with no socket.
 *
 * Sending: the flood layer offers whole record encodings (dp_link_send_record); the link packs
 * them into DATA datagrams in its send window (fragmenting what does not fit in one), each
 * with the next sequence number, and keeps every datagram until the peer acknowledges it. It
 * lets out what congestion control, the peer's receive limit and the window allow. Losses are
 * found as RFC 9002 does (three later datagrams acknowledged, or 9/8 of the round trip passed
 * since it was sent while a later one was acknowledged, or a probe timeout) and the datagram
 * is sent again, same sequence number and bytes. Congestion control is NewReno in datagrams
 * with a floor, so random loss slows a link but never stalls it.
 *
 * Receiving: a DATA datagram is taken once (a bitmap over the receive window remembers which
 * sequence numbers arrived); its records reach the caller's callback at once, whole records
 * directly from the datagram, fragmented ones when their last piece arrives. The receiver
 * advertises how far the peer may send (the limit) from the credit its caller grants: credit
 * is the back-pressure door, and a limit once advertised is never taken back, so whatever
 * arrives within it must be taken.
 *
 * Memory: fixed at create (window x datagram bytes, the receive bitmap) plus reassembly
 * buffers, bounded per link (DP_LINK_REASM_MSGS messages of at most max_record bytes) and by
 * a budget shared by the caller's links. Threads: a link is used by one thread at a time.
 */
#ifndef DP_LINK_H
#define DP_LINK_H

#include <stdbool.h>
#include <stdint.h>

#include "wire.h"

enum {
	DP_LINK_WINDOW_DEFAULT = 1024, /* datagrams in the send window */
	DP_LINK_WINDOW_MAX = 65536,
	DP_LINK_RWND_DEFAULT = 4096, /* datagrams the receive bitmap covers */
	DP_LINK_RWND_MAX = 1 << 20,
	DP_LINK_ACK_DELAY_US = 1000,
	DP_LINK_ACK_EVERY = 16,
	DP_LINK_PING_US = 1000000,
	DP_LINK_DEAD_US = 10000000,
	DP_LINK_CWND_MIN = 16,
	DP_LINK_CWND_INIT = 64,
	DP_LINK_RTT_INIT_US = 10000,
	DP_LINK_PTO_MAX_US = 200000, /* the probe timeout's backoff stops here */
	DP_LINK_REASM_MSGS = 4,	     /* records in reassembly at once per link */
	DP_LINK_REASM_TIMEOUT_US = 10000000,
	DP_LINK_OUT_MAX = 8, /* control datagrams one poll may return beyond data */
};

struct dp_link_config {
	uint32_t max_dgram; /* our bound: DP_WIRE_DGRAM_MIN .. DP_WIRE_DGRAM_MAX */
	uint32_t window;    /* power of two, 16 .. DP_LINK_WINDOW_MAX */
	uint32_t rwnd;	    /* power of two, 64 .. DP_LINK_RWND_MAX */
	uint32_t ack_delay_us, ack_every;
	uint32_t ping_us, dead_us;
	uint32_t cwnd_min, cwnd_init;
	uint32_t max_record;	   /* bytes: larger fragmented records are refused */
	uint32_t reasm_timeout_us; /* an incomplete record is freed after this */
	/* pad a DATA datagram closed because the next chunk did not fit to the datagram size,
	 * so a burst is equal-sized datagrams and one short last one: one GSO send. A
	 * datagram closed by dp_link_flush keeps its length. */
	bool pad;
};

/* Reassembly memory shared by the links of one thread. */
struct dp_link_budget {
	uint64_t used, max;
};

enum dp_link_state {
	DP_LINK_UP = 1,
	DP_LINK_CLOSED = 2, /* by us or by the peer (reason in stats) */
	DP_LINK_DEAD = 3,   /* nothing heard for dead_us */
};

struct dp_link_stats {
	uint64_t tx_data, tx_retrans, tx_acks, tx_pings, tx_bytes;
	uint64_t rx_data, rx_dup, rx_outside, rx_acks, rx_pings, rx_bytes;
	uint64_t records_tx, records_rx, fragments_tx, fragments_rx;
	uint64_t lost_thresh, lost_time, pto, spurious; /* how losses were found */
	uint64_t congestion_events;
	uint64_t reasm_done, reasm_timeout, reasm_refused, reasm_bad;
	uint64_t refused_credit; /* DATA past the limit we advertised */
	uint32_t cwnd, inflight, srtt_us, rttvar_us, min_rtt_us;
	uint64_t snd_next, snd_una, peer_limit, rcv_cum, rcv_limit;
	uint32_t close_reason; /* when closed */
	bool closed_by_peer;
};

/* One datagram to transmit: valid until the next call on the link. */
struct dp_link_out {
	const uint8_t *data;
	uint32_t len;
};

/* Receives each complete record of a DATA datagram (valid during the call). */
typedef void (*dp_link_record_fn)(void *ctx, const uint8_t *rec, uint32_t len);

struct dp_link;

/* Fills the defaults above, DP_WIRE_DGRAM_DEFAULT datagrams, 64 MiB records, no padding. */
void dp_link_config_default(struct dp_link_config *c);
/* Checks a configuration. 0 or -EINVAL. */
int dp_link_config_check(const struct dp_link_config *c);

/* Creates an established link: local_id names it in the peer's datagrams, peer_id in ours;
 * datagrams are the smaller of both ends' max. budget may be shared by many links (it must
 * outlive them). 0, -EINVAL or -ENOMEM. */
int dp_link_create(const struct dp_link_config *c, uint32_t local_id, uint32_t peer_id,
		   uint32_t peer_max_dgram, struct dp_link_budget *budget, uint64_t now,
		   struct dp_link **out);
/* Frees the link, its window and its reassembly (returned to the budget). NULL is fine. */
void dp_link_destroy(struct dp_link *l);

enum dp_link_state dp_link_state(const struct dp_link *l);
uint32_t dp_link_local_id(const struct dp_link *l);
uint32_t dp_link_peer_id(const struct dp_link *l);
uint32_t dp_link_dgram(const struct dp_link *l);
void dp_link_stats(const struct dp_link *l, struct dp_link_stats *st);

/* ---- input ---- */

/* What dp_link_data_check() says of a DATA datagram before anything is taken. */
enum dp_link_seq {
	DP_LINK_SEQ_NEW = 0,	 /* take it: dp_link_data() */
	DP_LINK_SEQ_DUP = 1,	 /* already taken (a retransmission crossed our ack) */
	DP_LINK_SEQ_OUTSIDE = 2, /* past the limit we advertised: a broken or hostile peer */
};
enum dp_link_seq dp_link_data_check(struct dp_link *l, uint64_t now, uint64_t seq);

/* Takes a DATA datagram dp_link_data_check() called new: marks it received (to be
 * acknowledged), calls fn for each complete record. 0, or PG_E_BUSY when a fragment would
 * start a reassembly the link or the budget has no room for (nothing taken: the peer sends it
 * again). A fragment that contradicts the message it belongs to (another total, past the end)
 * is counted and dropped with its message. */
int dp_link_data(struct dp_link *l, uint64_t now, const struct dp_wire_msg *m, dp_link_record_fn fn,
		 void *ctx);

/* Takes an ACK, PING, PONG or CLOSE. 0, or PG_E_WIRE_FIELD for an ack of what was never sent
 * (the link is then closed with DP_CLOSE_PROTOCOL). Any datagram from the peer (also DATA)
 * keeps the link alive: callers pass DATA to dp_link_data_check first, which counts too. */
int dp_link_input(struct dp_link *l, uint64_t now, const struct dp_wire_msg *m);

/* Grants the peer credit: it may send up to `dgrams` datagrams past what we have taken in
 * order. The advertised limit only grows; a smaller grant just stops it growing. */
void dp_link_grant(struct dp_link *l, uint32_t dgrams);
/* Datagrams the peer may still send under the limit already advertised. */
uint64_t dp_link_promised(const struct dp_link *l);

/* ---- output ---- */

/* Datagrams that may be opened now (window, peer limit, congestion window). */
uint32_t dp_link_send_room(const struct dp_link *l);
/* Offers one record encoding. 1: queued whole; 0: no room now (when it was being fragmented,
 * the link remembers how far it got: offer the same record again); -EMSGSIZE: larger than
 * max_record. */
int dp_link_send_record(struct dp_link *l, uint64_t now, const uint8_t *rec, uint32_t len);
/* Seals the DATA datagram being filled, if any, so that the next poll sends it. */
void dp_link_flush(struct dp_link *l);
/* Runs the timers due at now (loss, probe, ack delay, ping, dead link, reassembly) and returns
 * up to max datagrams to transmit: control first, then retransmissions, then new data. */
unsigned dp_link_poll(struct dp_link *l, uint64_t now, struct dp_link_out *out, unsigned max);
/* The earliest time a poll has something to do without new input (UINT64_MAX: never). */
uint64_t dp_link_deadline(const struct dp_link *l);
/* Closes the link: the next poll returns a CLOSE for the peer; then the link is closed. */
void dp_link_close(struct dp_link *l, uint32_t reason);

#endif
