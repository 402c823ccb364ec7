/*
 * query.h - the record search language (FEATURES.md §1, "attributes and search").
 *
 * A query is compact text such as
 *
 *	and(peercreatorid = "alice*", age >= 18, or(city = "Z?rich", city = "Bern"),
 *	    peercreationtime >= date(2024-01-01T00:00:00Z))
 *
 * parsed once into a bounded plan and then matched against any number of records without
 * allocating, in time linear in the record's strings and the query's patterns. The grammar,
 * the meaning of every construct and the limits are written at the top of query.c; the
 * limits are also the constants below.
 */
#ifndef PG_QUERY_H
#define PG_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"

enum {
	PG_QUERY_CLAUSES_MAX = 64, /* clauses in one query */
	PG_QUERY_GROUPS_MAX = 64,  /* and( / or( groups in one query */
	PG_QUERY_DEPTH_MAX = 16,   /* and( / or( groups nested inside each other */
	PG_QUERY_TEXT_MAX = 65536, /* bytes of query text */
	/* code points in a run between two * of a pattern, when the run holds a ? */
	PG_QUERY_WILD_RUN_MAX = 64,
};

/* A parsed query (the plan). Opaque; immutable after pg_query_parse(), so one plan may be
 * matched from many threads at once. */
struct pg_query;

/* Where and why a query was rejected: code is the PG_E_* returned, offset the byte offset in
 * the text of the token at fault (the text length when the text ended too early). */
struct pg_query_error {
	int code;
	size_t offset;
};

/* Parses text[0..len) (need not be NUL-terminated) into a plan. 0 and *out set, or a PG_E_*
 * code (PG_E_QUERY_*, PG_E_ATTR_NAME, PG_E_BAD_UTF8, -ENOMEM) with *out = NULL and, when err is
 * not NULL, *err filled. */
int pg_query_parse(const char *text, size_t len, struct pg_query **out, struct pg_query_error *err);

/* True when record r satisfies the query. Never allocates; r's attribute block must be valid
 * (pg_attrs_check). */
bool pg_query_match(const struct pg_query *q, const struct pg_record *r);

/* The work of matching. steps counts the wildcard matcher's steps, each O(1): one wildcard
 * clause takes at most 2 x (bytes of the string it reads + bytes of its pattern) of them
 * (wildcard.c, WILDCARD MATCHING), so a query's cost on a record grows with the record's
 * strings and the query's patterns added, never multiplied. */
struct pg_query_stats {
	uint64_t steps;
};

/* pg_query_match(), also adding the work it did to st->steps (st not NULL). */
bool pg_query_match_stats(const struct pg_query *q, const struct pg_record *r,
			  struct pg_query_stats *st);

/* Frees a plan; NULL is a no-op. */
void pg_query_destroy(struct pg_query *q);

#endif
