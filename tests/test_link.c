/*
 * test_link.c - one link's state machine (dataplane/link/link.h) driven without a socket: two
 * links joined by a simulated network in virtual time, seeded loss, duplication, reordering
 * and delay. Every record must arrive exactly once and whole; windows, limits, timers and
 * reassembly bounds must hold.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "link.h"
#include "pg_bytes.h"
#include "pg_error.h"

enum { QMAX = 1 << 16, NREC_MAX = 1 << 14 };

struct inflight {
	uint64_t due;
	uint32_t len;
	uint8_t *data;
};

struct side {
	struct dp_link *l;
	struct inflight q[QMAX]; /* datagrams on their way to this side */
	unsigned nq;
	uint32_t *seen; /* per record index: times delivered */
	uint64_t delivered, bad;
};

struct net {
	struct side a, b;
	struct dp_link_budget budget_a, budget_b;
	uint64_t now, rng;
	double loss, dup, reorder;
	uint32_t delay_us;
	uint64_t sent, dropped;
	bool a_to_b_cut; /* drop everything a sends */
};

static uint64_t rnd(struct net *n)
{
	n->rng ^= n->rng << 13;
	n->rng ^= n->rng >> 7;
	n->rng ^= n->rng << 17;
	return n->rng;
}

static double rnd01(struct net *n)
{
	return (double)(rnd(n) >> 11) / (double)(1ull << 53);
}

/* Record i: its index, its length, then bytes derived from both. */
static uint32_t rec_len(unsigned i)
{
	if (i == 7)
		return 1u << 20; /* one record of 1 MiB */
	if (i % 50 == 3)
		return 3000 + i; /* a few larger than a datagram */
	return 16 + (i * 37) % 400;
}

static void rec_fill(uint8_t *b, unsigned i, uint32_t len)
{
	store_le32(b, i);
	store_le32(b + 4, len);
	for (uint32_t k = 8; k < len; k++)
		b[k] = (uint8_t)(i * 31 + k);
}

static void on_record(void *ctx, const uint8_t *rec, uint32_t len)
{
	struct side *s = ctx;
	unsigned i;

	if (len < 8 || load_le32(rec + 4) != len || (i = load_le32(rec)) >= NREC_MAX) {
		s->bad++;
		return;
	}
	for (uint32_t k = 8; k < len; k++)
		if (rec[k] != (uint8_t)(i * 31 + k)) {
			s->bad++;
			return;
		}
	s->seen[i]++;
	s->delivered++;
}

static void enqueue(struct net *n, struct side *to, const uint8_t *d, uint32_t len, uint64_t due)
{
	struct inflight *f;

	cr_assert_lt(to->nq, QMAX);
	f = &to->q[to->nq++];
	f->due = due;
	f->len = len;
	f->data = malloc(len);
	memcpy(f->data, d, len);
	(void)n;
}

static void send_out(struct net *n, struct side *from, struct side *to)
{
	struct dp_link_out out[64];
	unsigned k;

	while ((k = dp_link_poll(from->l, n->now, out, 64))) {
		for (unsigned i = 0; i < k; i++) {
			uint64_t due = n->now + n->delay_us;

			n->sent++;
			if ((from == &n->a && n->a_to_b_cut) || rnd01(n) < n->loss) {
				n->dropped++;
				continue;
			}
			if (rnd01(n) < n->reorder)
				due += 1 + rnd(n) % (4 * n->delay_us + 200);
			enqueue(n, to, out[i].data, out[i].len, due);
			if (rnd01(n) < n->dup)
				enqueue(n, to, out[i].data, out[i].len, due + rnd(n) % 300);
		}
		if (k < 64)
			break;
	}
}

static void deliver(struct net *n, struct side *s)
{
	for (unsigned i = 0; i < s->nq;) {
		struct inflight *f = &s->q[i];
		struct dp_wire_msg m;

		if (f->due > n->now) {
			i++;
			continue;
		}
		cr_assert_eq(dp_wire_decode(f->data, f->len, &m), 0);
		cr_assert_eq(m.link, dp_link_local_id(s->l));
		if (m.type == DP_WIRE_DATA) {
			if (dp_link_data_check(s->l, n->now, m.seq) == DP_LINK_SEQ_NEW)
				dp_link_data(s->l, n->now, &m, on_record, s);
		} else {
			cr_assert_eq(dp_link_input(s->l, n->now, &m), 0);
		}
		free(f->data);
		*f = s->q[--s->nq];
	}
}

static void net_init(struct net *n, const struct dp_link_config *c, uint64_t seed)
{
	memset(n, 0, sizeof(*n));
	n->rng = seed | 1;
	n->now = 1000;
	n->delay_us = 50;
	n->budget_a.max = n->budget_b.max = 8u << 20;
	cr_assert_eq(dp_link_create(c, 11, 22, c->max_dgram, &n->budget_a, n->now, &n->a.l), 0);
	cr_assert_eq(dp_link_create(c, 22, 11, c->max_dgram, &n->budget_b, n->now, &n->b.l), 0);
	n->a.seen = calloc(NREC_MAX, sizeof(uint32_t));
	n->b.seen = calloc(NREC_MAX, sizeof(uint32_t));
}

static void net_fini(struct net *n)
{
	struct side *sides[] = { &n->a, &n->b };

	for (unsigned k = 0; k < 2; k++) {
		for (unsigned i = 0; i < sides[k]->nq; i++)
			free(sides[k]->q[i].data);
		dp_link_destroy(sides[k]->l);
		free(sides[k]->seen);
	}
	cr_assert_eq(n->budget_a.used, 0);
	cr_assert_eq(n->budget_b.used, 0);
}

/* One step of virtual time: both sides deliver what is due, grant credit, send. */
static void step(struct net *n, uint32_t us, bool grant)
{
	n->now += us;
	deliver(n, &n->b);
	deliver(n, &n->a);
	if (grant) {
		dp_link_grant(n->a.l, DP_LINK_RWND_DEFAULT);
		dp_link_grant(n->b.l, DP_LINK_RWND_DEFAULT);
	}
	send_out(n, &n->a, &n->b);
	send_out(n, &n->b, &n->a);
}

/* Sends nrec records from a to b through the simulated network; returns the steps taken. */
static unsigned transfer(struct net *n, unsigned nrec, unsigned max_steps)
{
	static uint8_t rec[(1u << 20) + 64];
	unsigned next = 0, steps = 0;

	for (; steps < max_steps; steps++) {
		while (next < nrec) {
			uint32_t len = rec_len(next);

			rec_fill(rec, next, len);
			if (dp_link_send_record(n->a.l, n->now, rec, len) != 1)
				break;
			next++;
		}
		dp_link_flush(n->a.l);
		step(n, 100, true);
		if (next == nrec && n->b.delivered >= nrec) {
			struct dp_link_stats st;

			dp_link_stats(n->a.l, &st);
			if (st.snd_una == st.snd_next)
				break;
		}
	}
	return steps;
}

static void check_exactly_once(struct net *n, unsigned nrec)
{
	cr_assert_eq(n->b.bad, 0);
	for (unsigned i = 0; i < nrec; i++)
		cr_assert_eq(n->b.seen[i], 1, "record %u delivered %u times", i, n->b.seen[i]);
	cr_assert_eq(n->b.delivered, nrec);
}

static void run_case_cfg(const struct dp_link_config *cfg, double loss, double dup, double reorder,
			 uint64_t seed)
{
	struct dp_link_config c = *cfg;
	struct dp_link_stats sa, sb;
	struct net *n = malloc(sizeof(*n));
	unsigned nrec = 3000, steps;

	net_init(n, &c, seed);
	n->loss = loss;
	n->dup = dup;
	n->reorder = reorder;
	steps = transfer(n, nrec, 200000);
	cr_assert_lt(steps, 200000, "transfer did not finish (loss %.2f)", loss);
	check_exactly_once(n, nrec);
	dp_link_stats(n->a.l, &sa);
	dp_link_stats(n->b.l, &sb);
	cr_assert_eq(sa.snd_una, sa.snd_next);
	cr_assert_eq(sa.inflight, 0);
	cr_assert_eq(sb.rcv_cum, sa.snd_next);
	cr_assert_eq(sa.records_tx, nrec);
	cr_assert_eq(sb.records_rx, nrec);
	if (loss > 0)
		cr_assert_gt(sa.tx_retrans, 0);
	else if (reorder == 0)
		cr_assert_eq(sa.tx_retrans, 0, "no loss, no reordering: nothing to resend");
	if (dup > 0)
		cr_assert_gt(sb.rx_dup, 0);
	cr_assert_geq(sa.cwnd, c.cwnd_min);
	cr_assert_eq(dp_link_state(n->a.l), DP_LINK_UP);
	net_fini(n);
	free(n);
}

static void run_case(double loss, double dup, double reorder, uint64_t seed)
{
	struct dp_link_config c;

	dp_link_config_default(&c);
	run_case_cfg(&c, loss, dup, reorder, seed);
}

Test(link, clean_network_delivers_everything_once)
{
	run_case(0, 0, 0, 1);
}

Test(link, ten_percent_loss)
{
	for (uint64_t seed = 1; seed <= 3; seed++)
		run_case(0.10, 0, 0, seed);
}

Test(link, thirty_percent_loss_still_completes)
{
	run_case(0.30, 0, 0, 7);
}

Test(link, duplication_and_reordering)
{
	for (uint64_t seed = 1; seed <= 3; seed++)
		run_case(0, 0.05, 0.05, seed);
	run_case(0.05, 0.05, 0.05, 9);
}

/* Small windows: the sequence numbers wrap the send window and the receive bitmap many times. */
Test(link, small_windows_wrap_many_times)
{
	struct dp_link_config c;

	dp_link_config_default(&c);
	c.window = 16;
	c.rwnd = 64;
	c.cwnd_init = 16;
	run_case_cfg(&c, 0, 0, 0, 11);
	run_case_cfg(&c, 0.1, 0.05, 0.05, 12);
}

/* The shape GSO needs: with pad, a burst is full-sized datagrams and one short last one (the
 * flush), each in the window slot after the last, so the sender can hand them to the kernel
 * as one run; without pad, nothing is padded. */
static void burst_shape(bool pad)
{
	struct dp_link_config c;
	struct dp_link_out out[64];
	struct net *n = malloc(sizeof(*n));
	uint8_t rec[150];
	unsigned k, full = 0;

	dp_link_config_default(&c);
	c.pad = pad;
	net_init(n, &c, 5);
	for (unsigned i = 0; i < 100; i++) {
		rec_fill(rec, i, sizeof(rec));
		cr_assert_eq(dp_link_send_record(n->a.l, n->now, rec, sizeof(rec)), 1);
	}
	dp_link_flush(n->a.l);
	k = dp_link_poll(n->a.l, n->now, out, 64);
	cr_assert_gt(k, 2);
	for (unsigned i = 0; i < k; i++) {
		struct dp_wire_msg m;

		cr_assert_eq(dp_wire_decode(out[i].data, out[i].len, &m), 0);
		cr_assert_eq(m.type, DP_WIRE_DATA);
		full += out[i].len == c.max_dgram;
		if (i)
			cr_assert_eq(out[i].data, out[i - 1].data + c.max_dgram,
				     "consecutive slots");
	}
	cr_assert_lt(out[k - 1].len, c.max_dgram, "the flushed datagram keeps its length");
	cr_assert_eq(full, pad ? k - 1 : 0);
	net_fini(n);
	free(n);
}

Test(link, padding_makes_bursts_of_equal_datagrams)
{
	burst_shape(true);
	burst_shape(false);
}

Test(link, padded_datagrams_survive_loss_and_reordering)
{
	struct dp_link_config c;

	dp_link_config_default(&c);
	c.pad = true;
	run_case_cfg(&c, 0.1, 0.05, 0.05, 17);
}

Test(link, sender_stops_at_the_advertised_limit)
{
	struct dp_link_config c;
	struct dp_link_stats st;
	struct net *n = malloc(sizeof(*n));
	uint8_t rec[300];
	unsigned queued = 0;

	dp_link_config_default(&c);
	net_init(n, &c, 3);
	/* no credit granted: only the protocol's initial limit of 64 datagrams */
	for (unsigned round = 0; round < 200; round++) {
		for (unsigned i = 0; i < 50; i++) {
			rec_fill(rec, queued % NREC_MAX, sizeof(rec));
			if (dp_link_send_record(n->a.l, n->now, rec, sizeof(rec)) != 1)
				break;
			queued++;
		}
		dp_link_flush(n->a.l);
		step(n, 100, false);
	}
	dp_link_stats(n->a.l, &st);
	cr_assert_eq(st.snd_next, 64, "sent %lu", (unsigned long)st.snd_next);
	cr_assert_eq(st.peer_limit, 64);
	cr_assert_eq(dp_link_send_room(n->a.l), 0);
	dp_link_stats(n->b.l, &st);
	cr_assert_eq(st.rcv_cum, 64);
	cr_assert_eq(st.refused_credit, 0);
	cr_assert_eq(dp_link_promised(n->b.l), 0);

	/* a grant opens the window again, and the receiver says so without waiting for data */
	dp_link_grant(n->b.l, 100);
	cr_assert_eq(dp_link_promised(n->b.l), 100);
	dp_link_grant(n->b.l, 10); /* a smaller grant cannot take back what was advertised */
	cr_assert_eq(dp_link_promised(n->b.l), 100);
	step(n, 100, false);
	step(n, 100, false);
	cr_assert_gt(dp_link_send_room(n->a.l), 0);
	net_fini(n);
	free(n);
}

Test(link, data_past_the_limit_is_refused_and_counted)
{
	struct dp_link_config c;
	struct dp_link_budget b = { .max = 1 << 20 };
	struct dp_link *l;
	struct dp_link_stats st;

	dp_link_config_default(&c);
	cr_assert_eq(dp_link_create(&c, 1, 2, 1472, &b, 0, &l), 0);
	cr_assert_eq(dp_link_data_check(l, 0, 63), DP_LINK_SEQ_NEW);
	cr_assert_eq(dp_link_data_check(l, 0, 64), DP_LINK_SEQ_OUTSIDE);
	cr_assert_eq(dp_link_data_check(l, 0, UINT64_MAX), DP_LINK_SEQ_OUTSIDE);
	dp_link_stats(l, &st);
	cr_assert_eq(st.refused_credit, 2);
	dp_link_destroy(l);
}

Test(link, ack_of_what_was_never_sent_closes_the_link)
{
	struct dp_link_config c;
	struct dp_link_budget b = { .max = 1 << 20 };
	struct dp_link *l;
	struct dp_wire_msg m = { .type = DP_WIRE_ACK, .link = 1 };
	struct dp_link_out out[4];
	struct dp_wire_msg closed;

	dp_link_config_default(&c);
	cr_assert_eq(dp_link_create(&c, 1, 2, 1472, &b, 0, &l), 0);
	m.u.ack.cum = 5;
	m.u.ack.limit = 100;
	cr_assert_eq(dp_link_input(l, 10, &m), PG_E_WIRE_FIELD);
	cr_assert_eq(dp_link_poll(l, 20, out, 4), 1);
	cr_assert_eq(dp_wire_decode(out[0].data, out[0].len, &closed), 0);
	cr_assert_eq(closed.type, DP_WIRE_CLOSE);
	cr_assert_eq(closed.u.reason, DP_CLOSE_PROTOCOL);
	cr_assert_eq(dp_link_state(l), DP_LINK_CLOSED);
	cr_assert_eq(dp_link_poll(l, 30, out, 4), 0);
	dp_link_destroy(l);
}

Test(link, pings_keep_a_quiet_link_alive_and_silence_kills_it)
{
	struct dp_link_config c;
	struct net *n = malloc(sizeof(*n));
	struct dp_link_stats st;

	dp_link_config_default(&c);
	net_init(n, &c, 5);
	for (unsigned i = 0; i < 300; i++) /* 30 s of virtual time, no data */
		step(n, 100000, true);
	cr_assert_eq(dp_link_state(n->a.l), DP_LINK_UP);
	cr_assert_eq(dp_link_state(n->b.l), DP_LINK_UP);
	dp_link_stats(n->a.l, &st);
	cr_assert_geq(st.tx_pings, 10);
	cr_assert_geq(st.rx_pings, 10);

	n->a_to_b_cut = true; /* b hears nothing more */
	for (unsigned i = 0; i < 105; i++)
		step(n, 100000, true);
	cr_assert_eq(dp_link_state(n->b.l), DP_LINK_DEAD);
	cr_assert_eq(dp_link_deadline(n->b.l), UINT64_MAX);
	net_fini(n);
	free(n);
}

Test(link, close_reaches_the_peer)
{
	struct dp_link_config c;
	struct net *n = malloc(sizeof(*n));
	struct dp_link_stats st;

	dp_link_config_default(&c);
	net_init(n, &c, 6);
	dp_link_close(n->a.l, DP_CLOSE_BY_PEER);
	step(n, 100, true);
	step(n, 100, true);
	cr_assert_eq(dp_link_state(n->a.l), DP_LINK_CLOSED);
	cr_assert_eq(dp_link_state(n->b.l), DP_LINK_CLOSED);
	dp_link_stats(n->b.l, &st);
	cr_assert(st.closed_by_peer);
	cr_assert_eq(st.close_reason, DP_CLOSE_BY_PEER);
	net_fini(n);
	free(n);
}

/* A DATA datagram carrying one fragment of message msg. */
static uint32_t frag_dgram(uint8_t *buf, uint64_t seq, uint64_t msg, const uint8_t *rec,
			   uint32_t total, uint32_t off, uint32_t cap)
{
	struct dp_wire_data w;

	dp_wire_data_begin(&w, buf, cap, 1, seq);
	dp_wire_data_fragment(&w, msg, rec, total, off);
	return dp_wire_data_end(&w, 0);
}

static void nop_record(void *ctx, const uint8_t *rec, uint32_t len)
{
	(void)rec;
	(*(uint64_t *)ctx) += len;
}

Test(link, partial_records_are_freed_after_the_timeout)
{
	static uint8_t rec[100000], d[1472];
	struct dp_link_config c;
	struct dp_link_budget b = { .max = 150000 };
	struct dp_link *l;
	struct dp_link_stats st;
	struct dp_wire_msg m;
	uint64_t got = 0;
	uint32_t len;

	dp_link_config_default(&c);
	c.reasm_timeout_us = 2000000;
	cr_assert_eq(dp_link_create(&c, 1, 2, 1472, &b, 0, &l), 0);
	dp_link_grant(l, 4096);
	len = frag_dgram(d, 0, 1, rec, sizeof(rec), 0, sizeof(d));
	cr_assert_eq(dp_wire_decode(d, len, &m), 0);
	cr_assert_eq(dp_link_data_check(l, 10, 0), DP_LINK_SEQ_NEW);
	cr_assert_eq(dp_link_data(l, 10, &m, nop_record, &got), 0);
	cr_assert_eq(b.used, sizeof(rec));

	/* a second message does not fit the budget: refused, not taken, not acknowledged */
	len = frag_dgram(d, 1, 2, rec, sizeof(rec), 0, sizeof(d));
	cr_assert_eq(dp_wire_decode(d, len, &m), 0);
	cr_assert_eq(dp_link_data_check(l, 20, 1), DP_LINK_SEQ_NEW);
	cr_assert_eq(dp_link_data(l, 20, &m, nop_record, &got), PG_E_BUSY);
	cr_assert_eq(dp_link_data_check(l, 20, 1), DP_LINK_SEQ_NEW);

	cr_assert_leq(dp_link_deadline(l), 10 + 2000000);
	{
		struct dp_link_out out[8];

		dp_link_poll(l, 10 + 2000000, out, 8);
	}
	cr_assert_eq(b.used, 0);
	dp_link_stats(l, &st);
	cr_assert_eq(st.reasm_timeout, 1);
	cr_assert_eq(st.reasm_refused, 1);
	/* now the second one is admitted */
	cr_assert_eq(dp_link_data(l, 2000020, &m, nop_record, &got), 0);
	cr_assert_eq(b.used, sizeof(rec));
	cr_assert_eq(got, 0);
	dp_link_destroy(l);
	cr_assert_eq(b.used, 0);
}

Test(link, contradicting_fragment_drops_its_message)
{
	static uint8_t rec[5000], d[1472];
	struct dp_link_config c;
	struct dp_link_budget b = { .max = 1 << 20 };
	struct dp_link *l;
	struct dp_link_stats st;
	struct dp_wire_msg m;
	uint64_t got = 0;
	uint32_t len;

	dp_link_config_default(&c);
	cr_assert_eq(dp_link_create(&c, 1, 2, 1472, &b, 0, &l), 0);
	dp_link_grant(l, 4096);
	len = frag_dgram(d, 0, 9, rec, sizeof(rec), 0, sizeof(d));
	dp_wire_decode(d, len, &m);
	dp_link_data_check(l, 1, 0);
	cr_assert_eq(dp_link_data(l, 1, &m, nop_record, &got), 0);
	len = frag_dgram(d, 1, 9, rec, sizeof(rec) - 1, 2000, sizeof(d)); /* another total */
	dp_wire_decode(d, len, &m);
	dp_link_data_check(l, 1, 1);
	cr_assert_eq(dp_link_data(l, 1, &m, nop_record, &got), 0);
	dp_link_stats(l, &st);
	cr_assert_eq(st.reasm_bad, 1);
	cr_assert_eq(b.used, 0);
	cr_assert_eq(got, 0);
	/* a fragment of a record over max_record is dropped, never allocated */
	c.max_record = 4000;
	dp_link_destroy(l);
	cr_assert_eq(dp_link_create(&c, 1, 2, 1472, &b, 0, &l), 0);
	dp_link_grant(l, 4096);
	len = frag_dgram(d, 0, 9, rec, sizeof(rec), 0, sizeof(d));
	dp_wire_decode(d, len, &m);
	dp_link_data_check(l, 1, 0);
	cr_assert_eq(dp_link_data(l, 1, &m, nop_record, &got), 0);
	dp_link_stats(l, &st);
	cr_assert_eq(st.reasm_bad, 1);
	cr_assert_eq(b.used, 0);
	dp_link_destroy(l);
}

Test(link, records_over_the_bound_are_refused_by_the_sender)
{
	struct dp_link_config c;
	struct dp_link_budget b = { .max = 1 << 20 };
	struct dp_link *l;
	static uint8_t rec[5000];

	dp_link_config_default(&c);
	c.max_record = 4000;
	cr_assert_eq(dp_link_create(&c, 1, 2, 1472, &b, 0, &l), 0);
	cr_assert_eq(dp_link_send_record(l, 0, rec, sizeof(rec)), -EMSGSIZE);
	cr_assert_eq(dp_link_send_record(l, 0, rec, 0), -EMSGSIZE);
	cr_assert_eq(dp_link_send_record(l, 0, rec, 4000), 1);
	dp_link_destroy(l);
}

Test(link, config_checked)
{
	struct dp_link_config c;
	struct dp_link_budget b = { .max = 1 };
	struct dp_link *l;

	dp_link_config_default(&c);
	cr_assert_eq(dp_link_config_check(&c), 0);
	c.window = 1000;
	cr_assert_eq(dp_link_config_check(&c), -EINVAL);
	dp_link_config_default(&c);
	c.dead_us = c.ping_us;
	cr_assert_eq(dp_link_config_check(&c), -EINVAL);
	dp_link_config_default(&c);
	c.max_dgram = 100;
	cr_assert_eq(dp_link_config_check(&c), -EINVAL);
	dp_link_config_default(&c);
	cr_assert_eq(dp_link_create(&c, 0, 2, 1472, &b, 0, &l), -EINVAL);
	cr_assert_eq(dp_link_create(&c, 1, 2, 100, &b, 0, &l), -EINVAL);
	cr_assert_eq(dp_link_create(&c, 1, 2, 1472, NULL, 0, &l), -EINVAL);
}
