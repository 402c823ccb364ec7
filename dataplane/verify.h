/*
 * verify.h - record verification in the dataplane: version table first, then the signature
 * against the key table, then the signer's validity window and role; records whose signer is
 * not known yet wait in a bounded queue.
 *
 * For each record, in this order (verify.c says why, and the security argument):
 *
 *   1. version table (rvt.h): a copy we hold, or an older one, by pg_record_order, is a
 *      duplicate, answered PG_E_STALE and never verified again (the cheap path);
 *   2. attribute block checked (pg_attrs_check: its PG_E_* code) and security data decoded
 *      (secdata.h): PG_E_SIG_UNSIGNED / PG_E_SIG_MALFORMED;
 *   3. the signer's key looked up in the key table by key id: absent, or its slot busy ->
 *      deferred (PG_E_SIG_DEFERRED: the verifier keeps a copy, see below);
 *   4. the signature: Ed25519 over the record message, or for a bundle record its inclusion
 *      proof up to the root it carries (PG_E_SIG_PROOF) and the signature over that root,
 *      skipped when that very signature of (root, size, key) was verified before (the root
 *      cache);
 *   5. the key: revoked (PG_E_SIG_REVOKED); [modified, expires] inside its window
 *      (PG_E_SIG_WINDOW); its authority is the record's toucher's (PG_E_SIG_WRONG_SIGNER);
 *      a toucher other than the creator must be an administrator (PG_E_SIG_NOT_ADMIN).
 *
 * 0 means "verified": the caller stores it (rvt_raise) and floods it. The verifier never
 * writes the version table or the store, so nothing it rejects is ever stored.
 *
 * Deferred records. A record whose signer is unknown is copied into a bounded queue (count
 * and bytes; full -> dropped, counted as queue_full). verify_deferred_run(), called once per
 * loop turn, re-validates the whole queue when the key table's generation moved (a key was
 * published, renewed or revoked: one shared load when nothing changed) and drops, counted as
 * unknown_key, every record that waited its timeout (default 30 s). Time is a parameter, so
 * tests move it instead of sleeping.
 *
 * Threads: a verifier belongs to one worker thread (its RVT handle, scratch buffers, caches
 * and queue are that thread's). Counters may be read from any thread (verify_stats_read).
 */
#ifndef PG_VERIFY_H
#define PG_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"
#include "rvt.h"

/*
 * The Ed25519 implementation: libsodium (fast path) or OpenSSL (reference). Both answer by one
 * acceptance rule, shared/ed25519.h's: S < L; A and R canonical and not of small order; the
 * cofactorless equation encode([S]B - [k]A) == R (RFC 8032 §5.1.7 without the cofactor) --
 * libsodium's strict variant, for which the OpenSSL backend makes the encoding checks first.
 * Keys reach the verifier only through the key table, which refuses small-order,
 * non-canonical and mixed-order keys at publication.
 */
enum verify_backend {
	VERIFY_BACKEND_AUTO = 0, /* libsodium, unless PG_VERIFY_BACKEND=openssl in the env */
	VERIFY_BACKEND_SODIUM,
	VERIFY_BACKEND_OPENSSL,
};

/* Why a record was rejected: one counter each. */
enum verify_reason {
	VERIFY_UNSIGNED,       /* no security data */
	VERIFY_MALFORMED,      /* security data (or attribute block) not in its valid encoding */
	VERIFY_BAD_SIGNATURE,  /* Ed25519 check failed (record tampered, or wrong key) */
	VERIFY_BAD_PROOF,      /* bundle record or proof tampered: proof misses its root */
	VERIFY_WRONG_SIGNER,   /* key's authority is not the record's toucher's */
	VERIFY_NOT_ADMIN,      /* another's record modified by a non-administrator */
	VERIFY_REVOKED,	       /* signer revoked */
	VERIFY_OUTSIDE_WINDOW, /* [modified, expires] outside the signer's window */
	VERIFY_UNKNOWN_KEY,    /* deferred, and the key never came before the timeout */
	VERIFY_QUEUE_FULL,     /* deferred queue at its bound */
	VERIFY_INTERNAL,       /* a crypto library failure (not the record's fault) */
	VERIFY_REASONS,
};

enum {
	VERIFY_DEFER_MAX_DEFAULT = 1024, /* records waiting for their key */
	VERIFY_DEFER_MAX = 1u << 20,
	VERIFY_DEFER_BYTES_DEFAULT = 16u << 20,	  /* bytes of records waiting */
	VERIFY_DEFER_TIMEOUT_DEFAULT = 30000000u, /* µs: FEATURES.md's 30 s */
	VERIFY_ROOT_CACHE_DEFAULT = 1024,	  /* verified bundle roots kept */
	VERIFY_ROOT_CACHE_MAX = 1u << 20,
};

struct verify_config {
	const char *graph_id; /* the graph; signatures bind its SHA-256 */
	size_t graph_id_len;
	/* The key table, attached read-only: by shm name, or when NULL, by descriptor. */
	const char *keytab_name;
	int keytab_fd;
	/* The worker's version-table handle (borrowed). NULL skips step 1 (tests, benchmarks). */
	struct rvt_thread *rvt;
	struct pg_record_limits limits; /* max_record_size 0 = the default */
	enum verify_backend backend;
	uint32_t defer_max;	   /* 0 = default; <= VERIFY_DEFER_MAX */
	uint64_t defer_bytes_max;  /* 0 = default */
	uint64_t defer_timeout_us; /* 0 = default */
	uint32_t root_cache_size;  /* power of two >= 4; 0 = default; <= VERIFY_ROOT_CACHE_MAX */
};

struct verify_stats {
	uint64_t accepted;	    /* verified (directly or from the queue) */
	uint64_t accepted_deferred; /* of those, after waiting in the queue */
	uint64_t duplicates;	    /* held already, equal or older: not verified */
	uint64_t deferred;	    /* records that entered the queue */
	uint64_t deferred_dups;	    /* copies of a record already queued, not queued again */
	uint64_t rejected;	    /* sum of by_reason */
	uint64_t by_reason[VERIFY_REASONS];
	uint64_t sig_checks;	/* Ed25519 verifications run */
	uint64_t root_hits;	/* bundle records whose root was verified before */
	uint64_t root_misses;	/* bundle roots verified (and cached on success) */
	uint64_t node_hashes;	/* bundle proof-walk node hashes computed */
	uint64_t revalidations; /* queue passes run because the key table changed */
	uint64_t queue_len;	/* now */
	uint64_t queue_bytes;	/* now */
};

struct verify;

/* Handed each record the queue accepts; rec is valid only during the call, which must not
 * call into the verifier. */
typedef void (*verify_accept_fn)(void *ctx, const struct pg_record *rec);

/* Creates a verifier: attaches the key table read-only (its errors pass through, e.g.
 * PG_E_KEYTAB_MAGIC, PG_E_KEYTAB_SIZE: the verifier does not start), allocates scratch, caches
 * and the queue. 0, -EINVAL for a bad config, -ENOMEM, PG_E_BAD_LIMIT, PG_E_CRYPTO, a keytab
 * error or -errno. */
int verify_create(const struct verify_config *cfg, struct verify **out);

/* Frees the verifier and every queued record; detaches the key table (NULL is fine). */
void verify_destroy(struct verify *v);

/* The backend chosen at creation (never AUTO). */
enum verify_backend verify_backend_of(const struct verify *v);

/*
 * Verifies one record view (what is checked is what the view says: its canonical bytes are
 * re-encoded from it), now_us on the clock verify_deferred_run uses. Returns
 * 0 (verified), PG_E_STALE (duplicate), PG_E_SIG_DEFERRED (queued: the verifier copied it),
 * or the rejection: PG_E_SIG_* (see enum verify_reason), PG_E_CRYPTO. Counts each outcome.
 */
int verify_record(struct verify *v, const struct pg_record *rec, uint64_t now_us);

/* verify_record for n records, the version-table probes of each 32 prefetched together;
 * res[i] gets record i's answer. Returns how many were verified (res 0). */
unsigned verify_burst(struct verify *v, const struct pg_record *recs, unsigned n, uint64_t now_us,
		      int *res);

/*
 * The queue's turn: if the key table changed since the last pass, re-validates every queued
 * record (accepted ones go to fn and leave the queue, rejected ones are counted and leave,
 * still-unknown ones stay); then drops, counted as VERIFY_UNKNOWN_KEY, those queued at least
 * the timeout before now_us. Returns how many were accepted.
 */
unsigned verify_deferred_run(struct verify *v, uint64_t now_us, verify_accept_fn fn, void *ctx);

/* Copies the counters (any thread; each counter is read atomically, the set is not). */
void verify_stats_read(const struct verify *v, struct verify_stats *out);

/* One signature by the acceptance rule above, with backend b (not AUTO): 0, PG_E_SIG_BAD,
 * PG_E_CRYPTO, or -EINVAL for a bad backend. No caches: for tests and the differential fuzzer,
 * which hold both backends to the same verdict. */
int verify_ed25519_once(enum verify_backend b, const uint8_t *pk, const uint8_t *sig,
			const uint8_t *msg, size_t len);

/* The reason a verify_record code counts under, or VERIFY_REASONS for 0, PG_E_STALE and
 * PG_E_SIG_DEFERRED (not rejections). */
enum verify_reason verify_reason_of(int err);

/* "bad_signature", ...: the metric label of a reason. */
const char *verify_reason_name(enum verify_reason r);

#endif
