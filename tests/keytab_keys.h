/*
 * keytab_keys.h - deterministic key ids and public keys for the key-table tests.
 *
 * test_keytab.c and the keytab-child load program derive every key from its number n, so a
 * reader can check what it reads without sharing state with the writer; both use these.
 */
#ifndef PG_KEYTAB_KEYS_H
#define PG_KEYTAB_KEYS_H

#include <stdint.h>
#include <string.h>

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

/* Public key of key n. */
static inline void make_pubkey(uint32_t n, uint8_t pk[PG_KEYTAB_PUBKEY_LEN])
{
	for (int i = 0; i < 4; i++)
		put64(pk + 8 * i, mix64(((uint64_t)n << 8) ^ 0xabcdefull ^ (uint64_t)i));
}

#endif
