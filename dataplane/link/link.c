/*
 * link.c - one link's reliability, flow and congestion control (link.h).
 *
 * Send side. Sequence numbers are assigned when a DATA datagram is opened in the window:
 * [snd_una, snd_sent) were transmitted at least once, [snd_sent, snd_next) wait for their
 * first transmission (the last of them may still be filling). Each slot is FREE, UNSENT, SENT
 * (in flight), LOST (waiting to be sent again) or ACKED; snd_una only passes ACKED slots,
 * which become FREE. inflight counts SENT slots, lost counts LOST ones.
 *
 * Receive side. One bit per sequence number over [rcv_cum, rcv_cum + rwnd); a bit is cleared
 * as rcv_cum passes it, so the position is clean when rcv_cum + rwnd reaches it again. Nothing
 * at or past rcv_limit is ever taken, and rcv_limit <= rcv_cum + rwnd when it is set, so
 * every bit looked at belongs to the current span.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "link.h"
#include "pg_assert.h"
#include "pg_error.h"

enum {
	LIMIT_INIT = 64,      /* what a peer may send before our first ack: the protocol's */
	PKT_THRESH = 3,	      /* RFC 9002 kPacketThreshold */
	GRANULARITY_US = 200, /* timer granularity (loopback round trips are tens of us) */
	CTL_LEN = DP_WIRE_HDR_LEN + 22 + DP_WIRE_SACK_MAX * 8,
};

enum slot_state { S_FREE = 0, S_UNSENT, S_SENT, S_LOST, S_ACKED };

struct slot {
	uint64_t sent_us;
	uint32_t len;
	uint8_t state;
	uint8_t times; /* transmissions, saturating */
};

struct reasm {
	uint8_t *buf; /* NULL: free */
	uint64_t msg, start_us;
	uint32_t total, got;
};

struct dp_link {
	struct dp_link_config c;
	struct dp_link_budget *budget;
	uint32_t local, peer, dgram;
	enum dp_link_state state;
	bool close_pending;

	/* send */
	uint8_t *win;
	struct slot *slots;
	uint32_t wmask;
	uint64_t snd_next, snd_sent, snd_una, peer_limit, largest_acked;
	bool any_acked;
	uint32_t inflight, lost;
	bool cur_open;
	struct dp_wire_data cur;
	bool fragging;
	uint64_t frag_msg, msg_next;
	uint32_t frag_off, frag_len;

	/* congestion and round trip */
	uint32_t cwnd, ssthresh, cwnd_acc;
	uint64_t recovery_start; /* datagrams sent after it count for congestion */
	bool recovered;		 /* recovery_start was set */
	uint32_t srtt, rttvar, latest_rtt, min_rtt;
	bool have_rtt;
	uint64_t last_sent, loss_time;
	unsigned pto_count;

	/* receive */
	uint64_t *rbits;
	uint32_t rmask;
	uint64_t rcv_cum, rcv_max, rcv_limit, limit_sent;
	uint32_t credit;
	uint32_t ack_pending;
	uint64_t ack_first;
	bool ack_now;
	struct reasm rs[DP_LINK_REASM_MSGS];

	/* liveness */
	uint64_t last_rx, last_ping;
	uint64_t ping_token, pong_token;
	bool pong_due;

	uint8_t ctl_ack[CTL_LEN], ctl_ping[DP_WIRE_HDR_LEN + 8], ctl_pong[DP_WIRE_HDR_LEN + 8],
	    ctl_close[DP_WIRE_HDR_LEN + 4];
	struct dp_link_stats st;
};

static bool pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

void dp_link_config_default(struct dp_link_config *c)
{
	*c = (struct dp_link_config){
		.max_dgram = DP_WIRE_DGRAM_DEFAULT,
		.window = DP_LINK_WINDOW_DEFAULT,
		.rwnd = DP_LINK_RWND_DEFAULT,
		.ack_delay_us = DP_LINK_ACK_DELAY_US,
		.ack_every = DP_LINK_ACK_EVERY,
		.ping_us = DP_LINK_PING_US,
		.dead_us = DP_LINK_DEAD_US,
		.cwnd_min = DP_LINK_CWND_MIN,
		.cwnd_init = DP_LINK_CWND_INIT,
		.max_record = 64u << 20,
		.reasm_timeout_us = DP_LINK_REASM_TIMEOUT_US,
	};
}

int dp_link_config_check(const struct dp_link_config *c)
{
	if (c->max_dgram < DP_WIRE_DGRAM_MIN || c->max_dgram > DP_WIRE_DGRAM_MAX)
		return -EINVAL;
	if (!pow2(c->window) || c->window < 16 || c->window > DP_LINK_WINDOW_MAX)
		return -EINVAL;
	if (!pow2(c->rwnd) || c->rwnd < 64 || c->rwnd > DP_LINK_RWND_MAX)
		return -EINVAL;
	if (!c->ack_every || !c->ack_delay_us || !c->ping_us || c->dead_us <= c->ping_us)
		return -EINVAL;
	if (!c->cwnd_min || c->cwnd_init < c->cwnd_min || c->cwnd_init > c->window)
		return -EINVAL;
	if (!c->max_record || !c->reasm_timeout_us)
		return -EINVAL;
	return 0;
}

int dp_link_create(const struct dp_link_config *c, uint32_t local_id, uint32_t peer_id,
		   uint32_t peer_max_dgram, struct dp_link_budget *budget, uint64_t now,
		   struct dp_link **out)
{
	struct dp_link *l;

	if (dp_link_config_check(c) || !local_id || !peer_id || !budget ||
	    peer_max_dgram < DP_WIRE_DGRAM_MIN || peer_max_dgram > DP_WIRE_DGRAM_MAX)
		return -EINVAL;
	if (!(l = calloc(1, sizeof(*l))))
		return -ENOMEM;
	l->c = *c;
	l->budget = budget;
	l->local = local_id;
	l->peer = peer_id;
	l->dgram = c->max_dgram < peer_max_dgram ? c->max_dgram : peer_max_dgram;
	l->state = DP_LINK_UP;
	l->wmask = c->window - 1;
	l->rmask = c->rwnd - 1;
	l->win = malloc((size_t)c->window * l->dgram);
	l->slots = calloc(c->window, sizeof(*l->slots));
	l->rbits = calloc(c->rwnd / 64, sizeof(uint64_t));
	if (!l->win || !l->slots || !l->rbits) {
		dp_link_destroy(l);
		return -ENOMEM;
	}
	l->peer_limit = LIMIT_INIT;
	l->rcv_limit = l->limit_sent = LIMIT_INIT;
	l->cwnd = c->cwnd_init;
	l->ssthresh = UINT32_MAX;
	l->srtt = DP_LINK_RTT_INIT_US;
	l->rttvar = DP_LINK_RTT_INIT_US / 2;
	l->last_rx = l->last_ping = l->last_sent = now;
	*out = l;
	return 0;
}

static void reasm_free(struct dp_link *l, struct reasm *r)
{
	if (!r->buf)
		return;
	free(r->buf);
	r->buf = NULL;
	l->budget->used -= r->total;
}

/* The link ends: records it was reassembling will never complete; freed now and counted as
 * timed out (doc/flood.md: "whose link dies, is freed and counted"). */
static void reasm_end(struct dp_link *l)
{
	for (unsigned i = 0; i < DP_LINK_REASM_MSGS; i++)
		if (l->rs[i].buf) {
			reasm_free(l, &l->rs[i]);
			l->st.reasm_timeout++;
		}
}

void dp_link_destroy(struct dp_link *l)
{
	if (!l)
		return;
	for (unsigned i = 0; i < DP_LINK_REASM_MSGS; i++)
		reasm_free(l, &l->rs[i]);
	free(l->win);
	free(l->slots);
	free(l->rbits);
	free(l);
}

enum dp_link_state dp_link_state(const struct dp_link *l)
{
	return l->state;
}

uint32_t dp_link_local_id(const struct dp_link *l)
{
	return l->local;
}

uint32_t dp_link_peer_id(const struct dp_link *l)
{
	return l->peer;
}

uint32_t dp_link_dgram(const struct dp_link *l)
{
	return l->dgram;
}

void dp_link_stats(const struct dp_link *l, struct dp_link_stats *st)
{
	*st = l->st;
	st->cwnd = l->cwnd;
	st->inflight = l->inflight;
	st->srtt_us = l->srtt;
	st->rttvar_us = l->rttvar;
	st->min_rtt_us = l->min_rtt;
	st->snd_next = l->snd_next;
	st->snd_una = l->snd_una;
	st->peer_limit = l->peer_limit;
	st->rcv_cum = l->rcv_cum;
	st->rcv_limit = l->rcv_limit;
}

static struct slot *slot_of(struct dp_link *l, uint64_t seq)
{
	return &l->slots[seq & l->wmask];
}

static uint8_t *slot_buf(struct dp_link *l, uint64_t seq)
{
	return l->win + (size_t)(seq & l->wmask) * l->dgram;
}

/* ---- receive ------------------------------------------------------------------------- */

static bool rbit(const struct dp_link *l, uint64_t seq)
{
	uint32_t i = (uint32_t)(seq & l->rmask);

	return l->rbits[i / 64] >> (i % 64) & 1;
}

static void rbit_set(struct dp_link *l, uint64_t seq, bool on)
{
	uint32_t i = (uint32_t)(seq & l->rmask);
	uint64_t m = 1ull << (i % 64);

	l->rbits[i / 64] = on ? l->rbits[i / 64] | m : l->rbits[i / 64] & ~m;
}

/* The limit slides with rcv_cum under the credit granted; it never moves back. */
static void limit_update(struct dp_link *l)
{
	uint32_t give = l->credit < l->c.rwnd ? l->credit : l->c.rwnd;
	uint64_t lim = l->rcv_cum + give;

	if (lim > l->rcv_limit)
		l->rcv_limit = lim;
	/* a window update worth telling at once: a quarter of the window, or out of a stall */
	if (l->rcv_limit >= l->limit_sent + l->c.rwnd / 4 ||
	    (l->limit_sent <= l->rcv_cum && l->rcv_limit > l->limit_sent))
		l->ack_now = true;
}

void dp_link_grant(struct dp_link *l, uint32_t dgrams)
{
	l->credit = dgrams;
	limit_update(l);
}

uint64_t dp_link_promised(const struct dp_link *l)
{
	return l->rcv_limit - l->rcv_cum;
}

enum dp_link_seq dp_link_data_check(struct dp_link *l, uint64_t now, uint64_t seq)
{
	l->last_rx = now;
	if (seq < l->rcv_cum || (seq < l->rcv_limit && rbit(l, seq))) {
		l->st.rx_dup++;
		l->ack_now = true; /* our ack may have been lost */
		return DP_LINK_SEQ_DUP;
	}
	if (seq >= l->rcv_limit) {
		l->st.rx_outside++;
		l->st.refused_credit++;
		return DP_LINK_SEQ_OUTSIDE;
	}
	return DP_LINK_SEQ_NEW;
}

static struct reasm *reasm_find(struct dp_link *l, uint64_t msg)
{
	for (unsigned i = 0; i < DP_LINK_REASM_MSGS; i++)
		if (l->rs[i].buf && l->rs[i].msg == msg)
			return &l->rs[i];
	return NULL;
}

/* Can every fragment of this datagram find its message, or a free one within budget? */
static bool reasm_admit(struct dp_link *l, const struct dp_wire_msg *m)
{
	unsigned free_slots = 0, starts = 0;
	uint64_t bytes = 0;
	struct dp_wire_chunk ch;
	uint32_t pos = 0;

	for (unsigned i = 0; i < DP_LINK_REASM_MSGS; i++)
		free_slots += !l->rs[i].buf;
	while (dp_wire_chunk_next(m, &pos, &ch))
		if (ch.kind == DP_CHUNK_FRAGMENT && ch.total <= l->c.max_record &&
		    !reasm_find(l, ch.msg)) {
			starts++;
			bytes += ch.total;
		}
	return starts <= free_slots && l->budget->used + bytes <= l->budget->max;
}

static void fragment_take(struct dp_link *l, uint64_t now, const struct dp_wire_chunk *ch,
			  dp_link_record_fn fn, void *ctx)
{
	struct reasm *r = reasm_find(l, ch->msg);

	l->st.fragments_rx++;
	if (ch->total > l->c.max_record) {
		l->st.reasm_bad++;
		return;
	}
	if (!r) {
		for (unsigned i = 0; i < DP_LINK_REASM_MSGS && !r; i++)
			if (!l->rs[i].buf)
				r = &l->rs[i];
		PG_ASSERT(r); /* reasm_admit() saw to it */
		if (!(r->buf = calloc(1, ch->total))) {
			l->st.reasm_refused++;
			return;
		}
		r->msg = ch->msg;
		r->total = ch->total;
		r->got = 0;
		r->start_us = now;
		l->budget->used += ch->total;
	}
	if (r->total != ch->total) {
		l->st.reasm_bad++;
		reasm_free(l, r);
		return;
	}
	/* the decoder checked off + len <= total. Overlapping pieces from a broken peer can
	 * only complete a record with zero bytes in it, which the record decoder judges. */
	memcpy(r->buf + ch->off, ch->bytes, ch->len);
	r->got += ch->len;
	if (r->got >= r->total) {
		l->st.reasm_done++;
		l->st.records_rx++;
		fn(ctx, r->buf, r->total);
		reasm_free(l, r);
	}
}

int dp_link_data(struct dp_link *l, uint64_t now, const struct dp_wire_msg *m, dp_link_record_fn fn,
		 void *ctx)
{
	struct dp_wire_chunk ch;
	uint32_t pos = 0;
	uint64_t seq = m->seq;

	PG_ASSERT(m->type == DP_WIRE_DATA && seq >= l->rcv_cum && seq < l->rcv_limit &&
		  !rbit(l, seq));
	if (m->u.data.fragments && !reasm_admit(l, m)) {
		l->st.reasm_refused++;
		return PG_E_BUSY;
	}
	rbit_set(l, seq, true);
	if (seq != l->rcv_cum)
		l->ack_now = true; /* out of order: tell the sender at once (loss detection) */
	while (l->rcv_cum < l->rcv_limit && rbit(l, l->rcv_cum)) {
		rbit_set(l, l->rcv_cum, false);
		l->rcv_cum++;
	}
	if (seq + 1 > l->rcv_max)
		l->rcv_max = seq + 1;
	if (!l->ack_pending++)
		l->ack_first = now;
	limit_update(l);
	l->st.rx_data++;
	l->st.rx_bytes += m->u.data.len + DP_WIRE_HDR_LEN;

	while (dp_wire_chunk_next(m, &pos, &ch)) {
		if (ch.kind == DP_CHUNK_RECORD) {
			l->st.records_rx++;
			fn(ctx, ch.bytes, ch.len);
		} else {
			fragment_take(l, now, &ch, fn, ctx);
		}
	}
	return 0;
}

/* ---- acknowledgements we receive ------------------------------------------------------ */

static void congestion_event(struct dp_link *l, uint64_t now, uint64_t sent_us)
{
	if (l->recovered && sent_us <= l->recovery_start)
		return; /* one reduction per round trip */
	l->recovered = true;
	l->recovery_start = now;
	l->ssthresh = l->cwnd / 2 > l->c.cwnd_min ? l->cwnd / 2 : l->c.cwnd_min;
	l->cwnd = l->ssthresh;
	l->cwnd_acc = 0;
	l->st.congestion_events++;
}

static void mark_lost(struct dp_link *l, struct slot *s)
{
	s->state = S_LOST;
	l->inflight--;
	l->lost++;
}

static uint32_t loss_delay(const struct dp_link *l)
{
	uint32_t r = l->srtt > l->latest_rtt ? l->srtt : l->latest_rtt;

	r += r / 8;
	return r > GRANULARITY_US ? r : GRANULARITY_US;
}

/* RFC 9002 6.1: what was sent before the largest acknowledged is lost after three later
 * datagrams or 9/8 of a round trip; loss_time is when the next one would be. */
static void detect_lost(struct dp_link *l, uint64_t now)
{
	uint64_t end = l->largest_acked < l->snd_sent ? l->largest_acked : l->snd_sent;
	uint32_t delay = loss_delay(l);

	l->loss_time = 0;
	if (!l->any_acked)
		return;
	for (uint64_t q = l->snd_una; q < end; q++) {
		struct slot *s = slot_of(l, q);

		if (s->state != S_SENT)
			continue;
		if (l->largest_acked >= q + PKT_THRESH || s->sent_us + delay <= now) {
			if (l->largest_acked >= q + PKT_THRESH)
				l->st.lost_thresh++;
			else
				l->st.lost_time++;
			mark_lost(l, s);
			congestion_event(l, now, s->sent_us);
		} else if (!l->loss_time || s->sent_us + delay < l->loss_time) {
			l->loss_time = s->sent_us + delay;
		}
	}
}

static void rtt_sample(struct dp_link *l, uint32_t sample, uint32_t ack_delay)
{
	if (!l->have_rtt || sample < l->min_rtt)
		l->min_rtt = sample;
	if (ack_delay > l->c.ack_delay_us)
		ack_delay = l->c.ack_delay_us;
	if (sample >= l->min_rtt + ack_delay)
		sample -= ack_delay;
	l->latest_rtt = sample;
	if (!l->have_rtt) {
		l->have_rtt = true;
		l->srtt = sample;
		l->rttvar = sample / 2;
		return;
	}
	uint32_t dev = l->srtt > sample ? l->srtt - sample : sample - l->srtt;

	l->rttvar = (3 * l->rttvar + dev) / 4;
	l->srtt = (7 * l->srtt + sample) / 8;
}

/* Marks one sequence number acknowledged; returns true when it was in flight. */
static bool ack_one(struct dp_link *l, uint64_t q, uint64_t *largest, uint64_t *largest_sent,
		    bool *once)
{
	struct slot *s = slot_of(l, q);

	if (s->state == S_LOST) {
		l->lost--;
		l->st.spurious++;
		s->state = S_ACKED;
		return false;
	}
	if (s->state != S_SENT)
		return false;
	s->state = S_ACKED;
	l->inflight--;
	if (q >= *largest) {
		*largest = q;
		*largest_sent = s->sent_us;
		*once = s->times == 1;
	}
	if (!l->recovered || s->sent_us > l->recovery_start) {
		if (l->cwnd < l->ssthresh)
			l->cwnd++;
		else if (++l->cwnd_acc >= l->cwnd) {
			l->cwnd++;
			l->cwnd_acc = 0;
		}
		if (l->cwnd > l->c.window)
			l->cwnd = l->c.window;
	}
	return true;
}

static int ack_input(struct dp_link *l, uint64_t now, const struct dp_wire_ack *a)
{
	uint64_t top = a->cum, largest = 0, largest_sent = 0, pos;
	unsigned newly = 0;
	bool once = false;

	for (unsigned i = 0; i < a->n; i++)
		top += (uint64_t)a->r[i].gap + a->r[i].len;
	if (a->cum > l->snd_sent || top > l->snd_sent) {
		dp_link_close(l, DP_CLOSE_PROTOCOL);
		return PG_E_WIRE_FIELD;
	}
	l->st.rx_acks++;
	if (a->limit > l->peer_limit)
		l->peer_limit = a->limit;
	for (uint64_t q = l->snd_una; q < a->cum; q++)
		newly += ack_one(l, q, &largest, &largest_sent, &once);
	pos = a->cum;
	for (unsigned i = 0; i < a->n; i++) {
		uint64_t from = pos + a->r[i].gap, to = from + a->r[i].len;

		for (uint64_t q = from > l->snd_una ? from : l->snd_una; q < to; q++)
			newly += ack_one(l, q, &largest, &largest_sent, &once);
		pos = to;
	}
	if (newly) {
		if (!l->any_acked || largest > l->largest_acked) {
			if (once)
				rtt_sample(l, (uint32_t)(now - largest_sent), a->delay_us);
			l->largest_acked = largest;
		}
		l->any_acked = true;
		l->pto_count = 0;
	}
	while (l->snd_una < l->snd_sent && slot_of(l, l->snd_una)->state == S_ACKED)
		slot_of(l, l->snd_una++)->state = S_FREE;
	detect_lost(l, now);
	return 0;
}

int dp_link_input(struct dp_link *l, uint64_t now, const struct dp_wire_msg *m)
{
	l->last_rx = now;
	switch (m->type) {
	case DP_WIRE_ACK:
		return ack_input(l, now, &m->u.ack);
	case DP_WIRE_PING:
		l->st.rx_pings++;
		l->pong_due = true;
		l->pong_token = m->u.token;
		return 0;
	case DP_WIRE_PONG:
		return 0;
	case DP_WIRE_CLOSE:
		if (l->state == DP_LINK_UP) {
			l->state = DP_LINK_CLOSED;
			l->st.close_reason = m->u.reason;
			l->st.closed_by_peer = true;
			reasm_end(l);
		}
		return 0;
	default:
		return PG_E_WIRE_TYPE;
	}
}

/* ---- sending ------------------------------------------------------------------------- */

uint32_t dp_link_send_room(const struct dp_link *l)
{
	uint64_t used = l->snd_next - l->snd_una, queued = l->snd_next - l->snd_sent;
	uint64_t room;

	if (l->state != DP_LINK_UP || used >= l->c.window || l->snd_next >= l->peer_limit)
		return 0;
	room = l->c.window - used;
	if (l->peer_limit - l->snd_next < room)
		room = l->peer_limit - l->snd_next;
	if (l->inflight + l->lost + queued >= l->cwnd)
		return 0;
	if (l->cwnd - l->inflight - l->lost - queued < room)
		room = l->cwnd - l->inflight - l->lost - queued;
	return (uint32_t)room;
}

/* Closes the open DATA datagram; full: closed because the next chunk did not fit (padded when
 * the config says so, see dp_link_config.pad), not by a flush. */
static void seal(struct dp_link *l, bool full)
{
	if (!l->cur_open)
		return;
	slot_of(l, l->snd_next - 1)->len =
	    dp_wire_data_end(&l->cur, full && l->c.pad ? l->dgram : 0);
	l->cur_open = false;
}

static bool open_new(struct dp_link *l)
{
	uint64_t q = l->snd_next;
	struct slot *s;

	seal(l, true);
	if (!dp_link_send_room(l))
		return false;
	s = slot_of(l, q);
	PG_ASSERT(s->state == S_FREE);
	s->state = S_UNSENT;
	s->times = 0;
	dp_wire_data_begin(&l->cur, slot_buf(l, q), l->dgram, l->peer, q);
	l->snd_next++;
	l->cur_open = true;
	return true;
}

int dp_link_send_record(struct dp_link *l, uint64_t now, const uint8_t *rec, uint32_t len)
{
	(void)now;
	if (len > l->c.max_record || len == 0)
		return -EMSGSIZE;
	if (l->state != DP_LINK_UP)
		return 0;
	if (!l->fragging) {
		if (l->cur_open && dp_wire_data_fits(&l->cur, len))
			goto whole;
		if ((uint64_t)DP_WIRE_HDR_LEN + DP_WIRE_RECORD_HDR + len <= l->dgram) {
			if (!open_new(l))
				return 0;
			goto whole;
		}
		l->fragging = true;
		l->frag_msg = l->msg_next++;
		l->frag_off = 0;
		l->frag_len = len;
	}
	PG_ASSERT(len == l->frag_len);
	while (l->frag_off < len) {
		uint32_t n = 0;

		if (l->cur_open)
			n = dp_wire_data_fragment(&l->cur, l->frag_msg, rec, len, l->frag_off);
		if (!n) {
			if (!open_new(l))
				return 0;
			continue;
		}
		l->frag_off += n;
		l->st.fragments_tx++;
	}
	l->fragging = false;
	l->st.records_tx++;
	return 1;
whole:
	dp_wire_data_record(&l->cur, rec, len);
	l->st.records_tx++;
	return 1;
}

void dp_link_flush(struct dp_link *l)
{
	seal(l, false);
}

void dp_link_close(struct dp_link *l, uint32_t reason)
{
	if (l->state != DP_LINK_UP)
		return;
	l->close_pending = true;
	l->st.close_reason = reason;
}

static uint32_t pto_us(const struct dp_link *l)
{
	uint64_t v = (uint64_t)l->srtt +
		     (4 * l->rttvar > GRANULARITY_US ? 4 * l->rttvar : GRANULARITY_US) +
		     l->c.ack_delay_us;

	v <<= l->pto_count < 16 ? l->pto_count : 16;
	return v < DP_LINK_PTO_MAX_US ? (uint32_t)v : DP_LINK_PTO_MAX_US;
}

static bool ack_due(const struct dp_link *l, uint64_t now)
{
	return l->ack_now || (l->ack_pending && (l->ack_pending >= l->c.ack_every ||
						 now >= l->ack_first + l->c.ack_delay_us));
}

/* Builds our ACK: the cumulative point, the limit and up to DP_WIRE_SACK_MAX ranges. */
static uint32_t ack_build(struct dp_link *l, uint64_t now)
{
	struct dp_wire_ack a = { .cum = l->rcv_cum, .limit = l->rcv_limit };
	uint64_t q = l->rcv_cum, gap_start = q;

	a.delay_us = l->ack_pending ? (uint32_t)(now - l->ack_first) : 0;
	while (q < l->rcv_max && a.n < DP_WIRE_SACK_MAX) {
		uint64_t from;

		while (q < l->rcv_max && !rbit(l, q))
			q++;
		if (q >= l->rcv_max)
			break;
		from = q;
		while (q < l->rcv_max && rbit(l, q))
			q++;
		a.r[a.n].gap = (uint32_t)(from - gap_start);
		a.r[a.n].len = (uint32_t)(q - from);
		a.n++;
		gap_start = q;
	}
	l->ack_pending = 0;
	l->ack_now = false;
	l->limit_sent = l->rcv_limit;
	l->st.tx_acks++;
	return (uint32_t)dp_wire_ack(l->ctl_ack, sizeof(l->ctl_ack), l->peer, &a);
}

static void reasm_expire(struct dp_link *l, uint64_t now)
{
	for (unsigned i = 0; i < DP_LINK_REASM_MSGS; i++)
		if (l->rs[i].buf && now >= l->rs[i].start_us + l->c.reasm_timeout_us) {
			reasm_free(l, &l->rs[i]);
			l->st.reasm_timeout++;
		}
}

static void transmit(struct dp_link *l, uint64_t now, uint64_t q, struct dp_link_out *o)
{
	struct slot *s = slot_of(l, q);

	s->sent_us = now;
	if (s->times < UINT8_MAX)
		s->times++;
	s->state = S_SENT;
	l->inflight++;
	l->last_sent = now;
	o->data = slot_buf(l, q);
	o->len = s->len;
	l->st.tx_bytes += s->len;
}

unsigned dp_link_poll(struct dp_link *l, uint64_t now, struct dp_link_out *out, unsigned max)
{
	unsigned n = 0;
	bool probe = false;

	if (l->state != DP_LINK_UP || !max)
		return 0;
	if (l->close_pending) {
		l->state = DP_LINK_CLOSED;
		reasm_end(l);
		out[0].data = l->ctl_close;
		out[0].len = (uint32_t)dp_wire_close(l->ctl_close, sizeof(l->ctl_close), l->peer,
						     l->st.close_reason);
		return 1;
	}
	if (now >= l->last_rx + l->c.dead_us) {
		l->state = DP_LINK_DEAD;
		reasm_end(l);
		return 0;
	}
	reasm_expire(l, now);
	if (l->loss_time && now >= l->loss_time)
		detect_lost(l, now);
	if (l->inflight && now >= l->last_sent + pto_us(l)) {
		/* probe: send the oldest in flight again, without counting it as congestion */
		for (uint64_t q = l->snd_una; q < l->snd_sent; q++)
			if (slot_of(l, q)->state == S_SENT) {
				mark_lost(l, slot_of(l, q));
				break;
			}
		l->pto_count++;
		l->st.pto++;
		probe = true;
		l->last_sent = now;
	}

	if (l->pong_due && n < max) {
		l->pong_due = false;
		out[n].data = l->ctl_pong;
		out[n++].len = (uint32_t)dp_wire_ping(l->ctl_pong, sizeof(l->ctl_pong), l->peer,
						      DP_WIRE_PONG, l->pong_token);
	}
	if (now >= l->last_rx + l->c.ping_us && now >= l->last_ping + l->c.ping_us && n < max) {
		l->last_ping = now;
		l->st.tx_pings++;
		out[n].data = l->ctl_ping;
		out[n++].len = (uint32_t)dp_wire_ping(l->ctl_ping, sizeof(l->ctl_ping), l->peer,
						      DP_WIRE_PING, ++l->ping_token);
	}
	if (ack_due(l, now) && n < max) {
		out[n].data = l->ctl_ack;
		out[n++].len = ack_build(l, now);
	}
	/* retransmissions, then new datagrams, while the congestion window allows; a probe
	 * (pto) goes out even when the window is full */
	for (uint64_t q = l->snd_una; l->lost && q < l->snd_sent && n < max; q++) {
		if (slot_of(l, q)->state != S_LOST)
			continue;
		if (l->inflight >= l->cwnd && !probe)
			break;
		probe = false;
		l->lost--;
		l->st.tx_retrans++;
		transmit(l, now, q, &out[n++]);
	}
	while (l->snd_sent < l->snd_next - l->cur_open && l->inflight < l->cwnd && n < max) {
		l->st.tx_data++;
		transmit(l, now, l->snd_sent++, &out[n++]);
	}
	return n;
}

uint64_t dp_link_deadline(const struct dp_link *l)
{
	uint64_t t = UINT64_MAX;

#define SOONER(v)                                                                                  \
	do {                                                                                       \
		uint64_t v_ = (v);                                                                 \
		if (v_ < t)                                                                        \
			t = v_;                                                                    \
	} while (0)
	if (l->state != DP_LINK_UP)
		return UINT64_MAX;
	if (l->close_pending || l->pong_due || l->ack_now || (l->lost && l->inflight < l->cwnd) ||
	    (l->snd_sent < l->snd_next - l->cur_open && l->inflight < l->cwnd))
		return 0;
	SOONER(l->last_rx + l->c.dead_us);
	SOONER((l->last_rx > l->last_ping ? l->last_rx : l->last_ping) + l->c.ping_us);
	if (l->ack_pending)
		SOONER(l->ack_first + l->c.ack_delay_us);
	if (l->loss_time)
		SOONER(l->loss_time);
	if (l->inflight)
		SOONER(l->last_sent + pto_us(l));
	for (unsigned i = 0; i < DP_LINK_REASM_MSGS; i++)
		if (l->rs[i].buf)
			SOONER(l->rs[i].start_us + l->c.reasm_timeout_us);
#undef SOONER
	return t;
}
