/*
 * flood_fixture.h - networks of real peergraphd processes on 127.0.0.1 for the flooding
 * tests (test_flood.c, test_flood_raw.c): start N daemons (each its own state, socket, node
 * name and dataplane port, learned through NODE_STATS), open one unsecured graph on each,
 * link them, publish numbered records through libpeergraph, and compare what every node
 * holds by a digest of its sorted (record id, creator, version, payload hash) list.
 *
 * Unsecured graphs: the point is the flood, and signing and verifying 6000 records on 8 nodes
 * would cost seconds of CPU on 2 cores without testing anything the unit tests do not.
 */
#ifndef PG_FLOOD_FIXTURE_H
#define PG_FLOOD_FIXTURE_H

#include <stdint.h>
#include <time.h>

#include "daemon_fixture.h"
#include "pg_assert.h"
#include "sanitizers.h"

enum {
	NODES_MAX = 8,
	PAYLOAD_LEN = 128,
	BATCH = 256,	    /* records per add call */
	POLL_MS = 50,	    /* between two looks at a node that is catching up */
	SETTLE_MS = 200,    /* a last look after counters stopped moving */
	SET_PAIRS_MAX = 11, /* "--set" "k=v" pairs to a daemon (the fixture passes 22 words) */
};

#define GRAPH "flood"

/* One daemon of the network. */
struct fnode {
	struct pgd_proc d;
	struct peergraph *pg;
	char addr[PEERGRAPH_ADDRESS_SIZE]; /* its dataplane's bound address */
	char creator[32];		   /* its node name: the creator of what it publishes */
};

/* What a publisher got acknowledged: enough to compute the digest every node must reach. */
struct fack {
	struct peergraph_guid id;
	uint64_t creator; /* hash of the creator's name */
	uint64_t payload; /* hash of the payload */
};

struct facks {
	struct fack *a;
	size_t n, cap;
};

static struct fnode fnodes[NODES_MAX];

static inline uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static inline void sleep_ms(unsigned ms)
{
	usleep(ms * 1000u);
}

/* FNV-1a, 64 bits: the digests' hash (a test's, collisions do not matter here). */
static inline uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}
#define FNV_INIT 0xcbf29ce484222325ull

/* Starts node i: its node name 0.node<i>, node id node<i>, a log level that does not log per
 * record, then the test's --set values (NULL-ended; "k=v" strings). Learns its address. */
static inline void fnode_start(unsigned i, const char *const *sets)
{
	struct fnode *n = &fnodes[i];
	const char *argv[2 * SET_PAIRS_MAX + 1];
	char name[64], id[48];
	struct peergraph_node_stats st;
	struct pgd_proc dir;
	unsigned k = 0;

	cr_assert_lt(i, NODES_MAX);
	snprintf(n->creator, sizeof(n->creator), "0.node%u", i);
	snprintf(name, sizeof(name), "daemon.node_name=%s", n->creator);
	snprintf(id, sizeof(id), "dataplane.node_id=node%u", i);
	const char *const ours[] = {
		name,
		id,
		"daemon.log_level=info",
		/* the version table is sized by it and zeroed at open: 1 Mi slots would be
		 * 64 MiB resident in each daemon */
		"store.max_records=262144",
	};

	for (size_t j = 0; j < PG_ARRAY_SIZE(ours); j++) {
		argv[k++] = "--set";
		argv[k++] = ours[j];
	}
	for (; sets && *sets; sets++) {
		cr_assert_leq(k + 2, 2 * SET_PAIRS_MAX, "too many --set for the fixture");
		argv[k++] = "--set";
		argv[k++] = *sets;
	}
	argv[k] = NULL;
	pgd_dir(&dir); /* a local first: gcc's -Wrestrict sees fnodes[i] overlap itself */
	n->d = dir;
	pgd_start_args(&n->d, argv);
	n->pg = pgd_connect(&n->d);
	cr_assert_eq(peergraph_node_stats(n->pg, &st), 0);
	cr_assert(strncmp(st.address, "127.0.0.1:", 10) == 0 && strcmp(st.address + 10, "0"),
		  "node %u: dataplane address '%s'", i, st.address);
	memcpy(n->addr, st.address, sizeof(n->addr));
}

/* Stops every daemon the test started (Criterion's fini). */
static inline void fnodes_fini(void)
{
	for (unsigned i = 0; i < NODES_MAX; i++) {
		peergraph_close(fnodes[i].pg);
		fnodes[i].pg = NULL;
		pgd_cleanup(&fnodes[i].d);
	}
}

/* The graph on node i, listening. */
static inline void fnode_graph(unsigned i, uint32_t max_record_size)
{
	struct peergraph_graph_props props = { .flags = PEERGRAPH_GRAPH_UNSECURED,
					       .max_record_size = max_record_size };

	cr_assert_eq(peergraph_graph_create(fnodes[i].pg, GRAPH, &props), 0, "node %u: %s", i,
		     peergraph_last_message(fnodes[i].pg));
	cr_assert_eq(peergraph_graph_listen(fnodes[i].pg, GRAPH, true), 0);
}

static inline void fnode_connect(unsigned from, unsigned to)
{
	int err = peergraph_graph_connect(fnodes[from].pg, GRAPH, fnodes[to].addr, NULL);

	cr_assert_eq(err, 0, "connect %u -> %u: %s (%s)", from, to, peergraph_strerror(err),
		     peergraph_last_message(fnodes[from].pg));
}

static inline unsigned fnode_links(unsigned i)
{
	struct peergraph_graph_status st;

	cr_assert_eq(peergraph_graph_status(fnodes[i].pg, GRAPH, &st), 0);
	return st.links;
}

static inline uint64_t fnode_records(unsigned i)
{
	struct peergraph_graph_status st;

	cr_assert_eq(peergraph_graph_status(fnodes[i].pg, GRAPH, &st), 0);
	return st.records;
}

/* Waits (10 s) until node i has `want` links up. */
static inline void fnode_wait_links(unsigned i, unsigned want)
{
	uint64_t end = now_ms() + 10000;
	unsigned got;

	while ((got = fnode_links(i)) != want && now_ms() < end)
		sleep_ms(POLL_MS);
	cr_assert_eq(got, want, "node %u: %u links, wanted %u", i, got, want);
}

/* Record seq of publisher who: its payload (the same bytes every time). */
static inline void payload_of(unsigned who, size_t seq, uint8_t out[PAYLOAD_LEN])
{
	int n = snprintf((char *)out, PAYLOAD_LEN, "node %u record %zu ", who, seq);

	for (size_t i = (size_t)n; i < PAYLOAD_LEN; i++)
		out[i] = (uint8_t)(seq * 31 + i * 7 + who);
}

static inline void facks_add(struct facks *f, const struct peergraph_guid *id, uint64_t creator,
			     const uint8_t *payload, size_t len)
{
	if (f->n == f->cap) {
		f->cap = f->cap ? 2 * f->cap : 4096;
		f->a = realloc(f->a, f->cap * sizeof(*f->a));
		cr_assert_not_null(f->a);
	}
	f->a[f->n++] = (struct fack){ *id, creator, fnv(FNV_INIT, payload, len) };
}

/*
 * Adds records seq first .. first + n - 1 of publisher who in batches of BATCH; records the
 * node answers busy are sent again after a pause when retry, else left out (the publisher
 * "acts on busy" by slowing down: 1 ms). Every record acknowledged goes to acks. Returns the
 * number of busy answers; stops early (leaving the rest) once stop_ms (monotonic, 0: never)
 * has passed, and calls sample (may be NULL) after every batch.
 */
static inline uint64_t fnode_publish(unsigned who, size_t first, size_t n, bool retry,
				     uint64_t stop_ms, struct facks *acks, void (*sample)(void),
				     size_t *published)
{
	static uint8_t payload[BATCH][PAYLOAD_LEN];
	static struct peergraph_record r[BATCH];
	static const struct peergraph_guid type = { { 0xf1, 0x00, 0xd0 } };
	static int res[BATCH];
	uint64_t creator = fnv(FNV_INIT, fnodes[who].creator, strlen(fnodes[who].creator));
	uint64_t busy = 0;
	size_t done = 0;

	while (done < n && (!stop_ms || now_ms() < stop_ms)) {
		size_t m = n - done < BATCH ? n - done : BATCH, batch = m;
		uint64_t busy_before = busy;

		memset(r, 0, sizeof(r));
		for (size_t i = 0; i < m; i++) {
			payload_of(who, first + done + i, payload[i]);
			r[i].type = type;
			r[i].payload = payload[i];
			r[i].payload_len = PAYLOAD_LEN;
		}
		for (;;) { /* the batch, then (retry) its busy records until none is left */
			long added = peergraph_record_add(fnodes[who].pg, GRAPH, r, m, res);
			size_t k = 0;

			cr_assert_geq(added, 0, "node %u: add: %s", who,
				      peergraph_strerror((int)added));
			for (size_t i = 0; i < m; i++) {
				if (res[i] == 0) {
					facks_add(acks, &r[i].id, creator, r[i].payload,
						  PAYLOAD_LEN);
					continue;
				}
				cr_assert_eq(res[i], PEERGRAPH_E_BUSY, "node %u: record: %s", who,
					     peergraph_strerror(res[i]));
				busy++;
				if (retry) { /* kept, with the id the library wrote, for next round
					      */
					r[k] = r[i];
					memmove(payload[k], r[i].payload, PAYLOAD_LEN);
					r[k].payload = payload[k];
					k++;
				}
			}
			if (sample)
				sample();
			if (!retry || !k)
				break;
			m = k;
			sleep_ms(1);
		}
		if (busy != busy_before && !retry)
			sleep_ms(1); /* acting on busy: publishing more slowly */
		done += batch;
	}
	if (published)
		*published = done;
	return busy;
}

struct fdigest_entry {
	uint8_t id[16];
	uint64_t creator, payload;
	uint32_t version;
};

static inline int entry_cmp(const void *a, const void *b)
{
	const struct fdigest_entry *x = a, *y = b;
	int c = memcmp(x->id, y->id, 16);

	if (c)
		return c;
	return x->creator < y->creator ? -1 : x->creator > y->creator;
}

static inline uint64_t entries_digest(struct fdigest_entry *e, size_t n)
{
	uint64_t h = FNV_INIT;

	qsort(e, n, sizeof(*e), entry_cmp);
	for (size_t i = 0; i < n; i++) {
		h = fnv(h, e[i].id, 16);
		h = fnv(h, &e[i].creator, 8);
		h = fnv(h, &e[i].version, 4);
		h = fnv(h, &e[i].payload, 8);
	}
	return fnv(h, &n, sizeof(n));
}

struct enum_ctx {
	struct fdigest_entry *e;
	size_t n, cap;
};

static inline int enum_one(void *ctx, const struct peergraph_record *rec)
{
	struct enum_ctx *c = ctx;

	if (c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 4096;
		c->e = realloc(c->e, c->cap * sizeof(*c->e));
		if (!c->e)
			return 1;
	}
	memcpy(c->e[c->n].id, rec->id.b, 16);
	c->e[c->n].creator = fnv(FNV_INIT, rec->creator, strlen(rec->creator));
	c->e[c->n].payload = fnv(FNV_INIT, rec->payload, rec->payload_len);
	c->e[c->n].version = rec->version;
	c->n++;
	return 0;
}

/* Node i's digest: every record of the graph through the API, sorted, hashed. */
static inline uint64_t fnode_digest(unsigned i, size_t *count)
{
	struct enum_ctx c = { 0 };
	long n = peergraph_record_enum(fnodes[i].pg, GRAPH, NULL, NULL, 0, enum_one, &c);
	uint64_t d;

	cr_assert_geq(n, 0, "node %u: enumerate: %s", i, peergraph_strerror((int)n));
	cr_assert_eq((size_t)n, c.n);
	d = entries_digest(c.e, c.n);
	free(c.e);
	if (count)
		*count = (size_t)n;
	return d;
}

/* The digest a node holding exactly the acknowledged records has (version 1 each). */
static inline uint64_t facks_digest(const struct facks *f)
{
	struct fdigest_entry *e = calloc(f->n ? f->n : 1, sizeof(*e));
	uint64_t d;

	cr_assert_not_null(e);
	for (size_t i = 0; i < f->n; i++) {
		memcpy(e[i].id, f->a[i].id.b, 16);
		e[i].creator = f->a[i].creator;
		e[i].payload = f->a[i].payload;
		e[i].version = 1;
	}
	d = entries_digest(e, f->n);
	free(e);
	return d;
}

/* Waits (timeout_ms) until nodes 0 .. n - 1 hold `want` records each, then checks that every
 * one's digest is the acknowledged set's. */
static inline void fnodes_converge(unsigned n, const struct facks *acks, unsigned timeout_ms)
{
	uint64_t end = now_ms() + timeout_ms, want = facks_digest(acks);

	for (unsigned i = 0; i < n; i++) {
		uint64_t got;

		while ((got = fnode_records(i)) < acks->n && now_ms() < end)
			sleep_ms(POLL_MS);
		cr_assert_eq(got, acks->n, "node %u holds %llu records, wanted %zu after %u ms", i,
			     (unsigned long long)got, acks->n, timeout_ms);
	}
	for (unsigned i = 0; i < n; i++) {
		size_t count;
		uint64_t d = fnode_digest(i, &count);

		cr_expect_eq(count, acks->n, "node %u: %zu records enumerated", i, count);
		cr_expect_eq(d, want, "node %u: digest %016llx, the publishers' %016llx", i,
			     (unsigned long long)d, (unsigned long long)want);
	}
}

#endif
