/*
 * parse.c - the checks of every argument `peergraph` takes: numbers, sizes, durations, times,
 * GUIDs, attributes, and the texts the daemon has rules for (graph ids, classifiers, friendly
 * names, peer names, creators).
 *
 * Each check is a pure function that returns 0 or -EINVAL / -ERANGE and writes, on failure, a
 * sentence that says what was expected (why, CLI_WHY_SIZE bytes); the command puts the
 * argument in front of it ("--max-record-size 10: below the smallest, 1K"). The rules are
 * the daemon's own (doc/api.md, shared/record.h, controlplane/peername.h), repeated here so a
 * mistake is reported with the argument's name before anything is sent; the daemon checks
 * again and stays the authority. tests/cli/test_cli_parse.c holds the table of cases.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"

int cli_why(char *why, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, CLI_WHY_SIZE, fmt, ap);
	va_end(ap);
	return err;
}

static bool is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

/* Reads the leading digits of s into *v; the count of digits, or -ERANGE past UINT64_MAX. */
static int digits(const char *s, uint64_t *v)
{
	int n = 0;

	*v = 0;
	for (; is_digit(s[n]); n++) {
		uint64_t d = (uint64_t)(s[n] - '0');

		if (*v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		*v = *v * 10 + d;
	}
	return n;
}

/* ---- numbers --------------------------------------------------------------------------- */

int cli_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out, char *why)
{
	int n = digits(s, out);

	if (n == 0 || (n > 0 && s[n]))
		return cli_why(why, -EINVAL, "expected a whole number from %llu to %llu",
			       (unsigned long long)min, (unsigned long long)max);
	if (n < 0 || *out < min || *out > max)
		return cli_why(why, -ERANGE, "out of range: from %llu to %llu",
			       (unsigned long long)min, (unsigned long long)max);
	return 0;
}

int cli_parse_i64(const char *s, int64_t *out, char *why)
{
	bool neg = s[0] == '-';
	uint64_t v;
	int n = digits(s + neg, &v);

	if (n == 0 || (n > 0 && s[neg + n]))
		return cli_why(why, -EINVAL, "expected a whole number (signed, 64-bit)");
	if (n < 0 || v > (uint64_t)INT64_MAX + neg)
		return cli_why(why, -ERANGE,
			       "out of range: a signed 64-bit number is from %lld to %lld",
			       (long long)INT64_MIN, (long long)INT64_MAX);
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

/* A number with a unit suffix from units (NULL-terminated, first one ""), scaled. */
struct unit {
	const char *suffix;
	uint64_t scale;
};

static int parse_scaled(const char *s, const struct unit *units, uint64_t *out)
{
	uint64_t v;
	int n = digits(s, &v);

	if (n == 0)
		return -EINVAL;
	for (const struct unit *u = units; n > 0 && u->suffix; u++) {
		if (strcasecmp(s + n, u->suffix) != 0)
			continue;
		if (v > UINT64_MAX / u->scale)
			return -ERANGE;
		*out = v * u->scale;
		return 0;
	}
	return n < 0 ? -ERANGE : -EINVAL;
}

/* "1K" / "1M" when v is a whole number of them, else the bytes. */
static void size_text(uint64_t v, char *out, size_t cap)
{
	if (v && v % (1024 * 1024) == 0)
		snprintf(out, cap, "%lluM", (unsigned long long)(v >> 20));
	else if (v && v % 1024 == 0)
		snprintf(out, cap, "%lluK", (unsigned long long)(v >> 10));
	else
		snprintf(out, cap, "%llu bytes", (unsigned long long)v);
}

int cli_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out, char *why)
{
	static const struct unit units[] = {
		{ "", 1 },	    { "K", 1024 },	 { "KiB", 1024 },	{ "M", 1 << 20 },
		{ "MiB", 1 << 20 }, { "G", 1ull << 30 }, { "GiB", 1ull << 30 }, { NULL, 0 },
	};
	char lo[32], hi[32];
	int err = parse_scaled(s, units, out);

	size_text(min, lo, sizeof(lo));
	size_text(max, hi, sizeof(hi));
	if (err == -EINVAL)
		return cli_why(why, err,
			       "expected a size: digits with an optional K or M suffix "
			       "(1024 and 1048576 bytes), like 64K");
	if (err || *out < min || *out > max)
		return cli_why(why, -ERANGE, "out of range: from %s to %s", lo, hi);
	return 0;
}

int cli_parse_duration(const char *s, uint64_t min, uint64_t max, uint64_t *out, char *why)
{
	static const struct unit units[] = {
		{ "", 1 }, { "s", 1 }, { "m", 60 }, { "h", 3600 }, { "d", 86400 }, { NULL, 0 },
	};
	int err = parse_scaled(s, units, out);

	if (err == -EINVAL)
		return cli_why(why, err,
			       "expected seconds, or a number with s, m, h or d (like 90s, "
			       "15m, 2h, 7d)");
	if (err || *out < min || *out > max)
		return cli_why(why, -ERANGE, "out of range: from %llu to %llu seconds",
			       (unsigned long long)min, (unsigned long long)max);
	return 0;
}

/* ---- times ----------------------------------------------------------------------------- */

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (H. Hinnant's
 * days_from_civil, http://howardhinnant.github.io/date_algorithms.html). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + (int64_t)doe - 719468;
}

static unsigned month_days(unsigned y, unsigned m)
{
	static const unsigned char days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return days[m - 1] + (m == 2 && leap);
}

/* Reads exactly n digits at *p (advancing it) into *v; false when they are not there. */
static bool fixed(const char **p, int n, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < n; i++, (*p)++) {
		if (!is_digit(**p))
			return false;
		*v = *v * 10 + (unsigned)(**p - '0');
	}
	return true;
}

/* The zone at p ("", Z, +hh:mm, -hh:mm, +hhmm) as seconds east of UTC; false if malformed. */
static bool zone(const char *p, int64_t *east)
{
	unsigned hh, mm;
	int sign;

	*east = 0;
	if (!*p || ((*p == 'Z' || *p == 'z') && !p[1]))
		return true;
	if (*p != '+' && *p != '-')
		return false;
	sign = *p++ == '-' ? -1 : 1;
	if (!fixed(&p, 2, &hh))
		return false;
	if (*p == ':')
		p++;
	if (!fixed(&p, 2, &mm) || *p || hh > 23 || mm > 59)
		return false;
	*east = sign * (int64_t)(hh * 3600 + mm * 60);
	return true;
}

static int time_iso(const char *s, uint64_t *out_us, char *why)
{
	unsigned y, mo, d, h = 0, mi = 0, sec = 0, frac = 0;
	bool has_sec = false;
	const char *p = s;
	int64_t east, t;

	if (!fixed(&p, 4, &y) || *p++ != '-' || !fixed(&p, 2, &mo) || *p++ != '-' ||
	    !fixed(&p, 2, &d))
		goto malformed;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (!fixed(&p, 2, &h) || *p++ != ':' || !fixed(&p, 2, &mi))
			goto malformed;
		if (*p == ':') {
			p++;
			if (!fixed(&p, 2, &sec))
				goto malformed;
			has_sec = true;
		}
		if (*p == '.' && has_sec) {
			int n = 0;

			for (p++; is_digit(*p); p++, n++)
				if (n < 6)
					frac = frac * 10 + (unsigned)(*p - '0');
			if (n == 0 || n > 6)
				goto malformed;
			for (; n < 6; n++)
				frac *= 10;
		}
	}
	if (!zone(p, &east))
		goto malformed;
	if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo) || h > 23 ||
	    mi > 59 || sec > 59)
		return cli_why(why, -ERANGE,
			       "not a date and time: each field must be in its range "
			       "(years 1970 to 9999, real month lengths, no leap second)");
	t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - east;
	if (t < 0)
		return cli_why(why, -ERANGE, "before 1970-01-01T00:00:00Z");
	*out_us = (uint64_t)t * 1000000 + frac;
	return 0;
malformed:
	return cli_why(why, -EINVAL,
		       "expected an ISO 8601 time like 2026-03-01, "
		       "2026-03-01T12:00:00Z or 2026-03-01T12:00:00.5+01:00, or @SECONDS");
}

int cli_parse_time(const char *s, uint64_t *out_us, char *why)
{
	uint64_t sec;

	if (s[0] != '@')
		return time_iso(s, out_us, why);
	if (cli_parse_u64(s + 1, 0, UINT64_MAX / 1000000, &sec, why))
		return cli_why(why, -EINVAL,
			       "expected @ and seconds since 1970-01-01T00:00:00Z, "
			       "like @1767225600");
	*out_us = sec * 1000000;
	return 0;
}

int cli_parse_guid(const char *s, struct peergraph_guid *out, char *why)
{
	if (peergraph_guid_parse(s, out) == 0)
		return 0;
	return cli_why(why, -EINVAL,
		       "expected a GUID: 32 hex digits as 8-4-4-4-12, like "
		       "1b4e28ba-2fa1-11d2-883f-0016d3cca427");
}

/* ---- attributes ------------------------------------------------------------------------ */

int cli_attr_name_check(const char *name, size_t len, char *why)
{
	/* record fields the search language reads by these names (shared/record.h) */
	static const char *const reserved[] = {
		"peercreatorid",
		"peerrecordid",
		"peerrecordtype",
		"peercreationtime",
		"peerlastmodificationtime",
		"peerlastmodifiedby",
	};

	if (len == 0 || len > PEERGRAPH_ATTR_NAME_MAX)
		return cli_why(why, -EINVAL,
			       "an attribute name is 1 to %d ASCII letters and digits",
			       PEERGRAPH_ATTR_NAME_MAX);
	for (size_t i = 0; i < len; i++) {
		char ch = name[i];

		if (!is_digit(ch) && !(ch >= 'a' && ch <= 'z') && !(ch >= 'A' && ch <= 'Z'))
			return cli_why(why, -EINVAL,
				       "an attribute name is ASCII letters and digits "
				       "only (no '%c')",
				       ch);
	}
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (strlen(reserved[i]) == len && strncasecmp(reserved[i], name, len) == 0)
			return cli_why(why, -EINVAL, "'%.*s' is reserved: it names a record field",
				       (int)len, name);
	return 0;
}

/* The index of name in set, or -1. */
static int attrs_find(const struct cli_attrs *set, const char *name, size_t len)
{
	for (unsigned i = 0; i < set->n; i++)
		if (strlen(set->names[i]) == len && memcmp(set->names[i], name, len) == 0)
			return (int)i;
	return -1;
}

/* Points every attribute at its own copy of its name (the array may have moved). */
static void attrs_repoint(struct cli_attrs *set)
{
	for (unsigned i = 0; i < set->n; i++)
		set->a[i].name = set->names[i];
}

int cli_attrs_put(struct cli_attrs *set, const char *name, size_t len,
		  const struct peergraph_attr *val, bool replace, char *why)
{
	int err = cli_attr_name_check(name, len, why);
	int i;

	if (err)
		return err;
	i = attrs_find(set, name, len);
	if (i >= 0 && !replace)
		return cli_why(why, -EINVAL, "attribute '%.*s' is given twice", (int)len, name);
	if (i < 0) {
		if (set->n >= PEERGRAPH_ATTRS_MAX)
			return cli_why(why, -ERANGE, "a record has at most %d attributes",
				       PEERGRAPH_ATTRS_MAX);
		i = (int)set->n++;
		memcpy(set->names[i], name, len);
		set->names[i][len] = '\0';
	}
	set->a[i] = *val;
	attrs_repoint(set);
	return 0;
}

int cli_attrs_remove(struct cli_attrs *set, const char *name)
{
	int i = attrs_find(set, name, strlen(name));

	if (i < 0)
		return -ENOENT;
	set->n--;
	set->a[i] = set->a[set->n];
	memcpy(set->names[i], set->names[set->n], sizeof(set->names[i]));
	attrs_repoint(set);
	return 0;
}

int cli_attr_parse(struct cli_attrs *set, const char *arg, bool replace, char *why)
{
	const char *eq = strchr(arg, '='), *colon = eq ? strchr(eq, ':') : NULL, *v;
	struct peergraph_attr a = { 0 };
	size_t tlen;
	int err;

	if (!eq || !colon)
		return cli_why(why, -EINVAL,
			       "expected NAME=TYPE:VALUE, like age=int:42, city=str:Bern "
			       "or born=date:2024-01-01");
	v = colon + 1;
	tlen = (size_t)(colon - eq - 1);
	if (tlen == 3 && strncmp(eq + 1, "int", 3) == 0) {
		a.type = PEERGRAPH_ATTR_INT;
		err = cli_parse_i64(v, &a.i, why);
	} else if ((tlen == 3 && strncmp(eq + 1, "str", 3) == 0) ||
		   (tlen == 6 && strncmp(eq + 1, "string", 6) == 0)) {
		a.type = PEERGRAPH_ATTR_STRING;
		a.str = v;
		err = cli_utf8_valid(v, strlen(v)) ? 0 : cli_why(why, -EINVAL, "not valid UTF-8");
	} else if (tlen == 4 && strncmp(eq + 1, "date", 4) == 0) {
		a.type = PEERGRAPH_ATTR_DATE;
		err = cli_parse_time(v, &a.date, why);
	} else {
		return cli_why(why, -EINVAL, "unknown attribute type '%.*s': int, str or date",
			       (int)tlen, eq + 1);
	}
	if (err)
		return err;
	return cli_attrs_put(set, arg, (size_t)(eq - arg), &a, replace, why);
}

/* ---- texts the daemon has rules for ---------------------------------------------------- */

bool cli_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		unsigned char b = p[i];
		uint32_t cp, min;
		size_t n;

		if (b < 0x80) {
			i++;
			continue;
		}
		if (b >= 0xc2 && b <= 0xdf) { /* 0xc0, 0xc1 only start overlong forms */
			n = 1, cp = b & 0x1f, min = 0x80;
		} else if ((b & 0xf0) == 0xe0) {
			n = 2, cp = b & 0x0f, min = 0x800;
		} else if (b >= 0xf0 && b <= 0xf4) {
			n = 3, cp = b & 0x07, min = 0x10000;
		} else {
			return false;
		}
		if (len - i <= n)
			return false;
		for (size_t k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}

/* Rejects C0 controls and DEL (and counts code points into *points, if not NULL). */
static bool no_controls(const char *s, size_t *points)
{
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return false;
		n += (*p & 0xc0) != 0x80;
	}
	if (points)
		*points = n;
	return true;
}

int cli_check_graph_id(const char *s, char *why)
{
	size_t len = strlen(s);

	if (len == 0 || len > PEERGRAPH_GRAPH_ID_MAX)
		return cli_why(why, -EINVAL, "a graph id is 1 to %d bytes", PEERGRAPH_GRAPH_ID_MAX);
	if (!cli_utf8_valid(s, len) || !no_controls(s, NULL))
		return cli_why(why, -EINVAL, "a graph id is UTF-8 text without control characters");
	return 0;
}

int cli_check_address(const char *s, char *why)
{
	const char *host = s, *colon, *p;
	size_t hlen;
	unsigned long port = 0;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return cli_why(why, -EINVAL, "expected [IPV6]:PORT");
		host = s + 1;
		hlen = (size_t)(close - host);
		colon = close + 1;
	} else {
		if (!(colon = strrchr(s, ':')))
			return cli_why(why, -EINVAL, "expected HOST:PORT");
		hlen = (size_t)(colon - s);
		if (memchr(s, ':', hlen))
			return cli_why(why, -EINVAL,
				       "an IPv6 address goes in brackets: [ADDR]:PORT");
	}
	if (hlen == 0 || hlen > 253)
		return cli_why(why, -EINVAL, "the host is 1 to 253 characters");
	for (size_t i = 0; i < hlen; i++)
		if ((unsigned char)host[i] <= 0x20 || (unsigned char)host[i] >= 0x7f)
			return cli_why(why, -EINVAL, "the host is printable ASCII without spaces");
	for (p = colon + 1; *p >= '0' && *p <= '9' && port <= 65535; p++)
		port = port * 10 + (unsigned long)(*p - '0');
	if (p == colon + 1 || *p || port == 0 || port > 65535)
		return cli_why(why, -EINVAL, "the port is a number from 1 to 65535");
	return 0;
}

int cli_check_classifier(const char *s, char *why)
{
	size_t len = strlen(s);

	if (len == 0 || len > CLI_CLASSIFIER_MAX)
		return cli_why(why, -EINVAL, "a classifier is 1 to %d characters",
			       CLI_CLASSIFIER_MAX);
	for (size_t i = 0; i < len; i++)
		if (s[i] < 0x21 || s[i] > 0x7e || s[i] == '/' || s[i] == '\\')
			return cli_why(why, -EINVAL,
				       "a classifier is printable ASCII without spaces, "
				       "'/' or '\\'");
	return 0;
}

int cli_check_friendly_name(const char *s, char *why)
{
	size_t len = strlen(s), points;

	if (!cli_utf8_valid(s, len) || !no_controls(s, &points))
		return cli_why(why, -EINVAL,
			       "a friendly name is UTF-8 text without control "
			       "characters");
	if (points > CLI_FRIENDLY_NAME_CODEPOINTS)
		return cli_why(why, -ERANGE,
			       "a friendly name is at most %d characters (this one has "
			       "%zu)",
			       CLI_FRIENDLY_NAME_CODEPOINTS, points);
	return 0;
}

int cli_check_peer_name(const char *s, char *why)
{
	const char *dot = strchr(s, '.');
	size_t alen = dot ? (size_t)(dot - s) : 0;
	bool hex = alen == 40;

	for (size_t i = 0; hex && i < alen; i++)
		hex = is_digit(s[i]) || (s[i] >= 'a' && s[i] <= 'f');
	if (!dot || !(hex || (alen == 1 && s[0] == '0')) || cli_check_classifier(dot + 1, why))
		return cli_why(why, -EINVAL,
			       "expected a peer name: AUTHORITY.CLASSIFIER, where the "
			       "authority is 40 lowercase hex digits (or 0); "
			       "`peergraph identity list` shows them");
	return 0;
}

int cli_check_creator(const char *s, char *why)
{
	size_t len = strlen(s);

	if (len == 0 || len > PEERGRAPH_ID_MAX || !cli_utf8_valid(s, len))
		return cli_why(why, -EINVAL,
			       "a creator is 1 to %d bytes of UTF-8 (a peer name, or a "
			       "node name in an unsecured graph)",
			       PEERGRAPH_ID_MAX);
	return 0;
}
