/*
 * verify_impl.h - what verify.c (the checks) and verify_defer.c (the deferred queue) share:
 * the verifier's state and its counters. Not for other modules: they use verify.h.
 */
#ifndef PG_VERIFY_IMPL_H
#define PG_VERIFY_IMPL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "bundle.h"
#include "keytab.h"
#include "pg_atomic.h"
#include "secdata.h"
#include "verify.h"

enum {
	KEYCACHE_SIZE = 64, /* direct-mapped by key id: public key, authority, OpenSSL key */
	ROOT_WAYS = 4,	    /* root cache associativity */
};

/* Counters: one owner thread writes (relaxed load + store, no locked add); anyone reads. */
enum verify_counter {
	C_ACCEPTED,
	C_ACCEPTED_DEFERRED,
	C_DUP,
	C_DEFERRED,
	C_DEFERRED_DUP,
	C_SIG,
	C_ROOT_HIT,
	C_ROOT_MISS,
	C_NODE_HASH,
	C_REVALIDATION,
	C_QUEUE_LEN,
	C_QUEUE_BYTES,
	C_REJECT, /* + enum verify_reason */
	C_COUNT = C_REJECT + VERIFY_REASONS,
};

/* A key met before: what verifying with it needs besides the key table's entry. The key id
 * maps to one public key for good (keytab.h writes both once), checked on every hit. */
struct keycache_entry {
	bool used;
	uint8_t key_id[PG_KEYTAB_ID_LEN];
	uint8_t pubkey[PG_KEYTAB_PUBKEY_LEN];
	char authority[PG_SECDATA_AUTHORITY_LEN]; /* hex SHA-1 of the key's SPKI */
	EVP_PKEY *pkey;				  /* OpenSSL backend: made on first use */
};

/* A bundle signature this verifier checked: (root, size, key id) and the signature bytes
 * themselves, so a hit never lets other bytes pass as that signature; size 0 = empty way. */
struct root_entry {
	uint8_t root[PG_SECDATA_HASH_LEN];
	uint8_t key_id[PG_KEYTAB_ID_LEN];
	uint8_t sig[PG_SECDATA_SIG_LEN];
	uint16_t size;
};

/* The bundle whose verified tree nodes verify_bundle.c remembers, by position: node[pos] for
 * pos = level_off[level] + index, known when its bit is set. */
struct bundle_memo {
	bool valid;
	uint16_t size;
	uint8_t root[PG_SECDATA_HASH_LEN];
	uint8_t key_id[PG_KEYTAB_ID_LEN];
	uint8_t sig[PG_SECDATA_SIG_LEN];
	uint16_t level_off[PG_BUNDLE_DEPTH_MAX + 2];
	uint64_t known[2 * PG_BUNDLE_MAX / 64];
	uint8_t (*node)[PG_SECDATA_HASH_LEN]; /* 2 * PG_BUNDLE_MAX, allocated at create */
};

/* A record waiting for its signer's key: its whole encoding, copied. */
struct defer_entry {
	struct pg_key key;
	uint64_t deadline_us;
	uint8_t *bytes; /* NULL = a hole left by re-validation, closed at the next pass */
	uint32_t len;
};

struct verify {
	/* inputs */
	struct pg_keytab *kt; /* attached read-only by verify_create, detached by destroy */
	struct rvt_thread *rvt;
	struct pg_record_limits lim;
	uint64_t graph_key;
	enum verify_backend backend;
	uint8_t graph_tag[PG_SECDATA_GRAPH_TAG_LEN];
	/* crypto contexts, made once */
	struct pg_sha256 *sha;
	EVP_MD *sha1;
	EVP_MD_CTX *sha1_ctx;
	EVP_MD_CTX *verify_ctx;
	/* record prefix (written once) || canonical bytes of the record being checked */
	uint8_t *msg;
	size_t msg_cap;
	struct keycache_entry keys[KEYCACHE_SIZE];
	struct root_entry *roots; /* nsets x ROOT_WAYS */
	uint8_t *root_victim;	  /* per set: the way to replace next */
	uint32_t root_set_mask;
	uint64_t root_seed;
	struct bundle_memo memo;
	/* deferred queue: a ring of entries in arrival order, so deadlines ascend from head */
	struct defer_entry *q;
	uint32_t q_max, q_head, q_used; /* q_used: ring positions taken, holes included */
	uint32_t q_len;			/* records held */
	uint64_t q_bytes, q_bytes_max, timeout_us;
	uint64_t seen_gen; /* key table generation of the last re-validation */
	_Atomic uint64_t c[C_COUNT] pg_cache_aligned;
};

static inline void verify_count(struct verify *v, enum verify_counter c)
{
	pg_store_relaxed(&v->c[c], pg_load_relaxed(&v->c[c]) + 1);
}

static inline void verify_gauge(struct verify *v, enum verify_counter c, uint64_t val)
{
	pg_store_relaxed(&v->c[c], val);
}

/* verify.c: Ed25519 (RFC 8032, pure) with the chosen backend; counted. 0, PG_E_SIG_BAD or
 * PG_E_CRYPTO. */
int verify_ed25519(struct verify *v, struct keycache_entry *k, const uint8_t *sig,
		   const uint8_t *msg, size_t len);
/* verify_bundle.c: step 4 for a bundle record whose canonical bytes are in v->msg after the
 * prefix. 0, PG_E_SIG_PROOF, PG_E_SIG_BAD or PG_E_CRYPTO. */
int verify_check_bundle(struct verify *v, struct keycache_entry *k, const struct pg_secdata *sd,
			size_t canonical_len);

/* verify.c: steps 2-5 for one record (no counting). 0 or the answer, PG_E_SIG_DEFERRED
 * when the key is not known (yet). */
int verify_judge(struct verify *v, const struct pg_record *rec);
/* verify.c: step 1. True when the table holds this copy or a newer one. */
bool verify_held(struct verify *v, const struct pg_record *rec, struct pg_key key);
/* verify.c: counts one final outcome. */
void verify_count_outcome(struct verify *v, int err, bool from_queue);

/* verify_defer.c */
int verify_defer_init(struct verify *v, const struct verify_config *cfg);
void verify_defer_fini(struct verify *v);
/* Queues a copy. PG_E_SIG_DEFERRED, PG_E_STALE (the same copy is queued),
 * PG_E_SIG_QUEUE_FULL (count or bytes at their bound, or no memory), or the encoder's error
 * for a record outside the verifier's limits. */
int verify_defer_push(struct verify *v, const struct pg_record *rec, struct pg_key key,
		      uint64_t now_us);

#endif
