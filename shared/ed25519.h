/*
 * ed25519.h - the one Ed25519 acceptance rule of peergraph, whatever library checks the
 * equation.
 *
 * Ed25519 verifiers differ on signatures only a key holder can build ("Taming the Many
 * EdDSAs", Chalkias, Garillot, Nikolaenko, SSR 2020): out-of-range S, small-order or
 * non-canonical A and R, cofactored or cofactorless equations. Two nodes of one graph that
 * answer differently hold different databases, so every backend applies this rule:
 *
 *   1. S is canonical: S < L (L = 2^252 + 27742317777372353535851937790883648493);
 *   2. A (the public key) and R are canonical encodings: y < p = 2^255 - 19;
 *   3. neither A nor R is a point of small order (order 1, 2, 4 or 8): their encodings, sign
 *      bit ignored, are none of y = 0, 1, p - 1 and the two order-8 y values;
 *   4. the cofactorless equation, checked on encodings: encode([S]B - [k]A) == R, with
 *      k = SHA-512(R || A || M) mod L (RFC 8032 §5.1.7 without the factor 8).
 *
 * This is libsodium's rule (1.0.16 and later), which is why that backend runs it alone; the
 * OpenSSL backend checks 1-3 here before its own equation, which is the same cofactorless
 * one. Of the paper's twelve vectors, only number 3 (mixed-order A and R) passes. Why this
 * variant: it is the strictest in wide use, it is what our fast path already did, and a
 * cofactored rule would need an implementation of our own of the equation; strictness costs
 * honest signers nothing (their keys and R values are never of small order).
 *
 * Keys are checked harder where they enter: pg_ed25519_key_ok also requires A to lie in the
 * prime-order subgroup, and the key table refuses any other key at publication, so through
 * the key table rule 3's A check never fires; it stays for keys from anywhere else.
 */
#ifndef PG_ED25519_H
#define PG_ED25519_H

#include <stdbool.h>
#include <stdint.h>

enum {
	PG_ED25519_PK_LEN = 32,
	PG_ED25519_SIG_LEN = 64,
};

/* Rules 1-3: true when the encodings of sig (R || S) and pk may go to the equation. */
bool pg_ed25519_encodings_ok(const uint8_t sig[PG_ED25519_SIG_LEN],
			     const uint8_t pk[PG_ED25519_PK_LEN]);

/* True for a key the key table may hold: canonical, on the curve, not of small order, in the
 * prime-order subgroup (libsodium's crypto_core_ed25519_is_valid_point). */
bool pg_ed25519_key_ok(const uint8_t pk[PG_ED25519_PK_LEN]);

#endif
