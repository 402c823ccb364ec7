/*
 * io.h - the dataplane's io backends: one UDP socket (later one NIC queue) behind one ops table.
 *
 * A worker owns one struct dp_io. It receives bursts of datagrams into buffers the backend
 * allocated at open (rx_burst, then rx_done to give the buffers back), sends bursts of
 * datagrams (tx_burst: each entry is a GSO-style run of equal-sized datagrams to one address),
 * and sleeps in wait() when it has nothing to do. Two backends are always built:
 *
 *   "uring"    the default: io_uring with a multishot recvmsg into a ring of provided buffers,
 *              UDP GRO on receive and UDP GSO on send, sendmsg submitted as a batch of SQEs;
 *   "sockets"  the reference: recvmmsg / sendmmsg and epoll, GRO and GSO when allowed.
 *
 * Every feature is probed at open and falls back on its own (doc/flood.md, "Ports, sockets and
 * workers"; DESIGN.md, "Platform notes"): no multishot recvmsg -> single-shot recvmsg re-armed,
 * no GRO -> one datagram per buffer, no GSO -> one datagram per send, no io_uring at all ->
 * open fails with -ENOSYS and dp_io_open() takes the sockets backend. The table is shaped for
 * a DPDK backend too: bursts of buffers, never one datagram per call.
 *
 * Threads: a dp_io is used by one thread (its worker), except wake(), which any thread may
 * call. Memory: every buffer is allocated at open; nothing is allocated per datagram. Errors
 * are negative errno values. ICMP errors for earlier sends (port unreachable, ...) are read from
 * the socket's error queue and counted: they never fail a call.
 */
#ifndef PG_DP_IO_H
#define PG_DP_IO_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

enum {
	DP_IO_BURST_MAX = 1024,	      /* rx_burst and tx_burst bound */
	DP_IO_RX_BUFFERS_MAX = 32768, /* receive buffers (io_uring's buffer ids are 16-bit) */
	DP_IO_RX_BUF_MAX = 1u << 20,  /* bytes per receive buffer */
	DP_IO_GRO_BUF_MIN = 65535,    /* a buffer must hold this much for GRO to be turned on */
	DP_IO_DGRAM_MAX = 65507,      /* bytes in one dp_tx (one UDP/IPv4 payload, GSO or not) */
	DP_IO_GSO_SEGS_MAX = 64,      /* datagrams in one dp_tx (the kernel's UDP_MAX_SEGMENTS) */
	DP_IO_TX_RETRIES = 4,	      /* tries of a datagram the kernel could not queue */
	DP_IO_TX_BLOCK_MAX_US = 1000, /* longest wait for send room between those tries */
	DP_IO_ERRQ_MAX = 64,	      /* ICMP errors read from the error queue per look */
};

/* An IPv4 or IPv6 socket address; len is the length of the sockaddr in use. */
struct dp_addr {
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	};
	socklen_t len;
};

struct dp_io_config {
	const char *backend;  /* "uring" | "sockets"; NULL = "uring" (dp_io_open only) */
	struct dp_addr bind;  /* port 0: the kernel picks one (local_addr says which) */
	bool reuseport;	      /* SO_REUSEPORT: one socket per worker on one address */
	unsigned rx_burst;    /* buffers asked of the kernel per receive, 1 .. DP_IO_BURST_MAX */
	unsigned rx_buffers;  /* receive buffers, rx_burst .. DP_IO_RX_BUFFERS_MAX */
	uint32_t rx_buf_size; /* payload bytes per buffer, 64 .. DP_IO_RX_BUF_MAX; longer
				 datagrams are truncated, counted and dropped */
	unsigned tx_burst;    /* send messages per system call, 1 .. DP_IO_BURST_MAX */
	int rcvbuf, sndbuf;   /* socket buffer bytes (forced when privileged); 0 = default */
	bool gso, gro;	      /* allowed; used where the probe at open finds them */
	bool multishot;	      /* uring: multishot recvmsg allowed; used where probed */
};

/* One received datagram. data points into a backend buffer, valid until rx_done(). */
struct dp_pkt {
	const uint8_t *data;
	uint32_t len;
	uint32_t buf; /* the backend's buffer handle; several datagrams may share one (GRO) */
	struct dp_addr src;
};

/* One send: data holds consecutive datagrams of seg bytes, the last one possibly shorter (the
 * UDP GSO model); seg 0 or seg >= len is one datagram of len bytes. len <= DP_IO_DGRAM_MAX and
 * at most DP_IO_GSO_SEGS_MAX datagrams. A backend without GSO sends them one by one. */
struct dp_tx {
	struct dp_addr dst;
	const uint8_t *data;
	uint32_t len;
	uint16_t seg;
};

/* Error classes of send failures and of ICMP errors reported for earlier sends. */
enum dp_io_err_class {
	DP_IO_ERR_REFUSED, /* ECONNREFUSED: nothing listens on the port */
	DP_IO_ERR_UNREACH, /* host or network unreachable or down, no address */
	DP_IO_ERR_MSGSIZE, /* EMSGSIZE: larger than the path allows */
	DP_IO_ERR_NOBUFS,  /* EAGAIN, ENOBUFS, ENOMEM: no room to queue it (after retries) */
	DP_IO_ERR_OTHER,   /* EPERM (a firewall), EINVAL, EIO, ... */
	DP_IO_ERR_CLASSES,
};

/* Readiness bits wait() returns. */
enum {
	DP_IO_READY_RX = 1u << 0,    /* datagrams wait for rx_burst() */
	DP_IO_READY_WOKEN = 1u << 1, /* wake() was called */
};

struct dp_io_stats {
	uint64_t syscalls;  /* every system call the backend made, io_uring_enter and
			       wake()'s eventfd writes included */
	uint64_t rx_dgrams; /* datagrams handed out by rx_burst() */
	uint64_t rx_bytes;
	uint64_t rx_bufs;   /* buffers the kernel filled (a GRO buffer holds several) */
	uint64_t rx_trunc;  /* datagrams longer than a buffer (MSG_TRUNC): dropped */
	uint64_t rx_nobufs; /* times receiving stopped for want of a free buffer */
	uint64_t rx_errors; /* other receive errors */
	uint64_t tx_dgrams; /* datagrams the kernel took (each GSO segment counts) */
	uint64_t tx_bytes;
	uint64_t tx_msgs;    /* send messages the kernel took (a GSO batch is one) */
	uint64_t tx_retries; /* messages tried again (no room yet, or an ICMP error pending) */
	uint64_t tx_gso_fallbacks; /* GSO messages the kernel refused (EIO: the route cannot
				      segment; EMSGSIZE, EINVAL: segments over the MTU), sent
				      one by one */
	uint64_t tx_err[DP_IO_ERR_CLASSES];   /* datagrams lost to send errors, by class */
	uint64_t icmp_err[DP_IO_ERR_CLASSES]; /* ICMP errors for earlier sends, by class */
	uint64_t wakes;			      /* wake() calls */
	bool gso, gro;			      /* in use (probed and allowed) */
	bool multishot;			      /* uring: multishot recvmsg in use */
};

struct dp_io;

struct dp_io_ops {
	const char *name;
	/* Opens a socket bound to cfg->bind with every buffer allocated. 0, -EINVAL for a bad
	 * config, -ENOSYS when the backend cannot run on this host (no io_uring, or it is
	 * forbidden), or another negative errno (socket, bind: -EADDRINUSE, ...). */
	int (*open)(const struct dp_io_config *cfg, struct dp_io **out);
	/* Closes the socket and frees everything; every pkt's data becomes invalid. */
	void (*close)(struct dp_io *io);
	/* The bound address (port 0 resolved). 0 or a negative errno. */
	int (*local_addr)(struct dp_io *io, struct dp_addr *out);
	/* Fills up to max pkts with received datagrams, a GRO buffer split into its datagrams;
	 * never blocks and makes at most one receive system call. Returns how many. */
	unsigned (*rx_burst)(struct dp_io *io, struct dp_pkt *pkts, unsigned max);
	/* Gives back the buffers of n pkts from rx_burst() (any order, each pkt once); a buffer
	 * returns to the kernel when all its datagrams are done. */
	void (*rx_done)(struct dp_io *io, const struct dp_pkt *pkts, unsigned n);
	/* Sends n entries; returns how many it took, from the first. When it returns the kernel
	 * has copied every datagram of the entries taken (or counted it lost), so the caller may
	 * reuse tx[i].data at once. The socket backends take all n: a datagram the kernel has no
	 * room for is retried up to DP_IO_TX_RETRIES times, waiting up to DP_IO_TX_BLOCK_MAX_US
	 * for room, then dropped and counted; a NIC backend may take fewer when its ring is full.
	 */
	unsigned (*tx_burst)(struct dp_io *io, const struct dp_tx *tx, unsigned n);
	/* Sleeps until datagrams can be received, wake() is called, or timeout_us passes (0: do
	 * not sleep; UINT64_MAX: no timeout). Returns DP_IO_READY_* bits; 0 on timeout, or early
	 * (a signal, or only ICMP errors came and were counted); or a negative errno. */
	int (*wait)(struct dp_io *io, uint64_t timeout_us);
	/* Makes a wait(), current or next, return DP_IO_READY_WOKEN. Any thread. */
	void (*wake)(struct dp_io *io);
	/* Copies the counters. */
	void (*stats)(struct dp_io *io, struct dp_io_stats *out);
};

/* The backend called name ("uring", "sockets"), or NULL for an unknown name. */
const struct dp_io_ops *dp_io_backend(const char *name);

/* Opens cfg->backend (NULL: "uring"); when io_uring cannot run here (-ENOSYS) it opens
 * "sockets" instead. *ops is the backend opened. 0 or a negative errno as ops->open. */
int dp_io_open(const struct dp_io_config *cfg, const struct dp_io_ops **ops, struct dp_io **out);

/* Fills cfg with defaults: backend NULL, bind 0.0.0.0 port 0, rx_burst 64, rx_buffers 256,
 * rx_buf_size 65536 (room for GRO), tx_burst 64, 4 MiB socket buffers, GSO, GRO and multishot
 * allowed, no SO_REUSEPORT. */
void dp_io_config_default(struct dp_io_config *cfg);

/* The class of a send or ICMP errno (positive). */
enum dp_io_err_class dp_io_err_class_of(int err);
/* "refused", "unreach", "msgsize", "nobufs", "other". */
const char *dp_io_err_class_name(enum dp_io_err_class c);

/* Sets *out to ip:port (IPv4 dotted quad or IPv6); 0, or -EINVAL for an unparsable string. */
int dp_addr_parse(struct dp_addr *out, const char *ip, uint16_t port);
/* Attaches a classic BPF program choosing, for each datagram, the socket of io's
 * SO_REUSEPORT group that receives it (SO_ATTACH_REUSEPORT_CBPF; the program sees the UDP
 * payload). 0 or a negative errno. */
struct sock_fprog;
int dp_io_reuseport_cbpf(struct dp_io *io, const struct sock_fprog *prog);
/* true when both are the same family, address and port. */
bool dp_addr_equal(const struct dp_addr *a, const struct dp_addr *b);

#endif
