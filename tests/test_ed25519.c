/*
 * test_ed25519.c - one Ed25519 acceptance rule for both verifier backends (shared/ed25519.h,
 * dataplane/verify.h; issue 12 item 2).
 *
 * Rows: the twelve published edge-case vectors of "Taming the Many EdDSAs", stored as data
 * (tests/vectors/ed25519-speccheck.txt) with the verdict our rule gives each; then signatures
 * built here from a real key pair with a small-order R, a non-canonical S or R, a small-order
 * or non-canonical key. Every row is checked with libsodium and with OpenSSL, which must give
 * the row's verdict -- before this rule, OpenSSL accepted an identity R with S = k*a, which
 * libsodium refused. Keys: pg_ed25519_key_ok refuses small-order, non-canonical and
 * mixed-order keys (the key table's publication check).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "ed25519.h"
#include "ed25519_forge.h"
#include "pg_assert.h"
#include "pg_error.h"
#include "verify.h"

static const enum verify_backend backends[] = { VERIFY_BACKEND_SODIUM, VERIFY_BACKEND_OPENSSL };

static const uint8_t identity[32] = { 1 };

static void unhex(const char *hex, uint8_t *out, size_t n)
{
	size_t len = 0;

	cr_assert_eq(strlen(hex), 2 * n, "hex of %zu bytes", n);
	cr_assert_eq(sodium_hex2bin(out, n, hex, 2 * n, NULL, &len, NULL), 0);
	cr_assert_eq(len, n);
}

/* Both backends give `want` (0 or PG_E_SIG_BAD). */
static void both(const uint8_t *pk, const uint8_t *sig, const uint8_t *msg, size_t len, int want,
		 const char *what)
{
	for (size_t b = 0; b < PG_ARRAY_SIZE(backends); b++) {
		int got = verify_ed25519_once(backends[b], pk, sig, msg, len);

		cr_expect_eq(got, want, "%s, backend %d: got %s, want %s", what, (int)backends[b],
			     pg_strerror_name(got), pg_strerror_name(want));
	}
}

/* ---- the published vectors ------------------------------------------------------------- */

struct vector {
	uint8_t msg[32], pk[32], sig[64];
};

/* Reads the vectors from the data file: '#' comments, the count on a line of its own, then
 * msg=, pbk=, sig= lines per vector. Returns how many, asserting the count matched. */
static unsigned read_vectors(struct vector *v, unsigned max)
{
	char line[512], path[512];
	unsigned n = 0, field = 0, count = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/tests/vectors/ed25519-speccheck.txt", PG_SOURCE_DIR);
	f = fopen(path, "r");
	cr_assert_not_null(f, "open %s", path);
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (line[strspn(line, "0123456789")] == '\0') {
			count = (unsigned)atoi(line);
			continue;
		}
		cr_assert_lt(n, max);
		if (strncmp(line, "msg=", 4) == 0 && field == 0)
			unhex(line + 4, v[n].msg, 32);
		else if (strncmp(line, "pbk=", 4) == 0 && field == 1)
			unhex(line + 4, v[n].pk, 32);
		else if (strncmp(line, "sig=", 4) == 0 && field == 2)
			unhex(line + 4, v[n].sig, 64);
		else
			cr_assert_fail("unexpected line in %s: %s", path, line);
		if (++field == 3) {
			field = 0;
			n++;
		}
	}
	fclose(f);
	cr_assert_eq(field, 0, "a vector cut short");
	cr_assert_eq(n, count, "the file announces %u vectors", count);
	return n;
}

/* Our verdict per vector (ed25519.h): only 3, mixed-order A and R passing the cofactorless
 * equation, is accepted; 0-2 have a small-order A or R, 4 and 5 pass only cofactored
 * equations, 6 and 7 have S >= L, 8-11 non-canonical R or A. */
static const bool accepted[12] = { [3] = true };

Test(ed25519, published_edge_cases_get_one_verdict)
{
	struct vector v[16];
	unsigned n = read_vectors(v, 16);
	char what[32];

	cr_assert_eq(n, 12);
	for (unsigned i = 0; i < n; i++) {
		snprintf(what, sizeof(what), "vector %u", i);
		both(v[i].pk, v[i].sig, v[i].msg, 32, accepted[i] ? 0 : PG_E_SIG_BAD, what);
	}
}

/* ---- signatures built from a real key ---------------------------------------------------- */

struct keypair {
	uint8_t seed[32], pk[32], sk[64];
};

static void keypair(struct keypair *kp, uint8_t seed_byte)
{
	memset(kp->seed, seed_byte, sizeof(kp->seed));
	cr_assert_eq(sodium_init() >= 0, 1);
	cr_assert_eq(crypto_sign_seed_keypair(kp->pk, kp->sk, kp->seed), 0);
}

static const uint8_t msg[] = "peergraph record v1 - a test message";

Test(ed25519, honest_signatures_are_accepted)
{
	struct keypair kp;
	uint8_t sig[64];

	for (uint8_t i = 1; i <= 8; i++) {
		keypair(&kp, i);
		cr_assert(pg_ed25519_key_ok(kp.pk));
		crypto_sign_detached(sig, NULL, msg, sizeof(msg), kp.sk);
		both(kp.pk, sig, msg, sizeof(msg), 0, "honest");
		sig[5] ^= 1;
		both(kp.pk, sig, msg, sizeof(msg), PG_E_SIG_BAD, "tampered R");
	}
}

/* The review's case: R = the identity and S = k*a, which satisfies [S]B = R + [k]A, so a
 * cofactorless check alone accepts it for every message -- OpenSSL did, libsodium did not. */
Test(ed25519, identity_r_with_s_k_a_is_refused_by_both)
{
	struct keypair kp;
	uint8_t sig[64];

	keypair(&kp, 7);
	memcpy(sig, identity, 32);
	forge_s_k_a(sig, kp.pk, kp.seed, msg, sizeof(msg));
	both(kp.pk, sig, msg, sizeof(msg), PG_E_SIG_BAD, "identity R, S = k*a");
	cr_assert_not(pg_ed25519_encodings_ok(sig, kp.pk));
}

/* Every small-order R (either sign bit), with S = k*a as above: refused by both. */
Test(ed25519, small_order_r_is_refused_by_both)
{
	struct keypair kp;
	uint8_t sig[64];
	char what[48];

	keypair(&kp, 3);
	for (size_t i = 0; i < PG_ARRAY_SIZE(forge_small); i++) {
		for (int sign = 0; sign < 2; sign++) {
			memcpy(sig, forge_small[i].y, 32);
			sig[31] |= (uint8_t)(sign << 7);
			forge_s_k_a(sig, kp.pk, kp.seed, msg, sizeof(msg));
			snprintf(what, sizeof(what), "small-order R %zu, sign %d", i, sign);
			both(kp.pk, sig, msg, sizeof(msg), PG_E_SIG_BAD, what);
		}
	}
}

/* S + L verifies the same equation but is not canonical: refused by both. */
Test(ed25519, non_canonical_s_is_refused_by_both)
{
	struct keypair kp;
	uint8_t sig[64];

	keypair(&kp, 5);
	crypto_sign_detached(sig, NULL, msg, sizeof(msg), kp.sk);
	forge_add_group_order(sig + 32);
	both(kp.pk, sig, msg, sizeof(msg), PG_E_SIG_BAD, "S + L");
	memset(sig + 32, 0xff, 32);
	both(kp.pk, sig, msg, sizeof(msg), PG_E_SIG_BAD, "S = 2^256 - 1");
}

/* R or A with y >= p: refused by both, and such a key is refused at publication. */
Test(ed25519, non_canonical_points_are_refused)
{
	struct keypair kp;
	uint8_t sig[64], bad[32];

	keypair(&kp, 9);
	crypto_sign_detached(sig, NULL, msg, sizeof(msg), kp.sk);
	for (unsigned low = 0xed; low <= 0xff; low++) {
		memset(bad, 0xff, 32);
		bad[0] = (uint8_t)low;
		bad[31] = 0x7f;
		cr_assert_not(pg_ed25519_key_ok(bad), "y = p + %u", low - 0xed);
		both(bad, sig, msg, sizeof(msg), PG_E_SIG_BAD, "non-canonical A");
		memcpy(sig, bad, 32);
		both(kp.pk, sig, msg, sizeof(msg), PG_E_SIG_BAD, "non-canonical R");
		crypto_sign_detached(sig, NULL, msg, sizeof(msg), kp.sk);
	}
	/* y = p - 1 is canonical (and of order 2: refused for that) */
	memset(bad, 0xff, 32);
	bad[0] = 0xec;
	bad[31] = 0x7f;
	cr_assert_not(pg_ed25519_key_ok(bad));
}

/* The key check: honest keys pass; small-order (both signs), non-canonical and mixed-order keys
 * (vector 3's, which has a torsion component) do not. Each small-order y of ed25519.c names a
 * point of the stated order: [order]P is the identity and no smaller power of two is. */
Test(ed25519, keys_of_small_or_mixed_order_are_refused)
{
	uint8_t p[32], q[32], mixed[32];
	struct keypair kp;

	for (size_t i = 0; i < PG_ARRAY_SIZE(forge_small); i++) {
		unsigned order = 1;

		memcpy(p, forge_small[i].y, 32);
		cr_assert_not(pg_ed25519_key_ok(p), "small-order key %zu", i);
		p[31] |= 0x80;
		cr_assert_not(pg_ed25519_key_ok(p), "small-order key %zu, sign bit set", i);
		p[31] &= 0x7f;
		memcpy(q, p, 32);
		while (memcmp(q, identity, 32) != 0 && order < 16) {
			cr_assert_eq(crypto_core_ed25519_add(q, q, q), 0);
			order *= 2;
		}
		cr_assert_eq(order, forge_small[i].order, "point %zu has order %u", i, order);
	}
	unhex("cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d", mixed, 32);
	cr_assert_not(pg_ed25519_key_ok(mixed), "mixed-order key");
	keypair(&kp, 11);
	cr_assert(pg_ed25519_key_ok(kp.pk));
}
