/*
 * io_impl.h - what the io backends share: the state every struct dp_io begins with, the socket
 * set-up with its GSO/GRO probes, the queue of received buffers that rx_burst() splits into
 * datagrams, and the send batch (messages built from dp_tx entries, each message's outcome
 * classified, retried or counted). Not part of the dataplane's interface: io.h is.
 */
#ifndef PG_DP_IO_IMPL_H
#define PG_DP_IO_IMPL_H

#include <netinet/udp.h> /* SOL_UDP, UDP_SEGMENT, UDP_GRO (Debian 12's glibc has them) */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "io.h"

/* A received buffer waiting to be handed out, its datagrams from off on. */
struct dp_io_rxent {
	const uint8_t *data;
	uint32_t len;
	uint32_t off;
	uint32_t buf;
	uint32_t seg; /* GRO segment size; 0: one datagram */
	struct dp_addr src;
};

/* One message of the send batch. */
struct dp_io_txmeta {
	uint32_t bytes;
	uint16_t segs;
	uint8_t gso; /* carries a UDP_SEGMENT cmsg */
	uint8_t tries;
};

/* What became of a send message (dp_io_tx_settle). */
enum dp_io_tx_verdict {
	DP_IO_TX_DONE,	     /* sent, or lost and counted */
	DP_IO_TX_RETRY,	     /* an ICMP error for an earlier send stood in its way: try again */
	DP_IO_TX_RETRY_ROOM, /* no room in the kernel: wait for room, then try again */
};

enum {
	DP_IO_TX_CTL = 24, /* CMSG_SPACE(sizeof(uint16_t)) rounded up: one UDP_SEGMENT cmsg */
	DP_IO_RX_CTL = 64, /* room for a UDP_GRO cmsg (an int) and slack */
};

/* The buffer handle of an empty datagram that arrived in no buffer (io_uring single-shot). */
#define DP_IO_NOBUF UINT32_MAX

struct dp_io {
	const struct dp_io_ops *ops;
	struct dp_io_config cfg;
	int fd;
	int efd; /* eventfd that wake() writes */
	bool gso, gro;

	/* receive buffers: buffer i's payload room starts at buf_mem + i * buf_stride + buf_head */
	uint8_t *buf_mem;
	size_t buf_mem_len;
	uint32_t buf_stride;
	uint32_t buf_head;
	uint32_t *refs; /* datagrams of each buffer still with the caller; 0: not out */
	struct dp_io_rxent *rxq;
	uint32_t rxq_head, rxq_tail; /* free-running; at most rx_buffers entries */

	/* the send batch: tx_cap messages, their iovecs, cmsgs and bookkeeping */
	struct mmsghdr *tx_msgs;
	struct iovec *tx_iov;
	uint8_t (*tx_ctl)[DP_IO_TX_CTL];
	struct dp_io_txmeta *tx_meta;
	uint8_t *tx_verdict;
	unsigned tx_cap;

	struct dp_io_stats st;
	_Atomic uint64_t wakes; /* the one counter another thread writes (wake) */
};

/* Checks cfg's bounds: 0 or -EINVAL. */
int dp_io_config_check(const struct dp_io_config *cfg);
/* Fills the shared part of io (already zeroed, ops set): copies cfg, allocates rx_buffers
 * buffers of buf_head + rx_buf_size bytes each (buf_head: room a backend wants in front of the
 * payload), the receive queue and the send batch, opens the eventfd and the socket (bound,
 * IP_RECVERR on, GSO and GRO probed where allowed). 0 or a negative errno; on failure
 * dp_io_base_fini() undoes what was done. */
int dp_io_base_init(struct dp_io *io, const struct dp_io_config *cfg, uint32_t buf_head);
/* Closes and frees what dp_io_base_init() made (safe on a partly made io). */
void dp_io_base_fini(struct dp_io *io);

static inline uint8_t *dp_io_buf(const struct dp_io *io, uint32_t buf)
{
	return io->buf_mem + (size_t)buf * io->buf_stride;
}

/* Queues a filled buffer whose datagrams rx_burst() will hand out: len bytes at data, GRO
 * segment size seg (0: one datagram), from src. buf DP_IO_NOBUF: an empty datagram. */
void dp_io_rxq_push(struct dp_io *io, uint32_t buf, const uint8_t *data, uint32_t len, uint32_t seg,
		    const void *src, socklen_t src_len);
/* Hands out up to max datagrams from the queue. Returns how many. */
unsigned dp_io_rxq_emit(struct dp_io *io, struct dp_pkt *pkts, unsigned max);
static inline bool dp_io_rxq_empty(const struct dp_io *io)
{
	return io->rxq_head == io->rxq_tail;
}
/* One datagram of buf is done: true when it was the buffer's last (the buffer is free);
 * always false for DP_IO_NOBUF. */
bool dp_io_rx_unref(struct dp_io *io, uint32_t buf);
/* The GRO segment size a received message's cmsgs carry, or 0. */
uint32_t dp_io_gro_seg(const struct msghdr *mh);

/* Reads up to DP_IO_ERRQ_MAX ICMP errors from the socket's error queue and counts them by
 * class. Returns how many it read. */
unsigned dp_io_errq_drain(struct dp_io *io);

/* Builds send messages in io->tx_msgs[0..] from tx entries, as many whole entries as fit.
 * Returns the entries used; *msgs is the number of messages built. */
unsigned dp_io_tx_build(struct dp_io *io, const struct dp_tx *tx, unsigned n, unsigned *msgs);
/* Settles message j after the kernel answered res (bytes sent, or -errno): counts it, sends a
 * GSO message the route refused one datagram at a time, or says to try it again. */
enum dp_io_tx_verdict dp_io_tx_settle(struct dp_io *io, unsigned j, int res);
/* Moves the messages whose verdict is a retry to the front of the batch (in order); returns
 * how many. Waits for send room first (up to DP_IO_TX_BLOCK_MAX_US) when one needs it. */
unsigned dp_io_tx_retry_compact(struct dp_io *io, unsigned msgs);

/* tx_burst() for a backend whose send_batch(io, msgs) hands messages [0, msgs) of the batch to
 * the kernel and sets each one's tx_verdict (dp_io_tx_settle): batch after batch, each retried
 * as the verdicts say. Takes all n. */
unsigned dp_io_tx_run(struct dp_io *io, const struct dp_tx *tx, unsigned n,
		      void (*send_batch)(struct dp_io *io, unsigned msgs));

/* The eventfd side of wake() and wait(). */
void dp_io_wake_signal(struct dp_io *io);
/* Copies io's counters into *out, the wakes another thread made included. */
void dp_io_stats_copy(struct dp_io *io, struct dp_io_stats *out);

int dp_io_local_addr(struct dp_io *io, struct dp_addr *out);

extern const struct dp_io_ops dp_io_sockets_ops;
extern const struct dp_io_ops dp_io_uring_ops;

#endif
