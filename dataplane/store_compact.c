/*
 * store_compact.c - the store as one file: compaction into snapshots, export and import.
 *
 * COMPACTION
 *
 * Under the store lock and every shard lock: set a cut after the last entry (seq S: with
 * every shard held, every number up to S belongs to a queued entry) and copy the state into a
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
 * IMPORT is all or nothing. The file is read once into memory of our own, at most a full
 * store's snapshot (max_bytes + 328 bytes): a mapping of the caller's file would fault with
 * SIGBUS were the file truncated meanwhile, and would let a rewrite change bytes between their
 * checks and their use. A file that changes size while it is read is refused (a rewrite of the
 * same size caught half done fails the checksum). The image is parsed and every record decoded
 * (pg_snap_parse), keys must be distinct, and then, under the lock, every record is checked
 * against the copy held (older or equal ones are skipped, newer ones must pass
 * pg_record_check_update) and against the record and byte bounds, before the first one is
 * applied -- all with every shard locked, so the check sees one state.
 *
 * Applying may have to wait for the committer to write arena bytes, and waiting releases the
 * lock, yet every verdict of the check must still hold when its record is applied. So while an
 * import applies it is the only change to the records: s->importing (set while every shard
 * is locked, so a put that holds its shard lock reads it reliably) makes puts wait (within
 * their usual bound), pg_store_expire leave what is due to its next call, and another import
 * wait its turn. Each record is applied under its own shard's lock. Reads, compaction and the
 * committer go on; none changes a record. The order keeps every step inside the byte bound: first
 * the updates whose entry does not grow, then the rest, so the live bytes fall, then rise to the
 * total the check allowed. Once the first record is applied, only an I/O error (the store refuses
 * everything from then on) or running out of memory can stop the import: the entries are already
 * queued for the log and cannot be taken back.
 *
 * LIMITATIONS: an import never gives up for want of room while the committer has bytes to
 * write, so a disk that stops answering stalls it as it stalls pg_store_sync. A reader (get,
 * enumerate, export) may see an import half applied while it waits for room, and a crash
 * before its last entry is durable may leave a prefix of it on disk: all or nothing is about
 * the verdict, not about atomic visibility.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pg_assert.h"
#include "pg_error.h"
#include "pg_time.h"
#include "store_impl.h"

/* Copies the state into a snapshot image. Every shard locked. 0 or -ENOMEM. */
static int snapshot_build(struct pg_store *s, uint64_t log_gen, uint64_t seq, uint8_t **bufp,
			  size_t *lenp)
{
	uint64_t count = store_count(s);
	uint64_t size = pg_snap_size(s->graph_id_len, count,
				     atomic_load(&s->live_bytes) - count * PG_LOG_ENTRY_HDR);
	struct pg_snap_writer w;
	uint8_t *buf = malloc(size);

	if (!buf)
		return -ENOMEM;
	pg_snap_begin(&w, buf, size, s->graph_id, s->graph_id_len, log_gen, seq, count,
		      pg_time_now_us());
	for (unsigned k = 0; k < STORE_SHARDS; k++) {
		const struct pg_index *x = &s->shard[k].index;

		for (uint32_t i = 0; i < x->hwm; i++)
			if (x->e[i].ent)
				pg_snap_add(&w, x->e[i].ent + PG_LOG_ENTRY_HDR, x->e[i].body_len);
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
	if ((err = atomic_load(&s->io_err)) || (err = s->stopping ? -ESHUTDOWN : 0))
		goto out_unlock;
	gen = s->gen + 1;
	/* one compaction at a time, and each waits for its rotation: no cut is pending */
	PG_ASSERT(!s->cut_pending);
	store_lock_all(s);
	s->cut_pending = true;
	s->cut_seq = atomic_load(&s->appended_seq);
	/* the cut alone makes a harmless rotation if what follows fails */
	err = snapshot_build(s, gen, s->cut_seq, &buf, &len);
	store_unlock_all(s);
	s->flush = true;
	pthread_cond_signal(&s->commit_cv);
	pthread_mutex_unlock(&s->lock);
	if (!err)
		err = write_atomic(s->dirfd, "snap", buf, len);
	free(buf);
	pthread_mutex_lock(&s->lock);
	while (s->gen < gen && !atomic_load(&s->io_err))
		pthread_cond_wait(&s->durable_cv, &s->lock);
	if (!err && s->gen < gen)
		err = atomic_load(&s->io_err);
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

	store_lock_all(s);
	err = atomic_load(&s->listening) ? PG_E_LISTENING : snapshot_build(s, 0, 0, &buf, &len);
	store_unlock_all(s);
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
	struct pg_record rec; /* a view into the private copy of the file */
	const uint8_t *raw;
	uint32_t len;
	bool skip;  /* an equal or newer copy is held */
	bool first; /* replaces an entry at least as large: applied in the first pass */
};

struct import_set {
	struct import_item *items;
	uint64_t n, cap;
	uint64_t graph_key;
};

static int import_collect(void *arg, const struct pg_record *r, const uint8_t *raw, uint32_t len)
{
	struct import_set *set = arg;
	struct import_item *it;

	if (set->n == set->cap)
		return PG_E_BAD_FORMAT; /* more records than the validating pass counted */
	it = &set->items[set->n++];
	it->key = pg_record_key_of(set->graph_key, r);
	it->rec = *r;
	it->raw = raw;
	it->len = len;
	it->skip = false;
	it->first = false;
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

/* Decides every item against the state and the bounds. Every shard locked; changes nothing. */
static int import_check(struct pg_store *s, struct import_set *set)
{
	uint64_t new_keys = 0, add = 0, sub = 0;
	struct pg_record prev;
	int err;

	if (atomic_load(&s->listening))
		return PG_E_LISTENING;
	if ((err = atomic_load(&s->io_err)))
		return err;
	for (uint64_t k = 0; k < set->n; k++) {
		struct import_item *it = &set->items[k];
		struct store_shard *sh = store_shard_of(s, it->key);
		uint32_t i = pg_index_find(&sh->index, it->key);
		const struct pg_index_entry *e;

		if (i == PG_INDEX_NONE) {
			new_keys++;
			add += pg_log_entry_size(it->len);
			continue;
		}
		e = &sh->index.e[i];
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
		it->first = pg_log_entry_size(it->len) <= pg_log_entry_size(e->body_len);
	}
	if (store_count(s) + new_keys > s->max_records) {
		s->shard[0].st.full_records++;
		return PG_E_STORE_FULL;
	}
	if (atomic_load(&s->live_bytes) + add - sub > s->max_bytes) {
		s->shard[0].st.full_bytes++;
		return PG_E_STORE_FULL;
	}
	return 0;
}

/* Puts one checked item under its shard's lock, waiting for the committer while it has bytes
 * to write. */
static int import_put(struct pg_store *s, const struct import_item *it, uint64_t *seq)
{
	struct store_shard *sh = store_shard_of(s, it->key);
	int err;

	for (;;) {
		bool idle;

		pthread_mutex_lock(&sh->lock);
		err = store_put_locked(s, sh, it->key, &it->rec, it->raw, it->len, seq);
		idle = pg_arena_idle(sh->arena);
		pthread_mutex_unlock(&sh->lock);
		if (err != -EBUSY)
			return err;
		if ((err = atomic_load(&s->io_err)))
			return err;
		/* everything written and still no room: waiting cannot help */
		if (idle)
			return PG_E_STORE_FULL;
		store_wait_room(s);
	}
}

/* Applies the checked items, those that do not grow their entry first. No lock held, with
 * s->importing set. */
static int import_apply(struct pg_store *s, struct import_set *set, uint64_t *last)
{
	for (int pass = 0; pass < 2; pass++) {
		for (uint64_t k = 0; k < set->n; k++) {
			struct import_item *it = &set->items[k];
			uint64_t seq;
			int err;

			if (it->skip || it->first != (pass == 0))
				continue;
			if ((err = import_put(s, it, &seq)))
				return err;
			*last = seq;
		}
	}
	return 0;
}

/* Checks and applies the set as the one change in progress (IMPORT above). */
static int import_locked(struct pg_store *s, struct import_set *set, uint64_t *last)
{
	int err;

	pthread_mutex_lock(&s->lock);
	while (atomic_load(&s->importing)) /* one import at a time */
		pthread_cond_wait(&s->import_cv, &s->lock);
	store_lock_all(s);
	err = import_check(s, set);
	if (!err)
		atomic_store(&s->importing, true);
	store_unlock_all(s);
	pthread_mutex_unlock(&s->lock);
	if (err)
		return err;
	err = import_apply(s, set, last);
	pthread_mutex_lock(&s->lock);
	atomic_store(&s->importing, false);
	pthread_cond_broadcast(&s->import_cv);
	if (atomic_load(&s->committer_idle))
		pthread_cond_signal(&s->commit_cv);
	pthread_mutex_unlock(&s->lock);
	return err;
}

/* Reads the whole file at path into memory of our own. 0; -EFBIG over max bytes;
 * PG_E_TRUNCATED under a snapshot header; PG_E_FILE_CHANGED when its size changed while it
 * was read; -ENOMEM or -errno. */
static int import_read(const char *path, uint64_t max, uint8_t **bufp, size_t *lenp)
{
	size_t len, got = 0;
	struct stat st;
	uint8_t *buf;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		err = -errno;
		goto err_close;
	}
	if ((uint64_t)st.st_size > max) {
		err = -EFBIG;
		goto err_close;
	}
	if (st.st_size < PG_SNAP_HDR) {
		err = PG_E_TRUNCATED;
		goto err_close;
	}
	len = (size_t)st.st_size;
	buf = malloc(len + 1); /* room for one byte more: a file that grew shows */
	if (!buf) {
		err = -ENOMEM;
		goto err_close;
	}
	while (got <= len) { /* each turn reads a byte or more, or ends */
		ssize_t r = read(fd, buf + got, len + 1 - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = -errno;
			goto err_free_buf;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	if (got != len) {
		err = PG_E_FILE_CHANGED;
		goto err_free_buf;
	}
	close(fd);
	*bufp = buf;
	*lenp = len;
	return 0;

err_free_buf:
	free(buf);
err_close:
	close(fd);
	return err;
}

int pg_store_import(struct pg_store *s, const char *path, uint64_t *ticket)
{
	struct import_set set = { .graph_key = s->graph_key };
	/* the largest snapshot a full store writes: a larger file cannot fit */
	uint64_t max = pg_snap_size(PG_SNAP_ID_MAX, 0, s->max_bytes);
	struct pg_snap_info info;
	uint64_t last = 0;
	uint8_t *buf = NULL;
	size_t len = 0;
	int err;

	if (atomic_load(&s->listening))
		return PG_E_LISTENING;
	if ((err = import_read(path, max, &buf, &len)))
		return err;
	err = pg_snap_parse(buf, len, s->graph_key, &s->lim, NULL, NULL, &info);
	if (err)
		goto out_free_buf;
	if (info.count > s->max_records) {
		err = PG_E_STORE_FULL;
		goto out_free_buf;
	}
	set.cap = info.count;
	set.items = calloc(info.count ? info.count : 1, sizeof(*set.items));
	if (!set.items) {
		err = -ENOMEM;
		goto out_free_buf;
	}
	/* the same bytes again, so the same verdict; should it differ, an error, not a crash */
	err = pg_snap_parse(buf, len, s->graph_key, &s->lim, import_collect, &set, NULL);
	if (!err && set.n != info.count)
		err = PG_E_BAD_FORMAT;
	if (err)
		goto out_free_items;
	qsort(set.items, set.n, sizeof(*set.items), key_cmp);
	for (uint64_t k = 1; k < set.n; k++)
		if (pg_key_eq(set.items[k - 1].key, set.items[k].key))
			err = PG_E_BAD_FORMAT; /* one record twice: not a database we wrote */
	if (!err)
		err = import_locked(s, &set, &last);
	if (!err && ticket)
		*ticket = last;
out_free_items:
	free(set.items);
out_free_buf:
	free(buf); /* the items' views point into it */
	return err;
}
