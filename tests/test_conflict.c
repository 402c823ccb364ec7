/*
 * test_conflict.c - the conflict order of FEATURES.md §1, one table row per tie-break step.
 *
 * Each row gives two copies of one record that differ at exactly the step under test (and
 * agree on every earlier step); the expected winner must win whichever side it is passed on,
 * so the order is antisymmetric, and every copy ties with itself.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "record.h"

struct copy {
	uint32_t version;
	const char *modifier;
	uint64_t modified_us;
	const char *secdata;
};

struct row {
	int no;
	const char *step;
	struct copy a, b;
	int want; /* sign of order(a, b) */
};

static const struct row rows[] = {
	{ 1, "higher version wins", { 3, "", 10, "" }, { 2, "zz", 99, "zzzz" }, 1 },
	{ 2, "higher version wins (b)", { 1, "", 10, "" }, { 2, "", 10, "" }, -1 },
	{ 3, "updated beats never-updated", { 2, "m", 10, "" }, { 2, "", 99, "zzzz" }, 1 },
	{ 4, "lexically higher modifier", { 2, "bob", 10, "" }, { 2, "alice", 99, "zz" }, 1 },
	{ 5, "modifier prefix sorts first", { 2, "al", 99, "zz" }, { 2, "alice", 10, "" }, -1 },
	{ 6, "later modification time", { 2, "m", 11, "" }, { 2, "m", 10, "zzzz" }, 1 },
	{ 7, "larger security data", { 2, "m", 10, "ab" }, { 2, "m", 10, "z" }, 1 },
	{ 8, "higher security-data bytes", { 2, "m", 10, "ab" }, { 2, "m", 10, "ac" }, -1 },
	{ 9, "identical copies tie", { 2, "m", 10, "ab" }, { 2, "m", 10, "ab" }, 0 },
	{ 10, "never-updated identical tie", { 1, "", 10, "" }, { 1, "", 10, "" }, 0 },
};

static struct pg_record make(const struct copy *c)
{
	struct pg_record r;

	memset(&r, 0, sizeof(r));
	r.version = c->version;
	r.modifier = c->modifier;
	r.modifier_len = (uint16_t)strlen(c->modifier);
	r.created_us = 1;
	r.modified_us = c->modified_us;
	r.expires_us = 1000;
	r.secdata = (const uint8_t *)c->secdata;
	r.secdata_len = (uint16_t)strlen(c->secdata);
	return r;
}

static int sign(int v)
{
	return (v > 0) - (v < 0);
}

Test(conflict, table)
{
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *t = &rows[i];
		struct pg_record a = make(&t->a), b = make(&t->b);

		cr_expect_eq(sign(pg_record_order(&a, &b)), t->want, "row %d (%s): order(a,b)",
			     t->no, t->step);
		cr_expect_eq(sign(pg_record_order(&b, &a)), -t->want, "row %d (%s): order(b,a)",
			     t->no, t->step);
		cr_expect_eq(pg_record_order(&a, &a), 0, "row %d: a ties with itself", t->no);
	}
}

/* The order is total and transitive over a small universe of copies: sorting any triple
 * never finds a cycle. */
Test(conflict, transitive)
{
	static const char *mods[] = { "", "a", "b" };
	static const char *secs[] = { "", "a", "ab", "b" };
	struct pg_record all[2 * 3 * 2 * 4];
	struct copy cs[2 * 3 * 2 * 4];
	size_t n = 0;

	for (uint32_t v = 1; v <= 2; v++)
		for (size_t m = 0; m < 3; m++)
			for (uint64_t t = 10; t <= 11; t++)
				for (size_t s = 0; s < 4; s++) {
					cs[n] = (struct copy){ v, mods[m], t, secs[s] };
					all[n] = make(&cs[n]);
					n++;
				}
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++)
			for (size_t k = 0; k < n; k++) {
				int ij = pg_record_order(&all[i], &all[j]);
				int jk = pg_record_order(&all[j], &all[k]);
				if (ij > 0 && jk > 0)
					cr_assert_gt(pg_record_order(&all[i], &all[k]), 0);
			}
}
