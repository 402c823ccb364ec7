/*
 * store_commit.c - group commit and log rotation: the committer thread.
 *
 * GROUP COMMIT
 *
 * Puts append entries to their shard's arena and queue them under the shard's lock, each
 * numbered from the store's one sequence (store_impl.h, SHARDS). The committer thread wakes
 * at most once per commit interval (at once when it was idle, or on a flush request) and
 * gathers each shard's queued ranges under that shard's lock. Then, without any lock, it
 * merges them by sequence number into one block in the staging buffer -- entry committed + 1,
 * + 2, ... from whichever shard holds it, up to the first number no gathered range holds (an
 * entry being made right now) or the block's byte bound or a rotation cut -- writes it with
 * its header and fdatasync()s the file. Back under the locks it marks what it took written,
 * publishes the block's last sequence number as durable and wakes waiters. Workers keep
 * putting while the disk works, so the next block holds everything that came in meanwhile:
 * the batch grows with the load and the disk sees large sequential writes.
 *
 * The merge copies every entry once into the staging buffer (needed for O_DIRECT anyway):
 * the shards' entries interleave one by one, too finely for an iovec per run.
 *
 * ROTATION
 *
 * A compaction (store_compact.c) sets a cut after entry cut_seq. The merge never passes it;
 * on reaching it the committer has synced everything up to it into generation G, creates
 * G+1 (header and directory entry synced) and appends everything after the cut there.
 *
 * Write or fdatasync errors are sticky: after a failed fdatasync the kernel may have dropped
 * the dirty pages, so retrying could acknowledge data that is not on disk. The store then
 * refuses puts with that error until it is closed.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pg_assert.h"
#include "pg_bytes.h"
#include "pg_error.h"
#include "pg_time.h"
#include "store_impl.h"

void store_log_name(char out[32], uint64_t gen)
{
	snprintf(out, 32, "log.%016" PRIx64, gen);
}

bool store_log_parse(const char *name, uint64_t *gen)
{
	uint64_t g = 0;

	if (strncmp(name, "log.", 4) != 0 || strlen(name) != 20)
		return false;
	for (int i = 4; i < 20; i++) {
		char c = name[i];

		if (c >= '0' && c <= '9')
			g = g << 4 | (uint64_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			g = g << 4 | (uint64_t)(c - 'a' + 10);
		else
			return false;
	}
	*gen = g;
	return true;
}

/* Drops w written bytes from the front of an iovec array: whole entries, then part of one. */
static void iov_advance(struct iovec **iov, int *n, size_t w)
{
	while (*n > 0 && w >= (*iov)->iov_len) {
		w -= (*iov)->iov_len;
		(*iov)++;
		(*n)--;
	}
	if (*n > 0) {
		(*iov)->iov_base = (uint8_t *)(*iov)->iov_base + w;
		(*iov)->iov_len -= w;
	}
}

/* Writes every byte of iov[0..n), advancing over short writes. 0 or -errno. */
static int writev_all(int fd, struct iovec *iov, int n)
{
	while (n > 0) {
		ssize_t w = writev(fd, iov, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		iov_advance(&iov, &n, (size_t)w);
	}
	return 0;
}

/* The same at file offset off, for a log file (O_DIRECT or not). */
static int pwritev_all(int fd, struct iovec *iov, int n, off_t off)
{
	while (n > 0) {
		ssize_t w = pwritev(fd, iov, n, off);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		off += w;
		iov_advance(&iov, &n, (size_t)w);
	}
	return 0;
}

int store_write_all(int fd, const void *buf, size_t len)
{
	struct iovec v = { .iov_base = (void *)buf, .iov_len = len };

	return writev_all(fd, &v, 1);
}

/* Makes the aligned staging buffer hold at least size bytes. 0 or -ENOMEM. */
static int stage_reserve(struct pg_store *s, size_t size)
{
	size_t cap = (size + (1u << 20) - 1) & ~(size_t)((1u << 20) - 1);
	uint8_t *n;

	if (s->stage_cap >= size)
		return 0;
	n = aligned_alloc(PG_LOG_ALIGN, cap);
	if (!n)
		return -ENOMEM;
	free(s->stage);
	s->stage = n;
	s->stage_cap = cap;
	return 0;
}

/* Opens a new log file, with O_DIRECT while the file system takes it. A descriptor or -errno. */
static int log_open(struct pg_store *s, const char *name)
{
	int flags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, fd;

	if (s->direct) {
		fd = openat(s->dirfd, name, flags | O_DIRECT, 0644);
		if (fd >= 0 || errno != EINVAL)
			return fd < 0 ? -errno : fd;
		/* tmpfs and friends: buffered from now on (the failed open may have created it) */
		s->direct = false;
		unlinkat(s->dirfd, name, 0);
	}
	fd = openat(s->dirfd, name, flags, 0644);
	return fd < 0 ? -errno : fd;
}

int store_log_create(struct pg_store *s, uint64_t gen, int *fdp)
{
	char name[32];
	int fd, err;

	store_log_name(name, gen);
	if ((err = stage_reserve(s, PG_LOG_ALIGN)))
		return err;
	if ((fd = log_open(s, name)) < 0)
		return fd;
	/* the header fills the first 4 KiB page, so every block write stays aligned */
	pg_log_file_header(s->stage, s->graph_key, gen, PG_LOG_ALIGN);
	if (pwrite(fd, s->stage, PG_LOG_ALIGN, 0) != PG_LOG_ALIGN) {
		err = errno ? -errno : -EIO;
		goto err_unlink;
	}
	if (fdatasync(fd) < 0 || fsync(s->dirfd) < 0) {
		err = -errno;
		goto err_unlink;
	}
	s->file_off = PG_LOG_ALIGN;
	*fdp = fd;
	return 0;

err_unlink:
	close(fd);
	unlinkat(s->dirfd, name, 0);
	return err;
}

static void record_commit(struct pg_store *s, const struct pg_store_commit *c)
{
	s->commits[s->commit_next] = *c;
	s->commit_next = (s->commit_next + 1) % STORE_COMMITS_KEPT;
	if (s->commit_count < STORE_COMMITS_KEPT)
		s->commit_count++;
	s->st.commits++;
	s->st.commit_entries += c->entries;
	s->st.commit_bytes += c->bytes;
}

/* Wakes an event loop waiting on the store (pg_store_set_notify_fd); under the lock. */
static void notify(struct pg_store *s)
{
	uint64_t one = 1;

	/* an eventfd counter: a full one (EAGAIN) has a wake-up pending already */
	if (s->notify_fd >= 0 && write(s->notify_fd, &one, sizeof(one)) < 0)
		s->st.notify_misses++;
}

/* The merge's position in one shard's gathered ranges. */
struct cursor {
	unsigned range;
	uint32_t off;
};

/* The gathered entry at a cursor, or NULL past the shard's last gathered range. */
static const uint8_t *cursor_entry(const struct store_shard *sh, const struct cursor *c)
{
	if (c->range >= sh->gather->ranges)
		return NULL;
	return (const uint8_t *)sh->iov[c->range].iov_base + c->off;
}

/* Merges the gathered entries from seq first on, in sequence order, up to last_max and
 * max_bytes (the first entry always goes), copying them to out when it is not NULL.
 * Returns the bytes taken; *next is the first sequence number not taken, *limited whether
 * the byte bound stopped it; cur[] ends where each shard's taking stops. */
static uint64_t merge(struct pg_store *s, uint64_t first, uint64_t last_max, uint64_t max_bytes,
		      uint8_t *out, struct cursor cur[STORE_SHARDS], uint64_t *next, bool *limited)
{
	uint64_t seq = first, bytes = 0;

	*limited = false;
	for (unsigned k = 0; k < STORE_SHARDS; k++)
		cur[k] = (struct cursor){ 0, 0 };
	while (seq <= last_max) {
		const uint8_t *ent = NULL;
		unsigned k;
		uint32_t size;

		for (k = 0; k < STORE_SHARDS; k++) {
			ent = cursor_entry(&s->shard[k], &cur[k]);
			if (ent && load_le64(ent + 8) == seq)
				break;
		}
		if (k == STORE_SHARDS)
			break; /* taken but not yet queued when its shard was gathered */
		size = (uint32_t)pg_log_entry_size(load_le32(ent));
		if (bytes && bytes + size > max_bytes) {
			*limited = true;
			break;
		}
		if (out)
			memcpy(out + bytes, ent, size);
		bytes += size;
		seq++;
		cur[k].off += size;
		PG_ASSERT(cur[k].off <= s->shard[k].gather->taken[cur[k].range]);
		if (cur[k].off == s->shard[k].gather->taken[cur[k].range])
			cur[k] = (struct cursor){ cur[k].range + 1, 0 };
	}
	*next = seq;
	return bytes;
}

/* Writes and syncs one block of what is queued. Called and returns with s->lock held. */
static int commit_block(struct pg_store *s)
{
	struct pg_store_commit c = { .start_ns = pg_mono_ns() };
	uint64_t last_max = s->cut_pending ? s->cut_seq : UINT64_MAX, next, bytes;
	struct cursor cur[STORE_SHARDS];
	bool limited = false, lim2;
	uint32_t pad;
	size_t size;
	int err = 0;

	for (unsigned k = 0; k < STORE_SHARDS; k++) {
		struct store_shard *sh = &s->shard[k];

		pthread_mutex_lock(&sh->lock);
		pg_arena_gather(sh->arena, sh->iov, PG_ARENA_RANGES, STORE_BLOCK_BYTES, sh->gather);
		pthread_mutex_unlock(&sh->lock);
		limited |= sh->gather->limited;
	}
	c.first_seq = s->committed_seq + 1;
	pthread_mutex_unlock(&s->lock);

	/* no lock: puts go on appending behind the gathered ranges, which nobody else touches */
	bytes = merge(s, c.first_seq, last_max, STORE_BLOCK_BYTES, NULL, cur, &next, &lim2);
	if (bytes == 0) {
		pthread_mutex_lock(&s->lock);
		return 0;
	}
	c.entries = (uint32_t)(next - c.first_seq);
	c.bytes = (uint32_t)bytes;
	size = PG_LOG_BLOCK_HDR + bytes;
	pad = (uint32_t)((PG_LOG_ALIGN - size % PG_LOG_ALIGN) % PG_LOG_ALIGN);
	if (!(err = stage_reserve(s, size + pad))) {
		pg_log_block_header(s->stage, s->graph_key, c.first_seq, c.entries, c.bytes, pad);
		PG_ASSERT(merge(s, c.first_seq, last_max, STORE_BLOCK_BYTES,
				s->stage + PG_LOG_BLOCK_HDR, cur, &next, &lim2) == bytes);
		memset(s->stage + size, 0, pad);
		s->iov[0] = (struct iovec){ s->stage, size + pad };
		err = pwritev_all(s->logfd, s->iov, 1, (off_t)s->file_off);
	}
	s->file_off += size + pad;
	uint64_t t = pg_mono_ns();

	c.write_ns = t - c.start_ns;
	if (!err && fdatasync(s->logfd) < 0)
		err = -errno;
	c.sync_ns = pg_mono_ns() - t;

	pthread_mutex_lock(&s->lock);
	if (err)
		return err;
	for (unsigned k = 0; k < STORE_SHARDS; k++) {
		struct store_shard *sh = &s->shard[k];
		struct pg_arena_gather *g = sh->gather;

		/* what the merge took: whole ranges before the cursor, part of the one at it */
		g->ranges = cur[k].range + (cur[k].off ? 1 : 0);
		if (cur[k].off)
			g->taken[cur[k].range] = cur[k].off;
		if (!g->ranges)
			continue;
		pthread_mutex_lock(&sh->lock);
		pg_arena_written(sh->arena, g);
		pthread_mutex_unlock(&sh->lock);
	}
	s->gather_limited = limited || lim2;
	s->committed_seq = next - 1;
	/* the entries up to committed_seq are on disk before a reader can see this value */
	pg_store_release(&s->durable_seq, s->committed_seq);
	s->log_bytes += size + pad;
	record_commit(s, &c);
	pthread_cond_broadcast(&s->durable_cv);
	pthread_cond_broadcast(&s->room_cv);
	notify(s);
	return 0;
}

/* Switches to the next generation at a cut. Called and returns with the lock held. */
static int rotate(struct pg_store *s)
{
	uint64_t gen = s->gen + 1;
	int fd, err;

	pthread_mutex_unlock(&s->lock);
	err = store_log_create(s, gen, &fd);
	pthread_mutex_lock(&s->lock);
	if (err)
		return err;
	close(s->logfd); /* everything in it was synced by commit_block */
	s->logfd = fd;
	s->gen = gen;
	s->log_bytes = 0;
	pthread_cond_broadcast(&s->durable_cv);
	return 0;
}

static void fail(struct pg_store *s, int err)
{
	if (!atomic_load(&s->io_err))
		atomic_store(&s->io_err, err);
	pthread_cond_broadcast(&s->durable_cv);
	pthread_cond_broadcast(&s->room_cv);
	notify(s);
}

static void *committer_main(void *arg)
{
	struct pg_store *s = arg;
	uint64_t last = 0;
	int err;

	pthread_mutex_lock(&s->lock);
	while (!atomic_load(&s->io_err)) {
		for (;;) {
			/* idle first, then the sequence: a put takes its number, then reads idle
			 * (kick in store.c), so one of the two sees the other (both seq_cst) */
			atomic_store(&s->committer_idle, true);
			if (atomic_load(&s->appended_seq) != s->committed_seq || s->cut_pending ||
			    s->stopping)
				break;
			pthread_cond_wait(&s->commit_cv, &s->lock);
		}
		atomic_store(&s->committer_idle, false);
		if (atomic_load(&s->appended_seq) == s->committed_seq && !s->cut_pending)
			break; /* stopping, and everything is written */
		/* one commit per interval: the batch gathers meanwhile */
		while (!s->flush && !s->stopping) {
			uint64_t now = pg_mono_ns(), due = last + s->interval_us * 1000ull;

			if (now >= due)
				break;
			struct timespec ts = { .tv_sec = (time_t)(due / 1000000000ull),
					       .tv_nsec = (long)(due % 1000000000ull) };
			pthread_cond_timedwait(&s->commit_cv, &s->lock, &ts);
		}
		s->flush = false;
		last = pg_mono_ns();
		if ((err = commit_block(s))) {
			fail(s, err);
			break;
		}
		if (s->gather_limited)
			s->flush = true; /* a backlog over one block: write on at once */
		if (s->cut_pending && s->committed_seq == s->cut_seq) {
			if ((err = rotate(s))) {
				fail(s, err);
				break;
			}
			s->cut_pending = false;
		}
		if (s->compact_log_bytes && !s->compact_wanted &&
		    s->log_bytes > s->compact_log_bytes &&
		    s->log_bytes > 2 * atomic_load(&s->live_bytes)) {
			s->compact_wanted = true;
			pthread_cond_signal(&s->compact_cv);
		}
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

static void *compactor_main(void *arg)
{
	struct pg_store *s = arg;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		while (!s->compact_wanted && !s->stopping)
			pthread_cond_wait(&s->compact_cv, &s->lock);
		if (s->stopping)
			break;
		pthread_mutex_unlock(&s->lock);
		pg_store_compact(s);
		pthread_mutex_lock(&s->lock);
		s->compact_wanted = false;
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

int store_commit_start(struct pg_store *s)
{
	int err;

	if ((err = pthread_create(&s->committer, NULL, committer_main, s)))
		return -err;
	s->committer_started = true;
	pthread_setname_np(s->committer, "pg-commit"); /* for top, perf and gdb */
	if (s->compact_log_bytes) {
		if ((err = pthread_create(&s->compactor, NULL, compactor_main, s))) {
			store_commit_stop(s);
			return -err;
		}
		s->compactor_started = true;
		pthread_setname_np(s->compactor, "pg-compact");
	}
	return 0;
}

void store_commit_stop(struct pg_store *s)
{
	pthread_mutex_lock(&s->lock);
	s->stopping = true;
	pthread_cond_broadcast(&s->commit_cv);
	pthread_cond_broadcast(&s->compact_cv);
	pthread_mutex_unlock(&s->lock);
	/* the compactor may wait for a rotation, which needs the committer: join it first */
	if (s->compactor_started)
		pthread_join(s->compactor, NULL);
	if (s->committer_started)
		pthread_join(s->committer, NULL);
	s->compactor_started = s->committer_started = false;
}
