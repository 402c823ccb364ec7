/*
 * ed25519.c - the encoding checks of the Ed25519 acceptance rule (ed25519.h). Variable time:
 * every input here is public (keys, signatures).
 */
#include <string.h>

#include <sodium.h>

#include "ed25519.h"

/* clang-format off */
/* L, little-endian. */
static const uint8_t group_order[32] = {
	0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
};

/*
 * The y coordinates of the points of small order, little-endian, each of which a canonical
 * encoding (sign bit clear) names: 0 (order 4), 1 (the identity), p - 1 (order 2) and the two
 * of order 8, y8 and p - y8, where
 *   y8 = 2707385501144840649318225287225658788936804267575313519463743609750303402022.
 * (tests/test_ed25519.c checks each is a point of that order.)
 */
static const uint8_t small_order_y[5][32] = {
	{ 0 },
	{ 1 },
	{ 0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f },
	{ 0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0,
	  0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05 },
	{ 0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f,
	  0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a },
};
/* clang-format on */

/* S < L, comparing from the most significant byte down. */
static bool scalar_canonical(const uint8_t s[32])
{
	for (int i = 31; i >= 0; i--) {
		if (s[i] != group_order[i])
			return s[i] < group_order[i];
	}
	return false; /* S == L */
}

/* y < p = 2^255 - 19: not (top 255 bits all ones but the low byte, and low byte >= 0xed). */
static bool point_canonical(const uint8_t e[32])
{
	if ((e[31] & 0x7f) != 0x7f || e[0] < 0xed)
		return true;
	for (int i = 1; i < 31; i++)
		if (e[i] != 0xff)
			return true;
	return false;
}

static bool small_order(const uint8_t e[32])
{
	uint8_t y[32];

	memcpy(y, e, 32);
	y[31] &= 0x7f; /* x's sign does not change the order: (x, y) and (-x, y) are inverses */
	for (unsigned i = 0; i < sizeof(small_order_y) / sizeof(small_order_y[0]); i++)
		if (memcmp(y, small_order_y[i], 32) == 0)
			return true;
	return false;
}

bool pg_ed25519_encodings_ok(const uint8_t sig[PG_ED25519_SIG_LEN],
			     const uint8_t pk[PG_ED25519_PK_LEN])
{
	return scalar_canonical(sig + 32) && point_canonical(sig) && point_canonical(pk) &&
	       !small_order(sig) && !small_order(pk);
}

bool pg_ed25519_key_ok(const uint8_t pk[PG_ED25519_PK_LEN])
{
	/* sodium_init is idempotent and thread-safe; is_valid_point needs no state, but the
	 * library's documentation asks for it before any call */
	if (sodium_init() < 0)
		return false;
	return point_canonical(pk) && !small_order(pk) && crypto_core_ed25519_is_valid_point(pk);
}
