/*
 * io.c - the io backends' table and what they share: the socket with its probes, the
 * receive queue that splits GRO buffers into datagrams, and the send batch.
 *
 * The send batch turns dp_tx entries into kernel messages (one per entry with GSO, one per
 * datagram without) in arrays made at open, and settles each message after the kernel
 * answered: sent; no room (EAGAIN, ENOBUFS) -> wait for room and try again; an error that an
 * ICMP message left on the socket (IP_RECVERR: the kernel fails the next send with it, and that
 * send did not go out) -> read the error queue, count, try again; a GSO message the route
 * cannot segment (EIO) or whose segments exceed the MTU (EMSGSIZE, EINVAL) -> send its
 * datagrams one by one; anything else, or too many tries ->
 * the datagrams are lost and counted by errno class.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/errqueue.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "io_impl.h"
#include "pg_assert.h"
#include "pg_atomic.h"

_Static_assert(CMSG_SPACE(sizeof(uint16_t)) <= DP_IO_TX_CTL, "UDP_SEGMENT cmsg room");
_Static_assert(CMSG_SPACE(sizeof(int)) <= DP_IO_RX_CTL, "UDP_GRO cmsg room");

static const struct dp_io_ops *const backends[] = { &dp_io_uring_ops, &dp_io_sockets_ops };

const struct dp_io_ops *dp_io_backend(const char *name)
{
	for (size_t i = 0; i < PG_ARRAY_SIZE(backends); i++)
		if (strcmp(backends[i]->name, name) == 0)
			return backends[i];
	return NULL;
}

int dp_io_open(const struct dp_io_config *cfg, const struct dp_io_ops **ops, struct dp_io **out)
{
	const struct dp_io_ops *o = dp_io_backend(cfg->backend ? cfg->backend : "uring");
	int err;

	if (!o)
		return -EINVAL;
	err = o->open(cfg, out);
	if (err == -ENOSYS && o == &dp_io_uring_ops) {
		o = &dp_io_sockets_ops;
		err = o->open(cfg, out);
	}
	if (err == 0)
		*ops = o;
	return err;
}

void dp_io_config_default(struct dp_io_config *cfg)
{
	*cfg = (struct dp_io_config){
		.rx_burst = 64,
		.rx_buffers = 256,
		.rx_buf_size = 65536,
		.tx_burst = 64,
		.rcvbuf = 4 << 20,
		.sndbuf = 4 << 20,
		.gso = true,
		.gro = true,
		.multishot = true,
	};
	cfg->bind.in.sin_family = AF_INET;
	cfg->bind.len = sizeof(cfg->bind.in);
}

enum dp_io_err_class dp_io_err_class_of(int err)
{
	switch (err) {
	case ECONNREFUSED:
		return DP_IO_ERR_REFUSED;
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EHOSTDOWN:
	case ENETDOWN:
	case EADDRNOTAVAIL:
		return DP_IO_ERR_UNREACH;
	case EMSGSIZE:
		return DP_IO_ERR_MSGSIZE;
	case EAGAIN:
	case ENOBUFS:
	case ENOMEM:
		return DP_IO_ERR_NOBUFS;
	default:
		return DP_IO_ERR_OTHER;
	}
}

const char *dp_io_err_class_name(enum dp_io_err_class c)
{
	static const char *const names[DP_IO_ERR_CLASSES] = { "refused", "unreach", "msgsize",
							      "nobufs", "other" };

	return (unsigned)c < DP_IO_ERR_CLASSES ? names[c] : "?";
}

int dp_addr_parse(struct dp_addr *out, const char *ip, uint16_t port)
{
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, ip, &out->in.sin_addr) == 1) {
		out->in.sin_family = AF_INET;
		out->in.sin_port = htons(port);
		out->len = sizeof(out->in);
		return 0;
	}
	if (inet_pton(AF_INET6, ip, &out->in6.sin6_addr) == 1) {
		out->in6.sin6_family = AF_INET6;
		out->in6.sin6_port = htons(port);
		out->len = sizeof(out->in6);
		return 0;
	}
	return -EINVAL;
}

bool dp_addr_equal(const struct dp_addr *a, const struct dp_addr *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return false;
	if (a->sa.sa_family == AF_INET)
		return a->in.sin_port == b->in.sin_port &&
		       a->in.sin_addr.s_addr == b->in.sin_addr.s_addr;
	if (a->sa.sa_family == AF_INET6)
		return a->in6.sin6_port == b->in6.sin6_port &&
		       memcmp(&a->in6.sin6_addr, &b->in6.sin6_addr, sizeof(a->in6.sin6_addr)) == 0;
	return false;
}

/* ---- open and close --------------------------------------------------------------------- */

int dp_io_config_check(const struct dp_io_config *c)
{
	int fam = c->bind.sa.sa_family;

	if (fam != AF_INET && fam != AF_INET6)
		return -EINVAL;
	if (c->bind.len != (fam == AF_INET ? sizeof(c->bind.in) : sizeof(c->bind.in6)))
		return -EINVAL;
	if (c->rx_burst < 1 || c->rx_burst > DP_IO_BURST_MAX || c->tx_burst < 1 ||
	    c->tx_burst > DP_IO_BURST_MAX)
		return -EINVAL;
	if (c->rx_buffers < c->rx_burst || c->rx_buffers > DP_IO_RX_BUFFERS_MAX)
		return -EINVAL;
	if (c->rx_buf_size < 64 || c->rx_buf_size > DP_IO_RX_BUF_MAX)
		return -EINVAL;
	if (c->rcvbuf < 0 || c->sndbuf < 0)
		return -EINVAL;
	return 0;
}

/* Sets a socket buffer size, beyond the sysctl maximum when privileged (the FORCE option). */
static void set_bufsize(int fd, int force_opt, int opt, int bytes)
{
	if (bytes == 0)
		return;
	if (setsockopt(fd, SOL_SOCKET, force_opt, &bytes, sizeof(bytes)) != 0)
		(void)setsockopt(fd, SOL_SOCKET, opt, &bytes, sizeof(bytes));
}

static int socket_open(struct dp_io *io)
{
	const struct dp_io_config *c = &io->cfg;
	int fam = c->bind.sa.sa_family, one = 1, zero = 0;
	int fd, err;

	fd = socket(fam, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
	if (fd < 0)
		return -errno;
	if (c->reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0)
		goto err_close_socket;
	set_bufsize(fd, SO_RCVBUFFORCE, SO_RCVBUF, c->rcvbuf);
	set_bufsize(fd, SO_SNDBUFFORCE, SO_SNDBUF, c->sndbuf);
	/* ICMP errors for our sends go to the error queue, where they are counted (and a closed
	 * port is seen); without it an unconnected UDP socket never hears of them. */
	if (fam == AF_INET ? setsockopt(fd, SOL_IP, IP_RECVERR, &one, sizeof(one))
			   : setsockopt(fd, SOL_IPV6, IPV6_RECVERR, &one, sizeof(one)))
		goto err_close_socket;
	if (bind(fd, &c->bind.sa, c->bind.len) != 0)
		goto err_close_socket;
	/* The probes: UDP_SEGMENT 0 keeps GSO off by default (each message asks with a cmsg);
	 * GRO only where a buffer holds a whole coalesced run. */
	io->gso = c->gso && setsockopt(fd, SOL_UDP, UDP_SEGMENT, &zero, sizeof(zero)) == 0;
	io->gro = c->gro && c->rx_buf_size >= DP_IO_GRO_BUF_MIN &&
		  setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof(one)) == 0;
	io->fd = fd;
	return 0;

err_close_socket:
	err = -errno;
	close(fd);
	return err;
}

static int batch_alloc(struct dp_io *io)
{
	unsigned cap =
	    io->cfg.tx_burst > DP_IO_GSO_SEGS_MAX ? io->cfg.tx_burst : DP_IO_GSO_SEGS_MAX;

	io->tx_cap = cap;
	io->tx_msgs = calloc(cap, sizeof(*io->tx_msgs));
	io->tx_iov = calloc(cap, sizeof(*io->tx_iov));
	io->tx_ctl = calloc(cap, sizeof(*io->tx_ctl));
	io->tx_meta = calloc(cap, sizeof(*io->tx_meta));
	io->tx_verdict = calloc(cap, sizeof(*io->tx_verdict));
	io->refs = calloc(io->cfg.rx_buffers, sizeof(*io->refs));
	io->rxq = calloc(io->cfg.rx_buffers, sizeof(*io->rxq));
	if (!io->tx_msgs || !io->tx_iov || !io->tx_ctl || !io->tx_meta || !io->tx_verdict ||
	    !io->refs || !io->rxq)
		return -ENOMEM;
	return 0;
}

int dp_io_base_init(struct dp_io *io, const struct dp_io_config *cfg, uint32_t buf_head)
{
	int err = dp_io_config_check(cfg);

	io->fd = io->efd = -1;
	if (err)
		return err;
	io->cfg = *cfg;
	io->cfg.backend = io->ops->name;
	io->buf_head = buf_head;
	io->buf_stride =
	    (buf_head + cfg->rx_buf_size + PG_CACHE_LINE - 1) & ~(uint32_t)(PG_CACHE_LINE - 1);
	io->buf_mem_len = (size_t)io->buf_stride * cfg->rx_buffers;
	io->buf_mem = mmap(NULL, io->buf_mem_len, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (io->buf_mem == MAP_FAILED) {
		io->buf_mem = NULL;
		return -ENOMEM;
	}
	err = batch_alloc(io);
	if (err)
		return err;
	io->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (io->efd < 0)
		return -errno;
	return socket_open(io);
}

void dp_io_base_fini(struct dp_io *io)
{
	if (io->fd >= 0)
		close(io->fd);
	if (io->efd >= 0)
		close(io->efd);
	if (io->buf_mem)
		munmap(io->buf_mem, io->buf_mem_len);
	free(io->tx_msgs);
	free(io->tx_iov);
	free(io->tx_ctl);
	free(io->tx_meta);
	free(io->tx_verdict);
	free(io->refs);
	free(io->rxq);
}

int dp_io_local_addr(struct dp_io *io, struct dp_addr *out)
{
	memset(out, 0, sizeof(*out));
	out->len = sizeof(out->in6);
	if (getsockname(io->fd, &out->sa, &out->len) != 0)
		return -errno;
	return 0;
}

/* ---- receiving -------------------------------------------------------------------------- */

void dp_io_rxq_push(struct dp_io *io, uint32_t buf, const uint8_t *data, uint32_t len, uint32_t seg,
		    const void *src, socklen_t src_len)
{
	uint32_t n = io->rxq_tail - io->rxq_head;
	struct dp_io_rxent *e;

	PG_ASSERT(n < io->cfg.rx_buffers);
	PG_ASSERT(buf == DP_IO_NOBUF || (buf < io->cfg.rx_buffers && io->refs[buf] == 0));
	e = &io->rxq[io->rxq_tail % io->cfg.rx_buffers];
	io->rxq_tail++;
	if (seg >= len)
		seg = 0;
	e->data = data;
	e->len = len;
	e->off = 0;
	e->buf = buf;
	e->seg = seg;
	if (src_len > sizeof(e->src.in6))
		src_len = sizeof(e->src.in6);
	memcpy(&e->src.sa, src, src_len);
	e->src.len = src_len;
	if (buf != DP_IO_NOBUF) {
		io->refs[buf] = seg ? (len + seg - 1) / seg : 1;
		io->st.rx_bufs++;
	}
}

unsigned dp_io_rxq_emit(struct dp_io *io, struct dp_pkt *pkts, unsigned max)
{
	unsigned n = 0;

	while (n < max && io->rxq_head != io->rxq_tail) {
		struct dp_io_rxent *e = &io->rxq[io->rxq_head % io->cfg.rx_buffers];
		uint32_t l = e->seg && e->len - e->off > e->seg ? e->seg : e->len - e->off;
		struct dp_pkt *p = &pkts[n++];

		p->data = e->data + e->off;
		p->len = l;
		p->buf = e->buf;
		p->src = e->src;
		io->st.rx_dgrams++;
		io->st.rx_bytes += l;
		e->off += l;
		if (e->off >= e->len)
			io->rxq_head++;
	}
	return n;
}

bool dp_io_rx_unref(struct dp_io *io, uint32_t buf)
{
	if (buf == DP_IO_NOBUF)
		return false;
	PG_ASSERT(buf < io->cfg.rx_buffers && io->refs[buf] > 0);
	return --io->refs[buf] == 0;
}

uint32_t dp_io_gro_seg(const struct msghdr *mh)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR((struct msghdr *)mh, c)) {
		if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
			int seg;

			memcpy(&seg, CMSG_DATA(c), sizeof(seg));
			return seg > 0 ? (uint32_t)seg : 0;
		}
	}
	return 0;
}

unsigned dp_io_errq_drain(struct dp_io *io)
{
	unsigned n = 0;

	for (int i = 0; i < DP_IO_ERRQ_MAX; i++) {
		union {
			uint8_t b[256];
			struct cmsghdr align;
		} ctl;
		struct sockaddr_in6 name;
		struct msghdr mh = { .msg_name = &name,
				     .msg_namelen = sizeof(name),
				     .msg_control = ctl.b,
				     .msg_controllen = sizeof(ctl.b) };

		io->st.syscalls++;
		if (recvmsg(io->fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			break;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			struct sock_extended_err ee;

			if (!((c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR) ||
			      (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR)))
				continue;
			memcpy(&ee, CMSG_DATA(c), sizeof(ee));
			io->st.icmp_err[dp_io_err_class_of((int)ee.ee_errno)]++;
			n++;
		}
	}
	return n;
}

/* ---- sending ---------------------------------------------------------------------------- */

static void msg_fill(struct dp_io *io, unsigned j, const struct dp_tx *t, const uint8_t *data,
		     uint32_t len, uint16_t gso_seg, uint16_t segs)
{
	struct msghdr *mh = &io->tx_msgs[j].msg_hdr;

	io->tx_iov[j] = (struct iovec){ .iov_base = (void *)data, .iov_len = len };
	*mh = (struct msghdr){ .msg_name = (void *)&t->dst.sa,
			       .msg_namelen = t->dst.len,
			       .msg_iov = &io->tx_iov[j],
			       .msg_iovlen = 1 };
	io->tx_meta[j] = (struct dp_io_txmeta){ .bytes = len, .segs = segs, .gso = gso_seg != 0 };
	if (gso_seg) {
		struct cmsghdr *c;

		mh->msg_control = io->tx_ctl[j];
		mh->msg_controllen = CMSG_SPACE(sizeof(uint16_t));
		c = CMSG_FIRSTHDR(mh);
		c->cmsg_level = SOL_UDP;
		c->cmsg_type = UDP_SEGMENT;
		c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
		memcpy(CMSG_DATA(c), &gso_seg, sizeof(gso_seg));
	}
}

unsigned dp_io_tx_build(struct dp_io *io, const struct dp_tx *tx, unsigned n, unsigned *msgs)
{
	unsigned m = 0, i;

	for (i = 0; i < n; i++) {
		const struct dp_tx *t = &tx[i];
		uint32_t seg = t->seg && t->seg < t->len ? t->seg : 0;
		uint32_t segs = seg ? (t->len + seg - 1) / seg : 1;

		PG_ASSERT(t->len <= DP_IO_DGRAM_MAX && segs <= DP_IO_GSO_SEGS_MAX);
		if (m + (seg && io->gso ? 1 : segs) > io->tx_cap)
			break;
		if (seg && io->gso) {
			msg_fill(io, m++, t, t->data, t->len, (uint16_t)seg, (uint16_t)segs);
			continue;
		}
		for (uint32_t off = 0, k = 0; k < segs; k++, off += seg) {
			uint32_t l = seg && t->len - off > seg ? seg : t->len - off;

			msg_fill(io, m++, t, t->data + off, l, 0, 1);
		}
	}
	*msgs = m;
	return i;
}

/* A GSO message the kernel refused (the route cannot segment it, EIO, or its segments exceed
 * the path's MTU, EMSGSIZE or EINVAL): its datagrams one message each, in one sendmmsg per failure
 * at most. */
static void send_unsegmented(struct dp_io *io, unsigned j)
{
	const struct msghdr *g = &io->tx_msgs[j].msg_hdr;
	const uint8_t *data = g->msg_iov[0].iov_base;
	struct mmsghdr mm[DP_IO_GSO_SEGS_MAX];
	struct iovec iov[DP_IO_GSO_SEGS_MAX];
	unsigned segs = io->tx_meta[j].segs, i = 0;
	uint16_t seg;

	memcpy(&seg, CMSG_DATA(CMSG_FIRSTHDR(g)), sizeof(seg));
	for (unsigned k = 0; k < segs; k++) {
		size_t off = (size_t)k * seg, left = io->tx_meta[j].bytes - off;

		iov[k] = (struct iovec){ .iov_base = (void *)(data + off),
					 .iov_len = left > seg ? seg : left };
		mm[k] = (struct mmsghdr){ .msg_hdr = { .msg_name = g->msg_name,
						       .msg_namelen = g->msg_namelen,
						       .msg_iov = &iov[k],
						       .msg_iovlen = 1 } };
	}
	while (i < segs) {
		int r = sendmmsg(io->fd, mm + i, segs - i, MSG_DONTWAIT);

		io->st.syscalls++;
		if (r < 0) {
			io->st.tx_err[dp_io_err_class_of(errno)]++;
			i++;
			continue;
		}
		for (int k = 0; k < r; k++) {
			io->st.tx_msgs++;
			io->st.tx_dgrams++;
			io->st.tx_bytes += mm[i + k].msg_len;
		}
		i += (unsigned)r;
	}
}

enum dp_io_tx_verdict dp_io_tx_settle(struct dp_io *io, unsigned j, int res)
{
	struct dp_io_txmeta *m = &io->tx_meta[j];
	enum dp_io_err_class cls;
	int err = -res;

	if (res >= 0) {
		io->st.tx_msgs++;
		io->st.tx_dgrams += m->segs;
		io->st.tx_bytes += m->bytes;
		return DP_IO_TX_DONE;
	}
	/* EIO: the route cannot segment; EMSGSIZE (EINVAL before Linux 5.x): segments larger
	 * than the path's MTU, which UDP GSO does not fragment. Alone, IP fragments them. */
	if ((err == EIO || err == EMSGSIZE || err == EINVAL) && m->gso) {
		io->st.tx_gso_fallbacks++;
		send_unsegmented(io, j);
		return DP_IO_TX_DONE;
	}
	cls = dp_io_err_class_of(err);
	/* Not queued: no room, or the socket held an earlier send's ICMP error (read it now) */
	if ((cls == DP_IO_ERR_NOBUFS || err == EINTR || dp_io_errq_drain(io) > 0) &&
	    ++m->tries < DP_IO_TX_RETRIES) {
		io->st.tx_retries++;
		return cls == DP_IO_ERR_NOBUFS ? DP_IO_TX_RETRY_ROOM : DP_IO_TX_RETRY;
	}
	io->st.tx_err[cls] += m->segs;
	return DP_IO_TX_DONE;
}

/* Waits up to DP_IO_TX_BLOCK_MAX_US for room to send. */
static void wait_room(struct dp_io *io)
{
	struct pollfd p = { .fd = io->fd, .events = POLLOUT };
	struct timespec ts = { .tv_nsec = DP_IO_TX_BLOCK_MAX_US * 1000L };

	io->st.syscalls++;
	(void)ppoll(&p, 1, &ts, NULL);
}

unsigned dp_io_tx_retry_compact(struct dp_io *io, unsigned msgs)
{
	bool room = false;
	unsigned r = 0;

	for (unsigned j = 0; j < msgs; j++) {
		if (io->tx_verdict[j] == DP_IO_TX_DONE)
			continue;
		room |= io->tx_verdict[j] == DP_IO_TX_RETRY_ROOM;
		if (r != j) {
			/* msg_iov and msg_control still point at slot j's storage: untouched */
			io->tx_msgs[r] = io->tx_msgs[j];
			io->tx_meta[r] = io->tx_meta[j];
		}
		r++;
	}
	if (room)
		wait_room(io);
	return r;
}

unsigned dp_io_tx_run(struct dp_io *io, const struct dp_tx *tx, unsigned n,
		      void (*send_batch)(struct dp_io *io, unsigned msgs))
{
	unsigned done = 0;

	while (done < n) {
		unsigned msgs, used = dp_io_tx_build(io, tx + done, n - done, &msgs);

		PG_ASSERT(used > 0);
		/* each retry raises a message's tries: DP_IO_TX_RETRIES rounds settle them all */
		for (int round = 0; msgs > 0 && round <= DP_IO_TX_RETRIES; round++) {
			send_batch(io, msgs);
			msgs = dp_io_tx_retry_compact(io, msgs);
		}
		PG_ASSERT(msgs == 0);
		done += used;
	}
	return n;
}

/* ---- waking and counting ---------------------------------------------------------------- */

void dp_io_wake_signal(struct dp_io *io)
{
	uint64_t one = 1;

	pg_fetch_add_relaxed(&io->wakes, 1); /* a count only: orders nothing */
	/* the eventfd counter cannot overflow here (2^64 - 2 wakes); EAGAIN would mean it had */
	(void)!write(io->efd, &one, sizeof(one));
}

void dp_io_stats_copy(struct dp_io *io, struct dp_io_stats *out)
{
	uint64_t wakes = pg_load_relaxed(&io->wakes);

	*out = io->st;
	out->wakes = wakes;
	out->syscalls += wakes; /* one eventfd write each */
	out->gso = io->gso;
	out->gro = io->gro;
}

int dp_io_reuseport_cbpf(struct dp_io *io, const struct sock_fprog *prog)
{
	return setsockopt(io->fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, prog, sizeof(*prog))
		   ? -errno
		   : 0;
}
