/*
 * fuzz_secdata.c - libFuzzer target for a record's security data: the decoder, the proof walk,
 * and the whole verifier with the input as the security data of a fixed record.
 *
 * Properties checked on every input:
 *   - a decoded security data re-encodes to exactly the input bytes (one encoding per value:
 *     the conflict order compares these bytes), and a rejected one leaves the output alone;
 *   - a bundle shape that decodes walks its proof without reading past it;
 *   - the verifier, given the input as the security data of a record signed at start-up by
 *     key A (published) -- never crashes, and accepts only the two valid security data that
 *     exist for that record: its single signature, and its leaf 0 of a signed bundle of two.
 *     Key B is published too, as a revoked administrator; unknown keys go to the deferred
 *     queue, emptied by a time-out pass after every input.
 *
 * Keys come from fixed seeds, so the valid security data are the same in every run; with
 * PG_FUZZ_SECDATA_SEEDS=<dir> in the environment the target writes them (and a bundle leaf 1,
 * and B's signature) to <dir> at start: that is how tests/fuzz/corpus/secdata/valid_* were made.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "bundle.h"
#include "keytab.h"
#include "pg_assert.h"
#include "pg_error.h"
#include "record.h"
#include "secdata.h"
#include "verify.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define GRAPH "fuzz-graph"

struct key {
	uint8_t pk[crypto_sign_PUBLICKEYBYTES];
	uint8_t sk[crypto_sign_SECRETKEYBYTES];
	uint8_t id[32];
	char creator[64];
};

static struct key a, b;
static struct pg_keytab *kt;
static struct verify *v;
static struct pg_sha256 *sha;
static uint8_t graph_tag[32];
static struct pg_record_limits lim;
static uint8_t valid_single[PG_SECDATA_SINGLE_LEN];
static uint8_t valid_leaf0[PG_SECDATA_BUNDLE_MAX_LEN], valid_leaf1[PG_SECDATA_BUNDLE_MAX_LEN];
static uint8_t b_single[PG_SECDATA_SINGLE_LEN];
static size_t leaf0_len, leaf1_len;
static uint64_t now_us = 1;

static void make_key(struct key *k, uint8_t seed_byte)
{
	static const uint8_t spki[12] = { 0x30, 0x2a, 0x30, 0x05, 0x06, 0x03,
					  0x2b, 0x65, 0x70, 0x03, 0x21, 0x00 };
	uint8_t seed[crypto_sign_SEEDBYTES], der[44], md[20];
	unsigned int n;

	memset(seed, seed_byte, sizeof(seed));
	PG_ASSERT(crypto_sign_seed_keypair(k->pk, k->sk, seed) == 0);
	PG_ASSERT(pg_sha256_digest2(sha, k->pk, 32, NULL, 0, k->id) == 0);
	memcpy(der, spki, 12);
	memcpy(der + 12, k->pk, 32);
	PG_ASSERT(EVP_Digest(der, sizeof(der), md, &n, EVP_sha1(), NULL) == 1);
	for (int i = 0; i < 20; i++)
		sprintf(k->creator + 2 * i, "%02x", md[i]);
	strcpy(k->creator + 40, ".fuzz");
}

/* The record every input is attached to (n = 0), or its bundle sibling (n = 1). */
static void make_record(struct pg_record *r, const struct key *k, int n)
{
	static const char payload[2][8] = { "fuzz-0", "fuzz-1" };

	memset(r, 0, sizeof(*r));
	r->version = 1;
	r->type.b[0] = 7;
	r->id.b[0] = (uint8_t)(1 + n);
	r->created_us = 1000;
	r->modified_us = 1000;
	r->expires_us = 2000;
	r->creator = k->creator;
	r->creator_len = (uint16_t)strlen(k->creator);
	r->modifier = "";
	r->payload = (const uint8_t *)payload[n];
	r->payload_len = 6;
}

/* prefix || canonical bytes of r into msg; returns the canonical length. */
static size_t canonical(const struct pg_record *r, uint8_t *msg, size_t cap)
{
	long n;

	pg_secdata_record_prefix(graph_tag, msg);
	n = pg_record_encode_canonical(r, &lim, msg + PG_SECDATA_RECORD_PREFIX_LEN,
				       cap - PG_SECDATA_RECORD_PREFIX_LEN);
	PG_ASSERT(n > 0);
	return (size_t)n;
}

static void sign_single(const struct key *k, uint8_t out[PG_SECDATA_SINGLE_LEN])
{
	uint8_t msg[1024], sig[64];
	struct pg_record r;
	struct pg_secdata sd = { .kind = PG_SECDATA_SINGLE, .sig = sig, .key_id = k->id };
	size_t n;

	make_record(&r, k, 0);
	n = canonical(&r, msg, sizeof(msg));
	crypto_sign_detached(sig, NULL, msg, PG_SECDATA_RECORD_PREFIX_LEN + n, k->sk);
	PG_ASSERT(pg_secdata_encode(&sd, out, PG_SECDATA_SINGLE_LEN) == PG_SECDATA_SINGLE_LEN);
}

static void sign_bundle(void)
{
	uint8_t msg[1024], leaves[2][32], root[32], sig[64], bmsg[PG_SECDATA_BUNDLE_MSG_LEN];
	static uint8_t proofs[2][PG_BUNDLE_DEPTH_MAX][32];
	uint8_t *out[2] = { valid_leaf0, valid_leaf1 };
	size_t *lens[2] = { &leaf0_len, &leaf1_len };
	struct pg_record r;

	for (int i = 0; i < 2; i++) {
		size_t n;

		make_record(&r, &a, i);
		n = canonical(&r, msg, sizeof(msg));
		PG_ASSERT(pg_bundle_leaf_hash(sha, msg + PG_SECDATA_RECORD_PREFIX_LEN, n,
					      leaves[i]) == 0);
	}
	PG_ASSERT(pg_bundle_build(sha, (const uint8_t(*)[32])leaves, 2, root, proofs) == 0);
	pg_secdata_bundle_msg(graph_tag, 2, root, bmsg);
	crypto_sign_detached(sig, NULL, bmsg, sizeof(bmsg), a.sk);
	for (int i = 0; i < 2; i++) {
		struct pg_secdata sd = { .kind = PG_SECDATA_BUNDLE,
					 .leaf_index = (uint16_t)i,
					 .bundle_size = 2,
					 .nproof = 1,
					 .key_id = a.id,
					 .sig = sig,
					 .root = root,
					 .proof = proofs[i][0] };
		long n = pg_secdata_encode(&sd, out[i], PG_SECDATA_BUNDLE_MAX_LEN);

		PG_ASSERT(n > 0);
		*lens[i] = (size_t)n;
	}
}

static void write_seed(const char *dir, const char *name, const uint8_t *buf, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	PG_ASSERT(f && fwrite(buf, 1, len, f) == len && fclose(f) == 0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct verify_config cfg = {
		.graph_id = GRAPH,
		.graph_id_len = strlen(GRAPH),
		.backend = VERIFY_BACKEND_SODIUM,
		.defer_max = 16,
		.defer_timeout_us = 10,
		.root_cache_size = 4,
	};
	const char *dir = getenv("PG_FUZZ_SECDATA_SEEDS");
	struct pg_record r;

	(void)argc;
	(void)argv;
	PG_ASSERT(sodium_init() >= 0);
	PG_ASSERT(pg_sha256_create(&sha) == 0);
	PG_ASSERT(pg_bundle_graph_tag(sha, GRAPH, strlen(GRAPH), graph_tag) == 0);
	pg_record_limits_default(&lim);
	make_key(&a, 0xa1);
	make_key(&b, 0xb2);
	PG_ASSERT(pg_keytab_create(NULL, 8, &kt) == 0);
	PG_ASSERT(pg_keytab_publish(kt, a.id, a.pk, PG_KEYTAB_ROLE_MEMBER, 0, UINT64_MAX) == 0);
	PG_ASSERT(pg_keytab_publish(kt, b.id, b.pk, PG_KEYTAB_ROLE_ADMIN, 0, UINT64_MAX) == 0);
	PG_ASSERT(pg_keytab_revoke(kt, b.id) == 0);
	cfg.keytab_fd = pg_keytab_fd(kt);
	PG_ASSERT(verify_create(&cfg, &v) == 0);
	sign_single(&a, valid_single);
	sign_single(&b, b_single);
	sign_bundle();
	/* the check below is not vacuous: both valid security data verify */
	make_record(&r, &a, 0);
	r.secdata = valid_single;
	r.secdata_len = sizeof(valid_single);
	PG_ASSERT(verify_record(v, &r, 0) == 0);
	r.secdata = valid_leaf0;
	r.secdata_len = (uint16_t)leaf0_len;
	PG_ASSERT(verify_record(v, &r, 0) == 0);
	if (dir) {
		write_seed(dir, "valid_single", valid_single, sizeof(valid_single));
		write_seed(dir, "valid_bundle_leaf0", valid_leaf0, leaf0_len);
		write_seed(dir, "valid_bundle_leaf1", valid_leaf1, leaf1_len);
		write_seed(dir, "revoked_single", b_single, sizeof(b_single));
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t again[PG_SECDATA_LEN_MAX];
	struct pg_secdata sd, untouched;
	struct pg_record r;
	int err;

	if (size > PG_SECDATA_MAX)
		return 0; /* a record cannot carry more (record.h) */
	memset(&sd, 0x5a, sizeof(sd));
	untouched = sd;
	err = pg_secdata_decode(data, size, &sd);
	if (err == 0) {
		uint8_t leaf[32] = { 1 }, root[32];

		PG_ASSERT(pg_secdata_size(&sd) == size);
		PG_ASSERT(pg_secdata_encode(&sd, again, sizeof(again)) == (long)size);
		PG_ASSERT(memcmp(again, data, size) == 0);
		if (sd.kind == PG_SECDATA_BUNDLE)
			PG_ASSERT(pg_bundle_root_from_proof(sha, sd.leaf_index, sd.bundle_size,
							    leaf, sd.proof, sd.nproof, root) == 0);
	} else {
		PG_ASSERT(err == PG_E_SIG_MALFORMED || err == PG_E_SIG_UNSIGNED);
		PG_ASSERT(memcmp(&sd, &untouched, sizeof(sd)) == 0);
	}

	make_record(&r, &a, 0);
	r.secdata = data;
	r.secdata_len = (uint16_t)size;
	err = verify_record(v, &r, now_us);
	if (err == 0)
		PG_ASSERT((size == sizeof(valid_single) && memcmp(data, valid_single, size) == 0) ||
			  (size == leaf0_len && memcmp(data, valid_leaf0, size) == 0));
	else
		PG_ASSERT(err < 0 && err != PG_E_CRYPTO);
	/* B's own record: B is revoked, nothing is ever accepted */
	make_record(&r, &b, 0);
	r.secdata = data;
	r.secdata_len = (uint16_t)size;
	err = verify_record(v, &r, now_us);
	PG_ASSERT(err < 0 && err != PG_E_CRYPTO);
	now_us += 100; /* past the deferral timeout: the pass below empties the queue */
	verify_deferred_run(v, now_us, NULL, NULL);
	return 0;
}
