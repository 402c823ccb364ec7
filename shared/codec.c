/*
 * codec.c - the record encoding, its canonical prefix, and batches of records per datagram.
 *
 * Layouts are described in record.h. The decoders here read bytes from the network and from
 * files: every length is checked against what is left before anything is read, every
 * validity rule is applied, and a rejected input leaves the caller's output untouched.
 */
#include <errno.h>
#include <string.h>

#include "pg_bytes.h"
#include "pg_error.h"
#include "record.h"

/* Offsets of the canonical header. */
enum {
	OFF_FMT = 0,
	OFF_RSV8 = 1,
	OFF_FLAGS = 2,
	OFF_VERSION = 4,
	OFF_TYPE = 8,
	OFF_ID = 24,
	OFF_CREATED = 40,
	OFF_MODIFIED = 48,
	OFF_EXPIRES = 56,
	OFF_CREATOR_LEN = 64,
	OFF_MODIFIER_LEN = 66,
	OFF_NATTRS = 68,
	OFF_RSV16 = 70,
	OFF_ATTRS_LEN = 72,
	OFF_PAYLOAD_LEN = 76,
	HDR_END = 80,
};
_Static_assert((int)HDR_END == (int)PG_RECORD_HDR_LEN, "canonical header is 80 bytes");
_Static_assert(OFF_ID + 16 == OFF_CREATED, "id precedes the times");

/* Offsets of the batch header. */
enum {
	BOFF_MAGIC = 0,
	BOFF_FMT = 4,
	BOFF_FLAGS = 5,
	BOFF_COUNT = 6,
	BOFF_GRAPH = 8,
	BHDR_END = 16,
};
_Static_assert((int)BHDR_END == (int)PG_BATCH_HDR_LEN, "batch header is 16 bytes");

size_t pg_record_canonical_size(const struct pg_record *r)
{
	return PG_RECORD_HDR_LEN + (size_t)r->creator_len + r->modifier_len + r->attrs_len +
	       r->payload_len;
}

size_t pg_record_encoded_size(const struct pg_record *r)
{
	return pg_record_canonical_size(r) + 2 + r->secdata_len;
}

static uint8_t *put(uint8_t *p, const void *src, size_t n)
{
	if (n)
		memcpy(p, src, n);
	return p + n;
}

static long encode(const struct pg_record *r, const struct pg_record_limits *lim, uint8_t *out,
		   size_t cap, bool with_secdata)
{
	size_t need = with_secdata ? pg_record_encoded_size(r) : pg_record_canonical_size(r);
	uint8_t *p = out;
	int err;

	if ((err = pg_record_validate(r, lim)))
		return err;
	if (need > cap)
		return -ENOSPC;
	p[OFF_FMT] = PG_RECORD_FMT;
	p[OFF_RSV8] = 0;
	store_le16(p + OFF_FLAGS, r->flags);
	store_le32(p + OFF_VERSION, r->version);
	memcpy(p + OFF_TYPE, r->type.b, 16);
	memcpy(p + OFF_ID, r->id.b, 16);
	store_le64(p + OFF_CREATED, r->created_us);
	store_le64(p + OFF_MODIFIED, r->modified_us);
	store_le64(p + OFF_EXPIRES, r->expires_us);
	store_le16(p + OFF_CREATOR_LEN, r->creator_len);
	store_le16(p + OFF_MODIFIER_LEN, r->modifier_len);
	store_le16(p + OFF_NATTRS, r->nattrs);
	store_le16(p + OFF_RSV16, 0);
	store_le32(p + OFF_ATTRS_LEN, r->attrs_len);
	store_le32(p + OFF_PAYLOAD_LEN, r->payload_len);
	p += HDR_END;
	p = put(p, r->creator, r->creator_len);
	p = put(p, r->modifier, r->modifier_len);
	p = put(p, r->attrs, r->attrs_len);
	p = put(p, r->payload, r->payload_len);
	if (with_secdata) {
		store_le16(p, r->secdata_len);
		p = put(p + 2, r->secdata, r->secdata_len);
	}
	return (long)(p - out);
}

long pg_record_encode(const struct pg_record *r, const struct pg_record_limits *lim, uint8_t *out,
		      size_t cap)
{
	return encode(r, lim, out, cap, true);
}

long pg_record_encode_canonical(const struct pg_record *r, const struct pg_record_limits *lim,
				uint8_t *out, size_t cap)
{
	return encode(r, lim, out, cap, false);
}

/* Takes n bytes from the cursor, or fails without moving it. */
static const uint8_t *take(const uint8_t **p, size_t *left, size_t n)
{
	const uint8_t *q = *p;

	if (*left < n)
		return NULL;
	*p += n;
	*left -= n;
	return q;
}

struct pg_key pg_record_key_encoded(uint64_t graph_key, const uint8_t *rec)
{
	struct pg_guid id;

	memcpy(id.b, rec + OFF_ID, sizeof(id.b));
	return pg_record_key(graph_key, &id, (const char *)rec + HDR_END,
			     load_le16(rec + OFF_CREATOR_LEN));
}

bool pg_record_key_peek(uint64_t graph_key, const uint8_t *rec, size_t len, struct pg_key *out)
{
	if (len < HDR_END || len - HDR_END < load_le16(rec + OFF_CREATOR_LEN) ||
	    load_le16(rec + OFF_CREATOR_LEN) > PG_ID_MAX)
		return false;
	*out = pg_record_key_encoded(graph_key, rec);
	return true;
}

int pg_record_decode(const uint8_t *buf, size_t len, const struct pg_record_limits *lim,
		     struct pg_record *out)
{
	const uint8_t *p = buf, *h;
	size_t left = len;
	struct pg_record r;
	int err;

	if (!(h = take(&p, &left, HDR_END)))
		return PG_E_TRUNCATED;
	if (h[OFF_FMT] != PG_RECORD_FMT || h[OFF_RSV8] != 0 || load_le16(h + OFF_RSV16) != 0)
		return PG_E_BAD_FORMAT;
	memset(&r, 0, sizeof(r));
	r.flags = load_le16(h + OFF_FLAGS);
	r.version = load_le32(h + OFF_VERSION);
	memcpy(r.type.b, h + OFF_TYPE, 16);
	memcpy(r.id.b, h + OFF_ID, 16);
	r.created_us = load_le64(h + OFF_CREATED);
	r.modified_us = load_le64(h + OFF_MODIFIED);
	r.expires_us = load_le64(h + OFF_EXPIRES);
	r.creator_len = load_le16(h + OFF_CREATOR_LEN);
	r.modifier_len = load_le16(h + OFF_MODIFIER_LEN);
	r.nattrs = load_le16(h + OFF_NATTRS);
	r.attrs_len = load_le32(h + OFF_ATTRS_LEN);
	r.payload_len = load_le32(h + OFF_PAYLOAD_LEN);

	/* size rules first: they bound everything read below */
	if (r.creator_len > PG_ID_MAX || r.modifier_len > PG_ID_MAX)
		return PG_E_ID_TOO_LONG;
	if (r.nattrs > PG_ATTRS_MAX)
		return PG_E_TOO_MANY_ATTRS;
	if ((uint64_t)r.payload_len + r.attrs_len > lim->max_record_size)
		return PG_E_TOO_LARGE;

	if (!(r.creator = (const char *)take(&p, &left, r.creator_len)) ||
	    !(r.modifier = (const char *)take(&p, &left, r.modifier_len)) ||
	    !(r.attrs = take(&p, &left, r.attrs_len)) ||
	    !(r.payload = take(&p, &left, r.payload_len)))
		return PG_E_LENGTH;
	if (!(h = take(&p, &left, 2)))
		return PG_E_TRUNCATED;
	r.secdata_len = load_le16(h);
	if (r.secdata_len > PG_SECDATA_MAX)
		return PG_E_SECDATA_TOO_LARGE;
	if (!(r.secdata = take(&p, &left, r.secdata_len)))
		return PG_E_LENGTH;
	if (left != 0)
		return PG_E_TRAILING;

	if ((err = pg_record_validate(&r, lim)))
		return err;
	if ((err = pg_attrs_check(r.attrs, r.attrs_len, r.nattrs)))
		return err;
	*out = r;
	return 0;
}

/* ---- batches ----------------------------------------------------------------------- */

int pg_batch_begin(struct pg_batch_writer *w, uint8_t *buf, size_t cap, uint64_t graph_key)
{
	if (cap < PG_BATCH_HDR_LEN)
		return -ENOSPC;
	w->buf = buf;
	w->cap = cap;
	w->len = PG_BATCH_HDR_LEN;
	w->count = 0;
	store_le32(buf + BOFF_MAGIC, PG_BATCH_MAGIC);
	buf[BOFF_FMT] = PG_BATCH_FMT;
	buf[BOFF_FLAGS] = 0;
	store_le16(buf + BOFF_COUNT, 0);
	store_le64(buf + BOFF_GRAPH, graph_key);
	return 0;
}

int pg_batch_add(struct pg_batch_writer *w, const struct pg_record *r,
		 const struct pg_record_limits *lim)
{
	size_t need = 4 + pg_record_encoded_size(r);
	long n;

	if (w->count == UINT16_MAX || need > w->cap - w->len)
		return -ENOSPC;
	n = pg_record_encode(r, lim, w->buf + w->len + 4, w->cap - w->len - 4);
	if (n < 0)
		return (int)n;
	store_le32(w->buf + w->len, (uint32_t)n);
	w->len += 4 + (size_t)n;
	w->count++;
	return 0;
}

size_t pg_batch_end(struct pg_batch_writer *w)
{
	store_le16(w->buf + BOFF_COUNT, w->count);
	return w->len;
}

int pg_batch_decode(const uint8_t *buf, size_t len, const struct pg_record_limits *lim,
		    uint64_t *graph_key, struct pg_record *recs, unsigned max, unsigned *n)
{
	const uint8_t *p = buf, *h;
	size_t left = len;
	unsigned count;
	int err;

	*n = 0;
	if (!(h = take(&p, &left, BHDR_END)))
		return PG_E_TRUNCATED;
	if (load_le32(h + BOFF_MAGIC) != PG_BATCH_MAGIC)
		return PG_E_BAD_MAGIC;
	if (h[BOFF_FMT] != PG_BATCH_FMT || h[BOFF_FLAGS] != 0)
		return PG_E_BAD_FORMAT;
	count = load_le16(h + BOFF_COUNT);
	if (count > max)
		return PG_E_TOO_MANY_RECORDS;
	for (unsigned i = 0; i < count; i++) {
		const uint8_t *lp = take(&p, &left, 4), *rp;
		uint32_t rlen;

		if (!lp)
			return PG_E_TRUNCATED;
		rlen = load_le32(lp);
		if (!(rp = take(&p, &left, rlen)))
			return PG_E_LENGTH;
		if ((err = pg_record_decode(rp, rlen, lim, &recs[i])))
			return err;
	}
	if (left != 0)
		return PG_E_TRAILING;
	*graph_key = load_le64(h + BOFF_GRAPH);
	*n = count;
	return 0;
}
