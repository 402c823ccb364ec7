/*
 * store_impl.h - the store's private state, shared by store.c (index, puts, expiry, events),
 * store_commit.c (group commit), store_compact.c (compaction, export,
 * import) and store_recover.c (open and replay).
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
	STORE_BLOCK_BYTES = 8 << 20, /* entry bytes gathered into one block (a range is whole) */
};

struct pg_store {
	pthread_mutex_t lock;	   /* index, arena, wheel, counters, flags below */
	pthread_cond_t commit_cv;  /* to the committer: work, flush or stop */
	pthread_cond_t durable_cv; /* from the committer: durable seq, generation, error */
	pthread_cond_t room_cv;	   /* from the committer: arena bytes written */
	pthread_cond_t import_cv;  /* from an import: it has been applied (or refused) */

	struct pg_index index;
	struct pg_arena *arena;
	struct pg_wheel *wheel;
	struct pg_record_limits lim;
	uint64_t graph_key;
	char graph_id[PG_SNAP_ID_MAX];
	uint16_t graph_id_len;
	uint32_t max_records;
	uint64_t max_bytes, live_bytes;

	uint64_t appended_seq;	      /* last seq given to an entry */
	uint64_t committed_seq;	      /* last seq written and synced (committer) */
	_Atomic uint64_t durable_seq; /* = committed_seq, readable without the lock */
	int io_err;		      /* sticky */
	bool replaying;		      /* recovery: entries are not queued for the log */
	bool listening, connected, defer;
	bool importing; /* an import is being applied: no other change (store_compact.c) */
	pg_store_event_fn event_fn;
	void *event_arg;

	/* persistence */
	int dirfd, lockfd, logfd;
	int notify_fd;	   /* eventfd written when durable_seq moves or I/O fails; -1: none */
	bool direct;	   /* the log is written with O_DIRECT */
	uint64_t file_off; /* where the next block goes (committer) */
	uint8_t *stage;	   /* aligned staging buffer of O_DIRECT writes (committer) */
	size_t stage_cap;
	uint64_t gen;	    /* generation the committer appends to */
	uint64_t log_bytes; /* log bytes no snapshot covers yet (since the last rotation) */
	uint64_t clock_us;  /* the latest wall-clock 'now' the caller gave: open, expire */
	uint32_t interval_us;
	uint64_t compact_log_bytes;
	bool stopping, flush, committer_idle, compact_wanted;
	bool committer_started, compactor_started;
	pthread_t committer, compactor;
	pthread_cond_t compact_cv;
	pthread_mutex_t compact_lock; /* one compaction at a time */
	struct iovec *iov;
	struct pg_arena_gather *gather;

	struct pg_store_commit commits[STORE_COMMITS_KEPT];
	unsigned commit_next, commit_count;
	struct pg_store_stats st;
};

/* store.c, under s->lock: */
/* Applies a decoded record; replay mode neither queues, logs events nor counts as a put. */
int store_put_locked(struct pg_store *s, const struct pg_record *r, const uint8_t *raw,
		     uint32_t len, uint64_t *seq);
/* Removes entry i (expired); from_wheel: the wheel unlinks it itself. */
int store_remove_locked(struct pg_store *s, uint32_t i, bool from_wheel);
/* The wheel callback that expires one record. */
int store_expire_fire(void *arg, uint32_t id, uint64_t when_us);
/* Asks for a commit and waits (lock released) up to two intervals for arena room. */
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
