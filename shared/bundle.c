/*
 * bundle.c - the Merkle tree of batch signatures: leaf and node hashing, the proof walk of
 * RFC 9162 §2.1.3.2 and the publisher's tree build. The format and its security argument are
 * in bundle.h; the walk's shape (how many hashes a proof has) is in secdata.c so that the
 * decoder can check it without hashing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "bundle.h"
#include "pg_assert.h"
#include "pg_error.h"

struct pg_sha256 {
	EVP_MD *md; /* fetched once: a per-hash EVP_sha256() lookup costs ~2.7x (DESIGN.md) */
	EVP_MD_CTX *ctx;
};

int pg_sha256_create(struct pg_sha256 **out)
{
	struct pg_sha256 *h = calloc(1, sizeof(*h));

	*out = NULL;
	if (!h)
		return -ENOMEM;
	h->md = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (!h->md)
		goto err_free;
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx)
		goto err_free_md;
	*out = h;
	return 0;

err_free_md:
	EVP_MD_free(h->md);
err_free:
	free(h);
	ERR_clear_error();
	return PG_E_CRYPTO;
}

void pg_sha256_destroy(struct pg_sha256 *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->ctx);
	EVP_MD_free(h->md);
	free(h);
}

int pg_sha256_digest2(struct pg_sha256 *h, const void *a, size_t alen, const void *b, size_t blen,
		      uint8_t out[PG_SECDATA_HASH_LEN])
{
	unsigned int n = 0;

	if (EVP_DigestInit_ex2(h->ctx, h->md, NULL) != 1 ||
	    EVP_DigestUpdate(h->ctx, a, alen) != 1 ||
	    (blen && EVP_DigestUpdate(h->ctx, b, blen) != 1) ||
	    EVP_DigestFinal_ex(h->ctx, out, &n) != 1 || n != PG_SECDATA_HASH_LEN) {
		ERR_clear_error();
		return PG_E_CRYPTO;
	}
	return 0;
}

int pg_bundle_graph_tag(struct pg_sha256 *h, const void *graph_id, size_t len,
			uint8_t out[PG_SECDATA_GRAPH_TAG_LEN])
{
	return pg_sha256_digest2(h, graph_id, len, NULL, 0, out);
}

int pg_bundle_leaf_hash(struct pg_sha256 *h, const uint8_t *canonical, size_t len,
			uint8_t out[PG_SECDATA_HASH_LEN])
{
	static const uint8_t leaf_prefix = 0x00;

	return pg_sha256_digest2(h, &leaf_prefix, 1, canonical, len, out);
}

int pg_bundle_node_hash(struct pg_sha256 *h, const uint8_t l[PG_SECDATA_HASH_LEN],
			const uint8_t r[PG_SECDATA_HASH_LEN], uint8_t out[PG_SECDATA_HASH_LEN])
{
	uint8_t in[1 + 2 * PG_SECDATA_HASH_LEN];

	in[0] = 0x01;
	memcpy(in + 1, l, PG_SECDATA_HASH_LEN);
	memcpy(in + 1 + PG_SECDATA_HASH_LEN, r, PG_SECDATA_HASH_LEN);
	return pg_sha256_digest2(h, in, sizeof(in), NULL, 0, out);
}

int pg_bundle_root_from_proof(struct pg_sha256 *h, uint32_t index, uint32_t size,
			      const uint8_t leaf[PG_SECDATA_HASH_LEN], const uint8_t *proof,
			      unsigned nproof, uint8_t root[PG_SECDATA_HASH_LEN])
{
	uint8_t r[PG_SECDATA_HASH_LEN];
	uint32_t fn = index, sn = size - 1;
	int err;

	/* The shape first (index < size, exact length): nothing is hashed for a bad one. */
	if (pg_bundle_path_len(index, size) != (int)nproof)
		return PG_E_SIG_PROOF;
	memcpy(r, leaf, sizeof(r));
	for (unsigned i = 0; i < nproof; i++) {
		const uint8_t *p = proof + (size_t)i * PG_SECDATA_HASH_LEN;

		PG_ASSERT(sn != 0); /* the shape check guarantees it (RFC 9162 step 4a) */
		if ((fn & 1) || fn == sn) {
			err = pg_bundle_node_hash(h, p, r, r);
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			err = pg_bundle_node_hash(h, r, p, r);
		}
		if (err)
			return err;
		fn >>= 1;
		sn >>= 1;
	}
	PG_ASSERT(sn == 0); /* step 5's size check, implied by the shape check */
	memcpy(root, r, sizeof(r));
	return 0;
}

struct build {
	struct pg_sha256 *h;
	const uint8_t (*leaves)[PG_SECDATA_HASH_LEN];
	uint8_t (*proofs)[PG_BUNDLE_DEPTH_MAX][PG_SECDATA_HASH_LEN];
	uint8_t fill[PG_BUNDLE_MAX]; /* proof hashes written so far, per leaf */
};

static void append(struct build *b, uint32_t lo, uint32_t hi, const uint8_t *hash)
{
	for (uint32_t i = lo; i < hi; i++) {
		PG_ASSERT(b->fill[i] < PG_BUNDLE_DEPTH_MAX);
		memcpy(b->proofs[i][b->fill[i]++], hash, PG_SECDATA_HASH_LEN);
	}
}

/* MTH(D[lo..hi)) into out; every leaf below gets the sibling subtree's hash appended, deepest
 * level first, which is the order of RFC 6962's PATH(m, D[n]). Depth <= 10. */
static int subtree(struct build *b, uint32_t lo, uint32_t hi, uint8_t out[PG_SECDATA_HASH_LEN])
{
	uint8_t l[PG_SECDATA_HASH_LEN], r[PG_SECDATA_HASH_LEN];
	uint32_t n = hi - lo, k;
	int err;

	if (n == 1) {
		memcpy(out, b->leaves[lo], PG_SECDATA_HASH_LEN);
		return 0;
	}
	k = 1u << (31 - __builtin_clz(n - 1)); /* the largest power of two below n */
	if ((err = subtree(b, lo, lo + k, l)) || (err = subtree(b, lo + k, hi, r)))
		return err;
	append(b, lo, lo + k, r);
	append(b, lo + k, hi, l);
	return pg_bundle_node_hash(b->h, l, r, out);
}

int pg_bundle_build(struct pg_sha256 *h, const uint8_t (*leaves)[PG_SECDATA_HASH_LEN], uint32_t n,
		    uint8_t root[PG_SECDATA_HASH_LEN],
		    uint8_t (*proofs)[PG_BUNDLE_DEPTH_MAX][PG_SECDATA_HASH_LEN])
{
	struct build *b;
	int err;

	if (n == 0 || n > PG_BUNDLE_MAX)
		return PG_E_SIG_BUNDLE_SIZE;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->h = h;
	b->leaves = leaves;
	b->proofs = proofs;
	err = subtree(b, 0, n, root);
	for (uint32_t i = 0; err == 0 && i < n; i++)
		PG_ASSERT(b->fill[i] == pg_bundle_path_len(i, n)); /* both sides agree on shape */
	free(b);
	return err;
}
