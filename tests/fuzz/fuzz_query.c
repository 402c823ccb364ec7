/*
 * fuzz_query.c - libFuzzer target for the search language parser and evaluator.
 *
 * The input bytes are a query. A rejection must report its own code and an offset inside the
 * input and leave no plan; an accepted plan is matched against two fixed records (one with
 * attributes of every type, one never-updated with clashing types) and then destroyed, so
 * LeakSanitizer sees every plan freed.
 *
 * An input that starts with 0x01 (no query can) is instead a differential check of the
 * wildcard matcher: 0x01, a pattern as written between the quotes of a query string (a quote
 * is taken literally and doubled for the parser), 0x00, a text. Text and pattern must be
 * UTF-8 with valid escapes; the query s = "pattern" is matched against a record whose s is
 * the text and compared with a plain dynamic-programming matcher, and its steps with the
 * bound of query.h.
 */
#include <stdint.h>
#include <string.h>

#include "pg_assert.h"
#include "pg_error.h"
#include "query.h"
#include "record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct pg_record recs[2];
static uint8_t blocks[2][512];

static void rec_init(struct pg_record *r, uint8_t *block, size_t cap, const struct pg_attr *attrs,
		     unsigned n)
{
	struct pg_record_limits lim;
	long len = pg_attrs_encode(attrs, n, block, cap);

	PG_ASSERT(len >= 0);
	r->version = 1;
	r->nattrs = (uint16_t)n;
	r->attrs = block;
	r->attrs_len = (uint32_t)len;
	r->created_us = 1600000000000000ull;
	r->modified_us = 1700000000000000ull;
	r->expires_us = 1800000000000000ull;
	pg_record_limits_default(&lim);
	PG_ASSERT(pg_record_validate(r, &lim) == 0);
}

static void records_init(void)
{
	const struct pg_attr a[] = {
		pg_attr_int("age", 42),
		pg_attr_str("name", "Hello World"),
		pg_attr_str("city", "Z\xc3\xbcrich"),
		pg_attr_str("lit", "a*b?c\\d"),
		pg_attr_str("empty", ""),
		pg_attr_date("born", 946684800000000ull),
		pg_attr_int("and", 1),
	};
	const struct pg_attr b[] = {
		pg_attr_str("age", "42"),
		pg_attr_int("born", 946684800000000ll),
		pg_attr_str("name", "\xf0\x9f\x98\x80 hello"),
	};

	memset(recs[0].type.b, 0x5a, sizeof(recs[0].type.b));
	memset(recs[0].id.b, 0xa5, sizeof(recs[0].id.b));
	recs[0].creator = "alice";
	recs[0].creator_len = 5;
	recs[0].modifier = "bob";
	recs[0].modifier_len = 3;
	rec_init(&recs[0], blocks[0], sizeof(blocks[0]), a, PG_ARRAY_SIZE(a));
	recs[1].creator = "carol";
	recs[1].creator_len = 5;
	recs[1].modifier = "";
	rec_init(&recs[1], blocks[1], sizeof(blocks[1]), b, PG_ARRAY_SIZE(b));
}

/* ---- differential check of the wildcard matcher ------------------------------------- */

enum { DIFF_TEXT_MAX = 1024, DIFF_UNITS_MAX = 512 };

struct cp {
	const char *b; /* a code point's bytes, or NULL for ? and * */
	size_t len;    /* its byte count; 0 for ?, 1 for * */
};

/* Splits valid UTF-8 s[0..n) into code points or, for a pattern, into its units (* ? \x and
 * code points); false on a bad escape or more than max. */
static bool split(const char *s, size_t n, bool pattern, struct cp *out, size_t max, size_t *count)
{
	size_t k = 0;

	for (size_t i = 0; i < n; k++) {
		uint8_t c = (uint8_t)s[i];
		size_t len = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;

		if (k == max)
			return false;
		out[k] = (struct cp){ s + i, len };
		if (pattern && (c == '*' || c == '?')) {
			out[k] = (struct cp){ NULL, c == '*' };
		} else if (pattern && c == '\\') {
			if (i + 1 == n || (s[i + 1] != '*' && s[i + 1] != '?' && s[i + 1] != '\\'))
				return false;
			out[k] = (struct cp){ s + i + 1, 1 };
			len = 2;
		}
		i += len;
	}
	*count = k;
	return true;
}

/* The model: row[j] says whether the units so far match the first j code points. */
static bool model_match(const struct cp *p, size_t np, const struct cp *t, size_t nt)
{
	static bool row[DIFF_TEXT_MAX + 1], next[DIFF_TEXT_MAX + 1];

	for (size_t j = 0; j <= nt; j++)
		row[j] = j == 0;
	for (size_t i = 0; i < np; i++) {
		bool star = !p[i].b && p[i].len == 1, any = !p[i].b && p[i].len == 0;

		next[0] = star && row[0];
		for (size_t j = 1; j <= nt; j++) {
			const struct cp *c = &t[j - 1];

			if (star)
				next[j] = row[j] || next[j - 1];
			else
				next[j] =
				    row[j - 1] &&
				    (any || (p[i].len == c->len && !memcmp(p[i].b, c->b, c->len)));
		}
		memcpy(row, next, (nt + 1) * sizeof(row[0]));
	}
	return row[nt];
}

static void differential(const char *in, size_t size)
{
	static struct cp pu[DIFF_UNITS_MAX], tu[DIFF_TEXT_MAX];
	static char query[2 * DIFF_UNITS_MAX * 4 + 16];
	static uint8_t block[DIFF_TEXT_MAX * 4 + 64];
	const char *sep = memchr(in, 0, size);
	size_t plen, tlen, np, nt, ql;
	struct pg_attr attr = { .name = "s", .name_len = 1, .type = PG_ATTR_STRING };
	struct pg_query_stats st = { 0 };
	struct pg_record r = { 0 };
	struct pg_query *q;
	int rc;

	if (!sep)
		return;
	plen = (size_t)(sep - in);
	tlen = size - plen - 1;
	if (!pg_utf8_valid(in, plen) || !pg_utf8_valid(sep + 1, tlen) ||
	    !split(in, plen, true, pu, DIFF_UNITS_MAX, &np) ||
	    !split(sep + 1, tlen, false, tu, DIFF_TEXT_MAX, &nt))
		return;
	memcpy(query, "s = \"", 5);
	ql = 5;
	for (size_t i = 0; i < plen; i++) {
		query[ql++] = in[i];
		if (in[i] == '"')
			query[ql++] = '"';
	}
	query[ql++] = '"';
	rc = pg_query_parse(query, ql, &q, NULL);
	if (rc == PG_E_QUERY_TOO_COMPLEX)
		return; /* a run with a ? over PG_QUERY_WILD_RUN_MAX */
	PG_ASSERT(rc == 0);
	attr.v.str.ptr = sep + 1;
	attr.v.str.len = (uint32_t)tlen;
	rec_init(&r, block, sizeof(block), &attr, 1);
	PG_ASSERT(pg_query_match_stats(q, &r, &st) == model_match(pu, np, tu, nt));
	/* query.h: at most 2 x (text + pattern bytes); the plan's pattern is the input's */
	PG_ASSERT(st.steps <= 2 * ((uint64_t)tlen + plen));
	pg_query_destroy(q);
}

/* ---- entry point -------------------------------------------------------------------- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct pg_query_error err = { 1, 1 };
	struct pg_query *q = NULL;
	int rc;

	if (!ready) {
		records_init();
		ready = true;
	}
	if (size > 0 && data[0] == 0x01) {
		differential((const char *)data + 1, size - 1);
		return 0;
	}
	rc = pg_query_parse((const char *)data, size, &q, &err);
	if (rc != 0) {
		PG_ASSERT(q == NULL);
		PG_ASSERT(err.code == rc);
		PG_ASSERT(err.offset <= size ||
			  (rc == PG_E_QUERY_TOO_COMPLEX && err.offset == PG_QUERY_TEXT_MAX));
		PG_ASSERT(rc == PG_E_QUERY_SYNTAX || rc == PG_E_QUERY_TYPE ||
			  rc == PG_E_QUERY_OPERATOR || rc == PG_E_QUERY_TOO_COMPLEX ||
			  rc == PG_E_QUERY_ESCAPE || rc == PG_E_ATTR_NAME || rc == PG_E_BAD_UTF8);
		return 0;
	}
	PG_ASSERT(q != NULL && err.code == 0);
	for (unsigned i = 0; i < PG_ARRAY_SIZE(recs); i++) {
		bool m = pg_query_match(q, &recs[i]);

		/* the plan is immutable: matching is a pure function of plan and record */
		PG_ASSERT(pg_query_match(q, &recs[i]) == m);
	}
	pg_query_destroy(q);
	return 0;
}
