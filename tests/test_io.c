/*
 * test_io.c - the io backends (dataplane/io/io.h), each held to the same promises over loopback:
 * datagrams and GSO runs arrive whole with their source address, sizes up to the UDP maximum,
 * buffers come back through rx_done, wait() ends on data, timeout and wake, system calls and
 * datagrams are counted exactly, truncated datagrams and ICMP port-unreachable errors are
 * counted and survived, and SO_REUSEPORT lets two sockets share a port.
 *
 * Every behaviour runs against four variants: the sockets backend with GSO/GRO and without, and
 * the io_uring backend with its fast paths (multishot recvmsg, GSO, GRO) and with all of them
 * turned off (single-shot recvmsg re-armed, one datagram per send and per buffer). A variant
 * whose fast path this kernel lacks, or io_uring where it cannot run, is skipped with a reason.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "io/io.h"
#include "pg_time.h"

struct variant {
	const char *backend;
	bool fast; /* GSO, GRO and (uring) multishot allowed, and required of the probe */
};

static const struct variant SOCKETS = { "sockets", true }, SOCKETS_PLAIN = { "sockets", false },
			    URING = { "uring", true }, URING_PLAIN = { "uring", false };

struct end {
	const struct dp_io_ops *ops;
	struct dp_io *io;
	struct dp_addr addr;
};

enum {
	WAIT_MAX_US = 2000000, /* longest a test waits for datagrams that were sent */
	MAX_PKTS = 4096,
};

static void cfg_for(const struct variant *v, struct dp_io_config *cfg)
{
	dp_io_config_default(cfg);
	cfg->backend = v->backend;
	cfg->gso = cfg->gro = cfg->multishot = v->fast;
	cr_assert_eq(dp_addr_parse(&cfg->bind, "127.0.0.1", 0), 0);
}

/* Opens an endpoint of variant v with cfg, or skips the test where v cannot run. */
static void end_open_cfg(const struct variant *v, const struct dp_io_config *cfg, struct end *e)
{
	struct dp_io_stats st;
	int err;

	e->ops = dp_io_backend(v->backend);
	cr_assert_not_null(e->ops);
	err = e->ops->open(cfg, &e->io);
	if (err == -ENOSYS)
		cr_skip_test("io_uring cannot run on this host (not built in, or forbidden)");
	cr_assert_eq(err, 0, "open %s: %s", v->backend, strerror(-err));
	cr_assert_eq(e->ops->local_addr(e->io, &e->addr), 0);
	cr_assert_neq(e->addr.in.sin_port, 0);
	e->ops->stats(e->io, &st);
	if (v->fast && (!st.gso || (cfg->gro && !st.gro)))
		cr_skip_test("this kernel lacks UDP GSO or GRO on loopback");
	if (v->fast && strcmp(v->backend, "uring") == 0 && cfg->multishot && !st.multishot)
		cr_skip_test("this kernel lacks multishot recvmsg (before 6.0)");
	if (!v->fast)
		cr_assert(!st.gso && !st.gro && !st.multishot);
	cr_assert_eq(st.syscalls, 0, "a fresh endpoint has made no data-path system call");
}

static void end_open(const struct variant *v, struct end *e)
{
	struct dp_io_config cfg;

	cfg_for(v, &cfg);
	end_open_cfg(v, &cfg, e);
}

/* A sender a and a receiver b with only 16 buffers, offered to the kernel 8 at a time. */
static void open_small_receiver(const struct variant *v, struct end *a, struct end *b)
{
	struct dp_io_config cfg;

	cfg_for(v, &cfg);
	end_open(v, a);
	cfg.rx_buffers = 16;
	cfg.rx_burst = 8;
	end_open_cfg(v, &cfg, b);
}

static void end_close(struct end *e)
{
	e->ops->close(e->io);
}

static void pattern(uint8_t *p, size_t len, uint32_t seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 8));
}

static void send_all(struct end *from, const struct dp_tx *tx, unsigned n)
{
	cr_assert_eq(from->ops->tx_burst(from->io, tx, n), n);
}

/* Receives until want datagrams arrived or WAIT_MAX_US passed; copies each into out[] (data
 * into store, at most store_len bytes in all) and gives the buffers back. Returns the count. */
struct got {
	uint32_t len;
	uint8_t *data;
	struct dp_addr src;
};

static unsigned recv_some(struct end *e, struct got *out, unsigned want, uint8_t *store,
			  size_t store_len)
{
	uint64_t end = pg_mono_ns() + WAIT_MAX_US * 1000ull;
	struct dp_pkt pkts[64];
	size_t used = 0;
	unsigned got = 0;

	while (got < want && pg_mono_ns() < end) {
		unsigned n = e->ops->rx_burst(e->io, pkts, 64);

		for (unsigned i = 0; i < n; i++) {
			cr_assert_lt(got, want, "more datagrams than were sent");
			cr_assert_leq(used + pkts[i].len, store_len);
			memcpy(store + used, pkts[i].data, pkts[i].len);
			out[got] = (struct got){ .len = pkts[i].len,
						 .data = store + used,
						 .src = pkts[i].src };
			used += pkts[i].len;
			got++;
		}
		e->ops->rx_done(e->io, pkts, n);
		if (n == 0)
			(void)e->ops->wait(e->io, 10000);
	}
	return got;
}

static void check_got(const struct got *g, const uint8_t *want, uint32_t len,
		      const struct dp_addr *src)
{
	cr_assert_eq(g->len, len);
	cr_assert(memcmp(g->data, want, len) == 0, "contents differ");
	cr_assert(dp_addr_equal(&g->src, src), "source address differs");
}

#define VARIANT_TESTS(fn)                                                                          \
	Test(io_sockets, fn)                                                                       \
	{                                                                                          \
		fn(&SOCKETS);                                                                      \
	}                                                                                          \
	Test(io_sockets_plain, fn)                                                                 \
	{                                                                                          \
		fn(&SOCKETS_PLAIN);                                                                \
	}                                                                                          \
	Test(io_uring, fn)                                                                         \
	{                                                                                          \
		fn(&URING);                                                                        \
	}                                                                                          \
	Test(io_uring_plain, fn)                                                                   \
	{                                                                                          \
		fn(&URING_PLAIN);                                                                  \
	}

/* ---- datagrams -------------------------------------------------------------------------- */

/* 1. Single datagrams of several sizes in one burst arrive whole, in order, from a's address. */
static void single_datagrams(const struct variant *v)
{
	static uint8_t data[10][1400], store[16000];
	struct got got[10];
	struct dp_tx tx[10];
	struct end a, b;

	end_open(v, &a);
	end_open(v, &b);
	for (unsigned i = 0; i < 10; i++) {
		pattern(data[i], sizeof(data[i]), i);
		tx[i] = (struct dp_tx){ .dst = b.addr, .data = data[i], .len = 1 + i * 150 };
	}
	send_all(&a, tx, 10);
	cr_assert_eq(recv_some(&b, got, 10, store, sizeof(store)), 10);
	for (unsigned i = 0; i < 10; i++)
		check_got(&got[i], data[i], 1 + i * 150, &a.addr);
	end_close(&a);
	end_close(&b);
}
VARIANT_TESTS(single_datagrams)

/* 2. GSO runs: 40 x 1200 B and a 700 B tail, then 10 x 1000 B and a 1 B tail, arrive as 52
 * datagrams; with GSO they leave as two messages, with GRO they arrive in few buffers. */
static void gso_batches(const struct variant *v)
{
	static uint8_t run1[40 * 1200 + 700], run2[10 * 1000 + 1],
	    store[sizeof(run1) + sizeof(run2)];
	static struct got got[52];
	struct dp_tx tx[2];
	struct dp_io_stats sa, sb;
	struct end a, b;

	end_open(v, &a);
	end_open(v, &b);
	pattern(run1, sizeof(run1), 1);
	pattern(run2, sizeof(run2), 2);
	tx[0] = (struct dp_tx){ .dst = b.addr, .data = run1, .len = sizeof(run1), .seg = 1200 };
	tx[1] = (struct dp_tx){ .dst = b.addr, .data = run2, .len = sizeof(run2), .seg = 1000 };
	send_all(&a, tx, 2);
	cr_assert_eq(recv_some(&b, got, 52, store, sizeof(store)), 52);
	for (unsigned i = 0; i < 41; i++)
		check_got(&got[i], run1 + i * 1200, i < 40 ? 1200 : 700, &a.addr);
	for (unsigned i = 0; i < 11; i++)
		check_got(&got[41 + i], run2 + i * 1000, i < 10 ? 1000 : 1, &a.addr);
	a.ops->stats(a.io, &sa);
	b.ops->stats(b.io, &sb);
	cr_assert_eq(sa.tx_dgrams, 52);
	cr_assert_eq(sa.tx_bytes, sizeof(run1) + sizeof(run2));
	cr_assert_eq(sa.tx_msgs, v->fast ? 2 : 52);
	cr_assert_eq(sb.rx_dgrams, 52);
	cr_assert_eq(sb.rx_bytes, sizeof(run1) + sizeof(run2));
	if (v->fast)
		cr_assert_lt(sb.rx_bufs, 52, "GRO kept the runs together (%lu buffers)",
			     (unsigned long)sb.rx_bufs);
	else
		cr_assert_eq(sb.rx_bufs, 52);
	end_close(&a);
	end_close(&b);
}
VARIANT_TESTS(gso_batches)

/* 3. Without GSO, datagrams of every size up to the UDP/IPv4 maximum arrive whole. */
static void sizes(const struct variant *v)
{
	static const uint32_t lens[] = {
		0, 1, 100, 1472, 1473, 9000, 32768, 65000, DP_IO_DGRAM_MAX
	};
	enum { N = sizeof(lens) / sizeof(lens[0]) };
	static uint8_t data[DP_IO_DGRAM_MAX], store[N * DP_IO_DGRAM_MAX];
	struct got got[N];
	struct dp_tx tx[N];
	struct end a, b;

	end_open(v, &a);
	end_open(v, &b);
	pattern(data, sizeof(data), 3);
	for (unsigned i = 0; i < N; i++)
		tx[i] = (struct dp_tx){ .dst = b.addr, .data = data, .len = lens[i] };
	send_all(&a, tx, N);
	cr_assert_eq(recv_some(&b, got, N, store, sizeof(store)), N);
	for (unsigned i = 0; i < N; i++)
		check_got(&got[i], data, lens[i], &a.addr);
	end_close(&a);
	end_close(&b);
}
VARIANT_TESTS(sizes)

/* ---- buffers ---------------------------------------------------------------------------- */

/* 4. rx_done recycles: 16 buffers carry 240 datagrams over 20 rounds, given back in reverse. */
static void buffers_recycle(const struct variant *v)
{
	struct dp_pkt pkts[16];
	struct dp_tx tx[12];
	uint8_t data[12][300];
	struct end a, b;

	open_small_receiver(v, &a, &b);
	for (unsigned round = 0; round < 20; round++) {
		uint64_t end = pg_mono_ns() + WAIT_MAX_US * 1000ull;
		unsigned got = 0;

		for (unsigned i = 0; i < 12; i++) {
			pattern(data[i], sizeof(data[i]), round * 12 + i);
			tx[i] = (struct dp_tx){ .dst = b.addr, .data = data[i], .len = 300 };
		}
		send_all(&a, tx, 12);
		while (got < 12 && pg_mono_ns() < end) {
			unsigned n = b.ops->rx_burst(b.io, pkts + got, 12 - got);

			if (n == 0)
				(void)b.ops->wait(b.io, 10000);
			got += n;
		}
		cr_assert_eq(got, 12, "round %u", round);
		for (unsigned i = 0; i < 12; i++)
			cr_assert(memcmp(pkts[i].data, data[i], 300) == 0, "round %u #%u", round,
				  i);
		for (unsigned i = 12; i-- > 0;)
			b.ops->rx_done(b.io, &pkts[i], 1);
	}
	end_close(&a);
	end_close(&b);
}
VARIANT_TESTS(buffers_recycle)

/* 5. Buffers not given back run out: 16 of 24 datagrams arrive, the shortage is counted, and
 * the other 8 arrive once the 16 are given back. */
static void buffers_run_out(const struct variant *v)
{
	struct dp_pkt pkts[32];
	struct dp_tx tx[24];
	struct dp_io_stats st;
	uint8_t data[24][100];
	unsigned got = 0;
	struct end a, b;
	uint64_t end;

	open_small_receiver(v, &a, &b);
	for (unsigned i = 0; i < 24; i++) {
		pattern(data[i], sizeof(data[i]), i);
		tx[i] = (struct dp_tx){ .dst = b.addr, .data = data[i], .len = 100 };
	}
	send_all(&a, tx, 24);
	end = pg_mono_ns() + 300000000ull; /* 0.3 s: long enough for all 24 had there been room */
	while (pg_mono_ns() < end) {
		got += b.ops->rx_burst(b.io, pkts + got, 32 - got);
		(void)b.ops->wait(b.io, 5000);
	}
	cr_assert_eq(got, 16);
	b.ops->stats(b.io, &st);
	cr_assert_gt(st.rx_nobufs, 0);
	b.ops->rx_done(b.io, pkts, 16);
	end = pg_mono_ns() + WAIT_MAX_US * 1000ull;
	while (got < 24 && pg_mono_ns() < end) {
		unsigned n = b.ops->rx_burst(b.io, pkts + got, 32 - got);

		if (n == 0)
			(void)b.ops->wait(b.io, 10000);
		got += n;
	}
	cr_assert_eq(got, 24);
	for (unsigned i = 16; i < 24; i++)
		cr_assert(memcmp(pkts[i].data, data[i], 100) == 0);
	b.ops->rx_done(b.io, pkts + 16, 8);
	end_close(&a);
	end_close(&b);
}
VARIANT_TESTS(buffers_run_out)

/* 6. A datagram longer than a buffer is counted and dropped; the next one arrives. */
static void truncated(const struct variant *v)
{
	static uint8_t data[3000], store[3000];
	struct dp_io_config cfg;
	struct dp_tx tx[2];
	struct dp_io_stats st;
	struct got got[2];
	struct end a, b;

	cfg_for(v, &cfg);
	end_open(v, &a);
	cfg.rx_buf_size = 2048; /* too small for GRO: it stays off */
	cfg.gro = false;
	end_open_cfg(v, &cfg, &b);
	pattern(data, sizeof(data), 6);
	tx[0] = (struct dp_tx){ .dst = b.addr, .data = data, .len = 3000 };
	tx[1] = (struct dp_tx){ .dst = b.addr, .data = data, .len = 2048 };
	send_all(&a, tx, 2);
	cr_assert_eq(recv_some(&b, got, 1, store, sizeof(store)), 1);
	check_got(&got[0], data, 2048, &a.addr);
	b.ops->stats(b.io, &st);
	cr_assert_eq(st.rx_trunc, 1);
	cr_assert_eq(st.rx_dgrams, 1);
	end_close(&a);
	end_close(&b);
}
VARIANT_TESTS(truncated)

/* ---- waiting ---------------------------------------------------------------------------- */

/* 7. wait() sleeps its timeout when nothing comes, and returns at once for waiting data. */
static void wait_timeout_and_data(const struct variant *v)
{
	uint8_t byte = 7;
	struct dp_tx tx;
	struct end a, b;
	uint64_t t0;
	int r;

	end_open(v, &a);
	end_open(v, &b);
	t0 = pg_mono_ns();
	cr_assert_eq(b.ops->wait(b.io, 30000), 0);
	cr_assert_geq(pg_mono_ns() - t0, 25000000ull, "slept its 30 ms");
	cr_assert_eq(b.ops->wait(b.io, 0), 0, "a zero timeout polls");
	tx = (struct dp_tx){ .dst = b.addr, .data = &byte, .len = 1 };
	send_all(&a, &tx, 1);
	t0 = pg_mono_ns();
	r = b.ops->wait(b.io, 5000000);
	cr_assert(r & DP_IO_READY_RX, "wait() = %d", r);
	cr_assert_lt(pg_mono_ns() - t0, 1000000000ull);
	end_close(&a);
	end_close(&b);
}
VARIANT_TESTS(wait_timeout_and_data)

struct waker {
	struct end *e;
	unsigned delay_us;
};

static void *wake_later(void *arg)
{
	struct waker *w = arg;

	usleep(w->delay_us);
	w->e->ops->wake(w->e->io);
	return NULL;
}

/* 8. wake() from another thread ends a wait(); a wake before the wait ends the next one. */
static void wait_wake(const struct variant *v)
{
	struct dp_io_stats st;
	struct end b;
	struct waker w = { .e = &b, .delay_us = 50000 };
	pthread_t th;
	uint64_t t0;
	int r;

	end_open(v, &b);
	t0 = pg_mono_ns();
	cr_assert_eq(pthread_create(&th, NULL, wake_later, &w), 0);
	r = b.ops->wait(b.io, 10000000);
	cr_assert_eq(pthread_join(th, NULL), 0);
	cr_assert_eq(r, DP_IO_READY_WOKEN);
	cr_assert_lt(pg_mono_ns() - t0, 5000000000ull);
	cr_assert_geq(pg_mono_ns() - t0, 40000000ull, "woken by the wake, not before");
	b.ops->wake(b.io);
	t0 = pg_mono_ns();
	cr_assert_eq(b.ops->wait(b.io, 10000000), DP_IO_READY_WOKEN);
	cr_assert_lt(pg_mono_ns() - t0, 1000000000ull);
	cr_assert_eq(b.ops->wait(b.io, 20000), 0, "the wake was used up");
	b.ops->stats(b.io, &st);
	cr_assert_eq(st.wakes, 2);
	end_close(&b);
}
VARIANT_TESTS(wait_wake)

/* ---- counting --------------------------------------------------------------------------- */

/* 9. System calls are counted exactly: a send burst is one (sendmmsg, or one io_uring_enter),
 * an idle poll is one recvmmsg for the sockets backend and none for the ring (its requests
 * stay armed). */
static void syscall_counts(const struct variant *v)
{
	static uint8_t run[20 * 1200];
	bool uring = strcmp(v->backend, "uring") == 0;
	struct dp_io_stats s0, s1;
	struct dp_pkt pkts[64];
	struct dp_tx tx[4];
	struct end a, b;
	unsigned got = 0;
	uint64_t end;

	end_open(v, &a);
	end_open(v, &b);
	for (unsigned i = 0; i < 4; i++)
		tx[i] =
		    (struct dp_tx){ .dst = b.addr, .data = run, .len = sizeof(run), .seg = 1200 };
	a.ops->stats(a.io, &s0);
	send_all(&a, tx, v->fast ? 4 : 3); /* without GSO, 3 x 20 messages fit one batch of 64 */
	a.ops->stats(a.io, &s1);
	cr_assert_eq(s1.syscalls - s0.syscalls, 1);
	cr_assert_eq(s1.tx_dgrams, v->fast ? 80 : 60);

	b.ops->stats(b.io, &s0);
	end = pg_mono_ns() + WAIT_MAX_US * 1000ull;
	while (got < s1.tx_dgrams && pg_mono_ns() < end) {
		unsigned n = b.ops->rx_burst(b.io, pkts, 64);

		b.ops->rx_done(b.io, pkts, n);
		got += n;
	}
	cr_assert_eq(got, s1.tx_dgrams);
	b.ops->stats(b.io, &s1);
	cr_assert_eq(s1.rx_dgrams, got);
	cr_assert_eq(s1.rx_bytes, (uint64_t)got * 1200);
	s0 = s1;
	(void)b.ops->rx_burst(b.io, pkts, 64); /* nothing left */
	b.ops->stats(b.io, &s1);
	cr_assert_eq(s1.syscalls - s0.syscalls, uring ? 0 : 1);
	end_close(&a);
	end_close(&b);
}
VARIANT_TESTS(syscall_counts)

/* 10. A send to a port nobody listens on is taken, its ICMP error counted, and the endpoint
 * goes on sending and receiving. */
static void refused(const struct variant *v)
{
	uint8_t byte = 1, store[8];
	struct dp_io_stats st;
	struct got got[1];
	struct dp_tx tx;
	struct end a, b, gone;
	uint64_t end;

	end_open(v, &a);
	end_open(v, &b);
	end_open(v, &gone);
	tx = (struct dp_tx){ .dst = gone.addr, .data = &byte, .len = 1 };
	end_close(&gone);
	send_all(&a, &tx, 1);
	end = pg_mono_ns() + WAIT_MAX_US * 1000ull;
	do {
		struct dp_pkt p[4];

		(void)a.ops->wait(a.io, 10000);
		a.ops->rx_done(a.io, p, a.ops->rx_burst(a.io, p, 4));
		a.ops->stats(a.io, &st);
	} while (st.icmp_err[DP_IO_ERR_REFUSED] == 0 && pg_mono_ns() < end);
	cr_assert_eq(st.icmp_err[DP_IO_ERR_REFUSED], 1);
	cr_assert_eq(st.rx_errors, 0);
	tx.dst = b.addr;
	send_all(&a, &tx, 1);
	cr_assert_eq(recv_some(&b, got, 1, store, sizeof(store)), 1);
	tx.dst = a.addr;
	send_all(&b, &tx, 1);
	cr_assert_eq(recv_some(&a, got, 1, store, sizeof(store)), 1);
	check_got(&got[0], &byte, 1, &b.addr);
	a.ops->stats(a.io, &st);
	cr_assert_eq(st.tx_dgrams, 2);
	end_close(&a);
	end_close(&b);
}
VARIANT_TESTS(refused)

/* ---- sockets ---------------------------------------------------------------------------- */

/* 11. SO_REUSEPORT: a second socket on the same port opens with it and not without it, and
 * datagrams from many sources all arrive at one of the two. */
static void reuseport(const struct variant *v)
{
	struct dp_io_config cfg;
	struct dp_io *third;
	struct end a, b, src[8];
	struct dp_pkt pkts[64];
	uint8_t byte = 5;
	unsigned got = 0;
	uint64_t end;

	cfg_for(v, &cfg);
	cfg.reuseport = true;
	end_open_cfg(v, &cfg, &a);
	cfg.bind = a.addr;
	end_open_cfg(v, &cfg, &b);
	cr_assert(dp_addr_equal(&a.addr, &b.addr));
	cfg.reuseport = false;
	cr_assert_eq(a.ops->open(&cfg, &third), -EADDRINUSE);
	for (unsigned i = 0; i < 8; i++) {
		struct dp_tx tx = { .dst = a.addr, .data = &byte, .len = 1 };

		end_open(v, &src[i]);
		send_all(&src[i], &tx, 1);
	}
	end = pg_mono_ns() + WAIT_MAX_US * 1000ull;
	while (got < 8 && pg_mono_ns() < end) {
		unsigned n = a.ops->rx_burst(a.io, pkts, 64);

		a.ops->rx_done(a.io, pkts, n);
		got += n;
		n = b.ops->rx_burst(b.io, pkts, 64);
		b.ops->rx_done(b.io, pkts, n);
		got += n;
		if (got < 8)
			usleep(1000);
	}
	cr_assert_eq(got, 8);
	for (unsigned i = 0; i < 8; i++)
		end_close(&src[i]);
	end_close(&a);
	end_close(&b);
}
VARIANT_TESTS(reuseport)

/* 12. IPv6: a datagram over ::1 arrives with its source address. */
static void ipv6(const struct variant *v)
{
	uint8_t data[500], store[500];
	struct dp_io_config cfg;
	struct got got[1];
	struct dp_tx tx;
	struct end a, b;
	int err;

	cfg_for(v, &cfg);
	cr_assert_eq(dp_addr_parse(&cfg.bind, "::1", 0), 0);
	err = dp_io_backend(v->backend)->open(&cfg, &a.io);
	if (err == -EADDRNOTAVAIL)
		cr_skip_test("no IPv6 loopback here");
	if (err == 0)
		dp_io_backend(v->backend)->close(a.io);
	end_open_cfg(v, &cfg, &a);
	end_open_cfg(v, &cfg, &b);
	pattern(data, sizeof(data), 12);
	tx = (struct dp_tx){ .dst = b.addr, .data = data, .len = sizeof(data) };
	send_all(&a, &tx, 1);
	cr_assert_eq(recv_some(&b, got, 1, store, sizeof(store)), 1);
	check_got(&got[0], data, sizeof(data), &a.addr);
	cr_assert_eq(got[0].src.len, sizeof(struct sockaddr_in6));
	end_close(&a);
	end_close(&b);
}
VARIANT_TESTS(ipv6)

/* This test process's own network namespace, its loopback up with the given MTU; skips the
 * test where namespaces cannot be made (not root, or a sandbox that forbids them). */
static void netns_with_lo_mtu(int mtu)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd;

	if (unshare(CLONE_NEWNET) != 0)
		cr_skip_test("cannot make a network namespace: %s", strerror(errno));
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(fd, 0);
	ifr.ifr_mtu = mtu;
	if (ioctl(fd, SIOCSIFMTU, &ifr) != 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) != 0)
		cr_skip_test("cannot set the namespace's loopback MTU: %s", strerror(errno));
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) != 0)
		cr_skip_test("cannot bring the namespace's loopback up: %s", strerror(errno));
	close(fd);
}

/* 13. A GSO run whose segments are larger than the path's MTU (loopback at 1500 in a
 * namespace of this test): the kernel refuses it (UDP GSO does not fragment), and the backend
 * sends its datagrams one by one, which IP fragments: all arrive, none counted lost. */
static void gso_over_the_mtu(const struct variant *v)
{
	static uint8_t run[3 * 2000 + 500], store[sizeof(run)];
	struct got got[4];
	struct dp_io_stats sa;
	struct dp_tx tx;
	struct end a, b;

	netns_with_lo_mtu(1500);
	end_open(v, &a);
	end_open(v, &b);
	pattern(run, sizeof(run), 13);
	tx = (struct dp_tx){ .dst = b.addr, .data = run, .len = sizeof(run), .seg = 2000 };
	send_all(&a, &tx, 1);
	cr_assert_eq(recv_some(&b, got, 4, store, sizeof(store)), 4);
	for (unsigned i = 0; i < 4; i++)
		check_got(&got[i], run + i * 2000, i < 3 ? 2000 : 500, &a.addr);
	a.ops->stats(a.io, &sa);
	cr_assert_eq(sa.tx_gso_fallbacks, v->fast ? 1 : 0);
	cr_assert_eq(sa.tx_dgrams, 4);
	for (unsigned c = 0; c < DP_IO_ERR_CLASSES; c++)
		cr_assert_eq(sa.tx_err[c], 0, "lost to %s", dp_io_err_class_name(c));
	end_close(&a);
	end_close(&b);
}
VARIANT_TESTS(gso_over_the_mtu)

/* ---- the table -------------------------------------------------------------------------- */

/* 14. Names, bad configurations, and dp_io_open's default backend. */
Test(io, table_and_config)
{
	struct dp_io_config cfg, bad;
	const struct dp_io_ops *ops;
	struct dp_io *io;
	int err;

	cr_assert_not_null(dp_io_backend("uring"));
	cr_assert_not_null(dp_io_backend("sockets"));
	cr_assert_null(dp_io_backend("dpdk"));
	cr_assert_str_eq(dp_io_backend("sockets")->name, "sockets");
	dp_io_config_default(&cfg);
	cr_assert_eq(dp_addr_parse(&cfg.bind, "127.0.0.1", 0), 0);
	cr_assert_eq(dp_addr_parse(&bad.bind, "not an address", 1), -EINVAL);
	for (int i = 0; i < 5; i++) {
		bad = cfg;
		switch (i) {
		case 0:
			bad.rx_burst = 0;
			break;
		case 1:
			bad.rx_buffers = bad.rx_burst - 1;
			break;
		case 2:
			bad.rx_buf_size = DP_IO_RX_BUF_MAX + 1;
			break;
		case 3:
			bad.bind.len = 3;
			break;
		case 4:
			bad.tx_burst = DP_IO_BURST_MAX + 1;
			break;
		}
		cr_assert_eq(dp_io_backend("sockets")->open(&bad, &io), -EINVAL, "row %d", i);
		cr_assert_eq(dp_io_backend("uring")->open(&bad, &io), -EINVAL, "row %d", i);
	}
	cfg.backend = "nope";
	cr_assert_eq(dp_io_open(&cfg, &ops, &io), -EINVAL);
	cfg.backend = NULL;
	err = dp_io_open(&cfg, &ops, &io);
	cr_assert_eq(err, 0);
	/* uring where it runs, else the sockets fallback */
	cr_assert(ops == dp_io_backend("uring") || ops == dp_io_backend("sockets"));
	ops->close(io);
	cr_assert_eq(dp_io_err_class_of(ECONNREFUSED), DP_IO_ERR_REFUSED);
	cr_assert_eq(dp_io_err_class_of(ENOBUFS), DP_IO_ERR_NOBUFS);
	cr_assert_str_eq(dp_io_err_class_name(DP_IO_ERR_MSGSIZE), "msgsize");
}
