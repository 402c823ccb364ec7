/*
 * store_compact.c - the store as one file: compaction into snapshots, export and import.
 *
 * COMPACTION
 *
 * Under the lock: insert a cut after the last entry (seq S) and copy the state into a
 * snapshot image naming log generation G+1. Then, without the lock: write it to `snap.tmp`,
 * fdatasync, rename to `snap`, fsync the directory. The committer, on reaching the cut,
 * syncs generation G and switches to G+1 (store_commit.c). Once both happened, logs below G+1 are
 * deleted. A crash anywhere in between leaves either the old snapshot with logs G and G+1, or
 * the new snapshot with G+1 (or nothing yet): both replay to the acknowledged state. Puts
 * wait only while the state is copied (a memcpy of the live bytes).
 *
 * Expired records leave the persistent state twice over: a REMOVE entry in the log when they
 * expire, and their absence from every later snapshot.
 *
 * IMPORT is all or nothing: the file is parsed and every record decoded (pg_snap_parse), keys
 * must be distinct, and then, under the lock, every record is checked against the copy held
 * (older or equal ones are skipped, newer ones must pass pg_record_check_update) and against
 * the record and byte bounds, before the first one is applied. Applying then cannot fail
 * except on an I/O error, or if the arena stays full of unwritten bytes for a second (the
 * lock is released while waiting for the committer, so a concurrent local put may then win
 * by the conflict order like any put).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pg_assert.h"
#include "pg_error.h"
#include "pg_time.h"
#include "store_impl.h"

/* Copies the state into a snapshot image. Under the lock. 0 or -ENOMEM. */
static int snapshot_build(struct pg_store *s, uint64_t log_gen, uint64_t seq, uint8_t **bufp,
			  size_t *lenp)
{
	uint64_t count = s->index.count;
	uint64_t size =
	    pg_snap_size(s->graph_id_len, count, s->live_bytes - count * PG_LOG_ENTRY_HDR);
	struct pg_snap_writer w;
	uint8_t *buf = malloc(size);

	if (!buf)
		return -ENOMEM;
	pg_snap_begin(&w, buf, size, s->graph_id, s->graph_id_len, log_gen, seq, count,
		      pg_time_now_us());
	for (uint32_t i = 0; i < s->index.hwm; i++) {
		const struct pg_index_entry *e = &s->index.e[i];

		if (e->ent)
			pg_snap_add(&w, e->ent + PG_LOG_ENTRY_HDR, e->body_len);
	}
	*lenp = pg_snap_end(&w);
	*bufp = buf;
	return 0;
}

/* Writes buf to dirfd/name through name.tmp: write, fdatasync, rename, fsync the directory. */
static int write_atomic(int dirfd, const char *name, const uint8_t *buf, size_t len)
{
	char tmp[PATH_MAX];
	int fd, err;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", name) >= sizeof(tmp))
		return -ENAMETOOLONG;
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if ((err = store_write_all(fd, buf, len)))
		goto err_unlink;
	if (fdatasync(fd) < 0) {
		err = -errno;
		goto err_unlink;
	}
	close(fd);
	if (renameat(dirfd, tmp, dirfd, name) < 0 || fsync(dirfd) < 0)
		return -errno;
	return 0;

err_unlink:
	close(fd);
	unlinkat(dirfd, tmp, 0);
	return err;
}

/* Deletes the log files below gen. */
static void drop_logs_below(struct pg_store *s, uint64_t gen)
{
	DIR *d;
	struct dirent *de;
	int fd = dup(s->dirfd);

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return;
	}
	rewinddir(d); /* the offset is shared with s->dirfd through dup() */
	while ((de = readdir(d))) {
		uint64_t g;

		if (store_log_parse(de->d_name, &g) && g < gen)
			unlinkat(s->dirfd, de->d_name, 0);
	}
	closedir(d);
}

int pg_store_compact(struct pg_store *s)
{
	uint64_t gen;
	uint8_t *buf = NULL;
	size_t len = 0;
	int err;

	pthread_mutex_lock(&s->compact_lock);
	pthread_mutex_lock(&s->lock);
	if ((err = s->io_err) || (err = s->stopping ? -ESHUTDOWN : 0))
		goto out_unlock;
	gen = s->gen + 1;
	if ((err = pg_arena_cut(s->arena, s->appended_seq)))
		goto out_unlock;
	/* the cut alone makes a harmless rotation if what follows fails */
	err = snapshot_build(s, gen, s->appended_seq, &buf, &len);
	s->flush = true;
	if (s->committer_idle) {
		s->committer_idle = false;
		pthread_cond_signal(&s->commit_cv);
	}
	pthread_mutex_unlock(&s->lock);
	if (!err)
		err = write_atomic(s->dirfd, "snap", buf, len);
	free(buf);
	pthread_mutex_lock(&s->lock);
	while (s->gen < gen && !s->io_err)
		pthread_cond_wait(&s->durable_cv, &s->lock);
	if (!err && s->gen < gen)
		err = s->io_err;
	if (!err) {
		s->st.compactions++;
		s->st.snapshot_bytes = len;
	}
	pthread_mutex_unlock(&s->lock);
	if (!err)
		drop_logs_below(s, gen);
	pthread_mutex_unlock(&s->compact_lock);
	return err;

out_unlock:
	pthread_mutex_unlock(&s->lock);
	pthread_mutex_unlock(&s->compact_lock);
	return err;
}

/* Opens the directory that holds path. A descriptor or -errno. */
static int open_parent(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd;

	if (!slash)
		return open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if ((size_t)(slash - path) + 2 > sizeof(dir))
		return -ENAMETOOLONG;
	memcpy(dir, path, (size_t)(slash - path) + 1);
	dir[slash - path + 1] = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int pg_store_export(struct pg_store *s, const char *path)
{
	const char *slash = strrchr(path, '/');
	uint8_t *buf = NULL;
	size_t len = 0;
	int dfd, err;

	pthread_mutex_lock(&s->lock);
	err = s->listening ? PG_E_LISTENING : snapshot_build(s, 0, 0, &buf, &len);
	pthread_mutex_unlock(&s->lock);
	if (err)
		return err;
	dfd = open_parent(path);
	if (dfd < 0) {
		err = dfd;
		goto out_free;
	}
	err = write_atomic(dfd, slash ? slash + 1 : path, buf, len);
	close(dfd);
out_free:
	free(buf);
	return err;
}

struct import_item {
	struct pg_key key;
	struct pg_record rec;
	const uint8_t *raw;
	uint32_t len;
	bool skip;
};

struct import_set {
	struct import_item *items;
	uint64_t n, cap;
	uint64_t graph_key;
};

static int import_collect(void *arg, const struct pg_record *r, const uint8_t *raw, uint32_t len)
{
	struct import_set *set = arg;
	struct import_item *it = &set->items[set->n++];

	PG_ASSERT(set->n <= set->cap);
	it->key = pg_record_key_of(set->graph_key, r);
	it->rec = *r;
	it->raw = raw;
	it->len = len;
	it->skip = false;
	return 0;
}

static int key_cmp(const void *a, const void *b)
{
	const struct pg_key *x = &((const struct import_item *)a)->key;
	const struct pg_key *y = &((const struct import_item *)b)->key;

	if (x->hi != y->hi)
		return x->hi < y->hi ? -1 : 1;
	return (x->lo > y->lo) - (x->lo < y->lo);
}

/* Decides every item against the state and the bounds. Under the lock; changes nothing. */
static int import_check(struct pg_store *s, struct import_set *set)
{
	uint64_t new_keys = 0, add = 0, sub = 0;
	struct pg_record prev;
	int err;

	if (s->listening)
		return PG_E_LISTENING;
	if (s->io_err)
		return s->io_err;
	for (uint64_t k = 0; k < set->n; k++) {
		struct import_item *it = &set->items[k];
		uint32_t i = pg_index_find(&s->index, it->key);
		const struct pg_index_entry *e;

		if (i == PG_INDEX_NONE) {
			new_keys++;
			add += pg_log_entry_size(it->len);
			continue;
		}
		e = &s->index.e[i];
		PG_ASSERT(
		    pg_record_decode(e->ent + PG_LOG_ENTRY_HDR, e->body_len, &s->lim, &prev) == 0);
		if (pg_record_order(&it->rec, &prev) <= 0) {
			it->skip = true;
			continue;
		}
		if ((err = pg_record_check_update(&prev, &it->rec)))
			return err;
		add += pg_log_entry_size(it->len);
		sub += pg_log_entry_size(e->body_len);
	}
	if (s->index.count + new_keys > s->max_records) {
		s->st.full_records++;
		return PG_E_STORE_FULL;
	}
	if (s->live_bytes + add - sub > s->max_bytes) {
		s->st.full_bytes++;
		return PG_E_STORE_FULL;
	}
	return 0;
}

static int import_apply(struct pg_store *s, struct import_set *set, uint64_t *last)
{
	uint64_t seq;
	int err = 0;

	for (uint64_t k = 0; k < set->n; k++) {
		struct import_item *it = &set->items[k];

		if (it->skip)
			continue;
		for (unsigned tries = 0;; tries++) {
			err = store_put_locked(s, &it->rec, it->raw, it->len, &seq);
			if (err != -EBUSY || tries == 100)
				break;
			store_wait_room(s);
		}
		if (err == PG_E_STALE)
			continue; /* a concurrent put won while we waited */
		if (err)
			return err == -EBUSY ? PG_E_STORE_FULL : err;
		*last = seq;
	}
	return 0;
}

int pg_store_import(struct pg_store *s, const char *path, uint64_t *ticket)
{
	struct import_set set = { .graph_key = s->graph_key };
	struct pg_snap_info info;
	uint64_t last = 0;
	struct stat st;
	uint8_t *map;
	int fd, err;

	pthread_mutex_lock(&s->lock);
	err = s->listening ? PG_E_LISTENING : 0;
	pthread_mutex_unlock(&s->lock);
	if (err)
		return err;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		err = -errno;
		goto err_close;
	}
	if (st.st_size < PG_SNAP_HDR) {
		err = PG_E_TRUNCATED;
		goto err_close;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		err = -errno;
		goto err_close;
	}
	err = pg_snap_parse(map, (size_t)st.st_size, s->graph_key, &s->lim, NULL, NULL, &info);
	if (err)
		goto err_unmap;
	if (info.count > s->max_records) {
		err = PG_E_STORE_FULL;
		goto err_unmap;
	}
	set.cap = info.count;
	set.items = calloc(info.count ? info.count : 1, sizeof(*set.items));
	if (!set.items) {
		err = -ENOMEM;
		goto err_unmap;
	}
	PG_ASSERT(pg_snap_parse(map, (size_t)st.st_size, s->graph_key, &s->lim, import_collect,
				&set, NULL) == 0);
	qsort(set.items, set.n, sizeof(*set.items), key_cmp);
	for (uint64_t k = 1; k < set.n; k++)
		if (pg_key_eq(set.items[k - 1].key, set.items[k].key))
			err = PG_E_BAD_FORMAT; /* one record twice: not a database we wrote */
	if (!err) {
		pthread_mutex_lock(&s->lock);
		err = import_check(s, &set);
		if (!err)
			err = import_apply(s, &set, &last);
		pthread_mutex_unlock(&s->lock);
	}
	if (!err && ticket)
		*ticket = last;
	free(set.items);
err_unmap:
	munmap(map, (size_t)st.st_size);
err_close:
	close(fd);
	return err;
}
