/*
 * flood_base.c - bench-flood's baselines: the kernel's UDP ceiling on loopback (plain and with
 * GSO/GRO) and ZeroMQ PUSH -> PULL over TCP on loopback (flood_base.h).
 *
 * A measurement is a pair of threads over a struct pair: the sender runs until its deadline
 * and raises sender_done; the receiver counts until the sender is done and its socket has
 * been idle for IDLE_MS (the tail drained), or until the hard deadline. Receive calls time
 * out every IDLE_MS (SO_RCVTIMEO, ZMQ_RCVTIMEO), send calls every 100 ms (ZMQ_SNDTIMEO; UDP
 * on loopback never blocks the sender: a full receive queue drops), so each loop looks at
 * the clock at least that often.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#if PG_HAVE_ZMQ
#include <zmq.h>
#endif

#include "flood_base.h"
#include "pg_time.h"

enum {
	IDLE_MS = 50,			 /* a receiver idle this long after the sender: done */
	GRACE_S = 2,			 /* the receiver's hard deadline: seconds + this */
	RCVBUF = 8 << 20,		 /* receive socket buffer */
	GSO_SEGS_MAX = 64,		 /* UDP_MAX_SEGMENTS of older kernels */
	GSO_MSGS = 8,			 /* GSO sends per sendmmsg */
	GRO_BUF = 65536,		 /* bytes of a receive buffer with GRO */
	GRO_MSGS = 16,			 /* receive buffers per recvmmsg with GRO */
	SIZE_MAX_ZMQ = 65536,		 /* bound of a ZeroMQ message here */
	CALLS_PER_S_MAX = 100 * 1000000, /* bound of a loop's calls per second measured */
};

struct pair {
	double seconds;
	unsigned size;
	bool gso;	   /* kernel: GSO on send and GRO on receive */
	int tx_fd, rx_fd;  /* kernel */
	void *push, *pull; /* ZeroMQ */
	atomic_bool sender_done;
	atomic_int err;	     /* first error of either side, negative errno */
	uint64_t received;   /* datagrams, segments or messages after the first batch */
	uint64_t t_first_ns; /* end of the receiver's first batch */
	uint64_t t_last_ns;  /* end of its last batch */
};

static void note_error(struct pair *p, int err)
{
	int none = 0;

	atomic_compare_exchange_strong(&p->err, &none, err);
}

/* The bound of a loop's iterations over the whole measurement. */
static uint64_t calls_max(const struct pair *p)
{
	return (uint64_t)((p->seconds + GRACE_S) * CALLS_PER_S_MAX);
}

/* The receiver counted n more units at now: its first batch starts the clock. */
static void count(struct pair *p, uint64_t n)
{
	uint64_t now = pg_mono_ns();

	if (!p->t_first_ns)
		p->t_first_ns = now;
	else
		p->received += n;
	p->t_last_ns = now;
}

/* After a receive timed out: true when the receiver is done. */
static bool idle_done(const struct pair *p, uint64_t deadline_ns)
{
	return atomic_load(&p->sender_done) || pg_mono_ns() >= deadline_ns;
}

static uint64_t rx_deadline(const struct pair *p)
{
	return pg_mono_ns() + (uint64_t)((p->seconds + GRACE_S) * 1e9);
}

static double rate(const struct pair *p)
{
	if (atomic_load(&p->err))
		return atomic_load(&p->err);
	if (!p->received || p->t_last_ns <= p->t_first_ns)
		return -EIO;
	return (double)p->received * 1e9 / (double)(p->t_last_ns - p->t_first_ns);
}

/* Runs send and receive on two threads over p, joins both. 0 or a negative errno. */
static int run_pair(struct pair *p, void *(*sender)(void *), void *(*receiver)(void *))
{
	pthread_t tx, rx;
	int ret;

	atomic_store(&p->sender_done, false);
	ret = pthread_create(&rx, NULL, receiver, p);
	if (ret)
		return -ret;
	ret = pthread_create(&tx, NULL, sender, p);
	if (ret) {
		atomic_store(&p->sender_done, true);
		pthread_join(rx, NULL);
		return -ret;
	}
	pthread_join(tx, NULL);
	pthread_join(rx, NULL);
	return 0;
}

/* The kernel: UDP over 127.0.0.1. */

/* A UDP socket on 127.0.0.1, port any, receive timeout IDLE_MS. The fd or a negative errno. */
static int udp_socket(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timeval tv = { .tv_usec = IDLE_MS * 1000 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret;

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

/* Connects tx to rx's address and sizes rx's buffer. 0 or a negative errno. */
static int udp_connect(int tx, int rx)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int buf = RCVBUF;

	/* FORCE passes rmem_max as root; otherwise what the limit allows */
	if (setsockopt(rx, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)) < 0)
		(void)setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (getsockname(rx, (struct sockaddr *)&a, &len) < 0 ||
	    connect(tx, (struct sockaddr *)&a, len) < 0)
		return -errno;
	return 0;
}

static void *udp_sender(void *arg)
{
	struct pair *p = arg;
	unsigned segs = p->gso ? FLOOD_BASE_UDP_MAX / p->size : 1;
	unsigned nmsg = p->gso ? GSO_MSGS : FLOOD_BASE_BURST;
	struct mmsghdr msgs[FLOOD_BASE_BURST];
	struct iovec iov[FLOOD_BASE_BURST];
	uint64_t deadline, max = calls_max(p);
	size_t len;
	uint8_t *buf;

	segs = segs > GSO_SEGS_MAX ? GSO_SEGS_MAX : segs;
	len = (size_t)segs * p->size;
	buf = calloc(nmsg, len);
	if (!buf) {
		note_error(p, -ENOMEM);
		goto out;
	}
	memset(msgs, 0, sizeof(msgs));
	for (unsigned i = 0; i < nmsg; i++) {
		iov[i] = (struct iovec){ buf + i * len, len };
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	deadline = pg_mono_ns() + (uint64_t)(p->seconds * 1e9);
	for (uint64_t calls = 0; calls < max && pg_mono_ns() < deadline; calls++) {
		int n = sendmmsg(p->tx_fd, msgs, nmsg, 0);

		/* a full queue or a transient refusal: go on, the receiver counts what came */
		if (n < 0 && errno != EAGAIN && errno != ENOBUFS && errno != EINTR &&
		    errno != ECONNREFUSED) {
			note_error(p, -errno);
			break;
		}
	}
	free(buf);
out:
	atomic_store(&p->sender_done, true);
	return NULL;
}

/* Segments in one received message: its length split by its GRO segment size, if any. */
static uint64_t gro_segments(struct msghdr *h, unsigned len)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
		if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
			int seg;

			memcpy(&seg, CMSG_DATA(c), sizeof(seg));
			if (seg > 0)
				return (len + (unsigned)seg - 1) / (unsigned)seg;
		}
	}
	return 1;
}

static void *udp_receiver(void *arg)
{
	struct pair *p = arg;
	unsigned nmsg = p->gso ? GRO_MSGS : FLOOD_BASE_BURST;
	size_t len = p->gso ? GRO_BUF : p->size;
	struct mmsghdr msgs[FLOOD_BASE_BURST];
	struct iovec iov[FLOOD_BASE_BURST];
	char cbuf[FLOOD_BASE_BURST][CMSG_SPACE(sizeof(int))];
	uint64_t deadline = rx_deadline(p), max = calls_max(p);
	uint8_t *buf = malloc(nmsg * len);

	if (!buf) {
		note_error(p, -ENOMEM);
		return NULL;
	}
	for (unsigned i = 0; i < nmsg; i++)
		iov[i] = (struct iovec){ buf + i * len, len };
	for (uint64_t calls = 0; calls < max; calls++) {
		uint64_t units = 0;
		int n;

		memset(msgs, 0, sizeof(msgs));
		for (unsigned i = 0; i < nmsg; i++) {
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
			msgs[i].msg_hdr.msg_control = p->gso ? cbuf[i] : NULL;
			msgs[i].msg_hdr.msg_controllen = p->gso ? sizeof(cbuf[i]) : 0;
		}
		n = recvmmsg(p->rx_fd, msgs, nmsg, MSG_WAITFORONE, NULL);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR) {
				note_error(p, -errno);
				break;
			}
			if (idle_done(p, deadline))
				break;
			continue;
		}
		for (int i = 0; i < n; i++)
			units += p->gso ? gro_segments(&msgs[i].msg_hdr, msgs[i].msg_len) : 1;
		count(p, units);
		if (pg_mono_ns() >= deadline)
			break;
	}
	free(buf);
	return NULL;
}

static double kernel_run(double seconds, unsigned size, bool gso)
{
	struct pair p = { .seconds = seconds, .size = size, .gso = gso };
	int one = 1, seg = (int)size, ret;

	if (!(seconds >= 0.05 && seconds <= 600) || size < 1 ||
	    size > (gso ? 1472u : (unsigned)FLOOD_BASE_UDP_MAX))
		return -EINVAL;
	p.tx_fd = udp_socket();
	if (p.tx_fd < 0)
		return p.tx_fd;
	p.rx_fd = udp_socket();
	if (p.rx_fd < 0) {
		ret = p.rx_fd;
		goto err_close_tx;
	}
	ret = udp_connect(p.tx_fd, p.rx_fd);
	if (ret)
		goto err_close_rx;
	if (gso && (setsockopt(p.tx_fd, SOL_UDP, UDP_SEGMENT, &seg, sizeof(seg)) < 0 ||
		    setsockopt(p.rx_fd, SOL_UDP, UDP_GRO, &one, sizeof(one)) < 0)) {
		ret = -errno;
		goto err_close_rx;
	}
	ret = run_pair(&p, udp_sender, udp_receiver);
err_close_rx:
	close(p.rx_fd);
err_close_tx:
	close(p.tx_fd);
	return ret ? ret : rate(&p);
}

double flood_base_kernel_dgram_s(double seconds, unsigned size)
{
	return kernel_run(seconds, size, false);
}

double flood_base_kernel_gso_seg_s(double seconds, unsigned size)
{
	return kernel_run(seconds, size, true);
}

/* ZeroMQ: PUSH -> PULL over TCP on 127.0.0.1. */

#if PG_HAVE_ZMQ

bool flood_base_have_zmq(void)
{
	return true;
}

static void *zmq_sender(void *arg)
{
	struct pair *p = arg;
	uint64_t deadline, max = calls_max(p);
	uint8_t *buf = calloc(1, p->size);

	if (!buf) {
		note_error(p, -ENOMEM);
		goto out;
	}
	deadline = pg_mono_ns() + (uint64_t)(p->seconds * 1e9);
	/* the clock is read once per 64 sends: a send costs far less than a clock read */
	for (uint64_t calls = 0; calls < max && pg_mono_ns() < deadline; calls++) {
		for (int i = 0; i < 64; i++) {
			if (zmq_send(p->push, buf, p->size, 0) < 0) {
				if (zmq_errno() != EAGAIN && zmq_errno() != EINTR)
					note_error(p, -zmq_errno());
				break; /* full for 100 ms (ZMQ_SNDTIMEO): look at the clock */
			}
		}
		if (atomic_load(&p->err))
			break;
	}
	free(buf);
out:
	atomic_store(&p->sender_done, true);
	return NULL;
}

static void *zmq_receiver(void *arg)
{
	struct pair *p = arg;
	uint64_t deadline = rx_deadline(p), max = calls_max(p);
	uint8_t *buf = malloc(p->size);

	if (!buf) {
		note_error(p, -ENOMEM);
		return NULL;
	}
	for (uint64_t calls = 0; calls < max; calls++) {
		uint64_t n = 0;

		/* up to 64 messages per clock read, as the sender */
		for (; n < 64; n++) {
			if (zmq_recv(p->pull, buf, p->size, n ? ZMQ_DONTWAIT : 0) < 0)
				break;
		}
		if (n) {
			count(p, n);
		} else if (zmq_errno() != EAGAIN && zmq_errno() != EINTR) {
			note_error(p, -zmq_errno());
			break;
		} else if (idle_done(p, deadline)) {
			break;
		}
		if (pg_mono_ns() >= deadline)
			break;
	}
	free(buf);
	return NULL;
}

/* Sets an int option; 0 or a negative errno. */
static int zmq_opt(void *s, int opt, int v)
{
	return zmq_setsockopt(s, opt, &v, sizeof(v)) ? -zmq_errno() : 0;
}

double flood_base_zmq_msg_s(double seconds, unsigned size)
{
	struct pair p = { .seconds = seconds, .size = size };
	char endpoint[256];
	size_t elen = sizeof(endpoint);
	void *ctx;
	int ret;

	if (!(seconds >= 0.05 && seconds <= 600) || size < 1 || size > SIZE_MAX_ZMQ)
		return -EINVAL;
	ctx = zmq_ctx_new();
	if (!ctx)
		return -zmq_errno();
	p.push = zmq_socket(ctx, ZMQ_PUSH);
	if (!p.push) {
		ret = -zmq_errno();
		goto err_term;
	}
	p.pull = zmq_socket(ctx, ZMQ_PULL);
	if (!p.pull) {
		ret = -zmq_errno();
		goto err_close_push;
	}
	if ((ret = zmq_opt(p.push, ZMQ_LINGER, 0)) || (ret = zmq_opt(p.pull, ZMQ_LINGER, 0)) ||
	    (ret = zmq_opt(p.push, ZMQ_SNDTIMEO, 100)) ||
	    (ret = zmq_opt(p.pull, ZMQ_RCVTIMEO, IDLE_MS)))
		goto err_close_pull;
	if (zmq_bind(p.push, "tcp://127.0.0.1:*") ||
	    zmq_getsockopt(p.push, ZMQ_LAST_ENDPOINT, endpoint, &elen) ||
	    zmq_connect(p.pull, endpoint)) {
		ret = -zmq_errno();
		goto err_close_pull;
	}
	/* each socket is used by one thread from here; pthread_create is the barrier that
	 * ZeroMQ asks for when a socket moves between threads */
	ret = run_pair(&p, zmq_sender, zmq_receiver);
err_close_pull:
	zmq_close(p.pull);
err_close_push:
	zmq_close(p.push);
err_term:
	zmq_ctx_term(ctx);
	return ret ? ret : rate(&p);
}

#else

bool flood_base_have_zmq(void)
{
	return false;
}

double flood_base_zmq_msg_s(double seconds, unsigned size)
{
	(void)seconds;
	(void)size;
	return -ENOTSUP;
}

#endif

/* ---- fresh memory ---- */

static double mem_pass(uint8_t *p, size_t bytes)
{
	static const uint8_t chunk[FLOOD_BASE_MEM_CHUNK] = { 1 };
	uint64_t t0 = pg_mono_ns(), dt;

	for (size_t off = 0; off + sizeof(chunk) <= bytes; off += sizeof(chunk)) {
		memcpy(p + off, chunk, sizeof(chunk));
		__asm__ volatile("" : : "r"(p) : "memory"); /* each copy happens */
	}
	dt = pg_mono_ns() - t0;
	return (double)bytes * 1e9 / (double)(dt ? dt : 1);
}

int flood_base_mem(size_t bytes, double *fresh, double *warm)
{
	uint8_t *p;

	if (bytes < (16u << 20) || bytes > (4ull << 30))
		return -EINVAL;
	p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -ENOMEM;
	*fresh = mem_pass(p, bytes);
	*warm = mem_pass(p, bytes);
	munmap(p, bytes);
	return 0;
}
