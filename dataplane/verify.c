/*
 * verify.c - record verification in the dataplane (verify.h): the version-table check, the
 * signature against the key table, the signer's window and role. Bundle records (the proof
 * walk, the root cache) are in verify_bundle.c, the deferred queue in verify_defer.c.
 *
 * HOW IT WORKS
 *
 * The order of the checks is the order of their cost and of what they mean:
 *
 *   1. The version table answers "held already" from one cache line (rvt.c) for a copy older
 *      than ours (or than the version an expired record's key remembers) and from the held
 *      body for an equal version (pg_record_order): a duplicate costs a hash and a probe,
 *      never a signature check. verify_burst() issues the table probes of 32 records, then
 *      the loads of their held bodies, before deciding any.
 *   2. The attribute block is checked (a decoded view passed this already; a view built by
 *      hand may not have) and the security data is decoded strictly (secdata.c): no crypto
 *      on a malformed one, and nothing malformed enters the deferred queue.
 *   3. The signer's key comes from the key table by key id, lock-free (keytab.c). A key the
 *      table does not hold, or a slot that stayed busy, defers the record: whether it is
 *      authentic cannot be known yet, so it is neither accepted nor rejected.
 *   4. The signature. Single: Ed25519 over "peergraph record v1\0" || graph tag || canonical
 *      bytes, re-encoded from the view (so what is checked is exactly what the caller will
 *      store, whatever buffer the view came from). Bundle: the leaf hash of the canonical
 *      bytes walks its proof to a root, which must be the root the record carries, and the
 *      signature over that root is checked unless the root cache holds that very signature
 *      of (root, size, key id).
 *   5. What the key may sign: not revoked; not_before <= modified and expires <= not_after
 *      (FEATURES.md §3: a record's [last-modified, expiration] inside its signer's validity);
 *      the key's authority (SHA-1 of its SubjectPublicKeyInfo, computed here from the public
 *      key) is the authority of the record's toucher, i.e. its modifier, or its creator if it
 *      was never updated (controlplane/sign.h: each version is signed by who made it); and if
 *      the toucher is not the creator, the key holds the administrator role.
 *
 * Policy (5) comes after the signature (4) on purpose: a record rejected as revoked, outside
 * its window, wrong signer or not admin was really signed by that key, so those counters show
 * what members did, and forgeries all land in bad_signature / bad_proof. Checking policy first
 * would save no work an attacker could force: a forgery naming a valid key costs a
 * verification either way, and one naming an unknown key costs none (it waits, bounded).
 *
 * One acceptance rule. libsodium (fast) and OpenSSL (reference) disagreed on signatures only a
 * key holder can build (a small-order R, say): nodes running different backends would hold
 * different databases. verify_ed25519 applies shared/ed25519.h's rule -- strict encodings,
 * then the cofactorless equation both libraries compute -- so the verdict is the backend's
 * in name only; test_ed25519.c runs the published edge-case vectors through both, and
 * fuzz_ed25519.c feeds both the same inputs and fails on any disagreement.
 *
 * SECURITY ARGUMENT
 *
 * A record is accepted only with a valid Ed25519 signature, by a key the control plane put in
 * the key table, over a message that holds every field of the record except its security data
 * (the canonical bytes) and the graph it belongs to. Changing any field changes the message;
 * changing the key id names another key, which did not sign it; the signer's identity is
 * bound to the record's creator / modifier fields by the authority check, so a member cannot
 * publish in another's name, and the role check keeps non-administrators from touching
 * others' records. A member's copy that names itself as creator of another's record id is
 * its own record: the record key covers the creator (record.h), so it never replaces,
 * outranks or deletes the other, whatever order copies arrive in. Bundles reduce to the same
 * statement through bundle.h's argument. Nothing here writes the version table or the store:
 * the caller stores only what returns 0.
 *
 * LIMITATIONS
 *
 * - The caches are per verifier (per worker): 64 keys direct-mapped, and the root cache. A
 *   key whose public key changed under the same id (impossible through keytab.h) is caught on
 *   the hit by comparing the public key.
 * - The key's revocation and window are read from the key table for every record, so a
 *   revocation applies to the next record checked; records accepted before it stay accepted.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/err.h>
#include <sodium.h>

#include "ed25519.h"
#include "pg_assert.h"
#include "pg_error.h"
#include "verify_impl.h"

/* DER SubjectPublicKeyInfo of an Ed25519 key (RFC 8410 §4) = these 12 bytes || the key. */
static const uint8_t ed25519_spki_prefix[12] = { 0x30, 0x2a, 0x30, 0x05, 0x06, 0x03,
						 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00 };

static const char *const reason_names[VERIFY_REASONS] = {
	[VERIFY_UNSIGNED] = "unsigned",
	[VERIFY_MALFORMED] = "malformed",
	[VERIFY_BAD_SIGNATURE] = "bad_signature",
	[VERIFY_BAD_PROOF] = "bad_proof",
	[VERIFY_WRONG_SIGNER] = "wrong_signer",
	[VERIFY_NOT_ADMIN] = "not_admin",
	[VERIFY_REVOKED] = "revoked",
	[VERIFY_OUTSIDE_WINDOW] = "outside_window",
	[VERIFY_UNKNOWN_KEY] = "unknown_key",
	[VERIFY_QUEUE_FULL] = "queue_full",
	[VERIFY_INTERNAL] = "internal",
};

/* ---- set-up ---------------------------------------------------------------------------- */

static enum verify_backend pick_backend(enum verify_backend want)
{
	const char *env;

	if (want != VERIFY_BACKEND_AUTO)
		return want;
	env = getenv("PG_VERIFY_BACKEND");
	if (env && strcmp(env, "openssl") == 0)
		return VERIFY_BACKEND_OPENSSL;
	return VERIFY_BACKEND_SODIUM;
}

static int check_config(const struct verify_config *c)
{
	uint32_t rc = c->root_cache_size;

	if ((!c->graph_id && c->graph_id_len) || (!c->keytab_name && c->keytab_fd < 0) ||
	    c->backend > VERIFY_BACKEND_OPENSSL || c->defer_max > VERIFY_DEFER_MAX ||
	    rc > VERIFY_ROOT_CACHE_MAX || (rc && (rc < ROOT_WAYS || (rc & (rc - 1)))))
		return -EINVAL;
	return 0;
}

static int crypto_init(struct verify *v, const struct verify_config *cfg)
{
	int err = pg_sha256_create(&v->sha);

	if (err)
		return err;
	err = pg_bundle_graph_tag(v->sha, cfg->graph_id ? cfg->graph_id : "", cfg->graph_id_len,
				  v->graph_tag);
	if (err)
		return err;
	if (sodium_init() < 0)
		return PG_E_CRYPTO;
	v->sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
	v->sha1_ctx = EVP_MD_CTX_new();
	v->verify_ctx = EVP_MD_CTX_new();
	if (!v->sha1 || !v->sha1_ctx || !v->verify_ctx) {
		ERR_clear_error();
		return PG_E_CRYPTO;
	}
	return 0;
}

static int caches_init(struct verify *v, const struct verify_config *cfg)
{
	uint32_t size = cfg->root_cache_size ? cfg->root_cache_size : VERIFY_ROOT_CACHE_DEFAULT;
	uint32_t nsets = size / ROOT_WAYS;

	/* the largest canonical encoding: header, two ids, attributes and payload */
	v->msg_cap = PG_SECDATA_RECORD_PREFIX_LEN + PG_RECORD_HDR_LEN + 2 * PG_ID_MAX +
		     (size_t)v->lim.max_record_size;
	v->msg = malloc(v->msg_cap);
	v->roots = calloc(size, sizeof(*v->roots));
	v->root_victim = calloc(nsets, 1);
	v->memo.node = calloc(2 * PG_BUNDLE_MAX, sizeof(*v->memo.node));
	if (!v->msg || !v->roots || !v->root_victim || !v->memo.node)
		return -ENOMEM;
	pg_secdata_record_prefix(v->graph_tag, v->msg); /* stays: records go after it */
	v->root_set_mask = nsets - 1;
	/* keyed set index: nobody can aim roots at one set (only verified roots enter anyway) */
	if (getrandom(&v->root_seed, sizeof(v->root_seed), GRND_NONBLOCK) != sizeof(v->root_seed))
		v->root_seed = (uint64_t)(uintptr_t)v ^ 0x9e3779b97f4a7c15ull;
	return 0;
}

int verify_create(const struct verify_config *cfg, struct verify **out)
{
	struct verify *v;
	int err;

	*out = NULL;
	if (!cfg || (err = check_config(cfg)))
		return -EINVAL;
	v = aligned_alloc(PG_CACHE_LINE, (sizeof(*v) + PG_CACHE_LINE - 1) & ~(PG_CACHE_LINE - 1));
	if (!v)
		return -ENOMEM;
	memset(v, 0, sizeof(*v));
	v->rvt = cfg->rvt;
	v->backend = pick_backend(cfg->backend);
	v->lim = cfg->limits;
	if (v->lim.max_record_size == 0)
		pg_record_limits_default(&v->lim);
	v->graph_key = pg_graph_key(cfg->graph_id ? cfg->graph_id : "", cfg->graph_id_len);
	err = pg_record_limits_check(&v->lim);
	if (err)
		goto err_destroy;
	err = cfg->keytab_name ? pg_keytab_attach(cfg->keytab_name, &v->kt)
			       : pg_keytab_attach_fd(cfg->keytab_fd, &v->kt);
	if (err)
		goto err_destroy;
	v->seen_gen = pg_keytab_generation(v->kt);
	if ((err = crypto_init(v, cfg)) || (err = caches_init(v, cfg)) ||
	    (err = verify_defer_init(v, cfg)))
		goto err_destroy;
	*out = v;
	return 0;

err_destroy:
	verify_destroy(v); /* every field is NULL or owned: one release path */
	return err;
}

void verify_destroy(struct verify *v)
{
	if (!v)
		return;
	verify_defer_fini(v);
	for (int i = 0; i < KEYCACHE_SIZE; i++)
		EVP_PKEY_free(v->keys[i].pkey);
	free(v->memo.node);
	free(v->root_victim);
	free(v->roots);
	free(v->msg);
	EVP_MD_CTX_free(v->verify_ctx);
	EVP_MD_CTX_free(v->sha1_ctx);
	EVP_MD_free(v->sha1);
	pg_sha256_destroy(v->sha);
	pg_keytab_detach(v->kt);
	free(v);
}

enum verify_backend verify_backend_of(const struct verify *v)
{
	return v->backend;
}

/* ---- keys and signatures ---------------------------------------------------------------- */

/* The lowercase hex SHA-1 of the key's SPKI: the authority of its peer names. */
static int authority_of(struct verify *v, const uint8_t *pk, char out[PG_SECDATA_AUTHORITY_LEN])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t md[20];
	unsigned int n = 0;

	if (EVP_DigestInit_ex2(v->sha1_ctx, v->sha1, NULL) != 1 ||
	    EVP_DigestUpdate(v->sha1_ctx, ed25519_spki_prefix, sizeof(ed25519_spki_prefix)) != 1 ||
	    EVP_DigestUpdate(v->sha1_ctx, pk, PG_KEYTAB_PUBKEY_LEN) != 1 ||
	    EVP_DigestFinal_ex(v->sha1_ctx, md, &n) != 1 || n != sizeof(md)) {
		ERR_clear_error();
		return PG_E_CRYPTO;
	}
	for (int i = 0; i < 20; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	return 0;
}

static struct keycache_entry *key_cached(struct verify *v, const struct pg_keytab_entry *e)
{
	struct keycache_entry *k = &v->keys[e->key_id[0] % KEYCACHE_SIZE];

	if (k->used && memcmp(k->key_id, e->key_id, PG_KEYTAB_ID_LEN) == 0 &&
	    memcmp(k->pubkey, e->pubkey, PG_KEYTAB_PUBKEY_LEN) == 0)
		return k;
	EVP_PKEY_free(k->pkey);
	k->pkey = NULL;
	k->used = false;
	if (authority_of(v, e->pubkey, k->authority))
		return NULL;
	memcpy(k->key_id, e->key_id, PG_KEYTAB_ID_LEN);
	memcpy(k->pubkey, e->pubkey, PG_KEYTAB_PUBKEY_LEN);
	k->used = true;
	return k;
}

/* OpenSSL's cofactorless equation for a key already made into an EVP_PKEY. */
static int openssl_equation(EVP_MD_CTX *ctx, EVP_PKEY *pkey, const uint8_t *sig, const uint8_t *msg,
			    size_t len)
{
	int rc;

	if (EVP_MD_CTX_reset(ctx) != 1 || EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pkey) != 1) {
		ERR_clear_error();
		return PG_E_CRYPTO;
	}
	rc = EVP_DigestVerify(ctx, sig, PG_SECDATA_SIG_LEN, msg, len);
	if (rc != 1)
		ERR_clear_error(); /* 0: does not verify; < 0: malformed signature, same answer */
	return rc == 1 ? 0 : PG_E_SIG_BAD;
}

static EVP_PKEY *openssl_key(const uint8_t *pk)
{
	EVP_PKEY *pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pk, PG_ED25519_PK_LEN);

	if (!pkey)
		ERR_clear_error();
	return pkey;
}

/* The acceptance rule of ed25519.h: the encoding checks here for both backends (libsodium
 * makes them again itself), then the backend's equation. */
int verify_ed25519(struct verify *v, struct keycache_entry *k, const uint8_t *sig,
		   const uint8_t *msg, size_t len)
{
	verify_count(v, C_SIG);
	if (!pg_ed25519_encodings_ok(sig, k->pubkey))
		return PG_E_SIG_BAD;
	if (v->backend == VERIFY_BACKEND_SODIUM)
		return crypto_sign_verify_detached(sig, msg, len, k->pubkey) == 0 ? 0
										  : PG_E_SIG_BAD;
	if (!k->pkey && !(k->pkey = openssl_key(k->pubkey)))
		return PG_E_CRYPTO;
	return openssl_equation(v->verify_ctx, k->pkey, sig, msg, len);
}

int verify_ed25519_once(enum verify_backend b, const uint8_t *pk, const uint8_t *sig,
			const uint8_t *msg, size_t len)
{
	EVP_MD_CTX *ctx;
	EVP_PKEY *pkey;
	int err;

	if (b != VERIFY_BACKEND_SODIUM && b != VERIFY_BACKEND_OPENSSL)
		return -EINVAL;
	if (!pg_ed25519_encodings_ok(sig, pk))
		return PG_E_SIG_BAD;
	if (b == VERIFY_BACKEND_SODIUM) {
		if (sodium_init() < 0)
			return PG_E_CRYPTO;
		return crypto_sign_verify_detached(sig, msg, len, pk) == 0 ? 0 : PG_E_SIG_BAD;
	}
	ctx = EVP_MD_CTX_new();
	pkey = openssl_key(pk);
	err = ctx && pkey ? openssl_equation(ctx, pkey, sig, msg, len) : PG_E_CRYPTO;
	EVP_PKEY_free(pkey);
	EVP_MD_CTX_free(ctx);
	return err;
}

/* ---- the checks ------------------------------------------------------------------------- */

/* Step 5: what this (authentic) key may sign. */
static int check_key(const struct pg_record *rec, const struct pg_keytab_entry *e,
		     const struct keycache_entry *k)
{
	bool updated = pg_record_updated(rec);
	const char *toucher = updated ? rec->modifier : rec->creator;
	size_t len = updated ? rec->modifier_len : rec->creator_len;

	if (e->revoked)
		return PG_E_SIG_REVOKED;
	if (rec->modified_us < e->not_before_us || rec->expires_us > e->not_after_us)
		return PG_E_SIG_WINDOW;
	if (!pg_secdata_id_has_authority(toucher, len, k->authority))
		return PG_E_SIG_WRONG_SIGNER;
	if (updated && !pg_secdata_same_authority(rec->creator, rec->creator_len, toucher, len) &&
	    e->role != PG_KEYTAB_ROLE_ADMIN)
		return PG_E_SIG_NOT_ADMIN;
	return 0;
}

int verify_judge(struct verify *v, const struct pg_record *rec)
{
	struct pg_keytab_entry e;
	struct keycache_entry *k;
	struct pg_secdata sd;
	long n;
	int err;

	/* the one rule the encoder does not check: a view built by hand (not decoded) may carry a
	 * bad attribute block, which must be refused here, never queued (its re-encoding later
	 * would not decode) */
	err = pg_attrs_check(rec->attrs, rec->attrs_len, rec->nattrs);
	if (err)
		return err;
	err = pg_secdata_decode(rec->secdata, rec->secdata_len, &sd);
	if (err)
		return err;
	err = pg_keytab_lookup(v->kt, sd.key_id, &e);
	if (err == PG_E_KEYTAB_NO_KEY || err == PG_E_KEYTAB_BUSY)
		return PG_E_SIG_DEFERRED;
	PG_ASSERT(err == 0); /* keytab.h: the lookup has no other answer */
	k = key_cached(v, &e);
	if (!k)
		return PG_E_CRYPTO;
	n = pg_record_encode_canonical(rec, &v->lim, v->msg + PG_SECDATA_RECORD_PREFIX_LEN,
				       v->msg_cap - PG_SECDATA_RECORD_PREFIX_LEN);
	if (n < 0)
		return n == -ENOSPC ? PG_E_TOO_LARGE : (int)n; /* outside our limits */
	if (sd.kind == PG_SECDATA_SINGLE)
		err =
		    verify_ed25519(v, k, sd.sig, v->msg, PG_SECDATA_RECORD_PREFIX_LEN + (size_t)n);
	else
		err = verify_check_bundle(v, k, &sd, (size_t)n);
	return err ? err : check_key(rec, &e, k);
}

/*
 * Step 1 on a view of the table: the held copy is newer than rec, or rec itself.
 *
 * A newer held version decides from the slot's word: the body stays cold. At an equal version
 * the copy is the held one if its security data bytes are the held copy's: those bytes are a
 * signature over (or a proof to a signed root of) every field the conflict order looks at,
 * so a second copy with the same security data and another field is either a forgery or an
 * Ed25519 / SHA-256 collision, and dropping it is what verification would do. That test reads
 * the held body's pointer line and its security data, not its modifier; anything else goes
 * through pg_record_order. A key whose record expired holds no body but remembers the version
 * it dropped, and the table refuses copies at or below it, so a late copy of an expired record
 * is a duplicate here too, not a signature check whose result the table would throw away.
 */
static bool held_in(const struct rvt_view *w, const struct pg_record *rec)
{
	const struct pg_record *b = w->body;

	if (!b) /* nothing held; a removed (expired) key remembers its version: older is stale */
		return w->version >= rec->version;
	if (w->version != rec->version)
		return w->version > rec->version;
	if (rec->secdata_len != 0 && b->secdata_len == rec->secdata_len &&
	    memcmp(b->secdata, rec->secdata, rec->secdata_len) == 0)
		return true;
	return pg_record_order(rec, b) <= 0;
}

bool verify_held(struct verify *v, const struct pg_record *rec, struct pg_key key)
{
	struct rvt_view view;

	if (!v->rvt)
		return false;
	rvt_lookup(v->rvt, key, &view); /* fills the view, a removed key's version included */
	return held_in(&view, rec);
}

enum verify_reason verify_reason_of(int err)
{
	switch (err) {
	case 0:
	case PG_E_STALE:
	case PG_E_SIG_DEFERRED:
		return VERIFY_REASONS;
	case PG_E_SIG_UNSIGNED:
		return VERIFY_UNSIGNED;
	case PG_E_SIG_BAD:
		return VERIFY_BAD_SIGNATURE;
	case PG_E_SIG_PROOF:
		return VERIFY_BAD_PROOF;
	case PG_E_SIG_WRONG_SIGNER:
		return VERIFY_WRONG_SIGNER;
	case PG_E_SIG_NOT_ADMIN:
		return VERIFY_NOT_ADMIN;
	case PG_E_SIG_REVOKED:
		return VERIFY_REVOKED;
	case PG_E_SIG_WINDOW:
		return VERIFY_OUTSIDE_WINDOW;
	case PG_E_SIG_UNKNOWN_KEY:
		return VERIFY_UNKNOWN_KEY;
	case PG_E_SIG_QUEUE_FULL:
		return VERIFY_QUEUE_FULL;
	case PG_E_CRYPTO:
	case -ENOMEM:
		return VERIFY_INTERNAL;
	default:
		return VERIFY_MALFORMED; /* the security data, or a record outside our limits */
	}
}

const char *verify_reason_name(enum verify_reason r)
{
	return r < VERIFY_REASONS ? reason_names[r] : "none";
}

void verify_count_outcome(struct verify *v, int err, bool from_queue)
{
	enum verify_reason r = verify_reason_of(err);

	if (err == 0) {
		verify_count(v, C_ACCEPTED);
		if (from_queue)
			verify_count(v, C_ACCEPTED_DEFERRED);
	} else if (err == PG_E_STALE) {
		verify_count(v, C_DUP);
	} else if (err == PG_E_SIG_DEFERRED) {
		verify_count(v, C_DEFERRED);
	} else {
		verify_count(v, (enum verify_counter)(C_REJECT + r));
	}
}

/* Steps 2-5 and the queue, for a record that step 1 let through. */
static int judge_and_count(struct verify *v, const struct pg_record *rec, struct pg_key key,
			   uint64_t now_us)
{
	int err = verify_judge(v, rec);

	if (err == PG_E_SIG_DEFERRED) {
		err = verify_defer_push(v, rec, key, now_us);
		if (err == PG_E_STALE) {
			verify_count(v, C_DEFERRED_DUP);
			return err;
		}
	}
	verify_count_outcome(v, err, false);
	return err;
}

int verify_record(struct verify *v, const struct pg_record *rec, uint64_t now_us)
{
	struct pg_key key = pg_record_key_of(v->graph_key, rec);

	if (verify_held(v, rec, key)) {
		verify_count(v, C_DUP);
		return PG_E_STALE;
	}
	return judge_and_count(v, rec, key, now_us);
}

/*
 * verify_burst runs step 1 as a software pipeline over groups of 32 records, three groups in
 * flight, so that each wait on memory overlaps the loads of the groups behind it:
 *
 *   group g:  probe the version table (rvt_lookup_burst prefetches the 32 home slots, then
 *             reads them) and prefetch, in the held bodies of equal versions, the line with
 *             the security data's pointer and length;
 *   g - 1:    prefetch the held copies' security data bytes (held_in), whose addresses are
 *             in the lines requested one group earlier;
 *   g - 2:    decide: duplicates answered, the rest through steps 2-5.
 *
 * A body pointer from the table stays valid until the thread's next quiescent state, which
 * the caller passes between bursts, not inside one.
 */
enum { PIPE_GROUP = 32, PIPE_DEPTH = 3 };

struct pipe_group {
	unsigned base, m;
	struct pg_key keys[PIPE_GROUP];
	struct rvt_view views[PIPE_GROUP];
};

static bool equal_version(const struct rvt_view *w, const struct pg_record *rec)
{
	return w->body && w->version == rec->version;
}

static void pipe_probe(struct verify *v, const struct pg_record *recs, struct pipe_group *g)
{
	const struct pg_record *r = recs + g->base;

	for (unsigned i = 0; i < g->m; i++)
		g->keys[i] = pg_record_key_of(v->graph_key, &r[i]);
	if (v->rvt)
		rvt_lookup_burst(v->rvt, g->keys, g->m, g->views);
	else
		memset(g->views, 0, sizeof(g->views[0]) * g->m);
	for (unsigned i = 0; i < g->m; i++)
		if (equal_version(&g->views[i], &r[i]))
			__builtin_prefetch(&g->views[i].body->secdata); /* and secdata_len */
}

/* The security-data bytes held_in compares (a bundle's are up to 8 lines: the first 5). */
static void prefetch_secdata(const struct pg_record *r)
{
	for (size_t off = 0; off < r->secdata_len && off < 4 * 64; off += 64)
		__builtin_prefetch(r->secdata + off);
	if (r->secdata_len)
		__builtin_prefetch(r->secdata + r->secdata_len - 1);
}

/* The held copies' bytes. (The arriving copies' were just decoded from a receive buffer:
 * prefetching them as well measured slower, the load on the memory system being the limit.) */
static void pipe_prefetch_bytes(const struct pg_record *recs, const struct pipe_group *g)
{
	for (unsigned i = 0; i < g->m; i++)
		if (equal_version(&g->views[i], &recs[g->base + i]))
			prefetch_secdata(g->views[i].body);
}

static unsigned pipe_decide(struct verify *v, const struct pg_record *recs,
			    const struct pipe_group *g, uint64_t now_us, int *res)
{
	unsigned ok = 0, dups = 0;

	for (unsigned i = 0; i < g->m; i++) {
		const struct pg_record *r = &recs[g->base + i];
		int *out = &res[g->base + i];

		if (held_in(&g->views[i], r)) {
			dups++;
			*out = PG_E_STALE;
			continue;
		}
		*out = judge_and_count(v, r, g->keys[i], now_us);
		ok += *out == 0;
	}
	pg_store_relaxed(&v->c[C_DUP], pg_load_relaxed(&v->c[C_DUP]) + dups);
	return ok;
}

unsigned verify_burst(struct verify *v, const struct pg_record *recs, unsigned n, uint64_t now_us,
		      int *res)
{
	struct pipe_group ring[PIPE_DEPTH];
	unsigned groups = (n + PIPE_GROUP - 1) / PIPE_GROUP, ok = 0;

	_Static_assert((int)PIPE_GROUP <= (int)RVT_BURST_MAX, "one rvt_lookup_burst batch a group");
	for (unsigned g = 0; g < groups + 2; g++) {
		if (g < groups) {
			struct pipe_group *p = &ring[g % PIPE_DEPTH];

			p->base = g * PIPE_GROUP;
			p->m = n - p->base < PIPE_GROUP ? n - p->base : PIPE_GROUP;
			pipe_probe(v, recs, p);
		}
		if (g >= 1 && g - 1 < groups)
			pipe_prefetch_bytes(recs, &ring[(g - 1) % PIPE_DEPTH]);
		if (g >= 2)
			ok += pipe_decide(v, recs, &ring[(g - 2) % PIPE_DEPTH], now_us, res);
	}
	return ok;
}

void verify_stats_read(const struct verify *v, struct verify_stats *out)
{
	uint64_t c[C_COUNT];

	for (int i = 0; i < C_COUNT; i++)
		c[i] = pg_load_relaxed(&v->c[i]); /* statistics: no ordering needed */
	memset(out, 0, sizeof(*out));
	out->accepted = c[C_ACCEPTED];
	out->accepted_deferred = c[C_ACCEPTED_DEFERRED];
	out->duplicates = c[C_DUP];
	out->deferred = c[C_DEFERRED];
	out->deferred_dups = c[C_DEFERRED_DUP];
	out->sig_checks = c[C_SIG];
	out->root_hits = c[C_ROOT_HIT];
	out->root_misses = c[C_ROOT_MISS];
	out->node_hashes = c[C_NODE_HASH];
	out->revalidations = c[C_REVALIDATION];
	out->queue_len = c[C_QUEUE_LEN];
	out->queue_bytes = c[C_QUEUE_BYTES];
	for (int r = 0; r < VERIFY_REASONS; r++) {
		out->by_reason[r] = c[C_REJECT + r];
		out->rejected += c[C_REJECT + r];
	}
}
