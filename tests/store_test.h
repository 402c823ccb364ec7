/*
 * store_test.h - helpers of the store tests (test_store.c, test_store_format.c): temporary
 * store directories, records built from a short spec, state fingerprints, an event log, file
 * surgery, a watch on the fsync calls of a process, and the crash writer's process plumbing.
 * Everything is static inline so each test file uses what it needs.
 */
#ifndef PG_STORE_TEST_H
#define PG_STORE_TEST_H

#include "crit_tsan.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xxhash.h>

#include "pg_assert.h"
#include "pg_time.h"
#include "store.h"
#include "store_gen.h"
#include "store_impl.h"
#include "wal.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SCALE 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SCALE 1
#endif
#endif
#ifndef SCALE
#define SCALE 4
#endif

/* ---- directories and stores ---------------------------------------------------------- */

static inline int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path);
}

static inline void rm_rf(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

struct ts {
	char dir[64];
	struct pg_store_config c;
	struct pg_store *s;
};

/* Directories made by this test process, removed by ts_cleanup (the suites' .fini) even when
 * an assertion ended the test early. */
static char ts_dirs[16][64];
static int ts_ndirs;

static inline void ts_cleanup(void)
{
	for (int i = 0; i < ts_ndirs; i++)
		rm_rf(ts_dirs[i]);
	ts_ndirs = 0;
}

static inline void ts_init(struct ts *t)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->dir, sizeof(t->dir), "/tmp/pg-store-XXXXXX");
	cr_assert(mkdtemp(t->dir), "mkdtemp: %s", strerror(errno));
	if (ts_ndirs < (int)PG_ARRAY_SIZE(ts_dirs))
		memcpy(ts_dirs[ts_ndirs++], t->dir, sizeof(t->dir));
	pg_store_config_default(&t->c);
	t->c.dir = t->dir;
	t->c.graph_id = SG_GRAPH;
	t->c.graph_id_len = (uint16_t)strlen(SG_GRAPH);
	t->c.max_records = 1 << 16;
	t->c.max_bytes = 64 << 20;
	t->c.segment_size = 256 << 10;
	t->c.commit_interval_us = 1000;
	t->c.compact_log_bytes = 0;
	t->c.now_us = SG_T0;
}

static inline void ts_open(struct ts *t)
{
	int err = pg_store_open(&t->c, &t->s);

	cr_assert_eq(err, 0, "open %s: %s", t->dir, pg_strerror(err));
}

static inline void ts_close(struct ts *t)
{
	pg_store_close(t->s);
	t->s = NULL;
}

static inline void ts_fini(struct ts *t)
{
	if (t->s)
		ts_close(t);
	rm_rf(t->dir);
}

/* ---- records from a spec ---------------------------------------------------------------- */

struct spec {
	uint64_t n;
	uint32_t version;
	uint16_t flags;
	uint8_t type;
	const char *creator, *modifier, *secdata;
	int64_t mod_delta;
	uint64_t expires;
	uint32_t payload;
};

/* Encodes the record a spec describes; the payload depends on (n, version) only. */
static inline long rec_make(uint8_t *buf, size_t cap, const struct spec *sp)
{
	static const uint8_t empty[1];
	uint8_t payload[17 << 10]; /* up to the cleaning test's largest record */
	struct pg_record_limits lim = { .max_record_size = PG_RECORD_SIZE_DEFAULT };
	const char *creator = sp->creator ? sp->creator : "alice";
	const char *modifier = sp->modifier ? sp->modifier : "";
	const char *sec = sp->secdata ? sp->secdata : "";
	struct pg_record r;

	PG_ASSERT(sp->payload <= sizeof(payload));
	for (uint32_t i = 0; i < sp->payload; i++)
		payload[i] = (uint8_t)(sp->n * 31 + sp->version * 7 + i);
	memset(&r, 0, sizeof(r));
	sg_id(&r.id, sp->n);
	r.type.b[0] = sp->type;
	r.version = sp->version;
	r.flags = sp->flags;
	r.creator = creator;
	r.creator_len = (uint16_t)strlen(creator);
	r.modifier = modifier;
	r.modifier_len = (uint16_t)strlen(modifier);
	r.created_us = SG_T0 - 100000;
	r.modified_us = (uint64_t)((int64_t)r.created_us + 10 * sp->version + sp->mod_delta);
	r.expires_us = sp->expires ? sp->expires : SG_FAR;
	r.attrs = empty;
	r.payload = payload;
	r.payload_len = sp->payload;
	r.secdata = (const uint8_t *)sec;
	r.secdata_len = (uint16_t)strlen(sec);
	return pg_record_encode(&r, &lim, buf, cap);
}

static inline int put_spec(struct pg_store *s, const struct spec *sp, uint64_t *ticket)
{
	uint8_t buf[18 << 10];
	long len = rec_make(buf, sizeof(buf), sp);

	PG_ASSERT(len > 0);
	return pg_store_put(s, buf, (size_t)len, ticket);
}

/* Asserts the store holds exactly the record of a spec (tombstones included). */
static inline void get_eq_spec(struct pg_store *s, const struct spec *sp)
{
	uint8_t want[4096], got[4096];
	long len = rec_make(want, sizeof(want), sp);
	const char *creator = sp->creator ? sp->creator : "alice";
	struct pg_guid id;
	size_t n = 0;

	sg_id(&id, sp->n);
	cr_assert_eq(pg_store_get(s, &id, creator, (uint16_t)strlen(creator), PG_STORE_WITH_DELETED,
				  got, sizeof(got), &n),
		     0, "record %llu present", (unsigned long long)sp->n);
	cr_assert_eq(n, (size_t)len, "record %llu length", (unsigned long long)sp->n);
	cr_assert(memcmp(got, want, n) == 0, "record %llu byte-identical",
		  (unsigned long long)sp->n);
}

/* ---- state fingerprints and events -------------------------------------------------------- */

/* Order-independent digest of a store's whole state (tombstones included). */
struct fp {
	uint64_t n, sum;
};

static inline int fp_add(void *arg, const struct pg_record *r, const uint8_t *raw, uint32_t len)
{
	struct fp *f = arg;

	(void)r;
	f->n++;
	f->sum += XXH3_64bits(raw, len);
	return 0;
}

static inline struct fp fingerprint(struct pg_store *s)
{
	struct fp f = { 0, 0 };

	pg_store_enum(s, NULL, NULL, 0, PG_STORE_WITH_DELETED, fp_add, &f);
	return f;
}

struct evlog {
	int n;
	struct {
		int kind;
		uint64_t id, seq;
		uint32_t version;
		uint16_t flags;
	} e[256];
};

static inline void evlog_add(void *arg, const struct pg_store_event *ev)
{
	struct evlog *l = arg;

	if (l->n == (int)PG_ARRAY_SIZE(l->e))
		return;
	l->e[l->n].kind = ev->kind;
	l->e[l->n].id = sg_id_n(&ev->rec->id);
	l->e[l->n].seq = ev->seq;
	l->e[l->n].version = ev->rec->version;
	l->e[l->n].flags = ev->rec->flags;
	l->n++;
}

/* ---- files --------------------------------------------------------------------------------- */

static inline long file_size(const char *dir, const char *name)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static inline int count_logs(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	PG_ASSERT(d);
	while ((de = readdir(d)))
		n += strncmp(de->d_name, "log.", 4) == 0;
	closedir(d);
	return n;
}

/* Name of the newest log in dir (into out). */
static inline void newest_log(const char *dir, char out[32])
{
	DIR *d = opendir(dir);
	struct dirent *de;

	PG_ASSERT(d);
	out[0] = '\0';
	while ((de = readdir(d)))
		if (strncmp(de->d_name, "log.", 4) == 0 && strlen(de->d_name) < 32 &&
		    strcmp(de->d_name, out) > 0)
			memcpy(out, de->d_name, strlen(de->d_name) + 1);
	closedir(d);
}

static inline uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	PG_ASSERT(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	PG_ASSERT(buf && fread(buf, 1, (size_t)n, f) == (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static inline void write_file(const char *path, const uint8_t *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	PG_ASSERT(f && fwrite(buf, 1, len, f) == len);
	fclose(f);
}

/* Copies src to dst, flipping the byte at flip (>= 0) and keeping only keep bytes (>= 0). */
static inline void copy_file(const char *src, const char *dst, long flip, long keep)
{
	size_t len;
	uint8_t *buf = read_file(src, &len);

	if (flip >= 0 && (size_t)flip < len)
		buf[flip] ^= 0x40;
	if (keep >= 0 && (size_t)keep < len)
		len = (size_t)keep;
	write_file(dst, buf, len);
	free(buf);
}

/* Copies the regular files of one store directory into another (the lock file included). */
static inline void copy_dir(const char *src, const char *dst)
{
	DIR *d = opendir(src);
	struct dirent *de;
	char a[512], b[512];

	PG_ASSERT(d);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(a, sizeof(a), "%s/%s", src, de->d_name);
		snprintf(b, sizeof(b), "%s/%s", dst, de->d_name);
		copy_file(a, b, -1, -1);
	}
	closedir(d);
}

/* ---- which descriptors a process fsync()s -----------------------------------------------------
 */

/* One fsync(2) seen: the path of its descriptor, and how many log files the watched store
 * directory held at that moment. */
struct fsync_seen {
	char path[256];
	int logs;
};

struct fsync_watcher {
	int listener, out;
	const char *dir;
};

/* Notes each fsync the filter holds, then lets it go on. The caller's descriptor table is
 * ours (same process), so /proc/self/fd names its file. */
static inline void *fsync_watcher_main(void *arg)
{
	struct fsync_watcher *w = arg;

	for (;;) {
		struct seccomp_notif req;
		struct seccomp_notif_resp resp;
		struct fsync_seen seen;
		char fd_path[64];
		ssize_t n;

		memset(&req, 0, sizeof(req));
		if (ioctl(w->listener, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) {
			if (errno == EINTR)
				continue;
			return NULL;
		}
		memset(&seen, 0, sizeof(seen));
		snprintf(fd_path, sizeof(fd_path), "/proc/self/fd/%d", (int)req.data.args[0]);
		n = readlink(fd_path, seen.path, sizeof(seen.path) - 1);
		seen.path[n > 0 ? n : 0] = '\0';
		seen.logs = access(w->dir, F_OK) == 0 ? count_logs(w->dir) : -1;
		PG_ASSERT(write(w->out, &seen, sizeof(seen)) == sizeof(seen)); /* < PIPE_BUF */
		memset(&resp, 0, sizeof(resp));
		resp.id = req.id;
		resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
		ioctl(w->listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
	}
}

/* Runs fn(arg) in a child process and returns the fsync(2) calls it made, in order (at most
 * max into seen; *n is how many). The child's calls stop at a seccomp user-notification filter
 * until a watcher thread has noted them, then go on unchanged: the store runs as it would,
 * with no preload and no tracer. 0; 77 when this kernel or sandbox does not allow the filter;
 * else the child's failing exit status (fn reports a failure by _exit with 1..76). */
static inline int fsync_watch(const char *dir, void (*fn)(void *), void *arg,
			      struct fsync_seen *seen, int max, int *n)
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_fsync, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = PG_ARRAY_SIZE(filter), .filter = filter };
	struct fsync_seen one;
	int p[2], status;
	pid_t pid;

	PG_ASSERT(pipe(p) == 0);
	pid = fork();
	PG_ASSERT(pid >= 0);
	if (pid == 0) {
		struct fsync_watcher w = { .out = p[1], .dir = dir };
		pthread_t th;

		close(p[0]);
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			_exit(77);
		w.listener = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
					  SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
		if (w.listener < 0)
			_exit(77);
		if (pthread_create(&th, NULL, fsync_watcher_main, &w) != 0)
			_exit(126);
		fn(arg);
		_exit(0); /* every call fn made was written before it returned */
	}
	close(p[1]);
	*n = 0;
	while (read(p[0], &one, sizeof(one)) == sizeof(one))
		if (*n < max)
			seen[(*n)++] = one;
	close(p[0]);
	PG_ASSERT(waitpid(pid, &status, 0) == pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* ---- the crash writer ------------------------------------------------------------------------ */

struct crash_check {
	uint64_t n, bad;
};

/* Every present record must be a record of the crash workload, whole. */
static inline int crash_check_cb(void *arg, const struct pg_record *r, const uint8_t *raw,
				 uint32_t len)
{
	struct crash_check *cc = arg;
	uint64_t n = sg_id_n(&r->id);
	uint8_t want[1024];
	long wl;

	cc->n++;
	if (n == UINT64_MAX || n % 8 == 7 || r->version < 1 || r->version > 2 ||
	    (r->version == 2 && n % 8 != 0)) {
		cc->bad++;
		return 0;
	}
	wl = sg_record(want, sizeof(want), n, r->version);
	if (wl != (long)len || memcmp(want, raw, len) != 0)
		cc->bad++;
	return 0;
}

/* The store-writer program beside this test binary. */
static inline bool writer_path(char *out, size_t cap)
{
	ssize_t n = readlink("/proc/self/exe", out, cap - 16);
	char *slash;

	if (n <= 0)
		return false;
	out[n] = '\0';
	slash = strrchr(out, '/');
	if (!slash)
		return false;
	strcpy(slash + 1, "store-writer");
	return access(out, X_OK) == 0;
}

#define WRITER_FD 200
#define STR_(x)	  #x
#define STR(x)	  STR_(x)

/* Starts the writer on dir; its reports arrive on *fd. */
static inline pid_t spawn_writer(const char *writer, const char *dir, const char *every,
				 const char *segment, const char *direct, int *fd)
{
	int p[2];
	pid_t pid;

	PG_ASSERT(pipe(p) == 0);
	pid = fork();
	PG_ASSERT(pid >= 0);
	if (pid == 0) {
		/* a high descriptor: sanitizer runtimes use low ones of their own at start-up */
		if (dup2(p[1], WRITER_FD) < 0)
			_exit(126);
		close(p[0]);
		close(p[1]);
		execl(writer, writer, "crash", dir, every, segment, direct, STR(WRITER_FD),
		      (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	*fd = p[0];
	return pid;
}

/* Reads the writer's reports until it acknowledged min_ops and ran kill_after_ms, SIGKILLs
 * it, drains what it reported before dying and returns the last count (0 on a timeout). */
static inline uint64_t run_until_kill(pid_t pid, int fd, unsigned kill_after_ms, uint64_t min_ops)
{
	uint64_t start = pg_mono_ns(), acked = 0, v;
	bool killed = false;

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		uint64_t ms = (pg_mono_ns() - start) / 1000000;

		if (!killed && ((acked >= min_ops && ms >= kill_after_ms) || ms > 60000)) {
			kill(pid, SIGKILL);
			killed = true;
		}
		if (poll(&pfd, 1, 10) <= 0)
			continue;
		ssize_t r = read(fd, &v, sizeof(v));

		if (r == sizeof(v))
			acked = v;
		else if (r == 0)
			break; /* the writer is gone and everything it wrote was read */
		else
			PG_ASSERT(r < 0 && errno == EINTR);
	}
	close(fd);
	return acked;
}

/* ---- records of test-store (test_store.c, test_store_persist.c, test_store_import.c) ------ */

static const struct spec SPEC0 = {
	.version = 1, .creator = "alice", .expires = SG_FAR, .payload = 32
};

static inline struct spec spec(uint64_t n, uint32_t version)
{
	struct spec sp = SPEC0;

	sp.n = n;
	sp.version = version;
	return sp;
}

/* The i-th record number from first on whose key falls in the store's shard 0 (store_impl.h):
 * tests of one arena's bounds put all their records there. */
static inline uint64_t shard0_no(uint64_t first, unsigned i)
{
	uint64_t gk = pg_graph_key(SG_GRAPH, strlen(SG_GRAPH));

	for (uint64_t n = first;; n++) {
		struct pg_guid id;

		sg_id(&id, n);
		if (store_shard_index(pg_record_key(gk, &id, "alice", 5)) == 0 && i-- == 0)
			return n;
	}
}

static inline bool present(struct pg_store *s, uint64_t n)
{
	uint8_t buf[2048];
	struct pg_guid id;
	size_t len;

	sg_id(&id, n);
	return pg_store_get(s, &id, "alice", 5, PG_STORE_WITH_DELETED, buf, sizeof(buf), &len) == 0;
}

static inline int count_cb(void *arg, const struct pg_record *r, const uint8_t *raw, uint32_t len)
{
	(void)r, (void)raw, (void)len;
	(*(long *)arg)++;
	return 0;
}

/* Puts a mixed history into s: adds, updates, tombstones and expiries. The short-lived records
 * expire at SG_T0 + 1000 + base, so a later history (larger base) starts after the clock. */
static inline void history(struct pg_store *s, uint64_t base, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct spec sp = spec(base + i, 1);

		sp.type = (uint8_t)(i % 4);
		sp.expires = i % 5 == 0 ? SG_T0 + 1000 + base : SG_FAR;
		cr_assert_eq(put_spec(s, &sp, NULL), 0);
	}
	for (unsigned i = 0; i < n; i += 3) {
		struct spec sp = spec(base + i, 2);

		sp.type = (uint8_t)(i % 4);
		sp.modifier = "bob";
		sp.payload = 40;
		sp.flags = i % 2 ? PG_RECORD_DELETED : 0;
		sp.payload = sp.flags ? 0 : 40;
		sp.expires = i % 5 == 0 ? SG_T0 + 1000 + base : SG_FAR;
		cr_assert_eq(put_spec(s, &sp, NULL), 0);
	}
	cr_assert_gt(pg_store_expire(s, SG_T0 + 1000 + base, 0), 0);
}

#endif
