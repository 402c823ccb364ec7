/*
 * test_node.c - nodes' dataplanes flooding over loopback in one process (dataplane/node.h):
 * links come up through the real sockets (both io backends, one and two workers), records a
 * node publishes reach every node of a chain, whole (a 1 MiB one too), also with injected
 * loss, duplication and reordering; disconnects are reported. The daemon-level tests run the
 * same through peergraphd and the CLI; this one isolates the dataplane.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/io.h"
#include "node.h"
#include "pg_error.h"
#include "pg_time.h"
#include "store_gen.h"

enum { MAXN = 4 };

struct tnode {
	struct dp_node *n;
	struct pg_store *store;
	struct dp_graph *g;
	char dir[64];
	struct sockaddr_storage addr;
	socklen_t addr_len;
};

static struct tnode nodes[MAXN];
static unsigned nnodes;

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
	(void)sb;
	(void)flag;
	(void)f;
	return remove(p);
}

static void node_start(struct tnode *t, const char *backend, unsigned workers,
		       const struct dp_fault_config *fault, uint32_t max_record)
{
	struct dp_node_config nc = { .workers = workers, .backend = backend };
	struct sockaddr_in *in = (struct sockaddr_in *)&nc.addr;
	struct pg_store_config sc;
	struct dp_graph_config gc = { .id = SG_GRAPH, .id_len = sizeof(SG_GRAPH) - 1 };
	char msg[256], name[32];

	snprintf(t->dir, sizeof(t->dir), "/tmp/pg-node-XXXXXX");
	cr_assert_not_null(mkdtemp(t->dir));
	snprintf(name, sizeof(name), "node-%u", (unsigned)(t - nodes));
	in->sin_family = AF_INET;
	in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	nc.addr_len = sizeof(*in);
	nc.node_id = name;
	dp_link_config_default(&nc.link);
	nc.ring_bytes = 8 << 20;
	if (fault)
		nc.fault = *fault;
	cr_assert_eq(dp_node_create(&nc, &t->n, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_eq(dp_node_addr(t->n, &t->addr, &t->addr_len), 0);
	cr_assert_neq(((struct sockaddr_in *)&t->addr)->sin_port, 0);

	pg_store_config_default(&sc);
	sc.dir = t->dir;
	sc.graph_id = SG_GRAPH;
	sc.graph_id_len = sizeof(SG_GRAPH) - 1;
	sc.direct_io = false;
	sc.limits.max_record_size = max_record;
	cr_assert_eq(pg_store_open(&sc, &t->store), 0);
	gc.store = t->store;
	gc.limits = sc.limits;
	cr_assert_eq(dp_node_graph_add(t->n, &gc, &t->g), 0);
	dp_graph_listen(t->g, true);
}

static void nodes_stop(void)
{
	for (unsigned i = 0; i < nnodes; i++) {
		dp_node_destroy(nodes[i].n);
		pg_store_close(nodes[i].store);
		nftw(nodes[i].dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	}
	nnodes = 0;
}

/* Waits for an event of this kind on node t (others are skipped). */
static bool wait_event(struct tnode *t, enum dp_graph_event_kind kind, struct dp_graph_event *out,
		       uint64_t timeout_us)
{
	uint64_t end = pg_time_now_us() + timeout_us;

	while (pg_time_now_us() < end) {
		struct dp_graph_event ev[8];
		unsigned k = dp_node_events(t->n, ev, 8, NULL);

		for (unsigned i = 0; i < k; i++)
			if (ev[i].kind == kind) {
				if (out)
					*out = ev[i];
				return true;
			}
		usleep(2000);
	}
	return false;
}

static void link_up(struct tnode *a, struct tnode *b)
{
	struct dp_graph_event ev;
	struct dp_graph_status st;

	cr_assert_eq(dp_graph_connect(a->g, (struct sockaddr *)&b->addr, b->addr_len), 0);
	cr_assert(wait_event(a, DP_NEIGHBOUR_UP, &ev, 6000000), "no link up");
	cr_assert(wait_event(b, DP_NEIGHBOUR_UP, NULL, 2000000), "no link up at the listener");
	dp_graph_status(a->g, &st);
	cr_assert_geq(st.links, 1);
}

static void publish(struct tnode *t, uint64_t first, uint64_t count, uint32_t payload)
{
	static uint8_t buf[4 << 20];

	for (uint64_t i = first; i < first + count; i++) {
		struct pg_record_limits lim = { .max_record_size = 4 << 20 };
		struct pg_record rec;
		long len = sg_record(buf, sizeof(buf), i, 1);
		uint64_t end = pg_time_now_us() + 20000000;

		cr_assert_gt(len, 0);
		cr_assert_eq(pg_record_decode(buf, (size_t)len, &lim, &rec), 0);
		if (payload) { /* make it larger: a payload of this many bytes */
			static uint8_t big[4 << 20], enc[(4 << 20) + 4096];

			memset(big, (int)i, payload);
			rec.payload = big;
			rec.payload_len = payload;
			len = pg_record_encode(&rec, &lim, enc, sizeof(enc));
			cr_assert_gt(len, 0);
			memcpy(buf, enc, (size_t)len);
			cr_assert_eq(pg_record_decode(buf, (size_t)len, &lim, &rec), 0);
		}
		while (!dp_graph_room(t->g, (uint32_t)len)) {
			cr_assert_lt(pg_time_now_us(), end, "busy for 20 s");
			usleep(1000);
		}
		cr_assert_eq(pg_store_put_decoded(t->store, &rec, buf, (uint32_t)len, NULL), 0);
		dp_graph_publish(t->g, &rec, buf, (uint32_t)len);
		dp_graph_flush(t->g);
	}
}

static uint64_t records_of(struct tnode *t)
{
	struct pg_store_stats st;

	pg_store_stats_get(t->store, &st);
	return st.records;
}

static bool wait_records(struct tnode *t, uint64_t want, uint64_t timeout_us)
{
	uint64_t end = pg_time_now_us() + timeout_us;

	while (pg_time_now_us() < end) {
		if (records_of(t) >= want)
			return records_of(t) == want;
		usleep(5000);
	}
	return false;
}

/* Whether backend sends GSO runs on this host (probed as a worker's socket is). */
static bool backend_gso(const char *backend)
{
	const struct dp_io_ops *ops = dp_io_backend(backend);
	struct dp_io_config ic;
	struct dp_io_stats st;
	struct dp_io *io;

	dp_io_config_default(&ic);
	ic.bind.in.sin_family = AF_INET;
	ic.bind.in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ic.bind.len = sizeof(ic.bind.in);
	if (!ops || ops->open(&ic, &io))
		return false;
	ops->stats(io, &st);
	ops->close(io);
	return st.gso;
}

static void chain(const char *backend, unsigned workers, const struct dp_fault_config *fault)
{
	struct dp_node_stats st0;

	nnodes = 3;
	for (unsigned i = 0; i < 3; i++)
		node_start(&nodes[i], backend, workers, i == 1 ? fault : NULL, 1 << 16);
	link_up(&nodes[0], &nodes[1]);
	link_up(&nodes[2], &nodes[1]);
	publish(&nodes[0], 0, 20000, 0);
	publish(&nodes[2], 100000, 5000, 0);
	for (unsigned i = 0; i < 3; i++)
		if (!wait_records(&nodes[i], 25000, 60000000)) {
			struct dp_node_stats st;

			dp_node_stats(nodes[i].n, &st);
			cr_assert_fail(
			    "node %u holds %lu records: in %lu new %lu dup %lu stale %lu "
			    "bad %lu store %lu flooded %lu refused %lu rx %lu tx %lu",
			    i, (unsigned long)records_of(&nodes[i]), (unsigned long)st.records_in,
			    (unsigned long)st.records_new, (unsigned long)st.records_dup,
			    (unsigned long)st.records_stale, (unsigned long)st.records_bad,
			    (unsigned long)st.records_store_err, (unsigned long)st.records_flooded,
			    (unsigned long)st.datagrams_refused, (unsigned long)st.rx_datagrams,
			    (unsigned long)st.tx_datagrams);
		}
	/* bursts of full datagrams to one link leave as GSO runs, not one send each; how long
	 * the runs are depends on timing (acks and pings go alone, a window opened by a few
	 * acked datagrams sends a short run): test-link checks the burst's shape */
	dp_node_stats(nodes[0].n, &st0);
	if (backend_gso(backend))
		cr_assert_lt(st0.tx_sends, st0.tx_datagrams, "%lu sends for %lu datagrams",
			     (unsigned long)st0.tx_sends, (unsigned long)st0.tx_datagrams);
	else
		cr_assert_eq(st0.tx_sends, st0.tx_datagrams);
	nodes_stop();
}

Test(node, chain_of_three_uring_two_workers, .timeout = 120)
{
	chain("uring", 2, NULL);
}

Test(node, chain_of_three_sockets_one_worker, .timeout = 120)
{
	chain("sockets", 1, NULL);
}

Test(node, chain_of_three_uring_one_worker, .timeout = 120)
{
	chain("uring", 1, NULL);
}

Test(node, chain_of_three_sockets_two_workers, .timeout = 120)
{
	chain("sockets", 2, NULL);
}

Test(node, chain_with_loss_duplication_reordering, .timeout = 120)
{
	struct dp_fault_config f = { .drop = 0.1, .dup = 0.05, .reorder = 0.05, .seed = 7 };

	chain("uring", 2, &f);
}

Test(node, a_record_larger_than_a_datagram_floods_whole, .timeout = 120)
{
	static uint8_t raw[(1 << 20) + 4096];
	struct pg_record_limits lim = { .max_record_size = 2 << 20 };
	struct pg_record got;
	struct pg_guid id;
	size_t len;

	nnodes = 2;
	node_start(&nodes[0], "uring", 1, NULL, 2 << 20);
	node_start(&nodes[1], "uring", 2, NULL, 2 << 20);
	link_up(&nodes[0], &nodes[1]);
	publish(&nodes[0], 1, 1, 1 << 20);
	publish(&nodes[0], 2, 1, 100);
	cr_assert(wait_records(&nodes[1], 2, 30000000));
	sg_id(&id, 1);
	cr_assert_eq(pg_store_get(nodes[1].store, &id, "writer", 6, 0, raw, sizeof(raw), &len), 0);
	cr_assert_eq(pg_record_decode(raw, len, &lim, &got), 0);
	cr_assert_eq(got.payload_len, 1 << 20);
	for (uint32_t i = 0; i < got.payload_len; i++)
		cr_assert_eq(got.payload[i], 1);
	nodes_stop();
}

Test(node, disconnect_is_reported_on_both_sides, .timeout = 60)
{
	struct dp_graph_event ev;
	struct dp_neighbour nb[4];

	nnodes = 2;
	node_start(&nodes[0], "sockets", 1, NULL, 1 << 16);
	node_start(&nodes[1], "uring", 2, NULL, 1 << 16);
	link_up(&nodes[0], &nodes[1]);
	cr_assert_eq(dp_graph_neighbours(nodes[0].g, nb, 4), 1);
	cr_assert_str_eq(nb[0].node, "node-1");
	cr_assert(nb[0].initiator);
	cr_assert_eq(dp_graph_neighbours(nodes[1].g, nb, 4), 1);
	cr_assert_str_eq(nb[0].node, "node-0");
	cr_assert_eq(
	    dp_graph_disconnect(nodes[0].g, (struct sockaddr *)&nodes[1].addr, nodes[1].addr_len),
	    0);
	cr_assert(wait_event(&nodes[0], DP_NEIGHBOUR_DOWN, &ev, 2000000));
	cr_assert(wait_event(&nodes[1], DP_NEIGHBOUR_DOWN, &ev, 2000000));
	cr_assert(ev.by_peer);
	cr_assert_eq(dp_graph_neighbours(nodes[1].g, nb, 4), 0);
	cr_assert_eq(
	    dp_graph_disconnect(nodes[0].g, (struct sockaddr *)&nodes[1].addr, nodes[1].addr_len),
	    -ENOENT);
	/* connecting to a graph the peer does not listen on fails with its reason */
	dp_graph_listen(nodes[1].g, false);
	cr_assert_eq(
	    dp_graph_connect(nodes[0].g, (struct sockaddr *)&nodes[1].addr, nodes[1].addr_len), 0);
	cr_assert(wait_event(&nodes[0], DP_CONNECT_FAILED, &ev, 6000000));
	cr_assert_eq(ev.reason, DP_CLOSE_NO_GRAPH);
	nodes_stop();
}

/* A node with nothing to do sleeps: its worker wakes for the idle expiry tick
 * (DP_IDLE_TICK_US, 100 a second), not for every busy tick (1000 a second). The io
 * backend counts every system call it makes, waits included. */
Test(node, an_idle_worker_sleeps, .timeout = 60)
{
	struct dp_node_stats a, b;
	uint64_t t0, t1, wakes_per_s;

	nnodes = 1;
	node_start(&nodes[0], "uring", 1, NULL, 1 << 16);
	usleep(300000); /* past the start's first turns */
	dp_node_stats(nodes[0].n, &a);
	t0 = pg_mono_ns();
	usleep(1000000);
	dp_node_stats(nodes[0].n, &b);
	t1 = pg_mono_ns();
	/* the counters are copied every 100 ms: the span is the sleep, give or take that */
	wakes_per_s = (b.syscalls - a.syscalls) * 1000000000ull / (t1 - t0);
	cr_log_info("idle: %lu system calls a second", (unsigned long)wakes_per_s);
	cr_assert_lt(wakes_per_s, 3 * 1000000 / DP_IDLE_TICK_US, "%lu system calls a second",
		     (unsigned long)wakes_per_s);
	nodes_stop();
}
