/*
 * io_uring.c - the default io backend: io_uring with provided buffers, UDP GRO and GSO.
 *
 * HOW IT WORKS
 *
 * Receiving. One multishot recvmsg stays armed on the socket. The kernel picks a buffer from a
 * ring of provided buffers (allocated here, page-aligned, and registered: liburing 2.3 has no
 * io_uring_setup_buf_ring) for every datagram, or every GRO run of datagrams, and posts one
 * CQE naming the buffer. The buffer starts with a struct io_uring_recvmsg_out, the source
 * address and the cmsgs (the UDP_GRO segment size) in the room this backend reserved in front
 * of the payload (RX_HEAD bytes, so payloads start 64-byte aligned). rx_burst() reads the CQ
 * with no system call, queues each buffer, and hands its datagrams out; rx_done() puts a buffer
 * back in the ring once all its datagrams are done. When the ring runs dry the kernel ends
 * the multishot request (-ENOBUFS, counted) and it is armed again once buffers come back.
 *
 * Sending. tx_burst() builds messages (one per GSO run), queues one sendmsg SQE each with
 * MSG_DONTWAIT, and enters the kernel once to submit them and wait for their completions: a
 * UDP send copies the data while it is issued, so the caller's data is free when tx_burst()
 * returns. Completions are settled as in io.c (retried, split, or counted).
 *
 * Waiting and waking. A read of the wake eventfd stays armed in the ring, so wake() from any
 * thread completes it; wait() is one io_uring_enter with a timeout (IORING_ENTER_EXT_ARG).
 *
 * Counting. Every entry into the kernel goes through ring_enter(), which counts it: the SQ
 * tail is published here rather than by io_uring_submit(), whose choice to enter or not is
 * liburing's.
 *
 * LIMITATIONS
 *
 * Needs a kernel with buffer rings (5.19) and IORING_FEAT_EXT_ARG; without them, or with
 * io_uring forbidden (io_uring_disabled, seccomp), open fails with -ENOSYS and dp_io_open()
 * takes the sockets backend. Without multishot recvmsg (before 6.0) rx_burst single-shot
 * recvmsg requests stay armed and each completion is re-armed at the next entry.
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "io_impl.h"
#include "pg_assert.h"

enum {
	BGID = 0,		/* the provided-buffer group */
	RX_HEAD = 128,		/* recvmsg_out, name and cmsgs in front of each payload */
	TAG_SHIFT = 56,		/* user_data: kind << TAG_SHIFT | index */
	TAG_RX_MULTI = 1,	/* the multishot recvmsg */
	TAG_RX_SINGLE = 2,	/* a single-shot recvmsg, index = its slot */
	TAG_TX = 3,		/* a sendmsg, index = its message in the send batch */
	TAG_WAKE = 4,		/* the read of the wake eventfd */
	TAG_CANCEL = 5,		/* the cancel at close */
	TX_ENTERS_MAX = 1000,	/* enters one send batch may take before something is wrong */
	CLOSE_WAIT_US = 100000, /* per wait for cancelled requests at close */
	CLOSE_WAITS_MAX = 20,	/* of those */
	RX_NAME = 32, /* a sockaddr_in6 (28) rounded up so that the cmsgs after it are aligned */
	RX_CTL = RX_HEAD - sizeof(struct io_uring_recvmsg_out) - RX_NAME,
};
_Static_assert(RX_NAME >= sizeof(struct sockaddr_in6), "room for any source address");
_Static_assert((sizeof(struct io_uring_recvmsg_out) + RX_NAME) % 8 == 0, "cmsgs aligned");
_Static_assert(RX_CTL >= CMSG_SPACE(sizeof(int)), "room for the UDP_GRO cmsg");

struct ur_io {
	struct dp_io io; /* first: a struct dp_io * is a struct ur_io * */
	struct io_uring ring;
	bool ring_up;
	struct io_uring_buf_ring *br;
	size_t br_len;
	uint32_t br_entries;
	bool br_registered;
	uint32_t kbufs;	     /* buffers the kernel holds */
	uint32_t br_added;   /* added to the ring, not yet published */
	struct msghdr rx_mh; /* the multishot layout: name and control lengths */
	bool multishot;
	bool multi_armed;
	/* single-shot fallback: rx_burst recvmsg slots */
	struct msghdr *ss_mh;
	struct sockaddr_in6 *ss_name;
	struct iovec *ss_iov;
	uint8_t (*ss_ctl)[DP_IO_RX_CTL];
	uint32_t *ss_free;
	uint32_t ss_nfree;
	uint64_t wake_val;
	bool wake_armed;
	bool woken;
	unsigned tx_waiting; /* send completions not yet reaped */
	bool cancel_done;
};

static struct ur_io *ur_of(struct dp_io *io)
{
	return (struct ur_io *)io;
}

static uint32_t pow2_at_least(uint32_t n)
{
	uint32_t p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

/* ---- entering the kernel ---------------------------------------------------------------- */

/* Submits every queued SQE and waits for wait_nr completions or timeout_us (UINT64_MAX: none).
 * Returns SQEs submitted or a negative errno (-ETIME on timeout). The one place this backend
 * enters the kernel for the ring, so the count is exact. */
static int ring_enter(struct ur_io *u, unsigned wait_nr, uint64_t timeout_us)
{
	struct io_uring_sq *sq = &u->ring.sq;
	struct __kernel_timespec ts;
	struct io_uring_getevents_arg arg = { .sigmask_sz = _NSIG / 8 };
	unsigned flags = IORING_ENTER_EXT_ARG, submit;
	long r;

	if (sq->sqe_head != sq->sqe_tail) {
		sq->sqe_head = sq->sqe_tail;
		/* the SQEs written before must be seen by the kernel before the new tail */
		io_uring_smp_store_release(sq->ktail, sq->sqe_tail);
	}
	/* the kernel's head: every SQE before it has been read, its slot may be reused */
	submit = sq->sqe_tail - io_uring_smp_load_acquire(sq->khead);
	if (wait_nr)
		flags |= IORING_ENTER_GETEVENTS;
	if (timeout_us != UINT64_MAX) {
		ts.tv_sec = (long long)(timeout_us / 1000000);
		ts.tv_nsec = (long long)(timeout_us % 1000000) * 1000;
		arg.ts = (uint64_t)(uintptr_t)&ts;
	}
	u->io.st.syscalls++;
	r = syscall(__NR_io_uring_enter, u->ring.ring_fd, submit, wait_nr, flags, &arg,
		    sizeof(arg));
	return r < 0 ? -errno : (int)r;
}

static struct io_uring_sqe *sqe_get(struct ur_io *u, unsigned kind, uint64_t idx)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);

	if (!sqe) {
		(void)ring_enter(u, 0, UINT64_MAX); /* the SQ is full: make room */
		sqe = io_uring_get_sqe(&u->ring);
	}
	PG_ASSERT(sqe);
	io_uring_sqe_set_data64(sqe, ((uint64_t)kind << TAG_SHIFT) | idx);
	return sqe;
}

/* ---- buffers ---------------------------------------------------------------------------- */

static void buf_give(struct ur_io *u, uint32_t bid)
{
	io_uring_buf_ring_add(u->br, dp_io_buf(&u->io, bid), RX_HEAD + u->io.cfg.rx_buf_size,
			      (unsigned short)bid, io_uring_buf_ring_mask(u->br_entries),
			      (int)u->br_added++);
}

/* Makes the buffers given since the last call visible to the kernel. */
static void buf_publish(struct ur_io *u)
{
	if (u->br_added) {
		io_uring_buf_ring_advance(u->br, (int)u->br_added);
		u->kbufs += u->br_added;
		u->br_added = 0;
	}
}

static void arm_single(struct ur_io *u, uint32_t slot)
{
	struct msghdr *mh = &u->ss_mh[slot];
	struct io_uring_sqe *sqe;

	mh->msg_namelen = sizeof(u->ss_name[slot]);
	mh->msg_controllen = u->io.gro ? sizeof(u->ss_ctl[slot]) : 0;
	mh->msg_flags = 0;
	sqe = sqe_get(u, TAG_RX_SINGLE, slot);
	io_uring_prep_recvmsg(sqe, u->io.fd, mh, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = BGID;
}

/* Arms what is not armed: the wake read, and the multishot recvmsg or the single-shot ones
 * (no more than the kernel has buffers for). The SQEs go in at the next ring_enter(). */
static void arm(struct ur_io *u)
{
	struct io_uring_sqe *sqe;

	if (!u->wake_armed) {
		sqe = sqe_get(u, TAG_WAKE, 0);
		io_uring_prep_read(sqe, u->io.efd, &u->wake_val, sizeof(u->wake_val), 0);
		u->wake_armed = true;
	}
	if (u->multishot) {
		if (!u->multi_armed && u->kbufs > 0) {
			sqe = sqe_get(u, TAG_RX_MULTI, 0);
			io_uring_prep_recvmsg_multishot(sqe, u->io.fd, &u->rx_mh, 0);
			sqe->flags |= IOSQE_BUFFER_SELECT;
			sqe->buf_group = BGID;
			u->multi_armed = true;
		}
		return;
	}
	/* each armed request takes a buffer and a receive-queue entry (an empty datagram takes
	 * only the entry): never arm more than there are of either */
	for (;;) {
		uint32_t armed = u->io.cfg.rx_burst - u->ss_nfree;
		uint32_t queued = u->io.rxq_tail - u->io.rxq_head;

		if (u->ss_nfree == 0 || armed >= u->kbufs || queued + armed >= u->io.cfg.rx_buffers)
			break;
		arm_single(u, u->ss_free[--u->ss_nfree]);
	}
}

/* ---- completions ------------------------------------------------------------------------ */

static void rx_error(struct ur_io *u, const struct io_uring_cqe *cqe)
{
	if (cqe->flags & IORING_CQE_F_BUFFER) {
		u->kbufs--;
		buf_give(u, cqe->flags >> IORING_CQE_BUFFER_SHIFT);
	}
	/* -ENOBUFS: the ring ran dry (rx_burst counts that); armed again when buffers return */
	if (cqe->res != -ENOBUFS && cqe->res != -ECANCELED && cqe->res != -EINTR &&
	    cqe->res != -EAGAIN && dp_io_errq_drain(&u->io) == 0)
		u->io.st.rx_errors++; /* not an ICMP error for an earlier send */
}

/* The buffer a receive CQE names, taken from the kernel's count. */
static uint32_t rx_bid(struct ur_io *u, const struct io_uring_cqe *cqe)
{
	uint32_t bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;

	PG_ASSERT((cqe->flags & IORING_CQE_F_BUFFER) && bid < u->io.cfg.rx_buffers && u->kbufs > 0);
	u->kbufs--;
	return bid;
}

static void on_rx_multi(struct ur_io *u, const struct io_uring_cqe *cqe)
{
	struct io_uring_recvmsg_out *out;
	uint32_t bid, seg = 0;

	if (!(cqe->flags & IORING_CQE_F_MORE))
		u->multi_armed = false;
	if (!u->multishot)
		return; /* the probe's, refused (-EINVAL): single-shot requests took over */
	if (cqe->res < 0) {
		rx_error(u, cqe);
		return;
	}
	bid = rx_bid(u, cqe);
	out = io_uring_recvmsg_validate(dp_io_buf(&u->io, bid), cqe->res, &u->rx_mh);
	if (!out || (out->flags & MSG_TRUNC)) {
		if (out)
			u->io.st.rx_trunc++;
		else
			u->io.st.rx_errors++;
		buf_give(u, bid);
		return;
	}
	if (u->io.gro) {
		struct cmsghdr *c = io_uring_recvmsg_cmsg_firsthdr(out, &u->rx_mh);

		for (; c; c = io_uring_recvmsg_cmsg_nexthdr(out, &u->rx_mh, c)) {
			if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
				int s;

				memcpy(&s, CMSG_DATA(c), sizeof(s));
				seg = s > 0 ? (uint32_t)s : 0;
			}
		}
	}
	dp_io_rxq_push(&u->io, bid, io_uring_recvmsg_payload(out, &u->rx_mh),
		       io_uring_recvmsg_payload_length(out, cqe->res, &u->rx_mh), seg,
		       io_uring_recvmsg_name(out), out->namelen);
}

static void on_rx_single(struct ur_io *u, const struct io_uring_cqe *cqe, uint32_t slot)
{
	const struct msghdr *mh = &u->ss_mh[slot];
	uint32_t bid;

	u->ss_free[u->ss_nfree++] = slot;
	if (cqe->res < 0) {
		rx_error(u, cqe);
		return;
	}
	if (cqe->res == 0 && !(cqe->flags & IORING_CQE_F_BUFFER)) {
		/* an empty datagram: the kernel keeps the buffer it did not fill */
		static const uint8_t empty[1];

		dp_io_rxq_push(&u->io, DP_IO_NOBUF, empty, 0, 0, mh->msg_name, mh->msg_namelen);
		return;
	}
	bid = rx_bid(u, cqe);
	if (mh->msg_flags & MSG_TRUNC) {
		u->io.st.rx_trunc++;
		buf_give(u, bid);
		return;
	}
	dp_io_rxq_push(&u->io, bid, dp_io_buf(&u->io, bid), (uint32_t)cqe->res,
		       u->io.gro ? dp_io_gro_seg(mh) : 0, mh->msg_name, mh->msg_namelen);
}

/* Reads every CQE in the ring (no system call). */
static void reap(struct ur_io *u)
{
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;

	io_uring_for_each_cqe(&u->ring, head, cqe)
	{
		uint64_t tag = io_uring_cqe_get_data64(cqe);
		uint32_t idx = (uint32_t)(tag & ((1ull << TAG_SHIFT) - 1));

		n++;
		switch (tag >> TAG_SHIFT) {
		case TAG_RX_MULTI:
			on_rx_multi(u, cqe);
			break;
		case TAG_RX_SINGLE:
			on_rx_single(u, cqe, idx);
			break;
		case TAG_TX:
			PG_ASSERT(u->tx_waiting > 0 && idx < u->io.tx_cap);
			u->io.tx_verdict[idx] = (uint8_t)dp_io_tx_settle(&u->io, idx, cqe->res);
			u->tx_waiting--;
			break;
		case TAG_WAKE:
			u->wake_armed = false;
			u->woken = true;
			break;
		case TAG_CANCEL:
			u->cancel_done = true;
			break;
		default:
			PG_ASSERT(!"unknown CQE tag");
		}
	}
	io_uring_cq_advance(&u->ring, n);
	buf_publish(u);
}

/* ---- open and close --------------------------------------------------------------------- */

/* Cancels every request and waits (bounded) until none can touch our buffers any more. */
static void cancel_all(struct ur_io *u)
{
	struct io_uring_sqe *sqe = sqe_get(u, TAG_CANCEL, 0);

	io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
	u->cancel_done = false;
	for (int i = 0; i < CLOSE_WAITS_MAX; i++) {
		bool rx_armed = u->multishot ? u->multi_armed : u->ss_nfree < u->io.cfg.rx_burst;

		if (u->cancel_done && !rx_armed && !u->wake_armed)
			break;
		(void)ring_enter(u, 1, CLOSE_WAIT_US);
		reap(u);
	}
}

static void ur_close(struct dp_io *io)
{
	struct ur_io *u = ur_of(io);

	if (u->ring_up) {
		cancel_all(u);
		io_uring_queue_exit(&u->ring);
	}
	if (u->br)
		munmap(u->br, u->br_len);
	free(u->ss_mh);
	free(u->ss_name);
	free(u->ss_iov);
	free(u->ss_ctl);
	free(u->ss_free);
	dp_io_base_fini(io);
	free(u);
}

/* The ring, with its CQ sized so that every receive buffer and a whole send batch fit. */
static int ring_setup(struct ur_io *u, const struct dp_io_config *cfg)
{
	unsigned tx_cap = cfg->tx_burst > DP_IO_GSO_SEGS_MAX ? cfg->tx_burst : DP_IO_GSO_SEGS_MAX;
	struct io_uring_params p = {
		.flags = IORING_SETUP_CQSIZE,
		.cq_entries = pow2_at_least(cfg->rx_buffers + cfg->rx_burst + 2 * tx_cap + 8),
	};
	struct io_uring_probe *probe;
	bool ops_ok;
	int err;

	err = io_uring_queue_init_params(pow2_at_least(cfg->rx_burst + tx_cap + 8), &u->ring, &p);
	if (err == -ENOSYS || err == -EPERM)
		return -ENOSYS;
	if (err)
		return err;
	u->ring_up = true;
	if (!(p.features & IORING_FEAT_EXT_ARG))
		return -ENOSYS;
	probe = io_uring_get_probe_ring(&u->ring);
	if (!probe)
		return -ENOSYS;
	ops_ok = io_uring_opcode_supported(probe, IORING_OP_RECVMSG) &&
		 io_uring_opcode_supported(probe, IORING_OP_SENDMSG) &&
		 io_uring_opcode_supported(probe, IORING_OP_READ) &&
		 io_uring_opcode_supported(probe, IORING_OP_ASYNC_CANCEL);
	io_uring_free_probe(probe);
	return ops_ok ? 0 : -ENOSYS;
}

/* The provided-buffer ring: page-aligned, registered, holding every buffer. */
static int buf_ring_setup(struct ur_io *u)
{
	struct io_uring_buf_reg reg = { 0 };
	int err;

	u->br_entries = pow2_at_least(u->io.cfg.rx_buffers);
	u->br_len = u->br_entries * sizeof(struct io_uring_buf);
	u->br = mmap(NULL, u->br_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (u->br == MAP_FAILED) {
		u->br = NULL;
		return -ENOMEM;
	}
	io_uring_buf_ring_init(u->br);
	reg.ring_addr = (uint64_t)(uintptr_t)u->br;
	reg.ring_entries = u->br_entries;
	reg.bgid = BGID;
	err = io_uring_register_buf_ring(&u->ring, &reg, 0);
	if (err)
		return err == -ENOMEM ? err : -ENOSYS; /* before 5.19: no buffer rings */
	u->br_registered = true;
	for (uint32_t b = 0; b < u->io.cfg.rx_buffers; b++)
		buf_give(u, b);
	buf_publish(u);
	return 0;
}

static int slots_setup(struct ur_io *u)
{
	unsigned n = u->io.cfg.rx_burst;

	u->ss_mh = calloc(n, sizeof(*u->ss_mh));
	u->ss_name = calloc(n, sizeof(*u->ss_name));
	u->ss_iov = calloc(n, sizeof(*u->ss_iov));
	u->ss_ctl = calloc(n, sizeof(*u->ss_ctl));
	u->ss_free = calloc(n, sizeof(*u->ss_free));
	if (!u->ss_mh || !u->ss_name || !u->ss_iov || !u->ss_ctl || !u->ss_free)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		/* buffer select: the kernel picks the buffer, iov_len caps the payload */
		u->ss_iov[i] = (struct iovec){ .iov_len = u->io.cfg.rx_buf_size };
		u->ss_mh[i] = (struct msghdr){ .msg_name = &u->ss_name[i],
					       .msg_iov = &u->ss_iov[i],
					       .msg_iovlen = 1,
					       .msg_control = u->ss_ctl[i] };
		u->ss_free[u->ss_nfree++] = n - 1 - i;
	}
	return 0;
}

/* Arms the multishot recvmsg and sees whether the kernel takes it (6.0+): one that does not
 * completes at once with -EINVAL. */
static bool multishot_probe(struct ur_io *u)
{
	struct io_uring_cqe *cqe;
	unsigned head;
	bool ok = true;

	u->multishot = true;
	arm(u);
	(void)ring_enter(u, 0, UINT64_MAX);
	io_uring_for_each_cqe(&u->ring, head, cqe)
	{
		if (io_uring_cqe_get_data64(cqe) == (uint64_t)TAG_RX_MULTI << TAG_SHIFT &&
		    cqe->res == -EINVAL)
			ok = false; /* reap() sees it again and drops it */
	}
	return ok;
}

static int ur_open(const struct dp_io_config *cfg, struct dp_io **out)
{
	struct ur_io *u;
	int err = dp_io_config_check(cfg);

	if (err)
		return err;
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->io.ops = &dp_io_uring_ops;
	u->io.fd = u->io.efd = -1;
	err = ring_setup(u, cfg);
	if (!err)
		err = dp_io_base_init(&u->io, cfg, RX_HEAD);
	if (err)
		goto err_close;
	/* Blocking file descriptors: a request on a nonblocking one fails with -EAGAIN instead
	 * of waiting in the ring (the sends say MSG_DONTWAIT themselves). */
	if (fcntl(u->io.fd, F_SETFL, 0) != 0 || fcntl(u->io.efd, F_SETFL, 0) != 0) {
		err = -errno;
		goto err_close;
	}
	u->rx_mh.msg_namelen = RX_NAME;
	u->rx_mh.msg_controllen = RX_CTL;
	err = buf_ring_setup(u);
	if (!err)
		err = slots_setup(u);
	if (err)
		goto err_close;
	if (!cfg->multishot || !multishot_probe(u)) {
		u->multishot = false;
		arm(u);
		(void)ring_enter(u, 0, UINT64_MAX);
	}
	reap(u);
	u->io.st.syscalls = 0; /* the counters count the data path, from here */
	*out = &u->io;
	return 0;

err_close:
	ur_close(&u->io);
	return err;
}

/* ---- the data path ---------------------------------------------------------------------- */

static unsigned ur_rx_burst(struct dp_io *io, struct dp_pkt *pkts, unsigned max)
{
	struct ur_io *u = ur_of(io);
	unsigned n = dp_io_rxq_emit(io, pkts, max);

	if (n < max) {
		reap(u);
		n += dp_io_rxq_emit(io, pkts + n, max - n);
		if (u->kbufs == 0)
			io->st.rx_nobufs++;
	}
	arm(u);
	if (io_uring_sq_ready(&u->ring))
		(void)ring_enter(u, 0, UINT64_MAX); /* a re-arm: submits, never waits */
	return n;
}

static void ur_rx_done(struct dp_io *io, const struct dp_pkt *pkts, unsigned n)
{
	struct ur_io *u = ur_of(io);

	for (unsigned i = 0; i < n; i++)
		if (dp_io_rx_unref(io, pkts[i].buf))
			buf_give(u, pkts[i].buf);
	buf_publish(u);
}

/* Submits messages [0, msgs) as sendmsg SQEs and waits until each completed and is settled. */
static void send_batch(struct dp_io *io, unsigned msgs)
{
	struct ur_io *u = ur_of(io);

	for (unsigned j = 0; j < msgs; j++) {
		struct io_uring_sqe *sqe = sqe_get(u, TAG_TX, j);

		io_uring_prep_sendmsg(sqe, u->io.fd, &u->io.tx_msgs[j].msg_hdr, MSG_DONTWAIT);
	}
	u->tx_waiting = msgs;
	arm(u); /* re-arms ride along */
	for (int i = 0; u->tx_waiting > 0; i++) {
		PG_ASSERT(i < TX_ENTERS_MAX);
		/* other completions count toward wait_nr too: loop until ours are in */
		(void)ring_enter(u, i == 0 ? msgs : 1, UINT64_MAX);
		reap(u);
	}
}

static unsigned ur_tx_burst(struct dp_io *io, const struct dp_tx *tx, unsigned n)
{
	return dp_io_tx_run(io, tx, n, send_batch);
}

static int ready_bits(struct ur_io *u)
{
	int r = dp_io_rxq_empty(&u->io) ? 0 : DP_IO_READY_RX;

	if (u->woken) {
		u->woken = false;
		r |= DP_IO_READY_WOKEN;
	}
	return r;
}

static int ur_wait(struct dp_io *io, uint64_t timeout_us)
{
	struct ur_io *u = ur_of(io);
	int r;

	reap(u);
	r = ready_bits(u);
	if (r || timeout_us == 0)
		return r;
	arm(u);
	r = ring_enter(u, 1, timeout_us);
	if (r < 0 && r != -ETIME && r != -EINTR)
		return r;
	reap(u);
	return ready_bits(u);
}

static void ur_stats(struct dp_io *io, struct dp_io_stats *out)
{
	dp_io_stats_copy(io, out);
	out->multishot = ur_of(io)->multishot;
}

const struct dp_io_ops dp_io_uring_ops = {
	.name = "uring",
	.open = ur_open,
	.close = ur_close,
	.local_addr = dp_io_local_addr,
	.rx_burst = ur_rx_burst,
	.rx_done = ur_rx_done,
	.tx_burst = ur_tx_burst,
	.wait = ur_wait,
	.wake = dp_io_wake_signal,
	.stats = ur_stats,
};
