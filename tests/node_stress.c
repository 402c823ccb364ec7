/*
 * node_stress.c - two nodes' dataplanes in one process, every thread at once, as TSan should
 * see them (Criterion cannot start under TSan, so this is a plain program; test-node checks
 * the same paths' results). Node A (two workers) and node B (two workers) link over loopback;
 * this thread publishes on A as the control thread would, and reads B.s
 * neighbours, status and counters while the workers flood. Every record must reach B. Bounded
 * in records and time.
 */
#include <arpa/inet.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node.h"
#include "pg_time.h"
#include "store_gen.h"

enum { RECORDS = 20000 };

struct tnode {
	struct dp_node *n;
	struct pg_store *store;
	struct dp_graph *g;
	char dir[64];
	struct sockaddr_storage addr;
	socklen_t addr_len;
};

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
	(void)sb, (void)flag, (void)f;
	return remove(p);
}

static int start(struct tnode *t, const char *name)
{
	struct dp_node_config nc = { .workers = 2, .node_id = name, .ring_bytes = 4 << 20 };
	struct sockaddr_in *in = (struct sockaddr_in *)&nc.addr;
	struct dp_graph_config gc = { .id = SG_GRAPH, .id_len = sizeof(SG_GRAPH) - 1 };
	struct pg_store_config sc;
	char msg[256];
	int err;

	snprintf(t->dir, sizeof(t->dir), "/tmp/pg-node-stress-XXXXXX");
	if (!mkdtemp(t->dir))
		return -1;
	in->sin_family = AF_INET;
	in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	nc.addr_len = sizeof(*in);
	if ((err = dp_node_create(&nc, &t->n, msg, sizeof(msg)))) {
		fprintf(stderr, "node-stress: %s\n", msg);
		return err;
	}
	dp_node_addr(t->n, &t->addr, &t->addr_len);
	pg_store_config_default(&sc);
	sc.dir = t->dir;
	sc.graph_id = SG_GRAPH;
	sc.graph_id_len = sizeof(SG_GRAPH) - 1;
	sc.direct_io = false;
	if ((err = pg_store_open(&sc, &t->store)))
		return err;
	gc.store = t->store;
	gc.limits = sc.limits;
	if ((err = dp_node_graph_add(t->n, &gc, &t->g)))
		return err;
	dp_graph_listen(t->g, true);
	return 0;
}

static void stop(struct tnode *t)
{
	dp_node_destroy(t->n);
	pg_store_close(t->store);
	nftw(t->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static uint64_t records_of(struct tnode *t)
{
	struct pg_store_stats st;

	pg_store_stats_get(t->store, &st);
	return st.records;
}

int main(void)
{
	struct tnode a = { 0 }, b = { 0 };
	struct pg_record_limits lim = { .max_record_size = PG_RECORD_SIZE_DEFAULT };
	struct dp_graph_event ev[8];
	struct dp_neighbour nb[4];
	struct dp_node_stats st;
	struct dp_graph_status gs;
	uint64_t end = pg_time_now_us() + 120000000;
	bool up = false;
	int rc = 1;

	if (start(&a, "a") || start(&b, "b"))
		goto out;
	if (dp_graph_connect(a.g, (struct sockaddr *)&b.addr, b.addr_len))
		goto out;
	while (!up && pg_time_now_us() < end) {
		unsigned k = dp_node_events(a.n, ev, 8, NULL);

		for (unsigned i = 0; i < k; i++)
			up |= ev[i].kind == DP_NEIGHBOUR_UP;
		usleep(1000);
	}
	if (!up) {
		fprintf(stderr, "node-stress: no link\n");
		goto out;
	}
	for (uint64_t i = 0; i < RECORDS && pg_time_now_us() < end; i++) {
		uint8_t buf[1024];
		struct pg_record rec;
		long len = sg_record(buf, sizeof(buf), i, 1);

		if (len < 0 || pg_record_decode(buf, (size_t)len, &lim, &rec))
			goto out;
		while (!dp_graph_room(a.g, (uint32_t)len) && pg_time_now_us() < end)
			usleep(100);
		if (pg_store_put_decoded(a.store, &rec, buf, (uint32_t)len, NULL))
			goto out;
		dp_graph_publish(a.g, &rec, buf, (uint32_t)len);
		if (i % 64 == 63 || i + 1 == RECORDS)
			dp_graph_flush(a.g);
		if (i % 1000 == 0) { /* the control thread's reads, racing the workers */
			dp_graph_neighbours(b.g, nb, 4);
			dp_graph_status(b.g, &gs);
			dp_node_stats(b.n, &st);
		}
	}
	while (records_of(&b) < RECORDS && pg_time_now_us() < end)
		usleep(10000);
	dp_node_stats(b.n, &st);
	printf("node-stress: B holds %lu of %d records (new %lu, dup %lu, refused %lu)\n",
	       (unsigned long)records_of(&b), RECORDS, (unsigned long)st.records_new,
	       (unsigned long)st.records_dup, (unsigned long)st.datagrams_refused);
	rc = records_of(&b) == RECORDS ? 0 : 1;
out:
	if (a.n)
		stop(&a);
	if (b.n)
		stop(&b);
	return rc;
}
