/*
 * io_sockets.c - the reference io backend: a nonblocking UDP socket, recvmmsg / sendmmsg, and
 * epoll to sleep on the socket and the wake eventfd.
 *
 * It is the portable path the io_uring backend is checked against and the one a host without
 * io_uring (a container that forbids it, an old kernel) runs. Free receive buffers sit on a
 * stack; one recvmmsg fills up to rx_burst of them from its top, and each filled buffer (one
 * datagram, or a GRO run of them) joins the shared receive queue that rx_burst() splits. GSO
 * and GRO are used where the probe at open found them, like the io_uring backend.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "io_impl.h"
#include "pg_assert.h"

enum {
	TOKEN_SOCKET = 1,
	TOKEN_EVENTFD = 2,
};

struct sk_io {
	struct dp_io io; /* first: a struct dp_io * is a struct sk_io * */
	int epfd;
	uint32_t *free_bufs; /* stack of free receive buffers */
	uint32_t nfree;
	/* one receive call's messages, rx_burst of each */
	struct mmsghdr *rx_msgs;
	struct iovec *rx_iov;
	struct sockaddr_in6 *rx_name;
	uint8_t (*rx_ctl)[DP_IO_RX_CTL];
	uint32_t *rx_buf;
};

static struct sk_io *sk_of(struct dp_io *io)
{
	return (struct sk_io *)io;
}

static void sk_close(struct dp_io *io)
{
	struct sk_io *s = sk_of(io);

	if (!s)
		return;
	if (s->epfd >= 0)
		close(s->epfd);
	free(s->free_bufs);
	free(s->rx_msgs);
	free(s->rx_iov);
	free(s->rx_name);
	free(s->rx_ctl);
	free(s->rx_buf);
	dp_io_base_fini(io);
	free(s);
}

static int epoll_add(int epfd, int fd, uint32_t token)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = token };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == 0 ? 0 : -errno;
}

static int sk_open(const struct dp_io_config *cfg, struct dp_io **out)
{
	struct sk_io *s = calloc(1, sizeof(*s));
	unsigned burst = cfg->rx_burst;
	int err;

	if (!s)
		return -ENOMEM;
	s->io.ops = &dp_io_sockets_ops;
	s->epfd = -1;
	err = dp_io_base_init(&s->io, cfg, 0);
	if (err)
		goto err_close;
	s->free_bufs = calloc(cfg->rx_buffers, sizeof(*s->free_bufs));
	s->rx_msgs = calloc(burst, sizeof(*s->rx_msgs));
	s->rx_iov = calloc(burst, sizeof(*s->rx_iov));
	s->rx_name = calloc(burst, sizeof(*s->rx_name));
	s->rx_ctl = calloc(burst, sizeof(*s->rx_ctl));
	s->rx_buf = calloc(burst, sizeof(*s->rx_buf));
	err = -ENOMEM;
	if (!s->free_bufs || !s->rx_msgs || !s->rx_iov || !s->rx_name || !s->rx_ctl || !s->rx_buf)
		goto err_close;
	for (uint32_t b = cfg->rx_buffers; b-- > 0;)
		s->free_bufs[s->nfree++] = b;
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0) {
		err = -errno;
		goto err_close;
	}
	err = epoll_add(s->epfd, s->io.fd, TOKEN_SOCKET);
	if (!err)
		err = epoll_add(s->epfd, s->io.efd, TOKEN_EVENTFD);
	if (err)
		goto err_close;
	*out = &s->io;
	return 0;

err_close:
	sk_close(&s->io);
	return err;
}

/* One recvmmsg into up to rx_burst free buffers; what arrives joins the receive queue. */
static void receive(struct sk_io *s)
{
	struct dp_io *io = &s->io;
	unsigned k = io->cfg.rx_burst < s->nfree ? io->cfg.rx_burst : s->nfree;
	int r;

	if (k == 0) {
		io->st.rx_nobufs++;
		return;
	}
	for (unsigned i = 0; i < k; i++) {
		uint32_t b = s->free_bufs[s->nfree - 1 - i];

		s->rx_buf[i] = b;
		s->rx_iov[i] =
		    (struct iovec){ .iov_base = dp_io_buf(io, b), .iov_len = io->cfg.rx_buf_size };
		s->rx_msgs[i].msg_hdr = (struct msghdr){
			.msg_name = &s->rx_name[i],
			.msg_namelen = sizeof(s->rx_name[i]),
			.msg_iov = &s->rx_iov[i],
			.msg_iovlen = 1,
			.msg_control = io->gro ? s->rx_ctl[i] : NULL,
			.msg_controllen = io->gro ? sizeof(s->rx_ctl[i]) : 0,
		};
	}
	io->st.syscalls++;
	r = recvmmsg(io->fd, s->rx_msgs, k, MSG_DONTWAIT, NULL);
	if (r < 0) {
		/* an ICMP error for an earlier send fails the receive once: read and count it */
		if (errno != EAGAIN && errno != EINTR && dp_io_errq_drain(io) == 0)
			io->st.rx_errors++;
		return;
	}
	s->nfree -= (uint32_t)r;
	for (int i = 0; i < r; i++) {
		const struct msghdr *mh = &s->rx_msgs[i].msg_hdr;
		uint32_t b = s->rx_buf[i];

		if (mh->msg_flags & MSG_TRUNC) {
			io->st.rx_trunc++;
			s->free_bufs[s->nfree++] = b;
			continue;
		}
		dp_io_rxq_push(io, b, dp_io_buf(io, b), s->rx_msgs[i].msg_len,
			       io->gro ? dp_io_gro_seg(mh) : 0, mh->msg_name, mh->msg_namelen);
	}
}

static unsigned sk_rx_burst(struct dp_io *io, struct dp_pkt *pkts, unsigned max)
{
	unsigned n = dp_io_rxq_emit(io, pkts, max);

	if (n < max) {
		receive(sk_of(io));
		n += dp_io_rxq_emit(io, pkts + n, max - n);
	}
	return n;
}

static void sk_rx_done(struct dp_io *io, const struct dp_pkt *pkts, unsigned n)
{
	struct sk_io *s = sk_of(io);

	for (unsigned i = 0; i < n; i++)
		if (dp_io_rx_unref(io, pkts[i].buf))
			s->free_bufs[s->nfree++] = pkts[i].buf;
}

/* Hands messages [0, msgs) to the kernel, sendmmsg after sendmmsg, and settles each. */
static void send_batch(struct dp_io *io, unsigned msgs)
{
	unsigned j = 0;

	while (j < msgs) {
		int r;

		io->st.syscalls++;
		r = sendmmsg(io->fd, io->tx_msgs + j, msgs - j, 0);
		if (r < 0) {
			/* message j failed; the ones before it (if any) went in an earlier call */
			io->tx_verdict[j] = (uint8_t)dp_io_tx_settle(io, j, -errno);
			j++;
			continue;
		}
		for (int k = 0; k < r; k++, j++)
			io->tx_verdict[j] =
			    (uint8_t)dp_io_tx_settle(io, j, (int)io->tx_msgs[j].msg_len);
	}
}

static unsigned sk_tx_burst(struct dp_io *io, const struct dp_tx *tx, unsigned n)
{
	return dp_io_tx_run(io, tx, n, send_batch);
}

static int sk_wait(struct dp_io *io, uint64_t timeout_us)
{
	struct sk_io *s = sk_of(io);
	struct epoll_event ev[2];
	struct timespec ts = { .tv_sec = (time_t)(timeout_us / 1000000),
			       .tv_nsec = (long)(timeout_us % 1000000) * 1000 };
	int n, ready = 0;

	if (!dp_io_rxq_empty(io))
		return DP_IO_READY_RX;
	io->st.syscalls++;
	n = epoll_pwait2(s->epfd, ev, 2, timeout_us == UINT64_MAX ? NULL : &ts, NULL);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		if (ev[i].data.u32 == TOKEN_EVENTFD) {
			uint64_t v;

			io->st.syscalls++;
			(void)!read(io->efd, &v, sizeof(v));
			ready |= DP_IO_READY_WOKEN;
			continue;
		}
		if (ev[i].events & EPOLLIN)
			ready |= DP_IO_READY_RX;
		else if (ev[i].events & EPOLLERR)
			dp_io_errq_drain(io); /* only ICMP errors are waiting: count them */
	}
	return ready;
}

static void sk_stats(struct dp_io *io, struct dp_io_stats *out)
{
	dp_io_stats_copy(io, out);
}

const struct dp_io_ops dp_io_sockets_ops = {
	.name = "sockets",
	.open = sk_open,
	.close = sk_close,
	.local_addr = dp_io_local_addr,
	.rx_burst = sk_rx_burst,
	.rx_done = sk_rx_done,
	.tx_burst = sk_tx_burst,
	.wait = sk_wait,
	.wake = dp_io_wake_signal,
	.stats = sk_stats,
};
