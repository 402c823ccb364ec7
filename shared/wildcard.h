/*
 * wildcard.h - the search language's wildcard matcher; internal to query.c.
 *
 * A string value compared with = or != that holds an unescaped * or ? is a pattern. When a
 * query is parsed, pg_wild_prog_build() compiles each pattern into a program (where its head,
 * tail and runs between stars lie, a KMP border table for each literal run, Shift-And masks
 * for each run with a ?) that the plan stores beside it; pg_wild_match() then matches a
 * record's string against the pattern and its program in linear time, without allocating.
 * How, and what that costs, is the essay at the top of wildcard.c (WILDCARD MATCHING).
 */
#ifndef PG_WILDCARD_H
#define PG_WILDCARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Compiles the pattern pat[0..len) into its program at out (NULL: only counts its size) and
 * returns the program's 32-bit words, at most 4 + 3 x len. Cannot fail. The pattern is as
 * query.c's parser writes it: UTF-8, each escape kept as the two bytes \x (x one of * ? \),
 * and a run between two stars that holds a ? at most PG_QUERY_WILD_RUN_MAX code points. */
uint32_t pg_wild_prog_build(const char *pat, size_t len, uint32_t *out);

/* True when the text t[0..tlen) matches the pattern pat[0..len) whose program is prog. Adds
 * its steps to *steps: at most 2 x (tlen + len), asserted. Never allocates. */
bool pg_wild_match(const char *pat, size_t len, const uint32_t *prog, const char *t, size_t tlen,
		   uint64_t *steps);

#endif
