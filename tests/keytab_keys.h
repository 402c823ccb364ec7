/*
 * keytab_keys.h - deterministic key ids and public keys for the key-table tests.
 *
 * test_keytab.c and the keytab-child load program derive every key from its number n, so a
 * reader can check what it reads without sharing state with the writer; both use these.
 */
#ifndef PG_KEYTAB_KEYS_H
#define PG_KEYTAB_KEYS_H

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "keytab.h"

/* splitmix64's finaliser: a cheap, well-mixed function of x. */
static inline uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static inline void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

/* Key id of key n: n in the first 4 bytes, then noise. */
static inline void make_id(uint32_t n, uint8_t id[PG_KEYTAB_ID_LEN])
{
	put64(id, (uint64_t)n | (mix64(n) << 32));
	for (int i = 1; i < 4; i++)
		put64(id + 8 * i, mix64((uint64_t)n * 4 + (uint64_t)i));
}

/* The table refuses anything but a real Ed25519 public key (shared/ed25519.h), so keys come
 * from a pool of real ones, made once per process (pthread_once: readers may be threads). */
enum { PUBKEY_POOL = 64 };
static uint8_t pubkey_pool[PUBKEY_POOL][PG_KEYTAB_PUBKEY_LEN];
static pthread_once_t pubkey_pool_once = PTHREAD_ONCE_INIT;

static inline void pubkey_pool_make(void)
{
	uint8_t seed[32], sk[64];

	if (sodium_init() < 0)
		abort();
	for (uint32_t k = 0; k < PUBKEY_POOL; k++) {
		for (int i = 0; i < 4; i++)
			put64(seed + 8 * i, mix64(((uint64_t)k << 8) ^ 0xabcdefull ^ (uint64_t)i));
		crypto_sign_seed_keypair(pubkey_pool[k], sk, seed);
	}
}

/* Public key of key n (keys PUBKEY_POOL apart share one: the table does not mind). */
static inline void make_pubkey(uint32_t n, uint8_t pk[PG_KEYTAB_PUBKEY_LEN])
{
	pthread_once(&pubkey_pool_once, pubkey_pool_make);
	memcpy(pk, pubkey_pool[n % PUBKEY_POOL], PG_KEYTAB_PUBKEY_LEN);
}

#endif
