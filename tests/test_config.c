/*
 * test_config.c - peergraphd's configuration (controlplane/daemon/config.h): numbered tables of
 * good and bad files (each bad row's message must name the file, the line and the key, and
 * leave the configuration as it was), every bound at its value and one past, size suffixes,
 * command-line overrides, what a reload applies and what needs a restart, the file limits,
 * the [fault] section's probabilities (their text and their sum), and the example file held
 * to the key table and to the defaults.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <ini.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "daemon/config.h"
#include "daemon/config_keys.h"
#include "node.h"
#include "pg_error.h"
#include "store.h"

enum {
	BIG = 8192, /* room for the longest line these tests build */
};

static char err[PGD_CONFIG_ERR_SIZE];

/* Parses text over *c as "cfg-<row>.conf". */
static int parse_row(struct pgd_config *c, int row, const char *text)
{
	char name[32];

	snprintf(name, sizeof(name), "cfg-%d.conf", row);
	return pgd_config_parse(c, name, text, strlen(text), err, sizeof(err));
}

/* The defaults with assignments applied; each must be accepted. */
static void expect_config(struct pgd_config *c, const char *const *set)
{
	pgd_config_default(c);
	for (; set && *set; set++)
		cr_assert_eq(pgd_config_set(c, *set, err, sizeof(err)), 0, "%s: %s", *set, err);
}

/* A value for every key, none of them its default: one line per row of the key table. */
static const char *const odd[] = {
	"daemon.state_dir=/srv/peer#graph",
	"daemon.socket=/tmp/pg.sock",
	"daemon.socket_group=peergraph",
	"daemon.log_level=debug",
	"daemon.max_clients=7",
	"daemon.client_queue_bytes=65537",
	"daemon.event_queue=17",
	"daemon.node_name=0.x;y#z",
	"daemon.trust=/etc/peergraph/trusted",
	"store.commit_interval_us=101",
	"store.max_records=3",
	"store.max_bytes=3G",
	"store.segment_size=64K",
	"store.direct_io=no",
	"dataplane.workers=5",
	"dataplane.address=[::1]:0",
	"dataplane.backend=sockets",
	"dataplane.max_datagram=9000",
	"dataplane.window=64",
	"dataplane.ring_bytes=3M",
	"dataplane.node_id=lab-node-7",
	"dataplane.reassembly_timeout_ms=250",
	"dataplane.timing=yes",
	"fault.drop=0.25",
	"fault.duplicate=0.125",
	"fault.reorder=0.0625",
	"fault.delay_us=7",
	"fault.jitter_us=3",
	"fault.seed=18446744073709551615",
	"fault.slow_us=500",
	NULL,
};

TestSuite(config);

Test(config, defaults)
{
	struct pgd_config c;
	struct pg_store_config sc;

	pgd_config_default(&c);
	cr_expect_str_eq(c.state_dir, "/var/lib/peergraph");
	cr_expect_str_eq(c.socket, "/run/peergraph/peergraphd.sock");
	cr_expect_str_eq(c.socket_group, "");
	cr_expect_eq(c.log_level, LOG_INFO);
	cr_expect_eq(c.max_clients, 64);
	cr_expect_eq(c.client_queue_bytes, 4u << 20);
	cr_expect_eq(c.event_queue, 4096);
	cr_expect_eq(strncmp(c.node_name, "0.", 2), 0, "%s", c.node_name);
	cr_expect_eq(pg_peername_parse(c.node_name, NULL), 0, "%s", c.node_name);
	cr_expect_eq(c.workers, 1);
	/* the [dataplane] defaults are the dataplane's own; the node id is the node name */
	cr_expect_str_eq(c.dp_address, "0.0.0.0:3587");
	cr_expect_str_eq(c.dp_backend, "uring");
	cr_expect_eq(c.max_datagram, DP_WIRE_DGRAM_DEFAULT);
	cr_expect_eq(c.window, DP_LINK_WINDOW_DEFAULT);
	cr_expect_eq(c.ring_bytes, DP_RING_BYTES_DEFAULT);
	cr_expect_str_eq(c.node_id, "");
	cr_expect_str_eq(pgd_config_node_id(&c), c.node_name);
	cr_expect_eq(c.reasm_timeout_ms * 1000ull, DP_LINK_REASM_TIMEOUT_US);
	cr_expect_not(c.dp_timing);
	cr_expect_eq(c.slow_us, 0);
	/* the [store] defaults are the store's own */
	pg_store_config_default(&sc);
	cr_expect_eq(c.commit_interval_us, sc.commit_interval_us);
	cr_expect_eq(c.max_records, sc.max_records);
	cr_expect_eq(c.max_bytes, sc.max_bytes);
	cr_expect_eq(c.segment_size, sc.segment_size);
	cr_expect_eq(c.direct_io, sc.direct_io);
	/* no fault, and a pool the filter accepts */
	cr_expect_not(dp_fault_enabled(&c.fault));
	cr_expect_eq(c.fault.seed, 0);
	cr_expect_eq(c.fault.slots, DP_FAULT_SLOTS_DEFAULT);
	cr_expect_eq(c.fault.max_len, DP_FAULT_LEN_DEFAULT);
	cr_expect_eq(dp_fault_config_check(&c.fault), 0);
}

/* Every key of the table is in odd[], and each odd value changes exactly its key. */
Test(config, table_covers_every_key)
{
	struct pgd_config def, c;
	size_t n = 0;

	pgd_config_default(&def);
	for (; odd[n]; n++) {
		c = def;
		cr_assert_eq(pgd_config_set(&c, odd[n], err, sizeof(err)), 0, "%s: %s", odd[n],
			     err);
		for (size_t i = 0; i < PGD_KEY_TOTAL; i++)
			cr_expect_eq(pgd_key_equal(&pgd_keys[i], &c, &def), i != n,
				     "%s changed key %s", odd[n], pgd_keys[i].name);
	}
	cr_expect_eq(n, PGD_KEY_TOTAL);
}

struct good {
	const char *text;
	const char *set[6]; /* what the file amounts to, as overrides of the defaults */
};

static const struct good good[] = {
	/* 0 */ { "", { NULL } },
	/* 1 */ { "# comment\n; comment\n\n   \n[daemon]\n# in a section\n", { NULL } },
	/* 2 */ { "[daemon]\nmax_clients = 100\n", { "daemon.max_clients=100" } },
	/* 3: indentation is not a continuation line */
	{ "  [daemon]  \n\tmax_clients\t=\t 100  \n  event_queue = 20\n",
	  { "daemon.max_clients=100", "daemon.event_queue=20" } },
	/* 4: " ;" starts a comment at the end of a line; '#' there does not */
	{ "[daemon]\nmax_clients = 100 ; comment\nsocket = /run/a#b\n",
	  { "daemon.max_clients=100", "daemon.socket=/run/a#b" } },
	/* 5 */
	{ "[daemon]\nclient_queue_bytes = 64K\n[store]\nmax_bytes = 1T\nsegment_size = 256M\n",
	  { "daemon.client_queue_bytes=65536", "store.max_bytes=1099511627776",
	    "store.segment_size=268435456" } },
	/* 6 */ { "[store]\ndirect_io = off\n", { "store.direct_io=false" } },
	/* 7 */ { "[store]\ndirect_io = NO\n", { "store.direct_io=0" } },
	/* 8 */ { "[store]\ndirect_io = 1\n", { "store.direct_io=yes" } },
	/* 9 */ { "[daemon]\nlog_level = ERROR\n", { "daemon.log_level=error" } },
	/* 10 */ { "[daemon]\r\nlog_level = warn\r\n", { "daemon.log_level=warn" } },
	/* 11 */ { "\xef\xbb\xbf[daemon]\nlog_level = debug\n", { "daemon.log_level=debug" } },
	/* 12: no newline at the end */ { "[dataplane]\nworkers = 3", { "dataplane.workers=3" } },
	/* 13 */ { "[dataplane]\nworkers: 3\n", { "dataplane.workers=3" } },
	/* 14 */
	{ "[daemon]\nsocket_group =\n",
	  { "daemon.socket_group=peergraph", "daemon.socket_group=" } },
	/* 15 */
	{ "[daemon]\nsocket_group = _peer-graph.1\n", { "daemon.socket_group=_peer-graph.1" } },
	/* 16: ';' after a non-space is part of the value */
	{ "[daemon]\nnode_name = 0.a;b\n", { "daemon.node_name=0.a;b" } },
	/* 17: sections in any order */
	{ "[dataplane]\nworkers = 2\n[store]\nmax_records = 5\n[daemon]\nmax_clients = 6\n",
	  { "dataplane.workers=2", "store.max_records=5", "daemon.max_clients=6" } },
	/* 18: plain byte counts, and suffixes that are not the largest */
	{ "[daemon]\nclient_queue_bytes = 65536\n[store]\nmax_bytes = 2048K\n",
	  { "daemon.client_queue_bytes=64K", "store.max_bytes=2M" } },
	/* 19: a comment after a section header */
	{ "[store] ; the store\ncommit_interval_us = 100\n", { "store.commit_interval_us=100" } },
	/* 20: leading zeros are decimal */
	{ "[dataplane]\nworkers = 010\n", { "dataplane.workers=10" } },
	/* 21: the [fault] section as a test network sets it */
	{ "[fault]\ndrop = 0.1\nduplicate = 0.05\nreorder = 0.05\ndelay_us = 0\njitter_us = 0\n"
	  "seed = 1\n",
	  { "fault.drop=0.1", "fault.duplicate=0.05", "fault.reorder=0.05", "fault.seed=1" } },
	/* 22: probabilities at their bounds, trailing zeros, leading zeros, 9 digits */
	{ "[fault]\ndrop = 1.000000000\n", { "fault.drop=1" } },
	/* 23 */
	{ "[fault]\nduplicate = 00.500\nreorder = 0.000000001\n",
	  { "fault.duplicate=0.5", "fault.reorder=0.000000001" } },
	/* 24: a sum of exactly 1, which a double does not add up to exactly */
	{ "[fault]\ndrop = 0.1\nduplicate = 0.2\nreorder = 0.7\n",
	  { "fault.drop=0.1", "fault.duplicate=0.2", "fault.reorder=0.7" } },
	/* 25 */
	{ "[fault]\nreorder = 1\ndelay_us = 3\n", { "fault.reorder=1", "fault.delay_us=3" } },
	/* 26 */
	{ "[fault]\ndelay_us = 10000000\njitter_us = 250\nseed = 18446744073709551615\n",
	  { "fault.delay_us=10000000", "fault.jitter_us=250", "fault.seed=18446744073709551615" } },
	/* 27: the [dataplane] section as a test network sets it */
	{ "[dataplane]\naddress = 127.0.0.1:40001\nbackend = sockets\nnode_id = n1\n",
	  { "dataplane.address=127.0.0.1:40001", "dataplane.backend=sockets",
	    "dataplane.node_id=n1" } },
	/* 28: no dataplane socket, either way */
	{ "[dataplane]\naddress = none\n", { "dataplane.address=none" } },
	/* 29 */ { "[dataplane]\naddress =\n", { "dataplane.address=" } },
	/* 30: IPv6 in brackets, any port; a word in any case is stored as the table spells it */
	{ "[dataplane]\naddress = [::]:0\nbackend = URING\n",
	  { "dataplane.address=[::]:0", "dataplane.backend=uring" } },
	/* 31: an empty node id is the node name */
	{ "[dataplane]\nnode_id =\nmax_datagram = 65507\nwindow = 65536\nring_bytes = 16G\n",
	  { "dataplane.max_datagram=65507", "dataplane.window=65536",
	    "dataplane.ring_bytes=17179869184" } },
	/* 32: the test knobs at their bounds */
	{ "[dataplane]\ntiming = on\nreassembly_timeout_ms = 100\n[fault]\nslow_us = 1000000\n",
	  { "dataplane.timing=true", "dataplane.reassembly_timeout_ms=100",
	    "fault.slow_us=1000000" } },
	/* 33 */
	{ "[dataplane]\nreassembly_timeout_ms = 600000\n[fault]\nslow_us = 0\n",
	  { "dataplane.reassembly_timeout_ms=600000" } },
};

Test(config, good_files)
{
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct pgd_config c, want;

		pgd_config_default(&c);
		expect_config(&want, good[i].set);
		cr_assert_eq(parse_row(&c, (int)i, good[i].text), 0, "row %zu: %s", i, err);
		cr_expect(pgd_config_equal(&c, &want), "row %zu: not what the file says", i);
	}
}

struct bad {
	int line;
	const char *key; /* what the message must name: "[section] key" or "[section]" */
	const char *text;
	const char *also; /* a further part of the message, or NULL */
};

static const struct bad bad[] = {
	/* 0 */
	{ 1, "[foo]", "[foo]\n", "unknown section (allowed: daemon, store, dataplane, fault)" },
	/* 1 */ { 2, "[daemon] max_client", "[daemon]\nmax_client = 5\n", "allowed: state_dir" },
	/* 2 */ { 1, "max_clients", "max_clients = 5\n", "before any [section]" },
	/* 3 */
	{ 3, "[daemon] max_clients", "[daemon]\nmax_clients = 5\nmax_clients = 6\n",
	  "given twice (first on line 2)" },
	/* 4 */
	{ 5, "[daemon]", "[daemon]\nmax_clients = 5\n[store]\n# x\n[daemon]\n",
	  "section given twice (first on line 1)" },
	/* 5 */ { 2, "[daemon] max_clients", "[daemon]\nmax_clients =\n", "empty value" },
	/* 6 */ { 2, "[daemon] max_clients", "[daemon]\nmax_clients = 0\n", "allowed: 1..4096" },
	/* 7 */ { 2, "[daemon] max_clients", "[daemon]\nmax_clients = 4097\n", "out of range" },
	/* 8 */ { 2, "[daemon] event_queue", "[daemon]\nevent_queue = 15\n", "16..1048576" },
	/* 9 */ { 2, "[daemon] event_queue", "[daemon]\nevent_queue = 1048577\n", "out of range" },
	/* 10 */
	{ 2, "[store] commit_interval_us", "[store]\ncommit_interval_us = 99\n", "100..1000000" },
	/* 11 */
	{ 2, "[store] commit_interval_us", "[store]\ncommit_interval_us = 1000001\n", NULL },
	/* 12 */ { 2, "[store] max_records", "[store]\nmax_records = 0\n", "1..268435455" },
	/* 13 */ { 2, "[store] max_records", "[store]\nmax_records = 268435456\n", NULL },
	/* 14 */ { 2, "[store] max_bytes", "[store]\nmax_bytes = 1023K\n", "1M..1T bytes" },
	/* 15 */ { 2, "[store] max_bytes", "[store]\nmax_bytes = 1099511627777\n", NULL },
	/* 16 */ { 2, "[store] max_bytes", "[store]\nmax_bytes = 2T\n", "out of range" },
	/* 17 */ { 2, "[store] segment_size", "[store]\nsegment_size = 32K\n", "power of two" },
	/* 18 */ { 2, "[store] segment_size", "[store]\nsegment_size = 512M\n", "out of range" },
	/* 19 */ { 2, "[store] segment_size", "[store]\nsegment_size = 96K\n", "not a power" },
	/* 20 */
	{ 2, "[daemon] client_queue_bytes", "[daemon]\nclient_queue_bytes = 65535\n", "64K..1G" },
	/* 21 */
	{ 2, "[daemon] client_queue_bytes", "[daemon]\nclient_queue_bytes = 1025M\n", NULL },
	/* 22 */ { 2, "[dataplane] workers", "[dataplane]\nworkers = 0\n", "1..64" },
	/* 23 */ { 2, "[dataplane] workers", "[dataplane]\nworkers = 65\n", NULL },
	/* 24 */ { 2, "[daemon] max_clients", "[daemon]\nmax_clients = 12abc\n", "not a number" },
	/* 25 */ { 2, "[daemon] max_clients", "[daemon]\nmax_clients = -1\n", "not a number" },
	/* 26 */ { 2, "[daemon] max_clients", "[daemon]\nmax_clients = +5\n", "not a number" },
	/* 27 */ { 2, "[daemon] max_clients", "[daemon]\nmax_clients = 0x10\n", "not a number" },
	/* 28 */ { 2, "[daemon] max_clients", "[daemon]\nmax_clients = 1 2\n", "not a number" },
	/* 29: counts take no suffix */
	{ 2, "[daemon] max_clients", "[daemon]\nmax_clients = 1K\n", "not a number" },
	/* 30 */ { 2, "[store] max_bytes", "[store]\nmax_bytes = 4m\n", "suffixes K, M, G, T" },
	/* 31 */ { 2, "[store] max_bytes", "[store]\nmax_bytes = 4MB\n", "not a number" },
	/* 32 */ { 2, "[store] max_bytes", "[store]\nmax_bytes = 4 M\n", "not a number" },
	/* 33 */
	{ 2, "[store] max_bytes", "[store]\nmax_bytes = 99999999999999999999999\n",
	  "out of range" },
	/* 34: overflows only with its suffix */
	{ 2, "[store] max_bytes", "[store]\nmax_bytes = 17179869184T\n", "out of range" },
	/* 35 */ { 2, "[store] direct_io", "[store]\ndirect_io = maybe\n", "true, false, yes" },
	/* 36 */ { 2, "[daemon] log_level", "[daemon]\nlog_level = verbose\n", "error, warn" },
	/* 37 */ { 2, "[daemon] state_dir", "[daemon]\nstate_dir = var/lib\n", "absolute path" },
	/* 38 */
	{ 2, "[daemon] state_dir", "[daemon]\nstate_dir = /var/lib/peer graph\n", "a space" },
	/* 39: the socket path one byte past sun_path */
	{ 2, "[daemon] socket",
	  "[daemon]\nsocket = "
	  "/run/peergraph/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock\n",
	  "too long" },
	/* 40 */ { 2, "[daemon] socket_group", "[daemon]\nsocket_group = -adm\n", "not first" },
	/* 41 */ { 2, "[daemon] socket_group", "[daemon]\nsocket_group = adm!\n", NULL },
	/* 42 */
	{ 2, "[daemon] socket_group",
	  "[daemon]\nsocket_group = abcdefghijklmnopqrstuvwxyz0123456\n", "1..32" },
	/* 43: a secured name is no creator id of unsecured graphs */
	{ 2, "[daemon] node_name",
	  "[daemon]\nnode_name = 0123456789abcdef0123456789abcdef01234567.x\n", "unsecured" },
	/* 44 */ { 2, "[daemon] node_name", "[daemon]\nnode_name = node1\n", "0.<classifier>" },
	/* 45 */ { 2, "[daemon] node_name", "[daemon]\nnode_name = 0.\n", NULL },
	/* 46 */ { 2, "[daemon] node_name", "[daemon]\nnode_name = 0.a/b\n", NULL },
	/* 47 */ { 1, "[daemon", "[daemon\n", "without ']'" },
	/* 48 */ { 1, "[daemon]", "[daemon] junk\n", "text after ']'" },
	/* 49 */ { 2, "", "[daemon]\njust words\n", "neither a [section] nor a key = value" },
	/* 50: names are not trimmed inside the brackets */
	{ 1, "[ daemon ]", "[ daemon ]\n", "unknown section" },
	/* 51: what a message echoes is printable */
	{ 2, "[daemon] ma?x", "[daemon]\nma\x01x = 1\n", "unknown key" },
	/* 52: lines are counted through comments and blank ones */
	{ 6, "[dataplane] workers", "# a\n\n; b\n[dataplane]\n\nworkers = x\n", NULL },
	/* 53: '#' at the end of a line is part of the value */
	{ 2, "[daemon] max_clients", "[daemon]\nmax_clients = 64 # many\n", "64 # many" },
	/* 54: a key of another section */
	{ 2, "[store] workers", "[store]\nworkers = 2\n", "allowed: commit_interval_us" },
	/* 55: an error after good keys */
	{ 4, "[store] max_records",
	  "[store]\nmax_bytes = 2M\nsegment_size = 128K\nmax_records = 0\n", NULL },
	/* 56: the first error is the one reported */
	{ 2, "[daemon] max_clients", "[daemon]\nmax_clients = 0\nworkers = 1\n", NULL },
	/* 57: an empty key */ { 2, "[daemon] : unknown key", "[daemon]\n= 5\n", NULL },
	/* 58 */ { 2, "[fault] drop", "[fault]\ndrop = 1.5\n", "out of range: '1.5'" },
	/* 59 */ { 2, "[fault] drop", "[fault]\ndrop = 1.000000001\n", "out of range" },
	/* 60 */ { 2, "[fault] drop", "[fault]\ndrop = 2\n", "allowed: 0..1, at most 9 digits" },
	/* 61 */
	{ 2, "[fault] duplicate", "[fault]\nduplicate = 0.1234567891\n",
	  "more than 9 digits after the point" },
	/* 62 */ { 2, "[fault] reorder", "[fault]\nreorder = -0.1\n", "not a probability" },
	/* 63 */ { 2, "[fault] reorder", "[fault]\nreorder = .5\n", "not a probability" },
	/* 64 */ { 2, "[fault] reorder", "[fault]\nreorder = 1.\n", "not a probability" },
	/* 65 */ { 2, "[fault] reorder", "[fault]\nreorder = 1e-3\n", "not a probability" },
	/* 66 */ { 2, "[fault] reorder", "[fault]\nreorder = 0,5\n", "not a probability" },
	/* 67 */ { 2, "[fault] reorder", "[fault]\nreorder = 5%\n", "not a probability" },
	/* 68 */ { 2, "[fault] reorder", "[fault]\nreorder = nan\n", "not a probability" },
	/* 69 */ { 2, "[fault] drop", "[fault]\ndrop = 0x1p-3\n", "not a probability" },
	/* 70: an overflow of the whole part is out of range, not wrapped to a small value */
	{ 2, "[fault] drop", "[fault]\ndrop = 18446744073709551617\n", "out of range" },
	/* 71: the sum, named at the last of the three the file set */
	{ 4, "[fault] reorder", "[fault]\ndrop = 0.5\nduplicate = 0.4\nreorder = 0.2\n",
	  "drop + duplicate + reorder = 1.1 (allowed: at most 1)" },
	/* 72: the drop of 0.25 that odd[] set counts too */
	{ 3, "[fault] duplicate", "[fault]\nreorder = 0.6\nduplicate = 0.6\nseed = 3\n",
	  "= 1.45 (allowed" },
	/* 73: with what the configuration held (0.125 + 0.0625 from odd[]) */
	{ 2, "[fault] drop", "[fault]\ndrop = 0.9\n", "= 1.0875 (allowed: at most 1)" },
	/* 74 */
	{ 2, "[fault] delay_us", "[fault]\ndelay_us = 10000001\n", "allowed: 0..10000000" },
	/* 75 */ { 2, "[fault] jitter_us", "[fault]\njitter_us = 10000001\n", "out of range" },
	/* 76 */
	{ 2, "[fault] seed", "[fault]\nseed = 18446744073709551616\n",
	  "(allowed: 0..18446744073709551615)" },
	/* 77 */ { 2, "[fault] seed", "[fault]\nseed = -1\n", "not a number" },
	/* 78: the fault keys are not the dataplane's */
	{ 2, "[dataplane] drop", "[dataplane]\ndrop = 0.1\n",
	  "unknown key (allowed: workers, address, backend, max_datagram, window, ring_bytes, "
	  "node_id, reassembly_timeout_ms, timing)" },
	/* 79 */ { 2, "[fault] loss", "[fault]\nloss = 0.1\n", "allowed: drop, duplicate" },
	/* 80: a bind address is numeric: no name service at start */
	{ 2, "[dataplane] address", "[dataplane]\naddress = localhost:3587\n",
	  "'localhost' is not a numeric IPv4 or IPv6 address" },
	/* 81 */
	{ 2, "[dataplane] address", "[dataplane]\naddress = 127.0.0.1\n", "no ':PORT'" },
	/* 82 */
	{ 2, "[dataplane] address", "[dataplane]\naddress = ::1:3587\n",
	  "an IPv6 address goes in brackets" },
	/* 83 */
	{ 2, "[dataplane] address", "[dataplane]\naddress = 127.0.0.1:65536\n",
	  "the port is a number from 0 to 65535" },
	/* 84 */
	{ 2, "[dataplane] address", "[dataplane]\naddress = 127.0.0.1:-1\n",
	  "(allowed: IPV4:PORT or [IPV6]:PORT" },
	/* 85 */ { 2, "[dataplane] address", "[dataplane]\naddress = [::1:3587\n", "without ']" },
	/* 86 */ { 2, "[dataplane] address", "[dataplane]\naddress = 300.1.1.1:1\n", "numeric" },
	/* 87 */ { 2, "[dataplane] address", "[dataplane]\naddress = :3587\n", "the host is 1" },
	/* 88 */
	{ 2, "[dataplane] backend", "[dataplane]\nbackend = dpdk\n",
	  "not one of the words: 'dpdk' (allowed: uring, sockets)" },
	/* 89 */ { 2, "[dataplane] backend", "[dataplane]\nbackend =\n", "empty value" },
	/* 90 */
	{ 2, "[dataplane] max_datagram", "[dataplane]\nmax_datagram = 1K\n", "not a number" },
	/* 91 */
	{ 2, "[dataplane] window", "[dataplane]\nwindow = 1000\n",
	  "not a power of two: '1000' (allowed: a power of two, 16..65536)" },
	/* 92 */
	{ 2, "[dataplane] ring_bytes", "[dataplane]\nring_bytes = 17G\n", "1M..16G bytes" },
	/* 93 */
	{ 2, "[dataplane] node_id", "[dataplane]\nnode_id = a b\n", "not a node id: 'a b'" },
	/* 94 */
	{ 2, "[fault] slow_us", "[fault]\nslow_us = 1000001\n", "(allowed: 0..1000000)" },
	/* 95 */
	{ 2, "[dataplane] reassembly_timeout_ms", "[dataplane]\nreassembly_timeout_ms = 99\n",
	  "out of range: '99' (allowed: 100..600000)" },
	/* 96 */ { 2, "[dataplane] timing", "[dataplane]\ntiming = maybe\n", "not a boolean" },
	/* 97: written back as "node_id = ;x" it would read as a comment (fuzz-config) */
	{ 2, "[dataplane] node_id", "[dataplane]\nnode_id =;x\n", "not a node id: ';x'" },
	/* 98 */
	{ 2, "[dataplane] node_id", "[dataplane]\nnode_id =#x\n", "not a node id: '#x'" },
};

/* The row's error, and *c unchanged: c starts odd so that "unchanged" is not "the defaults". */
static void expect_bad(int row, const char *text, int line, const char *key, const char *also)
{
	struct pgd_config c, before;
	char where[64];

	expect_config(&c, (const char *const *)odd);
	before = c;
	cr_assert_eq(parse_row(&c, row, text), PG_E_CONFIG, "row %d: accepted", row);
	snprintf(where, sizeof(where), "cfg-%d.conf:%d: ", row, line);
	cr_expect_eq(strncmp(err, where, strlen(where)), 0, "row %d: %s", row, err);
	cr_expect_not_null(strstr(err, key), "row %d: no '%s' in: %s", row, key, err);
	if (also)
		cr_expect_not_null(strstr(err, also), "row %d: no '%s' in: %s", row, also, err);
	cr_expect_eq(memcmp(&c, &before, sizeof(c)), 0, "row %d: configuration changed", row);
}

Test(config, bad_files)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_bad((int)i, bad[i].text, bad[i].line, bad[i].key, bad[i].also);
}

/* A NUL cannot sit in a table row's string. */
Test(config, nul_byte)
{
	static const char text[] = "[daemon]\nmax_clients = 6\0 4\n";
	struct pgd_config c, before;

	pgd_config_default(&c);
	before = c;
	cr_assert_eq(pgd_config_parse(&c, "nul.conf", text, sizeof(text) - 1, err, sizeof(err)),
		     PG_E_CONFIG);
	cr_expect_not_null(strstr(err, "nul.conf:2: a NUL byte"), "%s", err);
	cr_expect(pgd_config_equal(&c, &before));
}

/* Every bound at its value is accepted, and one past it is refused. */
Test(config, bounds)
{
	static const struct {
		const char *section, *key, *lo, *hi, *below, *above;
	} rows[] = {
		{ "daemon", "max_clients", "1", "4096", "0", "4097" },
		{ "daemon", "client_queue_bytes", "64K", "1G", "65535", "1073741825" },
		{ "daemon", "event_queue", "16", "1048576", "15", "1048577" },
		{ "store", "commit_interval_us", "100", "1000000", "99", "1000001" },
		{ "store", "max_records", "1", "268435455", "0", "268435456" },
		{ "store", "max_bytes", "1M", "1T", "1048575", "1099511627777" },
		{ "store", "segment_size", "64K", "256M", "32K", "512M" },
		{ "dataplane", "workers", "1", "64", "0", "65" },
		{ "dataplane", "max_datagram", "512", "65507", "511", "65508" },
		{ "dataplane", "window", "16", "65536", "8", "131072" },
		{ "dataplane", "ring_bytes", "1M", "16G", "1048575", "17179869185" },
		/* no number is below 0 (see bad_files) */
		{ "fault", "drop", "0", "1", NULL, "1.000000001" },
		{ "fault", "duplicate", "0", "1", NULL, "1.1" },
		{ "fault", "reorder", "0", "1", NULL, "2" },
		{ "fault", "delay_us", "0", "10000000", NULL, "10000001" },
		{ "fault", "jitter_us", "0", "10000000", NULL, "10000001" },
		{ "fault", "seed", "0", "18446744073709551615", NULL, "18446744073709551616" },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *vals[] = { rows[i].lo, rows[i].hi, rows[i].below, rows[i].above };

		for (int v = 0; v < 4; v++) {
			char text[128], set[128];
			struct pgd_config c, want;
			int ret;

			if (!vals[v])
				continue;
			snprintf(text, sizeof(text), "[%s]\n%s = %s\n", rows[i].section,
				 rows[i].key, vals[v]);
			snprintf(set, sizeof(set), "%s.%s=%s", rows[i].section, rows[i].key,
				 vals[v]);
			pgd_config_default(&c);
			ret = parse_row(&c, (int)(i * 4 + v), text);
			if (v < 2) {
				cr_expect_eq(ret, 0, "%s: %s", set, err);
				pgd_config_default(&want);
				cr_expect_eq(pgd_config_set(&want, set, err, sizeof(err)), 0);
				cr_expect(pgd_config_equal(&c, &want), "%s", set);
			} else {
				cr_expect_eq(ret, PG_E_CONFIG, "%s accepted", set);
				cr_expect_not_null(strstr(err, "out of range"), "%s: %s", set, err);
				pgd_config_default(&want);
				cr_expect_eq(pgd_config_set(&want, set, err, sizeof(err)),
					     PG_E_CONFIG, "%s accepted as override", set);
			}
		}
	}
}

/* A configuration over the sum before the file (set by a caller, not by a file or an override)
 * is refused with the file named but no line: no line of the file is to blame. */
Test(config, fault_sum_before_file)
{
	struct pgd_config c, before;

	pgd_config_default(&c);
	c.fault.drop = 0.75;
	c.fault.dup = 0.5;
	before = c;
	cr_expect_eq(parse_row(&c, 0, "[daemon]\nmax_clients = 5\n"), PG_E_CONFIG);
	cr_expect_str_eq(err, "cfg-0.conf: [fault]: drop + duplicate + reorder = 1.25 (allowed: at "
			      "most 1)");
	cr_expect_eq(memcmp(&c, &before, sizeof(c)), 0);
	/* a file that brings it back under 1 is accepted */
	cr_expect_eq(parse_row(&c, 1, "[fault]\nduplicate = 0.25\n"), 0, "%s", err);
	cr_expect_eq(c.fault.dup, 0.25);
}

/* The node id: 256 bytes at most; empty means the node name; what the dataplane is given. */
Test(config, node_id)
{
	char text[BIG], id[PGD_NODE_ID_SIZE + 1];
	struct pgd_config c;

	memset(id, 'n', sizeof(id));
	id[PGD_NODE_ID_SIZE - 1] = '\0';
	snprintf(text, sizeof(text), "[dataplane]\nnode_id = %s\n", id);
	pgd_config_default(&c);
	cr_expect_eq(parse_row(&c, 0, text), 0, "%s", err);
	cr_expect_eq(strlen(c.node_id), DP_NODE_ID_MAX);
	cr_expect_str_eq(pgd_config_node_id(&c), id);
	id[PGD_NODE_ID_SIZE - 1] = 'n';
	id[PGD_NODE_ID_SIZE] = '\0';
	snprintf(text, sizeof(text), "[dataplane]\nnode_id = %s\n", id);
	cr_expect_eq(parse_row(&c, 1, text), PG_E_CONFIG);
	cr_expect_not_null(strstr(err, "1..256 bytes"), "%s", err);
	cr_expect_eq(pgd_config_set(&c, "dataplane.node_id=", err, sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(pgd_config_node_id(&c), c.node_name);
}

/* Path lengths at their bounds: sun_path for the socket, PATH_MAX for the state directory. */
Test(config, path_lengths)
{
	static char text[2 * BIG], path[BIG];
	struct pgd_config c;

	memset(path, 'a', sizeof(path));
	path[0] = '/';
	path[PGD_SOCKET_SIZE - 1] = '\0';
	snprintf(text, sizeof(text), "[daemon]\nsocket = %s\n", path);
	pgd_config_default(&c);
	cr_expect_eq(parse_row(&c, 0, text), 0, "%s", err);
	cr_expect_str_eq(c.socket, path);

	memset(path, 'b', sizeof(path));
	path[0] = '/';
	path[PATH_MAX - 1] = '\0';
	snprintf(text, sizeof(text), "[daemon]\nstate_dir = %s\n", path);
	cr_expect_eq(parse_row(&c, 1, text), 0, "%s", err);
	cr_expect_str_eq(c.state_dir, path);
	path[PATH_MAX - 1] = 'b';
	path[PATH_MAX] = '\0';
	snprintf(text, sizeof(text), "[daemon]\nstate_dir = %s\n", path);
	cr_expect_eq(parse_row(&c, 2, text), PG_E_CONFIG);
	cr_expect_not_null(strstr(err, "cfg-2.conf:2: [daemon] state_dir: too long"), "%s", err);
}

/* A line of PGD_CONFIG_LINE_MAX bytes is read whole; one byte more is refused, not cut. */
Test(config, line_length)
{
	static char text[BIG];
	struct pgd_config c;
	size_t n;

	pgd_config_default(&c);
	n = (size_t)snprintf(text, sizeof(text), "[daemon]\n#");
	memset(text + n, 'x', PGD_CONFIG_LINE_MAX - 1);
	strcpy(text + n + PGD_CONFIG_LINE_MAX - 1, "\nmax_clients = 9\n");
	cr_expect_eq(parse_row(&c, 0, text), 0, "%s", err);
	cr_expect_eq(c.max_clients, 9);

	/* one more byte: were it cut at inih's buffer, its tail would read as a line */
	n = (size_t)snprintf(text, sizeof(text), "[daemon]\n#");
	memset(text + n, 'x', PGD_CONFIG_LINE_MAX);
	strcpy(text + n + PGD_CONFIG_LINE_MAX, "\n");
	cr_expect_eq(parse_row(&c, 1, text), PG_E_CONFIG);
	cr_expect_not_null(strstr(err, "cfg-1.conf:2: line of 4353 bytes (allowed: at most 4352)"),
			   "%s", err);
}

/* inih's options are process globals: a parse uses its own and puts the caller's back. */
Test(config, inih_globals_restored)
{
	static char text[BIG];
	struct pgd_config c;
	size_t n;

	ini_max_line = 200;
	ini_allow_multiline = true;
	n = (size_t)snprintf(text, sizeof(text), "[daemon]\n  state_dir = /");
	memset(text + n, 'c', 300);
	strcpy(text + n + 300, "\n  max_clients = 3\n");
	pgd_config_default(&c);
	cr_expect_eq(parse_row(&c, 0, text), 0, "%s", err);
	cr_expect_eq(strlen(c.state_dir), 301);
	cr_expect_eq(c.max_clients, 3);
	cr_expect_eq(ini_max_line, 200);
	cr_expect(ini_allow_multiline);
}

Test(config, file_size)
{
	size_t len = PGD_CONFIG_FILE_MAX + 1;
	char *text = malloc(len);
	struct pgd_config c;

	cr_assert_not_null(text);
	/* comment lines of 64 bytes */
	for (size_t i = 0; i < len; i += 64) {
		memset(text + i, '#', len - i < 64 ? len - i : 64);
		if (i + 63 < len)
			text[i + 63] = '\n';
	}
	pgd_config_default(&c);
	cr_expect_eq(pgd_config_parse(&c, "big.conf", text, len - 1, err, sizeof(err)), 0, "%s",
		     err);
	cr_expect_eq(pgd_config_parse(&c, "big.conf", text, len, err, sizeof(err)), PG_E_CONFIG);
	cr_expect_str_eq(err, "big.conf: 1048577 bytes (allowed: at most 1048576)");
	free(text);
}

/* The keys a file does not name keep the values they had; a bad file changes none. */
Test(config, all_or_nothing)
{
	struct pgd_config c, want;

	expect_config(&c, (const char *const *)odd);
	cr_assert_eq(parse_row(&c, 0, "[store]\nmax_records = 10\n"), 0, "%s", err);
	expect_config(&want, (const char *const *)odd);
	cr_assert_eq(pgd_config_set(&want, "store.max_records=10", err, sizeof(err)), 0);
	cr_expect(pgd_config_equal(&c, &want));

	cr_assert_eq(parse_row(&c, 1,
			       "[store]\nmax_records = 20\nmax_bytes = 8M\n[daemon]\n"
			       "max_clients = 0\n"),
		     PG_E_CONFIG);
	cr_expect(pgd_config_equal(&c, &want), "a bad file changed the configuration");
}

static char tmpdir[64];

static void make_tmpdir(void)
{
	strcpy(tmpdir, "/tmp/pg-config-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	cr_expect_eq(system(cmd), 0);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "%s", path);
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
	cr_assert_eq(chmod(path, mode), 0);
}

Test(config, load, .init = make_tmpdir, .fini = remove_tmpdir)
{
	char path[128], fifo[128];
	struct pgd_config c, before;
	FILE *f;

	pgd_config_default(&c);
	before = c;
	snprintf(path, sizeof(path), "%s/peergraphd.conf", tmpdir);

	cr_expect_eq(pgd_config_load(&c, path, err, sizeof(err)), -ENOENT);
	cr_expect_not_null(strstr(err, path), "%s", err);

	write_file(path, "[daemon]\nmax_clients = 33\n", 0644);
	cr_expect_eq(pgd_config_load(&c, path, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(c.max_clients, 33);

	c = before;
	write_file(path, "[daemon]\nmax_clients = 33\nlog_level = loud\n", 0600);
	cr_expect_eq(pgd_config_load(&c, path, err, sizeof(err)), PG_E_CONFIG);
	cr_expect_not_null(strstr(err, ":3: [daemon] log_level: not a log level: 'loud'"), "%s",
			   err);
	cr_expect_eq(strncmp(err, path, strlen(path)), 0, "%s", err);
	cr_expect(pgd_config_equal(&c, &before));

	write_file(path, "[daemon]\nmax_clients = 33\n", 0666);
	cr_expect_eq(pgd_config_load(&c, path, err, sizeof(err)), PG_E_CONFIG);
	cr_expect_not_null(strstr(err, "writable by others"), "%s", err);

	cr_expect_eq(pgd_config_load(&c, tmpdir, err, sizeof(err)), -EINVAL);
	cr_expect_not_null(strstr(err, "not a regular file"), "%s", err);
	snprintf(fifo, sizeof(fifo), "%s/fifo", tmpdir);
	cr_assert_eq(mkfifo(fifo, 0600), 0);
	cr_expect_eq(pgd_config_load(&c, fifo, err, sizeof(err)), -EINVAL);

	/* too large: the bound holds for a file as for a buffer */
	f = fopen(path, "w");
	cr_assert_not_null(f);
	for (int i = 0; i <= PGD_CONFIG_FILE_MAX / 16; i++)
		fputs("# fifteen bytes\n", f);
	cr_assert_eq(fclose(f), 0);
	cr_assert_eq(chmod(path, 0644), 0);
	cr_expect_eq(pgd_config_load(&c, path, err, sizeof(err)), PG_E_CONFIG);
	cr_expect_not_null(strstr(err, "bytes (allowed: at most 1048576)"), "%s", err);
	cr_expect(pgd_config_equal(&c, &before));
}

Test(config, overrides)
{
	static const struct {
		const char *set;
		int want;
		const char *msg; /* in the error message */
	} rows[] = {
		/* 0 */ { "store.max_records=1000", 0, NULL },
		/* 1 */ { "  daemon.log_level =  debug ", 0, NULL },
		/* 2 */ { "store.max_bytes=2G", 0, NULL },
		/* 3 */ { "daemon.socket_group=", 0, NULL },
		/* 4 */ { "daemon.node_name=0.a=b", 0, NULL },
		/* 5 */ { "store.max_records", PG_E_CONFIG, "not section.key=value" },
		/* 6 */ { "max_records=5", PG_E_CONFIG, "not section.key=value" },
		/* 7 */ { "foo.bar=1", PG_E_CONFIG, "[foo]: unknown section" },
		/* 8 */ { "store.nope=1", PG_E_CONFIG, "[store] nope: unknown key" },
		/* 9 */ { "store.max_records=0", PG_E_CONFIG, "[store] max_records: out of range" },
		/* 10 */ { "daemon.socket_group=-x", PG_E_CONFIG, "[daemon] socket_group" },
		/* 11 */ { "store.max_records=", PG_E_CONFIG, "[store] max_records: empty value" },
		/* 12 */ { "=5", PG_E_CONFIG, "not section.key=value" },
		/* 13 */ { "daemon.workers=2", PG_E_CONFIG, "allowed: state_dir, socket" },
		/* 14 */ { "fault.duplicate=0.75", 0, NULL },
		/* 15 */ { "fault.drop=0.5.", PG_E_CONFIG, "[fault] drop: not a probability" },
		/* 16 */ { "nope.drop=1", PG_E_CONFIG, "allowed: daemon, store, dataplane, fault" },
	};
	struct pgd_config c, before;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		pgd_config_default(&c);
		before = c;
		cr_expect_eq(pgd_config_set(&c, rows[i].set, err, sizeof(err)), rows[i].want,
			     "row %zu: %s", i, err);
		if (!rows[i].want)
			continue;
		cr_expect_eq(strncmp(err, "command line: ", 14), 0, "row %zu: %s", i, err);
		cr_expect_not_null(strstr(err, rows[i].msg), "row %zu: %s", i, err);
		cr_expect_eq(memcmp(&c, &before, sizeof(c)), 0, "row %zu: changed", i);
	}
	/* the sum of [fault]'s probabilities is checked as each is set */
	pgd_config_default(&c);
	cr_assert_eq(pgd_config_set(&c, "fault.drop=0.6", err, sizeof(err)), 0, "%s", err);
	before = c;
	cr_expect_eq(pgd_config_set(&c, "fault.reorder=0.5", err, sizeof(err)), PG_E_CONFIG);
	cr_expect_str_eq(err, "command line: [fault] reorder: drop + duplicate + reorder = 1.1 "
			      "(allowed: at most 1)");
	cr_expect_eq(memcmp(&c, &before, sizeof(c)), 0, "a refused sum changed the configuration");
	cr_expect_eq(pgd_config_set(&c, "fault.drop=0.4", err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(pgd_config_set(&c, "fault.reorder=0.6", err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(c.fault.reorder, 0.6);
	cr_expect_eq(c.fault.drop, 0.4);

	pgd_config_default(&c);
	cr_assert_eq(pgd_config_set(&c, "  daemon.log_level =  debug ", err, sizeof(err)), 0);
	cr_expect_eq(c.log_level, LOG_DEBUG);
	cr_assert_eq(pgd_config_set(&c, "daemon.node_name=0.a=b", err, sizeof(err)), 0);
	cr_expect_str_eq(c.node_name, "0.a=b");
}

/* An override longer than any line of a file is refused whole. */
Test(config, override_length)
{
	static char set[BIG];
	struct pgd_config c;

	memset(set, 'x', sizeof(set) - 1);
	memcpy(set, "daemon.state_dir=/", 18);
	pgd_config_default(&c);
	cr_expect_eq(pgd_config_set(&c, set, err, sizeof(err)), PG_E_CONFIG);
	cr_expect_not_null(strstr(err, "longer than 4352 bytes"), "%s", err);
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

Test(config, reload)
{
	static const char *const next_set[] = {
		"daemon.log_level=debug",
		"daemon.event_queue=100",
		"store.max_records=1000",
		"daemon.socket_group=adm",
		NULL,
	};
	struct pgd_config cur, next, start;
	char log[2048];

	pgd_config_default(&cur);
	start = cur;
	expect_config(&next, next_set);
	cr_expect_eq(pgd_config_reload(&cur, &next, log, sizeof(log)), 2);
	cr_expect_eq(cur.log_level, LOG_DEBUG);
	cr_expect_eq(cur.event_queue, 100);
	cr_expect_eq(cur.max_records, start.max_records);
	cr_expect_str_eq(cur.socket_group, "");
	cr_expect_str_eq(log, "daemon.socket_group: (none) -> adm (needs a restart)\n"
			      "daemon.log_level: info -> debug (applied)\n"
			      "daemon.event_queue: 4096 -> 100 (applied)\n"
			      "store.max_records: 1048576 -> 1000 (needs a restart)\n");

	/* the same file again: nothing to apply, the restart still pending */
	cr_expect_eq(pgd_config_reload(&cur, &next, log, sizeof(log)), 0);
	cr_expect_eq(count_lines(log), 2, "%s", log);
	cr_expect_not_null(strstr(log, "needs a restart"));

	/* every key at once: the three reloadable ones apply */
	cur = start;
	expect_config(&next, (const char *const *)odd);
	cr_expect_eq(pgd_config_reload(&cur, &next, log, sizeof(log)), 3);
	cr_expect_eq(count_lines(log), PGD_KEY_TOTAL, "%s", log);
	cr_expect_eq(cur.client_queue_bytes, 65537);
	cr_expect_str_eq(cur.state_dir, start.state_dir);

	/* no change, no line; a short log is cut, never overrun */
	cr_expect_eq(pgd_config_reload(&cur, &cur, log, sizeof(log)), 0);
	cr_expect_str_eq(log, "");
	cur = start;
	memset(log, 'z', sizeof(log));
	cr_expect_eq(pgd_config_reload(&cur, &next, log, 10), 3);
	cr_expect_eq(strlen(log), 9);
	cr_expect_eq(log[10], 'z');
	cur = start;
	cr_expect_eq(pgd_config_reload(&cur, &next, NULL, 0), 3);
}

/* What pgd_config_write writes reads back as the same configuration. */
Test(config, write_round_trip)
{
	const char *const *sets[] = { NULL, (const char *const *)odd };

	for (int i = 0; i < 2; i++) {
		struct pgd_config c, back;
		char *text = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);

		cr_assert_not_null(f);
		expect_config(&c, sets[i]);
		cr_assert_eq(pgd_config_write(&c, f), 0);
		cr_assert_eq(fclose(f), 0);
		memset(&back, 0, sizeof(back));
		cr_expect_eq(pgd_config_parse(&back, "written", text, len, err, sizeof(err)), 0,
			     "%s", err);
		cr_expect(pgd_config_equal(&c, &back), "round trip %d", i);
		free(text);
	}
}

/* The checked-in example is the key table's, and sets every key to its default. */
Test(config, example_file)
{
	static char file[64 << 10];
	char path[512], *text = NULL;
	struct pgd_config c, def;
	size_t len = 0, n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/doc/peergraphd.conf.example", PG_SOURCE_DIR);
	f = fopen(path, "r");
	cr_assert_not_null(f, "%s", path);
	n = fread(file, 1, sizeof(file) - 1, f);
	fclose(f);
	f = open_memstream(&text, &len);
	cr_assert_not_null(f);
	cr_assert_eq(pgd_config_write_example(f), 0);
	cr_assert_eq(fclose(f), 0);
	cr_expect(n == len && !memcmp(file, text, len),
		  "%s differs from the key table: run meson compile -C <build> config-example",
		  path);

	/* from values that differ from every default, the example leads to the defaults (but
	 * node_name, which it leaves as it was: its default depends on the host) */
	expect_config(&c, (const char *const *)odd);
	cr_assert_eq(pgd_config_parse(&c, path, file, n, err, sizeof(err)), 0, "%s", err);
	pgd_config_default(&def);
	cr_expect_str_eq(c.node_name, "0.x;y#z");
	memcpy(c.node_name, def.node_name, sizeof(c.node_name));
	cr_expect(pgd_config_equal(&c, &def));
	free(text);
}

static void *parse_many(void *arg)
{
	const char *text = arg;
	char e[PGD_CONFIG_ERR_SIZE];

	for (int i = 0; i < 200; i++) {
		struct pgd_config c;

		pgd_config_default(&c);
		if (pgd_config_parse(&c, "t", text, strlen(text), e, sizeof(e)) ||
		    c.max_clients != 77)
			return (void *)1;
	}
	return NULL;
}

/* inih's globals are set under a lock: parses on two threads do not see each other's. */
Test(config, threads)
{
	static char long_line[BIG];
	pthread_t t;
	void *ret;
	size_t n;

	n = (size_t)snprintf(long_line, sizeof(long_line), "[daemon]\nstate_dir = /");
	memset(long_line + n, 'd', 1000);
	strcpy(long_line + n + 1000, "\nmax_clients = 77\n");
	cr_assert_eq(pthread_create(&t, NULL, parse_many, long_line), 0);
	cr_expect_null(parse_many(long_line));
	cr_assert_eq(pthread_join(t, &ret), 0);
	cr_expect_null(ret);
}
