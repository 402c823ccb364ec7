/*
 * bench_flood.c - records flooded between real peergraphd processes on loopback, beside the
 * kernel's UDP and ZeroMQ measured in the same run.
 *
 * Claims under test (targets printed beside the figures, never asserted): a 2-node open graph
 * floods >= 2 M records/s from one publisher until durable on both nodes, and >= 0.8 x
 * ZeroMQ PUSH -> PULL; the io_uring backend >= 1.2 x the sockets (reference) backend; a
 * signed 2-node graph >= 0.4 M records/s per verifying core.
 *
 * One run, in this order, one thing at a time:
 *   1. baselines (flood_base.h), before any daemon starts: kernel sendmmsg -> recvmmsg
 *      datagrams/s at 1200 B, the same with GSO/GRO, ZeroMQ PUSH -> PULL over TCP, 128 B;
 *   2. 2 nodes side by side: a pair of daemons with [dataplane] backend=sockets and a pair
 *      with backend=uring, runs alternating (sockets, uring, ...), each run on a fresh
 *      unsecured graph (flood_run.h: publisher on node 0, "stored" by the far node's COUNT,
 *      "durable" by a fence record's acknowledgement there). flood2_rec_s is the median of the
 *      uring runs (the default backend), uring_vs_ref the ratio of the two medians;
 *   3. latency on the uring pair at half flood2_rec_s (flood_lat.c);
 *   4. one profiled 2-node uring run: perf stat (else strace -c -f) on both daemons, for the
 *      system calls and each thread's CPU;
 *   5. 8 nodes, ring + CHORDS seeded chords, [dataplane] workers=1 each, to the last node;
 *   6. signed 2-node: a secured graph, each node signing with an identity the other trusts
 *      ([daemon] trust, re-read at SIGHUP); the far node's worker verifies before it stores.
 * Each daemon's CPU comes from its process CPU clock; the CPU of everything else on the host
 * during the 2-node runs is printed too (the machine is shared). Ends with one summary: line.
 *
 * usage: bench-flood [--quick] [--workers N] [--only PARTS]
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flood_base.h"
#include "flood_run.h"
#include "pg_time.h"

enum {
	N8 = 8,
	CHORDS = 3,
	CHORD_SEED = 1,
	EDGES_MAX = N8 + CHORDS,
};

static struct {
	bool quick;
	const char *only; /* comma-separated parts to run; NULL: all */
	unsigned reps, reps8, workers;
	uint64_t n2, n8, nlat, nsig;
	double base_s, deadline_s;
} b;

static const unsigned edge2[1][2] = { { 0, 1 } };

static double median(const double *v, unsigned n)
{
	double s[FLOOD_RUNS_MAX];

	if (!n)
		return NAN;
	memcpy(s, v, n * sizeof(*v));
	for (unsigned i = 1; i < n; i++) /* insertion sort: n <= FLOOD_RUNS_MAX */
		for (unsigned k = i; k > 0 && s[k - 1] > s[k]; k--) {
			double t = s[k];

			s[k] = s[k - 1];
			s[k - 1] = t;
		}
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* A summary value: "%.<prec>f", or "na" for NAN. */
static const char *fmt(char *buf, size_t len, double v, int prec)
{
	if (isnan(v))
		snprintf(buf, len, "na");
	else
		snprintf(buf, len, "%.*f", prec, v);
	return buf;
}

static const char *target(double v, double want)
{
	return isnan(v) ? "not measured" : v >= want ? "met" : "NOT met";
}

/* Busy CPU of the whole host so far (every process, kernel included), ns, from /proc/stat. */
static int64_t host_busy_ns(void)
{
	unsigned long long u, ni, sy, id, io, irq, sirq, st;
	long hz = sysconf(_SC_CLK_TCK);
	FILE *f = fopen("/proc/stat", "r");
	int got;

	if (!f)
		return -1;
	got = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &u, &ni, &sy, &id, &io, &irq,
		     &sirq, &st);
	fclose(f);
	if (got != 8 || hz <= 0)
		return -1;
	return (int64_t)((u + ni + sy + irq + sirq + st) * (1000000000ull / (unsigned long)hz));
}

static void loadavg(char *out, size_t len)
{
	FILE *f = fopen("/proc/loadavg", "r");

	out[0] = '\0';
	if (f) {
		if (fgets(out, (int)len, f))
			out[strcspn(out, "\n")] = '\0';
		fclose(f);
	}
}

/* ---- node counters: the hook for NODE_STATS ---- */

/* The part of the daemon's struct dp_node_stats (dataplane/node.h) this benchmark prints. */
enum { STAGES = 8 }; /* DP_STAGES: rx, decode, table, verify, store, take, fill, tx */
static const char *const stage_names[STAGES] = { "receive", "decode",	  "table", "verify",
						 "store",   "take (all)", "fill",  "send" };
struct node_counters {
	uint64_t syscalls, records_new, records_flooded, stage_ns[STAGES];
};

/* The node's counters through NODE_STATS. 0 or the library's error. */
static int node_counters_get(const struct fn_node *node, struct node_counters *out)
{
	struct peergraph_node_stats st;
	struct peergraph *pg;
	int err;

	memset(out, 0, sizeof(*out));
	if ((err = peergraph_connect(node->sock, &pg)))
		return err;
	err = peergraph_node_stats(pg, &st);
	peergraph_close(pg);
	if (err)
		return err;
	_Static_assert((int)STAGES == (int)PEERGRAPH_STAGES, "the stages bench-flood names");
	out->syscalls = st.syscalls;
	out->records_new = st.records_new;
	out->records_flooded = st.records_flooded;
	for (unsigned i = 0; i < STAGES; i++)
		out->stage_ns[i] = st.stage_ns[i];
	return 0;
}

/* Per-stage ns per record of node's run, from the counters before and after; false when the
 * daemon has no NODE_STATS yet. */
static bool stages_print(const char *label, const struct node_counters *a,
			 const struct node_counters *z)
{
	uint64_t recs = z->records_new - a->records_new;

	if (!recs)
		return false;
	printf("  %s: %.2f syscalls/rec;", label, (double)(z->syscalls - a->syscalls) / recs);
	for (unsigned i = 0; i < STAGES; i++)
		printf(" %s %.0f", stage_names[i],
		       (double)(z->stage_ns[i] - a->stage_ns[i]) / recs);
	printf(" ns/rec\n");
	return true;
}

/* ---- phases ---- */

static void nodes_start_timed(struct fn_node *nodes, unsigned n, const char *backend,
			      unsigned workers, const char *trust, bool timing)
{
	struct fn_node_opts o = { .trust = trust,
				  .timing = timing,
				  .backend = backend,
				  .workers = workers,
				  .max_records = 1u << 21,
				  .max_bytes = "1G" };
	char msg[FN_MSG];

	for (unsigned i = 0; i < n; i++)
		if (fn_node_start(&nodes[i], i, &o, msg, sizeof(msg)))
			flood_die("starting peergraphd", msg);
}

static void nodes_start(struct fn_node *nodes, unsigned n, const char *backend, unsigned workers,
			const char *trust)
{
	nodes_start_timed(nodes, n, backend, workers, trust, false);
}

static void nodes_stop(struct fn_node *nodes, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		fn_node_stop(&nodes[i]);
}

static void run_print(const char *label, const struct flood_run *r)
{
	if (!r->ok) {
		printf("  %-16s failed: %s\n", label, r->why);
		return;
	}
	printf("  %-16s %9.0f rec/s durable (%9.0f stored); acked on node 0 %.3f s, all "
	       "stored %.3f s, durable %.3f s; busy %llu, retransmits %llu\n",
	       label, flood_run_rate(r), (double)r->n / r->stored_s, r->pub_s, r->stored_s,
	       r->durable_s, (unsigned long long)r->busy, (unsigned long long)r->retransmits);
}

static void baselines(double *dgram, double *gso, double *zmq, double *fresh, double *warm)
{
	int err;

	printf("baselines (this run, 127.0.0.1, %.2f s each):\n", b.base_s);
	*dgram = flood_base_kernel_dgram_s(b.base_s, FLOOD_BASE_DGRAM_SIZE);
	*gso = flood_base_kernel_gso_seg_s(b.base_s, FLOOD_BASE_DGRAM_SIZE);
	*zmq =
	    flood_base_have_zmq() ? flood_base_zmq_msg_s(b.base_s, FLOOD_BASE_ZMQ_SIZE) : -ENOTSUP;
	printf("  kernel_dgram_s    UDP 1200 B sendmmsg -> recvmmsg      %12.0f dgram/s%s\n",
	       *dgram, *dgram < 0 ? " (failed)" : "");
	printf("  kernel_gso_seg_s  UDP 1200 B segments, GSO -> GRO      %12.0f seg/s%s\n", *gso,
	       *gso < 0 ? " (failed)" : "");
	if (*zmq < 0)
		printf("  zmq_msg_s         not measured: %s\n",
		       *zmq == -ENOTSUP ? "built without libzmq (libzmq3-dev)"
					: strerror((int)-*zmq));
	else
		printf("  zmq_msg_s         ZeroMQ PUSH -> PULL, TCP, 128 B     %12.0f msg/s\n",
		       *zmq);
	if ((err = flood_base_mem(256u << 20, fresh, warm))) {
		printf("  mem_fresh_mb_s    not measured: %s\n", strerror(-err));
		*fresh = *warm = NAN;
	} else {
		printf("  mem_fresh_mb_s    new anonymous memory written, 256 B copies %8.0f MB/s "
		       "(the same pages again: %.0f MB/s)\n",
		       *fresh / 1e6, *warm / 1e6);
	}
	*dgram = *dgram < 0 ? NAN : *dgram;
	*gso = *gso < 0 ? NAN : *gso;
	*zmq = *zmq < 0 ? NAN : *zmq;
}

struct two {
	struct flood_run sock[FLOOD_RUNS_MAX], uring[FLOOD_RUNS_MAX];
	double sock_rate[FLOOD_RUNS_MAX], uring_rate[FLOOD_RUNS_MAX];
	unsigned n_sock, n_uring;
	int64_t host_ns, ours_ns; /* host busy / our processes' CPU over the runs */
	double wall_s;
};

/* One 2-node uring run on daemons with [dataplane] timing on, and where each node's worker
 * time went, per record, from the daemons' own counters (NODE_STATS). Timing costs a few
 * clock reads per record: this run's rate is not one of the figures. */
static void stages_run(void)
{
	struct fn_node nodes[2];
	struct node_counters zero = { 0 }, c0, c1;
	static struct flood_run r;
	uint64_t n = b.n2 / 3;

	printf("\nper-stage worker time, one 2-node uring run with [dataplane] timing on, %llu "
	       "records (NODE_STATS; the clock reads slow it, so its rate is no figure):\n",
	       (unsigned long long)n);
	nodes_start_timed(nodes, 2, "uring", b.workers, NULL, true);
	flood_run(nodes, 2, edge2, 1, n, b.deadline_s, false, &r);
	run_print("timed run", &r);
	if (node_counters_get(&nodes[1], &c1) || node_counters_get(&nodes[0], &c0)) {
		printf("  NODE_STATS failed\n");
	} else {
		stages_print("node 1, receiving, per record stored", &zero, &c1);
		if (c0.records_flooded) {
			printf("  node 0, sending, per record flooded: fill %.0f send %.0f receive "
			       "(acks) "
			       "%.0f ns/rec; %.3f syscalls/rec\n",
			       (double)c0.stage_ns[6] / c0.records_flooded,
			       (double)c0.stage_ns[7] / c0.records_flooded,
			       (double)c0.stage_ns[0] / c0.records_flooded,
			       (double)c0.syscalls / c0.records_flooded);
		}
	}
	nodes_stop(nodes, 2);
}

/* 2-node runs, sockets and uring alternating; failed runs are printed and left out. */
static void two_nodes(struct fn_node *s, struct fn_node *u, struct two *t)
{
	int64_t h0 = host_busy_ns(), self0 = flood_self_cpu_ns();
	uint64_t w0 = pg_mono_ns();
	char label[32];

	printf("\n2 nodes, 1 link, %llu records per run, %u runs per backend alternating "
	       "(sockets = the reference; uring daemons run %s):\n",
	       (unsigned long long)b.n2, b.reps, u[0].backend);
	printf("  (\"stored\": the far node's graph COUNT, records stored, polled every %d us; "
	       "\"durable\": once every node holds them, a fence record added on each far node "
	       "is acknowledged, which makes its store durable up to it: an upper bound, by up "
	       "to one group commit)\n",
	       FLOOD_POLL_US);
	for (unsigned i = 0; i < b.reps; i++) {
		struct flood_run *r = &t->sock[i];

		flood_run(s, 2, edge2, 1, b.n2, b.deadline_s, false, r);
		snprintf(label, sizeof(label), "sockets run %u", i + 1);
		run_print(label, r);
		if (r->ok)
			t->sock_rate[t->n_sock++] = flood_run_rate(r);
		r = &t->uring[i];
		flood_run(u, 2, edge2, 1, b.n2, b.deadline_s, false, r);
		snprintf(label, sizeof(label), "uring run %u", i + 1);
		run_print(label, r);
		if (r->ok)
			t->uring_rate[t->n_uring++] = flood_run_rate(r);
	}
	t->wall_s = (double)(pg_mono_ns() - w0) / 1e9;
	t->host_ns = host_busy_ns() - h0;
	t->ours_ns = flood_self_cpu_ns() - self0;
	for (unsigned i = 0; i < b.reps; i++)
		for (unsigned k = 0; k < 2; k++)
			t->ours_ns += t->sock[i].cpu_ns[k] + t->uring[i].cpu_ns[k];
}

/* Resident memory growth and minor page faults per record on each of the 2 nodes, over the
 * ok uring runs: what a record costs in new memory. */
static void mem_per_rec(const struct two *t, double rss[2], double flt[2])
{
	double recs = 0;

	rss[0] = rss[1] = flt[0] = flt[1] = 0;
	for (unsigned i = 0; i < b.reps; i++) {
		const struct flood_run *r = &t->uring[i];

		if (!r->ok || r->rss_bytes[0] < 0 || r->rss_bytes[1] < 0)
			continue;
		for (unsigned k = 0; k < 2; k++) {
			rss[k] += (double)r->rss_bytes[k];
			flt[k] += (double)r->minflt[k];
		}
		recs += (double)r->n;
	}
	for (unsigned k = 0; k < 2; k++) {
		rss[k] = recs ? rss[k] / recs : NAN;
		flt[k] = recs ? flt[k] / recs : NAN;
	}
}

/* CPU per record per node over the ok uring runs: [0] publisher's node, [1] far node,
 * [2] this process (publisher and watchers). */
static void cpu_per_rec(const struct two *t, double out[3])
{
	double cpu[3] = { 0 }, recs = 0;

	for (unsigned i = 0; i < b.reps; i++) {
		const struct flood_run *r = &t->uring[i];

		if (!r->ok)
			continue;
		cpu[0] += (double)r->cpu_ns[0];
		cpu[1] += (double)r->cpu_ns[1];
		cpu[2] += (double)r->client_cpu_ns;
		recs += (double)r->n;
	}
	for (unsigned i = 0; i < 3; i++)
		out[i] = recs ? cpu[i] / recs : NAN;
}

static const char *thread_role(const struct fn_prof *p, unsigned i)
{
	const struct fn_thread_prof *t = &p->t[i];

	if (t->tid == p->target)
		return "control (API, adds, publish)";
	if (!strncmp(t->comm, "iou-", 4))
		return "io_uring kernel worker";
	if (!strncmp(t->comm, "pg-worker-", 10))
		return "dataplane worker";
	if (!strcmp(t->comm, "pg-commit"))
		return "store committer";
	if (!strcmp(t->comm, "pg-compact"))
		return "store compactor";
	return t->comm;
}

/* The host's UDP counters (/proc/net/snmp; every process's): datagrams out, in, and dropped
 * for a full receive buffer. false when they cannot be read. */
static bool udp_snmp(uint64_t v[3])
{
	char line[512];
	bool head = false;
	FILE *f = fopen("/proc/net/snmp", "r");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long in, noport, inerr, out, rcvbuf;

		if (strncmp(line, "Udp: ", 5))
			continue;
		if (!head) {
			head = true; /* the names: InDatagrams NoPorts InErrors OutDatagrams ... */
			continue;
		}
		if (sscanf(line + 5, "%llu %llu %llu %llu %llu", &in, &noport, &inerr, &out,
			   &rcvbuf) != 5)
			break;
		v[0] = out, v[1] = in, v[2] = rcvbuf;
		fclose(f);
		return true;
	}
	fclose(f);
	return false;
}

/* The thread's most frequent system calls (those perf counts by name), per record. */
static void calls_print(const struct fn_thread_prof *t, uint64_t n)
{
	bool used[FN_CALLS_N] = { false };

	for (unsigned k = 0; k < 3; k++) {
		unsigned best = FN_CALLS_N;

		for (unsigned i = 0; i < FN_CALLS_N; i++)
			if (!used[i] && t->calls[i] &&
			    (best == FN_CALLS_N || t->calls[i] > t->calls[best]))
				best = i;
		if (best == FN_CALLS_N)
			break;
		used[best] = true;
		printf("%s %s %.3f", k ? "," : ":", fn_call_names[best],
		       (double)t->calls[best] / (double)n);
	}
	printf("\n");
}

/* One profiled uring run; syscalls per record per node: [0] node 0, [1] node 1. */
static void profiled(struct fn_node *u, double sys_per_rec[2])
{
	static struct flood_run r;
	uint64_t udp0[3], udp1[3];
	bool have_udp;
	double wall;

	sys_per_rec[0] = sys_per_rec[1] = NAN;
	if (!fn_prof_tool()) {
		printf("\nsystem calls: neither perf nor strace is installed: not measured\n");
		return;
	}
	printf("\nprofiled 2-node uring run (%s attached to both daemons; it slows them):\n",
	       fn_prof_tool());
	have_udp = udp_snmp(udp0);
	flood_run(u, 2, edge2, 1, b.n2, b.deadline_s, true, &r);
	have_udp = udp_snmp(udp1) && have_udp;
	run_print("profiled run", &r);
	if (!r.ok)
		return;
	if (have_udp)
		printf(
		    "  UDP on the host meanwhile (/proc/net/snmp, every process): %llu sends (DATA "
		    "and ACKs, both nodes; a GSO run of datagrams counts once) = %.2f records per "
		    "send; %llu received (a GRO run once), %llu dropped for a full receive "
		    "buffer\n",
		    (unsigned long long)(udp1[0] - udp0[0]),
		    (double)r.n / (double)(udp1[0] - udp0[0] ? udp1[0] - udp0[0] : 1),
		    (unsigned long long)(udp1[1] - udp0[1]),
		    (unsigned long long)(udp1[2] - udp0[2]));
	wall = r.durable_s * 1000;
	for (unsigned k = 0; k < 2; k++) {
		const struct fn_prof *p = &r.prof[k];

		sys_per_rec[k] = (double)p->syscalls / (double)r.n;
		printf("  node %u (pid %d): %llu system calls = %.3f per record\n", k,
		       (int)p->target, (unsigned long long)p->syscalls, sys_per_rec[k]);
		for (unsigned i = 0; i < p->n; i++) {
			const struct fn_thread_prof *t = &p->t[i];

			if (t->cpu_ms < 1 && t->syscalls < 100)
				continue;
			printf("    tid %-7d %-46s cpu %7.1f ms (%3.0f%% of the run; user %.0f, "
			       "sys %.0f) syscalls %9llu (%.3f/rec)",
			       (int)t->tid, thread_role(p, i), t->cpu_ms, 100 * t->cpu_ms / wall,
			       t->user_ms, t->sys_ms, (unsigned long long)t->syscalls,
			       (double)t->syscalls / (double)r.n);
			calls_print(t, r.n);
		}
	}
}

/* Ring 0-1-..-7-0 and CHORDS chords drawn with a fixed seed (no duplicates, no ring edge). */
static unsigned topology8(unsigned (*e)[2])
{
	uint32_t x = CHORD_SEED * 2654435761u + 1;
	unsigned n = 0;

	for (unsigned i = 0; i < N8; i++) {
		e[n][0] = i;
		e[n++][1] = (i + 1) % N8;
	}
	for (unsigned tries = 0; n < N8 + CHORDS && tries < 1000; tries++) {
		unsigned a, c;
		bool dup = false;

		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		a = x % N8;
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		c = x % N8;
		for (unsigned k = 0; k < n; k++)
			dup |= (e[k][0] == a && e[k][1] == c) || (e[k][0] == c && e[k][1] == a);
		if (a == c || dup)
			continue;
		e[n][0] = a;
		e[n++][1] = c;
	}
	return n;
}

static double eight_nodes(void)
{
	static struct flood_run r[FLOOD_RUNS_MAX];
	struct fn_node nodes[N8];
	unsigned e[EDGES_MAX][2], ne = topology8(e);
	double rates[FLOOD_RUNS_MAX];
	unsigned ok = 0;
	char label[32];

	printf("\n8 nodes ([dataplane] workers=1 each, backend uring), edges:");
	for (unsigned i = 0; i < ne; i++)
		printf(" %u-%u", e[i][0], e[i][1]);
	printf(" (ring + %u chords, seed %d); %llu records, publisher on node 0, timed to the "
	       "last node:\n",
	       CHORDS, CHORD_SEED, (unsigned long long)b.n8);
	nodes_start(nodes, N8, "uring", 1, NULL);
	for (unsigned i = 0; i < b.reps8; i++) {
		flood_run(nodes, N8, (const unsigned(*)[2])e, ne, b.n8, b.deadline_s, false, &r[i]);
		snprintf(label, sizeof(label), "8-node run %u", i + 1);
		run_print(label, &r[i]);
		if (r[i].ok)
			rates[ok++] = flood_run_rate(&r[i]);
	}
	nodes_stop(nodes, N8);
	return median(rates, ok);
}

/* A secured graph on 2 uring nodes, each signing for it with an identity of its own that the
 * other trusts: node 0's daemon signs each batch frame as a Merkle bundle, node 1's worker
 * verifies before it stores. Records/s until durable on both (median), or NAN. */
static double signed_two(void)
{
	static struct flood_run r[FLOOD_RUNS_MAX];
	struct fn_node nodes[2];
	double rates[FLOOD_RUNS_MAX];
	char trust[FN_PATH], msg[FN_MSG], label[32];
	unsigned ok = 0;
	FILE *f;

	snprintf(trust, sizeof(trust), "%s/trust", fn_dir());
	if (!(f = fopen(trust, "w")) || fclose(f) != 0)
		flood_die(trust, strerror(errno));
	nodes_start(nodes, 2, "uring", b.workers, trust);
	for (unsigned i = 0; i < 2; i++) {
		struct peergraph *pg;
		char cls[16];
		int err;

		snprintf(cls, sizeof(cls), "bench%u", i);
		if ((err = peergraph_connect(nodes[i].sock, &pg)) ||
		    (err = peergraph_identity_create(pg, cls, NULL, 0, nodes[i].identity)))
			flood_die("identity create", peergraph_strerror(err));
		peergraph_close(pg);
	}
	if (fn_trust_all(nodes, 2, trust, msg, sizeof(msg)))
		flood_die("trusting the identities", msg);
	printf("\nsigned 2-node graph (uring, [dataplane] workers=%u; each node signs for it with "
	       "an identity the other trusts; node 0 signs each frame of 1024 as one Merkle "
	       "bundle, node 1 verifies before it stores), %llu records:\n",
	       b.workers, (unsigned long long)b.nsig);
	for (unsigned i = 0; i < b.reps8; i++) {
		flood_run(nodes, 2, edge2, 1, b.nsig, b.deadline_s, false, &r[i]);
		snprintf(label, sizeof(label), "signed run %u", i + 1);
		run_print(label, &r[i]);
		if (r[i].ok) {
			rates[ok++] = flood_run_rate(&r[i]);
			printf("  %-16s node 1 (verifies, stores) %.0f ns CPU per record = at most "
			       "%.0f rec/s on one core; node 0 (signs) %.0f ns\n",
			       "", (double)r[i].cpu_ns[1] / (double)r[i].n,
			       1e9 * (double)r[i].n / (double)r[i].cpu_ns[1],
			       (double)r[i].cpu_ns[0] / (double)r[i].n);
		}
	}
	nodes_stop(nodes, 2);
	return median(rates, ok);
}

/* The copies a record's payload takes, counted from the code path (not measured). */
static void copies_print(void)
{
	printf("\npayload copies per record, counted from the code path (not measured):\n"
	       "  publisher's node: API frame -> re-encode (graphs.c encode) -> store arena -> "
	       "version-table body (dp_graph_publish) -> API flood ring -> each link's window "
	       "slot = 4 + 1 per link, then the kernel's copy into the socket\n"
	       "  receiving node:   kernel -> rx buffer -> store arena -> version-table body "
	       "(take_record) -> worker flood ring -> each other link's window slot = 3 + 1 per "
	       "onward link\n");
}

static const char *const parts[] = {
	"base", "flood2", "lat", "stages", "prof", "flood8", "signed"
};

static void usage(FILE *f)
{
	fprintf(f, "usage: bench-flood [--quick] [--workers N] [--only PARTS]\n"
		   "  --quick: under a minute; --workers: [dataplane] workers of the 2-node "
		   "daemons (default 1; the 8-node daemons always run 1)\n"
		   "  --only: run only these parts, comma-separated, of: base (kernel and ZeroMQ "
		   "baselines), flood2, lat, stages, prof, flood8, signed (default: all; the "
		   "summary says na for what did not run)\n");
}

/* Whether the part called name runs (--only). */
static bool part(const char *name)
{
	size_t n = strlen(name);

	for (const char *p = b.only; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (!strncmp(p, name, n) && (p[n] == ',' || p[n] == '\0'))
			return true;
	return !b.only;
}

static bool parts_valid(const char *list)
{
	for (const char *p = list; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
		size_t n = strcspn(p, ",");
		bool known = false;

		for (unsigned i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
			known |= strlen(parts[i]) == n && !strncmp(p, parts[i], n);
		if (!known)
			return false;
	}
	return true;
}

static void args(int argc, char **argv)
{
	b.workers = 1;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick")) {
			b.quick = true;
		} else if (!strcmp(argv[i], "--workers") && i + 1 < argc) {
			b.workers = (unsigned)atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--only") && i + 1 < argc) {
			b.only = argv[++i];
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			exit(0);
		} else {
			usage(stderr);
			exit(2);
		}
	}
	if (b.workers < 1 || b.workers > 8) {
		fprintf(stderr, "bench-flood: --workers: 1..8\n");
		exit(2);
	}
	if (b.only && !parts_valid(b.only)) {
		fprintf(stderr, "bench-flood: --only %s: unknown part\n", b.only);
		usage(stderr);
		exit(2);
	}
	b.reps = b.quick ? 3 : 5;
	b.reps8 = b.quick ? 1 : 3;
	b.n2 = b.quick ? 300000 : 1000000;
	b.n8 = b.quick ? 100000 : 400000;
	b.nlat = b.quick ? 100000 : 400000;
	b.nsig = b.quick ? 100000 : 400000;
	b.base_s = b.quick ? 0.5 : 3;
	b.deadline_s = b.quick ? 20 : 60;
}

int main(int argc, char **argv)
{
	static struct two t;
	struct fn_node s[2], u[2];
	struct flood_lat lat;
	double dgram, gso, zmq, f2, f8, sig, ratio, cpu[3], sys[2], ns_rec, sys_rec, fresh, warm,
	    rss[2], flt[2], rss_rec;
	char la[128], v[15][32];
	int err;

	args(argc, argv);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((err = fn_init("/var/tmp")))
		flood_die("temporary directory", strerror(-err));
	fn_watchdog(b.quick ? 300 : 1800);
	loadavg(la, sizeof(la));
	printf("bench-flood: %s mode; 128-byte payloads, batches of %d; 2-node daemons "
	       "[dataplane] workers=%u; %ld CPUs; load average at start: %s; %s\n",
	       b.quick ? "quick" : "full", FLOOD_BATCH, b.workers, sysconf(_SC_NPROCESSORS_ONLN),
	       la, fn_dir());
	dgram = gso = zmq = f2 = f8 = sig = ratio = ns_rec = sys_rec = fresh = warm = rss_rec = NAN;
	lat.ok = false;
	if (part("base"))
		baselines(&dgram, &gso, &zmq, &fresh, &warm);
	if (part("flood2") || part("lat") || part("prof"))
		nodes_start(u, 2, "uring", b.workers, NULL);
	if (part("flood2")) {
		nodes_start(s, 2, "sockets", b.workers, NULL);
		two_nodes(s, u, &t);
		nodes_stop(s, 2);
		f2 = median(t.uring_rate, t.n_uring);
		ratio = f2 / median(t.sock_rate, t.n_sock);
		if (strcmp(u[0].backend, "uring"))
			ratio =
			    NAN; /* the uring daemons fell back to sockets: nothing to compare */
		cpu_per_rec(&t, cpu);
		printf("  flood2_rec_s  %12.0f rec/s  median of %u uring runs, durable on both "
		       "nodes   target >= 2 M/s: %s\n",
		       f2, t.n_uring, target(f2, 2e6));
		printf("  flood2_vs_zmq %12.3f        target >= 0.8: %s\n", f2 / zmq,
		       target(f2 / zmq, 0.8));
		printf(
		    "  uring_vs_ref  %12.3f        median uring / median sockets (%u runs each)   "
		    "target >= 1.2: %s\n",
		    ratio, b.reps, target(ratio, 1.2));
		printf(
		    "  CPU per record, uring runs: node 0 (API + send) %.0f ns, node 1 (receive + "
		    "store) %.0f ns, this process (publisher, pollers) %.0f ns\n",
		    cpu[0], cpu[1], cpu[2]);
		printf(
		    "  the host during these runs: %.2f CPUs busy on average, %.2f of them outside "
		    "this benchmark and its daemons (other jobs)\n",
		    (double)t.host_ns / 1e9 / t.wall_s,
		    (double)(t.host_ns - t.ours_ns) / 1e9 / t.wall_s);
		ns_rec = (cpu[0] + cpu[1]) / 2;
		printf(
		    "  ns_per_rec    %12.0f ns     daemon CPU per record per node, mean of node 0 "
		    "and node 1 (process CPU clocks over the uring runs)\n",
		    ns_rec);
		mem_per_rec(&t, rss, flt);
		rss_rec = (rss[0] + rss[1]) / 2;
		printf(
		    "  rss_per_rec   %12.0f B      new resident memory per record per node (node 0 "
		    "%.0f B, %.2f page faults; node 1 %.0f B, %.2f page faults)",
		    rss_rec, rss[0], flt[0], rss[1], flt[1]);
		if (!isnan(fresh))
			printf(
			    "; written at this host's fresh-memory rate that alone is %.0f ns per "
			    "record per node",
			    rss_rec / fresh * 1e9);
		printf("\n");
	}
	if (part("lat")) {
		flood_latency(u, b.nlat, isnan(f2) ? 1e5 : f2 / 2, b.deadline_s, &lat);
		printf(
		    "\nlatency, add on node 0 -> ADDED event on node 1 (CLOCK_MONOTONIC stamp in "
		    "the payload; batches of 256 from 4 connections):\n");
		if (lat.ok)
			printf(
			    "  offered %.0f rec/s (asked %.0f = half flood2_rec_s): p50 %.2f ms, "
			    "p99 %.2f ms, max %.2f ms over %llu records (%llu sent, %llu events "
			    "lost)\n",
			    lat.offered_s, lat.target_s, lat.p50_ms, lat.p99_ms, lat.max_ms,
			    (unsigned long long)lat.seen, (unsigned long long)lat.sent,
			    (unsigned long long)lat.lost);
		else
			printf("  failed: %s\n", lat.why);
	}
	if (part("stages"))
		stages_run();
	if (part("prof")) {
		profiled(u, sys);
		sys_rec = (sys[0] + sys[1]) / 2;
		printf(
		    "  syscalls_per_rec %9.3f        per record per node, mean of node 0 and node "
		    "1 (profiled run)\n",
		    sys_rec);
	}
	if (part("flood2") || part("lat") || part("prof"))
		nodes_stop(u, 2);
	if (part("flood2"))
		copies_print();
	if (part("flood8")) {
		f8 = eight_nodes();
		printf("  flood8_rec_s  %12.0f rec/s  median of %u, durable on all 8 nodes\n", f8,
		       b.reps8);
	}
	if (part("signed")) {
		sig = signed_two();
		printf("  signed2_rec_s %12.0f rec/s  median of %u, durable on both; per verifying "
		       "core (node 1's %u worker%s) %.0f   target >= 0.4 M/s per verifying core: "
		       "%s\n",
		       sig, b.reps8, b.workers, b.workers == 1 ? "" : "s", sig / b.workers,
		       target(sig / b.workers, 4e5));
	}
	loadavg(la, sizeof(la));
	printf("load average at the end: %s\n", la);
	printf("\nsummary: kernel_dgram_s=%s kernel_gso_seg_s=%s zmq_msg_s=%s flood2_rec_s=%s "
	       "flood2_vs_zmq=%s flood8_rec_s=%s signed2_rec_s=%s uring_vs_ref=%s "
	       "lat_p50_ms=%s lat_p99_ms=%s ns_per_rec=%s syscalls_per_rec=%s "
	       "lat_offered_rec_s=%s rss_per_rec=%s mem_fresh_mb_s=%s\n",
	       fmt(v[0], 32, dgram, 0), fmt(v[1], 32, gso, 0), fmt(v[2], 32, zmq, 0),
	       fmt(v[3], 32, f2, 0), fmt(v[4], 32, f2 / zmq, 3), fmt(v[5], 32, f8, 0),
	       fmt(v[12], 32, sig, 0), fmt(v[6], 32, ratio, 3),
	       fmt(v[7], 32, lat.ok ? lat.p50_ms : NAN, 2),
	       fmt(v[8], 32, lat.ok ? lat.p99_ms : NAN, 2), fmt(v[9], 32, ns_rec, 0),
	       fmt(v[10], 32, sys_rec, 3), fmt(v[11], 32, lat.ok ? lat.offered_s : NAN, 0),
	       fmt(v[13], 32, rss_rec, 0), fmt(v[14], 32, fresh / 1e6, 0));
	return 0;
}
