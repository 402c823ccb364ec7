/*
 * store_impl.h - the store's private state, shared by store.c (index, puts, expiry, events),
 * store_commit.c (group commit), store_compact.c (compaction, export, import),
 * store_open.c (life cycle) and store_recover.c (replay).
 *
 * SHARDS: HOW PUTS RUN IN PARALLEL
 *
 * Flooding has several dataplane workers put records at once, so the state is cut into
 * STORE_SHARDS shards by the record key (its top bits: the index uses the low ones). A shard
 * is a small store of its own -- index, arena (bodies and the log buffer), expiry wheel,
 * counters -- behind its own mutex. Every change to a key (put, expiry, relocation by
 * cleaning) happens in the key's shard under that shard's lock, so the changes of one key
 * are serialized as before, and its events come in the order they were applied.
 *
 * The log stays one sequence. A new entry gets its sequence number from one atomic counter
 * (appended_seq), taken *under the shard lock, after its bytes were queued in the shard's
 * arena and before the lock is released*; the entry is sealed with it in the same critical
 * section. So within a shard the queue is in sequence order, and every sequence number taken
 * belongs to an entry that is queued and sealed by the time its shard's lock is free. The
 * committer gathers each shard's queue (under that shard's lock, one at a time), then merges
 * the queues by sequence number without any lock, up to the first number it did not find
 * (an entry being made right now: it goes into the next block) and never past a pending
 * rotation cut. So every block holds consecutive entries, the file format and replay are
 * unchanged, and durable_seq >= ticket still means every entry up to the ticket is on disk.
 *
 * The record and byte bounds are global: records and live_bytes are atomics that a put
 * reserves (fetch_add, then undo when over) under its shard lock, so the bounds hold exactly.
 *
 * What each lock protects:
 *   shard->lock  the shard's index, arena, wheel and counters, and (all shards held) the set
 *                of records as a whole: compaction, export, import's check, expiry and
 *                pg_store_subscribe take every shard lock, in index order;
 *   s->lock      the committer's state (committed_seq, cut, flush, idle, stopping, generation,
 *                log file), the condition variables, graph flags, clock, notify fd, the
 *                commit history and the committer's counters;
 *   compact_lock one compaction at a time.
 * Lock order: compact_lock, then s->lock, then shard locks in index order. A put holds one
 * shard lock and takes s->lock only after releasing it (to wait for room or an import, or to
 * wake an idle committer), so puts of different shards never wait for each other, and a put
 * never waits for the disk unless the arena is full of unwritten bytes.
 *
 * Read without a lock (atomics): appended_seq, records, live_bytes, durable_seq, io_err,
 * importing, clock_us, listening, connected, defer, committer_idle.
 */
#ifndef PG_STORE_IMPL_H
#define PG_STORE_IMPL_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/uio.h>

#include "arena.h"
#include "store_index.h"
#include "pg_atomic.h"
#include "snapshot.h"
#include "store.h"
#include "timerwheel.h"
#include "wal.h"

enum {
	STORE_COMMITS_KEPT = 256,    /* recent commits kept for pg_store_commits() */
	STORE_IOV = 1024,	     /* iovecs per block write (IOV_MAX) */
	STORE_LOGS_MAX = 1 << 16,    /* log files recovery accepts */
	STORE_LOGS_COMPACT = 16,     /* log files found at open that ask for a compaction */
	STORE_BLOCK_BYTES = 8 << 20, /* entry bytes gathered into one block */
	STORE_SHARDS = 8,	     /* power of two; a key's shard is its top bits */
};

/* Counters of one shard, summed by pg_store_stats_get. Under the shard lock. */
struct store_shard_stats {
	uint64_t added, updated, deleted, expired;
	uint64_t stale, rejected, full_records, full_bytes, full_busy;
	uint64_t expired_refused, relocated, decoded;
};

struct store_shard {
	pthread_mutex_t lock; /* everything below */
	struct pg_index index;
	struct pg_arena *arena;
	struct pg_wheel *wheel;
	struct store_shard_stats st;
	/* the committer's, between gathering and marking written (store_commit.c) */
	struct iovec *iov;
	struct pg_arena_gather *gather;
} pg_cache_aligned;

struct pg_store {
	struct store_shard shard[STORE_SHARDS];
	/* one line written by every put: the log sequence and the global bounds */
	_Atomic uint64_t appended_seq pg_cache_aligned; /* last seq given to an entry */
	_Atomic uint64_t live_bytes;			/* entry bytes of the records held */
	_Atomic uint32_t records;			/* records (tombstones too) held */
	_Atomic uint32_t segments; /* arena segments of all shards (arena.h, shared budget) */

	pthread_mutex_t lock pg_cache_aligned; /* committer state, flags (SHARDS above) */
	pthread_cond_t commit_cv;	       /* to the committer: work, flush or stop */
	pthread_cond_t durable_cv; /* from the committer: durable seq, generation, error */
	pthread_cond_t room_cv;	   /* from the committer: arena bytes written */
	pthread_cond_t import_cv;  /* from an import: it has been applied (or refused) */

	struct pg_record_limits lim;
	uint64_t graph_key;
	char graph_id[PG_SNAP_ID_MAX];
	uint16_t graph_id_len;
	uint32_t max_records;
	uint64_t max_bytes;

	uint64_t committed_seq;	      /* last seq written and synced (committer) */
	_Atomic uint64_t durable_seq; /* = committed_seq, readable without the lock */
	_Atomic int io_err;	      /* sticky; set under s->lock */
	bool replaying;		      /* recovery (one thread): entries are not queued */
	_Atomic bool listening, connected, defer;
	_Atomic bool importing; /* an import is being applied: no other change (store_compact.c) */
	pg_store_event_fn event_fn; /* set with every shard lock held, read under any one */
	void *event_arg;
	bool cut_pending; /* a compaction's rotation cut after entry cut_seq (s->lock) */
	uint64_t cut_seq;

	/* persistence */
	int dirfd, lockfd, logfd;
	int notify_fd;	   /* eventfd written when durable_seq moves or I/O fails; -1: none */
	bool direct;	   /* the log is written with O_DIRECT */
	uint64_t file_off; /* where the next block goes (committer) */
	uint8_t *stage;	   /* aligned staging buffer of O_DIRECT writes (committer) */
	size_t stage_cap;
	uint64_t gen;		   /* generation the committer appends to */
	uint64_t log_bytes;	   /* log bytes no snapshot covers yet (since the last rotation) */
	_Atomic uint64_t clock_us; /* the latest wall-clock 'now' the caller gave: open, expire */
	uint32_t interval_us;
	uint64_t compact_log_bytes;
	bool stopping, flush, compact_wanted;
	bool gather_limited;	     /* the last block left more queued than it could take */
	_Atomic bool committer_idle; /* waiting for work: a put must wake it (store.c) */
	bool committer_started, compactor_started;
	pthread_t committer, compactor;
	pthread_cond_t compact_cv;
	pthread_mutex_t compact_lock; /* one compaction at a time */
	struct iovec *iov;

	struct pg_store_commit commits[STORE_COMMITS_KEPT];
	unsigned commit_next, commit_count;
	struct pg_store_stats st;
};

/* The shard number of a record key: its top bits (the index uses the low ones). */
static inline unsigned store_shard_index(struct pg_key key)
{
	return (unsigned)(key.hi >> 61);
}
_Static_assert(STORE_SHARDS == 8, "store_shard_index takes the top 3 bits");

static inline struct store_shard *store_shard_of(struct pg_store *s, struct pg_key key)
{
	return &s->shard[store_shard_index(key)];
}

/* True while an event or enumeration callback runs on this thread (store.c). */
bool store_in_callback(void);
/* Locks / unlocks every shard, in index order. */
void store_lock_all(struct pg_store *s);
void store_unlock_all(struct pg_store *s);
/* Records held, summed over the shards (all shard locks held, or one thread). */
uint64_t store_count(const struct pg_store *s);

/* store.c, under the key's shard lock: */
/* Applies a decoded record whose key is key; replay mode neither queues, logs events nor
 * counts as a put. */
int store_put_locked(struct pg_store *s, struct store_shard *sh, struct pg_key key,
		     const struct pg_record *r, const uint8_t *raw, uint32_t len, uint64_t *seq);
/* Removes entry i of shard sh (expired); from_wheel: the wheel unlinked it already. */
int store_remove_locked(struct pg_store *s, struct store_shard *sh, uint32_t i, bool from_wheel);
/* Expires what is due at now_us over all shards, earliest first, at most max (0: all). Every
 * shard lock held (or one thread). Returns how many expired. */
uint64_t store_expire_all(struct pg_store *s, uint64_t now_us, uint64_t max);
/* Asks for a commit and waits up to two intervals for arena room. Takes s->lock: no shard
 * lock may be held. */
void store_wait_room(struct pg_store *s);

/* store_commit.c: starts / stops (after a last commit) the committer and compactor. */
int store_commit_start(struct pg_store *s);
void store_commit_stop(struct pg_store *s);
/* Creates log file gen with its header, synced with its directory entry. 0 or -errno. */
int store_log_create(struct pg_store *s, uint64_t gen, int *fd);
/* Writes all of buf. 0 or -errno. */
int store_write_all(int fd, const void *buf, size_t len);
/* Name of a log file: "log." and 16 lowercase hex digits. */
void store_log_name(char out[32], uint64_t gen);
/* True when name is a log file name; *gen its generation. */
bool store_log_parse(const char *name, uint64_t *gen);

/* store_recover.c: loads snapshot + logs into a fresh s, expires what is due, opens the log. */
int store_recover(struct pg_store *s, uint64_t now_us);

#endif
