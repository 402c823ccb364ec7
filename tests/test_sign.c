/*
 * test_sign.c - record signing: the security-data codec, the bundle tree, the signer, and
 * interoperability with the stock `openssl` command.
 *
 * The codec: a numbered table of damaged encodings, each refused; every valid shape round-trips
 * byte for byte. The tree: pg_bundle_build and pg_bundle_root_from_proof against a deliberately
 * naive model written from RFC 6962 §2.1 (recursive MTH and PATH) for every leaf of every size
 * 1..70 and a few larger ones, plus a known-answer vector. The signer: it refuses what a
 * verifier would reject. Interop: the exact message a record or bundle signature covers is
 * written to a file and `openssl pkeyutl -verify -rawin` checks the signature (skipped without
 * openssl on PATH).
 */
#include <errno.h>
#include <stdint.h>
#include <sys/wait.h>

#include <openssl/pem.h>

#include "bundle.h"
#include "pg_assert.h"
#include "sign_fixture.h"

TestSuite(sign, .init = fx_setup, .fini = fx_teardown);

/* ---- the security-data codec ------------------------------------------------------------ */

static uint8_t key_id[32], sig[64], root[32], proof[10][32];

static void fill_fields(void)
{
	for (int i = 0; i < 32; i++) {
		key_id[i] = (uint8_t)(0x10 + i);
		root[i] = (uint8_t)(0x80 + i);
	}
	for (int i = 0; i < 64; i++)
		sig[i] = (uint8_t)(0x40 + i);
	for (int i = 0; i < 10; i++)
		memset(proof[i], 0xc0 + i, 32);
}

/* A valid bundle security data for (index, size), encoded into out; returns its length. */
static size_t bundle_sd(uint16_t index, uint16_t size, uint8_t *out, size_t cap)
{
	struct pg_secdata sd = {
		.kind = PG_SECDATA_BUNDLE,
		.leaf_index = index,
		.bundle_size = size,
		.nproof = (uint8_t)pg_bundle_path_len(index, size),
		.key_id = key_id,
		.sig = sig,
		.root = root,
		.proof = proof[0],
	};
	long n = pg_secdata_encode(&sd, out, cap);

	cr_assert_gt(n, 0);
	return (size_t)n;
}

static size_t single_sd(uint8_t *out, size_t cap)
{
	struct pg_secdata sd = { .kind = PG_SECDATA_SINGLE, .key_id = key_id, .sig = sig };

	cr_assert_eq(pg_secdata_encode(&sd, out, cap), PG_SECDATA_SINGLE_LEN);
	return PG_SECDATA_SINGLE_LEN;
}

enum base { SINGLE, BUNDLE_5_OF_7 };

struct damage_row {
	int no;
	const char *what;
	enum base base;
	int off;      /* byte to set (-1: none) */
	int val;      /* its new value */
	int len_diff; /* bytes added (> 0, zeros) or cut (< 0) at the end */
	int want;
};

static const struct damage_row damage_rows[] = {
	{ 1, "empty", SINGLE, -1, 0, -PG_SECDATA_SINGLE_LEN, PG_E_SIG_UNSIGNED },
	{ 2, "one byte", SINGLE, -1, 0, 1 - PG_SECDATA_SINGLE_LEN, PG_E_SIG_MALFORMED },
	{ 3, "format 0", SINGLE, PG_SECDATA_OFF_FMT, 0, 0, PG_E_SIG_MALFORMED },
	{ 4, "format 2", SINGLE, PG_SECDATA_OFF_FMT, 2, 0, PG_E_SIG_MALFORMED },
	{ 5, "kind 0", SINGLE, PG_SECDATA_OFF_KIND, 0, 0, PG_E_SIG_MALFORMED },
	{ 6, "kind 3", SINGLE, PG_SECDATA_OFF_KIND, 3, 0, PG_E_SIG_MALFORMED },
	{ 7, "reserved byte set", SINGLE, PG_SECDATA_OFF_RESERVED, 1, 0, PG_E_SIG_MALFORMED },
	{ 8, "single with an index", SINGLE, PG_SECDATA_OFF_INDEX, 1, 0, PG_E_SIG_MALFORMED },
	{ 9, "single with a size", SINGLE, PG_SECDATA_OFF_SIZE, 1, 0, PG_E_SIG_MALFORMED },
	{ 10, "single with a proof count", SINGLE, PG_SECDATA_OFF_NPROOF, 1, 0,
	  PG_E_SIG_MALFORMED },
	{ 11, "single cut in the signature", SINGLE, -1, 0, -1, PG_E_SIG_MALFORMED },
	{ 12, "single with a trailing byte", SINGLE, -1, 0, 1, PG_E_SIG_MALFORMED },
	{ 13, "single declared as bundle", SINGLE, PG_SECDATA_OFF_KIND, 2, 0, PG_E_SIG_MALFORMED },
	{ 14, "oversized: 4096 bytes", SINGLE, -1, 0, 4096 - PG_SECDATA_SINGLE_LEN,
	  PG_E_SIG_MALFORMED },
	{ 15, "bundle: proof cut by a hash", BUNDLE_5_OF_7, -1, 0, -32, PG_E_SIG_MALFORMED },
	{ 16, "bundle: proof cut by a byte", BUNDLE_5_OF_7, -1, 0, -1, PG_E_SIG_MALFORMED },
	{ 17, "bundle: extra hash", BUNDLE_5_OF_7, -1, 0, 32, PG_E_SIG_MALFORMED },
	{ 18, "bundle: nproof one short", BUNDLE_5_OF_7, PG_SECDATA_OFF_NPROOF, 2, 0,
	  PG_E_SIG_MALFORMED },
	{ 19, "bundle: nproof one long", BUNDLE_5_OF_7, PG_SECDATA_OFF_NPROOF, 4, 0,
	  PG_E_SIG_MALFORMED },
	{ 20, "bundle: index = size", BUNDLE_5_OF_7, PG_SECDATA_OFF_INDEX, 7, 0,
	  PG_E_SIG_MALFORMED },
	{ 21, "bundle: size 0", BUNDLE_5_OF_7, PG_SECDATA_OFF_SIZE, 0, 0, PG_E_SIG_MALFORMED },
	{ 22, "bundle: size 1031 (high byte set)", BUNDLE_5_OF_7, PG_SECDATA_OFF_SIZE + 1, 4, 0,
	  PG_E_SIG_MALFORMED },
	{ 23, "bundle: cut inside the root", BUNDLE_5_OF_7, -1, 0, -(32 * 3 + 1),
	  PG_E_SIG_MALFORMED },
	{ 24, "bundle: reserved byte set", BUNDLE_5_OF_7, PG_SECDATA_OFF_RESERVED, 0x80, 0,
	  PG_E_SIG_MALFORMED },
	{ 25, "bundle: index whose path is shorter (6 of 7: 2 hashes)", BUNDLE_5_OF_7,
	  PG_SECDATA_OFF_INDEX, 6, 0, PG_E_SIG_MALFORMED },
};

Test(sign, secdata_damaged_rows_are_refused)
{
	static uint8_t buf[8192];
	struct pg_secdata sd, before;

	fill_fields();
	for (size_t i = 0; i < PG_ARRAY_SIZE(damage_rows); i++) {
		const struct damage_row *row = &damage_rows[i];
		size_t len;
		int err;

		memset(buf, 0, sizeof(buf));
		len = row->base == SINGLE ? single_sd(buf, sizeof(buf))
					  : bundle_sd(5, 7, buf, sizeof(buf));
		if (row->off >= 0)
			buf[row->off] = (uint8_t)row->val;
		len = (size_t)((long)len + row->len_diff);
		memset(&sd, 0x5a, sizeof(sd));
		before = sd;
		err = pg_secdata_decode(buf, len, &sd);
		cr_expect_eq(err, row->want, "row %d (%s): got %s", row->no, row->what,
			     pg_strerror_name(err));
		cr_expect_eq(memcmp(&sd, &before, sizeof(sd)), 0, "row %d: output touched",
			     row->no);
	}
}

Test(sign, secdata_every_shape_round_trips)
{
	static uint8_t buf[PG_SECDATA_LEN_MAX], again[PG_SECDATA_LEN_MAX];
	struct pg_secdata sd;
	size_t len;

	fill_fields();
	len = single_sd(buf, sizeof(buf));
	cr_assert_eq(pg_secdata_decode(buf, len, &sd), 0);
	cr_assert_eq(sd.kind, PG_SECDATA_SINGLE);
	cr_assert_eq(memcmp(sd.key_id, key_id, 32), 0);
	cr_assert_eq(memcmp(sd.sig, sig, 64), 0);
	cr_assert_null(sd.root);
	for (uint32_t size = 1; size <= PG_BUNDLE_MAX; size += size < 80 ? 1 : 97) {
		for (uint32_t idx = 0; idx < size; idx += size < 80 ? 1 : 31) {
			len = bundle_sd((uint16_t)idx, (uint16_t)size, buf, sizeof(buf));
			cr_assert_eq(pg_secdata_decode(buf, len, &sd), 0, "%u of %u", idx, size);
			cr_assert_eq(sd.leaf_index, idx);
			cr_assert_eq(sd.bundle_size, size);
			cr_assert_eq(len, pg_secdata_size(&sd));
			cr_assert_eq(pg_secdata_encode(&sd, again, sizeof(again)), (long)len);
			cr_assert_eq(memcmp(buf, again, len), 0, "one encoding per value");
		}
	}
	/* the largest bundle's deepest leaf: the longest security data */
	len = bundle_sd(PG_BUNDLE_MAX - 1, PG_BUNDLE_MAX, buf, sizeof(buf));
	cr_assert_eq(len, PG_SECDATA_LEN_MAX);
	cr_assert_eq(pg_secdata_encode(&sd, buf, 10), -ENOSPC);
}

/* ---- the tree against a naive RFC 6962 model --------------------------------------------- */

static struct pg_sha256 *sha;

static void naive_node(const uint8_t *l, const uint8_t *r, uint8_t *out)
{
	uint8_t in[65];

	in[0] = 1;
	memcpy(in + 1, l, 32);
	memcpy(in + 33, r, 32);
	cr_assert_eq(pg_sha256_digest2(sha, in, sizeof(in), NULL, 0, out), 0);
}

/* MTH(D[lo..hi)), RFC 6962 §2.1, recursively. */
static void naive_mth(uint8_t (*leaves)[32], uint32_t lo, uint32_t hi, uint8_t *out)
{
	uint8_t l[32], r[32];
	uint32_t k = 1;

	if (hi - lo == 1) {
		memcpy(out, leaves[lo], 32);
		return;
	}
	while (k * 2 < hi - lo)
		k *= 2;
	naive_mth(leaves, lo, lo + k, l);
	naive_mth(leaves, lo + k, hi, r);
	naive_node(l, r, out);
}

/* PATH(m, D[lo..hi)), RFC 6962 §2.1.1; returns the number of hashes written. */
static unsigned naive_path(uint8_t (*leaves)[32], uint32_t m, uint32_t lo, uint32_t hi,
			   uint8_t (*out)[32])
{
	uint32_t k = 1;
	unsigned n;

	if (hi - lo == 1)
		return 0;
	while (k * 2 < hi - lo)
		k *= 2;
	if (m < k) {
		n = naive_path(leaves, m, lo, lo + k, out);
		naive_mth(leaves, lo + k, hi, out[n]);
	} else {
		n = naive_path(leaves, m - k, lo + k, hi, out);
		naive_mth(leaves, lo, lo + k, out[n]);
	}
	return n + 1;
}

static void check_tree(uint32_t n)
{
	static uint8_t leaves[PG_BUNDLE_MAX][32], proofs[PG_BUNDLE_MAX][PG_BUNDLE_DEPTH_MAX][32];
	uint8_t want_root[32], got_root[32], again[32], path[PG_BUNDLE_DEPTH_MAX][32];

	for (uint32_t i = 0; i < n; i++) {
		uint8_t rec[8] = { 'r', 'e', 'c', (uint8_t)i, (uint8_t)(i >> 8), (uint8_t)n };

		cr_assert_eq(pg_bundle_leaf_hash(sha, rec, sizeof(rec), leaves[i]), 0);
	}
	cr_assert_eq(pg_bundle_build(sha, (const uint8_t(*)[32])leaves, n, got_root, proofs), 0);
	naive_mth(leaves, 0, n, want_root);
	cr_assert_eq(memcmp(got_root, want_root, 32), 0, "root of %u leaves", n);
	for (uint32_t m = 0; m < n; m++) {
		unsigned len = naive_path(leaves, m, 0, n, path);

		cr_assert_eq((int)len, pg_bundle_path_len(m, n), "path length %u of %u", m, n);
		cr_assert_eq(memcmp(path, proofs[m], 32 * len), 0, "proof %u of %u", m, n);
		cr_assert_eq(
		    pg_bundle_root_from_proof(sha, m, n, leaves[m], proofs[m][0], len, again), 0);
		cr_assert_eq(memcmp(again, want_root, 32), 0, "walk %u of %u", m, n);
		/* another leaf's position with this proof never reaches the root */
		for (uint32_t o = 0; o < n && len > 0; o += 1 + n / 8) {
			if (o == m || pg_bundle_path_len(o, n) != (int)len)
				continue;
			cr_assert_eq(pg_bundle_root_from_proof(sha, o, n, leaves[m], proofs[m][0],
							       len, again),
				     0);
			cr_assert_neq(memcmp(again, want_root, 32), 0, "%u as %u of %u", m, o, n);
		}
		/* one flipped bit anywhere in the proof misses the root */
		if (len > 0) {
			proofs[m][len - 1][31] ^= 1;
			pg_bundle_root_from_proof(sha, m, n, leaves[m], proofs[m][0], len, again);
			cr_assert_neq(memcmp(again, want_root, 32), 0);
			proofs[m][len - 1][31] ^= 1;
		}
		/* a proof a hash short or long is refused before hashing */
		cr_assert_eq(
		    pg_bundle_root_from_proof(sha, m, n, leaves[m], proofs[m][0], len + 1, again),
		    PG_E_SIG_PROOF);
		if (len > 0)
			cr_assert_eq(pg_bundle_root_from_proof(sha, m, n, leaves[m], proofs[m][0],
							       len - 1, again),
				     PG_E_SIG_PROOF);
	}
}

Test(sign, bundle_tree_matches_the_rfc6962_model)
{
	cr_assert_eq(pg_sha256_create(&sha), 0);
	for (uint32_t n = 1; n <= 70; n++)
		check_tree(n);
	check_tree(255);
	check_tree(256);
	check_tree(257);
	check_tree(PG_BUNDLE_MAX);
	cr_assert_eq(pg_bundle_path_len(0, 0), -1);
	cr_assert_eq(pg_bundle_path_len(0, PG_BUNDLE_MAX + 1), -1);
	cr_assert_eq(pg_bundle_path_len(3, 3), -1);
	cr_assert_eq(pg_bundle_path_len(0, 1), 0);
	cr_assert_eq(pg_bundle_path_len(PG_BUNDLE_MAX - 1, PG_BUNDLE_MAX), PG_BUNDLE_DEPTH_MAX);
	pg_sha256_destroy(sha);
}

static void hex(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

Test(sign, bundle_hashes_known_answers_and_domain_separation)
{
	uint8_t a[32], b[32], node[32], leaf[32], ab[64];
	char h[65];

	cr_assert_eq(pg_sha256_create(&sha), 0);
	/* RFC 6962: the hash of an empty leaf is SHA-256(0x00) */
	cr_assert_eq(pg_bundle_leaf_hash(sha, (const uint8_t *)"", 0, leaf), 0);
	hex(leaf, 32, h);
	cr_assert_str_eq(h, "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
	/* FIPS 180-2 "abc" */
	cr_assert_eq(pg_sha256_digest2(sha, "ab", 2, "c", 1, a), 0);
	hex(a, 32, h);
	cr_assert_str_eq(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	/* a node is never the leaf of its own children's bytes */
	memset(b, 0x33, sizeof(b));
	memcpy(ab, a, 32);
	memcpy(ab + 32, b, 32);
	cr_assert_eq(pg_bundle_node_hash(sha, a, b, node), 0);
	cr_assert_eq(pg_bundle_leaf_hash(sha, ab, 64, leaf), 0);
	cr_assert_neq(memcmp(node, leaf, 32), 0);
	pg_sha256_destroy(sha);
}

/* ---- the signer ------------------------------------------------------------------------- */

Test(sign, signer_refuses_what_verifiers_reject)
{
	struct fx_member alice, bob;
	struct pg_signer *narrow;
	struct pg_signer_config sc = {
		.graph_id = FX_GRAPH,
		.graph_id_len = strlen(FX_GRAPH),
		.not_before_us = FX_T0,
		.not_after_us = FX_T0 + FX_HOUR / 2,
	};
	static struct fx_rec t;
	uint8_t out[PG_SECDATA_LEN_MAX];
	static uint8_t many[PG_BUNDLE_MAX + 1][PG_SECDATA_BUNDLE_MAX_LEN];
	uint16_t lens[2];

	fx_member_new(&alice, "alice");
	fx_member_new(&bob, "bob");
	/* 1. bob cannot sign alice's version 1 */
	fx_rec_init(&t, alice.name, NULL, 1, 0);
	cr_assert_eq(pg_signer_sign_record(bob.signer, &t.r, out, sizeof(out)),
		     PG_E_SIG_WRONG_SIGNER);
	/* 2. nor version 2 that names alice as its modifier */
	fx_rec_init(&t, bob.name, alice.name, 2, 0);
	cr_assert_eq(pg_signer_sign_record(bob.signer, &t.r, out, sizeof(out)),
		     PG_E_SIG_WRONG_SIGNER);
	/* 3. an unsecured creator name is nobody's */
	fx_rec_init(&t, "0.anyone", NULL, 1, 0);
	cr_assert_eq(pg_signer_sign_record(alice.signer, &t.r, out, sizeof(out)),
		     PG_E_SIG_WRONG_SIGNER);
	/* 4. a record outliving the signer's window (expires T0 + 1 h > T0 + 30 min) */
	cr_assert_eq(pg_signer_create(alice.id, &sc, &narrow), 0);
	fx_rec_init(&t, alice.name, NULL, 1, 0);
	cr_assert_eq(pg_signer_sign_record(narrow, &t.r, out, sizeof(out)), PG_E_SIG_WINDOW);
	/* 5. modified before the window opens */
	t.r.expires_us = FX_T0 + 60;
	t.r.created_us = t.r.modified_us = FX_T0 - 1;
	cr_assert_eq(pg_signer_sign_record(narrow, &t.r, out, sizeof(out)), PG_E_SIG_WINDOW);
	/* 6. inside it: fine */
	t.r.created_us = t.r.modified_us = FX_T0;
	cr_assert_eq(pg_signer_sign_record(narrow, &t.r, out, sizeof(out)), PG_SECDATA_SINGLE_LEN);
	/* 7. no room */
	cr_assert_eq(pg_signer_sign_record(narrow, &t.r, out, 10), -ENOSPC);
	/* 8. invalid record */
	t.r.version = 0;
	cr_assert_eq(pg_signer_sign_record(narrow, &t.r, out, sizeof(out)), PG_E_BAD_VERSION);
	/* 9. bundles of 0 and of more than the maximum */
	t.r.version = 1;
	cr_assert_eq(pg_signer_sign_bundle(alice.signer, &t.r, 0, many, lens),
		     PG_E_SIG_BUNDLE_SIZE);
	cr_assert_eq(pg_signer_sign_bundle(alice.signer, &t.r, PG_BUNDLE_MAX + 1, many, lens),
		     PG_E_SIG_BUNDLE_SIZE);
	pg_signer_destroy(narrow);
	/* 10. a bad config */
	sc.bundle_max = PG_BUNDLE_MAX + 1;
	cr_assert_eq(pg_signer_create(alice.id, &sc, &narrow), -EINVAL);
	cr_assert_null(narrow);
	fx_member_free(&alice);
	fx_member_free(&bob);
}

/* ---- interop with the stock openssl command --------------------------------------------- */

static void need_openssl(void)
{
	if (system("command -v openssl >/dev/null 2>&1") != 0) {
		fx_teardown();
		cr_skip_test("the stock openssl command is not on PATH");
	}
}

static void write_file(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	cr_assert_not_null(f, "%s", path);
	cr_assert_eq(fwrite(buf, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
}

/* openssl pkeyutl -verify over msg with sig; returns its exit status. */
static int openssl_verify(const char *pub, const uint8_t *msg, size_t len, const uint8_t *s)
{
	char cmd[1024], mpath[256], spath[256];
	int status;

	snprintf(mpath, sizeof(mpath), "%s/msg", fx_tmp);
	snprintf(spath, sizeof(spath), "%s/sig", fx_tmp);
	write_file(mpath, msg, len);
	write_file(spath, s, 64);
	snprintf(cmd, sizeof(cmd),
		 "openssl pkeyutl -verify -pubin -inkey %s -rawin -in %s -sigfile %s "
		 ">/dev/null 2>&1",
		 pub, mpath, spath);
	status = system(cmd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void write_pub(struct fx_member *m, char *path, size_t cap)
{
	FILE *f;

	snprintf(path, cap, "%s/pub.pem", fx_tmp);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	cr_assert_eq(PEM_write_PUBKEY(f, pg_identity_pkey(m->id)), 1);
	cr_assert_eq(fclose(f), 0);
}

Test(sign, record_signature_verifies_with_openssl_pkeyutl)
{
	static uint8_t msg[8192];
	struct fx_member alice;
	static struct fx_rec t;
	struct pg_secdata sd;
	char pub[256], cmd[512], out[128] = "";
	uint8_t tag[32];
	char taghex[65];
	size_t len;
	FILE *p;

	need_openssl();
	fx_member_new(&alice, "alice");
	write_pub(&alice, pub, sizeof(pub));
	fx_rec_init(&t, alice.name, NULL, 1, 7);
	fx_sign(&t, &alice);
	cr_assert_eq(pg_secdata_decode(t.sd, t.r.secdata_len, &sd), 0);
	cr_assert_eq(memcmp(sd.key_id, pg_identity_key_id(alice.id), 32), 0);
	len = fx_record_msg(&t, pg_signer_graph_tag(alice.signer), msg, sizeof(msg));
	cr_assert_eq(openssl_verify(pub, msg, len, sd.sig), 0, "openssl refused our signature");
	/* the graph tag is SHA-256 of the graph id, as `openssl dgst` computes it */
	memcpy(tag, msg + PG_SECDATA_DOMAIN_LEN, 32);
	hex(tag, 32, taghex);
	snprintf(cmd, sizeof(cmd), "printf %%s '%s' | openssl dgst -sha256 -r", FX_GRAPH);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	cr_assert_not_null(fgets(out, sizeof(out), p));
	pclose(p);
	cr_assert_eq(strncmp(out, taghex, 64), 0, "tag %s, openssl %s", taghex, out);
	/* one changed byte of the canonical part, or of the signature: openssl refuses too */
	msg[len - 1] ^= 1;
	cr_assert_neq(openssl_verify(pub, msg, len, sd.sig), 0);
	msg[len - 1] ^= 1;
	memcpy(out, sd.sig, 64);
	out[5] ^= 1;
	cr_assert_neq(openssl_verify(pub, msg, len, (const uint8_t *)out), 0);
	fx_member_free(&alice);
}

Test(sign, bundle_signature_verifies_with_openssl_pkeyutl)
{
	static struct fx_rec t[5];
	static uint8_t sds[5][PG_SECDATA_BUNDLE_MAX_LEN];
	struct pg_record recs[5];
	uint8_t msg[PG_SECDATA_BUNDLE_MSG_LEN];
	struct fx_member alice;
	struct pg_secdata sd;
	uint16_t lens[5];
	char pub[256];

	need_openssl();
	fx_member_new(&alice, "alice");
	write_pub(&alice, pub, sizeof(pub));
	for (int i = 0; i < 5; i++) {
		fx_rec_init(&t[i], alice.name, NULL, 1, (uint32_t)i);
		recs[i] = t[i].r;
	}
	cr_assert_eq(pg_signer_sign_bundle(alice.signer, recs, 5, sds, lens), 0);
	cr_assert_eq(pg_secdata_decode(sds[3], lens[3], &sd), 0);
	cr_assert_eq(sd.kind, PG_SECDATA_BUNDLE);
	cr_assert_eq(sd.leaf_index, 3);
	cr_assert_eq(sd.bundle_size, 5);
	pg_secdata_bundle_msg(pg_signer_graph_tag(alice.signer), 5, sd.root, msg);
	cr_assert_eq(openssl_verify(pub, msg, sizeof(msg), sd.sig), 0);
	/* the size is part of what is signed */
	pg_secdata_bundle_msg(pg_signer_graph_tag(alice.signer), 4, sd.root, msg);
	cr_assert_neq(openssl_verify(pub, msg, sizeof(msg), sd.sig), 0);
	fx_member_free(&alice);
}
