/*
 * bench_api.c - records added through peergraphd's control API, against the store's own rate.
 *
 * Claims under test (issue 13): one client adding batches of 128-byte records through
 * libpeergraph reaches >= 1 M records/s until durable and >= 0.6 x the store's own
 * pg_store_put rate on the same records; at half that rate, p99 add -> durable ack <= 20 ms.
 *
 * One run measures, on the same machine state:
 *   - store: pg_store_put of the records (encoded as the daemon stores them) into a fresh store
 *     with the daemon's settings, then pg_store_sync: the ceiling of the API path;
 *   - api: a real peergraphd (started here, its own state directory), an unsecured graph, one
 *     client adding batches with peergraph_record_add, each call returning once durable;
 *   - api, secured: the same in a graph whose records the daemon signs (Ed25519 per record),
 *     fewer records: the figure a signed graph gets today;
 *   - cli: `peergraph record add --from FILE` of a JSON-lines file of the same records;
 *   - ack latency: batches paced at half the api rate, each call's add -> durable ack time.
 * The output ends with one summary: line.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "peergraph.h"
#include "pg_assert.h"
#include "pg_error.h"
#include "pg_time.h"
#include "record.h"
#include "store.h"

enum {
	PAYLOAD = 128,
	BATCH = 16384,
	LAT_BATCH = 1024,
};

static struct {
	bool quick;
	size_t n;
	char dir[64], state[96], sock[96];
	pid_t daemon;
} b;

static void die(const char *what, int err)
{
	fprintf(stderr, "bench-api: %s: %s\n", what, peergraph_strerror(err));
	if (b.daemon > 0)
		kill(b.daemon, SIGKILL);
	exit(1);
}

static int rm_entry(const char *p, const struct stat *sb, int t, struct FTW *f)
{
	(void)sb, (void)f;
	return t == FTW_DP ? rmdir(p) : unlink(p);
}

static double secs(uint64_t ns)
{
	return (double)ns / 1e9;
}

/* ---- the records ------------------------------------------------------------------------- */

static char payload[PAYLOAD];
static const struct peergraph_guid type = { { 0xbe, 0x7c } };

static void batch_make(struct peergraph_record *r, size_t n)
{
	memset(r, 0, n * sizeof(*r));
	for (size_t i = 0; i < n; i++) {
		r[i].type = type;
		r[i].payload = payload;
		r[i].payload_len = PAYLOAD;
		r[i].expires_us = pg_time_now_us() + 3600ull * 1000000;
	}
}

/* ---- the store's own rate ---------------------------------------------------------------- */

static double store_rate(size_t n)
{
	struct pg_store_config c;
	struct pg_record r;
	struct pg_record_limits lim;
	struct pg_store *s;
	char dir[128];
	uint64_t t0;
	int err;

	snprintf(dir, sizeof(dir), "%s/store-only", b.dir);
	pg_store_config_default(&c);
	c.dir = dir;
	c.graph_id = "bench";
	c.graph_id_len = 5;
	c.max_records = (uint32_t)(n + 16);
	c.max_bytes = (uint64_t)n * 512 + (64 << 20);
	if ((err = pg_store_open(&c, &s)))
		die("store open", err);
	pg_record_limits_default(&lim);
	memset(&r, 0, sizeof(r));
	memcpy(r.type.b, type.b, 16);
	r.version = 1;
	r.creator = "0.bench-node";
	r.creator_len = 12;
	r.payload = (const uint8_t *)payload;
	r.payload_len = PAYLOAD;
	t0 = pg_mono_ns();
	r.created_us = r.modified_us = pg_time_now_us();
	r.expires_us = r.created_us + 3600ull * 1000000;
	for (size_t i = 0; i < n; i++) {
		memcpy(r.id.b, &i, sizeof(i));
		r.id.b[15] = 0x5a;
		if ((err = pg_store_put_record(s, &r, NULL)))
			die("store put", err);
	}
	if ((err = pg_store_sync(s)))
		die("store sync", err);
	double rate = (double)n / secs(pg_mono_ns() - t0);

	pg_store_close(s);
	return rate;
}

/* ---- the daemon ---------------------------------------------------------------------------- */

static void daemon_start(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char notify[96], buf[256];
	int ns;

	snprintf(notify, sizeof(notify), "%s/notify", b.dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", notify);
	ns = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (ns < 0 || bind(ns, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		die("notify socket", -errno);
	b.daemon = fork();
	if (b.daemon == 0) {
		setenv("NOTIFY_SOCKET", notify, 1);
		execl(PEERGRAPHD_PATH, PEERGRAPHD_PATH, "--state-dir", b.state, "--socket", b.sock,
		      "--log-level", "warn", "--set", "store.max_records=16777216", "--set",
		      "store.max_bytes=8G", "--set", "dataplane.address=127.0.0.1:0", (char *)NULL);
		_exit(127);
	}
	for (;;) {
		struct pollfd p = { .fd = ns, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 10000) != 1)
			die("peergraphd did not become ready", -ETIMEDOUT);
		n = recv(ns, buf, sizeof(buf) - 1, 0);
		if (n > 0 && (buf[n] = '\0', strstr(buf, "READY=1")))
			break;
	}
	close(ns);
}

static void daemon_stop(void)
{
	int status;

	kill(b.daemon, SIGTERM);
	waitpid(b.daemon, &status, 0);
	b.daemon = 0;
}

/* Adds n records in batches through the API; returns records/s until the last is durable. */
static double api_rate(struct peergraph *pg, const char *graph, size_t n, size_t batch)
{
	static struct peergraph_record r[BATCH];
	uint64_t t0 = pg_mono_ns();

	for (size_t done = 0; done < n; done += batch) {
		size_t m = n - done < batch ? n - done : batch;
		long added;

		batch_make(r, m);
		added = peergraph_record_add(pg, graph, r, m, NULL);
		if (added != (long)m)
			die("record add", added < 0 ? (int)added : -EIO);
	}
	return (double)n / secs(pg_mono_ns() - t0);
}

static int cmp_u64(const void *a, const void *b2)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b2;

	return (x > y) - (x < y);
}

/* Batches of LAT_BATCH paced at `rate` records/s; each call's latency (add -> durable). */
static void ack_latency(struct peergraph *pg, double rate, size_t n, double *p50, double *p99)
{
	static struct peergraph_record r[LAT_BATCH];
	size_t batches = n / LAT_BATCH, k = 0;
	uint64_t *lat = calloc(batches, sizeof(*lat));
	uint64_t t0 = pg_mono_ns(), gap = (uint64_t)(1e9 * LAT_BATCH / rate);

	PG_ASSERT(lat);
	for (; k < batches; k++) {
		uint64_t due = t0 + k * gap, now = pg_mono_ns(), t;

		if (now < due)
			usleep((useconds_t)((due - now) / 1000));
		batch_make(r, LAT_BATCH);
		t = pg_mono_ns();
		if (peergraph_record_add(pg, "bench", r, LAT_BATCH, NULL) != LAT_BATCH)
			die("paced add", -EIO);
		lat[k] = pg_mono_ns() - t;
	}
	qsort(lat, batches, sizeof(*lat), cmp_u64);
	*p50 = (double)lat[batches / 2] / 1e6;
	*p99 = (double)lat[(batches * 99) / 100] / 1e6;
	free(lat);
}

/* Writes n records as JSON lines and times `peergraph record add --from`. */
static double cli_rate(size_t n)
{
	char path[128], graph_arg[16] = "bench-cli";
	uint64_t t0;
	int status;
	FILE *f;
	pid_t pid;

	if (access(PEERGRAPH_CLI_PATH, X_OK) != 0) {
		printf("  cli: %s not built: no figure\n", PEERGRAPH_CLI_PATH);
		return 0;
	}
	snprintf(path, sizeof(path), "%s/records.jsonl", b.dir);
	if (!(f = fopen(path, "w")))
		die("records file", -errno);
	for (size_t i = 0; i < n; i++)
		fprintf(f,
			"{\"type\":\"be7c0000-0000-0000-0000-000000000000\",\"payload\":\"%.*s\","
			"\"expires_in\":3600}\n",
			PAYLOAD, payload);
	fclose(f);
	t0 = pg_mono_ns();
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, STDOUT_FILENO);
		execl(PEERGRAPH_CLI_PATH, PEERGRAPH_CLI_PATH, "--socket", b.sock, "record", "add",
		      graph_arg, "--from", path, (char *)NULL);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		die("peergraph record add --from", -EIO);
	return (double)n / secs(pg_mono_ns() - t0);
}

int main(int argc, char **argv)
{
	double store, api, signed_rate, cli, p50, p99;
	char name[PEERGRAPH_PEER_NAME_SIZE];
	struct peergraph_graph_props sp = { 0 };
	struct peergraph *pg;
	size_t n_signed;
	int err;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0) {
			b.quick = true;
		} else {
			fprintf(stderr, "usage: %s [--quick]\n", argv[0]);
			return 2;
		}
	}
	b.n = b.quick ? 400000 : 2000000;
	n_signed = b.quick ? 4000 : 20000;
	memset(payload, 'p', sizeof(payload));
	strcpy(b.dir, "/var/tmp/pg-bench-api-XXXXXX");
	if (!mkdtemp(b.dir))
		die("mkdtemp", -errno);
	snprintf(b.state, sizeof(b.state), "%s/state", b.dir);
	snprintf(b.sock, sizeof(b.sock), "%s/sock", b.dir);
	printf("bench-api: %s mode, %zu records of %d-byte payloads, batches of %d (%s)\n",
	       b.quick ? "quick" : "full", b.n, PAYLOAD, BATCH, b.dir);

	store = store_rate(b.n);
	printf("  %-58s %12.0f rec/s\n", "store: pg_store_put + sync (the ceiling)", store);

	daemon_start();
	if ((err = peergraph_connect(b.sock, &pg)))
		die("connect", err);
	if ((err = peergraph_graph_create(pg, "bench", NULL)) ||
	    (err = peergraph_graph_create(pg, "bench-cli", NULL)))
		die("graph create", err);
	api = api_rate(pg, "bench", b.n, BATCH);
	printf("  %-58s %12.0f rec/s  = %.2f x store\n", "api: peergraph_record_add, until durable",
	       api, api / store);
	ack_latency(pg, api / 2, b.n / 4, &p50, &p99);
	printf("  %-58s p50 %.2f ms, p99 %.2f ms\n", "ack latency at half the api rate (1024/call)",
	       p50, p99);
	if ((err = peergraph_identity_create(pg, "bench", NULL, 0, name)))
		die("identity create", err);
	sp.identity = name;
	if ((err = peergraph_graph_create(pg, "bench-signed", &sp)))
		die("signed graph create", err);
	signed_rate = api_rate(pg, "bench-signed", n_signed, 1000);
	printf("  %-58s %12.0f rec/s\n", "api, secured graph (Ed25519 per record by the daemon)",
	       signed_rate);
	cli = cli_rate(b.n / 4);
	if (cli > 0)
		printf("  %-58s %12.0f rec/s  = %.2f x api\n",
		       "cli: peergraph record add --from FILE", cli, cli / api);
	peergraph_close(pg);
	daemon_stop();
	nftw(b.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	printf("\nsummary: api_rec_s=%.0f store_rec_s=%.0f api_vs_store=%.3f cli_rec_s=%.0f "
	       "ack_p50_ms=%.2f ack_p99_ms=%.2f api_signed_rec_s=%.0f\n",
	       api, store, api / store, cli, p50, p99, signed_rate);
	return 0;
}
