/*
 * bundle.h - batch signatures: one Ed25519 signature over the Merkle root of up to 1024
 * records, each record carrying its own inclusion proof so that it stays verifiable alone.
 *
 * The tree is RFC 6962's (Certificate Transparency, §2.1; proofs as RFC 9162 §2.1.3):
 *
 *   leaf(record)  = SHA-256(0x00 || canonical record bytes)
 *   node(L, R)    = SHA-256(0x01 || L || R)
 *   MTH(D[0..n))  = leaf(D[0]) for n = 1, else node(MTH(D[0..k)), MTH(D[k..n)))
 *                   with k the largest power of two below n
 *
 * and the publisher signs "peergraph bundle v1\0" || graph_tag || u16 n || MTH (secdata.h).
 * Layout of a bundle record's security data, and the verifier's walk: secdata.h, verify.c.
 *
 * SECURITY ARGUMENT
 *
 * - Second preimages (domain separation). A leaf hashes 0x00 || record and a node hashes
 *   0x01 || L || R, so no leaf hash is ever the hash of a node's input: presenting an interior
 *   node (its 64-byte L || R) as a "record", to prove a record that was never signed with a
 *   shorter path, needs a SHA-256 collision. Records are never 64 bytes anyway (>= 80), but the
 *   argument does not lean on that.
 * - Odd levels. The split at the largest power of two below n never duplicates a node: the
 *   rightmost node of a level that has no sibling moves up unchanged. (Duplicating the last
 *   node, as Bitcoin's tree does, gives two different lists one root: CVE-2012-2459.)
 * - A record cannot move to another bundle. Its proof leads from its own leaf to one root;
 *   leading it to another bundle's root, or the root of a list it was not in, is a SHA-256
 *   collision. Another graph's bundle has another signed message (the graph tag).
 * - Index and size are bound. The walk (pg_bundle_root_from_proof) takes left or right turns
 *   from the bits of (index, size - 1) and must consume exactly pg_bundle_path_len(index,
 *   size) hashes; the size is in the signed message. A wrong index turns the path the other
 *   way at some level (another root); a wrong size is another signed message; a proof one hash
 *   short or long is refused before any hashing. Binding them also keeps the security data
 *   non-malleable: one record in one bundle has exactly one valid security data, which the
 *   conflict order (record.h) requires, as it compares security-data bytes.
 * - The verifier's root cache (dataplane/verify.c) holds only (root, size, key id, signature)
 *   entries whose signature it verified itself, and a record reaches the cache only after its
 *   own leaf and proof rebuilt the root it carries: a forged root is never cached, so no later
 *   record can ride on it. The signature bytes are part of the entry: were a hit to ignore
 *   them, anyone could re-send a bundle record with other bytes in place of the signature, and
 *   nodes that had the root cached would accept a second, different security data for the
 *   same record (which the conflict order may prefer) while the others reject it. (The fuzz
 *   target found exactly that in a first version.) A hit skips only the Ed25519 check: the
 *   signer's key is still looked up for every record (revocation, window and role apply
 *   record by record).
 *
 * Cost: a verified root makes each further record of its bundle cost one leaf hash (its size
 * / 64 + 1 SHA-256 compressions) and at most nproof <= 10 node hashes of 65 bytes (2
 * compressions each); the verifier also remembers the verified nodes of the bundle it saw last,
 * so records arriving bundle by bundle need about one node hash each (verify_bundle.c).
 * SHA-256 runs through OpenSSL (SHA-NI here) with the digest fetched once and one context
 * reused: measured on this host for a 65-byte node, ~109 ns; with EVP_sha256() passed to every
 * EVP_DigestInit_ex ~293 ns; the deprecated SHA256_Init/Update/Final ~87 ns. The reused EVP
 * context is within 25% of the low-level call without using a deprecated API.
 */
#ifndef PG_BUNDLE_H
#define PG_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include "secdata.h"

/* A SHA-256 context: the digest fetched once, one EVP context reused. One thread at a time. */
struct pg_sha256;

/* Creates a context. 0, -ENOMEM or PG_E_CRYPTO. */
int pg_sha256_create(struct pg_sha256 **out);
/* Frees a context (NULL is fine). */
void pg_sha256_destroy(struct pg_sha256 *h);
/* out = SHA-256(a || b); b may be NULL with blen 0. 0 or PG_E_CRYPTO. */
int pg_sha256_digest2(struct pg_sha256 *h, const void *a, size_t alen, const void *b, size_t blen,
		      uint8_t out[PG_SECDATA_HASH_LEN]);

/* The graph tag signatures bind: SHA-256 of the graph id bytes. 0 or PG_E_CRYPTO. */
int pg_bundle_graph_tag(struct pg_sha256 *h, const void *graph_id, size_t len,
			uint8_t out[PG_SECDATA_GRAPH_TAG_LEN]);

/* leaf = SHA-256(0x00 || canonical). 0 or PG_E_CRYPTO. */
int pg_bundle_leaf_hash(struct pg_sha256 *h, const uint8_t *canonical, size_t len,
			uint8_t out[PG_SECDATA_HASH_LEN]);

/* node = SHA-256(0x01 || l || r). 0 or PG_E_CRYPTO. */
int pg_bundle_node_hash(struct pg_sha256 *h, const uint8_t l[PG_SECDATA_HASH_LEN],
			const uint8_t r[PG_SECDATA_HASH_LEN], uint8_t out[PG_SECDATA_HASH_LEN]);

/*
 * Rebuilds the root from leaf `index` of a bundle of `size` leaves, its leaf hash and its proof
 * of nproof hashes (RFC 9162 §2.1.3.2). 0 with root filled; PG_E_SIG_PROOF when (index, size,
 * nproof) is not a valid shape (nothing hashed); PG_E_CRYPTO.
 */
int pg_bundle_root_from_proof(struct pg_sha256 *h, uint32_t index, uint32_t size,
			      const uint8_t leaf[PG_SECDATA_HASH_LEN], const uint8_t *proof,
			      unsigned nproof, uint8_t root[PG_SECDATA_HASH_LEN]);

/*
 * Builds the tree over n leaf hashes (1 .. PG_BUNDLE_MAX): writes the root and, for each leaf
 * i, its proof to proofs[i][0 .. pg_bundle_path_len(i, n)). 0, PG_E_SIG_BUNDLE_SIZE, -ENOMEM or
 * PG_E_CRYPTO.
 */
int pg_bundle_build(struct pg_sha256 *h, const uint8_t (*leaves)[PG_SECDATA_HASH_LEN], uint32_t n,
		    uint8_t root[PG_SECDATA_HASH_LEN],
		    uint8_t (*proofs)[PG_BUNDLE_DEPTH_MAX][PG_SECDATA_HASH_LEN]);

#endif
