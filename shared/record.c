/*
 * record.c - record validity rules, the conflict order, record keys and attributes.
 *
 * The byte encodings live in codec.c; this file holds the rules that every encoding and
 * every module (version table, store, flooding, sync) must agree on, so each rule is
 * written exactly once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <xxhash.h>

#include "pg_assert.h"
#include "pg_bytes.h"
#include "pg_error.h"
#include "record.h"

void pg_record_limits_default(struct pg_record_limits *lim)
{
	lim->max_record_size = PG_RECORD_SIZE_DEFAULT;
}

int pg_record_limits_check(const struct pg_record_limits *lim)
{
	if (lim->max_record_size < PG_RECORD_SIZE_MIN || lim->max_record_size > PG_RECORD_SIZE_MAX)
		return PG_E_BAD_LIMIT;
	return 0;
}

int pg_record_validate(const struct pg_record *r, const struct pg_record_limits *lim)
{
	if (r->version == 0 || r->version > PG_RECORD_VERSION_MAX)
		return PG_E_BAD_VERSION;
	if (r->flags & ~PG_RECORD_FLAGS_KNOWN)
		return PG_E_BAD_FLAGS;
	if (r->creator_len > PG_ID_MAX || r->modifier_len > PG_ID_MAX)
		return PG_E_ID_TOO_LONG;
	if (!pg_utf8_valid(r->creator, r->creator_len) ||
	    !pg_utf8_valid(r->modifier, r->modifier_len))
		return PG_E_BAD_UTF8;
	if (!(r->created_us <= r->modified_us && r->modified_us < r->expires_us))
		return PG_E_BAD_TIMES;
	if ((r->flags & PG_RECORD_DELETED) && (r->payload_len != 0 || r->nattrs != 0))
		return PG_E_DELETED_BODY;
	if (r->nattrs > PG_ATTRS_MAX)
		return PG_E_TOO_MANY_ATTRS;
	if ((uint64_t)r->payload_len + r->attrs_len > lim->max_record_size)
		return PG_E_TOO_LARGE;
	if (r->secdata_len > PG_SECDATA_MAX)
		return PG_E_SECDATA_TOO_LARGE;
	return 0;
}

int pg_record_check_update(const struct pg_record *prev, const struct pg_record *next)
{
	if (memcmp(&prev->id, &next->id, sizeof(prev->id)) != 0)
		return PG_E_KEY_COLLISION;
	if (prev->creator_len != next->creator_len ||
	    memcmp(prev->creator, next->creator, prev->creator_len) != 0)
		return PG_E_CREATOR_CHANGED;
	if (memcmp(&prev->type, &next->type, sizeof(prev->type)) != 0)
		return PG_E_BAD_FORMAT;
	if (next->expires_us < prev->expires_us)
		return PG_E_EXPIRY_SHRANK;
	return 0;
}

/* memcmp order over byte strings of different lengths: a proper prefix sorts first. */
static int bytes_cmp(const void *a, size_t alen, const void *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen;
	int c = n ? memcmp(a, b, n) : 0;

	if (c)
		return c;
	return (alen > blen) - (alen < blen);
}

static int u64_cmp(uint64_t a, uint64_t b)
{
	return (a > b) - (a < b);
}

int pg_record_order(const struct pg_record *a, const struct pg_record *b)
{
	int c;

	/* 1. higher version wins */
	if ((c = u64_cmp(a->version, b->version)))
		return c;
	/* 2. a record that was updated beats one that never was */
	if ((c = (int)pg_record_updated(a) - (int)pg_record_updated(b)))
		return c;
	/* 3. lexically higher last-modified-by */
	if ((c = bytes_cmp(a->modifier, a->modifier_len, b->modifier, b->modifier_len)))
		return c > 0 ? 1 : -1;
	/* 4. later modification time */
	if ((c = u64_cmp(a->modified_us, b->modified_us)))
		return c;
	/* 5. larger security data */
	if ((c = u64_cmp(a->secdata_len, b->secdata_len)))
		return c;
	/* 6. higher security-data bytes */
	c = a->secdata_len ? memcmp(a->secdata, b->secdata, a->secdata_len) : 0;
	return (c > 0) - (c < 0);
}

uint64_t pg_graph_key(const char *graph_id, size_t len)
{
	return XXH3_64bits(graph_id, len);
}

struct pg_key pg_record_key(uint64_t graph_key, const struct pg_guid *id, const char *creator,
			    size_t creator_len)
{
	uint8_t in[sizeof(id->b) + PG_ID_MAX];
	XXH128_hash_t h;

	/* the id has a fixed length, so (id, creator) -> id || creator is one-to-one */
	PG_ASSERT(creator_len <= PG_ID_MAX);
	memcpy(in, id->b, sizeof(id->b));
	if (creator_len)
		memcpy(in + sizeof(id->b), creator, creator_len);
	h = XXH3_128bits_withSeed(in, sizeof(id->b) + creator_len, graph_key);
	return (struct pg_key){ .lo = h.low64, .hi = h.high64 };
}

/* ---- attributes ------------------------------------------------------------------- */

static const char *const reserved_names[] = {
	"peercreatorid",
	"peerrecordid",
	"peerrecordtype",
	"peercreationtime",
	"peerlastmodificationtime",
	"peerlastmodifiedby",
};

bool pg_attr_name_valid(const char *name, size_t len)
{
	if (len == 0 || len > PG_ATTR_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
			return false;
	}
	return true;
}

bool pg_attr_name_reserved(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(reserved_names) / sizeof(reserved_names[0]); i++)
		if (strlen(reserved_names[i]) == len &&
		    strncasecmp(reserved_names[i], name, len) == 0)
			return true;
	return false;
}

static size_t attr_value_size(const struct pg_attr *a)
{
	return a->type == PG_ATTR_STRING ? 4 + (size_t)a->v.str.len : 8;
}

size_t pg_attrs_encoded_size(const struct pg_attr *attrs, unsigned n)
{
	size_t sz = 0;

	for (unsigned i = 0; i < n; i++)
		sz += 2 + (size_t)attrs[i].name_len + attr_value_size(&attrs[i]);
	return sz;
}

static int attr_check_one(const struct pg_attr *a)
{
	if (!pg_attr_name_valid(a->name, a->name_len))
		return PG_E_ATTR_NAME;
	if (pg_attr_name_reserved(a->name, a->name_len))
		return PG_E_ATTR_RESERVED;
	if (a->type != PG_ATTR_INT && a->type != PG_ATTR_STRING && a->type != PG_ATTR_DATE)
		return PG_E_ATTR_TYPE;
	if (a->type == PG_ATTR_STRING && !pg_utf8_valid(a->v.str.ptr, a->v.str.len))
		return PG_E_BAD_UTF8;
	return 0;
}

static int name_cmp(const struct pg_attr *a, const struct pg_attr *b)
{
	return bytes_cmp(a->name, a->name_len, b->name, b->name_len);
}

long pg_attrs_encode(const struct pg_attr *attrs, unsigned n, uint8_t *out, size_t cap)
{
	const struct pg_attr *sorted[PG_ATTRS_MAX];
	size_t need, off = 0;
	int err;

	if (n > PG_ATTRS_MAX)
		return PG_E_TOO_MANY_ATTRS;
	for (unsigned i = 0; i < n; i++) {
		if ((err = attr_check_one(&attrs[i])))
			return err;
		/* insertion sort by name: n <= 128 and usually tiny */
		unsigned j = i;
		while (j > 0 && name_cmp(sorted[j - 1], &attrs[i]) > 0) {
			sorted[j] = sorted[j - 1];
			j--;
		}
		sorted[j] = &attrs[i];
	}
	for (unsigned i = 1; i < n; i++)
		if (name_cmp(sorted[i - 1], sorted[i]) == 0)
			return PG_E_ATTR_ORDER;
	need = pg_attrs_encoded_size(attrs, n);
	if (need > cap || need > UINT32_MAX)
		return -ENOSPC;
	for (unsigned i = 0; i < n; i++) {
		const struct pg_attr *a = sorted[i];

		out[off++] = a->name_len;
		out[off++] = a->type;
		memcpy(out + off, a->name, a->name_len);
		off += a->name_len;
		if (a->type == PG_ATTR_STRING) {
			store_le32(out + off, a->v.str.len);
			if (a->v.str.len)
				memcpy(out + off + 4, a->v.str.ptr, a->v.str.len);
			off += 4 + a->v.str.len;
		} else {
			store_le64(out + off,
				   a->type == PG_ATTR_INT ? (uint64_t)a->v.i : a->v.date_us);
			off += 8;
		}
	}
	return (long)off;
}

/* Parses one attribute at *p, checking every length against end; advances *p. */
static int attr_parse(const uint8_t **p, const uint8_t *end, struct pg_attr *a)
{
	const uint8_t *q = *p;
	size_t left = (size_t)(end - q);

	if (left < 2)
		return PG_E_TRUNCATED;
	a->name_len = q[0];
	a->type = q[1];
	q += 2;
	left -= 2;
	if (left < a->name_len)
		return PG_E_LENGTH;
	a->name = (const char *)q;
	q += a->name_len;
	left -= a->name_len;
	if (a->type == PG_ATTR_STRING) {
		if (left < 4)
			return PG_E_TRUNCATED;
		a->v.str.len = load_le32(q);
		if (left - 4 < a->v.str.len)
			return PG_E_LENGTH;
		a->v.str.ptr = (const char *)q + 4;
		q += 4 + a->v.str.len;
	} else {
		if (left < 8)
			return PG_E_TRUNCATED;
		a->v.date_us = load_le64(q);
		q += 8;
	}
	*p = q;
	return 0;
}

int pg_attrs_check(const uint8_t *block, size_t len, unsigned nattrs)
{
	const uint8_t *p = block, *end = len ? block + len : block; /* NULL + 0 is undefined */
	struct pg_attr prev = { 0 }, a;
	int err;

	if (nattrs > PG_ATTRS_MAX)
		return PG_E_TOO_MANY_ATTRS;
	for (unsigned i = 0; i < nattrs; i++) {
		if ((err = attr_parse(&p, end, &a)))
			return err;
		if ((err = attr_check_one(&a)))
			return err;
		if (i > 0 && name_cmp(&prev, &a) >= 0)
			return PG_E_ATTR_ORDER;
		prev = a;
	}
	return p == end ? 0 : PG_E_TRAILING;
}

bool pg_attr_iter_next(struct pg_attr_iter *it, struct pg_attr *out)
{
	if (it->p >= it->end)
		return false;
	/* the block was validated by pg_attrs_check(); a failure here is a broken caller */
	return attr_parse(&it->p, it->end, out) == 0;
}

int pg_attr_find(const struct pg_record *r, const char *name, size_t len, struct pg_attr *out)
{
	struct pg_attr_iter it;
	struct pg_attr a;

	pg_attr_iter_init(&it, r);
	while (pg_attr_iter_next(&it, &a)) {
		if (a.name_len == len && memcmp(a.name, name, len) == 0) {
			*out = a;
			return 0;
		}
	}
	return PG_E_NOT_FOUND;
}

/* ---- text helpers ------------------------------------------------------------------- */

bool pg_utf8_valid(const char *buf, size_t len)
{
	const unsigned char *s = (const unsigned char *)buf;
	size_t i = 0;

	while (i < len) {
		unsigned c = s[i];
		size_t n;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			n = 1;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (len - i - 1 < n)
			return false;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}

void pg_guid_format(const struct pg_guid *g, char out[37])
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[g->b[i] >> 4];
		out[o++] = hex[g->b[i] & 15];
	}
	out[o] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int pg_guid_parse(const char *s, size_t len, struct pg_guid *out)
{
	struct pg_guid g;
	size_t i = 0;

	if (len == 38 && s[0] == '{' && s[37] == '}') {
		s++;
		len -= 2;
	}
	if (len != 36)
		return PG_E_QUERY_TYPE;
	for (int b = 0; b < 16; b++) {
		if (b == 4 || b == 6 || b == 8 || b == 10) {
			if (s[i] != '-')
				return PG_E_QUERY_TYPE;
			i++;
		}
		int hi = hexval(s[i]), lo = hexval(s[i + 1]);
		if (hi < 0 || lo < 0)
			return PG_E_QUERY_TYPE;
		g.b[b] = (uint8_t)(hi << 4 | lo);
		i += 2;
	}
	*out = g;
	return 0;
}

/* A view's pointer into raw, moved to the same offset in new_raw; others (empty fields) kept. */
static const void *rebased(const void *p, const uint8_t *raw, uint32_t len, const uint8_t *new_raw)
{
	const uint8_t *q = p;

	return q && q >= raw && q <= raw + len ? new_raw + (q - raw) : p;
}

void pg_record_rebase(struct pg_record *dst, const struct pg_record *src, const uint8_t *raw,
		      uint32_t len, const uint8_t *new_raw)
{
	*dst = *src;
	dst->creator = rebased(src->creator, raw, len, new_raw);
	dst->modifier = rebased(src->modifier, raw, len, new_raw);
	dst->attrs = rebased(src->attrs, raw, len, new_raw);
	dst->payload = rebased(src->payload, raw, len, new_raw);
	dst->secdata = rebased(src->secdata, raw, len, new_raw);
}
