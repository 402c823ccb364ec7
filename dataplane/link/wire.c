/*
 * wire.c - the datagram codec (wire.h).
 *
 * The decoder reads through a bounded cursor: each take checks the bytes left before reading,
 * so no length from the network is used before it was compared with what the datagram holds.
 */
#include <errno.h>
#include <string.h>

#include "pg_assert.h"
#include "pg_bytes.h"
#include "pg_error.h"
#include "wire.h"

/* ---- decoding ---------------------------------------------------------------------- */

struct rd {
	const uint8_t *p;
	size_t left;
};

static const uint8_t *take(struct rd *r, size_t n)
{
	const uint8_t *p = r->p;

	if (n > r->left)
		return NULL;
	r->p += n;
	r->left -= n;
	return p;
}

#define TAKE_INT(bits)                                                                             \
	static int take##bits(struct rd *r, uint##bits##_t *v)                                     \
	{                                                                                          \
		const uint8_t *p = take(r, (bits) / 8);                                            \
		if (!p)                                                                            \
			return PG_E_WIRE_LENGTH;                                                   \
		*v = load_le##bits(p);                                                             \
		return 0;                                                                          \
	}
TAKE_INT(16)
TAKE_INT(32)
TAKE_INT(64)
#undef TAKE_INT

static int take8(struct rd *r, uint8_t *v)
{
	const uint8_t *p = take(r, 1);

	if (!p)
		return PG_E_WIRE_LENGTH;
	*v = *p;
	return 0;
}

/* A string of u16 length, 1..max bytes. */
static int take_str(struct rd *r, unsigned max, const char **s, uint16_t *len)
{
	const uint8_t *p;
	int rc = take16(r, len);

	if (rc)
		return rc;
	if (*len == 0 || *len > max)
		return PG_E_WIRE_FIELD;
	if (!(p = take(r, *len)))
		return PG_E_WIRE_LENGTH;
	*s = (const char *)p;
	return 0;
}

static bool dgram_size_ok(uint32_t v)
{
	return v >= DP_WIRE_DGRAM_MIN && v <= DP_WIRE_DGRAM_MAX;
}

static int decode_hello(struct rd *r, struct dp_wire_hello *h)
{
	int rc;

	if ((rc = take32(r, &h->link)) || (rc = take32(r, &h->max_dgram)) ||
	    (rc = take_str(r, DP_WIRE_GRAPH_MAX, &h->graph, &h->graph_len)) ||
	    (rc = take_str(r, DP_WIRE_NODE_MAX, &h->node, &h->node_len)) ||
	    (rc = take8(r, &h->cookie_len)))
		return rc;
	if (h->link == 0 || !dgram_size_ok(h->max_dgram))
		return PG_E_WIRE_FIELD;
	if (h->cookie_len != 0 && h->cookie_len != DP_WIRE_COOKIE_LEN)
		return PG_E_WIRE_FIELD;
	h->cookie = take(r, h->cookie_len);
	return h->cookie ? 0 : PG_E_WIRE_LENGTH;
}

static int decode_welcome(struct rd *r, struct dp_wire_welcome *w)
{
	int rc;

	if ((rc = take32(r, &w->link)) || (rc = take32(r, &w->max_dgram)) ||
	    (rc = take_str(r, DP_WIRE_NODE_MAX, &w->node, &w->node_len)))
		return rc;
	return w->link && dgram_size_ok(w->max_dgram) ? 0 : PG_E_WIRE_FIELD;
}

static int decode_ack(struct rd *r, struct dp_wire_ack *a)
{
	uint64_t top;
	int rc;

	if ((rc = take64(r, &a->cum)) || (rc = take64(r, &a->limit)) ||
	    (rc = take32(r, &a->delay_us)) || (rc = take16(r, &a->n)))
		return rc;
	if (a->limit < a->cum || a->n > DP_WIRE_SACK_MAX)
		return PG_E_WIRE_FIELD;
	top = a->cum;
	for (unsigned i = 0; i < a->n; i++) {
		struct dp_wire_range *g = &a->r[i];

		if ((rc = take32(r, &g->gap)) || (rc = take32(r, &g->len)))
			return rc;
		if (g->gap == 0 || g->len == 0)
			return PG_E_WIRE_FIELD;
		/* both terms below 2^33: top + them cannot wrap before it passes limit */
		top += (uint64_t)g->gap + g->len;
		if (top > a->limit)
			return PG_E_WIRE_FIELD;
	}
	return 0;
}

/* Walks the chunks of a DATA body once, counting them. */
static int decode_data(struct rd *r, struct dp_wire_msg *m)
{
	m->u.data.body = r->p;
	m->u.data.len = (uint32_t)r->left;
	m->u.data.records = m->u.data.fragments = 0;
	while (r->left) {
		uint8_t kind = *take(r, 1);
		uint64_t msg;
		uint32_t len, total, off;
		int rc;

		if (kind == DP_CHUNK_PAD) {
			m->u.data.len -= (uint32_t)r->left + 1;
			r->left = 0;
			break;
		}
		if (kind == DP_CHUNK_RECORD) {
			if ((rc = take32(r, &len)))
				return rc;
			if (len == 0)
				return PG_E_WIRE_FIELD;
			if (!take(r, len))
				return PG_E_WIRE_LENGTH;
			m->u.data.records++;
			continue;
		}
		if (kind != DP_CHUNK_FRAGMENT)
			return PG_E_WIRE_TYPE;
		if ((rc = take64(r, &msg)) || (rc = take32(r, &total)) || (rc = take32(r, &off)) ||
		    (rc = take32(r, &len)))
			return rc;
		if (len == 0 || total == 0 || (uint64_t)off + len > total)
			return PG_E_WIRE_FIELD;
		if (!take(r, len))
			return PG_E_WIRE_LENGTH;
		m->u.data.fragments++;
	}
	return m->u.data.records + m->u.data.fragments ? 0 : PG_E_WIRE_FIELD;
}

int dp_wire_decode(const uint8_t *buf, size_t len, struct dp_wire_msg *m)
{
	struct rd r = { buf, len };
	const uint8_t *h = take(&r, DP_WIRE_HDR_LEN);
	bool wants_link, wants_zero_seq;
	int rc = 0;

	if (!h)
		return len && buf[0] != DP_WIRE_MAGIC ? PG_E_WIRE_MAGIC : PG_E_WIRE_LENGTH;
	if (h[0] != DP_WIRE_MAGIC)
		return PG_E_WIRE_MAGIC;
	if (h[1] != DP_WIRE_VERSION)
		return PG_E_WIRE_VERSION;
	if (h[2] == 0 || h[2] >= DP_WIRE_TYPES)
		return PG_E_WIRE_TYPE;
	if (h[3] != 0)
		return PG_E_WIRE_FLAGS;
	m->type = h[2];
	m->flags = h[3];
	m->link = load_le32(h + 4);
	m->seq = load_le64(h + 8);

	wants_link = m->type != DP_WIRE_HELLO && m->type != DP_WIRE_COOKIE;
	wants_zero_seq = m->type >= DP_WIRE_ACK;
	if ((m->link != 0) != wants_link || (wants_zero_seq && m->seq != 0))
		return PG_E_WIRE_FIELD;

	switch (m->type) {
	case DP_WIRE_HELLO:
		rc = decode_hello(&r, &m->u.hello);
		break;
	case DP_WIRE_COOKIE:
		m->u.cookie = take(&r, DP_WIRE_COOKIE_LEN);
		rc = m->u.cookie ? 0 : PG_E_WIRE_LENGTH;
		break;
	case DP_WIRE_WELCOME:
		rc = decode_welcome(&r, &m->u.welcome);
		break;
	case DP_WIRE_DATA:
		rc = decode_data(&r, m);
		break;
	case DP_WIRE_ACK:
		rc = decode_ack(&r, &m->u.ack);
		break;
	case DP_WIRE_PING:
	case DP_WIRE_PONG:
		rc = take64(&r, &m->u.token);
		break;
	case DP_WIRE_CLOSE:
		if (!(rc = take32(&r, &m->u.reason)) &&
		    (m->u.reason == 0 || m->u.reason > DP_CLOSE_REASON_MAX))
			rc = PG_E_WIRE_FIELD;
		break;
	}
	if (rc)
		return rc;
	return r.left ? PG_E_WIRE_LENGTH : 0;
}

int dp_wire_chunk_next(const struct dp_wire_msg *m, uint32_t *pos, struct dp_wire_chunk *c)
{
	const uint8_t *p = m->u.data.body + *pos;

	if (*pos >= m->u.data.len)
		return 0;
	c->kind = p[0];
	if (c->kind == DP_CHUNK_RECORD) {
		c->len = load_le32(p + 1);
		c->bytes = p + DP_WIRE_RECORD_HDR;
		c->msg = 0;
		c->total = c->len;
		c->off = 0;
		*pos += DP_WIRE_RECORD_HDR + c->len;
	} else {
		PG_ASSERT(c->kind == DP_CHUNK_FRAGMENT);
		c->msg = load_le64(p + 1);
		c->total = load_le32(p + 9);
		c->off = load_le32(p + 13);
		c->len = load_le32(p + 17);
		c->bytes = p + DP_WIRE_FRAG_HDR;
		*pos += DP_WIRE_FRAG_HDR + c->len;
	}
	return 1;
}

/* ---- encoding ---------------------------------------------------------------------- */

static void put_hdr(uint8_t *buf, uint8_t type, uint32_t link, uint64_t seq)
{
	buf[0] = DP_WIRE_MAGIC;
	buf[1] = DP_WIRE_VERSION;
	buf[2] = type;
	buf[3] = 0;
	store_le32(buf + 4, link);
	store_le64(buf + 8, seq);
}

static uint8_t *put_str(uint8_t *p, const char *s, uint16_t len)
{
	store_le16(p, len);
	memcpy(p + 2, s, len);
	return p + 2 + len;
}

size_t dp_wire_hello(uint8_t *buf, size_t cap, uint64_t nonce, const struct dp_wire_hello *h)
{
	size_t len =
	    DP_WIRE_HDR_LEN + 8 + 2 + (size_t)h->graph_len + 2 + h->node_len + 1 + h->cookie_len;
	uint8_t *p = buf + DP_WIRE_HDR_LEN;

	if (len > cap || !h->link || !dgram_size_ok(h->max_dgram) || !h->graph_len ||
	    h->graph_len > DP_WIRE_GRAPH_MAX || !h->node_len || h->node_len > DP_WIRE_NODE_MAX ||
	    (h->cookie_len && h->cookie_len != DP_WIRE_COOKIE_LEN))
		return 0;
	put_hdr(buf, DP_WIRE_HELLO, 0, nonce);
	store_le32(p, h->link);
	store_le32(p + 4, h->max_dgram);
	p = put_str(p + 8, h->graph, h->graph_len);
	p = put_str(p, h->node, h->node_len);
	*p++ = h->cookie_len;
	if (h->cookie_len)
		memcpy(p, h->cookie, h->cookie_len);
	return len;
}

size_t dp_wire_cookie(uint8_t *buf, size_t cap, uint64_t nonce,
		      const uint8_t cookie[DP_WIRE_COOKIE_LEN])
{
	if (cap < DP_WIRE_HDR_LEN + DP_WIRE_COOKIE_LEN)
		return 0;
	put_hdr(buf, DP_WIRE_COOKIE, 0, nonce);
	memcpy(buf + DP_WIRE_HDR_LEN, cookie, DP_WIRE_COOKIE_LEN);
	return DP_WIRE_HDR_LEN + DP_WIRE_COOKIE_LEN;
}

size_t dp_wire_welcome(uint8_t *buf, size_t cap, uint32_t to_link, uint64_t nonce,
		       const struct dp_wire_welcome *w)
{
	size_t len = DP_WIRE_HDR_LEN + 8 + 2 + (size_t)w->node_len;
	uint8_t *p = buf + DP_WIRE_HDR_LEN;

	if (len > cap || !to_link || !w->link || !dgram_size_ok(w->max_dgram) || !w->node_len ||
	    w->node_len > DP_WIRE_NODE_MAX)
		return 0;
	put_hdr(buf, DP_WIRE_WELCOME, to_link, nonce);
	store_le32(p, w->link);
	store_le32(p + 4, w->max_dgram);
	put_str(p + 8, w->node, w->node_len);
	return len;
}

size_t dp_wire_ack(uint8_t *buf, size_t cap, uint32_t to_link, const struct dp_wire_ack *a)
{
	size_t len = DP_WIRE_HDR_LEN + 22 + (size_t)a->n * 8;
	uint8_t *p = buf + DP_WIRE_HDR_LEN;

	if (len > cap || !to_link || a->n > DP_WIRE_SACK_MAX || a->limit < a->cum)
		return 0;
	put_hdr(buf, DP_WIRE_ACK, to_link, 0);
	store_le64(p, a->cum);
	store_le64(p + 8, a->limit);
	store_le32(p + 16, a->delay_us);
	store_le16(p + 20, a->n);
	p += 22;
	for (unsigned i = 0; i < a->n; i++, p += 8) {
		store_le32(p, a->r[i].gap);
		store_le32(p + 4, a->r[i].len);
	}
	return len;
}

size_t dp_wire_ping(uint8_t *buf, size_t cap, uint32_t to_link, uint8_t type, uint64_t token)
{
	if (cap < DP_WIRE_HDR_LEN + 8 || !to_link || (type != DP_WIRE_PING && type != DP_WIRE_PONG))
		return 0;
	put_hdr(buf, type, to_link, 0);
	store_le64(buf + DP_WIRE_HDR_LEN, token);
	return DP_WIRE_HDR_LEN + 8;
}

size_t dp_wire_close(uint8_t *buf, size_t cap, uint32_t to_link, uint32_t reason)
{
	if (cap < DP_WIRE_HDR_LEN + 4 || !to_link || !reason || reason > DP_CLOSE_REASON_MAX)
		return 0;
	put_hdr(buf, DP_WIRE_CLOSE, to_link, 0);
	store_le32(buf + DP_WIRE_HDR_LEN, reason);
	return DP_WIRE_HDR_LEN + 4;
}

void dp_wire_data_begin(struct dp_wire_data *w, uint8_t *buf, uint32_t cap, uint32_t to_link,
			uint64_t seq)
{
	PG_ASSERT(cap >= DP_WIRE_HDR_LEN + DP_WIRE_FRAG_HDR + 1);
	w->buf = buf;
	w->cap = cap;
	w->len = DP_WIRE_HDR_LEN;
	w->records = w->fragments = 0;
	put_hdr(buf, DP_WIRE_DATA, to_link, seq);
}

int dp_wire_data_record(struct dp_wire_data *w, const uint8_t *rec, uint32_t len)
{
	uint8_t *p = w->buf + w->len;

	if (!dp_wire_data_fits(w, len))
		return -ENOSPC;
	p[0] = DP_CHUNK_RECORD;
	store_le32(p + 1, len);
	memcpy(p + DP_WIRE_RECORD_HDR, rec, len);
	w->len += DP_WIRE_RECORD_HDR + len;
	w->records++;
	return 0;
}

uint32_t dp_wire_data_fragment(struct dp_wire_data *w, uint64_t msg, const uint8_t *rec,
			       uint32_t total, uint32_t off)
{
	uint8_t *p = w->buf + w->len;
	uint32_t room, n;

	PG_ASSERT(off < total);
	if (w->len + DP_WIRE_FRAG_HDR >= w->cap)
		return 0;
	room = w->cap - w->len - DP_WIRE_FRAG_HDR;
	n = total - off < room ? total - off : room;
	p[0] = DP_CHUNK_FRAGMENT;
	store_le64(p + 1, msg);
	store_le32(p + 9, total);
	store_le32(p + 13, off);
	store_le32(p + 17, n);
	memcpy(p + DP_WIRE_FRAG_HDR, rec + off, n);
	w->len += DP_WIRE_FRAG_HDR + n;
	w->fragments++;
	return n;
}

uint32_t dp_wire_data_end(struct dp_wire_data *w, uint32_t pad_to)
{
	PG_ASSERT(pad_to <= w->cap);
	if (pad_to > w->len) {
		memset(w->buf + w->len, DP_CHUNK_PAD, pad_to - w->len);
		w->len = pad_to;
	}
	return w->len;
}

const char *dp_wire_type_name(unsigned type)
{
	static const char *const names[DP_WIRE_TYPES] = {
		[DP_WIRE_HELLO] = "HELLO",     [DP_WIRE_COOKIE] = "COOKIE",
		[DP_WIRE_WELCOME] = "WELCOME", [DP_WIRE_DATA] = "DATA",
		[DP_WIRE_ACK] = "ACK",	       [DP_WIRE_PING] = "PING",
		[DP_WIRE_PONG] = "PONG",       [DP_WIRE_CLOSE] = "CLOSE",
	};

	return type < DP_WIRE_TYPES && names[type] ? names[type] : "?";
}
