/*
 * store.c - the record store's front: puts by the conflict order, gets, enumeration, expiry,
 * events and limits. Persistence is in store_commit.c (group commit), store_compact.c
 * (compaction, export, import), store_recover.c (replay); the life cycle in store_open.c.
 *
 * A put decodes and validates the record outside any lock (pg_store_put; a dataplane worker
 * has done so already and calls pg_store_put_decoded), then under the lock of the key's shard
 * (store_impl.h, SHARDS): looks the key up, applies the conflict order (an older or equal copy
 * is PG_E_STALE; a newer one must pass pg_record_check_update), reserves its growth against
 * the record and byte bounds, copies the record once into an arena entry that is also its log
 * entry, gives it the next sequence number (its ticket) and queues it for the committer. So
 * the changes of each record reach the log in the order they were applied, which is what
 * makes replay reproduce the state.
 *
 * Expiry: each record's slot is a timer on its shard's wheel at its expiration;
 * pg_store_expire advances the wheels together (EXPIRY ACROSS SHARDS below). An expired
 * record is logged as a REMOVE entry (so a reopen does not resurrect it even before the next
 * compaction; the next snapshot simply lacks it). With the graph's "defer expiration" flag
 * set and the graph not connected, pg_store_expire does nothing; on reconnection the backlog
 * (every record whose time passed meanwhile) expires at the next pg_store_expire call,
 * earliest tick first, `max` per call, each with its EXPIRED event. Tombstones expire like
 * any record, with an EXPIRED event of their own.
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

bool store_in_callback(void)
{
	return in_callback;
}

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

void store_lock_all(struct pg_store *s)
{
	for (unsigned k = 0; k < STORE_SHARDS; k++)
		pthread_mutex_lock(&s->shard[k].lock);
}

void store_unlock_all(struct pg_store *s)
{
	for (unsigned k = STORE_SHARDS; k-- > 0;)
		pthread_mutex_unlock(&s->shard[k].lock);
}

uint64_t store_count(const struct pg_store *s)
{
	uint64_t n = 0;

	for (unsigned k = 0; k < STORE_SHARDS; k++)
		n += s->shard[k].index.count;
	return n;
}

/* Wakes the committer if it waits for work. Called after a shard lock was released: the
 * entries it queued took their numbers before (seq_cst on both sides: either the committer,
 * which sets committer_idle before it reads appended_seq, sees the new number, or this load
 * sees it idle). */
static void kick(struct pg_store *s)
{
	if (!atomic_load(&s->committer_idle))
		return;
	pthread_mutex_lock(&s->lock);
	if (atomic_load(&s->committer_idle))
		pthread_cond_signal(&s->commit_cv);
	pthread_mutex_unlock(&s->lock);
}

/* Decodes the stored copy of entry i; it was validated when stored. */
static void stored_view(struct pg_store *s, struct store_shard *sh, uint32_t i, struct pg_record *r)
{
	const struct pg_index_entry *e = &sh->index.e[i];

	PG_ASSERT(pg_record_decode(e->ent + PG_LOG_ENTRY_HDR, e->body_len, &s->lim, r) == 0);
}

static int clean_one(struct pg_store *s, struct store_shard *sh);

/* The next log sequence number. Under the shard lock, after the entry's bytes were queued in
 * its arena, before it is sealed (SHARDS in store_impl.h); 0 while replaying. */
static uint64_t next_seq(struct pg_store *s)
{
	return s->replaying ? 0 : atomic_fetch_add(&s->appended_seq, 1) + 1;
}

/* Allocates an entry in the shard's arena, cleaning a segment when the pool is full, and
 * gives it the next sequence number (0 while replaying: replayed entries are in the log). */
static int entry_alloc(struct pg_store *s, struct store_shard *sh, uint32_t size, uint64_t *seq,
		       uint32_t *block, uint8_t **ent)
{
	for (int tries = 0; tries < 3; tries++) {
		int err = pg_arena_alloc(sh->arena, size, !s->replaying, block, ent);

		if (err == 0) {
			*seq = next_seq(s);
			return 0;
		}
		if (err != -ENOSPC)
			return err;
		if ((err = clean_one(s, sh)))
			return err;
	}
	return -EBUSY;
}

/* Moves the live entries of the shard's emptiest written segment into its reserve (arena.c).
 * Each moved entry is logged again under a new sequence number: replay sees a copy equal to
 * the one it holds and keeps it. */
static int clean_one(struct pg_store *s, struct store_shard *sh)
{
	const uint8_t *base;
	uint32_t victim, used, off = 0;
	int err;

	if ((err = pg_arena_clean_begin(sh->arena, &victim, &base, &used)))
		return err;
	while (off < used) {
		const uint8_t *ent = base + off;
		uint32_t len = load_le32(ent), size = (uint32_t)pg_log_entry_size(len), block, i;
		uint8_t *to;
		uint64_t q;

		off += size;
		if (ent[PG_LOG_ENTRY_KIND_OFF] != PG_LOG_PUT) /* a REMOVE is dead in memory */
			continue;
		i = pg_index_find(&sh->index,
				  pg_record_key_encoded(s->graph_key, ent + PG_LOG_ENTRY_HDR));
		if (i == PG_INDEX_NONE || sh->index.e[i].ent != ent)
			continue;
		/* the reserve was empty and the victim's live bytes fit in one segment */
		PG_ASSERT(pg_arena_alloc(sh->arena, size, !s->replaying, &block, &to) == 0);
		q = next_seq(s);
		memcpy(to, ent, size);
		pg_log_entry_seal(to, PG_LOG_PUT, len, q,
				  pg_log_body_hash(to + PG_LOG_ENTRY_HDR, len, s->graph_key));
		pg_arena_release(sh->arena, victim, size);
		sh->index.e[i].ent = to;
		sh->index.e[i].block = block;
		sh->st.relocated++;
	}
	pg_arena_clean_end(sh->arena, victim);
	return 0;
}

static int full(struct pg_store *s, uint64_t *counter)
{
	if (!s->replaying)
		(*counter)++;
	return PG_E_STORE_FULL;
}

static void schedule(struct store_shard *sh, uint32_t i, uint64_t expires_us)
{
	if (expires_us == PG_TIME_INFINITE)
		pg_wheel_cancel(sh->wheel, i);
	else
		pg_wheel_schedule(sh->wheel, i, expires_us);
}

/* Reserves the growth of a put against the global bounds: one more record (new), grow more
 * bytes. Exact under concurrency: a reservation over a bound is taken back. 0 or
 * PG_E_STORE_FULL (counted). */
static int bounds_reserve(struct pg_store *s, struct store_shard *sh, bool new, uint64_t grow)
{
	/* counts only: they order nothing else, the shard locks do */
	if (new &&atomic_fetch_add_explicit(&s->records, 1, memory_order_relaxed) >=
	    s->max_records) {
		atomic_fetch_sub_explicit(&s->records, 1, memory_order_relaxed);
		return full(s, &sh->st.full_records);
	}
	if (grow && atomic_fetch_add_explicit(&s->live_bytes, grow, memory_order_relaxed) + grow >
			s->max_bytes) {
		atomic_fetch_sub_explicit(&s->live_bytes, grow, memory_order_relaxed);
		if (new)
			atomic_fetch_sub_explicit(&s->records, 1, memory_order_relaxed);
		return full(s, &sh->st.full_bytes);
	}
	return 0;
}

static void bounds_release(struct pg_store *s, bool new, uint64_t shrink)
{
	if (new)
		atomic_fetch_sub_explicit(&s->records, 1, memory_order_relaxed);
	if (shrink)
		atomic_fetch_sub_explicit(&s->live_bytes, shrink, memory_order_relaxed);
}

int store_put_locked(struct pg_store *s, struct store_shard *sh, struct pg_key key,
		     const struct pg_record *r, const uint8_t *raw, uint32_t len, uint64_t *seqp)
{
	uint64_t size = pg_log_entry_size(len), old = 0, seq, ch;
	uint32_t i = pg_index_find(&sh->index, key), block;
	bool had = i != PG_INDEX_NONE, was_live = false;
	struct pg_index_entry *e;
	struct pg_record prev;
	uint8_t *ent;
	int err;

	if (had) {
		stored_view(s, sh, i, &prev);
		if (pg_record_order(r, &prev) <= 0)
			return PG_E_STALE;
		if ((err = pg_record_check_update(&prev, r)))
			return err;
		old = pg_log_entry_size(sh->index.e[i].body_len);
		was_live = !(prev.flags & PG_RECORD_DELETED);
	}
	if ((err = bounds_reserve(s, sh, !had, size > old ? size - old : 0)))
		return err;
	/* may clean, moving entries (prev's too): only slot numbers stay valid across it */
	if ((err = pg_index_reserve(&sh->index)) ||
	    (err = entry_alloc(s, sh, (uint32_t)size, &seq, &block, &ent))) {
		bounds_release(s, !had, size > old ? size - old : 0);
		return err;
	}
	if (raw)
		memcpy(ent + PG_LOG_ENTRY_HDR, raw, len);
	else
		PG_ASSERT(pg_record_encode(r, &s->lim, ent + PG_LOG_ENTRY_HDR, len) == (long)len);
	pg_log_entry_seal(ent, PG_LOG_PUT, len, seq,
			  pg_log_body_hash(ent + PG_LOG_ENTRY_HDR, len, s->graph_key));
	ch = pg_index_creator_hash(r->creator, r->creator_len);
	if (had) {
		e = &sh->index.e[i];
		pg_arena_release(sh->arena, e->block, (uint32_t)old);
		pg_index_relink(&sh->index, i, PG_INDEX_BY_CREATOR, ch);
	} else {
		i = pg_index_insert(&sh->index, key, pg_index_type_hash(&r->type), ch);
		e = &sh->index.e[i];
	}
	e->ent = ent;
	e->block = block;
	e->body_len = len;
	e->version = r->version;
	e->flags = r->flags;
	if (!had || e->expires_us != r->expires_us) {
		e->expires_us = r->expires_us;
		schedule(sh, i, r->expires_us);
	}
	bounds_release(s, false, old > size ? old - size : 0);
	*seqp = seq;
	if (s->replaying)
		return 0;
	if (r->flags & PG_RECORD_DELETED) {
		sh->st.deleted++;
		emit(s, PG_STORE_DELETED, key, r, seq);
	} else if (was_live) {
		sh->st.updated++;
		emit(s, PG_STORE_UPDATED, key, r, seq);
	} else {
		sh->st.added++;
		emit(s, PG_STORE_ADDED, key, r, seq);
	}
	return 0;
}

int store_remove_locked(struct pg_store *s, struct store_shard *sh, uint32_t i, bool from_wheel)
{
	uint8_t body[PG_LOG_REMOVE_LEN], *ent;
	struct pg_index_entry *e = &sh->index.e[i];
	uint64_t size = pg_log_entry_size(e->body_len), seq;
	struct pg_record r;
	uint32_t block;
	int err;

	if (!s->replaying) {
		store_le64(body, e->key.lo);
		store_le64(body + 8, e->key.hi);
		store_le32(body + 16, e->version);
		store_le32(body + 20, PG_LOG_EXPIRED);
		if ((err = entry_alloc(s, sh, (uint32_t)pg_log_entry_size(sizeof(body)), &seq,
				       &block, &ent)))
			return err;
		memcpy(ent + PG_LOG_ENTRY_HDR, body, sizeof(body));
		pg_log_entry_seal(ent, PG_LOG_REMOVE, sizeof(body), seq,
				  pg_log_body_hash(body, sizeof(body), s->graph_key));
		/* a REMOVE entry is only for the log: dead in memory from the start */
		pg_arena_release(sh->arena, block, (uint32_t)pg_log_entry_size(sizeof(body)));
		e = &sh->index.e[i]; /* cleaning may have moved the entry */
		stored_view(s, sh, i, &r);
		emit(s, PG_STORE_EXPIRED, e->key, &r, seq);
	}
	pg_arena_release(sh->arena, e->block, (uint32_t)size);
	bounds_release(s, true, size);
	if (!from_wheel)
		pg_wheel_cancel(sh->wheel, i);
	pg_index_remove(&sh->index, i);
	return 0;
}

/*
 * EXPIRY ACROSS SHARDS
 *
 * Each shard has its own wheel, yet what is due must expire earliest first over the whole
 * store (a deferred backlog with a bound per call). So the due timers are taken from each
 * wheel a batch at a time (taking them unschedules them) and merged by expiration time;
 * what is left in the batches when the bound is reached, or a removal refuses, is scheduled
 * again. Every shard lock is held throughout.
 */
enum { DUE_BATCH = 64 };

struct due {
	uint32_t id[DUE_BATCH];
	unsigned n, pos;
	bool dry; /* the wheel has nothing more due */
};

static int due_take(void *arg, uint32_t id, uint64_t when_us)
{
	struct due *d = arg;

	(void)when_us;
	d->id[d->n++] = id;
	return 0;
}

/* The expiration of the next due timer of shard k (refilling its batch), or UINT64_MAX. */
static uint64_t due_head(struct pg_store *s, struct due *d, unsigned k, uint64_t now_us)
{
	struct store_shard *sh = &s->shard[k];

	if (d->pos == d->n && !d->dry) {
		d->n = d->pos = 0;
		d->dry = pg_wheel_advance(sh->wheel, now_us, DUE_BATCH, due_take, d) < DUE_BATCH;
	}
	return d->pos < d->n ? sh->index.e[d->id[d->pos]].expires_us : UINT64_MAX;
}

uint64_t store_expire_all(struct pg_store *s, uint64_t now_us, uint64_t max)
{
	struct due due[STORE_SHARDS];
	uint64_t n = 0;

	for (unsigned k = 0; k < STORE_SHARDS; k++)
		due[k] = (struct due){ .n = 0 };
	while (max == 0 || n < max) {
		uint64_t best_at = UINT64_MAX;
		unsigned best = 0;

		for (unsigned k = 0; k < STORE_SHARDS; k++) {
			uint64_t at = due_head(s, &due[k], k, now_us);

			if (at < best_at)
				best_at = at, best = k;
		}
		if (best_at == UINT64_MAX)
			break;
		if (store_remove_locked(s, &s->shard[best], due[best].id[due[best].pos], true))
			break; /* it stays due: scheduled again below */
		due[best].pos++;
		n++;
	}
	for (unsigned k = 0; k < STORE_SHARDS; k++) {
		struct store_shard *sh = &s->shard[k];

		for (unsigned p = due[k].pos; p < due[k].n; p++)
			pg_wheel_schedule(sh->wheel, due[k].id[p],
					  sh->index.e[due[k].id[p]].expires_us);
	}
	return n;
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
	pthread_mutex_lock(&s->lock);
	s->st.busy_waits++;
	s->flush = true;
	pthread_cond_signal(&s->commit_cv);
	cv_wait_us(&s->room_cv, &s->lock, 2ull * s->interval_us);
	pthread_mutex_unlock(&s->lock);
}

/* Waits (no shard lock held) while an import is being applied, up to two intervals. */
static void wait_import(struct pg_store *s)
{
	pthread_mutex_lock(&s->lock);
	if (atomic_load(&s->importing)) /* cleared under s->lock: no wake-up is lost */
		cv_wait_us(&s->import_cv, &s->lock, 2ull * s->interval_us);
	pthread_mutex_unlock(&s->lock);
}

/* True when expiration is held back (the flag set and the graph not connected). */
static bool deferred(struct pg_store *s)
{
	return atomic_load_explicit(&s->defer, memory_order_relaxed) &&
	       !atomic_load_explicit(&s->connected, memory_order_relaxed);
}

static int put_wait(struct pg_store *s, const struct pg_record *r, const uint8_t *raw, uint32_t len,
		    bool decoded, uint64_t *ticket)
{
	struct pg_key key = pg_record_key_of(s->graph_key, r);
	struct store_shard *sh = store_shard_of(s, key);
	uint64_t seq = 0;
	int err;

	pthread_mutex_lock(&sh->lock);
	sh->st.decoded += decoded;
	/* A copy that expired already (a late flood, a stale peer) would be stored only to be
	 * removed at the next tick -- or, after its key was forgotten, come back as ADDED. */
	if (r->expires_us <= atomic_load_explicit(&s->clock_us, memory_order_relaxed) &&
	    !deferred(s)) {
		sh->st.expired_refused++;
		pthread_mutex_unlock(&sh->lock);
		return PG_E_RECORD_EXPIRED;
	}
	for (unsigned tries = 0;; tries++) {
		bool importing;

		if ((err = atomic_load(&s->io_err)))
			break;
		/* set with every shard lock held: read under ours, it cannot change to true */
		importing = atomic_load(&s->importing);
		if (!importing) {
			err = store_put_locked(s, sh, key, r, raw, len, &seq);
			if (err != -EBUSY)
				break;
		}
		if (tries == BUSY_TRIES) {
			sh->st.full_busy++;
			err = PG_E_STORE_FULL;
			break;
		}
		/* an import is being applied and must not be interleaved (store_compact.c), or
		 * the arena is full of bytes the committer has not written yet */
		pthread_mutex_unlock(&sh->lock);
		if (importing)
			wait_import(s);
		else
			store_wait_room(s);
		pthread_mutex_lock(&sh->lock);
	}
	if (err == PG_E_STALE)
		sh->st.stale++;
	else if (err && err != PG_E_STORE_FULL)
		sh->st.rejected++;
	pthread_mutex_unlock(&sh->lock);
	if (err)
		return err;
	kick(s);
	if (ticket)
		*ticket = seq;
	return 0;
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
	return put_wait(s, &r, rec, (uint32_t)len, true, ticket);
}

void pg_store_prefetch(struct pg_store *s, struct pg_key key)
{
	pg_index_prefetch(&store_shard_of(s, key)->index, key);
}

int pg_store_put_decoded(struct pg_store *s, const struct pg_record *rec, const uint8_t *raw,
			 uint32_t len, uint64_t *ticket)
{
	API_ENTER();
	/* the one check that costs nothing: the rest is the caller's decode (see store.h) */
	PG_ASSERT(raw && len > 0);
	if (len > s->lim.max_record_size)
		return PG_E_TOO_LARGE;
	return put_wait(s, rec, raw, len, false, ticket);
}

int pg_store_put_record(struct pg_store *s, const struct pg_record *r, uint64_t *ticket)
{
	int err;

	API_ENTER();
	/* everything the encoder would refuse is refused here, before any byte is allocated */
	if ((err = pg_record_validate(r, &s->lim)) ||
	    (err = pg_attrs_check(r->attrs, r->attrs_len, r->nattrs)))
		return err;
	return put_wait(s, r, NULL, (uint32_t)pg_record_encoded_size(r), false, ticket);
}

int pg_store_get(struct pg_store *s, const struct pg_guid *id, const char *creator,
		 uint16_t creator_len, unsigned flags, uint8_t *out, size_t cap, size_t *len)
{
	struct store_shard *sh;
	struct pg_key key;
	const struct pg_index_entry *e;
	uint32_t i;
	int err = 0;

	API_ENTER();
	if (creator_len > PG_ID_MAX)
		return PG_E_ID_TOO_LONG;
	key = pg_record_key(s->graph_key, id, creator, creator_len);
	sh = store_shard_of(s, key);
	pthread_mutex_lock(&sh->lock);
	i = pg_index_find(&sh->index, key);
	if (i == PG_INDEX_NONE) {
		err = PG_E_NOT_FOUND;
		goto out_unlock;
	}
	e = &sh->index.e[i];
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
	pthread_mutex_unlock(&sh->lock);
	return err;
}

struct enum_filter {
	const struct pg_guid *type;
	const char *creator;
	uint16_t creator_len;
	unsigned flags;
};

/* Offers entry i to fn when it passes the filter. Returns fn's verdict (0: go on). */
static int enum_one(struct pg_store *s, struct store_shard *sh, uint32_t i,
		    const struct enum_filter *f, pg_store_record_fn fn, void *arg, long *n)
{
	const struct pg_index_entry *e = &sh->index.e[i];
	struct pg_record r;
	int stop;

	if ((e->flags & PG_RECORD_DELETED) && !(f->flags & PG_STORE_WITH_DELETED))
		return 0;
	stored_view(s, sh, i, &r);
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
	enum pg_index_list list = type ? PG_INDEX_BY_TYPE : PG_INDEX_BY_CREATOR;
	uint64_t h = type      ? pg_index_type_hash(type)
		     : creator ? pg_index_creator_hash(creator, creator_len)
			       : 0;
	int stop = 0;
	long n = 0;
	uint32_t i;

	API_ENTER();
	/* every shard held: the walk sees one state of the store, as a single lock did */
	store_lock_all(s);
	for (unsigned k = 0; k < STORE_SHARDS && !stop; k++) {
		struct store_shard *sh = &s->shard[k];

		if (type || creator) {
			for (i = pg_index_first(&sh->index, list, h); i != PG_INDEX_NONE && !stop;
			     i = sh->index.e[i].next[list])
				stop = enum_one(s, sh, i, &f, fn, arg, &n);
		} else {
			for (i = 0; i < sh->index.hwm && !stop; i++)
				if (sh->index.e[i].ent)
					stop = enum_one(s, sh, i, &f, fn, arg, &n);
		}
	}
	store_unlock_all(s);
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
	uint64_t target = atomic_load(&s->appended_seq);

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
	if (now_us > atomic_load(&s->clock_us))
		atomic_store(&s->clock_us, now_us);
	/* while an import is applied nothing else may change (store_compact.c): what is due
	 * now expires at the next call */
	if (!deferred(s) && !atomic_load(&s->io_err) && !atomic_load(&s->importing)) {
		store_lock_all(s);
		n = (long)store_expire_all(s, now_us, max);
		store_unlock_all(s);
		s->st.expired += (uint64_t)n;
		if (n && atomic_load(&s->committer_idle))
			pthread_cond_signal(&s->commit_cv);
	}
	pthread_mutex_unlock(&s->lock);
	return n;
}

void pg_store_subscribe(struct pg_store *s, pg_store_event_fn fn, void *arg)
{
	API_ENTER();
	store_lock_all(s); /* events are emitted under a shard lock */
	s->event_fn = fn;
	s->event_arg = arg;
	store_unlock_all(s);
}

void pg_store_set_listening(struct pg_store *s, bool listening)
{
	API_ENTER();
	atomic_store(&s->listening, listening);
}

void pg_store_set_connected(struct pg_store *s, bool connected)
{
	API_ENTER();
	atomic_store(&s->connected, connected);
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
	atomic_store(&s->defer, defer);
}

void pg_store_stats_get(struct pg_store *s, struct pg_store_stats *st)
{
	API_ENTER();
	pthread_mutex_lock(&s->lock);
	store_lock_all(s);
	*st = s->st;
	for (unsigned k = 0; k < STORE_SHARDS; k++) {
		const struct store_shard *sh = &s->shard[k];
		const struct store_shard_stats *c = &sh->st;
		struct pg_arena_stats as;

		pg_arena_stats(sh->arena, &as);
		st->records += sh->index.count;
		st->arena_bytes += as.bytes;
		st->arena_segments += as.segments;
		st->cleaned_segments += as.cleaned;
		st->reclaimed_blocks += as.reclaimed;
		st->added += c->added;
		st->updated += c->updated;
		st->deleted += c->deleted;
		st->stale += c->stale;
		st->rejected += c->rejected;
		st->full_records += c->full_records;
		st->full_bytes += c->full_bytes;
		st->full_busy += c->full_busy;
		st->expired_refused += c->expired_refused;
		st->relocated += c->relocated;
		st->decoded += c->decoded;
	}
	st->live_bytes = atomic_load(&s->live_bytes);
	st->appended_seq = atomic_load(&s->appended_seq);
	st->durable_seq = s->committed_seq;
	st->log_gen = s->gen;
	st->io_error = atomic_load(&s->io_err);
	store_unlock_all(s);
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
