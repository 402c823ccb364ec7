/*
 * test_cli_parse.c - the argument checks of the `peergraph` tool (controlplane/cli/parse.c,
 * util.c): a table of inputs and what each must give, one row a case with its number, so a
 * failure names the row. Also the error codes the tool tells apart by number (cli.h) against
 * the project's own enum, on this side of the boundary the tool cannot include.
 *
 * A plain program: it prints each failing row and exits 1 if any did.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "pg_error.h"

_Static_assert((int)CLI_E_NOT_FOUND == (int)PG_E_NOT_FOUND, "the tool's not-found code");
_Static_assert((int)CLI_E_IDENTITY_NOT_FOUND == (int)PG_E_IDENTITY_NOT_FOUND, "identity not found");
_Static_assert((int)CLI_E_API_VERSION == (int)PG_E_API_VERSION, "another protocol version");

static int failures;

#define CHECK(row, cond, ...)                                                                      \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			failures++;                                                                \
			printf("row %d: %s: ", (row), #cond);                                      \
			printf(__VA_ARGS__);                                                       \
			printf("\n");                                                              \
		}                                                                                  \
	} while (0)

/* ---- numbers, sizes, durations ------------------------------------------------------------ */

static const struct {
	int row;
	const char *in;
	uint64_t min, max;
	int err;
	uint64_t want;
} sizes[] = {
	{ 1, "1024", 1024, 60 << 20, 0, 1024 },
	{ 2, "1K", 1024, 60 << 20, 0, 1024 },
	{ 3, "64k", 1024, 60 << 20, 0, 65536 },
	{ 4, "1KiB", 1024, 60 << 20, 0, 1024 },
	{ 5, "60M", 1024, 60 << 20, 0, 60 << 20 },
	{ 6, "60MiB", 1024, 60 << 20, 0, 60 << 20 },
	{ 7, "61M", 1024, 60 << 20, -ERANGE, 0 },
	{ 8, "1023", 1024, 60 << 20, -ERANGE, 0 },
	{ 9, "", 1024, 60 << 20, -EINVAL, 0 },
	{ 10, "K", 1024, 60 << 20, -EINVAL, 0 },
	{ 11, "1.5M", 1024, 60 << 20, -EINVAL, 0 },
	{ 12, "-1K", 1024, 60 << 20, -EINVAL, 0 },
	{ 13, "1 K", 1024, 60 << 20, -EINVAL, 0 },
	{ 14, "1KB", 1024, 60 << 20, -EINVAL, 0 },
	{ 15, "99999999999999999999", 1, UINT64_MAX, -ERANGE, 0 },
	{ 16, "17179869184G", 1, UINT64_MAX, -ERANGE, 0 }, /* 2^34 G overflows 64 bits */
	{ 17, "1G", 1, UINT64_MAX, 0, 1ull << 30 },
};

static const struct {
	int row;
	const char *in;
	int err;
	uint64_t want;
} durations[] = {
	{ 1, "90", 0, 90 },	    { 2, "90s", 0, 90 },	  { 3, "15m", 0, 900 },
	{ 4, "2h", 0, 7200 },	    { 5, "7d", 0, 604800 },	  { 6, "0", -ERANGE, 0 },
	{ 7, "1w", -EINVAL, 0 },    { 8, "", -EINVAL, 0 },	  { 9, "h", -EINVAL, 0 },
	{ 10, "1.5h", -EINVAL, 0 }, { 11, "24856d", -ERANGE, 0 }, /* past 2^31 - 1 seconds */
};

static const struct {
	int row;
	const char *in;
	int err;
	int64_t want;
} ints[] = {
	{ 1, "0", 0, 0 },
	{ 2, "-1", 0, -1 },
	{ 3, "9223372036854775807", 0, INT64_MAX },
	{ 4, "-9223372036854775808", 0, INT64_MIN },
	{ 5, "9223372036854775808", -ERANGE, 0 },
	{ 6, "-9223372036854775809", -ERANGE, 0 },
	{ 7, "+1", -EINVAL, 0 },
	{ 8, "-", -EINVAL, 0 },
	{ 9, "12a", -EINVAL, 0 },
	{ 10, "", -EINVAL, 0 },
};

static void test_numbers(void)
{
	char why[CLI_WHY_SIZE];
	uint64_t u;
	int64_t i;
	int err;

	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		err = cli_parse_size(sizes[k].in, sizes[k].min, sizes[k].max, &u, why);
		CHECK(sizes[k].row, err == sizes[k].err, "size '%s': %d (%s)", sizes[k].in, err,
		      err ? why : "");
		CHECK(sizes[k].row, err || u == sizes[k].want, "size '%s': %llu", sizes[k].in,
		      (unsigned long long)u);
	}
	for (size_t k = 0; k < sizeof(durations) / sizeof(durations[0]); k++) {
		err = cli_parse_duration(durations[k].in, 1, CLI_LIFETIME_MAX_S, &u, why);
		CHECK(100 + durations[k].row, err == durations[k].err, "duration '%s': %d",
		      durations[k].in, err);
		CHECK(100 + durations[k].row, err || u == durations[k].want, "duration '%s': %llu",
		      durations[k].in, (unsigned long long)u);
	}
	for (size_t k = 0; k < sizeof(ints) / sizeof(ints[0]); k++) {
		err = cli_parse_i64(ints[k].in, &i, why);
		CHECK(200 + ints[k].row, err == ints[k].err, "int '%s': %d", ints[k].in, err);
		CHECK(200 + ints[k].row, err || i == ints[k].want, "int '%s': %lld", ints[k].in,
		      (long long)i);
	}
	err = cli_parse_u64("65537", 1, 65536, &u, why);
	CHECK(250, err == -ERANGE && strstr(why, "1 to 65536"), "u64 bound: %d %s", err, why);
}

/* ---- times ------------------------------------------------------------------------------- */

static const struct {
	int row;
	const char *in;
	int err;
	uint64_t want_us;
} times[] = {
	{ 1, "1970-01-01", 0, 0 },
	{ 2, "2024-01-01T00:00:00Z", 0, 1704067200000000ull },
	{ 3, "2024-01-01T00:00Z", 0, 1704067200000000ull },
	{ 4, "2024-01-01 00:00:00", 0, 1704067200000000ull },
	{ 5, "2024-01-01T01:00:00+01:00", 0, 1704067200000000ull },
	{ 6, "2023-12-31T23:00:00-0100", 0, 1704067200000000ull },
	{ 7, "2024-01-01T00:00:00.5Z", 0, 1704067200500000ull },
	{ 8, "2024-01-01T00:00:00.000001Z", 0, 1704067200000001ull },
	{ 9, "2024-02-29", 0, 1709164800000000ull }, /* a leap year */
	{ 10, "2023-02-29", -ERANGE, 0 },
	{ 11, "2100-02-29", -ERANGE, 0 }, /* not one */
	{ 12, "2024-13-01", -ERANGE, 0 },
	{ 13, "2024-01-01T24:00:00Z", -ERANGE, 0 },
	{ 14, "2024-01-01T23:59:60Z", -ERANGE, 0 }, /* no leap second */
	{ 15, "1969-12-31", -ERANGE, 0 },
	{ 16, "1970-01-01T00:00:00+01:00", -ERANGE, 0 }, /* before the epoch */
	{ 17, "2024-01-01T00:00:00.1234567Z", -EINVAL, 0 },
	{ 18, "2024-01-01T00:00.5Z", -EINVAL, 0 }, /* a fraction needs seconds */
	{ 19, "2024-1-01", -EINVAL, 0 },
	{ 20, "yesterday", -EINVAL, 0 },
	{ 21, "@1704067200", 0, 1704067200000000ull },
	{ 22, "@", -EINVAL, 0 },
	{ 23, "@-1", -EINVAL, 0 },
	{ 24, "2024-01-01T00:00:00+25:00", -EINVAL, 0 },
	{ 25, "9999-12-31T23:59:59Z", 0, 253402300799000000ull },
};

static void test_times(void)
{
	char why[CLI_WHY_SIZE], out[CLI_TIME_SIZE];
	uint64_t us;
	int err;

	for (size_t k = 0; k < sizeof(times) / sizeof(times[0]); k++) {
		us = 0;
		err = cli_parse_time(times[k].in, &us, why);
		CHECK(300 + times[k].row, err == times[k].err, "time '%s': %d (%s)", times[k].in,
		      err, err ? why : "");
		CHECK(300 + times[k].row, err || us == times[k].want_us, "time '%s': %llu",
		      times[k].in, (unsigned long long)us);
	}
	cli_time_format(1704067200500000ull, true, out);
	CHECK(350, strcmp(out, "2024-01-01T00:00:00.500000Z") == 0, "%s", out);
	cli_time_format(1704067200500000ull, false, out);
	CHECK(351, strcmp(out, "2024-01-01T00:00:00Z") == 0, "%s", out);
	cli_time_format(UINT64_MAX, false, out);
	CHECK(352, out[0] == '@', "%s", out);
	/* what is printed parses back to the same microsecond */
	cli_time_format(1767225600123456ull, true, out);
	CHECK(353, cli_parse_time(out, &us, why) == 0 && us == 1767225600123456ull, "%s", out);
}

/* ---- attributes -------------------------------------------------------------------------- */

static const struct {
	int row;
	const char *in;
	int err;
	const char *why; /* a fragment of the explanation */
} attrs[] = {
	{ 1, "age=int:42", 0, NULL },
	{ 2, "city=str:Z\xc3\xbcrich", 0, NULL },
	{ 3, "born=date:2001-02-03", 0, NULL },
	{ 4, "note=string:", 0, NULL }, /* an empty string is a value */
	{ 5, "n=int:-9223372036854775808", 0, NULL },
	{ 6, "age", -EINVAL, "NAME=TYPE:VALUE" },
	{ 7, "age=42", -EINVAL, "NAME=TYPE:VALUE" },
	{ 8, "age=float:4.2", -EINVAL, "unknown attribute type 'float'" },
	{ 9, "age=int:forty", -EINVAL, "whole number" },
	{ 10, "=int:1", -EINVAL, "1 to 40" },
	{ 11, "my-attr=int:1", -EINVAL, "no '-'" },
	{ 12, "a23456789012345678901234567890123456789012=int:1", -EINVAL, "1 to 40" },
	{ 13, "PeerCreatorId=str:x", -EINVAL, "reserved" },
	{ 14, "when=date:tomorrow", -EINVAL, "ISO 8601" },
	{ 15, "bad=str:\xff", -EINVAL, "UTF-8" },
	{ 16, "age=int:99999999999999999999", -ERANGE, "64-bit" },
};

static void test_attrs(void)
{
	struct cli_attrs *set = calloc(1, sizeof(*set));
	char why[CLI_WHY_SIZE], name[16];
	int err;

	for (size_t k = 0; set && k < sizeof(attrs) / sizeof(attrs[0]); k++) {
		set->n = 0;
		why[0] = '\0';
		err = cli_attr_parse(set, attrs[k].in, false, why);
		CHECK(400 + attrs[k].row, err == attrs[k].err, "attr '%s': %d (%s)", attrs[k].in,
		      err, why);
		CHECK(400 + attrs[k].row, !attrs[k].why || strstr(why, attrs[k].why),
		      "attr '%s': why '%s'", attrs[k].in, why);
	}
	if (!set)
		return;
	set->n = 0;
	cli_attr_parse(set, "a=int:1", false, why);
	err = cli_attr_parse(set, "a=int:2", false, why);
	CHECK(450, err == -EINVAL && strstr(why, "twice"), "duplicate: %d %s", err, why);
	err = cli_attr_parse(set, "a=str:x", true, why);
	CHECK(451, err == 0 && set->n == 1 && set->a[0].type == PEERGRAPH_ATTR_STRING,
	      "replace: %d n=%u", err, set->n);
	cli_attr_parse(set, "b=int:3", false, why);
	CHECK(452,
	      cli_attrs_remove(set, "a") == 0 && set->n == 1 && strcmp(set->a[0].name, "b") == 0 &&
		  set->a[0].name == set->names[0],
	      "remove keeps the rest named");
	CHECK(453, cli_attrs_remove(set, "a") == -ENOENT, "remove twice");
	set->n = 0;
	for (int i = 0; i < PEERGRAPH_ATTRS_MAX; i++) {
		snprintf(name, sizeof(name), "a%d=int:1", i);
		cli_attr_parse(set, name, false, why);
	}
	err = cli_attr_parse(set, "one=int:1", false, why);
	CHECK(454, set->n == PEERGRAPH_ATTRS_MAX && err == -ERANGE, "129th: %d n=%u", err, set->n);
	free(set);
}

/* ---- texts ------------------------------------------------------------------------------- */

static const struct {
	int row;
	int (*check)(const char *s, char *why);
	const char *in;
	int err;
} texts[] = {
	{ 1, cli_check_graph_id, "chat", 0 },
	{ 2, cli_check_graph_id, "", -EINVAL },
	{ 3, cli_check_graph_id, "tab\there", -EINVAL },
	{ 4, cli_check_graph_id, "caf\xc3\xa9", 0 },
	{ 5, cli_check_graph_id, "caf\xc3", -EINVAL },
	{ 6, cli_check_classifier, "alice", 0 },
	{ 7, cli_check_classifier, "al ice", -EINVAL },
	{ 8, cli_check_classifier, "a/b", -EINVAL },
	{ 9, cli_check_classifier, "a\\b", -EINVAL },
	{ 10, cli_check_classifier, "", -EINVAL },
	{ 11, cli_check_peer_name, "0.alice", 0 },
	{ 12, cli_check_peer_name, "3f1c2a4b5d6e7f8091a2b3c4d5e6f708192a3b4c.alice", 0 },
	{ 13, cli_check_peer_name, "3F1C2A4B5D6E7F8091A2B3C4D5E6F708192A3B4C.alice", -EINVAL },
	{ 14, cli_check_peer_name, "alice", -EINVAL },
	{ 15, cli_check_peer_name, "1.alice", -EINVAL },
	{ 16, cli_check_peer_name, "0.", -EINVAL },
	{ 17, cli_check_friendly_name, "Alice (laptop)", 0 },
	{ 18, cli_check_friendly_name, "", 0 },
	{ 19, cli_check_friendly_name, "new\nline", -EINVAL },
	{ 20, cli_check_creator, "0.node1", 0 },
	{ 21, cli_check_creator, "", -EINVAL },
};

static void test_texts(void)
{
	char why[CLI_WHY_SIZE], long_name[300];
	int err;

	for (size_t k = 0; k < sizeof(texts) / sizeof(texts[0]); k++) {
		err = texts[k].check(texts[k].in, why);
		CHECK(500 + texts[k].row, err == texts[k].err, "'%s': %d", texts[k].in, err);
	}
	memset(long_name, 'x', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	CHECK(550, cli_check_graph_id(long_name, why) == -EINVAL, "300-byte graph id");
	long_name[256] = '\0';
	CHECK(551, cli_check_graph_id(long_name, why) == 0, "256-byte graph id");
	long_name[150] = '\0';
	CHECK(552, cli_check_classifier(long_name, why) == -EINVAL, "150-byte classifier");
	long_name[149] = '\0';
	CHECK(553, cli_check_classifier(long_name, why) == 0, "149-byte classifier");
}

static const struct {
	int row;
	const char *in;
	bool valid;
} utf8[] = {
	{ 1, "plain", true },
	{ 2, "\xc3\xa9", true },
	{ 3, "\xe2\x82\xac", true },
	{ 4, "\xf0\x9f\x98\x80", true },
	{ 5, "\xc0\xaf", false },	       /* overlong '/' */
	{ 6, "\xe0\x80\xaf", false },	       /* overlong, three bytes */
	{ 7, "\xed\xa0\x80", false },	       /* a surrogate */
	{ 8, "\xf4\x90\x80\x80", false },      /* past U+10FFFF */
	{ 9, "\xc3", false },		       /* cut short */
	{ 10, "\x80", false },		       /* a lone continuation byte */
	{ 11, "\xf8\x88\x80\x80\x80", false }, /* five bytes */
};

static void test_utf8(void)
{
	for (size_t k = 0; k < sizeof(utf8) / sizeof(utf8[0]); k++)
		CHECK(600 + utf8[k].row,
		      cli_utf8_valid(utf8[k].in, strlen(utf8[k].in)) == utf8[k].valid, "utf8 row");
}

/* ---- base64 ------------------------------------------------------------------------------ */

static void test_base64(void)
{
	/* RFC 4648 section 10 */
	static const char *const vectors[][2] = {
		{ "", "" },
		{ "f", "Zg==" },
		{ "fo", "Zm8=" },
		{ "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE=" },
		{ "foobar", "Zm9vYmFy" },
	};
	char enc[16];
	uint8_t dec[16];
	long n;

	for (size_t k = 0; k < sizeof(vectors) / sizeof(vectors[0]); k++) {
		cli_b64_encode(vectors[k][0], strlen(vectors[k][0]), enc);
		CHECK(700 + (int)k, strcmp(enc, vectors[k][1]) == 0, "encode '%s': %s",
		      vectors[k][0], enc);
		n = cli_b64_decode(vectors[k][1], strlen(vectors[k][1]), dec);
		CHECK(710 + (int)k,
		      n == (long)strlen(vectors[k][0]) &&
			  memcmp(dec, vectors[k][0], (size_t)n) == 0,
		      "decode '%s': %ld", vectors[k][1], n);
	}
	CHECK(720, cli_b64_decode("Zg=", 3, dec) == -EINVAL, "length not a multiple of 4");
	CHECK(721, cli_b64_decode("Zh==", 4, dec) == -EINVAL, "bits under the padding");
	CHECK(722, cli_b64_decode("Z===", 4, dec) == -EINVAL, "three padding characters");
	CHECK(723, cli_b64_decode("Zm9v!A==", 8, dec) == -EINVAL, "not in the alphabet");
	CHECK(724, cli_b64_decode("Zg==Zg==", 8, dec) == -EINVAL, "padding in the middle");
}

int main(void)
{
	test_numbers();
	test_times();
	test_attrs();
	test_texts();
	test_utf8();
	test_base64();
	if (failures)
		printf("%d checks failed\n", failures);
	return failures ? 1 : 0;
}
