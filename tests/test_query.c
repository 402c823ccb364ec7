/*
 * test_query.c - the record search language (shared/query.c), as a specification.
 *
 * Two records, A and B, carry attributes of every type plus the reserved fields. The match
 * table gives a query and whether it must match A and B; the reject table gives a query,
 * the code it must be rejected with and the byte offset reported. Every query is parsed from
 * a heap copy of exactly its length (no NUL after it), so ASan catches any read past the end.
 * Two randomized differential tests check the wildcard matcher against naive recursive ones,
 * and the adversaries of a quadratic matcher must stay inside the work bound of query.h,
 * counted in steps (pg_query_match_stats), not timed.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_assert.h"
#include "pg_error.h"
#include "query.h"
#include "record.h"

/* ---- fixtures ----------------------------------------------------------------------- */

struct rec {
	struct pg_record r;
	uint8_t attrs[1 << 15];
};

static const struct pg_guid type_guid = { { 0x0f, 0x1e, 0x2d, 0x3c, 0x4b, 0x5a, 0x69, 0x78, 0x87,
					    0x96, 0xa5, 0xb4, 0xc3, 0xd2, 0xe1, 0xf0 } };

/* A fully valid record with the given attributes; checked with the record rules. */
static void rec_build(struct rec *out, const struct pg_attr *attrs, unsigned n)
{
	struct pg_record_limits lim;
	long len;

	memset(&out->r, 0, sizeof(out->r));
	len = pg_attrs_encode(attrs, n, out->attrs, sizeof(out->attrs));
	cr_assert_geq(len, 0, "pg_attrs_encode: %s", pg_strerror((int)len));
	out->r.type = type_guid;
	out->r.version = 1;
	out->r.nattrs = (uint16_t)n;
	out->r.attrs = out->attrs;
	out->r.attrs_len = (uint32_t)len;
	out->r.creator = "";
	out->r.modifier = "";
	out->r.created_us = 1;
	out->r.modified_us = 1;
	out->r.expires_us = 1800000000000000ull;
	pg_record_limits_default(&lim);
	cr_assert_eq(pg_attrs_check(out->r.attrs, out->r.attrs_len, n), 0);
	cr_assert_eq(pg_record_validate(&out->r, &lim), 0);
}

static struct rec rec_a, rec_b;

static void setup(void)
{
	const struct pg_attr a[] = {
		pg_attr_int("age", 42),
		pg_attr_int("temp", -5),
		pg_attr_int("big", INT64_MAX),
		pg_attr_int("small", INT64_MIN),
		pg_attr_int("and", 1),
		pg_attr_str("name", "Hello World"),
		pg_attr_str("city", "Z\xc3\xbcrich"),	   /* Zürich */
		pg_attr_str("emoji", "\xf0\x9f\x98\x80x"), /* U+1F600 then x */
		pg_attr_str("lit", "a*b?c\\d"),
		pg_attr_str("quote", "say \"hi\""),
		pg_attr_str("empty", ""),
		pg_attr_date("born", 946684800000000ull), /* 2000-01-01T00:00:00Z */
		pg_attr_date("leap", 951782400500000ull), /* 2000-02-29T00:00:00.5Z */
	};
	const struct pg_attr b[] = {
		pg_attr_str("age", "42"),		/* same name, other type */
		pg_attr_int("temp", 7),			/* A: -5 */
		pg_attr_str("name", "hello world"),	/* A: Hello World */
		pg_attr_int("born", 946684800000000ll), /* same name, other type */
	};
	static const struct pg_guid id_a = { { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
					       0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff } };
	static const struct pg_guid id_b = { { 0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88, 0x77,
					       0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0x00 } };
	struct pg_record_limits lim;

	pg_record_limits_default(&lim);
	rec_build(&rec_a, a, PG_ARRAY_SIZE(a));
	rec_a.r.id = id_a;
	rec_a.r.creator = "alice";
	rec_a.r.creator_len = 5;
	rec_a.r.modifier = "bob";
	rec_a.r.modifier_len = 3;
	rec_a.r.version = 2;
	rec_a.r.created_us = 1700000000000000ull;  /* 2023-11-14T22:13:20Z */
	rec_a.r.modified_us = 1700000000123456ull; /* 2023-11-14T22:13:20.123456Z */
	cr_assert_eq(pg_record_validate(&rec_a.r, &lim), 0);

	rec_build(&rec_b, b, PG_ARRAY_SIZE(b));
	rec_b.r.id = id_b;
	rec_b.r.creator = "carol";
	rec_b.r.creator_len = 5;
	rec_b.r.created_us = 1600000000000000ull; /* 2020-09-13T12:26:40Z, never updated */
	rec_b.r.modified_us = 1600000000000000ull;
	cr_assert_eq(pg_record_validate(&rec_b.r, &lim), 0);
}

TestSuite(query, .init = setup);

/* Parses a heap copy of exactly len bytes of text. */
static int parse(const char *text, size_t len, struct pg_query **q, struct pg_query_error *err)
{
	char *copy = malloc(len ? len : 1);
	int rc;

	cr_assert(copy);
	memcpy(copy, text, len);
	rc = pg_query_parse(copy, len, q, err);
	free(copy);
	return rc;
}

/* ---- matching ----------------------------------------------------------------------- */

struct match_row {
	int no;
	const char *q;
	bool a, b; /* matches record A, record B */
};

static const struct match_row match_rows[] = {
	/* int: every operator; B's age is a string, so int clauses on age never match B */
	{ 1, "age = 42", 1, 0 },
	{ 2, "age != 42", 0, 0 },
	{ 3, "age != 41", 1, 0 },
	{ 4, "age < 43", 1, 0 },
	{ 5, "age < 42", 0, 0 },
	{ 6, "age > 41", 1, 0 },
	{ 7, "age > 42", 0, 0 },
	{ 8, "age <= 42", 1, 0 },
	{ 9, "age <= 41", 0, 0 },
	{ 10, "age >= 42", 1, 0 },
	{ 11, "age >= 43", 0, 0 },
	{ 12, "age \xe2\x89\xa0 42", 0, 0 }, /* ≠ */
	{ 13, "age \xe2\x89\xa4 42", 1, 0 }, /* ≤ */
	{ 14, "age \xe2\x89\xa5 43", 0, 0 }, /* ≥ */
	{ 15, "temp = -5", 1, 0 },
	{ 16, "temp < 0", 1, 0 },
	{ 17, "temp > -6", 1, 1 },
	{ 18, "big = 9223372036854775807", 1, 0 },
	{ 19, "small = -9223372036854775808", 1, 0 },
	{ 20, "small < -9223372036854775807", 1, 0 },
	{ 21, "age = \"42\"", 0, 1 },
	{ 22, "age=42", 1, 0 },
	{ 23, " \t age\r\n=\n42 \t", 1, 0 },
	{ 24, "age = 0042", 1, 0 },
	{ 25, "age\xe2\x89\xa5-1", 1, 0 },
	/* date: both forms, every operator; B's born is an int */
	{ 30, "born = date(946684800000000)", 1, 0 },
	{ 31, "born = date(2000-01-01T00:00:00Z)", 1, 0 },
	{ 32, "born != date(2000-01-01T00:00:00Z)", 0, 0 },
	{ 33, "born != date(0)", 1, 0 },
	{ 34, "born < date(2000-01-01T00:00:00.000001Z)", 1, 0 },
	{ 35, "born > date(1999-12-31T23:59:59.999999Z)", 1, 0 },
	{ 36, "born <= date(2000-01-01T00:00:00Z)", 1, 0 },
	{ 37, "born >= date(2000-01-01T00:00:01Z)", 0, 0 },
	{ 38, "born \xe2\x89\xa4 date(1999-12-31T23:59:59Z)", 0, 0 },
	{ 39, "leap = date(2000-02-29T00:00:00.5Z)", 1, 0 },
	{ 40, "leap = date( 951782400500000 )", 1, 0 },
	{ 41, "leap = date(2000-02-29T00:00:00.500000Z)", 1, 0 },
	{ 42, "born = 946684800000000", 0, 1 },
	{ 43, "born = DATE(2000-01-01T00:00:00Z)", 1, 0 },
	{ 44, "born = date (1970-01-01T00:00:00Z)", 0, 0 },
	{ 45, "born > date(1970-01-01T00:00:00Z)", 1, 0 },
	/* reserved date fields */
	{ 50, "peercreationtime = date(2023-11-14T22:13:20Z)", 1, 0 },
	{ 51, "peercreationtime < date(2023-11-14T22:13:20Z)", 0, 1 },
	{ 52, "peercreationtime >= date(1600000000000000)", 1, 1 },
	{ 53, "peercreationtime > date(2020-09-13T12:26:40Z)", 1, 0 },
	{ 54, "peercreationtime != date(2020-09-13T12:26:40Z)", 1, 0 },
	{ 55, "PeerCreationTime <= date(2020-09-13T12:26:40Z)", 0, 1 },
	{ 56, "peerlastmodificationtime = date(2023-11-14T22:13:20.123456Z)", 1, 0 },
	{ 57, "PEERLASTMODIFICATIONTIME <= date(2020-09-13T12:26:40Z)", 0, 1 },
	{ 58, "peerlastmodificationtime != date(1600000000000000)", 1, 0 },
	{ 59, "peerlastmodificationtime > date(2023-11-14T22:13:20.123455Z)", 1, 0 },
	/* reserved string fields */
	{ 60, "peercreatorid = \"alice\"", 1, 0 },
	{ 61, "PEERCREATORID = \"a*\"", 1, 0 },
	{ 62, "peercreatorid != \"alice\"", 0, 1 },
	{ 63, "peercreatorid < \"bob\"", 1, 0 },
	{ 64, "peercreatorid > \"bob\"", 0, 1 },
	{ 65, "peercreatorid <= \"alice\"", 1, 0 },
	{ 66, "peercreatorid >= \"carol\"", 0, 1 },
	{ 67, "peerlastmodifiedby = \"bob\"", 1, 0 },
	{ 68, "peerlastmodifiedby = \"\"", 0, 1 },
	{ 69, "peerlastmodifiedby = \"*\"", 1, 1 },
	{ 70, "peerlastmodifiedby = \"?*\"", 1, 0 },
	{ 71, "peerrecordid = \"00112233-4455-6677-8899-aabbccddeeff\"", 1, 0 },
	{ 72, "peerrecordid = \"00112233-4455-6677-8899-AABBCCDDEEFF\"", 1, 0 },
	{ 73, "peerrecordid = \"FFEEDD*\"", 0, 1 },
	{ 74, "peerrecordid > \"8\"", 0, 1 },
	{ 75, "peerrecordtype = \"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0\"", 1, 1 },
	{ 76, "peerrecordtype != \"0F1E2D3C-*\"", 0, 0 },
	/* split so that no "??-" trigraph forms */
	{ 77,
	  "peerrecordtype = \"????????"
	  "-????"
	  "-????"
	  "-????"
	  "-????????????\"",
	  1, 1 },
	{ 78, "PeerRecordId \xe2\x89\xa4 \"00112233-4455-6677-8899-AABBCCDDEEFF\"", 1, 0 },
	/* strings: operators, case sensitivity, bytewise order */
	{ 80, "name = \"Hello World\"", 1, 0 },
	{ 81, "name = \"hello world\"", 0, 1 },
	{ 82, "name != \"Hello World\"", 0, 1 },
	{ 83, "name < \"Hello Worle\"", 1, 0 },
	{ 84, "name > \"Hello\"", 1, 1 },
	{ 85, "name <= \"Hello World\"", 1, 0 },
	{ 86, "name >= \"hello\"", 0, 1 },
	{ 87, "name \xe2\x89\xa5 \"Hello World!\"", 0, 1 },
	{ 88, "city > \"Zz\"", 1, 0 }, /* U+00FC sorts after 'z' */
	{ 89, "city = \"Z\xc3\xbcrich\"", 1, 0 },
	/* wildcards */
	{ 90, "name = \"Hello*\"", 1, 0 },
	{ 91, "name = \"*World\"", 1, 0 },
	{ 92, "name = \"H*o W*d\"", 1, 0 },
	{ 93, "name = \"*o*o*\"", 1, 1 },
	{ 94, "name = \"*\"", 1, 1 },
	{ 95, "name = \"**\"", 1, 1 },
	{ 96, "name = \"?ello World\"", 1, 0 },
	{ 97, "name = \"Hello?World\"", 1, 0 },
	{ 98, "name = \"Hello World?\"", 0, 0 },
	{ 99, "name = \"???????????\"", 1, 1 },
	{ 100, "name = \"??????????\"", 0, 0 },
	{ 101, "name = \"*d\"", 1, 1 },
	{ 102, "name = \"*x*\"", 0, 0 },
	{ 103, "name != \"h*\"", 1, 0 },
	{ 104, "name \xe2\x89\xa0 \"H*\"", 0, 1 },
	{ 105, "name = \"*l*l*o*\"", 1, 1 },
	{ 106, "name = \"H*?\"", 1, 0 },
	{ 107, "name = \"*W*W*\"", 0, 0 },
	{ 108, "city = \"Z?rich\"", 1, 0 },
	{ 109, "city = \"Z??rich\"", 0, 0 },
	{ 110, "city = \"*\xc3\xbc*\"", 1, 0 },
	{ 111, "city = \"??????\"", 1, 0 },
	{ 112, "emoji = \"?x\"", 1, 0 },
	{ 113, "emoji = \"??x\"", 0, 0 },
	{ 114, "emoji = \"*x\"", 1, 0 },
	{ 115, "emoji = \"\xf0\x9f\x98\x80?\"", 1, 0 },
	/* escapes: lit is a*b?c\d */
	{ 120, "lit = \"a\\*b\\?c\\\\d\"", 1, 0 },
	{ 121, "lit = \"a\\*b?c\\\\d\"", 1, 0 },
	{ 122, "lit = \"a\\**\"", 1, 0 },
	{ 123, "lit = \"a\\?*\"", 0, 0 },
	{ 124, "lit = \"*\\\\d\"", 1, 0 },
	{ 125, "lit = \"*\\\\?\"", 1, 0 },
	{ 126, "lit = \"*\\?*\"", 1, 0 },
	{ 127, "lit = \"*\\?\"", 0, 0 },
	{ 128, "name = \"Hello\\*\"", 0, 0 },
	{ 129, "lit != \"a\\*b\\?c\\\\d\"", 0, 0 },
	/* with < > <= >= a string compares literally: * ? are plain, \x still means x */
	{ 130, "lit > \"a*\"", 1, 0 },
	{ 131, "lit < \"a\\*c\"", 1, 0 },
	{ 132, "lit <= \"a*b?c\\\\d\"", 1, 0 },
	{ 133, "lit >= \"a\\*b\\?c\\\\d\"", 1, 0 },
	{ 134, "name < \"*\"", 0, 0 },
	/* a doubled quote is one quote */
	{ 140, "quote = \"say \"\"hi\"\"\"", 1, 0 },
	{ 141, "quote = \"*\"\"hi\"\"\"", 1, 0 },
	{ 142, "quote = \"say ?hi?\"", 1, 0 },
	{ 143, "quote = \"say \"\"hi\"", 0, 0 },
	/* the empty string */
	{ 150, "empty = \"\"", 1, 0 },
	{ 151, "empty = \"*\"", 1, 0 },
	{ 152, "empty = \"?\"", 0, 0 },
	{ 153, "empty != \"x\"", 1, 0 },
	{ 154, "empty < \"a\"", 1, 0 },
	{ 155, "empty >= \"\"", 1, 0 },
	/* absent attribute or other type: false, for != too */
	{ 160, "nosuch = 1", 0, 0 },
	{ 161, "nosuch != 1", 0, 0 },
	{ 162, "nosuch != \"x\"", 0, 0 },
	{ 163, "nosuch != date(0)", 0, 0 },
	{ 164, "city != \"x\"", 1, 0 },
	{ 165, "name != 5", 0, 0 },
	{ 166, "age != date(0)", 0, 0 },
	{ 167, "Age = 42", 0, 0 }, /* attribute names are exact */
	/* and / or */
	{ 170, "and(age = 42, name = \"Hello*\")", 1, 0 },
	{ 171, "and(age = 42, name = \"x\")", 0, 0 },
	{ 172, "or(age = 42, name = \"hello*\")", 1, 1 },
	{ 173, "or(age = 1, name = \"x\")", 0, 0 },
	{ 174, "and(age = 42)", 1, 0 },
	{ 175, "or(nosuch = 1)", 0, 0 },
	{ 176,
	  "AND(OR(temp = -5, temp = 7), Or(peercreatorid = \"alice\", peercreatorid = \"carol\"))",
	  1, 1 },
	{ 177,
	  "and(or(and(age = 42, city = \"Z*\"), name = \"hello world\"), peerrecordtype = "
	  "\"0f1e*\")",
	  1, 1 },
	{ 178, "or(and(age = 42, temp = 7), and(age = \"42\", temp = 7))", 0, 1 },
	{ 179, " and ( age = 42 , or ( temp = -5 ) ) ", 1, 0 },
	{ 180, "and = 1", 1, 0 }, /* a word not followed by "(" is a name */
	{ 181, "or(and = 1, date = date(0))", 1, 0 },
	{ 182, "and(and(and(age = 42)), or(or(name = \"*\")))", 1, 0 },
	{ 183, "or(temp=7,temp=-5)", 1, 1 },
	{ 184, "and(temp != 7, temp != -5)", 0, 0 },
};

Test(query, match_table)
{
	for (size_t i = 0; i < PG_ARRAY_SIZE(match_rows); i++) {
		const struct match_row *t = &match_rows[i];
		struct pg_query_error err = { 99, 99 };
		struct pg_query *q;
		int rc = parse(t->q, strlen(t->q), &q, &err);

		cr_expect_eq(rc, 0, "row %d: parse \"%s\": %s at %zu", t->no, t->q, pg_strerror(rc),
			     err.offset);
		if (rc)
			continue;
		cr_expect_eq(err.code, 0, "row %d: err.code on success", t->no);
		cr_expect_eq(pg_query_match(q, &rec_a.r), t->a, "row %d: \"%s\" on A", t->no, t->q);
		cr_expect_eq(pg_query_match(q, &rec_b.r), t->b, "row %d: \"%s\" on B", t->no, t->q);
		pg_query_destroy(q);
	}
}

/* Every proper prefix of every valid query is parsed from an exact-length copy: it may be
 * accepted or rejected, but must never read past its end (ASan) and must report an offset
 * inside the text. */
Test(query, prefixes)
{
	for (size_t i = 0; i < PG_ARRAY_SIZE(match_rows); i++) {
		const char *text = match_rows[i].q;

		for (size_t n = 0; n < strlen(text); n++) {
			struct pg_query_error err;
			struct pg_query *q = (struct pg_query *)&err;
			int rc = parse(text, n, &q, &err);

			if (rc == 0) {
				pg_query_match(q, &rec_a.r);
				pg_query_destroy(q);
				continue;
			}
			cr_expect_null(q, "row %d prefix %zu: *out not NULL", match_rows[i].no, n);
			cr_expect_eq(err.code, rc);
			cr_expect_leq(err.offset, n, "row %d prefix %zu: offset %zu",
				      match_rows[i].no, n, err.offset);
		}
	}
}

/* ---- rejection ---------------------------------------------------------------------- */

struct reject_row {
	int no;
	const char *q;
	size_t len; /* 0: strlen(q) */
	int code;
	size_t offset;
};

static const struct reject_row reject_rows[] = {
	/* structure */
	{ 1, "", 0, PG_E_QUERY_SYNTAX, 0 },
	{ 2, "   ", 0, PG_E_QUERY_SYNTAX, 3 },
	{ 3, "and(age = 1", 0, PG_E_QUERY_SYNTAX, 11 },
	{ 4, "and(age = 1))", 0, PG_E_QUERY_SYNTAX, 12 },
	{ 5, "and()", 0, PG_E_QUERY_SYNTAX, 4 },
	{ 6, "and(age = 1,)", 0, PG_E_QUERY_SYNTAX, 12 },
	{ 7, "and(age = 1 x = 2)", 0, PG_E_QUERY_SYNTAX, 12 },
	{ 8, "not(age = 1)", 0, PG_E_QUERY_SYNTAX, 0 },
	{ 9, "(age = 1)", 0, PG_E_QUERY_SYNTAX, 0 },
	{ 10, "age", 0, PG_E_QUERY_SYNTAX, 3 },
	{ 11, "age =", 0, PG_E_QUERY_SYNTAX, 5 },
	{ 12, "age = 1, b = 2", 0, PG_E_QUERY_SYNTAX, 7 },
	{ 13, "and(or(a = 1)", 0, PG_E_QUERY_SYNTAX, 13 },
	{ 14, ")", 0, PG_E_QUERY_SYNTAX, 0 },
	{ 15, "and (", 0, PG_E_QUERY_SYNTAX, 5 },
	{ 16, "age = 1 \xe2\x89\xa0 2", 0, PG_E_QUERY_SYNTAX, 8 },
	{ 17, "age \xe2\x89\xa0", 0, PG_E_QUERY_SYNTAX, 7 },
	{ 18, "age = ,", 0, PG_E_QUERY_SYNTAX, 6 },
	{ 19, "and(age = )", 0, PG_E_QUERY_SYNTAX, 10 },
	{ 20, "age = 1 \0", 9, PG_E_QUERY_SYNTAX, 8 },
	{ 25, "age = 1\0", 8, PG_E_QUERY_TYPE, 6 },
	{ 21, "and(age ,", 0, PG_E_QUERY_SYNTAX, 8 },
	{ 22, "age = 1 and(b = 1)", 0, PG_E_QUERY_SYNTAX, 8 },
	{ 23, "\"age\" = 1", 0, PG_E_QUERY_SYNTAX, 0 },
	{ 24, "date(0) = 1", 0, PG_E_QUERY_SYNTAX, 0 },
	/* operators */
	{ 30, "age == 1", 0, PG_E_QUERY_OPERATOR, 4 },
	{ 31, "age <> 1", 0, PG_E_QUERY_OPERATOR, 4 },
	{ 32, "age ~ 1", 0, PG_E_QUERY_OPERATOR, 4 },
	{ 33, "age => 1", 0, PG_E_QUERY_OPERATOR, 4 },
	{ 34, "age \xe2\x89\xa4= 1", 0, PG_E_QUERY_OPERATOR, 4 },
	{ 35, "age =\xe2\x89\xa5 1", 0, PG_E_QUERY_OPERATOR, 4 },
	{ 36, "age 1", 0, PG_E_QUERY_OPERATOR, 4 },
	{ 37, "age ! 1", 0, PG_E_QUERY_OPERATOR, 4 },
	{ 38, "age \"x\"", 0, PG_E_QUERY_OPERATOR, 4 },
	{ 39, "age \xe2\x89\xa1 1", 0, PG_E_QUERY_OPERATOR, 4 }, /* U+2261 is no operator */
	/* names */
	{ 40, "ag_e = 1", 0, PG_E_ATTR_NAME, 0 },
	{ 41, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa = 1", 0, PG_E_ATTR_NAME, 0 },
	{ 42,
	  "gr\xc3\xb6\xc3\x9f"
	  "e = 1",
	  0, PG_E_ATTR_NAME, 0 },
	{ 43, "and(x = 1, a.b = 2)", 0, PG_E_ATTR_NAME, 11 },
	{ 44, "or(a-b=1)", 0, PG_E_ATTR_NAME, 3 },
	/* int */
	{ 50, "age = 12x", 0, PG_E_QUERY_TYPE, 6 },
	{ 51, "age = 1.5", 0, PG_E_QUERY_TYPE, 6 },
	{ 52, "age = -", 0, PG_E_QUERY_TYPE, 6 },
	{ 53, "age = 9223372036854775808", 0, PG_E_QUERY_TYPE, 6 },
	{ 54, "age = -9223372036854775809", 0, PG_E_QUERY_TYPE, 6 },
	{ 55, "age = 99999999999999999999999", 0, PG_E_QUERY_TYPE, 6 },
	{ 56, "age = abc", 0, PG_E_QUERY_TYPE, 6 },
	{ 57, "age = +5", 0, PG_E_QUERY_TYPE, 6 },
	{ 58, "age = --5", 0, PG_E_QUERY_TYPE, 6 },
	{ 59, "age = 'x'", 0, PG_E_QUERY_TYPE, 6 },
	/* date */
	{ 60, "d = date(2023-02-29T00:00:00Z)", 0, PG_E_QUERY_TYPE, 9 },
	{ 61, "d = date(2024-13-01T00:00:00Z)", 0, PG_E_QUERY_TYPE, 9 },
	{ 62, "d = date(2024-01-01T24:00:00Z)", 0, PG_E_QUERY_TYPE, 9 },
	{ 63, "d = date(2024-01-01T00:60:00Z)", 0, PG_E_QUERY_TYPE, 9 },
	{ 64, "d = date(2024-01-01T00:00:60Z)", 0, PG_E_QUERY_TYPE, 9 },
	{ 65, "d = date(2024-01-01T00:00:00)", 0, PG_E_QUERY_TYPE, 9 },
	{ 66, "d = date(2024-01-01T00:00:00.1234567Z)", 0, PG_E_QUERY_TYPE, 9 },
	{ 67, "d = date(2024-01-01T00:00:00.Z)", 0, PG_E_QUERY_TYPE, 9 },
	{ 68, "d = date(1969-12-31T23:59:59Z)", 0, PG_E_QUERY_TYPE, 9 },
	{ 69, "d = date(2024-01-01)", 0, PG_E_QUERY_TYPE, 9 },
	{ 70, "d = date(-1)", 0, PG_E_QUERY_TYPE, 9 },
	{ 71, "d = date(18446744073709551616)", 0, PG_E_QUERY_TYPE, 9 },
	{ 72, "d = date()", 0, PG_E_QUERY_TYPE, 9 },
	{ 73, "d = date(5", 0, PG_E_QUERY_SYNTAX, 10 },
	{ 74, "d = date 5", 0, PG_E_QUERY_TYPE, 4 },
	{ 75, "d = date(2024-04-31T00:00:00Z)", 0, PG_E_QUERY_TYPE, 9 },
	{ 76, "d = date(2024-01-01t00:00:00z)", 0, PG_E_QUERY_TYPE, 9 },
	{ 77, "d = date(2100-02-29T00:00:00Z)", 0, PG_E_QUERY_TYPE, 9 },
	{ 78, "d = date(2024-00-10T00:00:00Z)", 0, PG_E_QUERY_TYPE, 9 },
	{ 79, "d = date(2024-01-00T00:00:00Z)", 0, PG_E_QUERY_TYPE, 9 },
	{ 80, "d = date(2024-1-01T00:00:00Z)", 0, PG_E_QUERY_TYPE, 9 },
	{ 81, "d = date(+2024-01-01T00:00:00Z)", 0, PG_E_QUERY_TYPE, 9 },
	{ 82, "d = date(2024-01-01T00:00:00.-1Z)", 0, PG_E_QUERY_TYPE, 9 },
	{ 83, "d = date(10000-01-01T00:00:00Z)", 0, PG_E_QUERY_TYPE, 9 },
	{ 84, "d = dates(0)", 0, PG_E_QUERY_TYPE, 4 },
	/* reserved fields have a fixed type */
	{ 90, "peercreationtime = 5", 0, PG_E_QUERY_TYPE, 19 },
	{ 91, "peercreatorid = date(0)", 0, PG_E_QUERY_TYPE, 16 },
	{ 92, "peerrecordid = 5", 0, PG_E_QUERY_TYPE, 15 },
	{ 93, "PeerLastModificationTime = \"x\"", 0, PG_E_QUERY_TYPE, 27 },
	/* strings and escapes */
	{ 100, "s = \"a\\b\"", 0, PG_E_QUERY_ESCAPE, 6 },
	{ 101, "s = \"\\\"\"", 0, PG_E_QUERY_ESCAPE, 5 },
	{ 102, "s = \"\\n\"", 0, PG_E_QUERY_ESCAPE, 5 },
	{ 103, "s = \"ok\\\\ \\x\"", 0, PG_E_QUERY_ESCAPE, 10 },
	{ 104, "s = \"abc", 0, PG_E_QUERY_SYNTAX, 4 },
	{ 105, "s = \"abc\\", 0, PG_E_QUERY_SYNTAX, 4 },
	{ 106, "s = \"a\" b", 0, PG_E_QUERY_SYNTAX, 8 },
	{ 107, "s = \"a\"\"", 0, PG_E_QUERY_SYNTAX, 4 },
	{ 108, "s = \"a\"\"b\"c", 0, PG_E_QUERY_SYNTAX, 10 },
	{ 109, "s < \"\\\xc3\xbc\"", 0, PG_E_QUERY_ESCAPE, 5 },
	/* not UTF-8 */
	{ 110, "s = \"\xff\"", 0, PG_E_BAD_UTF8, 5 },
	{ 111, "s = \"\xc3\"", 0, PG_E_BAD_UTF8, 5 },
	{ 112, "\xc0\xaf = 1", 0, PG_E_BAD_UTF8, 0 },
	{ 113, "s = \"\xed\xa0\x80\"", 0, PG_E_BAD_UTF8, 5 },
	{ 114, "age = 1\xe2\x89", 0, PG_E_BAD_UTF8, 7 },
	{ 115, "s = \"\xf4\x90\x80\x80\"", 0, PG_E_BAD_UTF8, 5 },
	{ 116, "a\x80 = 1", 0, PG_E_BAD_UTF8, 1 },
};

static void expect_reject(int no, const char *text, size_t len, int code, size_t offset)
{
	struct pg_query_error err = { 0, 0 };
	struct pg_query *q = (struct pg_query *)&err;
	int rc = parse(text, len, &q, &err);

	cr_expect_eq(rc, code, "row %d: got %s, want %s", no, pg_strerror_name(rc),
		     pg_strerror_name(code));
	cr_expect_eq(err.code, code, "row %d: err.code", no);
	cr_expect_eq(err.offset, offset, "row %d: offset %zu, want %zu", no, err.offset, offset);
	cr_expect_null(q, "row %d: *out must be NULL on error", no);
	if (rc == 0)
		pg_query_destroy(q);
	/* err may be NULL */
	rc = parse(text, len, &q, NULL);
	cr_expect_eq(rc, code, "row %d: without err", no);
	if (rc == 0)
		pg_query_destroy(q);
}

Test(query, reject_table)
{
	for (size_t i = 0; i < PG_ARRAY_SIZE(reject_rows); i++) {
		const struct reject_row *t = &reject_rows[i];

		expect_reject(t->no, t->q, t->len ? t->len : strlen(t->q), t->code, t->offset);
	}
}

/* ---- limits ------------------------------------------------------------------------- */

struct buf {
	char s[PG_QUERY_TEXT_MAX + 16];
	size_t n;
};

static void put(struct buf *b, const char *s)
{
	size_t n = strlen(s);

	cr_assert_lt(b->n + n, sizeof(b->s));
	memcpy(b->s + b->n, s, n);
	b->n += n;
}

/* depth groups nested around one clause; returns the offset of the innermost keyword */
static size_t nested(struct buf *b, unsigned depth)
{
	size_t last = 0;

	b->n = 0;
	for (unsigned i = 0; i < depth; i++) {
		last = b->n;
		put(b, i % 2 ? "or(" : "and(");
	}
	put(b, "age = 42");
	for (unsigned i = 0; i < depth; i++)
		put(b, ")");
	return last;
}

Test(query, depth_bound)
{
	static struct buf b;
	struct pg_query *q;
	size_t off;

	nested(&b, PG_QUERY_DEPTH_MAX);
	cr_assert_eq(parse(b.s, b.n, &q, NULL), 0, "depth %d accepted", PG_QUERY_DEPTH_MAX);
	cr_expect(pg_query_match(q, &rec_a.r));
	cr_expect(!pg_query_match(q, &rec_b.r));
	pg_query_destroy(q);
	off = nested(&b, PG_QUERY_DEPTH_MAX + 1);
	expect_reject(1, b.s, b.n, PG_E_QUERY_TOO_COMPLEX, off);
}

/* or(age = 1, ..., age = 42): n clauses, the last one true; returns the last clause's offset */
static size_t many_clauses(struct buf *b, unsigned n)
{
	size_t last = 0;

	b->n = 0;
	put(b, "or(");
	for (unsigned i = 0; i < n; i++) {
		if (i)
			put(b, ", ");
		last = b->n;
		put(b, i == n - 1 ? "age = 42" : "age = 1");
	}
	put(b, ")");
	return last;
}

Test(query, clause_bound)
{
	static struct buf b;
	struct pg_query *q;
	size_t off;

	many_clauses(&b, PG_QUERY_CLAUSES_MAX);
	cr_assert_eq(parse(b.s, b.n, &q, NULL), 0);
	cr_expect(pg_query_match(q, &rec_a.r));
	pg_query_destroy(q);
	off = many_clauses(&b, PG_QUERY_CLAUSES_MAX + 1);
	expect_reject(1, b.s, b.n, PG_E_QUERY_TOO_COMPLEX, off);
}

/* and(or(temp = -5), or(temp = -5), ...): 1 + n groups; returns the last group's offset */
static size_t many_groups(struct buf *b, unsigned n)
{
	size_t last = 0;

	b->n = 0;
	put(b, "and(");
	for (unsigned i = 0; i < n; i++) {
		if (i)
			put(b, ",");
		last = b->n;
		put(b, "or(temp = -5)");
	}
	put(b, ")");
	return last;
}

Test(query, group_bound)
{
	static struct buf b;
	struct pg_query *q;
	size_t off;

	many_groups(&b, PG_QUERY_GROUPS_MAX - 1);
	cr_assert_eq(parse(b.s, b.n, &q, NULL), 0);
	cr_expect(pg_query_match(q, &rec_a.r));
	cr_expect(!pg_query_match(q, &rec_b.r));
	pg_query_destroy(q);
	off = many_groups(&b, PG_QUERY_GROUPS_MAX);
	expect_reject(1, b.s, b.n, PG_E_QUERY_TOO_COMPLEX, off);
}

Test(query, text_bound)
{
	static struct buf b;
	struct pg_query *q;

	/* exactly PG_QUERY_TEXT_MAX bytes: padding then a clause */
	memset(b.s, ' ', PG_QUERY_TEXT_MAX);
	memcpy(b.s + PG_QUERY_TEXT_MAX - 8, "age = 42", 8);
	b.n = PG_QUERY_TEXT_MAX;
	cr_assert_eq(parse(b.s, b.n, &q, NULL), 0);
	cr_expect(pg_query_match(q, &rec_a.r));
	pg_query_destroy(q);
	b.s[PG_QUERY_TEXT_MAX] = ' ';
	expect_reject(1, b.s, PG_QUERY_TEXT_MAX + 1, PG_E_QUERY_TOO_COMPLEX, PG_QUERY_TEXT_MAX);
}

Test(query, name_bound)
{
	static const char name40[] = "a234567890123456789012345678901234567890";
	struct pg_query *q;
	char text[64];
	int n = snprintf(text, sizeof(text), "%s = 1", name40);

	cr_assert_eq(parse(text, (size_t)n, &q, NULL), 0);
	cr_expect(!pg_query_match(q, &rec_a.r));
	pg_query_destroy(q);
	n = snprintf(text, sizeof(text), "%s0 = 1", name40);
	expect_reject(1, text, (size_t)n, PG_E_ATTR_NAME, 0);
}

Test(query, destroy_null)
{
	pg_query_destroy(NULL);
}

/* ---- wildcard matcher: differential against a naive model --------------------------- */

/* Pattern tokens as written in the query, text tokens are code points. The model matches
 * token lists by plain recursion (exponential in the worst case, fine at these sizes). */
static const char *const pat_tok[] = { "a", "b", "\xc3\xa9", "*", "?", "\\*", "\\?", "\\\\" };
static const char *const txt_tok[] = { "a", "b", "\xc3\xa9", "*", "?", "\\", "\xf0\x9f\x98\x80" };

static bool naive(const unsigned *p, size_t np, const unsigned *t, size_t nt)
{
	const char *pt;

	if (np == 0)
		return nt == 0;
	pt = pat_tok[p[0]];
	if (strcmp(pt, "*") == 0)
		return naive(p + 1, np - 1, t, nt) || (nt > 0 && naive(p, np, t + 1, nt - 1));
	if (nt == 0)
		return false;
	if (strcmp(pt, "?") == 0)
		return naive(p + 1, np - 1, t + 1, nt - 1);
	if (pt[0] == '\\')
		pt++;
	return strcmp(pt, txt_tok[t[0]]) == 0 && naive(p + 1, np - 1, t + 1, nt - 1);
}

static uint64_t rng_next(uint64_t *s)
{
	/* xorshift64* */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

Test(query, wildcard_differential)
{
	enum { ROUNDS = 20000, TOKENS_MAX = 8 };
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	unsigned matched = 0;

	for (unsigned round = 0; round < ROUNDS; round++) {
		unsigned p[TOKENS_MAX], t[TOKENS_MAX];
		size_t np = rng_next(&seed) % (TOKENS_MAX + 1),
		       nt = rng_next(&seed) % (TOKENS_MAX + 1);
		char text[64], query[128];
		size_t tl = 0, ql = 0;
		struct rec r;

		for (size_t i = 0; i < np; i++)
			p[i] = (unsigned)(rng_next(&seed) % PG_ARRAY_SIZE(pat_tok));
		for (size_t i = 0; i < nt; i++)
			t[i] = (unsigned)(rng_next(&seed) % PG_ARRAY_SIZE(txt_tok));
		for (size_t i = 0; i < nt; i++)
			tl += (size_t)sprintf(text + tl, "%s", txt_tok[t[i]]);
		for (int ne = 0; ne < 2; ne++) {
			struct pg_attr attr = { .name = "s",
						.name_len = 1,
						.type = PG_ATTR_STRING };
			struct pg_query *q;
			bool want = naive(p, np, t, nt) != ne;

			ql = (size_t)sprintf(query, "s %s \"", ne ? "!=" : "=");
			for (size_t i = 0; i < np; i++)
				ql += (size_t)sprintf(query + ql, "%s", pat_tok[p[i]]);
			query[ql++] = '"';
			attr.v.str.ptr = text;
			attr.v.str.len = (uint32_t)tl;
			rec_build(&r, &attr, 1);
			cr_assert_eq(parse(query, ql, &q, NULL), 0, "round %u: %.*s", round,
				     (int)ql, query);
			cr_assert_eq(pg_query_match(q, &r.r), want, "round %u: %.*s on \"%.*s\"",
				     round, (int)ql, query, (int)tl, text);
			matched += want;
			pg_query_destroy(q);
		}
	}
	/* both outcomes are well represented, so the comparison means something */
	cr_expect_gt(matched, ROUNDS / 10);
	cr_expect_lt(matched, 2 * ROUNDS - ROUNDS / 10);
}

/* ---- wildcard matcher: bounded work ------------------------------------------------- */

/* s = "pat" against an attribute of tl bytes of text: checks the answer, and that the work
 * (pg_query_match_stats) stays inside the bound query.h promises for one wildcard clause,
 * 2 x (text bytes + pattern bytes). */
static void expect_bounded(const char *pat, const char *text, size_t tl, bool want)
{
	static char query[PG_QUERY_TEXT_MAX];
	static struct rec r;
	struct pg_attr attr = { .name = "s", .name_len = 1, .type = PG_ATTR_STRING };
	struct pg_query_stats st = { 0 };
	size_t pl = strlen(pat), ql;
	uint64_t bound = 2 * ((uint64_t)tl + pl);
	struct pg_query *q;

	ql = (size_t)snprintf(query, sizeof(query), "s = \"%s\"", pat);
	cr_assert_lt(ql, sizeof(query));
	attr.v.str.ptr = text;
	attr.v.str.len = (uint32_t)tl;
	rec_build(&r, &attr, 1);
	cr_assert_eq(parse(query, ql, &q, NULL), 0, "%.60s...", pat);
	cr_expect_eq(pg_query_match_stats(q, &r.r, &st), want, "%.60s...", pat);
	cr_log_info("%.40s... on %zu bytes: %llu steps, bound %llu", pat, tl,
		    (unsigned long long)st.steps, (unsigned long long)bound);
	cr_expect_leq(st.steps, bound, "%.60s... on %zu bytes: %llu steps, bound %llu", pat, tl,
		      (unsigned long long)st.steps, (unsigned long long)bound);
	pg_query_destroy(q);
}

/*
 * The adversaries of the old matcher (greedy, retrying the last star one code point at a
 * time): a long run after a star that almost matches everywhere in aaa...a. Each retry
 * re-read the run, so they cost text x run steps: 29,030,001 for the first one against a
 * bound of 62,006, 1,916,032 for the second (bound 60,132). Also the pattern that makes
 * naive backtracking exponential, and the anchored forms.
 */
Test(query, wildcard_bounded_work)
{
	enum { T = 30000, RUN = 1000 };
	static char text[T + 1], pat[4 * RUN];
	size_t n = 0;

	memset(text, 'a', T);
	text[T] = 'b';

	/* a literal run: *aaa...ab* */
	pat[n++] = '*';
	memset(pat + n, 'a', RUN);
	n += RUN;
	memcpy(pat + n, "b*", 3);
	expect_bounded(pat, text, T, false);
	expect_bounded(pat, text, T + 1, true);

	/* a run with ? in it, as long as one may be: *a?a?...a?b* (PG_QUERY_WILD_RUN_MAX) */
	n = 0;
	pat[n++] = '*';
	for (int i = 0; i < PG_QUERY_WILD_RUN_MAX / 2 - 1; i++) {
		pat[n++] = 'a';
		pat[n++] = '?';
	}
	pat[n++] = 'a';
	memcpy(pat + n, "b*", 3);
	expect_bounded(pat, text, T, false);
	expect_bounded(pat, text, T + 1, true);

	/* *a*a*...*a*b: exponential for naive backtracking */
	n = 0;
	for (int i = 0; i < 40; i++) {
		pat[n++] = '*';
		pat[n++] = 'a';
	}
	memcpy(pat + n, "*b", 3);
	expect_bounded(pat, text, T, false);
	expect_bounded(pat, text, T + 1, true);

	/* anchored at both ends, and a long ? head */
	memset(pat, 'a', RUN);
	memcpy(pat + RUN, "*a?b", 5);
	expect_bounded(pat, text, T, false);
	expect_bounded(pat, text, T + 1, true);
	memset(pat, '?', 3 * RUN);
	memcpy(pat + 3 * RUN, "*ab", 4);
	expect_bounded(pat, text, T, false);
	expect_bounded(pat, text, T + 1, true);
}

/* A run between two stars that holds a ? has at most PG_QUERY_WILD_RUN_MAX code points
 * (escapes, "" and multi-byte code points count one each); head, tail, literal runs and
 * strings compared with < > <= >= have no such bound. */
Test(query, wild_run_bound)
{
	static const struct {
		int no;
		const char *pre, *unit, *post; /* pre unit x count post */
		int count, code;
		size_t offset;
	} rows[] = {
		{ 1, "s = \"*", "?", "*\"", PG_QUERY_WILD_RUN_MAX, 0, 0 },
		{ 2, "s = \"*", "?", "*\"", PG_QUERY_WILD_RUN_MAX + 1, PG_E_QUERY_TOO_COMPLEX, 6 },
		{ 3, "s != \"a*b*", "?", "*\"", PG_QUERY_WILD_RUN_MAX + 1, PG_E_QUERY_TOO_COMPLEX,
		  10 },
		{ 4, "s = \"*?", "\xc3\xa9", "*\"", PG_QUERY_WILD_RUN_MAX - 1, 0, 0 },
		{ 5, "s = \"*?", "\xc3\xa9", "*\"", PG_QUERY_WILD_RUN_MAX, PG_E_QUERY_TOO_COMPLEX,
		  6 },
		{ 6, "s = \"*?", "\\*", "*\"", PG_QUERY_WILD_RUN_MAX - 1, 0, 0 },
		{ 7, "s = \"*?", "\"\"", "*\"", PG_QUERY_WILD_RUN_MAX, PG_E_QUERY_TOO_COMPLEX, 6 },
		{ 8, "s = \"", "?", "*\"", 4 * PG_QUERY_WILD_RUN_MAX, 0, 0 },	/* head */
		{ 9, "s = \"*", "?", "\"", 4 * PG_QUERY_WILD_RUN_MAX, 0, 0 },	/* tail */
		{ 10, "s = \"*", "a", "*\"", 4 * PG_QUERY_WILD_RUN_MAX, 0, 0 }, /* literal */
		{ 11, "s < \"*", "?", "*\"", 4 * PG_QUERY_WILD_RUN_MAX, 0, 0 }, /* not a pattern */
		{ 12, "s = \"*", "\\?", "*\"", 4 * PG_QUERY_WILD_RUN_MAX, 0, 0 }, /* literal ? */
	};
	static struct buf b;

	for (size_t i = 0; i < PG_ARRAY_SIZE(rows); i++) {
		struct pg_query *q;

		b.n = 0;
		put(&b, rows[i].pre);
		for (int k = 0; k < rows[i].count; k++)
			put(&b, rows[i].unit);
		put(&b, rows[i].post);
		if (rows[i].code) {
			expect_reject(rows[i].no, b.s, b.n, rows[i].code, rows[i].offset);
			continue;
		}
		cr_expect_eq(parse(b.s, b.n, &q, NULL), 0, "row %d", rows[i].no);
		pg_query_destroy(q);
	}
}

/*
 * Longer texts and patterns than wildcard_differential, shaped to stress the run searches:
 * the text is random over a b and the pattern characters * ? \ (and one two-byte code
 * point), and the pattern is cut from the text - stretches become *, code points ?, a few
 * code points are changed - so it nearly matches, often in several places (periodic runs
 * for KMP's borders, runs with ? for Shift-And). At most 3 stars keep the model fast.
 */
static const char *const dtxt_tok[] = { "a", "b", "*", "?", "\\", "\xc3\xa9" };
static const char *const dpat_lit[] = { "a", "b", "\\*", "\\?", "\\\\", "\xc3\xa9" };

enum { DT_ANY = -1, DT_STAR = -2 }; /* pattern tokens: >= 0 a literal dtxt_tok index */

static bool dnaive(const int *p, size_t np, const int *t, size_t nt)
{
	if (np == 0)
		return nt == 0;
	if (p[0] == DT_STAR)
		return dnaive(p + 1, np - 1, t, nt) || (nt > 0 && dnaive(p, np, t + 1, nt - 1));
	if (nt == 0 || (p[0] != DT_ANY && p[0] != t[0]))
		return false;
	return dnaive(p + 1, np - 1, t + 1, nt - 1);
}

Test(query, wildcard_differential_long)
{
	enum { ROUNDS = 20000, TEXT_MAX = 48, STARS_MAX = 3 };
	uint64_t seed = 0x2545f4914f6cdd1dull;
	unsigned matched = 0;

	for (unsigned round = 0; round < ROUNDS; round++) {
		int t[TEXT_MAX], p[TEXT_MAX + STARS_MAX + 1]; /* a star may take no code point */
		size_t nt = rng_next(&seed) % (TEXT_MAX + 1), np = 0, tl = 0, ql;
		unsigned stars = 0, ab = 2 + (unsigned)(rng_next(&seed) % 2); /* a b, or more */
		char text[TEXT_MAX * 2 + 1], query[(TEXT_MAX + STARS_MAX + 1) * 2 + 16];
		struct pg_attr attr = { .name = "s", .name_len = 1, .type = PG_ATTR_STRING };
		struct rec r;
		struct pg_query *q;
		bool want;

		for (size_t i = 0; i < nt; i++) {
			unsigned k = (unsigned)(rng_next(&seed) % 8);

			t[i] = k < 6 ? (int)(k % ab) : (int)(rng_next(&seed) % 6);
			tl += (size_t)sprintf(text + tl, "%s", dtxt_tok[t[i]]);
		}
		for (size_t i = 0; i < nt;) {
			unsigned k = (unsigned)(rng_next(&seed) % 16);

			if (k == 0 && stars < STARS_MAX) {
				p[np++] = DT_STAR;
				stars++;
				i += rng_next(&seed) % 6; /* the star swallows 0..5 code points */
			} else if (k < 4) {
				p[np++] = DT_ANY;
				i++;
			} else if (k == 4) {
				p[np++] = (int)(rng_next(&seed) % 6); /* likely a mismatch */
				i++;
			} else {
				p[np++] = t[i++];
			}
		}
		if (rng_next(&seed) % 4 == 0 && stars < STARS_MAX)
			p[np++] = DT_STAR;
		ql = (size_t)sprintf(query, "s = \"");
		for (size_t i = 0; i < np; i++)
			ql += (size_t)sprintf(query + ql, "%s",
					      p[i] == DT_STAR  ? "*"
					      : p[i] == DT_ANY ? "?"
							       : dpat_lit[p[i]]);
		query[ql++] = '"';
		want = dnaive(p, np, t, nt);
		attr.v.str.ptr = text;
		attr.v.str.len = (uint32_t)tl;
		rec_build(&r, &attr, 1);
		cr_assert_eq(parse(query, ql, &q, NULL), 0, "round %u: %.*s", round, (int)ql,
			     query);
		cr_assert_eq(pg_query_match(q, &r.r), want, "round %u: %.*s on \"%.*s\"", round,
			     (int)ql, query, (int)tl, text);
		matched += want;
		pg_query_destroy(q);
	}
	cr_log_info("wildcard_differential_long: %u of %u matched", matched, ROUNDS);
	cr_expect_gt(matched, ROUNDS / 5);
	cr_expect_lt(matched, ROUNDS - ROUNDS / 5);
}
