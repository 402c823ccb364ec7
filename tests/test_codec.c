/*
 * test_codec.c - the record encoding, its canonical prefix, and batches.
 *
 * Round trips, one canonical encoding per record, a known-answer vector, a numbered table of
 * malformed inputs each rejected with its specific error, and truncation at every offset.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pg_bytes.h"
#include "pg_error.h"
#include "record.h"

static const struct pg_record_limits lim = { .max_record_size = 4096 };

/* Offsets into the canonical header (record.h). */
enum {
	O_FMT = 0,
	O_RSV8 = 1,
	O_FLAGS = 2,
	O_VERSION = 4,
	O_CREATED = 40,
	O_MODIFIED = 48,
	O_EXPIRES = 56,
	O_CREATOR_LEN = 64,
	O_MODIFIER_LEN = 66,
	O_NATTRS = 68,
	O_RSV16 = 70,
	O_ATTRS_LEN = 72,
	O_PAYLOAD_LEN = 76,
	O_BODY = 80,
};

static uint8_t attr_block[512];

/* A valid record with every field set: two attributes of each kind, payload, secdata. */
static struct pg_record sample(void)
{
	static const struct pg_attr attrs[] = {
		{ .name = "size", .name_len = 4, .type = PG_ATTR_INT, .v.i = -42 },
		{ .name = "color",
		  .name_len = 5,
		  .type = PG_ATTR_STRING,
		  .v.str = { .ptr = "blau", .len = 4 } },
		{ .name = "when",
		  .name_len = 4,
		  .type = PG_ATTR_DATE,
		  .v.date_us = 1700000000000000 },
	};
	struct pg_record r;
	long n = pg_attrs_encode(attrs, 3, attr_block, sizeof(attr_block));

	cr_assert_gt(n, 0);
	memset(&r, 0, sizeof(r));
	for (int i = 0; i < 16; i++) {
		r.type.b[i] = (uint8_t)(0xa0 + i);
		r.id.b[i] = (uint8_t)i;
	}
	r.version = 3;
	r.flags = PG_RECORD_AUTO_REFRESH;
	r.created_us = 1000;
	r.modified_us = 2000;
	r.expires_us = 3000;
	r.creator = "alice.chat";
	r.creator_len = 10;
	r.modifier = "bob";
	r.modifier_len = 3;
	r.nattrs = 3;
	r.attrs = attr_block;
	r.attrs_len = (uint32_t)n;
	r.payload = (const uint8_t *)"hello world";
	r.payload_len = 11;
	r.secdata = (const uint8_t *)"SIG";
	r.secdata_len = 3;
	return r;
}

static size_t encode_sample(uint8_t *buf, size_t cap)
{
	struct pg_record r = sample();
	long n = pg_record_encode(&r, &lim, buf, cap);

	cr_assert_gt(n, 0, "sample encodes: %s", pg_strerror((int)n));
	return (size_t)n;
}

/* memcmp that accepts NULL for empty fields (memcmp itself may not be given NULL). */
static bool eq(const void *a, const void *b, size_t n)
{
	return n == 0 || memcmp(a, b, n) == 0;
}

static bool same_record(const struct pg_record *a, const struct pg_record *b)
{
	return a->version == b->version && a->flags == b->flags && a->nattrs == b->nattrs &&
	       eq(&a->type, &b->type, 16) && eq(&a->id, &b->id, 16) &&
	       a->created_us == b->created_us && a->modified_us == b->modified_us &&
	       a->expires_us == b->expires_us && a->creator_len == b->creator_len &&
	       eq(a->creator, b->creator, a->creator_len) && a->modifier_len == b->modifier_len &&
	       eq(a->modifier, b->modifier, a->modifier_len) && a->attrs_len == b->attrs_len &&
	       eq(a->attrs, b->attrs, a->attrs_len) && a->payload_len == b->payload_len &&
	       eq(a->payload, b->payload, a->payload_len) && a->secdata_len == b->secdata_len &&
	       eq(a->secdata, b->secdata, a->secdata_len);
}

Test(codec, round_trip)
{
	uint8_t buf[1024], again[1024];
	struct pg_record in = sample(), out;
	size_t n = encode_sample(buf, sizeof(buf));

	cr_assert_eq(n, pg_record_encoded_size(&in));
	cr_assert_eq(pg_record_decode(buf, n, &lim, &out), 0);
	cr_assert(same_record(&in, &out));
	/* one canonical encoding: decode -> encode gives the same bytes */
	cr_assert_eq(pg_record_encode(&out, &lim, again, sizeof(again)), (long)n);
	cr_assert_eq(memcmp(buf, again, n), 0);
	/* the canonical encoding is the record's prefix, without the security data */
	cr_assert_eq(pg_record_encode_canonical(&in, &lim, again, sizeof(again)),
		     (long)pg_record_canonical_size(&in));
	cr_assert_eq(memcmp(buf, again, pg_record_canonical_size(&in)), 0);
	cr_assert_eq(n, pg_record_canonical_size(&in) + 2 + 3);
}

Test(codec, round_trip_minimal_and_deleted)
{
	struct pg_record r, out;
	uint8_t buf[256];
	long n;

	memset(&r, 0, sizeof(r));
	r.version = 1;
	r.flags = PG_RECORD_DELETED;
	r.expires_us = 1;
	n = pg_record_encode(&r, &lim, buf, sizeof(buf));
	cr_assert_eq(n, PG_RECORD_HDR_LEN + 2);
	cr_assert_eq(pg_record_decode(buf, (size_t)n, &lim, &out), 0);
	cr_assert(same_record(&r, &out));
}

Test(codec, round_trip_limits)
{
	static uint8_t payload[4096], buf[8192];
	char id[PG_ID_MAX];
	struct pg_record r = sample(), out;
	long n;

	memset(id, 'x', sizeof(id));
	r.creator = r.modifier = id;
	r.creator_len = r.modifier_len = PG_ID_MAX;
	r.payload = payload;
	r.payload_len = lim.max_record_size - r.attrs_len; /* exactly at the limit */
	n = pg_record_encode(&r, &lim, buf, sizeof(buf));
	cr_assert_gt(n, 0);
	cr_assert_eq(pg_record_decode(buf, (size_t)n, &lim, &out), 0);
	cr_assert(same_record(&r, &out));
	r.payload_len++;
	cr_assert_eq(pg_record_encode(&r, &lim, buf, sizeof(buf)), PG_E_TOO_LARGE);
	cr_assert_eq(pg_record_encode(&out, &lim, buf, 10), -ENOSPC);
}

/* A fixed record's encoding, byte for byte: changing the layout must change this test. */
Test(codec, known_answer)
{
	struct pg_record r;
	struct pg_attr a = { .name = "k", .name_len = 1, .type = PG_ATTR_INT, .v.i = 7 };
	uint8_t block[32], buf[256];
	char hex[2 * sizeof(buf) + 1];
	long bl = pg_attrs_encode(&a, 1, block, sizeof(block)), n;

	memset(&r, 0, sizeof(r));
	r.flags = PG_RECORD_AUTO_REFRESH;
	r.version = 3;
	r.created_us = 10;
	r.modified_us = 20;
	r.expires_us = 30;
	r.nattrs = 1;
	r.attrs = block;
	r.attrs_len = (uint32_t)bl;
	r.payload = (const uint8_t *)"\x01";
	r.payload_len = 1;
	r.secdata = (const uint8_t *)"\x02";
	r.secdata_len = 1;
	n = pg_record_encode(&r, &lim, buf, sizeof(buf));
	cr_assert_gt(n, 0);
	for (long i = 0; i < n; i++)
		sprintf(hex + 2 * i, "%02x", buf[i]);
	/* header(80) | attr (11 bytes): 01 01 "k" 07..00 | payload 01 | secdata_len 0100 | 02 */
	cr_assert_str_eq(hex, "0100010003000000"
			      "00000000000000000000000000000000"
			      "00000000000000000000000000000000"
			      "0a000000000000001400000000000000"
			      "1e000000000000000000000001000000"
			      "0b00000001000000"
			      "0101"
			      "6b0700000000000000"
			      "01"
			      "010002");
}

Test(codec, attrs_sorted_and_checked)
{
	struct pg_attr a[3] = {
		{ .name = "zeta", .name_len = 4, .type = PG_ATTR_INT, .v.i = 1 },
		{ .name = "alpha", .name_len = 5, .type = PG_ATTR_INT, .v.i = 2 },
		{ .name = "mid", .name_len = 3, .type = PG_ATTR_DATE, .v.date_us = 3 },
	};
	uint8_t block[128];
	struct pg_record r;
	struct pg_attr_iter it;
	struct pg_attr got;
	const char *order[] = { "alpha", "mid", "zeta" };
	long n = pg_attrs_encode(a, 3, block, sizeof(block));
	int i = 0;

	cr_assert_gt(n, 0);
	cr_assert_eq(pg_attrs_check(block, (size_t)n, 3), 0);
	memset(&r, 0, sizeof(r));
	r.attrs = block;
	r.attrs_len = (uint32_t)n;
	pg_attr_iter_init(&it, &r);
	while (pg_attr_iter_next(&it, &got)) {
		cr_assert_eq(got.name_len, strlen(order[i]));
		cr_assert_eq(memcmp(got.name, order[i], got.name_len), 0);
		i++;
	}
	cr_assert_eq(i, 3);
	cr_assert_eq(pg_attr_find(&r, "mid", 3, &got), 0);
	cr_assert_eq(got.v.date_us, 3);
	cr_assert_eq(pg_attr_find(&r, "nope", 4, &got), PG_E_NOT_FOUND);

	/* encoder-side rejections */
	a[1].name = "zeta";
	a[1].name_len = 4;
	cr_assert_eq(pg_attrs_encode(a, 3, block, sizeof(block)), PG_E_ATTR_ORDER);
	a[1].name = "PeerCreatorId";
	a[1].name_len = 13;
	cr_assert_eq(pg_attrs_encode(a, 3, block, sizeof(block)), PG_E_ATTR_RESERVED);
	a[1].name = "bad_name";
	a[1].name_len = 8;
	cr_assert_eq(pg_attrs_encode(a, 3, block, sizeof(block)), PG_E_ATTR_NAME);
	a[1].name = "ok";
	a[1].name_len = 2;
	a[1].type = 7;
	cr_assert_eq(pg_attrs_encode(a, 3, block, sizeof(block)), PG_E_ATTR_TYPE);
	a[1].type = PG_ATTR_INT;
	cr_assert_eq(pg_attrs_encode(a, 3, block, 4), -ENOSPC);
}

/* ---- malformed inputs: one numbered row per rejection --------------------------------- */

struct bad_row {
	int no;
	const char *what;
	int want;
};

static const struct bad_row bad_rows[] = {
	{ 1, "empty input", PG_E_TRUNCATED },
	{ 2, "header cut at 79 bytes", PG_E_TRUNCATED },
	{ 3, "format version 2", PG_E_BAD_FORMAT },
	{ 4, "reserved byte set", PG_E_BAD_FORMAT },
	{ 5, "reserved u16 set", PG_E_BAD_FORMAT },
	{ 6, "creator length 257", PG_E_ID_TOO_LONG },
	{ 7, "modifier length 300", PG_E_ID_TOO_LONG },
	{ 8, "nattrs 129", PG_E_TOO_MANY_ATTRS },
	{ 9, "payload over max record size", PG_E_TOO_LARGE },
	{ 10, "attrs length near 4 GiB", PG_E_TOO_LARGE },
	{ 11, "payload length past the end", PG_E_LENGTH },
	{ 12, "creator length past the end", PG_E_LENGTH },
	{ 13, "secdata length missing", PG_E_TRUNCATED },
	{ 14, "secdata length 4097", PG_E_SECDATA_TOO_LARGE },
	{ 15, "secdata past the end", PG_E_LENGTH },
	{ 16, "one trailing byte", PG_E_TRAILING },
	{ 17, "version 0", PG_E_BAD_VERSION },
	{ 18, "version 2^31", PG_E_BAD_VERSION },
	{ 19, "unknown flag bit", PG_E_BAD_FLAGS },
	{ 20, "creation after last-modified", PG_E_BAD_TIMES },
	{ 21, "expiration equal to last-modified", PG_E_BAD_TIMES },
	{ 22, "expiration before creation", PG_E_BAD_TIMES },
	{ 23, "deleted with payload", PG_E_DELETED_BODY },
	{ 24, "deleted with attributes", PG_E_DELETED_BODY },
	{ 25, "attribute name with '_'", PG_E_ATTR_NAME },
	{ 26, "attribute name of 41 chars", PG_E_ATTR_NAME },
	{ 27, "attribute name empty", PG_E_ATTR_NAME },
	{ 28, "attribute type 9", PG_E_ATTR_TYPE },
	{ 29, "attributes out of order", PG_E_ATTR_ORDER },
	{ 30, "duplicate attribute", PG_E_ATTR_ORDER },
	{ 31, "reserved attribute name", PG_E_ATTR_RESERVED },
	{ 32, "string value past its block", PG_E_LENGTH },
	{ 33, "nattrs smaller than the block", PG_E_TRAILING },
	{ 34, "nattrs larger than the block", PG_E_TRUNCATED },
	{ 35, "creator not UTF-8", PG_E_BAD_UTF8 },
	{ 36, "string attribute not UTF-8", PG_E_BAD_UTF8 },
	{ 37, "attribute name length past its block", PG_E_LENGTH },
	{ 38, "int value cut short", PG_E_TRUNCATED },
};

/* Writes a record header by hand (no validation) followed by the given body parts. */
struct raw {
	uint8_t fmt, rsv8;
	uint16_t flags, rsv16, nattrs;
	uint32_t version;
	uint64_t created, modified, expires;
	const char *creator;
	const char *modifier;
	const void *attrs;
	uint32_t attrs_len;
	const void *payload;
	uint32_t payload_len;
	const void *secdata;
	uint16_t secdata_len;
};

static size_t raw_encode(const struct raw *r, uint8_t *buf)
{
	size_t cl = strlen(r->creator), ml = strlen(r->modifier), off = O_BODY;

	memset(buf, 0, O_BODY);
	buf[O_FMT] = r->fmt;
	buf[O_RSV8] = r->rsv8;
	store_le16(buf + O_FLAGS, r->flags);
	store_le32(buf + O_VERSION, r->version);
	store_le64(buf + O_CREATED, r->created);
	store_le64(buf + O_MODIFIED, r->modified);
	store_le64(buf + O_EXPIRES, r->expires);
	store_le16(buf + O_CREATOR_LEN, (uint16_t)cl);
	store_le16(buf + O_MODIFIER_LEN, (uint16_t)ml);
	store_le16(buf + O_NATTRS, r->nattrs);
	store_le16(buf + O_RSV16, r->rsv16);
	store_le32(buf + O_ATTRS_LEN, r->attrs_len);
	store_le32(buf + O_PAYLOAD_LEN, r->payload_len);
	memcpy(buf + off, r->creator, cl);
	off += cl;
	memcpy(buf + off, r->modifier, ml);
	off += ml;
	if (r->attrs_len)
		memcpy(buf + off, r->attrs, r->attrs_len);
	off += r->attrs_len;
	if (r->payload_len)
		memcpy(buf + off, r->payload, r->payload_len);
	off += r->payload_len;
	store_le16(buf + off, r->secdata_len);
	off += 2;
	if (r->secdata_len)
		memcpy(buf + off, r->secdata, r->secdata_len);
	return off + r->secdata_len;
}

/* One int attribute "a" = 1 (11 bytes), and other hand-made blocks. */
static const uint8_t blk_int[] = { 1, PG_ATTR_INT, 'a', 1, 0, 0, 0, 0, 0, 0, 0 };
static const uint8_t blk_two[] = { 1, PG_ATTR_INT, 'a', 1, 0, 0, 0, 0, 0, 0, 0,
				   1, PG_ATTR_INT, 'b', 2, 0, 0, 0, 0, 0, 0, 0 };
static const uint8_t blk_rev[] = { 1, PG_ATTR_INT, 'b', 1, 0, 0, 0, 0, 0, 0, 0,
				   1, PG_ATTR_INT, 'a', 2, 0, 0, 0, 0, 0, 0, 0 };
static const uint8_t blk_dup[] = { 1, PG_ATTR_INT, 'a', 1, 0, 0, 0, 0, 0, 0, 0,
				   1, PG_ATTR_INT, 'a', 2, 0, 0, 0, 0, 0, 0, 0 };
static const uint8_t blk_under[] = { 3, PG_ATTR_INT, 'a', '_', 'b', 1, 0, 0, 0, 0, 0, 0, 0 };
static const uint8_t blk_empty_name[] = { 0, PG_ATTR_INT, 1, 0, 0, 0, 0, 0, 0, 0 };
static const uint8_t blk_type9[] = { 1, 9, 'a', 1, 0, 0, 0, 0, 0, 0, 0 };
static const uint8_t blk_str_long[] = { 1, PG_ATTR_STRING, 's', 9, 0, 0, 0, 'x', 'y' };
static const uint8_t blk_str_bad[] = { 1, PG_ATTR_STRING, 's', 2, 0, 0, 0, 0xc3, 0x28 };
static const uint8_t blk_name_long[] = { 9, PG_ATTR_INT, 'a', 'b' };
static const uint8_t blk_int_short[] = { 1, PG_ATTR_INT, 'a', 1, 0, 0 };

static size_t make_bad(int no, uint8_t *buf)
{
	static uint8_t blk41[2 + 41 + 8];
	static char reserved[2 + 12 + 8];
	struct raw r = {
		.fmt = 1,
		.version = 1,
		.created = 10,
		.modified = 20,
		.expires = 30,
		.creator = "alice",
		.modifier = "",
		.attrs = blk_int,
		.attrs_len = sizeof(blk_int),
		.nattrs = 1,
		.payload = "data",
		.payload_len = 4,
	};
	char longid[301];
	size_t n;

	memset(longid, 'x', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = 0;
	switch (no) {
	case 1:
		return 0;
	case 2:
		raw_encode(&r, buf);
		return 79;
	case 3:
		r.fmt = 2;
		break;
	case 4:
		r.rsv8 = 1;
		break;
	case 5:
		r.rsv16 = 1;
		break;
	case 6:
		longid[257] = 0;
		r.creator = longid;
		break;
	case 7:
		longid[300] = 0;
		r.modifier = longid;
		break;
	case 8:
		r.nattrs = 129;
		break;
	case 9:
		n = raw_encode(&r, buf);
		store_le32(buf + O_PAYLOAD_LEN, 4096);
		return n;
	case 10:
		n = raw_encode(&r, buf);
		store_le32(buf + O_ATTRS_LEN, 0xfffffff0u);
		return n;
	case 11:
		n = raw_encode(&r, buf);
		store_le32(buf + O_PAYLOAD_LEN, 2000);
		return n;
	case 12:
		n = raw_encode(&r, buf);
		store_le16(buf + O_CREATOR_LEN, 200);
		return n;
	case 13:
		return raw_encode(&r, buf) - 2;
	case 14:
		n = raw_encode(&r, buf);
		store_le16(buf + n - 2, 4097);
		return n;
	case 15:
		n = raw_encode(&r, buf);
		store_le16(buf + n - 2, 100);
		return n;
	case 16:
		n = raw_encode(&r, buf);
		buf[n] = 0;
		return n + 1;
	case 17:
		r.version = 0;
		break;
	case 18:
		r.version = 0x80000000u;
		break;
	case 19:
		r.flags = 0x10;
		break;
	case 20:
		r.created = 21;
		break;
	case 21:
		r.expires = 20;
		break;
	case 22:
		r.created = 5;
		r.modified = 5;
		r.expires = 4;
		break;
	case 23:
		r.flags = PG_RECORD_DELETED;
		r.attrs = NULL;
		r.attrs_len = 0;
		r.nattrs = 0;
		break;
	case 24:
		r.flags = PG_RECORD_DELETED;
		r.payload_len = 0;
		break;
	case 25:
		r.attrs = blk_under;
		r.attrs_len = sizeof(blk_under);
		break;
	case 26:
		blk41[0] = 41;
		blk41[1] = PG_ATTR_INT;
		memset(blk41 + 2, 'n', 41);
		r.attrs = blk41;
		r.attrs_len = sizeof(blk41);
		break;
	case 27:
		r.attrs = blk_empty_name;
		r.attrs_len = sizeof(blk_empty_name);
		break;
	case 28:
		r.attrs = blk_type9;
		r.attrs_len = sizeof(blk_type9);
		break;
	case 29:
		r.attrs = blk_rev;
		r.attrs_len = sizeof(blk_rev);
		r.nattrs = 2;
		break;
	case 30:
		r.attrs = blk_dup;
		r.attrs_len = sizeof(blk_dup);
		r.nattrs = 2;
		break;
	case 31:
		reserved[0] = 12;
		reserved[1] = PG_ATTR_INT;
		memcpy(reserved + 2, "PEERRECORDID", 12);
		r.attrs = reserved;
		r.attrs_len = sizeof(reserved);
		break;
	case 32:
		r.attrs = blk_str_long;
		r.attrs_len = sizeof(blk_str_long);
		break;
	case 33:
		r.attrs = blk_two;
		r.attrs_len = sizeof(blk_two);
		r.nattrs = 1;
		break;
	case 34:
		r.nattrs = 2;
		break;
	case 35:
		r.creator = "\xc0\xaf";
		break;
	case 36:
		r.attrs = blk_str_bad;
		r.attrs_len = sizeof(blk_str_bad);
		break;
	case 37:
		r.attrs = blk_name_long;
		r.attrs_len = sizeof(blk_name_long);
		break;
	case 38:
		r.attrs = blk_int_short;
		r.attrs_len = sizeof(blk_int_short);
		break;
	default:
		cr_assert_fail("no row %d", no);
	}
	return raw_encode(&r, buf);
}

Test(codec, malformed_table)
{
	static uint8_t buf[8192];

	for (size_t i = 0; i < sizeof(bad_rows) / sizeof(bad_rows[0]); i++) {
		const struct bad_row *t = &bad_rows[i];
		struct pg_record out, untouched;
		size_t n = make_bad(t->no, buf);
		int err;

		memset(&out, 0x5a, sizeof(out));
		untouched = out;
		err = pg_record_decode(buf, n, &lim, &out);
		cr_expect_eq(err, t->want, "row %d (%s): got %s (%d), want %s", t->no, t->what,
			     pg_strerror_name(err), err, pg_strerror_name(t->want));
		cr_expect_eq(memcmp(&out, &untouched, sizeof(out)), 0, "row %d: output changed",
			     t->no);
		cr_expect_str_neq(pg_strerror(t->want), "unknown error", "row %d has a message",
				  t->no);
	}
}

/* The valid base of the table decodes: the rows fail for the reason they name. */
Test(codec, malformed_table_base_is_valid)
{
	uint8_t buf[1024];
	struct pg_record out;
	struct raw r = { .fmt = 1,
			 .version = 1,
			 .created = 10,
			 .modified = 20,
			 .expires = 30,
			 .creator = "alice",
			 .modifier = "",
			 .attrs = blk_int,
			 .attrs_len = sizeof(blk_int),
			 .nattrs = 1,
			 .payload = "data",
			 .payload_len = 4 };

	cr_assert_eq(pg_record_decode(buf, raw_encode(&r, buf), &lim, &out), 0);
}

Test(codec, truncated_at_every_offset)
{
	uint8_t buf[1024], cut[1024];
	size_t n = encode_sample(buf, sizeof(buf));
	struct pg_record out;

	for (size_t i = 0; i < n; i++) {
		/* a fresh copy of exactly i bytes, so ASan sees any read past the end */
		uint8_t *p = malloc(i ? i : 1);
		memcpy(p, buf, i);
		int err = pg_record_decode(p, i, &lim, &out);
		cr_expect(err == PG_E_TRUNCATED || err == PG_E_LENGTH, "cut at %zu: got %s", i,
			  pg_strerror_name(err));
		free(p);
	}
	memcpy(cut, buf, n);
	cr_assert_eq(pg_record_decode(cut, n, &lim, &out), 0);
}

/* ---- batches -------------------------------------------------------------------------- */

static size_t make_batch(uint8_t *buf, size_t cap, unsigned count)
{
	struct pg_batch_writer w;
	struct pg_record r = sample();

	cr_assert_eq(pg_batch_begin(&w, buf, cap, 0x1122334455667788ull), 0);
	for (unsigned i = 0; i < count; i++) {
		r.id.b[0] = (uint8_t)i;
		cr_assert_eq(pg_batch_add(&w, &r, &lim), 0);
	}
	return pg_batch_end(&w);
}

Test(codec, batch_round_trip)
{
	static uint8_t buf[PG_DATAGRAM_MAX];
	struct pg_record recs[600];
	struct pg_record want = sample();
	uint64_t graph;
	unsigned n;
	size_t len = make_batch(buf, sizeof(buf), 100);

	cr_assert_eq(pg_batch_decode(buf, len, &lim, &graph, recs, 600, &n), 0);
	cr_assert_eq(n, 100);
	cr_assert_eq(graph, 0x1122334455667788ull);
	for (unsigned i = 0; i < n; i++) {
		want.id.b[0] = (uint8_t)i;
		cr_assert(same_record(&want, &recs[i]), "record %u", i);
	}
}

Test(codec, batch_fills_a_datagram_then_refuses)
{
	static uint8_t buf[PG_DATAGRAM_MAX];
	struct pg_batch_writer w;
	struct pg_record r = sample();
	size_t before;
	unsigned added = 0;

	pg_batch_begin(&w, buf, sizeof(buf), 1);
	while (pg_batch_add(&w, &r, &lim) == 0)
		added++;
	before = w.len;
	cr_assert_eq(pg_batch_add(&w, &r, &lim), -ENOSPC);
	cr_assert_eq(w.len, before, "a refused add leaves the batch unchanged");
	cr_assert_eq(added, (sizeof(buf) - PG_BATCH_HDR_LEN) / (4 + pg_record_encoded_size(&r)));
	r.version = 0;
	pg_batch_begin(&w, buf, sizeof(buf), 1);
	cr_assert_eq(pg_batch_add(&w, &r, &lim), PG_E_BAD_VERSION);
	cr_assert_eq(w.count, 0);
}

struct batch_row {
	int no;
	const char *what;
	int want;
};

static const struct batch_row batch_rows[] = {
	{ 101, "bad magic", PG_E_BAD_MAGIC },
	{ 102, "batch format 2", PG_E_BAD_FORMAT },
	{ 103, "batch flags set", PG_E_BAD_FORMAT },
	{ 104, "count over the caller's bound", PG_E_TOO_MANY_RECORDS },
	{ 105, "record length past the end", PG_E_LENGTH },
	{ 106, "bytes after the last record", PG_E_TRAILING },
	{ 107, "count says one more record", PG_E_TRUNCATED },
	{ 108, "a bad record inside", PG_E_BAD_VERSION },
	{ 109, "header cut short", PG_E_TRUNCATED },
};

Test(codec, batch_malformed_table)
{
	static uint8_t buf[PG_DATAGRAM_MAX];
	struct pg_record recs[8];

	for (size_t i = 0; i < sizeof(batch_rows) / sizeof(batch_rows[0]); i++) {
		const struct batch_row *t = &batch_rows[i];
		size_t len = make_batch(buf, sizeof(buf), 3);
		size_t first = PG_BATCH_HDR_LEN;
		unsigned max = 8, n = 42;
		uint64_t graph = 7;
		int err;

		switch (t->no) {
		case 101:
			buf[0] ^= 1;
			break;
		case 102:
			buf[4] = 2;
			break;
		case 103:
			buf[5] = 1;
			break;
		case 104:
			max = 2;
			break;
		case 105:
			store_le32(buf + first, 60000);
			break;
		case 106:
			buf[len++] = 0;
			break;
		case 107:
			store_le16(buf + 6, 4);
			break;
		case 108:
			store_le32(buf + first + 4 + O_VERSION, 0);
			break;
		case 109:
			len = 15;
			break;
		}
		err = pg_batch_decode(buf, len, &lim, &graph, recs, max, &n);
		cr_expect_eq(err, t->want, "row %d (%s): got %s", t->no, t->what,
			     pg_strerror_name(err));
		cr_expect_eq(n, 0, "row %d: nothing decoded", t->no);
		cr_expect_eq(graph, 7, "row %d: graph untouched", t->no);
	}
}

Test(codec, batch_truncated_at_every_offset)
{
	static uint8_t buf[4096];
	struct pg_record recs[4];
	uint64_t graph;
	unsigned n;
	size_t len = make_batch(buf, sizeof(buf), 3);

	for (size_t i = 0; i < len; i++) {
		uint8_t *p = malloc(i ? i : 1);
		memcpy(p, buf, i);
		int err = pg_batch_decode(p, i, &lim, &graph, recs, 4, &n);
		cr_expect(err == PG_E_TRUNCATED || err == PG_E_LENGTH, "cut at %zu: %s", i,
			  pg_strerror_name(err));
		cr_expect_eq(n, 0);
		free(p);
	}
}

Test(codec, limits_and_updates)
{
	struct pg_record_limits l;
	struct pg_record a = sample(), b = sample();

	pg_record_limits_default(&l);
	cr_assert_eq(pg_record_limits_check(&l), 0);
	l.max_record_size = 1023;
	cr_assert_eq(pg_record_limits_check(&l), PG_E_BAD_LIMIT);
	l.max_record_size = 60u << 20;
	cr_assert_eq(pg_record_limits_check(&l), 0);
	l.max_record_size++;
	cr_assert_eq(pg_record_limits_check(&l), PG_E_BAD_LIMIT);

	b.version = 4;
	cr_assert_eq(pg_record_check_update(&a, &b), 0);
	b.expires_us = a.expires_us - 1;
	cr_assert_eq(pg_record_check_update(&a, &b), PG_E_EXPIRY_SHRANK);
	b.expires_us = a.expires_us + 1;
	b.type.b[3] ^= 1;
	cr_assert_eq(pg_record_check_update(&a, &b), PG_E_BAD_FORMAT);
}

/* The creator never changes from one version to the next (issue 12 item 1): a copy naming
 * another creator, or another id under the same key, is refused by the one rule every module
 * applies before a replacement. */
Test(codec, update_keeps_creator_and_id)
{
	struct pg_record a = sample(), b = sample();

	b.version = a.version + 1;
	cr_assert_eq(pg_record_check_update(&a, &b), 0);
	b.creator = "bob";
	b.creator_len = 3;
	cr_assert_eq(pg_record_check_update(&a, &b), PG_E_CREATOR_CHANGED);
	b.creator = a.creator;
	b.creator_len = (uint16_t)(a.creator_len - 1); /* a prefix of the creator is another */
	cr_assert_eq(pg_record_check_update(&a, &b), PG_E_CREATOR_CHANGED);
	b.creator_len = a.creator_len;
	b.id.b[15] ^= 1;
	cr_assert_eq(pg_record_check_update(&a, &b), PG_E_KEY_COLLISION);
	/* an administrator's update keeps the creator and names itself as modifier */
	b = sample();
	b.version = a.version + 1;
	b.modifier = "admin";
	b.modifier_len = 5;
	cr_assert_eq(pg_record_check_update(&a, &b), 0);
}

Test(codec, key_of_encoding)
{
	uint8_t buf[1024];
	size_t n = encode_sample(buf, sizeof(buf));
	struct pg_record r;
	uint64_t g = pg_graph_key("graph-one", 9);

	cr_assert_eq(pg_record_decode(buf, n, &lim, &r), 0);
	cr_assert(pg_key_eq(pg_record_key_encoded(g, buf), pg_record_key_of(g, &r)));
	cr_assert(
	    pg_key_eq(pg_record_key_of(g, &r), pg_record_key(g, &r.id, r.creator, r.creator_len)));
}

/* The prefetch hint reads untrusted bytes: the key when header and creator are all there,
 * false for anything shorter (ASan checks nothing past len is read). */
Test(codec, key_peek_of_untrusted_bytes)
{
	uint8_t buf[1024], *copy;
	size_t n = encode_sample(buf, sizeof(buf));
	struct pg_record r;
	struct pg_key k;
	uint64_t g = pg_graph_key("graph-one", 9);

	cr_assert_eq(pg_record_decode(buf, n, &lim, &r), 0);
	cr_assert(pg_record_key_peek(g, buf, n, &k));
	cr_assert(pg_key_eq(k, pg_record_key_of(g, &r)));
	cr_assert(pg_record_key_peek(g, buf, PG_RECORD_HDR_LEN + r.creator_len, &k));
	for (size_t len = 0; len < (size_t)PG_RECORD_HDR_LEN + r.creator_len; len++) {
		copy = malloc(len ? len : 1);
		memcpy(copy, buf, len);
		cr_assert_not(pg_record_key_peek(g, copy, len, &k), "%zu bytes", len);
		free(copy);
	}
	/* a creator length past PG_ID_MAX, with every byte it names present */
	buf[64] = (PG_ID_MAX + 1) & 0xff;
	buf[65] = (PG_ID_MAX + 1) >> 8;
	cr_assert_not(pg_record_key_peek(g, buf, sizeof(buf), &k));
}

Test(codec, keys_and_guids)
{
	struct pg_guid g, back;
	char text[37];
	uint64_t g1 = pg_graph_key("graph-one", 9), g2 = pg_graph_key("graph-two", 9);

	for (int i = 0; i < 16; i++)
		g.b[i] = (uint8_t)(i * 17);
	cr_assert(!pg_key_eq(pg_record_key(g1, &g, "alice", 5), pg_record_key(g2, &g, "alice", 5)),
		  "same id in two graphs has two keys");
	cr_assert(pg_key_eq(pg_record_key(g1, &g, "alice", 5), pg_record_key(g1, &g, "alice", 5)));
	cr_assert(!pg_key_eq(pg_record_key(g1, &g, "alice", 5), pg_record_key(g1, &g, "bob", 3)),
		  "the key covers the creator: bob's record with alice's id is another record");
	cr_assert(!pg_key_eq(pg_record_key(g1, &g, "alice", 5), pg_record_key(g1, &g, "alic", 4)));
	pg_guid_format(&g, text);
	cr_assert_str_eq(text, "00112233-4455-6677-8899-aabbccddeeff");
	cr_assert_eq(pg_guid_parse(text, 36, &back), 0);
	cr_assert_eq(memcmp(&g, &back, 16), 0);
	cr_assert_eq(pg_guid_parse("{00112233-4455-6677-8899-AABBCCDDEEFF}", 38, &back), 0);
	cr_assert_eq(memcmp(&g, &back, 16), 0);
	cr_assert_eq(pg_guid_parse("00112233-4455-6677-8899-aabbccddeefg", 36, &back),
		     PG_E_QUERY_TYPE);
	cr_assert_eq(pg_guid_parse("0011223344556677-8899-aabbccddeeff", 34, &back),
		     PG_E_QUERY_TYPE);
}

Test(codec, utf8)
{
	cr_assert(pg_utf8_valid("", 0));
	cr_assert(pg_utf8_valid("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80", 15));
	cr_assert(!pg_utf8_valid("\xc0\xaf", 2), "overlong");
	cr_assert(!pg_utf8_valid("\xed\xa0\x80", 3), "surrogate");
	cr_assert(!pg_utf8_valid("\xf4\x90\x80\x80", 4), "above U+10FFFF");
	cr_assert(!pg_utf8_valid("\xe2\x82", 2), "cut short");
	cr_assert(!pg_utf8_valid("\x80", 1), "lone continuation");
}
