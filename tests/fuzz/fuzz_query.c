/*
 * fuzz_query.c - libFuzzer target for the search language parser and evaluator.
 *
 * The input bytes are a query. A rejection must report its own code and an offset inside the
 * input and leave no plan; an accepted plan is matched against two fixed records (one with
 * attributes of every type, one never-updated with clashing types) and then destroyed, so
 * LeakSanitizer sees every plan freed.
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

static void rec_init(struct pg_record *r, uint8_t *block, const struct pg_attr *attrs, unsigned n)
{
	struct pg_record_limits lim;
	long len = pg_attrs_encode(attrs, n, block, sizeof(blocks[0]));

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
	rec_init(&recs[0], blocks[0], a, PG_ARRAY_SIZE(a));
	recs[1].creator = "carol";
	recs[1].creator_len = 5;
	recs[1].modifier = "";
	rec_init(&recs[1], blocks[1], b, PG_ARRAY_SIZE(b));
}

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
