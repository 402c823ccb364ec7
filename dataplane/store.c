/*
 * store.c - the record store's front: puts by the conflict order, gets, enumeration, expiry,
 * events, limits, and the store's life cycle. Persistence is in store_commit.c (group
 * commit), store_compact.c (compaction, export, import) and store_recover.c (open, replay).
 *
 * A put decodes and validates the record outside the lock, then under it: looks the key up,
 * applies the conflict order (an older or equal copy is PG_E_STALE; a newer one must pass
 * pg_record_check_update), checks the record and byte bounds, copies the record once into an
 * arena entry that is also its log entry, gives it the next sequence number (its ticket) and
 * queues it for the committer. So the log order is exactly the order changes were applied,
 * which is what makes replay reproduce the state.
 *
 * Expiry: each record's slot is a timer on the wheel at its expiration; pg_store_expire
 * advances the wheel. An expired record is logged as a REMOVE entry (so a reopen does not
 * resurrect it even before the next compaction; the next snapshot simply lacks it). With the
 * graph's "defer expiration" flag set and the graph not connected, pg_store_expire does
 * nothing; on reconnection the backlog (every record whose time passed meanwhile) expires at
 * the next pg_store_expire call, earliest tick first, `max` per call, each with its EXPIRED
 * event. Tombstones expire like any record, with an EXPIRED event of their own.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pg_assert.h"
#include "pg_bytes.h"
#include "pg_error.h"
#include "pg_time.h"
#include "store_impl.h"

enum {
	BUSY_TRIES = 200, /* a put waits at most this many waits for the committer */
};

/* Set while an event or enumeration callback runs on this thread: it may not re-enter. */
static __thread bool in_callback;
#define API_ENTER() PG_ASSERT(!in_callback)

void pg_store_config_default(struct pg_store_config *c)
{
	pg_record_limits_default(&c->limits);
	c->max_records = PG_STORE_RECORDS_DEFAULT;
	c->max_bytes = 256ull << 20;
	c->segment_size = PG_ARENA_SEGMENT_DEFAULT;
	c->commit_interval_us = PG_STORE_INTERVAL_DEFAULT_US;
	c->compact_log_bytes = 64ull << 20;
	c->tick_us = PG_STORE_TICK_DEFAULT_US;
	c->defer_expiration = false;
	c->direct_io = true;
	c->now_us = 0;
}

static void emit(struct pg_store *s, enum pg_store_event_kind kind, struct pg_key key,
		 const struct pg_record *r, uint64_t seq)
{
	struct pg_store_event ev = { .kind = kind, .key = key, .rec = r, .seq = seq };

	if (!s->event_fn)
		return;
	in_callback = true;
	s->event_fn(s->event_arg, &ev);
	in_callback = false;
}

/* Decodes the stored copy of entry i; it was validated when stored. */
static void stored_view(struct pg_store *s, uint32_t i, struct pg_record *r)
{
	const struct pg_index_entry *e = &s->index.e[i];

	PG_ASSERT(pg_record_decode(e->ent + PG_LOG_ENTRY_HDR, e->body_len, &s->lim, r) == 0);
}

static int clean_one(struct pg_store *s);

/* Allocates an entry, cleaning a segment when the pool is full, and gives it the next
 * sequence number (0 while replaying: replayed entries are already in the log). */
static int entry_alloc(struct pg_store *s, uint32_t size, uint64_t *seq, uint32_t *block,
		       uint8_t **ent)
{
	for (int tries = 0; tries < 3; tries++) {
		uint64_t q = s->replaying ? 0 : s->appended_seq + 1;
		int err = pg_arena_alloc(s->arena, size, q, block, ent);

		if (err == 0) {
			*seq = q;
			if (q) {
				s->appended_seq = q;
				if (s->committer_idle) {
					s->committer_idle = false;
					pthread_cond_signal(&s->commit_cv);
				}
			}
			return 0;
		}
		if (err != -ENOSPC)
			return err;
		if ((err = clean_one(s)))
			return err;
	}
	return -EBUSY;
}

/* Moves the live entries of the emptiest written segment into the reserve (arena.c). Each
 * moved entry is logged again under a new sequence number: replay sees a copy equal to the
 * one it holds and keeps it. */
static int clean_one(struct pg_store *s)
{
	const uint8_t *base;
	uint32_t victim, used, off = 0;
	int err;

	if ((err = pg_arena_clean_begin(s->arena, &victim, &base, &used)))
		return err;
	while (off < used) {
		const uint8_t *ent = base + off;
		uint32_t len = load_le32(ent), size = (uint32_t)pg_log_entry_size(len), block, i;
		uint64_t q = s->replaying ? 0 : s->appended_seq + 1;
		uint8_t *to;

		off += size;
		if (ent[PG_LOG_ENTRY_KIND_OFF] != PG_LOG_PUT) /* a REMOVE is dead in memory */
			continue;
		i = pg_index_find(&s->index,
				  pg_record_key_encoded(s->graph_key, ent + PG_LOG_ENTRY_HDR));
		if (i == PG_INDEX_NONE || s->index.e[i].ent != ent)
			continue;
		/* the reserve was empty and the victim's live bytes fit in one segment */
		PG_ASSERT(pg_arena_alloc(s->arena, size, q, &block, &to) == 0);
		memcpy(to, ent, size);
		pg_log_entry_seal(to, PG_LOG_PUT, len, q,
				  pg_log_body_hash(to + PG_LOG_ENTRY_HDR, len, s->graph_key));
		if (q)
			s->appended_seq = q;
		pg_arena_release(s->arena, victim, size);
		s->index.e[i].ent = to;
		s->index.e[i].block = block;
		s->st.relocated++;
	}
	pg_arena_clean_end(s->arena, victim);
	return 0;
}

static int full(struct pg_store *s, uint64_t *counter)
{
	if (!s->replaying)
		(*counter)++;
	return PG_E_STORE_FULL;
}

static void schedule(struct pg_store *s, uint32_t i, uint64_t expires_us)
{
	if (expires_us == PG_TIME_INFINITE)
		pg_wheel_cancel(s->wheel, i);
	else
		pg_wheel_schedule(s->wheel, i, expires_us);
}

int store_put_locked(struct pg_store *s, const struct pg_record *r, const uint8_t *raw,
		     uint32_t len, uint64_t *seqp)
{
	struct pg_key key = pg_record_key_of(s->graph_key, r);
	uint64_t size = pg_log_entry_size(len), old = 0, seq, ch;
	uint32_t i = pg_index_find(&s->index, key), block;
	bool had = i != PG_INDEX_NONE, was_live = false;
	struct pg_index_entry *e;
	struct pg_record prev;
	uint8_t *ent;
	int err;

	if (had) {
		stored_view(s, i, &prev);
		if (pg_record_order(r, &prev) <= 0)
			return PG_E_STALE;
		if ((err = pg_record_check_update(&prev, r)))
			return err;
		old = pg_log_entry_size(s->index.e[i].body_len);
		was_live = !(prev.flags & PG_RECORD_DELETED);
	} else if (s->index.count >= s->max_records) {
		return full(s, &s->st.full_records);
	}
	if (s->live_bytes - old + size > s->max_bytes)
		return full(s, &s->st.full_bytes);
	if ((err = pg_index_reserve(&s->index)))
		return err;
	/* may clean, moving entries (prev's too): only slot numbers stay valid across it */
	if ((err = entry_alloc(s, (uint32_t)size, &seq, &block, &ent)))
		return err;
	if (raw)
		memcpy(ent + PG_LOG_ENTRY_HDR, raw, len);
	else
		PG_ASSERT(pg_record_encode(r, &s->lim, ent + PG_LOG_ENTRY_HDR, len) == (long)len);
	pg_log_entry_seal(ent, PG_LOG_PUT, len, seq,
			  pg_log_body_hash(ent + PG_LOG_ENTRY_HDR, len, s->graph_key));
	ch = pg_index_creator_hash(r->creator, r->creator_len);
	if (had) {
		e = &s->index.e[i];
		pg_arena_release(s->arena, e->block, (uint32_t)old);
		s->live_bytes -= old;
		pg_index_relink(&s->index, i, PG_INDEX_BY_CREATOR, ch);
	} else {
		i = pg_index_insert(&s->index, key, pg_index_type_hash(&r->type), ch);
		e = &s->index.e[i];
	}
	e->ent = ent;
	e->block = block;
	e->body_len = len;
	e->version = r->version;
	e->flags = r->flags;
	if (!had || e->expires_us != r->expires_us) {
		e->expires_us = r->expires_us;
		schedule(s, i, r->expires_us);
	}
	s->live_bytes += size;
	*seqp = seq;
	if (s->replaying)
		return 0;
	if (r->flags & PG_RECORD_DELETED) {
		s->st.deleted++;
		emit(s, PG_STORE_DELETED, key, r, seq);
	} else if (was_live) {
		s->st.updated++;
		emit(s, PG_STORE_UPDATED, key, r, seq);
	} else {
		s->st.added++;
		emit(s, PG_STORE_ADDED, key, r, seq);
	}
	return 0;
}

int store_remove_locked(struct pg_store *s, uint32_t i, bool from_wheel)
{
	uint8_t body[PG_LOG_REMOVE_LEN], *ent;
	struct pg_index_entry *e = &s->index.e[i];
	uint64_t size = pg_log_entry_size(e->body_len), seq;
	struct pg_record r;
	uint32_t block;
	int err;

	if (!s->replaying) {
		store_le64(body, e->key.lo);
		store_le64(body + 8, e->key.hi);
		store_le32(body + 16, e->version);
		store_le32(body + 20, PG_LOG_EXPIRED);
		if ((err = entry_alloc(s, (uint32_t)pg_log_entry_size(sizeof(body)), &seq, &block,
				       &ent)))
			return err;
		memcpy(ent + PG_LOG_ENTRY_HDR, body, sizeof(body));
		pg_log_entry_seal(ent, PG_LOG_REMOVE, sizeof(body), seq,
				  pg_log_body_hash(body, sizeof(body), s->graph_key));
		/* a REMOVE entry is only for the log: dead in memory from the start */
		pg_arena_release(s->arena, block, (uint32_t)pg_log_entry_size(sizeof(body)));
		e = &s->index.e[i]; /* cleaning may have moved the entry */
		stored_view(s, i, &r);
		emit(s, PG_STORE_EXPIRED, e->key, &r, seq);
	}
	pg_arena_release(s->arena, e->block, (uint32_t)size);
	s->live_bytes -= size;
	if (!from_wheel)
		pg_wheel_cancel(s->wheel, i);
	pg_index_remove(&s->index, i);
	return 0;
}

int store_expire_fire(void *arg, uint32_t id, uint64_t when_us)
{
	struct pg_store *s = arg;
	int err;

	(void)when_us;
	if ((err = store_remove_locked(s, id, true)))
		return err;
	s->st.expired++;
	return 0;
}

/* Waits on cv for at most us microseconds (spurious wake-ups are the caller's loop). */
static void cv_wait_us(pthread_cond_t *cv, pthread_mutex_t *m, uint64_t us)
{
	uint64_t ns = pg_mono_ns() + us * 1000;
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000ull),
			       .tv_nsec = (long)(ns % 1000000000ull) };

	pthread_cond_timedwait(cv, m, &ts);
}

void store_wait_room(struct pg_store *s)
{
	s->st.busy_waits++;
	s->flush = true;
	pthread_cond_signal(&s->commit_cv);
	cv_wait_us(&s->room_cv, &s->lock, 2ull * s->interval_us);
}

static int put_wait(struct pg_store *s, const struct pg_record *r, const uint8_t *raw, uint32_t len,
		    uint64_t *ticket)
{
	uint64_t seq = 0;
	int err;

	pthread_mutex_lock(&s->lock);
	/* A copy that expired already (a late flood, a stale peer) would be stored only to be
	 * removed at the next tick -- or, after its key was forgotten, come back as ADDED. */
	if (r->expires_us <= s->clock_us && !(s->defer && !s->connected)) {
		s->st.expired_refused++;
		pthread_mutex_unlock(&s->lock);
		return PG_E_RECORD_EXPIRED;
	}
	for (unsigned tries = 0;; tries++) {
		if ((err = s->io_err))
			break;
		if (!s->importing) {
			err = store_put_locked(s, r, raw, len, &seq);
			if (err != -EBUSY)
				break;
		}
		if (tries == BUSY_TRIES) {
			s->st.full_busy++;
			err = PG_E_STORE_FULL;
			break;
		}
		/* an import is being applied and must not be interleaved (store_compact.c), or
		 * the arena is full of bytes the committer has not written yet */
		if (s->importing)
			cv_wait_us(&s->import_cv, &s->lock, 2ull * s->interval_us);
		else
			store_wait_room(s);
	}
	if (err == PG_E_STALE)
		s->st.stale++;
	else if (err && err != PG_E_STORE_FULL)
		s->st.rejected++;
	pthread_mutex_unlock(&s->lock);
	if (!err && ticket)
		*ticket = seq;
	return err;
}

int pg_store_put(struct pg_store *s, const uint8_t *rec, size_t len, uint64_t *ticket)
{
	struct pg_record r;
	int err;

	API_ENTER();
	if (len > UINT32_MAX)
		return PG_E_TOO_LARGE;
	if ((err = pg_record_decode(rec, len, &s->lim, &r))) {
		pthread_mutex_lock(&s->lock);
		s->st.rejected++;
		pthread_mutex_unlock(&s->lock);
		return err;
	}
	return put_wait(s, &r, rec, (uint32_t)len, ticket);
}

int pg_store_put_record(struct pg_store *s, const struct pg_record *r, uint64_t *ticket)
{
	int err;

	API_ENTER();
	/* everything the encoder would refuse is refused here, before any byte is allocated */
	if ((err = pg_record_validate(r, &s->lim)) ||
	    (err = pg_attrs_check(r->attrs, r->attrs_len, r->nattrs)))
		return err;
	return put_wait(s, r, NULL, (uint32_t)pg_record_encoded_size(r), ticket);
}

int pg_store_get(struct pg_store *s, const struct pg_guid *id, const char *creator,
		 uint16_t creator_len, unsigned flags, uint8_t *out, size_t cap, size_t *len)
{
	struct pg_key key;
	const struct pg_index_entry *e;
	uint32_t i;
	int err = 0;

	API_ENTER();
	if (creator_len > PG_ID_MAX)
		return PG_E_ID_TOO_LONG;
	key = pg_record_key(s->graph_key, id, creator, creator_len);
	pthread_mutex_lock(&s->lock);
	i = pg_index_find(&s->index, key);
	if (i == PG_INDEX_NONE) {
		err = PG_E_NOT_FOUND;
		goto out_unlock;
	}
	e = &s->index.e[i];
	if ((e->flags & PG_RECORD_DELETED) && !(flags & PG_STORE_WITH_DELETED)) {
		err = PG_E_NOT_FOUND;
		goto out_unlock;
	}
	*len = e->body_len;
	if (cap < e->body_len)
		err = -ENOSPC;
	else
		memcpy(out, e->ent + PG_LOG_ENTRY_HDR, e->body_len);
out_unlock:
	pthread_mutex_unlock(&s->lock);
	return err;
}

struct enum_filter {
	const struct pg_guid *type;
	const char *creator;
	uint16_t creator_len;
	unsigned flags;
};

/* Offers entry i to fn when it passes the filter. Returns fn's verdict (0: go on). */
static int enum_one(struct pg_store *s, uint32_t i, const struct enum_filter *f,
		    pg_store_record_fn fn, void *arg, long *n)
{
	const struct pg_index_entry *e = &s->index.e[i];
	struct pg_record r;
	int stop;

	if ((e->flags & PG_RECORD_DELETED) && !(f->flags & PG_STORE_WITH_DELETED))
		return 0;
	stored_view(s, i, &r);
	if (f->type && memcmp(&r.type, f->type, sizeof(r.type)) != 0)
		return 0;
	if (f->creator &&
	    (r.creator_len != f->creator_len || memcmp(r.creator, f->creator, f->creator_len) != 0))
		return 0;
	(*n)++;
	in_callback = true;
	stop = fn(arg, &r, e->ent + PG_LOG_ENTRY_HDR, e->body_len);
	in_callback = false;
	return stop;
}

long pg_store_enum(struct pg_store *s, const struct pg_guid *type, const char *creator,
		   uint16_t creator_len, unsigned flags, pg_store_record_fn fn, void *arg)
{
	struct enum_filter f = { type, creator, creator_len, flags };
	long n = 0;
	uint32_t i;

	API_ENTER();
	pthread_mutex_lock(&s->lock);
	if (type || creator) {
		enum pg_index_list list = type ? PG_INDEX_BY_TYPE : PG_INDEX_BY_CREATOR;
		uint64_t h =
		    type ? pg_index_type_hash(type) : pg_index_creator_hash(creator, creator_len);

		for (i = pg_index_first(&s->index, list, h); i != PG_INDEX_NONE;
		     i = s->index.e[i].next[list])
			if (enum_one(s, i, &f, fn, arg, &n))
				break;
	} else {
		for (i = 0; i < s->index.hwm; i++)
			if (s->index.e[i].ent && enum_one(s, i, &f, fn, arg, &n))
				break;
	}
	pthread_mutex_unlock(&s->lock);
	return n;
}

uint64_t pg_store_durable_seq(struct pg_store *s)
{
	/* pairs with the committer's release after fdatasync: the entries are on disk */
	return pg_load_acquire(&s->durable_seq);
}

int pg_store_wait_durable(struct pg_store *s, uint64_t ticket, uint64_t timeout_us)
{
	uint64_t deadline = pg_mono_ns() + timeout_us * 1000;
	int err = 0;

	API_ENTER();
	pthread_mutex_lock(&s->lock);
	while (s->committed_seq < ticket && !s->io_err) {
		uint64_t now = pg_mono_ns();

		if (now >= deadline) {
			err = -ETIMEDOUT;
			break;
		}
		cv_wait_us(&s->durable_cv, &s->lock, (deadline - now) / 1000 + 1);
	}
	if (s->committed_seq < ticket && s->io_err)
		err = s->io_err;
	pthread_mutex_unlock(&s->lock);
	return err;
}

int pg_store_sync(struct pg_store *s)
{
	int err = 0;

	API_ENTER();
	pthread_mutex_lock(&s->lock);
	uint64_t target = s->appended_seq;

	while (s->committed_seq < target && !s->io_err) {
		s->flush = true;
		pthread_cond_signal(&s->commit_cv);
		pthread_cond_wait(&s->durable_cv, &s->lock);
	}
	if (s->committed_seq < target)
		err = s->io_err;
	pthread_mutex_unlock(&s->lock);
	return err;
}

long pg_store_expire(struct pg_store *s, uint64_t now_us, unsigned max)
{
	long n = 0;

	API_ENTER();
	pthread_mutex_lock(&s->lock);
	if (now_us > s->clock_us)
		s->clock_us = now_us;
	/* while an import is applied nothing else may change (store_compact.c): what is due
	 * now expires at the next call */
	if (!(s->defer && !s->connected) && !s->io_err && !s->importing)
		n = (long)pg_wheel_advance(s->wheel, now_us, max, store_expire_fire, s);
	pthread_mutex_unlock(&s->lock);
	return n;
}

void pg_store_subscribe(struct pg_store *s, pg_store_event_fn fn, void *arg)
{
	API_ENTER();
	pthread_mutex_lock(&s->lock);
	s->event_fn = fn;
	s->event_arg = arg;
	pthread_mutex_unlock(&s->lock);
}

void pg_store_set_listening(struct pg_store *s, bool listening)
{
	API_ENTER();
	pthread_mutex_lock(&s->lock);
	s->listening = listening;
	pthread_mutex_unlock(&s->lock);
}

void pg_store_set_connected(struct pg_store *s, bool connected)
{
	API_ENTER();
	pthread_mutex_lock(&s->lock);
	s->connected = connected;
	pthread_mutex_unlock(&s->lock);
}

void pg_store_set_notify_fd(struct pg_store *s, int fd)
{
	API_ENTER();
	pthread_mutex_lock(&s->lock);
	s->notify_fd = fd;
	pthread_mutex_unlock(&s->lock);
}

void pg_store_set_defer_expiration(struct pg_store *s, bool defer)
{
	API_ENTER();
	pthread_mutex_lock(&s->lock);
	s->defer = defer;
	pthread_mutex_unlock(&s->lock);
}

void pg_store_stats_get(struct pg_store *s, struct pg_store_stats *st)
{
	struct pg_arena_stats as;

	API_ENTER();
	pthread_mutex_lock(&s->lock);
	pg_arena_stats(s->arena, &as);
	*st = s->st;
	st->records = s->index.count;
	st->live_bytes = s->live_bytes;
	st->arena_bytes = as.bytes;
	st->arena_segments = as.segments;
	st->cleaned_segments = as.cleaned;
	st->reclaimed_blocks = as.reclaimed;
	st->appended_seq = s->appended_seq;
	st->durable_seq = s->committed_seq;
	st->log_gen = s->gen;
	st->io_error = s->io_err;
	pthread_mutex_unlock(&s->lock);
}

unsigned pg_store_commits(struct pg_store *s, struct pg_store_commit *out, unsigned max)
{
	unsigned n;

	API_ENTER();
	pthread_mutex_lock(&s->lock);
	n = s->commit_count < max ? s->commit_count : max;
	for (unsigned k = 0; k < n; k++) {
		unsigned at = (s->commit_next + STORE_COMMITS_KEPT - n + k) % STORE_COMMITS_KEPT;

		out[k] = s->commits[at];
	}
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* ---- life cycle --------------------------------------------------------------------- */

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
	free(s->gather);
	free(s->stage);
	pg_wheel_destroy(s->wheel);
	pg_arena_destroy(s->arena);
	if (s->index.e)
		pg_index_fini(&s->index);
	pthread_cond_destroy(&s->commit_cv);
	pthread_cond_destroy(&s->durable_cv);
	pthread_cond_destroy(&s->room_cv);
	pthread_cond_destroy(&s->import_cv);
	pthread_cond_destroy(&s->compact_cv);
	pthread_mutex_destroy(&s->compact_lock);
	pthread_mutex_destroy(&s->lock);
	free(s);
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
	struct pg_arena_config ac = { .segment_size = c->segment_size, .max_live = c->max_bytes };
	uint64_t now = c->now_us ? c->now_us : pg_time_now_us();
	struct pg_store *s;
	int err;

	API_ENTER();
	if ((err = check_config(c)))
		return err;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->dirfd = s->lockfd = s->logfd = s->notify_fd = -1;
	pthread_mutex_init(&s->lock, NULL);
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
	if ((err = pg_index_init(&s->index, c->max_records)) ||
	    (err = pg_arena_create(&ac, &s->arena)) ||
	    (err = pg_wheel_create(c->max_records, c->tick_us, now, &s->wheel)))
		goto err_free;
	s->iov = calloc(STORE_IOV, sizeof(*s->iov));
	s->gather = calloc(1, sizeof(*s->gather));
	if (!s->iov || !s->gather) {
		err = -ENOMEM;
		goto err_free;
	}
	if ((err = open_dir(s, c->dir)))
		goto err_free;
	pthread_mutex_lock(&s->lock);
	s->clock_us = now;
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
	API_ENTER();
	store_commit_stop(s);
	store_free(s);
}
