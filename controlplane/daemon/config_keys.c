/*
 * config_keys.c - the table of peergraphd's configuration keys, and their values to and from
 * text.
 *
 * One row per setting: its section, name, type, bounds, default, whether SIGHUP may change it,
 * and its help. The parser (config.c), the writer behind --print-config, the example file and
 * the reload report all read this table, so a bound or a default is stated once. Values are
 * strict: a number is decimal digits only (sizes may end in K, M, G or T, powers of 1024),
 * words are the listed ones (any case), paths and names printable ASCII without spaces, so
 * that what is written is read back unchanged.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include "addr.h"
#include "config_keys.h"
#include "node.h"
#include "peername.h"
#include "pg_assert.h"
#include "pg_error.h"

#define KIB (1ull << 10)
#define MIB (1ull << 20)
#define GIB (1ull << 30)
#define TIB (1ull << 40)

#define FIELD(f)                                                                                   \
	.offset = offsetof(struct pgd_config, f), .size = sizeof(((struct pgd_config *)0)->f)
#define RANGE(lo, hi, d) .min = (lo), .max = (hi), .def = (d)
#define BILLION		 1000000000ull /* a probability's unit: PGD_KEY_PROB counts billionths */

const char *const pgd_section_names[PGD_SEC_COUNT] = {
	[PGD_SEC_DAEMON] = "daemon",
	[PGD_SEC_STORE] = "store",
	[PGD_SEC_DATAPLANE] = "dataplane",
	[PGD_SEC_FAULT] = "fault",
};

const char *const pgd_section_help[PGD_SEC_COUNT] = {
	[PGD_SEC_DAEMON] = "The daemon: its files, its control socket and clients, its log.",
	[PGD_SEC_STORE] = "Defaults for the store of each graph (a directory under state_dir).",
	[PGD_SEC_DATAPLANE] = "The dataplane: the threads that move records between peers.",
	[PGD_SEC_FAULT] = "Faults injected into the datagrams the dataplane receives, for tests.",
};

static const char *const backends[] = { "uring", "sockets", NULL };

const struct pgd_key pgd_keys[PGD_KEY_TOTAL] = {
	{ PGD_SEC_DAEMON, "state_dir", PGD_KEY_PATH, false, FIELD(state_dir),
	  .def_text = "/var/lib/peergraph",
	  .help = "The daemon's state: a directory per graph for its store, and the daemon's own\n"
		  "files. Created at start when missing." },
	{ PGD_SEC_DAEMON, "socket", PGD_KEY_PATH, false, FIELD(socket),
	  .def_text = "/run/peergraph/peergraphd.sock",
	  .help = "The control socket, where libpeergraph and the command-line tool connect. The\n"
		  "path must fit a Unix socket address." },
	{ PGD_SEC_DAEMON, "socket_group", PGD_KEY_GROUP, false, FIELD(socket_group), .def_text = "",
	  .help = "A group whose members may use the control socket besides root and the\n"
		  "daemon's own user; empty for none. It must exist when the daemon starts." },
	{ PGD_SEC_DAEMON, "log_level", PGD_KEY_LEVEL, true, FIELD(log_level), .def = LOG_INFO,
	  .help = "How much the daemon logs; each level includes the ones before it." },
	{ PGD_SEC_DAEMON, "max_clients", PGD_KEY_COUNT, false, FIELD(max_clients),
	  RANGE(1, 4096, 64),
	  .help = "Control-socket connections at once; further ones are refused." },
	{ PGD_SEC_DAEMON, "client_queue_bytes", PGD_KEY_SIZE, true, FIELD(client_queue_bytes),
	  RANGE(64 * KIB, GIB, 4 * MIB),
	  .help = "Bound of the output (replies and events) queued for one client that reads\n"
		  "slowly." },
	{ PGD_SEC_DAEMON, "event_queue", PGD_KEY_COUNT, true, FIELD(event_queue),
	  RANGE(16, 1 << 20, 4096),
	  .help = "Events queued for one subscriber; past this bound the subscriber is told how\n"
		  "many it lost." },
	{ PGD_SEC_DAEMON, "node_name", PGD_KEY_NODE, false, FIELD(node_name),
	  .help = "The creator id of the records this daemon writes into unsecured graphs: an\n"
		  "unsecured peer name, \"0.\" and a classifier. By default the classifier is\n"
		  "the host name, or \"peergraphd\" when that is not a valid classifier." },
	{ PGD_SEC_DAEMON, "trust", PGD_KEY_PATH, false, FIELD(trust), .def_text = "",
	  .help = "A file of the keys this node trusts besides its own identities: one per line,\n"
		  "64 hex digits of a raw Ed25519 public key, or the path of an identity\n"
		  "certificate (PEM). Secured graphs' records must be signed by one of them.\n"
		  "Read at start and at every SIGHUP (keys are added, never taken back)." },
	{ PGD_SEC_STORE, "commit_interval_us", PGD_KEY_COUNT, false, FIELD(commit_interval_us),
	  RANGE(100, 1000000, 5000),
	  .help = "Group commit period of a graph's store, in microseconds: how long a write\n"
		  "may wait to be made durable together with others." },
	/* the store refuses 2^28 records (store.c check_config) */
	{ PGD_SEC_STORE, "max_records", PGD_KEY_COUNT, false, FIELD(max_records),
	  RANGE(1, (1u << 28) - 1, 1u << 20),
	  .help = "Records (deleted ones included) a graph's store holds at most." },
	{ PGD_SEC_STORE, "max_bytes", PGD_KEY_SIZE, false, FIELD(max_bytes),
	  RANGE(MIB, TIB, 256 * MIB), .help = "Bytes of records a graph's store holds at most." },
	{ PGD_SEC_STORE, "segment_size", PGD_KEY_POW2, false, FIELD(segment_size),
	  RANGE(64 * KIB, 256 * MIB, MIB),
	  .help = "Memory segment of a graph's store; large records want large segments." },
	{ PGD_SEC_STORE, "direct_io", PGD_KEY_BOOL, false, FIELD(direct_io), .def = true,
	  .help = "Write a graph's log with O_DIRECT where the file system allows it." },
	{ PGD_SEC_DATAPLANE, "workers", PGD_KEY_COUNT, false, FIELD(workers), RANGE(1, 64, 1),
	  .help = "Dataplane worker threads: they receive, check and flood records." },
	{ PGD_SEC_DATAPLANE, "address", PGD_KEY_ADDR, false, FIELD(dp_address),
	  .def_text = "0.0.0.0:3587",
	  .help = "The UDP address the workers bind and other nodes connect to: a numeric IPv4\n"
		  "address or a bracketed IPv6 one, and a port (0: any free port; the log says\n"
		  "which one was bound). Empty or \"none\": no dataplane socket, so no listening\n"
		  "or connecting; the graphs are kept on this node only." },
	{ PGD_SEC_DATAPLANE, "backend", PGD_KEY_WORD, false, FIELD(dp_backend), .def_text = "uring",
	  .words = backends,
	  .help = "How the workers do their I/O: io_uring, or plain sendmmsg / recvmmsg\n"
		  "(\"sockets\", the reference). uring falls back to sockets where the kernel\n"
		  "refuses io_uring." },
	{ PGD_SEC_DATAPLANE, "max_datagram", PGD_KEY_COUNT, false, FIELD(max_datagram),
	  RANGE(DP_WIRE_DGRAM_MIN, DP_WIRE_DGRAM_MAX, DP_WIRE_DGRAM_DEFAULT),
	  .help = "The largest datagram this node sends or accepts, UDP payload bytes; a link\n"
		  "uses the smaller of both ends'. 1472 fills one Ethernet frame." },
	{ PGD_SEC_DATAPLANE, "window", PGD_KEY_COUNT_POW2, false, FIELD(window),
	  RANGE(16, DP_LINK_WINDOW_MAX, DP_LINK_WINDOW_DEFAULT),
	  .help = "Datagrams one link may have in flight, unacknowledged (its send window)." },
	{ PGD_SEC_DATAPLANE, "ring_bytes", PGD_KEY_SIZE, false, FIELD(ring_bytes),
	  RANGE(MIB, 16 * GIB, DP_RING_BYTES_DEFAULT),
	  .help = "Each graph's flood ring per producer (each worker, and the API): records\n"
		  "wait there until every link has sent them. It should hold at least two of\n"
		  "the graph's largest records. API adds are answered \"busy\" once the API's\n"
		  "ring is half full." },
	{ PGD_SEC_DATAPLANE, "node_id", PGD_KEY_NODE_ID, false, FIELD(node_id), .def_text = "",
	  .help = "This node's name in the hellos it sends to other nodes (shown by their\n"
		  "`peergraph graph neighbours`). Empty: [daemon] node_name." },
	{ PGD_SEC_DATAPLANE, "reassembly_timeout_ms", PGD_KEY_COUNT, false, FIELD(reasm_timeout_ms),
	  RANGE(100, 600000, DP_LINK_REASM_TIMEOUT_US / 1000),
	  .help = "Milliseconds a link waits for the rest of a record that came in pieces (one\n"
		  "larger than a datagram) before it frees the pieces it holds." },
	{ PGD_SEC_DATAPLANE, "timing", PGD_KEY_BOOL, false, FIELD(dp_timing), .def = false,
	  .help = "Time every stage of every record the workers take (decode, version table,\n"
		  "store), for `peergraph stats`; costs a few clock reads per record." },
	/* drop + duplicate + reorder <= 1: pgd_config_check */
	{ PGD_SEC_FAULT, "drop", PGD_KEY_PROB, false, FIELD(fault.drop), RANGE(0, BILLION, 0),
	  .help = "Probability that a received datagram is dropped. All of this section at 0:\n"
		  "no fault injection at all. drop + duplicate + reorder is at most 1." },
	{ PGD_SEC_FAULT, "duplicate", PGD_KEY_PROB, false, FIELD(fault.dup), RANGE(0, BILLION, 0),
	  .help = "Probability that a received datagram is handled twice." },
	{ PGD_SEC_FAULT, "reorder", PGD_KEY_PROB, false, FIELD(fault.reorder), RANGE(0, BILLION, 0),
	  .help = "Probability that a received datagram is held back until 1 to 3 later ones\n"
		  "have been handled (or at most 1 ms)." },
	{ PGD_SEC_FAULT, "delay_us", PGD_KEY_COUNT, false, FIELD(fault.delay_us),
	  RANGE(0, DP_FAULT_DELAY_MAX_US, 0),
	  .help = "Microseconds every received datagram waits before it is handled." },
	{ PGD_SEC_FAULT, "jitter_us", PGD_KEY_COUNT, false, FIELD(fault.jitter_us),
	  RANGE(0, DP_FAULT_DELAY_MAX_US, 0),
	  .help = "A further wait drawn for each datagram, uniform from 0 to this many\n"
		  "microseconds: datagrams overtake each other by up to this much." },
	{ PGD_SEC_FAULT, "seed", PGD_KEY_COUNT, false, FIELD(fault.seed), RANGE(0, UINT64_MAX, 0),
	  .help = "Seed of the fault injection's random numbers: the same seed and the same\n"
		  "traffic give the same faults." },
	{ PGD_SEC_FAULT, "slow_us", PGD_KEY_COUNT, false, FIELD(slow_us), RANGE(0, 1000000, 0),
	  .help = "For tests: makes the node slow. A worker spends this many microseconds on\n"
		  "every data datagram it takes, as a node short of CPU would." },
};

static const struct {
	const char *name;
	int level;
} levels[] = {
	{ "error", LOG_ERR },
	{ "warn", LOG_WARNING },
	{ "info", LOG_INFO },
	{ "debug", LOG_DEBUG },
};

static const struct {
	const char *word;
	bool value;
} bools[] = {
	{ "true", true }, { "false", false }, { "yes", true }, { "no", false },
	{ "on", true },	  { "off", false },   { "1", true },   { "0", false },
};

int pgd_section_find(const char *name)
{
	for (int i = 0; i < PGD_SEC_COUNT; i++)
		if (!strcmp(name, pgd_section_names[i]))
			return i;
	return -1;
}

const struct pgd_key *pgd_key_find(enum pgd_section sec, const char *name)
{
	for (size_t i = 0; i < PGD_KEY_TOTAL; i++)
		if (pgd_keys[i].section == sec && !strcmp(name, pgd_keys[i].name))
			return &pgd_keys[i];
	return NULL;
}

void pgd_section_list(char *out, size_t len)
{
	size_t used = 0;

	PG_ASSERT(len > 0);
	out[0] = '\0';
	for (int i = 0; i < PGD_SEC_COUNT && used < len; i++)
		used += (size_t)snprintf(out + used, len - used, "%s%s", used ? ", " : "",
					 pgd_section_names[i]);
}

void pgd_section_key_list(enum pgd_section sec, char *out, size_t len)
{
	size_t used = 0;

	PG_ASSERT(len > 0);
	out[0] = '\0';
	for (size_t i = 0; i < PGD_KEY_TOTAL && used < len; i++) {
		if (pgd_keys[i].section != sec)
			continue;
		used += (size_t)snprintf(out + used, len - used, "%s%s", used ? ", " : "",
					 pgd_keys[i].name);
	}
}

void pgd_quote(const char *s, char out[PGD_QUOTE_MAX + 4])
{
	size_t i;

	for (i = 0; s[i] && i < PGD_QUOTE_MAX; i++)
		out[i] = s[i] >= 0x20 && s[i] <= 0x7e ? s[i] : '?';
	strcpy(out + i, s[i] ? "..." : "");
}

const char *pgd_config_log_level_name(int level)
{
	for (size_t i = 0; i < PG_ARRAY_SIZE(levels); i++)
		if (levels[i].level == level)
			return levels[i].name;
	return "?";
}

/* Writes v with the largest suffix that divides it: 4194304 -> "4M". */
static void format_size(uint64_t v, char *out, size_t len)
{
	static const char suffix[] = "TGMK";

	for (int shift = 40, i = 0; shift > 0; shift -= 10, i++) {
		if (v && !(v & ((1ull << shift) - 1))) {
			snprintf(out, len, "%llu%c", (unsigned long long)(v >> shift), suffix[i]);
			return;
		}
	}
	snprintf(out, len, "%llu", (unsigned long long)v);
}

void pgd_key_allowed(const struct pgd_key *k, char *out, size_t len)
{
	char lo[32], hi[32];

	switch (k->type) {
	case PGD_KEY_COUNT:
		snprintf(out, len, "%llu..%llu", (unsigned long long)k->min,
			 (unsigned long long)k->max);
		break;
	case PGD_KEY_SIZE:
		format_size(k->min, lo, sizeof(lo));
		format_size(k->max, hi, sizeof(hi));
		snprintf(out, len, "%s..%s bytes; suffixes K, M, G, T are powers of 1024", lo, hi);
		break;
	case PGD_KEY_POW2:
		format_size(k->min, lo, sizeof(lo));
		format_size(k->max, hi, sizeof(hi));
		snprintf(out, len, "a power of two, %s..%s bytes; suffixes K, M, G, T", lo, hi);
		break;
	case PGD_KEY_BOOL:
		snprintf(out, len, "true, false, yes, no, on, off, 1, 0");
		break;
	case PGD_KEY_LEVEL:
		snprintf(out, len, "error, warn, info, debug");
		break;
	case PGD_KEY_PATH:
		snprintf(out, len,
			 "an absolute path of 1..%u bytes of printable ASCII, no spaces%s",
			 k->size - 1u, k->def_text && !k->def_text[0] ? "; empty for none" : "");
		break;
	case PGD_KEY_GROUP:
		snprintf(out, len,
			 "a group name, 1..%d letters, digits, '_', '.', '-' (not first); "
			 "empty for none",
			 PGD_GROUP_MAX);
		break;
	case PGD_KEY_NODE:
		snprintf(out, len,
			 "0.<classifier>, 1..%d bytes of printable ASCII but space, '/', '\\'",
			 PG_CLASSIFIER_MAX);
		break;
	case PGD_KEY_PROB:
		snprintf(out, len, "0..1, at most 9 digits after the point (0.05)");
		break;
	case PGD_KEY_COUNT_POW2:
		snprintf(out, len, "a power of two, %llu..%llu", (unsigned long long)k->min,
			 (unsigned long long)k->max);
		break;
	case PGD_KEY_ADDR:
		snprintf(out, len,
			 "IPV4:PORT or [IPV6]:PORT, numeric (port 0: any); none or empty");
		break;
	case PGD_KEY_WORD: {
		size_t used = 0;

		out[0] = '\0';
		for (const char *const *w = k->words; *w && used < len; w++)
			used +=
			    (size_t)snprintf(out + used, len - used, "%s%s", used ? ", " : "", *w);
		break;
	}
	case PGD_KEY_NODE_ID:
		snprintf(out, len,
			 "1..%u bytes of printable ASCII, no spaces, not starting with ';' or '#'; "
			 "empty for [daemon] node_name",
			 k->size - 1u);
		break;
	}
}

/* Fills why with "<what> '<s>' (allowed: <k's bounds>)" and returns PG_E_CONFIG. */
static int refuse(const struct pgd_key *k, const char *s, char *why, size_t whylen,
		  const char *what)
{
	char q[PGD_QUOTE_MAX + 4], allowed[256];

	pgd_quote(s, q);
	pgd_key_allowed(k, allowed, sizeof(allowed));
	if (s[0])
		snprintf(why, whylen, "%s '%s' (allowed: %s)", what, q, allowed);
	else
		snprintf(why, whylen, "%s (allowed: %s)", what, allowed);
	return PG_E_CONFIG;
}

/* Decimal digits, then (with_suffix) one of K M G T. 0, -EINVAL (not a number) or -ERANGE. */
static int parse_number(const char *s, bool with_suffix, uint64_t *out)
{
	uint64_t v = 0;
	unsigned shift = 0;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	if (with_suffix && *p) {
		const char *at = strchr("KMGT", *p);

		if (!at || p[1])
			return -EINVAL;
		shift = 10 * (unsigned)(at - "KMGT" + 1);
		p++;
		if (v > UINT64_MAX >> shift)
			return -ERANGE;
	}
	if (*p)
		return -EINVAL;
	*out = v << shift;
	return 0;
}

/* A probability: digits, then optionally '.' and 1..9 digits. 0 and *out in billionths,
 * -EINVAL (not one), -EDOM (more than 9 digits after the point) or -ERANGE (above 1). */
static int parse_prob(const char *s, uint64_t *out)
{
	uint64_t whole = 0, frac = 0;
	const char *p = s;
	int digits = 0;

	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++)
		whole = whole > 1 ? whole : whole * 10 + (uint64_t)(*p - '0'); /* > 1 is enough */
	if (*p == '.') {
		if (!isdigit((unsigned char)*++p))
			return -EINVAL;
		for (; isdigit((unsigned char)*p); p++, digits++)
			if (digits < 9)
				frac = frac * 10 + (uint64_t)(*p - '0');
	}
	if (*p)
		return -EINVAL;
	if (digits > 9)
		return -EDOM;
	if (whole > 1)
		return -ERANGE;
	for (; digits < 9; digits++)
		frac *= 10;
	*out = whole * BILLION + frac;
	return 0;
}

/* A probability's double in billionths (exact for every value parse_prob gives). */
static uint64_t prob_billionths(double v)
{
	return (uint64_t)(v * (double)BILLION + 0.5);
}

/* Writes billionths n as the shortest decimal: 0, 1, 0.05, 1.25. */
static void format_prob(uint64_t n, char *out, size_t len)
{
	uint64_t frac = n % BILLION;
	int digits = 9;

	if (!frac) {
		snprintf(out, len, "%llu", (unsigned long long)(n / BILLION));
		return;
	}
	for (; frac % 10 == 0; digits--)
		frac /= 10;
	snprintf(out, len, "%llu.%0*llu", (unsigned long long)(n / BILLION), digits,
		 (unsigned long long)frac);
}

static int set_prob(const struct pgd_key *k, struct pgd_config *c, const char *value, char *why,
		    size_t whylen)
{
	uint64_t n;
	double v;
	int err = parse_prob(value, &n);

	PG_ASSERT(k->size == sizeof(double));
	if (err == -EINVAL)
		return refuse(k, value, why, whylen, "not a probability:");
	if (err == -EDOM)
		return refuse(k, value, why, whylen, "more than 9 digits after the point:");
	if (err || n < k->min || n > k->max)
		return refuse(k, value, why, whylen, "out of range:");
	v = (double)n / (double)BILLION;
	memcpy((char *)c + k->offset, &v, sizeof(v));
	return 0;
}

int pgd_config_check(const struct pgd_config *c, char *why, size_t whylen)
{
	uint64_t sum = prob_billionths(c->fault.drop) + prob_billionths(c->fault.dup) +
		       prob_billionths(c->fault.reorder);
	char text[32];

	if (sum <= BILLION)
		return 0;
	format_prob(sum, text, sizeof(text));
	snprintf(why, whylen, "drop + duplicate + reorder = %s (allowed: at most 1)", text);
	return PG_E_CONFIG;
}

static bool path_ok(const char *s, size_t size, const char **what)
{
	size_t n = strnlen(s, size);

	if (s[0] != '/') {
		*what = "not an absolute path:";
		return false;
	}
	if (n >= size) {
		*what = "too long:";
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f) {
			*what = "a space or a byte that is not printable ASCII in";
			return false;
		}
	}
	return true;
}

static bool group_ok(const char *s)
{
	size_t n = strnlen(s, PGD_GROUP_MAX + 1);

	if (n > PGD_GROUP_MAX || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
			return false;
	return true;
}

static int set_number(const struct pgd_key *k, struct pgd_config *c, const char *value, char *why,
		      size_t whylen)
{
	uint64_t v;
	bool count = k->type == PGD_KEY_COUNT || k->type == PGD_KEY_COUNT_POW2;
	int err = parse_number(value, !count, &v);

	if (err == -EINVAL)
		return refuse(k, value, why, whylen, "not a number:");
	if (err || v < k->min || v > k->max)
		return refuse(k, value, why, whylen, "out of range:");
	if ((k->type == PGD_KEY_POW2 || k->type == PGD_KEY_COUNT_POW2) && (v & (v - 1)))
		return refuse(k, value, why, whylen, "not a power of two:");
	if (k->size == sizeof(uint32_t)) {
		uint32_t v32 = (uint32_t)v;

		memcpy((char *)c + k->offset, &v32, sizeof(v32));
	} else {
		PG_ASSERT(k->size == sizeof(uint64_t));
		memcpy((char *)c + k->offset, &v, sizeof(v));
	}
	return 0;
}

/* A numeric address the dataplane can bind. *what says why not. */
static bool addr_ok(const char *s, size_t size, const char **what)
{
	static char text[PGD_ADDR_WHY_SIZE + 8];
	struct sockaddr_storage sa;
	char why[PGD_ADDR_WHY_SIZE];
	socklen_t len;

	if (strlen(s) >= size) {
		*what = "too long:";
		return false;
	}
	if (pgd_addr_resolve(s, true, &sa, &len, why, sizeof(why)) == 0)
		return true;
	snprintf(text, sizeof(text), "%s:", why); /* the config is read on one thread */
	*what = text;
	return false;
}

/* Printable ASCII without spaces, 1..size - 1 bytes; "" too. */
/* Printable ASCII without spaces, shorter than size, and not starting with ';' or '#': a
 * value written back as "key = ;x" would read as a comment (fuzz-config found it). */
static bool text_ok(const char *s, size_t size)
{
	size_t n = strnlen(s, size);

	if (n >= size || s[0] == ';' || s[0] == '#')
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

static void set_string(const struct pgd_key *k, struct pgd_config *c, const char *value)
{
	char *field = (char *)c + k->offset;
	size_t n = strlen(value);

	PG_ASSERT(n < k->size);
	memset(field, 0, k->size);
	memcpy(field, value, n);
}

/* One of k's words, stored as the table spells it. */
static int set_word(const struct pgd_key *k, struct pgd_config *c, const char *value, char *why,
		    size_t whylen)
{
	for (const char *const *w = k->words; *w; w++) {
		if (!strcasecmp(value, *w)) {
			set_string(k, c, *w);
			return 0;
		}
	}
	return refuse(k, value, why, whylen, "not one of the words:");
}

int pgd_key_set(const struct pgd_key *k, struct pgd_config *c, const char *value, char *why,
		size_t whylen)
{
	const char *what;

	if (!value[0] && k->type != PGD_KEY_GROUP && k->type != PGD_KEY_ADDR &&
	    k->type != PGD_KEY_NODE_ID &&
	    !(k->type == PGD_KEY_PATH && k->def_text && !k->def_text[0]))
		return refuse(k, value, why, whylen, "empty value");
	switch (k->type) {
	case PGD_KEY_COUNT:
	case PGD_KEY_SIZE:
	case PGD_KEY_POW2:
	case PGD_KEY_COUNT_POW2:
		return set_number(k, c, value, why, whylen);
	case PGD_KEY_WORD:
		return set_word(k, c, value, why, whylen);
	case PGD_KEY_ADDR:
		if (value[0] && strcasecmp(value, "none") != 0 && !addr_ok(value, k->size, &what))
			return refuse(k, value, why, whylen, what);
		break;
	case PGD_KEY_NODE_ID:
		if (!text_ok(value, k->size))
			return refuse(k, value, why, whylen, "not a node id:");
		break;
	case PGD_KEY_PROB:
		return set_prob(k, c, value, why, whylen);
	case PGD_KEY_BOOL:
		for (size_t i = 0; i < PG_ARRAY_SIZE(bools); i++) {
			if (!strcasecmp(value, bools[i].word)) {
				*(bool *)((char *)c + k->offset) = bools[i].value;
				return 0;
			}
		}
		return refuse(k, value, why, whylen, "not a boolean:");
	case PGD_KEY_LEVEL:
		for (size_t i = 0; i < PG_ARRAY_SIZE(levels); i++) {
			if (!strcasecmp(value, levels[i].name)) {
				*(int *)((char *)c + k->offset) = levels[i].level;
				return 0;
			}
		}
		return refuse(k, value, why, whylen, "not a log level:");
	case PGD_KEY_PATH:
		if (!value[0] && k->def_text && !k->def_text[0])
			break; /* a path that may be unset (empty by default) */
		if (!path_ok(value, k->size, &what))
			return refuse(k, value, why, whylen, what);
		break;
	case PGD_KEY_GROUP:
		if (!group_ok(value))
			return refuse(k, value, why, whylen, "not a group name:");
		break;
	case PGD_KEY_NODE: {
		struct pg_peername pn;

		if (pg_peername_parse(value, &pn) || pg_peername_is_secured(&pn))
			return refuse(k, value, why, whylen, "not an unsecured peer name:");
		break;
	}
	}
	set_string(k, c, value);
	return 0;
}

void pgd_key_format(const struct pgd_key *k, const struct pgd_config *c, char *out, size_t len)
{
	const char *field = (const char *)c + k->offset;
	uint64_t v = 0;

	switch (k->type) {
	case PGD_KEY_COUNT:
	case PGD_KEY_SIZE:
	case PGD_KEY_POW2:
	case PGD_KEY_COUNT_POW2:
		if (k->size == sizeof(uint32_t)) {
			uint32_t v32;

			memcpy(&v32, field, sizeof(v32));
			v = v32;
		} else {
			memcpy(&v, field, sizeof(v));
		}
		if (k->type == PGD_KEY_COUNT || k->type == PGD_KEY_COUNT_POW2)
			snprintf(out, len, "%llu", (unsigned long long)v);
		else
			format_size(v, out, len);
		break;
	case PGD_KEY_PROB: {
		double d;

		memcpy(&d, field, sizeof(d));
		format_prob(prob_billionths(d), out, len);
		break;
	}
	case PGD_KEY_BOOL:
		snprintf(out, len, "%s", *(const bool *)field ? "true" : "false");
		break;
	case PGD_KEY_LEVEL:
		snprintf(out, len, "%s", pgd_config_log_level_name(*(const int *)field));
		break;
	case PGD_KEY_PATH:
	case PGD_KEY_GROUP:
	case PGD_KEY_NODE:
	case PGD_KEY_ADDR:
	case PGD_KEY_WORD:
	case PGD_KEY_NODE_ID:
		snprintf(out, len, "%.*s", (int)k->size, field);
		break;
	}
}

bool pgd_key_equal(const struct pgd_key *k, const struct pgd_config *a, const struct pgd_config *b)
{
	const char *fa = (const char *)a + k->offset, *fb = (const char *)b + k->offset;

	switch (k->type) {
	case PGD_KEY_PATH:
	case PGD_KEY_GROUP:
	case PGD_KEY_NODE:
	case PGD_KEY_ADDR:
	case PGD_KEY_WORD:
	case PGD_KEY_NODE_ID:
		return !strncmp(fa, fb, k->size);
	case PGD_KEY_BOOL:
		return *(const bool *)fa == *(const bool *)fb;
	default:
		return !memcmp(fa, fb, k->size);
	}
}

void pgd_key_copy(const struct pgd_key *k, struct pgd_config *dst, const struct pgd_config *src)
{
	memcpy((char *)dst + k->offset, (const char *)src + k->offset, k->size);
}

/* "0." and the host name when that is a valid classifier. */
static void default_node_name(char out[PG_PEERNAME_SIZE])
{
	char host[256] = "";

	if (gethostname(host, sizeof(host) - 1) < 0 || pg_peername_unsecured(host, out))
		snprintf(out, PG_PEERNAME_SIZE, "0.peergraphd");
}

void pgd_config_default(struct pgd_config *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < PGD_KEY_TOTAL; i++) {
		const struct pgd_key *k = &pgd_keys[i];
		char *field = (char *)c + k->offset;
		uint32_t v32 = (uint32_t)k->def;

		switch (k->type) {
		case PGD_KEY_COUNT:
		case PGD_KEY_SIZE:
		case PGD_KEY_POW2:
		case PGD_KEY_COUNT_POW2:
			if (k->size == sizeof(v32))
				memcpy(field, &v32, sizeof(v32));
			else
				memcpy(field, &k->def, sizeof(k->def));
			break;
		case PGD_KEY_PROB: {
			double d = (double)k->def / (double)BILLION;

			memcpy(field, &d, sizeof(d));
			break;
		}
		case PGD_KEY_BOOL:
			*(bool *)field = k->def;
			break;
		case PGD_KEY_LEVEL:
			*(int *)field = (int)k->def;
			break;
		case PGD_KEY_PATH:
		case PGD_KEY_GROUP:
		case PGD_KEY_ADDR:
		case PGD_KEY_WORD:
		case PGD_KEY_NODE_ID:
			set_string(k, c, k->def_text);
			break;
		case PGD_KEY_NODE:
			default_node_name(field);
			break;
		}
	}
	/* the fault filter's pool, which the file does not set */
	c->fault.slots = DP_FAULT_SLOTS_DEFAULT;
	c->fault.max_len = DP_FAULT_LEN_DEFAULT;
}

const char *pgd_config_node_id(const struct pgd_config *c)
{
	return c->node_id[0] ? c->node_id : c->node_name;
}
