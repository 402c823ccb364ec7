/*
 * store_recover.c - opening a store: snapshot, then the logs in generation order, then expiry,
 * then a fresh log generation for the committer.
 *
 * Every record read back is decoded and validated again (pg_record_decode) and applied through
 * the same put path as live traffic, in log order, so replay reproduces the state the store
 * had acknowledged: a relocated copy (arena.c) is equal to the one held and changes nothing.
 * Sequence numbers must continue without a gap from the snapshot's through every log.
 *
 * What refuses to open, and with which code:
 *   - a snapshot that fails any check: its code (it is renamed into place whole, so damage
 *     there is never a torn write);
 *   - a log of another graph (PG_E_GRAPH_MISMATCH) or format (PG_E_BAD_FORMAT);
 *   - a bad block or file header followed by a valid block, or at the end of any log but the
 *     newest: PG_E_CHECKSUM (acknowledged bytes are damaged; see wal.c);
 *   - a checksummed entry that does not decode, breaks the sequence, or is an update
 *     pg_record_check_update refuses: that code;
 *   - more records or bytes than the configured bounds: PG_E_STORE_FULL.
 * A bad tail of the newest log (nothing valid after it) is a torn write of an unacknowledged
 * block: the file is truncated there (or removed if its header never made it) and counted.
 *
 * Records whose expiration has passed are removed at open (logged as REMOVE entries, like any
 * expiry), unless the graph defers expiration: it starts disconnected.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pg_assert.h"
#include "pg_bytes.h"
#include "pg_error.h"
#include "store_impl.h"

struct mapped {
	const uint8_t *p;
	size_t len;
	int fd;
};

/* Maps a whole file of the store directory read-only. 0 or -errno (-ENOENT when absent). */
static int map_file(struct pg_store *s, const char *name, int flags, struct mapped *m)
{
	static const uint8_t empty[1];
	struct stat st;
	void *p;

	m->fd = openat(s->dirfd, name, flags | O_CLOEXEC);
	if (m->fd < 0)
		return -errno;
	if (fstat(m->fd, &st) < 0)
		goto err_close;
	m->len = (size_t)st.st_size;
	m->p = empty;
	if (m->len == 0)
		return 0;
	p = mmap(NULL, m->len, PROT_READ, MAP_PRIVATE, m->fd, 0);
	if (p == MAP_FAILED)
		goto err_close;
	m->p = p;
	return 0;

err_close:
	close(m->fd);
	return -errno;
}

static void unmap_file(struct mapped *m)
{
	if (m->len)
		munmap((void *)m->p, m->len);
	close(m->fd);
}

static int apply_snap_record(void *arg, const struct pg_record *r, const uint8_t *raw, uint32_t len)
{
	struct pg_store *s = arg;
	struct pg_key key = pg_record_key_of(s->graph_key, r);
	struct store_shard *sh = store_shard_of(s, key);
	uint64_t seq;
	int err;

	if (pg_index_find(&sh->index, key) != PG_INDEX_NONE)
		return PG_E_BAD_FORMAT; /* one record twice */
	if ((err = store_put_locked(s, sh, key, r, raw, len, &seq)))
		return err;
	s->st.replayed++;
	return 0;
}

static int load_snapshot(struct pg_store *s, struct pg_snap_info *info)
{
	struct mapped m;
	int err;

	memset(info, 0, sizeof(*info));
	err = map_file(s, "snap", O_RDONLY, &m);
	if (err == -ENOENT)
		return 0;
	if (err)
		return err;
	err = pg_snap_parse(m.p, m.len, s->graph_key, &s->lim, apply_snap_record, s, info);
	if (!err)
		atomic_store(&s->appended_seq, info->seq);
	unmap_file(&m);
	return err;
}

struct replay {
	struct pg_store *s;
	int err; /* the callback's own verdict, told apart from the scanner's */
};

static int apply_entry(struct replay *rp, const struct pg_log_entry *e)
{
	struct pg_store *s = rp->s;
	struct store_shard *sh;
	struct pg_record r;
	struct pg_key key;
	uint64_t seq;
	uint32_t i;
	int err;

	if (e->seq != atomic_load(&s->appended_seq) + 1)
		return PG_E_BAD_FORMAT;
	if (e->kind == PG_LOG_PUT) {
		if ((err = pg_record_decode(e->body, e->len, &s->lim, &r)))
			return err;
		key = pg_record_key_of(s->graph_key, &r);
		err = store_put_locked(s, store_shard_of(s, key), key, &r, e->body, e->len, &seq);
		if (err == PG_E_STALE)
			s->st.replay_stale++;
		else if (err)
			return err;
	} else {
		key.lo = load_le64(e->body);
		key.hi = load_le64(e->body + 8);
		sh = store_shard_of(s, key);
		i = pg_index_find(&sh->index, key);
		if (i != PG_INDEX_NONE && sh->index.e[i].version == load_le32(e->body + 16))
			PG_ASSERT(store_remove_locked(s, sh, i, false) == 0); /* cannot fail */
		else
			s->st.replay_remove_miss++;
	}
	atomic_store(&s->appended_seq, e->seq);
	s->st.replayed++;
	return 0;
}

static int replay_entry(void *arg, const struct pg_log_entry *e)
{
	struct replay *rp = arg;

	rp->err = apply_entry(rp, e);
	return rp->err;
}

/* Cuts a torn tail off the newest log. */
static int drop_torn_tail(struct pg_store *s, const char *name, struct mapped *m, size_t end)
{
	s->st.torn_bytes += m->len - end;
	if (end < PG_LOG_FILE_HDR)
		return unlinkat(s->dirfd, name, 0) < 0 ? -errno : 0;
	if (ftruncate(m->fd, (off_t)end) < 0 || fdatasync(m->fd) < 0)
		return -errno;
	return 0;
}

static int replay_log(struct pg_store *s, uint64_t gen, bool newest)
{
	struct replay rp = { .s = s };
	struct pg_log_scan res;
	struct mapped m;
	char name[32];
	int err;

	store_log_name(name, gen);
	if ((err = map_file(s, name, O_RDWR, &m)))
		return err;
	s->log_bytes += m.len; /* not yet covered by a snapshot: counts toward compaction */
	err = pg_log_scan(m.p, m.len, s->graph_key, replay_entry, &rp, &res);
	if (rp.err) {
		err = rp.err;
	} else if (err == PG_E_GRAPH_MISMATCH ||
		   (err == PG_E_BAD_FORMAT && res.header_ok && res.end == 0 && !res.torn)) {
		/* a sound header of another graph or format: say so */
	} else if (err && (!res.torn || !newest)) {
		err = PG_E_CHECKSUM;
	} else if (err) {
		err = drop_torn_tail(s, name, &m, res.end);
	} else if (res.gen != gen) {
		err = PG_E_BAD_FORMAT;
	}
	unmap_file(&m);
	return err;
}

static int gen_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* The log generations present, ascending. 0, -EMFILE (over STORE_LOGS_MAX) or -errno. */
static int list_logs(struct pg_store *s, uint64_t **gens, size_t *n)
{
	size_t cap = 16;
	uint64_t *v = malloc(cap * sizeof(*v)), g;
	struct dirent *de;
	int fd, err = 0;
	DIR *d;

	*n = 0;
	if (!v)
		return -ENOMEM;
	fd = dup(s->dirfd);
	if (fd < 0 || !(d = fdopendir(fd))) {
		err = -errno;
		if (fd >= 0)
			close(fd);
		free(v);
		return err;
	}
	rewinddir(d); /* the offset is shared with s->dirfd through dup() */
	while (!err && (de = readdir(d))) {
		if (!store_log_parse(de->d_name, &g))
			continue;
		if (*n == STORE_LOGS_MAX) {
			err = -EMFILE;
		} else if (*n == cap) {
			uint64_t *nv = realloc(v, 2 * cap * sizeof(*v));

			if (!nv)
				err = -ENOMEM;
			else
				v = nv, cap *= 2;
		}
		if (!err)
			v[(*n)++] = g;
	}
	closedir(d);
	if (err) {
		free(v);
		return err;
	}
	qsort(v, *n, sizeof(*v), gen_cmp);
	*gens = v;
	return 0;
}

int store_recover(struct pg_store *s, uint64_t now_us)
{
	struct pg_snap_info info;
	uint64_t *gens = NULL, next_gen, expired;
	size_t n = 0;
	int err;

	s->replaying = true;
	unlinkat(s->dirfd, "snap.tmp", 0); /* a compaction that did not finish */
	if ((err = load_snapshot(s, &info)) || (err = list_logs(s, &gens, &n)))
		return err;
	next_gen = info.log_gen ? info.log_gen : 1;
	for (size_t k = 0; k < n; k++) {
		if (gens[k] < info.log_gen) {
			char name[32];

			/* covered by the snapshot: a compaction died before deleting it */
			store_log_name(name, gens[k]);
			unlinkat(s->dirfd, name, 0);
			continue;
		}
		if ((err = replay_log(s, gens[k], k + 1 == n)))
			goto out_free;
		if (gens[k] + 1 > next_gen)
			next_gen = gens[k] + 1;
	}
	s->replaying = false;
	s->committed_seq = atomic_load(&s->appended_seq);
	pg_store_relaxed(&s->durable_seq, s->committed_seq); /* no other thread runs yet */
	if (!atomic_load(&s->defer))			     /* one thread: no shard lock needed */
		s->st.expired_at_open = expired = store_expire_all(s, now_us, 0);
	err = store_log_create(s, next_gen, &s->logfd);
	if (!err)
		s->gen = next_gen;
	/* Each open starts a log of its own, so a node that restarts often with little traffic
	 * would pile up logs (and replay time) without ever passing the byte threshold: compact
	 * at open when the logs are many or large. The compactor starts with the committer. */
	if (!err && s->compact_log_bytes &&
	    (n >= STORE_LOGS_COMPACT || (s->log_bytes > s->compact_log_bytes &&
					 s->log_bytes > 2 * atomic_load(&s->live_bytes))))
		s->compact_wanted = true;
out_free:
	free(gens);
	return err;
}
