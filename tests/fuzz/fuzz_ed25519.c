/*
 * fuzz_ed25519.c - differential libFuzzer target: libsodium and OpenSSL must give every
 * signature the same verdict under the acceptance rule (shared/ed25519.h, dataplane/verify.h).
 * Any disagreement aborts: two nodes of one graph would hold different databases.
 *
 * Input: byte 0 picks the mode.
 *   bit 0 = 0 (raw):     pk[32] || sig[64] || message -- the published vectors are seeds;
 *   bit 0 = 1 (derived): seed[32] || m || message: a key pair from the seed signs the message,
 *                        then byte m bends the signature towards the edge cases random bytes
 *                        never reach (a valid equation over a bad encoding):
 *                          bit 0: R := a small-order point ((m >> 4) % 5, sign bit m & 8),
 *                                 S := k * a, which satisfies the equation for R = identity;
 *                          bit 1: S := S + L (same equation, non-canonical S);
 *                          bit 2: flip the public key's sign bit;
 *                        and byte 0's bits 1-7 flip one bit of the signature when non-zero.
 * Seeds: tests/fuzz/corpus/ed25519/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ed25519.h"
#include "../ed25519_forge.h"
#include "pg_error.h"
#include "verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void derive(const uint8_t *data, size_t size, uint8_t *pk, uint8_t *sig, const uint8_t **msg,
		   size_t *len)
{
	const uint8_t *seed = data + 1;
	uint8_t sk[64], m = data[33];

	*msg = data + 34;
	*len = size - 34;
	crypto_sign_seed_keypair(pk, sk, seed);
	crypto_sign_detached(sig, NULL, *msg, *len, sk);
	if (m & 1) {
		memcpy(sig, forge_small[(m >> 4) % 5].y, 32);
		sig[31] |= (uint8_t)((m & 8) << 4);
		forge_s_k_a(sig, pk, seed, *msg, *len);
	}
	if (m & 2)
		forge_add_group_order(sig + 32);
	if (m & 4)
		pk[31] ^= 0x80;
	if (data[0] >> 1) {
		unsigned bit = (data[0] >> 1) - 1; /* 0 .. 126 */

		sig[bit / 8 % 64] ^= (uint8_t)(1u << (bit % 8));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t pk[32], sig[64];
	const uint8_t *msg;
	size_t len;
	int a, b;

	if (sodium_init() < 0)
		abort();
	if (size < 1)
		return 0;
	if (!(data[0] & 1)) {
		if (size < 97)
			return 0;
		memcpy(pk, data + 1, 32);
		memcpy(sig, data + 33, 64);
		msg = data + 97;
		len = size - 97;
	} else {
		if (size < 34)
			return 0;
		derive(data, size, pk, sig, &msg, &len);
	}
	a = verify_ed25519_once(VERIFY_BACKEND_SODIUM, pk, sig, msg, len);
	b = verify_ed25519_once(VERIFY_BACKEND_OPENSSL, pk, sig, msg, len);
	if (a != b || (a != 0 && a != PG_E_SIG_BAD))
		abort(); /* the backends disagree, or one failed outright */
	if (a == 0 && !pg_ed25519_encodings_ok(sig, pk))
		abort(); /* accepted a signature the rule refuses */
	return 0;
}
