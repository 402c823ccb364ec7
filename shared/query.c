/*
 * query.c - the record search language: query text -> plan -> match (FEATURES.md §1).
 *
 * Windows Peer Graphing searched records with an XML query of and / or / clause elements,
 * each clause naming an attribute, a type (int, string, date), a compare and a value, with
 * `*` and `?` wildcards in strings. We keep those semantics and write them as compact text.
 * pg_query_parse() checks the whole text once and compiles it into a plan: one allocation
 * holding a bounded node array and a pool of names and string values. pg_query_match() walks
 * the plan against a record without allocating, so a store can run one query over millions
 * of records. The patterns of `*` and `?` are compiled and matched by wildcard.c.
 *
 * GRAMMAR (whitespace - space, tab, CR, LF - may appear between any two tokens)
 *
 *	query   = expr
 *	expr    = group | clause
 *	group   = ( "and" | "or" ) "(" expr { "," expr } ")"
 *	clause  = name op value
 *	name    = 1..40 ASCII letters and digits
 *	op      = "=" | "!=" | "<" | ">" | "<=" | ">=" | "≠" | "≤" | "≥"
 *	value   = int | string | date
 *	int     = [ "-" ] digit { digit }                       signed 64-bit
 *	string  = '"' { utf8-char | '""' | "\*" | "\?" | "\\" } '"'
 *	date    = "date" "(" ( digit { digit } | iso ) ")"      microseconds since the epoch
 *	iso     = YYYY "-" MM "-" DD "T" hh ":" mm ":" ss [ "." 1..6 digits ] "Z"
 *
 * Example: and(peercreatorid = "alice*", or(age >= 18, peerrecordtype = "4f2a*"),
 *              peercreationtime >= date(2024-01-01T00:00:00Z))
 *
 * SEMANTICS
 *   - The keywords and, or, date are matched without regard to case. A word followed by "("
 *     must be and / or; any other word starts a clause, so an attribute may be named "and".
 *   - The value's form gives the clause its type: a bare number is an int, a quoted string a
 *     string, date(...) a date. A clause matches only an attribute of the same name and type:
 *     an absent attribute or one of another type makes the clause false, for != as well.
 *   - Attribute names are compared exactly (records store them byte for byte). The reserved
 *     names are compared without regard to case and read record fields; they are always
 *     present and have a fixed type, so a value of another type is rejected at parse time
 *     (PG_E_QUERY_TYPE) rather than silently never matching:
 *	  peercreatorid, peerlastmodifiedby   string: creator / last-modifier id ("" while the
 *	                                      record was never updated)
 *	  peerrecordid, peerrecordtype        string: the GUID as 8-4-4-4-12 lowercase hex
 *	                                      (pg_guid_format); the value's ASCII letters are
 *	                                      folded to lowercase, so GUIDs match in either case
 *	  peercreationtime                    date: created_us
 *	  peerlastmodificationtime            date: modified_us
 *   - Strings compare bytewise, which for UTF-8 is code point order, and case-sensitively:
 *     a deliberate choice, since correct Unicode case folding needs tables we do not carry.
 *     A quote inside a string is written twice (""). Backslash escapes exactly one of * ? \
 *     and means that character literally; any other escape is PG_E_QUERY_ESCAPE.
 *   - Wildcards work with = and != only: * matches any run of code points (also none), ?
 *     exactly one code point. With < > <= >= a string is compared literally: * and ? are
 *     ordinary characters there, and \* \? \\ still stand for * ? \.
 *   - int values are signed 64-bit decimal (overflow: PG_E_QUERY_TYPE). date values are
 *     unsigned microseconds, or ISO-8601 UTC with every field range-checked (years 1970..9999,
 *     real month lengths with leap years, no leap second); anything else is PG_E_QUERY_TYPE.
 *
 * LIMITS: PG_QUERY_TEXT_MAX bytes of text, PG_QUERY_CLAUSES_MAX clauses, PG_QUERY_GROUPS_MAX
 * groups, PG_QUERY_DEPTH_MAX groups nested, PG_QUERY_WILD_RUN_MAX code points in a run
 * between two stars of a pattern when the run holds a `?`; beyond any of them
 * PG_E_QUERY_TOO_COMPLEX. The text must be UTF-8 (PG_E_BAD_UTF8). Every rejection reports
 * the byte offset of the token at fault (an unterminated string: its opening quote; text that
 * ends too early: its length, the first byte that was missing; a run over its bound: its
 * first byte). Parser and evaluator recurse only once per nesting level, so the depth bound
 * is also their stack bound. A wildcard clause costs at most 2 x (text + pattern bytes)
 * steps (wildcard.c, WILDCARD MATCHING), any other clause one compare.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pg_assert.h"
#include "pg_error.h"
#include "query.h"
#include "record.h"
#include "wildcard.h"

enum node_kind { NODE_AND, NODE_OR, NODE_CLAUSE };

enum field {
	FIELD_ATTR, /* a named attribute of the record */
	FIELD_CREATOR,
	FIELD_MODIFIER,
	FIELD_RECORD_ID,
	FIELD_RECORD_TYPE,
	FIELD_CREATED,
	FIELD_MODIFIED,
};

enum op { OP_EQ, OP_NE, OP_LT, OP_GT, OP_LE, OP_GE };

enum { NODES_MAX = PG_QUERY_CLAUSES_MAX + PG_QUERY_GROUPS_MAX };

/* One node of the plan. Nodes are stored in pre-order: a group's operands follow it, and
 * `end` is the index just past its subtree, so the next sibling of node i is nodes[i].end. */
struct node {
	uint8_t kind;	  /* enum node_kind */
	uint8_t field;	  /* enum field */
	uint8_t type;	  /* enum pg_attr_type of the value */
	uint8_t op;	  /* enum op */
	bool wild;	  /* string value is a pattern: op = or != and an unescaped * or ? */
	uint8_t name_len; /* FIELD_ATTR: the name is pool[name_off .. +name_len) */
	uint16_t end;
	uint32_t name_off;
	uint32_t str_off, str_len; /* string value: pool[str_off .. +str_len) */
	uint32_t prog;		   /* wild: its program, in words from the plan's first */
	union {
		int64_t i;
		uint64_t date_us;
	} v;
};

struct pg_query {
	uint16_t nnodes;
	uint32_t pool_len, pool_cap;
	uint32_t prog_off; /* the wildcard programs: 32-bit words from pool + prog_off */
	struct node nodes[NODES_MAX];
	char pool[]; /* names and string values (never longer than the text they came from),
		      * then the programs */
};

_Static_assert(PG_QUERY_TEXT_MAX <= UINT32_MAX, "pool offsets are 32-bit");
_Static_assert(NODES_MAX <= UINT16_MAX, "node indexes are 16-bit");
_Static_assert(offsetof(struct pg_query, pool) % _Alignof(uint32_t) == 0, "programs are aligned");

static const struct reserved {
	const char *name;
	uint8_t field, type;
} reserved[] = {
	{ "peercreatorid", FIELD_CREATOR, PG_ATTR_STRING },
	{ "peerlastmodifiedby", FIELD_MODIFIER, PG_ATTR_STRING },
	{ "peerrecordid", FIELD_RECORD_ID, PG_ATTR_STRING },
	{ "peerrecordtype", FIELD_RECORD_TYPE, PG_ATTR_STRING },
	{ "peercreationtime", FIELD_CREATED, PG_ATTR_DATE },
	{ "peerlastmodificationtime", FIELD_MODIFIED, PG_ATTR_DATE },
};

/* ---- lexing ------------------------------------------------------------------------- */

struct parser {
	const char *s;
	size_t len, pos;
	struct pg_query *q;
	unsigned nclauses, ngroups;
	int code;
	size_t off;
};

static int fail(struct parser *p, int code, size_t off)
{
	p->code = code;
	p->off = off;
	return code;
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_op_char(char c)
{
	return c == '=' || c == '!' || c == '<' || c == '>';
}

static void skip_ws(struct parser *p)
{
	while (p->pos < p->len && is_ws(p->s[p->pos]))
		p->pos++;
}

/* The UTF-8 operators ≠ ≤ ≥ (U+2260, U+2264, U+2265) at pos, or -1. */
static int utf8_op_at(const struct parser *p, size_t pos)
{
	const uint8_t *u = (const uint8_t *)p->s + pos;

	if (p->len - pos < 3 || u[0] != 0xe2 || u[1] != 0x89)
		return -1;
	switch (u[2]) {
	case 0xa0:
		return OP_NE;
	case 0xa4:
		return OP_LE;
	case 0xa5:
		return OP_GE;
	}
	return -1;
}

/* A word (name or keyword) runs up to whitespace, ( ) , " or an operator. Taking every other
 * byte into the word lets a bad name be reported as one token (PG_E_ATTR_NAME). */
static size_t word_end(const struct parser *p, size_t pos)
{
	while (pos < p->len) {
		char c = p->s[pos];

		if (is_ws(c) || c == '(' || c == ')' || c == ',' || c == '"' || is_op_char(c) ||
		    utf8_op_at(p, pos) >= 0)
			break;
		pos++;
	}
	return pos;
}

static bool word_is(const struct parser *p, size_t off, size_t n, const char *kw)
{
	return strlen(kw) == n && strncasecmp(p->s + off, kw, n) == 0;
}

/* Offset of the first byte that does not start a well-formed UTF-8 sequence, or len. */
static size_t utf8_first_bad(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint8_t c = (uint8_t)s[i];
		size_t n = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;

		if (n > len - i || !pg_utf8_valid(s + i, n))
			return i;
		i += n;
	}
	return len;
}

/* ---- values ------------------------------------------------------------------------- */

/* Decimal digits s[0..n) into *out; false on an empty run, a non-digit or overflow. */
static bool parse_u64(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (!is_digit(s[i]) || v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

static bool field_num(const char *s, size_t n, unsigned lo, unsigned hi, unsigned *out)
{
	uint64_t v;

	if (!parse_u64(s, n, &v) || v < lo || v > hi)
		return false;
	*out = (unsigned)v;
	return true;
}

static unsigned month_days(unsigned y, unsigned m)
{
	static const uint8_t days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return days[m - 1] + (m == 2 && leap);
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; H. Hinnant, "chrono-Compatible
 * Low-Level Date Algorithms", days_from_civil), for y >= 1970. */
static uint64_t days_from_civil(unsigned y, unsigned m, unsigned d)
{
	unsigned yy = y - (m <= 2);
	unsigned era = yy / 400, yoe = yy - era * 400;
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return (uint64_t)era * 146097 + doe - 719468;
}

/* YYYY-MM-DDTHH:MM:SS[.f{1,6}]Z -> microseconds since the epoch. */
static bool parse_iso(const char *s, size_t n, uint64_t *us)
{
	unsigned y, mo, d, h, mi, sec, frac = 0;
	size_t nf = 0;

	if (n < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
	    s[n - 1] != 'Z')
		return false;
	if (n > 20) {
		nf = n - 21;
		if (s[19] != '.' || nf < 1 || nf > 6 || !field_num(s + 20, nf, 0, 999999, &frac))
			return false;
		for (size_t k = nf; k < 6; k++)
			frac *= 10;
	}
	if (!field_num(s, 4, 1970, 9999, &y) || !field_num(s + 5, 2, 1, 12, &mo) ||
	    !field_num(s + 8, 2, 1, 31, &d) || d > month_days(y, mo) ||
	    !field_num(s + 11, 2, 0, 23, &h) || !field_num(s + 14, 2, 0, 59, &mi) ||
	    !field_num(s + 17, 2, 0, 59, &sec))
		return false;
	*us = ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) * 1000000) + frac;
	return true;
}

static bool value_end(const struct parser *p, size_t pos)
{
	return pos == p->len || is_ws(p->s[pos]) || p->s[pos] == ',' || p->s[pos] == ')';
}

static int parse_int(struct parser *p, struct node *n)
{
	size_t start = p->pos, i = start;
	bool neg = false;
	uint64_t mag;

	if (p->s[i] == '-') {
		neg = true;
		i++;
	}
	while (i < p->len && is_digit(p->s[i]))
		i++;
	if (!value_end(p, i) || !parse_u64(p->s + start + neg, i - start - neg, &mag) ||
	    mag > (uint64_t)INT64_MAX + neg)
		return fail(p, PG_E_QUERY_TYPE, start);
	n->type = PG_ATTR_INT;
	n->v.i = !neg ? (int64_t)mag : mag > (uint64_t)INT64_MAX ? INT64_MIN : -(int64_t)mag;
	p->pos = i;
	return 0;
}

/* At "(" after the keyword date. */
static int parse_date(struct parser *p, struct node *n)
{
	size_t b, e, close;
	uint64_t us;

	p->pos++;
	skip_ws(p);
	b = p->pos;
	for (close = b; close < p->len && p->s[close] != ')'; close++)
		;
	if (close == p->len)
		return fail(p, PG_E_QUERY_SYNTAX, p->len); /* unbalanced */
	for (e = close; e > b && is_ws(p->s[e - 1]); e--)
		;
	if (!parse_u64(p->s + b, e - b, &us) && !parse_iso(p->s + b, e - b, &us))
		return fail(p, PG_E_QUERY_TYPE, b);
	n->type = PG_ATTR_DATE;
	n->v.date_us = us;
	p->pos = close + 1;
	return 0;
}

/* Removes the backslash of each \x in s[0..*n) in place. */
static void unescape(char *s, uint32_t *n)
{
	uint32_t o = 0;

	for (uint32_t i = 0; i < *n; i++) {
		if (s[i] == '\\')
			i++;
		s[o++] = s[i];
	}
	*n = o;
}

/* Where a string's latest run between stars began and what it holds so far: a run between
 * two stars that holds a `?` is bounded (PG_QUERY_WILD_RUN_MAX; wildcard.c, LIMITATIONS). */
struct run_check {
	bool pattern; /* the string is a pattern: op = or != */
	bool starred; /* a star came before the run */
	bool any;     /* the run holds a `?` */
	uint32_t cps; /* code points in the run */
	size_t start; /* text offset of its first byte */
};

/* Notes the unescaped byte c at text offset i; false when c is a star that closes a run over
 * the bound. (Escapes and "" count one code point each, by the caller.) */
static bool run_note(struct run_check *run, char c, size_t i)
{
	if (c != '*') {
		run->any |= c == '?';
		run->cps += ((uint8_t)c & 0xc0) != 0x80; /* lead bytes start code points */
		return true;
	}
	if (run->pattern && run->starred && run->any && run->cps > PG_QUERY_WILD_RUN_MAX)
		return false;
	*run = (struct run_check){ .pattern = run->pattern, .starred = true, .start = i + 1 };
	return true;
}

/* At the opening quote. Compiles the string into the pool in pattern form: wildcards and
 * literals as written, each escape kept as the two bytes \x (x one of * ? \), "" as one ".
 * A string that is not used as a pattern is then unescaped to its plain bytes. */
static int parse_string(struct parser *p, struct node *n)
{
	struct pg_query *q = p->q;
	size_t open = p->pos, i = open + 1;
	char *out = q->pool + q->pool_len;
	uint32_t o = 0;
	bool wild = false;
	struct run_check run = { .pattern = n->op == OP_EQ || n->op == OP_NE };

	/* the pool only holds copies of text before p->pos and output never outgrows input,
	 * so out[0 .. i - open) stays inside pool[0 .. len) */
	PG_ASSERT(q->pool_len <= open);
	for (;;) {
		char c;

		if (i == p->len)
			return fail(p, PG_E_QUERY_SYNTAX, open); /* unterminated string */
		c = p->s[i];
		if (c == '"') {
			if (i + 1 < p->len && p->s[i + 1] == '"') {
				out[o++] = '"';
				run.cps++;
				i += 2;
				continue;
			}
			i++;
			break;
		}
		if (c == '\\') {
			if (i + 1 == p->len)
				return fail(p, PG_E_QUERY_SYNTAX, open);
			c = p->s[i + 1];
			if (c != '*' && c != '?' && c != '\\')
				return fail(p, PG_E_QUERY_ESCAPE, i);
			out[o++] = '\\';
			out[o++] = c;
			run.cps++;
			i += 2;
			continue;
		}
		if (!run_note(&run, c, i))
			return fail(p, PG_E_QUERY_TOO_COMPLEX, run.start);
		wild |= c == '*' || c == '?';
		out[o++] = c;
		i++;
	}
	n->wild = wild && (n->op == OP_EQ || n->op == OP_NE);
	if (!n->wild)
		unescape(out, &o);
	if (n->field == FIELD_RECORD_ID || n->field == FIELD_RECORD_TYPE)
		for (uint32_t k = 0; k < o; k++)
			if (out[k] >= 'A' && out[k] <= 'Z')
				out[k] = (char)(out[k] - 'A' + 'a');
	n->type = PG_ATTR_STRING;
	n->str_off = q->pool_len;
	n->str_len = o;
	q->pool_len += o;
	p->pos = i;
	return 0;
}

static int parse_value(struct parser *p, struct node *n)
{
	size_t start = p->pos, end;
	char c;
	int err;

	if (start == p->len)
		return fail(p, PG_E_QUERY_SYNTAX, start); /* missing value */
	c = p->s[start];
	if (c == '"') {
		err = parse_string(p, n);
	} else if (c == '-' || is_digit(c)) {
		err = parse_int(p, n);
	} else if (c == ',' || c == ')') {
		return fail(p, PG_E_QUERY_SYNTAX, start);
	} else {
		end = word_end(p, start);
		if (!word_is(p, start, end - start, "date"))
			return fail(p, PG_E_QUERY_TYPE, start); /* no type has this form */
		p->pos = end;
		skip_ws(p);
		if (p->pos == p->len || p->s[p->pos] != '(')
			return fail(p, PG_E_QUERY_TYPE, start);
		err = parse_date(p, n);
	}
	if (err)
		return err;
	for (size_t k = 0; n->field != FIELD_ATTR && k < PG_ARRAY_SIZE(reserved); k++)
		if (reserved[k].field == n->field && reserved[k].type != n->type)
			return fail(p, PG_E_QUERY_TYPE, start);
	return 0;
}

/* ---- structure ---------------------------------------------------------------------- */

static int parse_op(struct parser *p, struct node *n)
{
	static const char *const ascii[] = {
		[OP_EQ] = "=", [OP_NE] = "!=", [OP_LT] = "<",
		[OP_GT] = ">", [OP_LE] = "<=", [OP_GE] = ">=",
	};
	size_t start = p->pos, end = start;
	int op = -1;

	if (start == p->len || p->s[start] == ',' || p->s[start] == ')')
		return fail(p, PG_E_QUERY_SYNTAX, start); /* missing operator */
	while (end < p->len && is_op_char(p->s[end]))
		end++;
	if (end > start) {
		for (int k = 0; k < (int)PG_ARRAY_SIZE(ascii); k++)
			if (strlen(ascii[k]) == end - start &&
			    !memcmp(ascii[k], p->s + start, end - start))
				op = k;
	} else if ((op = utf8_op_at(p, start)) >= 0) {
		end = start + 3;
	}
	/* an operator glued to another ("==", "<>", "≤=", "=≥") is not a known operator */
	if (op < 0 || (end < p->len && (is_op_char(p->s[end]) || utf8_op_at(p, end) >= 0)))
		return fail(p, PG_E_QUERY_OPERATOR, start);
	n->op = (uint8_t)op;
	p->pos = end;
	return 0;
}

static uint16_t node_new(struct parser *p)
{
	struct pg_query *q = p->q;

	/* the clause and group bounds are checked first, so this cannot overflow */
	PG_ASSERT(q->nnodes < NODES_MAX);
	memset(&q->nodes[q->nnodes], 0, sizeof(q->nodes[0]));
	return q->nnodes++;
}

static int parse_clause(struct parser *p, size_t name_off, size_t name_len)
{
	struct pg_query *q = p->q;
	struct node *n;
	uint16_t idx;
	int err;

	if (!pg_attr_name_valid(p->s + name_off, name_len))
		return fail(p, PG_E_ATTR_NAME, name_off);
	if (p->nclauses == PG_QUERY_CLAUSES_MAX)
		return fail(p, PG_E_QUERY_TOO_COMPLEX, name_off);
	p->nclauses++;
	idx = node_new(p);
	n = &q->nodes[idx];
	n->kind = NODE_CLAUSE;
	n->end = (uint16_t)(idx + 1);
	n->field = FIELD_ATTR;
	for (size_t k = 0; k < PG_ARRAY_SIZE(reserved); k++)
		if (word_is(p, name_off, name_len, reserved[k].name))
			n->field = reserved[k].field;
	if (n->field == FIELD_ATTR) {
		PG_ASSERT(q->pool_len <= name_off);
		memcpy(q->pool + q->pool_len, p->s + name_off, name_len);
		n->name_off = q->pool_len;
		n->name_len = (uint8_t)name_len;
		q->pool_len += (uint32_t)name_len;
	}
	if ((err = parse_op(p, n)))
		return err;
	skip_ws(p);
	return parse_value(p, n);
}

static int parse_expr(struct parser *p, unsigned depth);

/* At "(" after and / or; the keyword started at word. */
static int parse_group(struct parser *p, uint8_t kind, size_t word, unsigned depth)
{
	struct pg_query *q = p->q;
	uint16_t idx;
	int err;

	if (depth == PG_QUERY_DEPTH_MAX || p->ngroups == PG_QUERY_GROUPS_MAX)
		return fail(p, PG_E_QUERY_TOO_COMPLEX, word);
	p->ngroups++;
	idx = node_new(p);
	q->nodes[idx].kind = kind;
	p->pos++;
	for (;;) {
		if ((err = parse_expr(p, depth + 1)))
			return err;
		skip_ws(p);
		if (p->pos == p->len)
			return fail(p, PG_E_QUERY_SYNTAX, p->len); /* unbalanced "(" */
		if (p->s[p->pos] == ')')
			break;
		if (p->s[p->pos] != ',')
			return fail(p, PG_E_QUERY_SYNTAX, p->pos);
		p->pos++;
	}
	p->pos++;
	q->nodes[idx].end = q->nnodes;
	return 0;
}

static int parse_expr(struct parser *p, unsigned depth)
{
	size_t start, end;

	skip_ws(p);
	start = p->pos;
	end = word_end(p, start);
	if (end == start)
		return fail(p, PG_E_QUERY_SYNTAX, start); /* expected and( or( or a clause */
	p->pos = end;
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == '(') {
		if (word_is(p, start, end - start, "and"))
			return parse_group(p, NODE_AND, start, depth);
		if (word_is(p, start, end - start, "or"))
			return parse_group(p, NODE_OR, start, depth);
		return fail(p, PG_E_QUERY_SYNTAX, start); /* not a group keyword */
	}
	return parse_clause(p, start, end - start);
}

/* Appends the program of every pattern to the plan *qp (reallocated); 0 or -ENOMEM. */
static int progs_build(struct pg_query **qp)
{
	struct pg_query *q = *qp;
	uint32_t base = (q->pool_len + 3) & ~3u, words = 0;
	uint32_t *prog;

	for (unsigned i = 0; i < q->nnodes; i++) {
		struct node *n = &q->nodes[i];

		if (n->kind == NODE_CLAUSE && n->wild) {
			n->prog = words;
			words += pg_wild_prog_build(q->pool + n->str_off, n->str_len, NULL);
		}
	}
	if (words == 0)
		return 0;
	/* a pattern of s bytes takes at most 4 + 3 s words (wildcard.h) and its clause at least
	 * s + 4 bytes of text */
	PG_ASSERT(words <= 3 * (uint64_t)q->pool_cap);
	q = realloc(q, sizeof(*q) + base + (size_t)words * sizeof(*prog));
	if (!q)
		return -ENOMEM;
	*qp = q;
	q->prog_off = base;
	q->pool_cap = base + words * (uint32_t)sizeof(*prog);
	prog = (uint32_t *)(q->pool + base);
	words = 0;
	for (unsigned i = 0; i < q->nnodes; i++) {
		struct node *n = &q->nodes[i];

		if (n->kind == NODE_CLAUSE && n->wild) {
			PG_ASSERT(n->prog == words); /* the same size as counted */
			words +=
			    pg_wild_prog_build(q->pool + n->str_off, n->str_len, prog + n->prog);
		}
	}
	PG_ASSERT(q->prog_off + words * sizeof(*prog) == q->pool_cap);
	return 0;
}

int pg_query_parse(const char *text, size_t len, struct pg_query **out, struct pg_query_error *err)
{
	struct parser p = { .s = text, .len = len };
	size_t bad;
	int rc;

	*out = NULL;
	if (len > PG_QUERY_TEXT_MAX) {
		rc = fail(&p, PG_E_QUERY_TOO_COMPLEX, PG_QUERY_TEXT_MAX);
		goto err_report;
	}
	bad = utf8_first_bad(text, len);
	if (bad != len) {
		rc = fail(&p, PG_E_BAD_UTF8, bad);
		goto err_report;
	}
	p.q = malloc(sizeof(*p.q) + len);
	if (!p.q) {
		rc = fail(&p, -ENOMEM, 0);
		goto err_report;
	}
	p.q->nnodes = 0;
	p.q->pool_len = 0;
	p.q->pool_cap = (uint32_t)len;
	p.q->prog_off = 0;
	if ((rc = parse_expr(&p, 0)))
		goto err_free_plan;
	skip_ws(&p);
	if (p.pos != len) {
		rc = fail(&p, PG_E_QUERY_SYNTAX, p.pos); /* trailing text */
		goto err_free_plan;
	}
	PG_ASSERT(p.q->nnodes >= 1 && p.q->nodes[0].end == p.q->nnodes);
	PG_ASSERT(p.q->pool_len <= p.q->pool_cap);
	if ((rc = progs_build(&p.q))) {
		rc = fail(&p, rc, 0);
		goto err_free_plan;
	}
	*out = p.q;
	if (err) {
		err->code = 0;
		err->offset = 0;
	}
	return 0;

err_free_plan:
	free(p.q);
err_report:
	if (err) {
		err->code = p.code;
		err->offset = p.off;
	}
	return rc;
}

void pg_query_destroy(struct pg_query *q)
{
	free(q);
}

/* ---- matching ----------------------------------------------------------------------- */

static bool holds(uint8_t op, int c)
{
	switch (op) {
	case OP_EQ:
		return c == 0;
	case OP_NE:
		return c != 0;
	case OP_LT:
		return c < 0;
	case OP_GT:
		return c > 0;
	case OP_LE:
		return c <= 0;
	case OP_GE:
		return c >= 0;
	}
	PG_ASSERT(!"unknown op");
	return false;
}

static int bytes_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen;
	int c = n ? memcmp(a, b, n) : 0;

	if (c)
		return c;
	return (alen > blen) - (alen < blen);
}

static const uint32_t *prog_of(const struct pg_query *q, const struct node *n)
{
	return (const uint32_t *)(q->pool + q->prog_off) + n->prog;
}

static bool str_match(const struct pg_query *q, const struct node *n, const char *s, size_t len,
		      uint64_t *steps)
{
	const char *v = q->pool + n->str_off;

	if (n->wild)
		return pg_wild_match(v, n->str_len, prog_of(q, n), s, len, steps) ==
		       (n->op == OP_EQ);
	return holds(n->op, bytes_cmp(s, len, v, n->str_len));
}

static bool num_match(uint8_t op, int64_t a, int64_t b)
{
	return holds(op, (a > b) - (a < b));
}

static bool date_match(uint8_t op, uint64_t a, uint64_t b)
{
	return holds(op, (a > b) - (a < b));
}

static bool clause_match(const struct pg_query *q, const struct node *n, const struct pg_record *r,
			 uint64_t *steps)
{
	char guid[37];
	struct pg_attr a;

	switch (n->field) {
	case FIELD_CREATOR:
		return str_match(q, n, r->creator, r->creator_len, steps);
	case FIELD_MODIFIER:
		return str_match(q, n, r->modifier, r->modifier_len, steps);
	case FIELD_RECORD_ID:
		pg_guid_format(&r->id, guid);
		return str_match(q, n, guid, 36, steps);
	case FIELD_RECORD_TYPE:
		pg_guid_format(&r->type, guid);
		return str_match(q, n, guid, 36, steps);
	case FIELD_CREATED:
		return date_match(n->op, r->created_us, n->v.date_us);
	case FIELD_MODIFIED:
		return date_match(n->op, r->modified_us, n->v.date_us);
	}
	PG_ASSERT(n->field == FIELD_ATTR);
	/* absent, or present with another type: false whatever the operator */
	if (pg_attr_find(r, q->pool + n->name_off, n->name_len, &a) != 0 || a.type != n->type)
		return false;
	switch (n->type) {
	case PG_ATTR_INT:
		return num_match(n->op, a.v.i, n->v.i);
	case PG_ATTR_DATE:
		return date_match(n->op, a.v.date_us, n->v.date_us);
	default:
		return str_match(q, n, a.v.str.ptr, a.v.str.len, steps);
	}
}

static bool eval(const struct pg_query *q, unsigned i, const struct pg_record *r, unsigned depth,
		 uint64_t *steps)
{
	const struct node *n = &q->nodes[i];
	bool decides = n->kind == NODE_OR; /* the operand value that settles the group */

	PG_ASSERT(i < q->nnodes && depth <= PG_QUERY_DEPTH_MAX);
	if (n->kind == NODE_CLAUSE)
		return clause_match(q, n, r, steps);
	for (unsigned c = i + 1; c < n->end; c = q->nodes[c].end)
		if (eval(q, c, r, depth + 1, steps) == decides)
			return decides;
	return !decides;
}

bool pg_query_match_stats(const struct pg_query *q, const struct pg_record *r,
			  struct pg_query_stats *st)
{
	return eval(q, 0, r, 0, &st->steps);
}

bool pg_query_match(const struct pg_query *q, const struct pg_record *r)
{
	struct pg_query_stats st = { 0 };

	return pg_query_match_stats(q, r, &st);
}
