/*
 * ed25519_forge.h - building the Ed25519 signatures a hostile key holder can make, for
 * test_ed25519.c, test_verify.c and fuzz_ed25519.c: the secret scalar of a seed, the
 * challenge k, S = k*a (with which R = identity satisfies the cofactorless equation for any
 * message), S + L, and the encodings of the points of small order.
 */
#ifndef PG_ED25519_FORGE_H
#define PG_ED25519_FORGE_H

#include <stdint.h>
#include <string.h>

#include <sodium.h>

/* The canonical encodings of the points of small order (sign bit clear) and their orders;
 * shared/ed25519.c holds the same y values for its check, these are the tests' own copy. */
static const struct {
	uint8_t y[32];
	unsigned order;
} forge_small[5] = {
	{ { 0 }, 4 },
	{ { 1 }, 1 },
	{ { 0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f },
	  2 },
	{ { 0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4,
	    0x89, 0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6,
	    0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05 },
	  8 },
	{ { 0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b,
	    0x76, 0x0d, 0x10, 0x67, 0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39,
	    0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a },
	  8 },
};

/* The clamped secret scalar of a 32-byte seed, reduced mod L (RFC 8032 §5.1.5). */
static inline void forge_secret_scalar(const uint8_t *seed, uint8_t a[32])
{
	uint8_t h[64];

	crypto_hash_sha512(h, seed, 32);
	h[0] &= 248;
	h[31] &= 127;
	h[31] |= 64;
	memset(h + 32, 0, 32);
	crypto_core_ed25519_scalar_reduce(a, h);
}

/* sig[32..64) := SHA-512(R || A || M) * a mod L, for the R already in sig[0..32). */
static inline void forge_s_k_a(uint8_t *sig, const uint8_t *pk, const uint8_t *seed,
			       const uint8_t *msg, size_t len)
{
	crypto_hash_sha512_state st;
	uint8_t h[64], k[32], a[32];

	crypto_hash_sha512_init(&st);
	crypto_hash_sha512_update(&st, sig, 32);
	crypto_hash_sha512_update(&st, pk, 32);
	crypto_hash_sha512_update(&st, msg, len);
	crypto_hash_sha512_final(&st, h);
	crypto_core_ed25519_scalar_reduce(k, h);
	forge_secret_scalar(seed, a);
	crypto_core_ed25519_scalar_mul(sig + 32, k, a);
}

/* s := s + L (s < L, so the sum fits in 253 bits): the same equation, not canonical. */
static inline void forge_add_group_order(uint8_t s[32])
{
	static const uint8_t l[32] = { 0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58,	     0xd6,
				       0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, [31] = 0x10 };
	unsigned carry = 0;

	for (int i = 0; i < 32; i++) {
		carry += (unsigned)s[i] + l[i];
		s[i] = (uint8_t)carry;
		carry >>= 8;
	}
}

#endif
