/*
 * store.h - the durable per-graph record store.
 *
 * One store holds one graph's record database: the current copy of every record (bodies in
 * arenas, an index by record key with lists by type and by creator), its expiry (a timer
 * wheel), and its persistence in a directory of its own: an append-only log with group commit
 * and compaction into snapshots (formats in wal.h and snapshot.h). A put returns a ticket;
 * the put is acknowledged as stored once pg_store_durable_seq() reaches the ticket, and a
 * store reopened after any crash holds every acknowledged record (or a newer copy).
 *
 * Threads: every function may be called from any thread. The records are cut into shards by
 * key, each behind a mutex of its own, so puts of different keys from several threads run in
 * parallel; one atomic sequence keeps the log one ordered stream, and the committer thread
 * merges the shards' entries into it and writes and fdatasync()s without any of their locks
 * (store_impl.h, SHARDS). Event callbacks run under the record's shard lock, in the order the
 * changes of that record were applied; callbacks of different records may run at the same
 * time on different threads, so a subscriber must be thread-safe. They must not call back
 * into the store (asserted). Views handed to callbacks are valid only during the call.
 */
#ifndef PG_STORE_H
#define PG_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"

struct pg_store;

enum pg_store_event_kind {
	PG_STORE_ADDED = 1,   /* a record we did not hold (or held as a tombstone) */
	PG_STORE_UPDATED = 2, /* a newer copy of a record we held */
	PG_STORE_DELETED = 3, /* a tombstone (PG_RECORD_DELETED) was stored */
	PG_STORE_EXPIRED = 4, /* a record or tombstone reached its expiration and was removed */
};

struct pg_store_event {
	enum pg_store_event_kind kind;
	struct pg_key key;
	const struct pg_record *rec; /* the stored copy, or the copy that expired */
	uint64_t seq;		     /* log sequence number of the change */
};

typedef void (*pg_store_event_fn)(void *arg, const struct pg_store_event *ev);

/* Called per record by enumeration; raw/len are its encoding. Non-zero stops. */
typedef int (*pg_store_record_fn)(void *arg, const struct pg_record *rec, const uint8_t *raw,
				  uint32_t len);

enum {
	PG_STORE_WITH_DELETED = 0x1, /* get / enumerate also tombstones */
	PG_STORE_INTERVAL_DEFAULT_US = 5000,
	PG_STORE_TICK_DEFAULT_US = 1000,
	PG_STORE_RECORDS_DEFAULT = 1 << 20,
};

struct pg_store_config {
	const char *dir;      /* this graph's directory; created when missing */
	const char *graph_id; /* <= 256 bytes; the graph key is pg_graph_key(graph_id) */
	uint16_t graph_id_len;
	struct pg_record_limits limits;
	uint32_t max_records;	     /* records (tombstones included) the store may hold */
	uint64_t max_bytes;	     /* live bytes of stored entries (record + 24..31 framing) */
	uint32_t segment_size;	     /* arena segment, power of two 64 KiB .. 256 MiB */
	uint32_t commit_interval_us; /* group commit period, 100 us .. 1 s */
	uint64_t compact_log_bytes;  /* compact when the log passes max(this, 2 x live); 0: never
				      * automatically */
	uint32_t tick_us;	     /* expiry wheel granularity */
	bool defer_expiration;	     /* the graph's "defer expiration" flag */
	bool direct_io;		     /* write the log with O_DIRECT where the file system can */
	uint64_t now_us;	     /* wall clock for expiry at open; 0: the real clock */
};

struct pg_store_stats {
	uint64_t records, live_bytes, arena_bytes, arena_segments;
	uint64_t added, updated, deleted, expired;
	uint64_t stale, rejected;		      /* PG_E_STALE; invalid or bad update */
	uint64_t full_records, full_bytes, full_busy; /* PG_E_STORE_FULL by cause */
	uint64_t busy_waits;			      /* puts that waited for the committer */
	uint64_t appended_seq, durable_seq, log_gen;
	uint64_t commits, commit_entries, commit_bytes;
	uint64_t compactions, snapshot_bytes;
	uint64_t cleaned_segments, reclaimed_blocks, relocated;
	uint64_t replayed, replay_stale, replay_remove_miss, torn_bytes, expired_at_open;
	uint64_t expired_refused; /* puts of copies already expired (PG_E_RECORD_EXPIRED) */
	uint64_t notify_misses;	  /* wake-ups the notify fd refused (its counter full) */
	uint64_t decoded;	  /* records pg_store_put decoded (put_decoded and put_record
				   * decode none) */
	int io_error;		  /* sticky: the first write / fdatasync error, 0 if none */
};

/* One group commit, for latency reports. */
struct pg_store_commit {
	uint64_t start_ns; /* monotonic */
	uint64_t write_ns, sync_ns;
	uint64_t first_seq;
	uint32_t entries, bytes;
};

/* Fills defaults: 1 Mi records, 256 MiB, 1 MiB segments, 5 ms commits, compaction at 64 MiB,
 * 1 ms ticks, O_DIRECT, default record limits. dir and graph_id stay for the caller. */
void pg_store_config_default(struct pg_store_config *c);

/* Opens (creating or recovering) the store of a graph: fsyncs the directory and its parent
 * (at every open: a run that crashed may have left either unsynced), loads the snapshot,
 * replays the log (a torn tail is truncated away; a bad block followed by valid ones refuses
 * with PG_E_CHECKSUM), re-decodes every record, expires what is due (unless deferred) and
 * starts the committer. 0; -EINVAL, -EBUSY (another store has the directory), -errno, or the
 * PG_E_* of a corrupt or foreign file. */
int pg_store_open(const struct pg_store_config *c, struct pg_store **out);
/* Makes everything put so far durable, stops the threads and frees the store. No other call
 * may race with it. NULL is fine. */
void pg_store_close(struct pg_store *s);

/* Stores an encoded record (decoded and validated first) by the conflict order. 0 with
 * *ticket (may be NULL) set; PG_E_RECORD_EXPIRED when its expiration is at or before the
 * store's clock (the latest now given to open or pg_store_expire; not while expiration is
 * deferred); PG_E_STALE when an equal or newer copy is held; a decode error;
 * PG_E_EXPIRY_SHRANK / PG_E_BAD_FORMAT (type changed) from pg_record_check_update;
 * PG_E_STORE_FULL (record or byte bound, or the arena still full of unwritten bytes -- or an
 * import still being applied -- after waiting up to 400 commit intervals); -ENOMEM; or the
 * sticky I/O error. */
int pg_store_put(struct pg_store *s, const uint8_t *rec, size_t len, uint64_t *ticket);
/* Starts loading the index slot where key's lookup begins into the cache, for a put or get a
 * little later: a hint, any thread, no lock (it reads the index's table pointer, which a put
 * may be replacing, and prefetching a stale address is harmless: it never faults). */
void pg_store_prefetch(struct pg_store *s, struct pg_key key);

/* Stores a record the caller has decoded already -- a dataplane worker decodes each record
 * once, for its version table and verification -- without decoding it again: rec is the view
 * pg_record_decode() gave for raw[0..len) with limits no looser than the store's, and raw
 * stays valid and unchanged during the call. The key comes from rec, the bytes are copied
 * from raw. Same returns as pg_store_put (PG_E_TOO_LARGE over the store's record size; no
 * other decode error). A view that is not raw's decoding breaks the store's invariants. */
int pg_store_put_decoded(struct pg_store *s, const struct pg_record *rec, const uint8_t *raw,
			 uint32_t len, uint64_t *ticket);
/* The same for a record view, encoded straight into the arena. Same returns. */
int pg_store_put_record(struct pg_store *s, const struct pg_record *r, uint64_t *ticket);

/* Copies the current encoding of the record (id, creator) (record.h: a record is named by
 * both) into out. 0 with *len set; -ENOSPC (with *len the size needed); PG_E_NOT_FOUND (also
 * for a tombstone unless PG_STORE_WITH_DELETED); PG_E_ID_TOO_LONG. */
int pg_store_get(struct pg_store *s, const struct pg_guid *id, const char *creator,
		 uint16_t creator_len, unsigned flags, uint8_t *out, size_t cap, size_t *len);
/* Walks the records of a type (type may be NULL: any) and/or a creator (NULL: any) through
 * fn, with every shard locked (one state of the store; puts wait). Returns how many records
 * fn saw. */
long pg_store_enum(struct pg_store *s, const struct pg_guid *type, const char *creator,
		   uint16_t creator_len, unsigned flags, pg_store_record_fn fn, void *arg);

/* The highest ticket acknowledged as durable. Lock-free. */
uint64_t pg_store_durable_seq(struct pg_store *s);
/* Waits until ticket is durable. 0, -ETIMEDOUT, or the sticky I/O error. */
int pg_store_wait_durable(struct pg_store *s, uint64_t ticket, uint64_t timeout_us);
/* Commits now and waits until everything put so far is durable. 0 or the I/O error. */
int pg_store_sync(struct pg_store *s);

/* Removes the records whose expiration is <= now_us (at most max; 0: all), with an EXPIRED
 * event and a REMOVE log entry each. Does nothing while expiration is deferred (the flag is
 * set and the graph is not connected) or while an import is being applied (what is due then
 * expires at a later call). Returns how many expired. */
long pg_store_expire(struct pg_store *s, uint64_t now_us, unsigned max);

/* An eventfd (or any fd a write of 8 bytes wakes) the committer writes 1 to after each group
 * commit and on an I/O error, so an event loop can wait for durability without a thread of
 * its own; -1: none. The caller owns the fd (non-blocking, so a full counter never blocks
 * the committer). Cannot fail. */
void pg_store_set_notify_fd(struct pg_store *s, int fd);
/* Sets the one event subscriber (fn NULL: none). Cannot fail. */
void pg_store_subscribe(struct pg_store *s, pg_store_event_fn fn, void *arg);
/* Graph state the store acts on. Cannot fail. */
void pg_store_set_listening(struct pg_store *s, bool listening);
void pg_store_set_connected(struct pg_store *s, bool connected);
void pg_store_set_defer_expiration(struct pg_store *s, bool defer);

/* Writes a snapshot of the current state and drops the log files it covers. 0, -EBUSY, or
 * an I/O error. Puts continue meanwhile (they wait only while the state is copied). */
int pg_store_compact(struct pg_store *s);
/* Writes the database to path as a snapshot file (fsync'd, renamed into place). 0,
 * PG_E_LISTENING, or -errno. */
int pg_store_export(struct pg_store *s, const char *path);
/* Merges a snapshot file by the conflict order, all or nothing: the file is read once into
 * memory of the store's own, and the file, its graph, every record and the limits are checked
 * before anything changes; while the records are applied no put or expiry interleaves (they
 * wait), so once the first is applied only an I/O error or want of memory can stop the rest.
 * 0 with *ticket (the last entry's; may be NULL); PG_E_LISTENING, -EFBIG (the file is larger
 * than a full store's snapshot: max_bytes + 328 bytes), PG_E_FILE_CHANGED (its size changed
 * while it was read), PG_E_GRAPH_MISMATCH, a parse or decode error, PG_E_BAD_FORMAT (a key
 * twice), PG_E_EXPIRY_SHRANK, PG_E_STORE_FULL, or -errno. */
int pg_store_import(struct pg_store *s, const char *path, uint64_t *ticket);

/* Fills the counters. Cannot fail. */
void pg_store_stats_get(struct pg_store *s, struct pg_store_stats *st);
/* Copies up to max of the most recent group commits, oldest first; returns how many. */
unsigned pg_store_commits(struct pg_store *s, struct pg_store_commit *out, unsigned max);

#endif
