/*
 * store_open.c - the store's life cycle: the configuration checked, the shards built, the
 * directory taken and made durable, recovery (store_recover.c), the committer started; and
 * everything torn down again in reverse.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pg_assert.h"
#include "pg_error.h"
#include "pg_time.h"
#include "store_impl.h"

static int check_config(const struct pg_store_config *c)
{
	if (!c->dir || !c->graph_id || c->graph_id_len > PG_SNAP_ID_MAX)
		return -EINVAL;
	if (pg_record_limits_check(&c->limits))
		return PG_E_BAD_LIMIT;
	if (c->max_records == 0 || c->max_records >= (1u << 28) || c->max_bytes == 0 ||
	    c->commit_interval_us < 100 || c->commit_interval_us > 1000000 || c->tick_us == 0)
		return PG_E_BAD_LIMIT;
	return 0;
}

static int cv_init_mono(pthread_cond_t *cv)
{
	pthread_condattr_t a;
	int err;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	err = pthread_cond_init(cv, &a);
	pthread_condattr_destroy(&a);
	return -err;
}

/* Frees what pg_store_open built; each part may be missing. */
static void store_free(struct pg_store *s)
{
	if (s->logfd >= 0)
		close(s->logfd);
	if (s->lockfd >= 0)
		close(s->lockfd); /* drops the flock */
	if (s->dirfd >= 0)
		close(s->dirfd);
	free(s->iov);
	free(s->stage);
	for (unsigned k = 0; k < STORE_SHARDS; k++) {
		struct store_shard *sh = &s->shard[k];

		free(sh->iov);
		free(sh->gather);
		pg_wheel_destroy(sh->wheel);
		pg_arena_destroy(sh->arena);
		if (sh->index.e)
			pg_index_fini(&sh->index);
		pthread_mutex_destroy(&sh->lock);
	}
	pthread_cond_destroy(&s->commit_cv);
	pthread_cond_destroy(&s->durable_cv);
	pthread_cond_destroy(&s->room_cv);
	pthread_cond_destroy(&s->import_cv);
	pthread_cond_destroy(&s->compact_cv);
	pthread_mutex_destroy(&s->compact_lock);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* Builds every shard: an index and a wheel for the whole record bound each (a shard may end
 * up with every record; calloc'd, they cost address space until used), and an arena for the
 * whole byte bound each, all sharing one soft budget of segments (arena.c). 0 or an error. */
static int shards_init(struct pg_store *s, const struct pg_store_config *c, uint64_t now)
{
	uint64_t m = (c->max_bytes + c->segment_size - 1) / c->segment_size;
	struct pg_arena_config ac = {
		.segment_size = c->segment_size,
		.max_live = c->max_bytes,
		.budget = &s->segments,
		.budget_soft =
		    (uint32_t)(m < (1u << 24) ? 2 * m + 4 + 2 * STORE_SHARDS : UINT32_MAX),
	};
	int err;

	for (unsigned k = 0; k < STORE_SHARDS; k++) {
		struct store_shard *sh = &s->shard[k];

		if ((err = pg_index_init(&sh->index, c->max_records)) ||
		    (err = pg_arena_create(&ac, &sh->arena)) ||
		    (err = pg_wheel_create(c->max_records, c->tick_us, now, &sh->wheel)))
			return err;
		sh->iov = calloc(PG_ARENA_RANGES, sizeof(*sh->iov));
		sh->gather = calloc(1, sizeof(*sh->gather));
		if (!sh->iov || !sh->gather)
			return -ENOMEM;
	}
	return 0;
}

/* Makes a directory's entry durable: fsync of its parent. 0 or -errno. */
static int sync_parent(const char *dir)
{
	char parent[PATH_MAX];
	size_t n = strlen(dir);
	int fd, err = 0;

	if (n >= sizeof(parent))
		return -ENAMETOOLONG;
	memcpy(parent, dir, n + 1);
	while (n > 1 && parent[n - 1] == '/') /* "a/b/" names the same directory as "a/b" */
		parent[--n] = '\0';
	fd = open(dirname(parent), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		err = -errno;
	close(fd);
	return err;
}

/* Opens (creating) the directory, takes its lock file and makes the directory durable as
 * found. 0, -EBUSY or -errno. */
static int open_dir(struct pg_store *s, const char *dir)
{
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0)
		return -errno;
	s->lockfd = openat(s->dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (s->lockfd < 0)
		return -errno;
	if (flock(s->lockfd, LOCK_EX | LOCK_NB) < 0)
		return errno == EWOULDBLOCK ? -EBUSY : -errno;
	/* At every open, not only the one whose mkdir made the directory: a run that crashed
	 * before its fsyncs left the directory's own entry, or a file it created or renamed in
	 * it, possibly not durable, and this run builds on both -- it acknowledges records here,
	 * and recovery deletes the logs a renamed snapshot covers. */
	if (fsync(s->dirfd) < 0)
		return -errno;
	return sync_parent(dir);
}

int pg_store_open(const struct pg_store_config *c, struct pg_store **out)
{
	uint64_t now = c->now_us ? c->now_us : pg_time_now_us();
	struct pg_store *s;
	int err;

	PG_ASSERT(!store_in_callback());
	if ((err = check_config(c)))
		return err;
	s = aligned_alloc(PG_CACHE_LINE, sizeof(*s));
	if (!s)
		return -ENOMEM;
	memset(s, 0, sizeof(*s));
	s->dirfd = s->lockfd = s->logfd = s->notify_fd = -1;
	pthread_mutex_init(&s->lock, NULL);
	for (unsigned k = 0; k < STORE_SHARDS; k++)
		pthread_mutex_init(&s->shard[k].lock, NULL);
	pthread_mutex_init(&s->compact_lock, NULL);
	if ((err = cv_init_mono(&s->commit_cv)) || (err = cv_init_mono(&s->durable_cv)) ||
	    (err = cv_init_mono(&s->room_cv)) || (err = cv_init_mono(&s->import_cv)) ||
	    (err = cv_init_mono(&s->compact_cv)))
		goto err_free;
	s->lim = c->limits;
	s->graph_id_len = c->graph_id_len;
	memcpy(s->graph_id, c->graph_id, c->graph_id_len);
	s->graph_key = pg_graph_key(c->graph_id, c->graph_id_len);
	s->max_records = c->max_records;
	s->max_bytes = c->max_bytes;
	s->interval_us = c->commit_interval_us;
	s->compact_log_bytes = c->compact_log_bytes;
	s->defer = c->defer_expiration;
	s->direct = c->direct_io;
	if ((err = shards_init(s, c, now)))
		goto err_free;
	s->iov = calloc(STORE_IOV, sizeof(*s->iov));
	if (!s->iov) {
		err = -ENOMEM;
		goto err_free;
	}
	if ((err = open_dir(s, c->dir)))
		goto err_free;
	pthread_mutex_lock(&s->lock);
	atomic_store(&s->clock_us, now);
	err = store_recover(s, now);
	pthread_mutex_unlock(&s->lock);
	if (err)
		goto err_free;
	if ((err = store_commit_start(s)))
		goto err_free;
	*out = s;
	return 0;

err_free:
	store_free(s);
	return err;
}

void pg_store_close(struct pg_store *s)
{
	if (!s)
		return;
	PG_ASSERT(!store_in_callback());
	store_commit_stop(s);
	store_free(s);
}
