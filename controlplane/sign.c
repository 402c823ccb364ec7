/*
 * sign.c - record signing for local identities (sign.h): single records and bundles.
 *
 * A signer holds, from creation on, everything a signature needs besides the identity: the
 * graph tag, the validity window to check, one buffer for the longest message the record
 * limits allow (prefix || canonical bytes) and, for bundles, the leaf hashes and proofs of
 * the largest bundle. Signing allocates nothing. The messages are secdata.h's; the tree is
 * bundle.h's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "pg_assert.h"
#include "pg_error.h"
#include "pg_time.h"
#include "sign.h"

struct pg_signer {
	const struct pg_identity *id;
	struct pg_sha256 *sha;
	struct pg_record_limits lim;
	uint64_t not_before_us, not_after_us;
	uint32_t bundle_max;
	uint8_t graph_tag[PG_SECDATA_GRAPH_TAG_LEN];
	uint8_t *msg; /* record prefix || canonical bytes of the largest record */
	size_t msg_cap;
	uint8_t (*leaves)[PG_SECDATA_HASH_LEN];
	uint8_t (*proofs)[PG_BUNDLE_DEPTH_MAX][PG_SECDATA_HASH_LEN];
};

/* Unix seconds to µs, clamped to [0, UINT64_MAX]. */
static uint64_t sec_to_us(int64_t s)
{
	if (s <= 0)
		return 0;
	if ((uint64_t)s > UINT64_MAX / PG_USEC_PER_SEC)
		return UINT64_MAX;
	return (uint64_t)s * PG_USEC_PER_SEC;
}

int pg_signer_create(const struct pg_identity *id, const struct pg_signer_config *cfg,
		     struct pg_signer **out)
{
	struct pg_signer *s;
	int64_t nb, na;
	int err;

	*out = NULL;
	if (!id || !cfg || (!cfg->graph_id && cfg->graph_id_len) ||
	    cfg->bundle_max > PG_BUNDLE_MAX || cfg->not_before_us > cfg->not_after_us)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->id = id;
	s->lim = cfg->limits;
	if (s->lim.max_record_size == 0)
		pg_record_limits_default(&s->lim);
	err = pg_record_limits_check(&s->lim);
	if (err)
		goto err_free_signer;
	s->bundle_max = cfg->bundle_max ? cfg->bundle_max : PG_BUNDLE_MAX;
	s->not_before_us = cfg->not_before_us;
	s->not_after_us = cfg->not_after_us;
	if (s->not_before_us == 0 && s->not_after_us == 0) {
		pg_identity_validity(id, &nb, &na);
		s->not_before_us = sec_to_us(nb);
		s->not_after_us = sec_to_us(na);
	}
	err = pg_sha256_create(&s->sha);
	if (err)
		goto err_free_signer;
	err = pg_bundle_graph_tag(s->sha, cfg->graph_id ? cfg->graph_id : "", cfg->graph_id_len,
				  s->graph_tag);
	if (err)
		goto err_free_sha;
	/* header + two ids + attributes and payload: the largest canonical encoding */
	s->msg_cap = PG_SECDATA_RECORD_PREFIX_LEN + PG_RECORD_HDR_LEN + 2 * PG_ID_MAX +
		     (size_t)s->lim.max_record_size;
	err = -ENOMEM;
	s->msg = malloc(s->msg_cap);
	if (!s->msg)
		goto err_free_sha;
	s->leaves = calloc(s->bundle_max, sizeof(*s->leaves));
	if (!s->leaves)
		goto err_free_msg;
	s->proofs = calloc(s->bundle_max, sizeof(*s->proofs));
	if (!s->proofs)
		goto err_free_leaves;
	*out = s;
	return 0;

err_free_leaves:
	free(s->leaves);
err_free_msg:
	free(s->msg);
err_free_sha:
	pg_sha256_destroy(s->sha);
err_free_signer:
	free(s);
	return err;
}

void pg_signer_destroy(struct pg_signer *s)
{
	if (!s)
		return;
	free(s->proofs);
	free(s->leaves);
	free(s->msg);
	pg_sha256_destroy(s->sha);
	free(s);
}

const uint8_t *pg_signer_graph_tag(const struct pg_signer *s)
{
	return s->graph_tag;
}

/* The checks a verifier will make that the signer can make too: the identity is the record's
 * toucher and its window covers [modified, expires]. */
static int check_signable(const struct pg_signer *s, const struct pg_record *rec)
{
	const char *toucher = pg_record_updated(rec) ? rec->modifier : rec->creator;
	size_t len = pg_record_updated(rec) ? rec->modifier_len : rec->creator_len;

	if (!pg_secdata_id_has_authority(toucher, len, pg_identity_authority(s->id)))
		return PG_E_SIG_WRONG_SIGNER;
	if (rec->modified_us < s->not_before_us || rec->expires_us > s->not_after_us)
		return PG_E_SIG_WINDOW;
	return 0;
}

/* Writes prefix || canonical(rec) to s->msg; returns the canonical length or an error. */
static long encode_canonical(struct pg_signer *s, const struct pg_record *rec)
{
	long n = pg_record_encode_canonical(rec, &s->lim, s->msg + PG_SECDATA_RECORD_PREFIX_LEN,
					    s->msg_cap - PG_SECDATA_RECORD_PREFIX_LEN);

	PG_ASSERT(n != -ENOSPC); /* msg_cap holds the largest record the limits allow */
	return n;
}

long pg_signer_sign_record(struct pg_signer *s, const struct pg_record *rec, uint8_t *out,
			   size_t cap)
{
	uint8_t sig[PG_SECDATA_SIG_LEN];
	struct pg_secdata sd = { .kind = PG_SECDATA_SINGLE };
	long n;
	int err;

	n = encode_canonical(s, rec);
	if (n < 0)
		return n;
	err = check_signable(s, rec);
	if (err)
		return err;
	if (cap < PG_SECDATA_SINGLE_LEN)
		return -ENOSPC;
	pg_secdata_record_prefix(s->graph_tag, s->msg);
	err = pg_identity_sign(s->id, s->msg, PG_SECDATA_RECORD_PREFIX_LEN + (size_t)n, sig);
	if (err)
		return err;
	sd.key_id = pg_identity_key_id(s->id);
	sd.sig = sig;
	return pg_secdata_encode(&sd, out, cap);
}

int pg_signer_sign_bundle(struct pg_signer *s, const struct pg_record *recs, unsigned n,
			  uint8_t (*out)[PG_SECDATA_BUNDLE_MAX_LEN], uint16_t *lens)
{
	uint8_t root[PG_SECDATA_HASH_LEN], sig[PG_SECDATA_SIG_LEN];
	uint8_t msg[PG_SECDATA_BUNDLE_MSG_LEN];
	long len;
	int err;

	if (n == 0 || n > s->bundle_max)
		return PG_E_SIG_BUNDLE_SIZE;
	for (unsigned i = 0; i < n; i++) {
		len = encode_canonical(s, &recs[i]);
		if (len < 0)
			return (int)len;
		err = check_signable(s, &recs[i]);
		if (!err)
			err = pg_bundle_leaf_hash(s->sha, s->msg + PG_SECDATA_RECORD_PREFIX_LEN,
						  (size_t)len, s->leaves[i]);
		if (err)
			return err;
	}
	err = pg_bundle_build(s->sha, (const uint8_t(*)[PG_SECDATA_HASH_LEN])s->leaves, n, root,
			      s->proofs);
	if (err)
		return err;
	pg_secdata_bundle_msg(s->graph_tag, (uint16_t)n, root, msg);
	err = pg_identity_sign(s->id, msg, sizeof(msg), sig);
	if (err)
		return err;
	for (unsigned i = 0; i < n; i++) {
		struct pg_secdata sd = {
			.kind = PG_SECDATA_BUNDLE,
			.leaf_index = (uint16_t)i,
			.bundle_size = (uint16_t)n,
			.nproof = (uint8_t)pg_bundle_path_len(i, n),
			.key_id = pg_identity_key_id(s->id),
			.sig = sig,
			.root = root,
			.proof = s->proofs[i][0],
		};

		len = pg_secdata_encode(&sd, out[i], PG_SECDATA_BUNDLE_MAX_LEN);
		PG_ASSERT(len > 0); /* the shape came from the same path length */
		lens[i] = (uint16_t)len;
	}
	return 0;
}
