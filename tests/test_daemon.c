/*
 * test_daemon.c - peergraphd end to end, through libpeergraph: a real daemon process per
 * test, started on its own state directory and socket, driven as an application would.
 *
 * What the daemon promises and this file checks: readiness through NOTIFY_SOCKET; identities
 * and graphs managed through the API; records added in batches are signed, stored durably and
 * readable, updatable, deletable, enumerable and searchable; a clean stop keeps every record;
 * a SIGKILL during batched adds keeps every record whose add was acknowledged; a client of
 * another user is refused and the refusal logged; malformed frames get error replies and
 * change nothing; requests pipelined without waiting are answered in order, each reply to a
 * write only once durable; a subscriber that stops reading neither grows the daemon's memory nor
 * misses events silently.
 */
#include <grp.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "api/frame.h"
#include "daemon_fixture.h"
#include "pg_bytes.h"
#include "pg_error.h"
#include "pg_time.h"
#include "sanitizers.h"

static struct pgd_proc d;

static void fini(void)
{
	pgd_cleanup(&d);
}

TestSuite(daemon, .fini = fini, .timeout = 120);

static const struct peergraph_guid type_a = { { 0xa1, 0xa2 } };

/* n records numbered from first: payload "record <i>", attribute size = i. */
static void records_make(struct peergraph_record *r, struct peergraph_attr *a, char (*payload)[32],
			 size_t first, size_t n)
{
	memset(r, 0, n * sizeof(*r));
	for (size_t i = 0; i < n; i++) {
		snprintf(payload[i], sizeof(payload[i]), "record %zu", first + i);
		a[i] = (struct peergraph_attr){ .name = "size",
						.type = PEERGRAPH_ATTR_INT,
						.i = (int64_t)(first + i) };
		r[i].type = type_a;
		r[i].attrs = &a[i];
		r[i].nattrs = 1;
		r[i].payload = payload[i];
		r[i].payload_len = strlen(payload[i]);
	}
}

/* Adds n records in batches of `batch`; their ids go to ids. */
static void add_many(struct peergraph *pg, const char *graph, size_t n, size_t batch,
		     struct peergraph_guid *ids)
{
	static struct peergraph_record r[1024];
	static struct peergraph_attr a[1024];
	static char payload[1024][32];
	static int res[1024];

	cr_assert_leq(batch, 1024);
	for (size_t done = 0; done < n; done += batch) {
		size_t m = n - done < batch ? n - done : batch;
		long added;

		records_make(r, a, payload, done, m);
		added = peergraph_record_add(pg, graph, r, m, res);
		cr_assert_eq(added, (long)m, "batch at %zu: %ld added (%s; first result %s)", done,
			     added, peergraph_strerror((int)added), peergraph_strerror(res[0]));
		for (size_t i = 0; ids && i < m; i++)
			ids[done + i] = r[i].id;
	}
}

static int count_one(void *ctx, const struct peergraph_record *rec)
{
	(void)rec;
	(*(long *)ctx)++;
	return 0;
}

Test(daemon, ready_hello_identities_graphs_records)
{
	char name[PEERGRAPH_PEER_NAME_SIZE], version[64], name2[PEERGRAPH_PEER_NAME_SIZE];
	struct peergraph_identity ids[8];
	struct peergraph_graph_status st;
	static struct peergraph_guid rid[1000];
	struct peergraph_record got;
	struct peergraph *pg;
	uint8_t *exp;
	size_t explen;
	uint32_t uid;
	long n = 0;
	int res;

	pgd_dir(&d);
	pgd_start(&d);
	pg = pgd_connect(&d);
	cr_assert_eq(peergraph_hello(pg, version, sizeof(version), &uid), 0);
	cr_assert_eq(uid, (uint32_t)geteuid());
	cr_assert_gt(strlen(version), 0);

	/* identities */
	cr_assert_eq(peergraph_identity_create(pg, "alice", "Alice", 0, name), 0);
	cr_assert(strstr(name, ".alice") != NULL, "peer name %s", name);
	cr_assert_eq(peergraph_identity_list(pg, ids, 8), 1);
	cr_assert_str_eq(ids[0].peer_name, name);
	cr_assert_str_eq(ids[0].friendly_name, "Alice");
	cr_assert(ids[0].flags & PEERGRAPH_IDENTITY_IS_DEFAULT);
	cr_assert_eq(peergraph_identity_set_friendly_name(pg, name, "Alice B."), 0);
	cr_assert_eq(peergraph_identity_export(pg, name, "correct horse", &exp, &explen), 0);
	cr_assert_gt(explen, 100);
	cr_assert_lt(peergraph_identity_create(pg, "bad/classifier", NULL, 0, name2), 0);

	/* a secured graph signed by alice (the default identity) */
	cr_assert_eq(peergraph_graph_create(pg, "g1", NULL), 0);
	cr_assert_eq(peergraph_graph_create(pg, "g1", NULL), -EEXIST);
	cr_assert_eq(peergraph_graph_status(pg, "g1", &st), 0);
	cr_assert(st.status & PEERGRAPH_GRAPH_OPEN);
	cr_assert(st.status & PEERGRAPH_GRAPH_SECURED);
	cr_assert_str_eq(st.identity, name);
	cr_assert_eq(peergraph_identity_delete(pg, name), -EBUSY, "alice signs g1");

	add_many(pg, "g1", 1000, 250, rid);
	cr_assert_eq(peergraph_graph_status(pg, "g1", &st), 0);
	cr_assert_eq(st.records, 1000);
	cr_assert_eq(peergraph_record_get(pg, "g1", &rid[7], NULL, 0, &got), 0);
	cr_assert_eq(got.version, 1);
	cr_assert_str_eq(got.creator, name);
	cr_assert(got.is_signed);
	cr_assert_eq(got.payload_len, strlen("record 7"));
	cr_assert(memcmp(got.payload, "record 7", got.payload_len) == 0);
	cr_assert_eq(got.nattrs, 1);
	cr_assert_eq(got.attrs[0].i, 7);

	/* update, delete */
	struct peergraph_record up = got;
	struct peergraph_attr ua = { .name = "size", .type = PEERGRAPH_ATTR_INT, .i = 7777 };

	up.attrs = &ua;
	up.payload = "updated";
	up.payload_len = 7;
	cr_assert_eq(peergraph_record_update(pg, "g1", &up, 1, &res), 1, "%s",
		     peergraph_strerror(res));
	cr_assert_eq(peergraph_record_get(pg, "g1", &rid[7], NULL, 0, &got), 0);
	cr_assert_eq(got.version, 2);
	cr_assert_str_eq(got.modifier, name);
	cr_assert_eq(peergraph_record_delete(pg, "g1", &rid[8], 1, NULL, &res), 1);
	cr_assert_eq(peergraph_record_get(pg, "g1", &rid[8], NULL, 0, &got), PG_E_NOT_FOUND);
	cr_assert_eq(peergraph_record_get(pg, "g1", &rid[8], NULL, PEERGRAPH_WITH_DELETED, &got),
		     0);
	cr_assert(got.flags & PEERGRAPH_RECORD_DELETED);
	cr_assert_eq(peergraph_record_delete(pg, "g1", &rid[8], 1, NULL, &res), 0);
	cr_assert_eq(res, PG_E_NOT_FOUND);

	/* enumerate and search */
	cr_assert_eq(peergraph_record_enum(pg, "g1", &type_a, NULL, 0, count_one, &n), 999);
	n = 0;
	cr_assert_eq(peergraph_record_search(pg, "g1", "size >= 900", 0, count_one, &n), 101,
		     "900..999, and 7 whose size is now 7777: %ld", n);
	cr_assert_lt(peergraph_record_search(pg, "g1", "size >=", 0, count_one, &n), 0);
	cr_assert_neq(peergraph_last_message(pg)[0], '\0', "a failed search says why");

	/* a graph that is not there */
	cr_assert_eq(peergraph_record_add(pg, "nope", &up, 1, &res), PG_E_NOT_FOUND);
	free(exp);
	peergraph_close(pg);
	cr_assert_eq(pgd_stop(&d, SIGTERM), 0, "a clean stop exits 0");
}

/* Records added just before SIGTERM are there after a restart. */
Test(daemon, clean_stop_keeps_every_record)
{
	static struct peergraph_guid rid[3000];
	struct peergraph_graph_status st;
	struct peergraph_record got;
	struct peergraph *pg;

	pgd_dir(&d);
	pgd_start(&d);
	pg = pgd_connect(&d);
	cr_assert_eq(peergraph_graph_create(pg, "open-graph", NULL), 0, "no identity: unsecured");
	add_many(pg, "open-graph", 3000, 1000, rid);
	peergraph_close(pg);
	cr_assert_eq(pgd_stop(&d, SIGTERM), 0);
	cr_assert(pgd_log_has(&d, "stopped cleanly"));
	pgd_start(&d);
	pg = pgd_connect(&d);
	cr_assert_eq(peergraph_graph_status(pg, "open-graph", &st), 0);
	cr_assert(st.status & PEERGRAPH_GRAPH_OPEN, "reopened at start");
	cr_assert_eq(st.records, 3000);
	cr_assert_eq(peergraph_record_get(pg, "open-graph", &rid[2999], NULL, 0, &got), 0);
	cr_assert_not(got.is_signed);
	peergraph_close(pg);
}

/* A SIGKILL during batched adds: every record whose add was acknowledged survives. */
Test(daemon, sigkill_keeps_every_acknowledged_record)
{
	enum { BATCH = 500, BATCHES_MAX = 400 };
	static struct peergraph_guid rid[BATCH * BATCHES_MAX];
	static struct peergraph_record r[BATCH];
	static struct peergraph_attr a[BATCH];
	static char payload[BATCH][32];
	struct peergraph_record got;
	struct peergraph *pg;
	size_t acked = 0;

	pgd_dir(&d);
	pgd_start(&d);
	pg = pgd_connect(&d);
	cr_assert_eq(peergraph_graph_create(pg, "k", NULL), 0);
	for (int b = 0; b < BATCHES_MAX; b++) {
		long added;

		if (b == 20)
			kill(d.pid,
			     SIGKILL); /* mid-stream: later adds fail, acked ones must stay */
		records_make(r, a, payload, acked, BATCH);
		added = peergraph_record_add(pg, "k", r, BATCH, NULL);
		if (added < 0)
			break;
		cr_assert_eq(added, BATCH);
		for (size_t i = 0; i < BATCH; i++)
			rid[acked + i] = r[i].id;
		acked += BATCH;
	}
	peergraph_close(pg);
	waitpid(d.pid, NULL, 0);
	d.pid = 0;
	cr_assert_geq(acked, 20 * BATCH);
	pgd_start(&d);
	pg = pgd_connect(&d);
	for (size_t i = 0; i < acked; i++)
		cr_assert_eq(peergraph_record_get(pg, "k", &rid[i], NULL, 0, &got), 0,
			     "acknowledged record %zu of %zu present", i, acked);
	peergraph_close(pg);
}

/* A client under another uid is refused, and the refusal logged. */
Test(daemon, another_user_is_refused)
{
	const char *const extra[] = { "--set", "daemon.socket_group=daemon", NULL };
	struct group *gr = getgrnam("daemon");
	int status;
	pid_t child;

	if (geteuid() != 0 || !gr)
		cr_skip_test("needs root and a group named daemon to run a client as nobody");
	pgd_dir(&d);
	pgd_start_args(&d, extra);
	child = fork();
	cr_assert_geq(child, 0);
	if (child == 0) {
		gid_t g = gr->gr_gid;
		struct peergraph *pg;
		int err;

		/* in the socket's group by a supplementary gid, so the file lets nobody connect,
		 * but not a member by the user database: the daemon must refuse */
		if (setgroups(1, &g) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(3);
		err = peergraph_connect(d.sock, &pg);
		_exit(err == -EACCES ? 0 : 1);
	}
	waitpid(child, &status, 0);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "nobody refused with -EACCES");
	cr_assert(pgd_log_has(&d, "refused a client: uid 65534"));
}

/* Raw frames: a bad one gets an error reply and changes nothing; the daemon stays up. */
static int raw_connect(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", d.sock);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* Sends a frame and reads the reply's status (or -1 when the daemon closed). */
static int raw_exchange(int fd, const uint8_t *frame, size_t len)
{
	uint8_t hdr[PG_API_HDR_LEN], body[4096];
	struct pg_api_hdr h;

	cr_assert_eq(send(fd, frame, len, MSG_NOSIGNAL), (ssize_t)len);
	if (recv(fd, hdr, sizeof(hdr), MSG_WAITALL) != (ssize_t)sizeof(hdr))
		return -1;
	cr_assert_eq(pg_api_hdr_decode(hdr, &h), 0);
	cr_assert_leq(h.len - 12, sizeof(body));
	cr_assert_eq(recv(fd, body, h.len - 12, MSG_WAITALL), (ssize_t)(h.len - 12));
	return h.status;
}

Test(daemon, malformed_frames_get_errors_and_change_nothing)
{
	struct pg_api_writer w;
	struct peergraph_graph_status st;
	struct peergraph *pg;
	uint8_t junk[128];
	long n;
	int fd;

	pgd_dir(&d);
	pgd_start(&d);
	pg = pgd_connect(&d);
	cr_assert_eq(peergraph_graph_create(pg, "m", NULL), 0);
	add_many(pg, "m", 10, 10, NULL);
	fd = raw_connect();
	pg_api_writer_init(&w, 1 << 20);
	/* unknown type: an error, the connection stays */
	pg_api_begin(&w, 999, 1, 0);
	n = pg_api_end(&w);
	cr_assert_eq(raw_exchange(fd, w.buf, (size_t)n), PG_E_API_TYPE);
	/* a field the message may not carry */
	pg_api_begin(&w, PG_API_GRAPH_DELETE, 2, 0);
	pg_api_put_str(&w, PG_API_T_GRAPH, "m");
	pg_api_put_str(&w, PG_API_T_PATH, "/etc/passwd");
	n = pg_api_end(&w);
	cr_assert_eq(raw_exchange(fd, w.buf, (size_t)n), PG_E_API_FIELD);
	/* a record field shorter than a record header: refused by the schema */
	memset(junk, 0xee, sizeof(junk));
	pg_api_begin(&w, PG_API_RECORD_ADD, 3, 0);
	pg_api_put_str(&w, PG_API_T_GRAPH, "m");
	pg_api_put_bytes(&w, PG_API_T_RECORD, junk, 64);
	n = pg_api_end(&w);
	cr_assert_eq(raw_exchange(fd, w.buf, (size_t)n), PG_E_API_FIELD);
	/* a record that does not decode: its own result (the reply succeeds), nothing stored */
	pg_api_begin(&w, PG_API_RECORD_ADD, 4, 0);
	pg_api_put_str(&w, PG_API_T_GRAPH, "m");
	pg_api_put_bytes(&w, PG_API_T_RECORD, junk, sizeof(junk));
	n = pg_api_end(&w);
	cr_assert_eq(raw_exchange(fd, w.buf, (size_t)n), 0);
	/* another protocol version: an error, then the daemon closes */
	pg_api_begin(&w, PG_API_HELLO, 4, 0);
	n = pg_api_end(&w);
	store_le16(w.buf + PG_API_OFF_VERSION, 9);
	cr_assert_eq(raw_exchange(fd, w.buf, (size_t)n), PG_E_API_VERSION);
	cr_assert_eq(recv(fd, junk, 1, 0), 0, "closed after a version mismatch");
	close(fd);
	/* a client that leaves mid-frame */
	fd = raw_connect();
	pg_api_begin(&w, PG_API_RECORD_ADD, 5, 0);
	pg_api_put_str(&w, PG_API_T_GRAPH, "m");
	n = pg_api_end(&w);
	cr_assert_eq(send(fd, w.buf, (size_t)n / 2, MSG_NOSIGNAL), n / 2);
	close(fd);
	pg_api_writer_free(&w);
	cr_assert_eq(peergraph_graph_status(pg, "m", &st), 0, "the daemon still answers");
	cr_assert_eq(st.records, 10, "nothing changed");
	peergraph_close(pg);
}

/* ---- pipelined requests -------------------------------------------------------------------- */

enum {
	PIPE_FRAMES = 24,   /* ADD frames sent before any reply is read (past HELD_MAX) */
	PIPE_RECORDS = 500, /* records per frame */
	PIPE_REQUESTS = 3 * PIPE_FRAMES, /* each ADD is followed by two GETs */
};

static const struct pg_record_limits pipe_limits = { .max_record_size = PG_RECORD_SIZE_MAX };

/* Record j of frame k of the pipeline: its id says where it is. */
static void pipe_record(struct pg_record *r, struct pg_guid *id, unsigned k, unsigned j)
{
	static const char payload[] = "pipelined";
	uint64_t now = pg_time_now_us();

	memset(id, 0, sizeof(*id));
	id->b[0] = 0x77;
	store_le32(id->b + 4, k);
	store_le32(id->b + 8, j);
	memset(r, 0, sizeof(*r));
	memcpy(r->type.b, type_a.b, sizeof(r->type.b));
	r->id = *id;
	r->version = 1;
	r->created_us = r->modified_us = now;
	r->expires_us = now + 3600ull * 1000000;
	r->creator = r->modifier = "";
	r->payload = (const uint8_t *)payload;
	r->payload_len = sizeof(payload) - 1;
}

/* Writes request i of the pipeline into w: ADD frame k = i / 3, then a GET of its last record
 * (stored, not yet durable when handled: its reply must wait behind the ADD's), then a GET of
 * a record no frame adds (an error, in its place too). */
static void pipe_request(struct pg_api_writer *w, const char *graph, unsigned i)
{
	unsigned k = i / 3;
	struct pg_record r;
	struct pg_guid id;

	pg_api_begin(w, i % 3 ? PG_API_RECORD_GET : PG_API_RECORD_ADD, 100 + i, 0);
	pg_api_put_str(w, PG_API_T_GRAPH, graph);
	if (i % 3 == 0) {
		for (unsigned j = 0; j < PIPE_RECORDS; j++) {
			pipe_record(&r, &id, k, j);
			pg_api_put_record(w, &r, &pipe_limits);
		}
		return;
	}
	pipe_record(&r, &id, i % 3 == 1 ? k : PIPE_FRAMES + k, PIPE_RECORDS - 1);
	pg_api_put_bytes(w, PG_API_T_RECORD_ID, id.b, sizeof(id.b));
}

/* Reads one reply whole into body (realloc'd); its header in *h. */
static void pipe_reply(int fd, struct pg_api_hdr *h, uint8_t **body)
{
	uint8_t hdr[PG_API_HDR_LEN];

	cr_assert_eq(recv(fd, hdr, sizeof(hdr), MSG_WAITALL), (ssize_t)sizeof(hdr));
	cr_assert_eq(pg_api_hdr_decode(hdr, h), 0);
	cr_assert_not_null(*body = realloc(*body, h->len));
	if (h->len > 12) /* a recv of 0 bytes would wait for the next frame */
		cr_assert_eq(recv(fd, *body, h->len - 12, MSG_WAITALL), (ssize_t)(h->len - 12));
}

/* Checks the replies of requests [from, to) of the pipeline: in request order, every record
 * added, every GET of an added record found. */
static void pipe_replies_check(int fd, unsigned from, unsigned to)
{
	struct pg_api_field f;
	struct pg_api_iter it;
	struct pg_api_hdr h;
	uint8_t *body = NULL;

	for (unsigned i = from; i < to; i++) {
		unsigned results = 0;

		pipe_reply(fd, &h, &body);
		cr_assert_eq(h.id, 100 + i, "reply %u in order: got the reply of %u", i,
			     h.id - 100);
		if (i % 3 == 2) {
			cr_assert_eq(h.status, PG_E_NOT_FOUND, "request %u", i);
			continue;
		}
		cr_assert_eq(h.status, 0, "request %u: %s", i, peergraph_strerror(h.status));
		if (i % 3 == 1)
			continue;
		pg_api_iter_init(&it, body, h.len - 12);
		while (pg_api_iter_next(&it, &f)) {
			cr_assert_eq(pg_api_u32(&f), 0, "frame %u: a record refused", i / 3);
			results++;
		}
		cr_assert_eq(results, PIPE_RECORDS);
	}
	free(body);
}

/* Sends requests [from, to) of the pipeline (and the graph close, if asked) without reading. */
static void pipe_send(int fd, const char *graph, unsigned from, unsigned to, bool close_graph)
{
	struct pg_api_writer w;
	long n;

	pg_api_writer_init(&w, 1 << 20);
	for (unsigned i = from; i < to; i++) {
		pipe_request(&w, graph, i);
		n = pg_api_end(&w);
		cr_assert_gt(n, 0);
		cr_assert_eq(send(fd, w.buf, (size_t)n, MSG_NOSIGNAL), n);
	}
	if (close_graph) {
		pg_api_begin(&w, PG_API_GRAPH_CLOSE, 100 + to, 0);
		pg_api_put_str(&w, PG_API_T_GRAPH, graph);
		n = pg_api_end(&w);
		cr_assert_eq(send(fd, w.buf, (size_t)n, MSG_NOSIGNAL), n);
	}
	pg_api_writer_free(&w);
}

/* Requests sent without waiting: the daemon goes on past a write waiting for its commit,
 * replies in request order (a GET behind the ADD before it, an error in its place), and a
 * reply still means durable: after a SIGKILL every record acknowledged so is there. Then a
 * GRAPH_CLOSE behind pipelined writes answers them first. */
Test(daemon, pipelined_requests_reply_in_order_and_durably)
{
	struct peergraph_graph_status st;
	struct peergraph_record got;
	struct peergraph *pg;
	struct pg_record r;
	struct pg_guid id;
	struct pg_api_hdr h;
	uint8_t *body = NULL;
	int fd;

	pgd_dir(&d);
	pgd_start(&d);
	pg = pgd_connect(&d);
	cr_assert_eq(peergraph_graph_create(pg, "p", NULL), 0);
	peergraph_close(pg);
	fd = raw_connect();
	pipe_send(fd, "p", 0, PIPE_REQUESTS, false);
	pipe_replies_check(fd, 0, PIPE_REQUESTS);
	close(fd);
	pgd_stop(&d, SIGKILL); /* at once: what was acknowledged must be durable already */
	pgd_start(&d);
	pg = pgd_connect(&d);
	for (unsigned k = 0; k < PIPE_FRAMES; k++) {
		for (unsigned j = 0; j < PIPE_RECORDS; j++) {
			pipe_record(&r, &id, k, j);
			cr_assert_eq(peergraph_record_get(pg, "p", (struct peergraph_guid *)&id,
							  NULL, 0, &got),
				     0, "acknowledged record %u of frame %u present", j, k);
		}
	}
	/* a close behind held writes: their replies first, then its own */
	fd = raw_connect();
	cr_assert_eq(peergraph_graph_create(pg, "q", NULL), 0);
	pipe_send(fd, "q", 0, 6, true);
	pipe_replies_check(fd, 0, 6);
	pipe_reply(fd, &h, &body);
	cr_assert_eq(h.id, 106, "the close answered last");
	cr_assert_eq(h.status, 0);
	free(body);
	close(fd);
	cr_assert_eq(peergraph_graph_open(pg, "q"), 0);
	cr_assert_eq(peergraph_graph_status(pg, "q", &st), 0);
	cr_assert_eq(st.records, 2 * PIPE_RECORDS);
	peergraph_close(pg);
}

/* Adds n records of `size`-byte payloads, in batches of 1000. */
static void add_big(struct peergraph *pg, const char *graph, size_t n, size_t size)
{
	static struct peergraph_record r[1000];
	static char payload[4096];

	cr_assert_leq(size, sizeof(payload));
	memset(payload, 'x', size);
	for (size_t done = 0; done < n; done += 1000) {
		memset(r, 0, sizeof(r));
		for (size_t i = 0; i < 1000; i++) {
			r[i].type = type_a;
			r[i].payload = payload;
			r[i].payload_len = size;
		}
		cr_assert_eq(peergraph_record_add(pg, graph, r, 1000, NULL), 1000);
	}
}

/* A subscriber that stops reading: the daemon's memory grows no more than without it (the
 * store's own growth), and once it reads again it is told how many events it lost. */
Test(daemon, slow_subscriber_is_bounded_and_told)
{
	const char *const extra[] = { "--set", "daemon.client_queue_bytes=65536", "--set",
				      "daemon.event_queue=64", NULL };
	struct peergraph_event ev;
	struct peergraph *pg, *sub;
	long rss0, rss1, rss2;
	uint64_t lost = 0, seen = 0;
	int rc;

	pgd_dir(&d);
	pgd_start_args(&d, extra);
	pg = pgd_connect(&d);
	sub = pgd_connect(&d);
	cr_assert_eq(peergraph_graph_create(pg, "s", NULL), 0);
	add_big(pg, "s", 2000, 1024); /* warm: arenas, buffers */
	rss0 = pgd_rss_kb(&d);
	add_big(pg, "s", 20000, 1024); /* ~20 MiB into the store, nobody subscribed */
	rss1 = pgd_rss_kb(&d);
	cr_assert_eq(peergraph_subscribe(sub, "s", 0), 0);
	add_big(pg, "s", 20000, 1024); /* the same with a subscriber that does not read */
	rss2 = pgd_rss_kb(&d);
	/* queueing every event would add ~20 MiB of frames on top of the store's growth (under
	 * ASan, freed memory sits in its quarantine and counts as resident: not measured there).
	 * The slack is 12 MiB: since the dataplane keeps its own copy of each record (version
	 * table bodies, flood ring pages touched as it fills) the two phases differ by up to
	 * ~8.5 MiB with no subscriber effect at all (seen once in CI at 8.5). */
	if (!UNDER_ASAN)
		cr_assert_lt(rss2 - rss1, (rss1 - rss0) + 12 * 1024,
			     "a stalled subscriber grew the daemon %ld kB more than the store did "
			     "(%ld kB)",
			     rss2 - rss1, rss1 - rss0);
	while ((rc = peergraph_event_next(sub, &ev, 2000)) == 1) {
		if (ev.kind == PEERGRAPH_EVENT_LOST)
			lost = ev.lost > lost ? ev.lost : lost;
		else
			seen++;
	}
	cr_assert_eq(rc, 0);
	cr_assert_gt(seen, 0);
	cr_assert_gt(lost, 10000, "told it lost events (%llu)", (unsigned long long)lost);
	cr_assert_leq(seen, 20000);
	peergraph_close(sub);
	peergraph_close(pg);
}

/* SIGHUP re-reads the configuration file: the log level changes (and the log says so); a
 * setting that needs a restart is named as such and left alone. */
Test(daemon, sighup_reloads_and_says_what_changed)
{
	char conf[128], extra0[] = "--config";
	const char *extra[] = { extra0, conf, NULL };
	FILE *f;

	pgd_dir(&d);
	snprintf(conf, sizeof(conf), "%s/peergraphd.conf", d.dir);
	f = fopen(conf, "w");
	cr_assert_not_null(f);
	fprintf(f, "[daemon]\nlog_level = info\n[store]\ncommit_interval_us = 5000\n");
	fclose(f);
	pgd_start_args(&d, extra);
	f = fopen(conf, "w");
	fprintf(f, "[daemon]\nlog_level = warn\n[store]\ncommit_interval_us = 2000\n");
	fclose(f);
	kill(d.pid, SIGHUP);
	for (int i = 0; i < 500 && !pgd_log_has(&d, "setting"); i++)
		usleep(10000);
	cr_assert(pgd_log_has(&d, "reload: "), "the log says what the reload did");
	cr_assert(pgd_log_has(&d, "restart"), "commit_interval_us needs a restart, and says so");
	/* a broken file changes nothing and says so */
	f = fopen(conf, "w");
	fprintf(f, "[daemon]\nlog_level = loud\n");
	fclose(f);
	kill(d.pid, SIGHUP);
	usleep(300000);
	cr_assert(pgd_log_has(&d, "nothing changed"));
	cr_assert_eq(pgd_stop(&d, SIGTERM), 0);
}
