/*
 * secdata.h - a record's security data: who signed it, the Ed25519 signature, and for a record
 * signed as part of a bundle, its Merkle inclusion proof. The wire format and the exact messages
 * that signatures cover live here; the hashing of bundles is in bundle.h, signing in
 * controlplane/sign.h, verification in dataplane/verify.h.
 *
 * Security data (all integers little-endian; one valid encoding per value, see "Strictness"):
 *
 *   off  size  field
 *     0     1  fmt         = 1
 *     1     1  kind        1 = single (one signature over this record)
 *                          2 = bundle (one signature over a Merkle root of up to 1024 records)
 *     2     2  leaf_index  bundle: this record's leaf, < bundle_size; single: 0
 *     4     2  bundle_size bundle: 1 .. PG_BUNDLE_MAX; single: 0
 *     6     1  nproof      bundle: hashes in the proof = pg_bundle_path_len(index, size); else 0
 *     7     1  reserved    0
 *     8    32  key_id      the signer's key id: SHA-256 of its raw Ed25519 public key
 *    40    64  sig         Ed25519 signature (RFC 8032, pure) over the message below
 *   --- single: ends here, 104 bytes ---
 *   104    32  root        bundle: the Merkle root the signature covers
 *   136  32*n  proof       bundle: the inclusion proof, leaf level first (RFC 9162 §2.1.3)
 *   --- bundle: 136 + 32 * nproof bytes, at most 456 ---
 *
 * What a signature covers (every message an identity key signs starts with a distinct
 * NUL-terminated ASCII domain string, so no message of one kind is ever a message of another;
 * the record format byte 1 and X.509's DER 0x30 start with other bytes still):
 *
 *   single:  "peergraph record v1\0" (20) || graph_tag (32) || canonical record bytes
 *   bundle:  "peergraph bundle v1\0" (20) || graph_tag (32) || u16 bundle_size || root (32)
 *   graph_tag = SHA-256(graph id bytes): a signature made for one graph never verifies in
 *   another, even where the same key is a member of both.
 *
 * The canonical bytes exclude the security data (record.h), so a signature never covers itself
 * and stays the same however the record is carried. The message is Ed25519's input as is: the
 * stock `openssl pkeyutl -verify -rawin` checks it (tests/test_sign.c does). Ed25519 hashes the
 * signer's public key into every signature (H(R || A || M)), so the key id needs no signing.
 *
 * Strictness. The conflict order (record.h) compares security data bytes when everything else
 * ties, so a second valid encoding of the same signature would let anyone mint a copy that wins
 * against the signer's own. The decoder therefore accepts exactly one encoding: reserved bytes
 * zero, single-kind bundle fields zero, nproof equal to the path length that (index, size)
 * imply, and no byte after the last field. decode(encode(x)) == x and encode(decode(b)) == b.
 */
#ifndef PG_SECDATA_H
#define PG_SECDATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum pg_secdata_kind {
	PG_SECDATA_SINGLE = 1,
	PG_SECDATA_BUNDLE = 2,
};

enum {
	PG_SECDATA_FMT = 1,
	PG_SECDATA_KEY_ID_LEN = 32,
	PG_SECDATA_SIG_LEN = 64,
	PG_SECDATA_HASH_LEN = 32,

	PG_SECDATA_OFF_FMT = 0,
	PG_SECDATA_OFF_KIND = 1,
	PG_SECDATA_OFF_INDEX = 2,
	PG_SECDATA_OFF_SIZE = 4,
	PG_SECDATA_OFF_NPROOF = 6,
	PG_SECDATA_OFF_RESERVED = 7,
	PG_SECDATA_OFF_KEY_ID = 8,
	PG_SECDATA_OFF_SIG = 40,
	PG_SECDATA_OFF_ROOT = 104,
	PG_SECDATA_OFF_PROOF = 136,

	PG_SECDATA_SINGLE_LEN = 104,
	PG_SECDATA_BUNDLE_HDR_LEN = 136,

	/* Bundles: up to 1024 records, so a proof has at most 10 hashes. */
	PG_BUNDLE_MAX = 1024,
	PG_BUNDLE_DEPTH_MAX = 10,
	PG_SECDATA_BUNDLE_MAX_LEN = PG_SECDATA_BUNDLE_HDR_LEN + PG_BUNDLE_DEPTH_MAX * 32, /* 456 */
	PG_SECDATA_LEN_MAX = PG_SECDATA_BUNDLE_MAX_LEN,

	/* Signed messages. */
	PG_SECDATA_DOMAIN_LEN = 20, /* "peergraph record v1\0", "peergraph bundle v1\0" */
	PG_SECDATA_GRAPH_TAG_LEN = 32,
	PG_SECDATA_RECORD_PREFIX_LEN = PG_SECDATA_DOMAIN_LEN + PG_SECDATA_GRAPH_TAG_LEN,    /* 52 */
	PG_SECDATA_BUNDLE_MSG_LEN = PG_SECDATA_RECORD_PREFIX_LEN + 2 + PG_SECDATA_HASH_LEN, /* 86 */
};

_Static_assert(PG_SECDATA_OFF_KEY_ID + PG_SECDATA_KEY_ID_LEN == PG_SECDATA_OFF_SIG, "key id");
_Static_assert(PG_SECDATA_OFF_SIG + PG_SECDATA_SIG_LEN == PG_SECDATA_SINGLE_LEN, "single");
_Static_assert(PG_SECDATA_OFF_ROOT == PG_SECDATA_SINGLE_LEN, "root follows the signature");
_Static_assert(PG_SECDATA_OFF_ROOT + PG_SECDATA_HASH_LEN == PG_SECDATA_OFF_PROOF, "proof");
_Static_assert(PG_SECDATA_OFF_PROOF == PG_SECDATA_BUNDLE_HDR_LEN, "bundle header");
_Static_assert((1 << PG_BUNDLE_DEPTH_MAX) == PG_BUNDLE_MAX, "depth of the largest bundle");
_Static_assert(PG_SECDATA_LEN_MAX <= 4096, "fits PG_SECDATA_MAX (record.h)");
_Static_assert(PG_BUNDLE_MAX <= UINT16_MAX, "bundle size and index are u16");

/* A decoded security data: a view, its pointers point into the decoded bytes. */
struct pg_secdata {
	uint8_t kind;	      /* enum pg_secdata_kind */
	uint8_t nproof;	      /* bundle: hashes in proof */
	uint16_t leaf_index;  /* bundle */
	uint16_t bundle_size; /* bundle */
	const uint8_t *key_id;
	const uint8_t *sig;
	const uint8_t *root;  /* bundle, else NULL */
	const uint8_t *proof; /* bundle: nproof x 32 bytes, else NULL */
};

/* Bytes of a secured peer name's authority: lowercase hex of SHA-1(SubjectPublicKeyInfo). */
#define PG_SECDATA_AUTHORITY_LEN 40

/* True when id (a record's creator or modifier) is a secured peer name, i.e. 40 lowercase hex
 * digits, '.', and a non-empty classifier, whose authority equals `authority`. */
bool pg_secdata_id_has_authority(const char *id, size_t len,
				 const char authority[PG_SECDATA_AUTHORITY_LEN]);

/* True when both ids are secured peer names with the same authority (the same key). */
bool pg_secdata_same_authority(const char *a, size_t alen, const char *b, size_t blen);

/* Hashes in the inclusion proof of leaf `index` of a bundle of `size` leaves (RFC 9162
 * §2.1.3.2 consumes exactly this many), or -1 when size is 0 or over PG_BUNDLE_MAX or
 * index >= size. */
int pg_bundle_path_len(uint32_t index, uint32_t size);

/* Decodes exactly len bytes into a view over buf. 0, PG_E_SIG_UNSIGNED (len 0) or
 * PG_E_SIG_MALFORMED (anything but the one valid encoding); *out is untouched on error. */
int pg_secdata_decode(const uint8_t *buf, size_t len, struct pg_secdata *out);

/* Bytes pg_secdata_encode() writes for sd. */
size_t pg_secdata_size(const struct pg_secdata *sd);

/* Encodes sd; returns the length written, PG_E_SIG_MALFORMED for fields no decoder accepts,
 * or -ENOSPC when cap is too small. */
long pg_secdata_encode(const struct pg_secdata *sd, uint8_t *out, size_t cap);

/* Writes the 52 bytes that precede the canonical record bytes in a record signature. */
void pg_secdata_record_prefix(const uint8_t graph_tag[PG_SECDATA_GRAPH_TAG_LEN],
			      uint8_t out[PG_SECDATA_RECORD_PREFIX_LEN]);

/* Writes the 86-byte message a bundle signature covers. */
void pg_secdata_bundle_msg(const uint8_t graph_tag[PG_SECDATA_GRAPH_TAG_LEN], uint16_t bundle_size,
			   const uint8_t root[PG_SECDATA_HASH_LEN],
			   uint8_t out[PG_SECDATA_BUNDLE_MSG_LEN]);

#endif
