/*
 * wildcard.c - the search language's wildcard matcher (wildcard.h): a pattern of literal code
 * points, `?` and `*` against a record's string, in time linear in the two.
 *
 * query.c hands each pattern here twice. When the query is parsed, pg_wild_prog_build()
 * compiles it into a program that the plan keeps; at every match, pg_wild_match() runs that
 * program over a record's string, never allocating and never backtracking, and asserts the
 * work bound below on every call. What the language means by a pattern (= and != only, the
 * escapes) is written at the top of query.c; how a pattern is matched, and what that costs,
 * is written here.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pg_assert.h"
#include "query.h"
#include "wildcard.h"

/*
 * WILDCARD MATCHING: HOW IT WORKS
 *
 * A pattern is a list of units: a literal code point (\x stands for x), `?` (any one code
 * point) and `*` (any run of code points). Cut at its stars it reads
 *
 *	head * run1 * run2 * ... * runN * tail
 *
 * where head and tail may be empty and each run is not (a star next to a star adds nothing).
 * Every piece without a star matches a fixed number of code points, so:
 *
 *   1. head must match at the start of the text and tail at its end: the tail covers exactly
 *      its last tail-length code points (a pattern without a star is all head, and must then
 *      end where the text does);
 *   2. each run, in order, is placed at its leftmost occurrence in the text still free
 *      between the end of the previous piece and the start of the tail.
 *
 * Leftmost is always right (the greedy argument): all occurrences of a run span the same
 * number of code points, so the leftmost one also ends first. If any placement of run1 ..
 * runN fits, moving run1 to its leftmost occurrence only leaves more text for the runs after
 * it, and the same holds for each run in turn. So the pattern matches exactly when every
 * step succeeds, with no backtracking at all. A run is searched in one of two ways, chosen
 * when the query is parsed (pattern-only work: pg_wild_prog_build() writes it down as the
 * pattern's "program", which the plan keeps):
 *
 *   - a run of literals only: Knuth-Morris-Pratt over bytes (Knuth, Morris, Pratt, "Fast
 *     pattern matching in strings", SIAM J. Comput. 6(2), 1977) with the border table built
 *     at parse time. A literal run starts with a lead byte, so each occurrence in valid UTF-8
 *     starts and ends on code point boundaries.
 *   - a run with a `?`: Shift-And (Baeza-Yates, Gonnet, "A new approach to text searching",
 *     CACM 35(10), 1992) over code points, one 64-bit state word, bit j set when the run's
 *     first j + 1 units end at the current code point. The mask of a text code point is
 *     the mask of the run's `?` units OR the mask of its literal units equal to that code
 *     point, found by binary search in the run's sorted table of distinct literals (at most
 *     63 entries, so at most 6 probes). A code point's key is its UTF-8 bytes packed into a
 *     word, which is one-to-one because UTF-8 is a prefix code.
 *
 * Units: `?` advances over one UTF-8 code point (a lead byte and its continuation bytes);
 * literal code points compare whole. A pattern keeps its escapes (\x) as query.c's parser
 * wrote them, so a literal `*` or `?` is never taken for a wildcard.
 *
 * LIMITATIONS
 *   - Work. One wildcard clause costs at most 2 x (text bytes + pattern bytes) steps, each
 *     O(1): head and tail take one step per unit plus one per code point stepped back over,
 *     KMP at most two per text byte it scans (each step advances the text or shortens the
 *     border), Shift-And one per code point; the runs scan disjoint stretches of the text.
 *     pg_wild_match() counts the steps and asserts the bound on every match, and
 *     pg_query_match_stats() reports their sum. Matching a whole record is at most the sum
 *     over its wildcard clauses, and a query has at most PG_QUERY_CLAUSES_MAX clauses and
 *     PG_QUERY_TEXT_MAX bytes of patterns.
 *   - Shift-And keeps the run in one machine word, so a run between two stars that holds a
 *     `?` may have at most PG_QUERY_WILD_RUN_MAX code points: query.c's parser refuses a
 *     longer one (PG_E_QUERY_TOO_COMPLEX at the run's first byte), and pg_wild_prog_build()
 *     asserts it. A longer run would cost a word per 64 units at every code point,
 *     and runs of thousands of units would bring back text x pattern; the general
 *     algorithms for don't-care symbols need FFTs and O(n log m) (Clifford, Clifford,
 *     "Simple deterministic wildcard matching", IPL 101(2), 2007). This bound is the price
 *     of linear time. Literal runs, head and tail have no such bound.
 *   - Memory: the programs take at most 3 words per byte of query text (KMP: a word per run
 *     byte; Shift-And: 3 words per distinct literal), kept in the plan and allocated once
 *     by pg_query_parse().
 *   - The text must be valid UTF-8, as pg_record_validate() and pg_attrs_check() ensure. On
 *     other bytes the answer is unspecified, but reads stay inside the text and the work
 *     bound holds.
 *   - No character classes; code points, not grapheme clusters ("e" + combining accent is
 *     two code points for `?`).
 */

enum unit_kind { UNIT_LIT, UNIT_ANY, UNIT_STAR };

struct unit {
	uint8_t kind;	 /* enum unit_kind */
	uint32_t key;	 /* UNIT_LIT: cp_key() of the code point */
	size_t off, len; /* UNIT_LIT: its bytes in the pattern */
};

/* The layout of a pattern's program (32-bit words): a header, then each run in order. */
enum {
	PROG_HEAD_END, /* pattern bytes before the first star; the pattern length if none */
	PROG_TAIL,     /* pattern offset just past the last star */
	PROG_TAIL_CPS, /* code points the tail matches */
	PROG_NRUNS,    /* runs between two stars */
	PROG_HDR,
};

/* A run: RUN_LITERAL, k bytes, the k bytes (packed, zero padded), k border lengths; or
 * RUN_SHIFT_AND, u units, d distinct literals, the `?` mask (2 words, low first), d sorted
 * keys, d literal masks (2 words each). */
enum { RUN_LITERAL, RUN_SHIFT_AND };

_Static_assert(PG_QUERY_WILD_RUN_MAX <= 64, "a Shift-And run fits one 64-bit word");

/* Bytes of the code point that starts at s[i], continuation bytes included, up to len. */
static size_t cp_len(const char *s, size_t i, size_t len)
{
	size_t j = i + 1;

	while (j < len && ((uint8_t)s[j] & 0xc0) == 0x80)
		j++;
	return j - i;
}

/* Start of the code point that ends at s[i - 1], not below lo (lo < i). */
static size_t cp_back(const char *s, size_t i, size_t lo)
{
	do
		i--;
	while (i > lo && ((uint8_t)s[i] & 0xc0) == 0x80);
	return i;
}

/* A code point's bytes packed into a word: one-to-one on valid UTF-8, a prefix code whose
 * sequences are at most 4 bytes long. */
static uint32_t cp_key(const char *s, size_t n)
{
	uint32_t k = 0;

	for (size_t j = 0; j < n; j++)
		k = k << 8 | (uint8_t)s[j];
	return k;
}

/* The unit at pat[i] (i < end); returns the offset of the next one. */
static size_t unit_at(const char *pat, size_t i, size_t end, struct unit *u)
{
	char c = pat[i];

	if (c == '*' || c == '?') {
		u->kind = c == '*' ? UNIT_STAR : UNIT_ANY;
		return i + 1;
	}
	u->kind = UNIT_LIT;
	u->off = i;
	if (c == '\\') {
		PG_DEBUG_ASSERT(i + 1 < end); /* the parser emits \x in pairs */
		u->off = i + 1;
	}
	u->len = c == '\\' ? 1 : cp_len(pat, i, end);
	u->key = cp_key(pat + u->off, u->len);
	return u->off + u->len;
}

static uint64_t mask_load(const uint32_t *w)
{
	return w[0] | (uint64_t)w[1] << 32;
}

static void mask_store(uint32_t *w, uint64_t m)
{
	w[0] = (uint32_t)m;
	w[1] = (uint32_t)(m >> 32);
}

static uint32_t run_words(const uint32_t *run)
{
	if (run[0] == RUN_LITERAL)
		return 2 + (run[1] + 3) / 4 + run[1];
	return 5 + 3 * run[2];
}

/* The literal run pat[a..b) of k bytes into out (NULL: only its size); returns its words. */
static uint32_t literal_build(const char *pat, size_t a, size_t b, uint32_t k, uint32_t *out)
{
	uint32_t words = 2 + (k + 3) / 4 + k, *border;
	struct unit u;
	char *s;

	if (!out)
		return words;
	memset(out, 0, (size_t)words * sizeof(*out));
	out[0] = RUN_LITERAL;
	out[1] = k;
	s = (char *)(out + 2);
	for (uint32_t o = 0; a < b; o += (uint32_t)u.len) {
		a = unit_at(pat, a, b, &u);
		memcpy(s + o, pat + u.off, u.len);
	}
	/* border[j]: length of the longest proper border (prefix = suffix) of s[0..j] */
	border = out + 2 + (k + 3) / 4;
	for (uint32_t j = 1, len = 0; j < k; j++) {
		while (len > 0 && s[j] != s[len])
			len = border[len - 1];
		if (s[j] == s[len])
			len++;
		border[j] = len;
	}
	PG_ASSERT(run_words(out) == words);
	return words;
}

/* The run pat[a..b) with a `?` (at most PG_QUERY_WILD_RUN_MAX units) into out (NULL: only
 * its size); returns its words. */
static uint32_t shift_and_build(const char *pat, size_t a, size_t b, uint32_t *out)
{
	uint32_t keys[PG_QUERY_WILD_RUN_MAX], d = 0, nu = 0;
	uint64_t masks[PG_QUERY_WILD_RUN_MAX], any = 0;
	struct unit u;

	for (; a < b; nu++) {
		uint32_t k = 0;

		a = unit_at(pat, a, b, &u);
		PG_ASSERT(nu < PG_QUERY_WILD_RUN_MAX && u.kind != UNIT_STAR);
		if (u.kind == UNIT_ANY) {
			any |= 1ull << nu;
			continue;
		}
		while (k < d && keys[k] < u.key)
			k++;
		if (k == d || keys[k] != u.key) {
			memmove(keys + k + 1, keys + k, (d - k) * sizeof(keys[0]));
			memmove(masks + k + 1, masks + k, (d - k) * sizeof(masks[0]));
			keys[k] = u.key;
			masks[k] = 0;
			d++;
		}
		masks[k] |= 1ull << nu;
	}
	PG_ASSERT(any != 0 && d < nu);
	if (out) {
		out[0] = RUN_SHIFT_AND;
		out[1] = nu;
		out[2] = d;
		mask_store(out + 3, any);
		memcpy(out + 5, keys, d * sizeof(keys[0]));
		for (uint32_t k = 0; k < d; k++)
			mask_store(out + 5 + d + 2 * k, masks[k]);
		PG_ASSERT(run_words(out) == 5 + 3 * d);
	}
	return 5 + 3 * d;
}

/* What a star-free stretch of a pattern holds. */
struct stretch {
	uint32_t units, bytes; /* units; bytes of its literals */
	bool any;	       /* one of them is a `?` */
};

/* Scans the units from pat[i] up to the next star or len; returns where it stopped. */
static size_t stretch_scan(const char *pat, size_t i, size_t len, struct stretch *st)
{
	struct unit u;

	*st = (struct stretch){ 0 };
	while (i < len && pat[i] != '*') { /* on a unit boundary, '*' is a star */
		i = unit_at(pat, i, len, &u);
		st->units++;
		st->bytes += u.kind == UNIT_LIT ? (uint32_t)u.len : 0;
		st->any |= u.kind == UNIT_ANY;
	}
	return i;
}

/* Compiles the pattern pat[0..len) into its program at out (NULL: only its size); returns
 * the program's words. */
uint32_t pg_wild_prog_build(const char *pat, size_t len, uint32_t *out)
{
	uint32_t words = PROG_HDR, nruns = 0;
	struct stretch st;
	size_t head = stretch_scan(pat, 0, len, &st), tail = len, a, i = head;

	while (i < len) {
		/* pat[i] is a star; what follows up to the next one is a run, or the tail */
		a = i + 1;
		i = stretch_scan(pat, a, len, &st);
		if (i == len) {
			tail = a;
		} else if (i > a) {
			uint32_t *run = out ? out + words : NULL;

			words += st.any ? shift_and_build(pat, a, i, run)
					: literal_build(pat, a, i, st.bytes, run);
			nruns++;
		}
	}
	if (out) {
		out[PROG_HEAD_END] = (uint32_t)head;
		out[PROG_TAIL] = (uint32_t)tail;
		out[PROG_TAIL_CPS] = head == len ? 0 : st.units;
		out[PROG_NRUNS] = nruns;
	}
	return words;
}

/* Matches the star-free pattern stretch pat[a..b) at t[*ti..tlen); on success moves *ti past
 * it. One step per unit. */
static bool stretch_at(const char *pat, size_t a, size_t b, const char *t, size_t *ti, size_t tlen,
		       uint64_t *steps)
{
	size_t i = *ti;
	struct unit u;

	while (a < b) {
		size_t n;

		(*steps)++;
		if (i == tlen)
			return false;
		a = unit_at(pat, a, b, &u);
		PG_DEBUG_ASSERT(u.kind != UNIT_STAR);
		n = cp_len(t, i, tlen);
		if (u.kind == UNIT_LIT && (n != u.len || cp_key(t + i, n) != u.key))
			return false;
		i += n;
	}
	*ti = i;
	return true;
}

/* The leftmost occurrence of a literal run inside t[*ti..lim), by KMP; on success moves *ti
 * past it. Each step advances i or shortens the border j, so at most 2 x (lim - *ti). */
static bool literal_find(const uint32_t *run, const char *t, size_t *ti, size_t lim,
			 uint64_t *steps)
{
	uint32_t k = run[1], j = 0;
	const char *s = (const char *)(run + 2);
	const uint32_t *border = run + 2 + (k + 3) / 4;

	for (size_t i = *ti; i < lim;) {
		(*steps)++;
		if (t[i] == s[j]) {
			i++;
			if (++j == k) {
				*ti = i;
				return true;
			}
		} else if (j > 0) {
			j = border[j - 1];
		} else {
			i++;
		}
	}
	return false;
}

/* The literal mask of the text code point with this key: binary search of the sorted keys. */
static uint64_t shift_and_mask(const uint32_t *run, uint32_t key)
{
	const uint32_t *keys = run + 5;
	uint32_t lo = 0, hi = run[2];

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (keys[mid] == key)
			return mask_load(keys + run[2] + 2 * mid);
		if (keys[mid] < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* The leftmost occurrence of a run with a `?` inside t[*ti..lim), by Shift-And; on success
 * moves *ti past it. One step per code point. */
static bool shift_and_find(const uint32_t *run, const char *t, size_t *ti, size_t lim,
			   uint64_t *steps)
{
	uint64_t any = mask_load(run + 3), done = 1ull << (run[1] - 1), state = 0;

	for (size_t i = *ti; i < lim;) {
		size_t n = cp_len(t, i, lim);

		(*steps)++;
		state = (state << 1 | 1) & (any | shift_and_mask(run, cp_key(t + i, n)));
		i += n;
		if (state & done) {
			*ti = i;
			return true;
		}
	}
	return false;
}

/* The text t[0..tlen) against the pattern pat[0..len) and its program: head, tail, then the
 * runs (HOW IT WORKS). */
static bool pattern_match(const char *pat, size_t len, const uint32_t *prog, const char *t,
			  size_t tlen, uint64_t *steps)
{
	const uint32_t *run = prog + PROG_HDR;
	size_t ti = 0, tail = tlen, end;

	if (!stretch_at(pat, 0, prog[PROG_HEAD_END], t, &ti, tlen, steps))
		return false;
	if (prog[PROG_HEAD_END] == len)
		return ti == tlen; /* no star */
	for (uint32_t k = 0; k < prog[PROG_TAIL_CPS]; k++) {
		(*steps)++;
		if (tail == ti)
			return false; /* head and tail would overlap */
		tail = cp_back(t, tail, ti);
	}
	end = tail;
	if (!stretch_at(pat, prog[PROG_TAIL], len, t, &end, tlen, steps) || end != tlen)
		return false;
	for (uint32_t k = 0; k < prog[PROG_NRUNS]; k++, run += run_words(run)) {
		bool found = run[0] == RUN_LITERAL ? literal_find(run, t, &ti, tail, steps)
						   : shift_and_find(run, t, &ti, tail, steps);

		if (!found)
			return false;
	}
	return true;
}

bool pg_wild_match(const char *pat, size_t len, const uint32_t *prog, const char *t, size_t tlen,
		   uint64_t *steps)
{
	uint64_t s = 0;
	bool m = pattern_match(pat, len, prog, t, tlen, &s);

	PG_ASSERT(s <= 2 * ((uint64_t)tlen + len)); /* LIMITATIONS: the work bound */
	*steps += s;
	return m;
}
