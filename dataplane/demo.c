/*
 * demo.c - peergraph-demo: one node floods records to itself through the whole dataplane path.
 *
 * A publisher thread encodes a deterministic workload (demo_gen.c) into batches of records
 * and sends each batch over UDP on loopback to the node's port twice, as two neighbours
 * would. The node's worker runs a burst loop: recvmmsg a burst -> decode each batch -> check
 * every record against the record-version table (a copy we hold is dropped there, never
 * copied or stored again) -> store what is new in the durable store (group commit) -> pass a
 * quiescent state -> drive expiry from the store's timer wheel. A live progress line shows the
 * rates; the final report checks the database against the workload's model, closes the
 * store, reopens it from disk, and checks it again.
 *
 * This is the foundation's demonstration; links, flooding between nodes and signatures come
 * with their issues and turn this into the multi-node lab.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "demo_gen.h"
#include "pg_assert.h"
#include "pg_atomic.h"
#include "pg_error.h"
#include "pg_time.h"
#include "record.h"
#include "rvt.h"
#include "store.h"

enum {
	BURST = 32,	      /* datagrams per recvmmsg */
	BATCH_BYTES = 8192,   /* bytes per batch datagram */
	WINDOW = 64,	      /* datagrams in flight before the publisher waits */
	RECS_PER_BATCH = 512, /* decode bound per datagram */
};

struct options {
	struct demo_gen_config gen;
	const char *dir;
	uint32_t commit_us;
	bool keep;
};

/* Counters: written by one thread each, read by the progress line. */
struct counters {
	_Atomic uint64_t datagrams_sent, records_sent;
	_Atomic uint64_t rx_syscalls, tx_syscalls; /* recvmmsg + poll; sendto */
	_Atomic uint64_t datagrams, bad_datagrams, records;
	_Atomic uint64_t fresh, dups, stale, rejected, full;
	_Atomic uint64_t stored, store_errors, expired, expired_on_arrival;
};

struct node {
	int rx_fd;
	struct sockaddr_in addr;
	uint64_t graph_key;
	struct pg_record_limits lim;
	struct rvt *rvt;
	struct rvt_thread *th;
	struct pg_store *store;
	struct counters c;
	_Atomic bool quit;
	_Atomic uint64_t last_rx_ns; /* monotonic time the last datagram was processed */
	uint64_t now_us;	     /* wall clock of the current burst (worker only) */
	uint64_t last_ticket;
};

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: peergraph-demo [options]\n"
	    "\n"
	    "One node floods records to itself over UDP on loopback, through the record-version\n"
	    "table and the durable store; prints live progress and a final report, then reopens\n"
	    "the store from disk and checks it. Exit status 0 when every check passes.\n"
	    "\n"
	    "  -n, --records N      distinct records to create (default 200000, max 50000000)\n"
	    "  -p, --payload BYTES  payload bytes per record (default 128, max 4096)\n"
	    "  -d, --dir PATH       store directory, created if missing (its parent must exist;\n"
	    "                       default: a new directory under /var/tmp, removed afterwards)\n"
	    "  -c, --commit-us US   group-commit interval in microseconds (default 5000)\n"
	    "  -s, --seed N         workload seed (default 1)\n"
	    "  -k, --keep           keep the store directory afterwards\n"
	    "  -h, --help           this text\n");
}

static int parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || end == s || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "records", required_argument, NULL, 'n' },
		{ "payload", required_argument, NULL, 'p' },
		{ "dir", required_argument, NULL, 'd' },
		{ "commit-us", required_argument, NULL, 'c' },
		{ "seed", required_argument, NULL, 's' },
		{ "keep", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int ch;

	*o = (struct options){
		.gen = { .records = 200000,
			 .payload = 128,
			 .update_pct = 20,
			 .delete_pct = 25,
			 .shortlived_pct = 5,
			 .shortlived_us = 2 * PG_USEC_PER_SEC,
			 .lifetime_us = 3600 * PG_USEC_PER_SEC,
			 .seed = 1 },
		.commit_us = 5000,
	};
	while ((ch = getopt_long(argc, argv, "n:p:d:c:s:kh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			if (parse_u64(optarg, 1, 50000000, &v))
				goto bad;
			o->gen.records = (uint32_t)v;
			break;
		case 'p':
			if (parse_u64(optarg, 0, 4096, &v))
				goto bad;
			o->gen.payload = (uint32_t)v;
			break;
		case 'd':
			o->dir = optarg;
			break;
		case 'c':
			if (parse_u64(optarg, 100, 1000000, &v))
				goto bad;
			o->commit_us = (uint32_t)v;
			break;
		case 's':
			if (parse_u64(optarg, 0, UINT64_MAX, &v))
				goto bad;
			o->gen.seed = v;
			break;
		case 'k':
			o->keep = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "peergraph-demo: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return -EINVAL;
	}
	return 0;
bad:
	fprintf(stderr, "peergraph-demo: bad value '%s' for -%c (see --help)\n", optarg, ch);
	return -EINVAL;
}

/* ---- the node ------------------------------------------------------------------------ */

/* A body the version table owns: the record view followed by its encoded bytes. */
static const struct pg_record *body_copy(const struct pg_record *rec,
					 const struct pg_record_limits *lim)
{
	size_t sz = pg_record_encoded_size(rec);
	struct pg_record *body = malloc(sizeof(*body) + sz);
	uint8_t *bytes = (uint8_t *)(body + 1);

	if (!body)
		return NULL;
	if (pg_record_encode(rec, lim, bytes, sz) != (long)sz ||
	    pg_record_decode(bytes, sz, lim, body) != 0) {
		free(body);
		return NULL;
	}
	return body;
}

static void body_free(void *ctx, const struct pg_record *body)
{
	(void)ctx;
	free((void *)body);
}

static void node_record(struct node *n, const struct pg_record *rec)
{
	struct pg_key key = pg_record_key_of(n->graph_key, rec);
	const struct pg_record *body;
	struct rvt_view view;
	uint64_t ticket;
	int err;

	pg_fetch_add_relaxed(&n->c.records, 1);
	/* a copy that expired on its way is not a record any more: never table or store it */
	if (rec->expires_us <= n->now_us) {
		pg_fetch_add_relaxed(&n->c.expired_on_arrival, 1);
		return;
	}
	/* the cheap check first: a copy we hold costs one probe, no copy, no store */
	if (rvt_lookup(n->th, key, &view) == 0 && view.body) {
		int order = pg_record_order(rec, view.body);

		if (order <= 0) {
			pg_fetch_add_relaxed(order == 0 ? &n->c.dups : &n->c.stale, 1);
			return;
		}
	}
	body = body_copy(rec, &n->lim);
	if (!body) {
		pg_fetch_add_relaxed(&n->c.rejected, 1);
		return;
	}
	do {
		err = rvt_raise(n->th, key, body);
		if (err == -EAGAIN)
			rvt_quiescent(n->th);
	} while (err == -EAGAIN);
	if (err) {
		body_free(NULL, body);
		pg_fetch_add_relaxed(err == PG_E_STALE	      ? &n->c.stale
				     : err == PG_E_TABLE_FULL ? &n->c.full
							      : &n->c.rejected,
				     1);
		return;
	}
	pg_fetch_add_relaxed(&n->c.fresh, 1);
	err = pg_store_put_record(n->store, rec, &ticket);
	if (err) {
		fprintf(stderr, "peergraph-demo: store: %s\n", pg_strerror(err));
		pg_fetch_add_relaxed(&n->c.store_errors, 1);
		return;
	}
	n->last_ticket = ticket;
	pg_fetch_add_relaxed(&n->c.stored, 1);
}

static void node_datagram(struct node *n, const uint8_t *buf, size_t len)
{
	static struct pg_record recs[RECS_PER_BATCH];
	uint64_t graph;
	unsigned count;
	int err = pg_batch_decode(buf, len, &n->lim, &graph, recs, RECS_PER_BATCH, &count);

	pg_fetch_add_relaxed(&n->c.datagrams, 1);
	if (err || graph != n->graph_key) {
		pg_fetch_add_relaxed(&n->c.bad_datagrams, 1);
		return;
	}
	for (unsigned i = 0; i < count; i++)
		node_record(n, &recs[i]);
}

/* Store events: an expired record leaves the version table too (if it still holds that copy). */
static void node_event(void *arg, const struct pg_store_event *ev)
{
	struct node *n = arg;
	struct rvt_view view;

	if (ev->kind != PG_STORE_EXPIRED)
		return;
	pg_fetch_add_relaxed(&n->c.expired, 1);
	if (rvt_lookup(n->th, ev->key, &view) == 0 && view.body &&
	    view.body->expires_us <= ev->rec->expires_us)
		rvt_remove_expired(n->th, ev->key, view.body);
}

static void *node_worker(void *arg)
{
	struct node *n = arg;
	static uint8_t bufs[BURST][PG_DATAGRAM_MAX];
	struct mmsghdr msgs[BURST];
	struct iovec iov[BURST];
	uint64_t next_expiry = 0;

	PG_ASSERT(rvt_thread_register(n->rvt, &n->th) == 0);
	for (int i = 0; i < BURST; i++) {
		iov[i] = (struct iovec){ .iov_base = bufs[i], .iov_len = sizeof(bufs[i]) };
		msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
	}
	while (!pg_load_relaxed(&n->quit)) {
		int got = recvmmsg(n->rx_fd, msgs, BURST, MSG_DONTWAIT, NULL);

		pg_fetch_add_relaxed(&n->c.rx_syscalls, 1);
		uint64_t now = pg_time_now_us();

		n->now_us = now;

		for (int i = 0; i < got; i++)
			node_datagram(n, bufs[i], msgs[i].msg_len);
		if (got > 0)
			pg_store_relaxed(&n->last_rx_ns, pg_mono_ns());
		if (now >= next_expiry) {
			pg_store_expire(n->store, now, 0);
			next_expiry = now + 10000;
		}
		rvt_quiescent(n->th);
		if (got <= 0) {
			struct pollfd p = { .fd = n->rx_fd, .events = POLLIN };

			rvt_thread_offline(n->th);
			poll(&p, 1, 5);
			pg_fetch_add_relaxed(&n->c.rx_syscalls, 1);
			rvt_thread_online(n->th);
		}
	}
	rvt_thread_unregister(n->th);
	return NULL;
}

/* ---- the publisher ------------------------------------------------------------------- */

struct publisher {
	const struct options *o;
	struct node *n;
	int fd;
	uint64_t now_us;
	struct pg_batch_writer w;
	uint8_t buf[BATCH_BYTES];
	uint8_t scratch[4096 + 512];
};

static void pub_flush(struct publisher *p)
{
	size_t len;

	if (p->w.count == 0)
		return;
	len = pg_batch_end(&p->w);
	/* every batch arrives twice, as from two neighbours */
	for (int copy = 0; copy < 2; copy++) {
		while (pg_load_relaxed(&p->n->c.datagrams_sent) -
			   pg_load_relaxed(&p->n->c.datagrams) >=
		       WINDOW)
			usleep(50);
		pg_fetch_add_relaxed(&p->n->c.tx_syscalls, 1);
		if (sendto(p->fd, p->buf, len, 0, (struct sockaddr *)&p->n->addr,
			   sizeof(p->n->addr)) != (ssize_t)len) {
			perror("peergraph-demo: sendto");
			continue;
		}
		pg_fetch_add_relaxed(&p->n->c.datagrams_sent, 1);
		pg_fetch_add_relaxed(&p->n->c.records_sent, p->w.count);
	}
	pg_batch_begin(&p->w, p->buf, sizeof(p->buf), p->n->graph_key);
}

static void pub_send(struct publisher *p, uint32_t index, enum demo_op_kind kind)
{
	struct demo_op op = { .index = index, .kind = kind };
	struct pg_record rec;
	int err;

	demo_gen_make(&p->o->gen, &op, p->now_us, &rec, p->scratch);
	err = pg_batch_add(&p->w, &rec, &p->n->lim);
	if (err == -ENOSPC) {
		pub_flush(p);
		err = pg_batch_add(&p->w, &rec, &p->n->lim);
	}
	PG_ASSERT(err == 0);
}

static void *publisher_run(void *arg)
{
	struct publisher *p = arg;
	const struct demo_gen_config *g = &p->o->gen;

	pg_batch_begin(&p->w, p->buf, sizeof(p->buf), p->n->graph_key);
	for (uint32_t i = 0; i < g->records; i++)
		pub_send(p, i, DEMO_CREATE);
	for (uint32_t i = 0; i < g->records; i++) {
		if (!demo_gen_updated(g, i))
			continue;
		pub_send(p, i, DEMO_UPDATE);
		pub_send(p, i, DEMO_CREATE); /* a late, stale copy of version 1 */
	}
	for (uint32_t i = 0; i < g->records; i++)
		if (demo_gen_deleted(g, i))
			pub_send(p, i, DEMO_DELETE);
	pub_flush(p);
	return NULL;
}

/* ---- progress, report, checks ------------------------------------------------------ */

static void progress(struct node *n, double secs, uint64_t prev_records, double dt, bool final)
{
	struct pg_store_stats st;
	uint64_t recs = pg_load_relaxed(&n->c.records);

	pg_store_stats_get(n->store, &st);
	fprintf(stderr,
		"%s[%6.1fs] recv %9" PRIu64 " rec %7.0f k/s | new %8" PRIu64 " dup %8" PRIu64
		" stale %7" PRIu64 " | stored %8" PRIu64 " durable %8" PRIu64 " | expired %6" PRIu64
		"%s",
		isatty(2) && !final ? "\r" : "", secs, recs,
		dt > 0 ? (double)(recs - prev_records) / dt / 1e3 : 0.0,
		pg_load_relaxed(&n->c.fresh), pg_load_relaxed(&n->c.dups),
		pg_load_relaxed(&n->c.stale), pg_load_relaxed(&n->c.stored), st.durable_seq,
		pg_load_relaxed(&n->c.expired), isatty(2) && !final ? "" : "\n");
}

struct tally {
	uint64_t live, tombstones;
};

static int tally_record(void *arg, const struct pg_record *rec, const uint8_t *raw, uint32_t len)
{
	struct tally *t = arg;

	(void)raw;
	(void)len;
	if (rec->flags & PG_RECORD_DELETED)
		t->tombstones++;
	else
		t->live++;
	return 0;
}

static bool check_db(struct pg_store *s, const struct demo_model *m, const char *when)
{
	struct tally t = { 0 };
	bool ok;

	pg_store_enum(s, NULL, NULL, 0, PG_STORE_WITH_DELETED, tally_record, &t);
	ok = t.live == m->live && t.tombstones == m->tombstones;
	printf("check %-9s live %" PRIu64 " (want %" PRIu64 "), tombstones %" PRIu64
	       " (want %" PRIu64 "): %s\n",
	       when, t.live, m->live, t.tombstones, m->tombstones, ok ? "ok" : "MISMATCH");
	return ok;
}

static int open_socket(struct sockaddr_in *addr)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int sz = 8 << 20;
	socklen_t len = sizeof(*addr);

	if (fd < 0)
		return -errno;
	/* a deep receive queue; FORCE needs CAP_NET_ADMIN, the plain call caps at rmem_max */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	*addr = (struct sockaddr_in){ .sin_family = AF_INET,
				      .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (bind(fd, (struct sockaddr *)addr, sizeof(*addr)) < 0 ||
	    getsockname(fd, (struct sockaddr *)addr, &len) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static int open_store(struct node *n, const struct options *o, const char *dir,
		      struct pg_store **out)
{
	static const char graph_id[] = "peergraph-demo";
	struct pg_store_config sc;

	pg_store_config_default(&sc);
	sc.dir = dir;
	sc.graph_id = graph_id;
	sc.graph_id_len = sizeof(graph_id) - 1;
	sc.commit_interval_us = o->commit_us;
	sc.max_records = o->gen.records + 1024;
	sc.max_bytes = (uint64_t)sc.max_records * (512 + o->gen.payload) + (64 << 20);
	n->graph_key = pg_graph_key(graph_id, sizeof(graph_id) - 1);
	return pg_store_open(&sc, out);
}

static void wait_drained(struct node *n, uint64_t timeout_us)
{
	uint64_t until = pg_mono_ns() + timeout_us * 1000;

	while (pg_load_relaxed(&n->c.datagrams) < pg_load_relaxed(&n->c.datagrams_sent) &&
	       pg_mono_ns() < until)
		usleep(1000);
}

int main(int argc, char **argv)
{
	struct options o;
	struct node n = { 0 };
	struct publisher *pub;
	struct rvt_config rc = { 0 };
	struct demo_model model;
	struct pg_store_stats st;
	struct rvt_stats rs;
	pthread_t worker, publisher;
	char dirbuf[] = "/var/tmp/peergraph-demo.XXXXXX";
	const char *dir;
	uint64_t t0, last_ns, prev = 0, lost;
	double secs;
	bool ok = true;
	int err;

	if (parse_options(argc, argv, &o))
		return 2;
	dir = o.dir;
	if (!dir && !(dir = mkdtemp(dirbuf))) {
		perror("peergraph-demo: mkdtemp");
		return 1;
	}
	pg_record_limits_default(&n.lim);
	demo_gen_model(&o.gen, &model);
	if ((n.rx_fd = open_socket(&n.addr)) < 0) {
		fprintf(stderr, "peergraph-demo: socket: %s\n", pg_strerror(n.rx_fd));
		return 1;
	}
	rc.capacity = o.gen.records + 1024;
	rc.max_threads = 4;
	rc.body_free = body_free;
	if ((err = rvt_create(&rc, &n.rvt))) {
		fprintf(stderr, "peergraph-demo: record-version table: %s\n", pg_strerror(err));
		return 1;
	}
	if ((err = open_store(&n, &o, dir, &n.store))) {
		fprintf(stderr, "peergraph-demo: store in %s: %s%s\n", dir, pg_strerror(err),
			err == -ENOENT ? " (its parent directory must exist)" : "");
		return 1;
	}
	pg_store_subscribe(n.store, node_event, &n);
	printf("peergraph-demo: %u records of %u payload bytes; %u%% updated, %u%% of those "
	       "deleted, %u%% expire after %.1f s; store in %s\n",
	       o.gen.records, o.gen.payload, o.gen.update_pct, o.gen.delete_pct,
	       o.gen.shortlived_pct, (double)o.gen.shortlived_us / 1e6, dir);
	fflush(stdout);

	pub = calloc(1, sizeof(*pub));
	PG_ASSERT(pub);
	pub->o = &o;
	pub->n = &n;
	pub->now_us = pg_time_now_us();
	pub->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	PG_ASSERT(pub->fd >= 0);
	t0 = last_ns = pg_mono_ns();
	PG_ASSERT(pthread_create(&worker, NULL, node_worker, &n) == 0);
	PG_ASSERT(pthread_create(&publisher, NULL, publisher_run, pub) == 0);

	/* live progress until the publisher is done and the node has drained its socket */
	for (;;) {
		void *ret;
		uint64_t now;

		usleep(250000);
		now = pg_mono_ns();
		progress(&n, (double)(now - t0) / 1e9, prev, (double)(now - last_ns) / 1e9, false);
		prev = pg_load_relaxed(&n.c.records);
		last_ns = now;
		if (pthread_tryjoin_np(publisher, &ret) == 0)
			break;
	}
	wait_drained(&n, 2 * PG_USEC_PER_SEC);
	secs = (double)(pg_load_relaxed(&n.last_rx_ns) - t0) / 1e9;
	lost = pg_load_relaxed(&n.c.datagrams_sent) - pg_load_relaxed(&n.c.datagrams);

	/* the short-lived records expire while the node runs; progress goes on meanwhile */
	while (pg_load_relaxed(&n.c.expired) < model.expired &&
	       pg_time_now_us() < pub->now_us + o.gen.shortlived_us + 5 * PG_USEC_PER_SEC) {
		uint64_t now;

		usleep(250000);
		now = pg_mono_ns();
		progress(&n, (double)(now - t0) / 1e9, prev, (double)(now - last_ns) / 1e9, false);
		prev = pg_load_relaxed(&n.c.records);
		last_ns = now;
	}
	pg_store_sync(n.store);
	progress(&n, (double)(pg_mono_ns() - t0) / 1e9, prev, 0, true);
	pg_store_stats_get(n.store, &st);
	rvt_stats_read(n.rvt, &rs);

	printf("\n== report\n");
	printf("sent        %" PRIu64 " datagrams, %" PRIu64 " record copies (each batch twice)\n",
	       pg_load_relaxed(&n.c.datagrams_sent), pg_load_relaxed(&n.c.records_sent));
	printf("received    %" PRIu64 " datagrams (%" PRIu64 " lost on loopback, %" PRIu64
	       " malformed), %" PRIu64 " records\n",
	       pg_load_relaxed(&n.c.datagrams), lost, pg_load_relaxed(&n.c.bad_datagrams),
	       pg_load_relaxed(&n.c.records));
	printf("ingest      %.2f s, %.0f record copies/s through decode + version table\n", secs,
	       (double)pg_load_relaxed(&n.c.records) / secs);
	printf("syscalls    node %.4f per record copy (recvmmsg + poll), publisher %.4f (sendto); "
	       "the store's group commits add about %.5f (a write and an fdatasync each)\n",
	       (double)pg_load_relaxed(&n.c.rx_syscalls) / (double)pg_load_relaxed(&n.c.records),
	       (double)pg_load_relaxed(&n.c.tx_syscalls) / (double)pg_load_relaxed(&n.c.records),
	       2.0 * (double)st.commits / (double)pg_load_relaxed(&n.c.records));
	printf("version tbl new %" PRIu64 ", duplicates dropped %" PRIu64 ", stale dropped %" PRIu64
	       ", rejected %" PRIu64 ", full %" PRIu64 ", expired on arrival %" PRIu64 "\n",
	       pg_load_relaxed(&n.c.fresh), pg_load_relaxed(&n.c.dups), pg_load_relaxed(&n.c.stale),
	       pg_load_relaxed(&n.c.rejected), pg_load_relaxed(&n.c.full),
	       pg_load_relaxed(&n.c.expired_on_arrival));
	printf("store       added %" PRIu64 ", updated %" PRIu64 ", deleted %" PRIu64
	       ", expired %" PRIu64 "; durable seq %" PRIu64 " in %" PRIu64
	       " group commits; errors %" PRIu64 "\n",
	       st.added, st.updated, st.deleted, st.expired, st.durable_seq, st.commits,
	       pg_load_relaxed(&n.c.store_errors));
	printf("model       live %" PRIu64 ", tombstones %" PRIu64 ", expired %" PRIu64 "\n",
	       model.live, model.tombstones, model.expired);

	ok &= lost == 0 && pg_load_relaxed(&n.c.rejected) == 0 &&
	      pg_load_relaxed(&n.c.store_errors) == 0 && pg_load_relaxed(&n.c.full) == 0;
	ok &= st.expired == model.expired;
	ok &= check_db(n.store, &model, "running");

	pg_store_set_listening(n.store, false);
	pg_store_subscribe(n.store, NULL, NULL);
	pg_store_relaxed(&n.quit, true);
	pthread_join(worker, NULL);
	pg_store_close(n.store);
	rvt_destroy(n.rvt);
	close(n.rx_fd);
	close(pub->fd);

	/* reopen from disk: the database must come back exactly as acknowledged */
	if ((err = open_store(&n, &o, dir, &n.store))) {
		fprintf(stderr, "peergraph-demo: reopen: %s\n", pg_strerror(err));
		ok = false;
	} else {
		pg_store_stats_get(n.store, &st);
		printf("reopened    replayed %" PRIu64 " log entries, torn bytes %" PRIu64 "\n",
		       st.replayed, st.torn_bytes);
		ok &= check_db(n.store, &model, "reopened");
		pg_store_close(n.store);
	}
	if (!o.keep && !o.dir) {
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "peergraph-demo: could not remove %s\n", dir);
	}
	printf("summary: records=%u copies=%" PRIu64 " ingest_rec_s=%.0f dups_dropped=%" PRIu64
	       " stale_dropped=%" PRIu64 " expired=%" PRIu64 " lost=%" PRIu64 " result=%s\n",
	       o.gen.records, pg_load_relaxed(&n.c.records),
	       (double)pg_load_relaxed(&n.c.records) / secs, pg_load_relaxed(&n.c.dups),
	       pg_load_relaxed(&n.c.stale), pg_load_relaxed(&n.c.expired), lost,
	       ok ? "ok" : "FAIL");
	free(pub);
	return ok ? 0 : 1;
}
