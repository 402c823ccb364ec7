/*
 * sign.h - record signing for local identities: a record alone, or a bundle of records under
 * one signature. Produces the security data (shared/secdata.h) into the caller's storage; the
 * private key stays in the control plane (DESIGN.md, "Security").
 *
 * WHO SIGNS A VERSION
 *
 * Each version of a record is signed by the identity that made it, its "toucher": the creator
 * while the record was never updated (modifier empty), the last modifier after. The creator's
 * id stays in the record and so under the modifier's signature. Ids in signed records are
 * secured peer names (`authority.classifier`, FEATURES.md §2), and a signature counts only if
 * the signing key's authority (SHA-1 of its SubjectPublicKeyInfo) is the toucher's: the
 * verifier recomputes it from the key table's public key (dataplane/verify.c).
 *
 * Why not keep the creator's signature beside the modifier's: the creator signed version 1's
 * canonical bytes; version 2 has other bytes, so that signature vouches for nothing in it, and
 * a signature over a creator-only subset (type, id, creator, creation time) would only prove
 * that a record of that id once existed, while making every admin edit cost two verifications
 * and tying the record's fate to a key that may since have been revoked. What protects a
 * creator is the role rule, enforced by every verifier: a version whose toucher is not its
 * creator is accepted only if the toucher's key holds the administrator role (FEATURES.md §3:
 * administrators may modify and delete others' records). An administrator is thus the only
 * one who can change, or attribute to someone, a record that person did not sign, and the
 * version carries the administrator's own signature, so the act is attributable.
 *
 * Validity: a version is signed only if [last-modified, expiration] lies inside the signer's
 * window (not_before <= modified and expires <= not_after), the same rule verifiers apply with
 * the window of the key table (the member's GMC): refusing here saves flooding a record every
 * node will reject.
 */
#ifndef PG_SIGN_H
#define PG_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "identity.h"
#include "record.h"
#include "secdata.h"

struct pg_signer;

struct pg_signer_config {
	const char *graph_id; /* the graph the signatures are for (bound into every message) */
	size_t graph_id_len;
	struct pg_record_limits limits; /* bounds the records signed; max_record_size 0 = default */
	/* The signer's validity window as verifiers will see it (µs since the epoch, inclusive);
	 * both 0 = the identity certificate's validity. */
	uint64_t not_before_us;
	uint64_t not_after_us;
	uint32_t bundle_max; /* records per bundle, 1 .. PG_BUNDLE_MAX; 0 = PG_BUNDLE_MAX */
};

/* Creates a signer for the identity (borrowed: it must outlive the signer). 0, -EINVAL for a
 * bad config, -ENOMEM, PG_E_BAD_LIMIT or PG_E_CRYPTO. */
int pg_signer_create(const struct pg_identity *id, const struct pg_signer_config *cfg,
		     struct pg_signer **out);

/* Frees a signer (NULL is fine). */
void pg_signer_destroy(struct pg_signer *s);

/* The graph tag (SHA-256 of the graph id) the signer's messages bind. */
const uint8_t *pg_signer_graph_tag(const struct pg_signer *s);

/*
 * Signs one record (its secdata is ignored) and writes its single-signature security data
 * (PG_SECDATA_SINGLE_LEN bytes) to out. Returns the length, a PG_E_* code for an invalid
 * record, PG_E_SIG_WRONG_SIGNER (the identity is not the record's toucher), PG_E_SIG_WINDOW,
 * -ENOSPC, or PG_E_CRYPTO.
 */
long pg_signer_sign_record(struct pg_signer *s, const struct pg_record *rec, uint8_t *out,
			   size_t cap);

/*
 * Signs n records (1 .. bundle_max) with one signature over their Merkle root: writes record
 * i's security data to out[i] and its length to lens[i]. All or nothing: returns 0, or the
 * first record's error as for pg_signer_sign_record, PG_E_SIG_BUNDLE_SIZE, -ENOMEM.
 */
int pg_signer_sign_bundle(struct pg_signer *s, const struct pg_record *recs, unsigned n,
			  uint8_t (*out)[PG_SECDATA_BUNDLE_MAX_LEN], uint16_t *lens);

#endif
