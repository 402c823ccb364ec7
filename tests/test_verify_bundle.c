/*
 * test_verify_bundle.c - verification of bundle records (shared/bundle.h, dataplane/verify.h):
 * each record of a bundle verifies alone; the root cache checks one signature per bundle and
 * never caches a root whose signature failed; moved, re-indexed, re-sized, truncated or forged
 * records are each rejected with their reason; roles, revocation and deferral apply record by
 * record. Members and delivery: verify_fixture.h.
 */
#include "bundle.h"
#include "verify_fixture.h"

TestSuite(verify_bundle, .init = vf_setup, .fini = vf_teardown);

enum { BMAX = 64 };
static struct fx_rec brec[BMAX];
static uint8_t bsd[BMAX][PG_SECDATA_BUNDLE_MAX_LEN];
static uint16_t blen[BMAX];

/* n records by `by` (creator, or modifier of alice's records at version 2), signed as one
 * bundle; `salt` varies the records. */
static void make_bundle(struct fx_member *by, bool modify, unsigned n, uint32_t salt)
{
	static struct pg_record recs[BMAX];

	for (unsigned i = 0; i < n; i++) {
		fx_rec_init(&brec[i], modify ? alice.name : by->name, modify ? by->name : NULL,
			    modify ? 2 : 1, salt + i);
		recs[i] = brec[i].r;
	}
	cr_assert_eq(pg_signer_sign_bundle(by->signer, recs, n, bsd, blen), 0);
	for (unsigned i = 0; i < n; i++) {
		fx_set_secdata(&brec[i], bsd[i], blen[i]);
		fx_seal(&brec[i]);
	}
}

Test(verify_bundle, every_bundle_record_verifies_alone)
{
	static const unsigned sizes[] = { 1, 2, 3, 7, 64 };

	for (size_t s = 0; s < PG_ARRAY_SIZE(sizes); s++) {
		make_bundle(&alice, false, sizes[s], (uint32_t)(1000 * s));
		for (unsigned i = 0; i < sizes[s]; i++) {
			struct verify_config c = config(backends[i % 2]);
			struct verify *v;

			c.rvt = NULL; /* a fresh node: nothing held, cold cache */
			v = verifier_with(&c);
			cr_assert_eq(verify_record(v, &brec[i].view, NOW), 0, "%u of %u", i,
				     sizes[s]);
			cr_assert_eq(stats(v).sig_checks, 1);
			cr_assert_eq(stats(v).root_misses, 1);
			verify_destroy(v);
		}
	}
}

Test(verify_bundle, bundle_root_cache_checks_one_signature_per_bundle)
{
	struct verify *v;

	for (size_t b = 0; b < PG_ARRAY_SIZE(backends); b++) {
		v = verifier(backends[b]);
		make_bundle(&alice, false, BMAX, (uint32_t)(b * 100));
		for (unsigned i = 0; i < BMAX; i++) {
			cr_assert_eq(deliver(v, &brec[i], NOW), 0, "record %u", i);
			cr_assert(held(&brec[i]));
		}
		cr_assert_eq(stats(v).sig_checks, 1);
		cr_assert_eq(stats(v).root_misses, 1);
		cr_assert_eq(stats(v).root_hits, BMAX - 1);
		verify_destroy(v);
	}
	/* a cached root does not bypass the key: bob's records, then bob revoked */
	v = verifier(VERIFY_BACKEND_SODIUM);
	make_bundle(&bob, false, 4, 500);
	cr_assert_eq(deliver(v, &brec[0], NOW), 0);
	cr_assert_eq(pg_keytab_revoke(kt, pg_identity_key_id(bob.id)), 0);
	cr_assert_eq(deliver(v, &brec[1], NOW), PG_E_SIG_REVOKED);
	cr_assert_eq(stats(v).root_hits, 1);
	cr_assert_eq(stats(v).sig_checks, 1);
	verify_destroy(v);
}

/* Copies a record's security data out of brec[i] (the bundle signed last). */
static void take_sd(unsigned i, uint8_t *out, uint16_t *len)
{
	memcpy(out, bsd[i], blen[i]);
	*len = blen[i];
}

Test(verify_bundle, damaged_bundle_records_are_rejected)
{
	static struct fx_rec forged[8];
	static struct pg_record frecs[8];
	static uint8_t fsd[8][PG_SECDATA_BUNDLE_MAX_LEN];
	uint8_t other[PG_SECDATA_BUNDLE_MAX_LEN], sd[PG_SECDATA_BUNDLE_MAX_LEN];
	uint8_t sig[64];
	uint16_t olen, len, flen[8];
	struct verify *v = verifier(VERIFY_BACKEND_SODIUM);
	uint64_t checks;

	/* bundle B (8 records), then bundle A (8 records): brec holds A */
	make_bundle(&alice, false, 8, 500);
	take_sd(5, other, &olen);
	make_bundle(&alice, false, 8, 100);

	/* 1. A's record 5 carrying B's security data for index 5: moved to another bundle */
	fx_set_secdata(&brec[5], other, olen);
	cr_assert_eq(deliver(v, &brec[5], NOW), PG_E_SIG_PROOF);
	/* 2. a proof hash changed */
	take_sd(5, sd, &len);
	sd[PG_SECDATA_OFF_PROOF + 40] ^= 1;
	fx_set_secdata(&brec[5], sd, len);
	cr_assert_eq(deliver(v, &brec[5], NOW), PG_E_SIG_PROOF);
	/* 3. another index with a proof of the same length */
	take_sd(5, sd, &len);
	sd[PG_SECDATA_OFF_INDEX] = 4;
	fx_set_secdata(&brec[5], sd, len);
	cr_assert_eq(deliver(v, &brec[5], NOW), PG_E_SIG_PROOF);
	/* 4. the carried root changed */
	take_sd(5, sd, &len);
	sd[PG_SECDATA_OFF_ROOT] ^= 1;
	fx_set_secdata(&brec[5], sd, len);
	cr_assert_eq(deliver(v, &brec[5], NOW), PG_E_SIG_PROOF);
	/* 5. the record itself changed (its leaf) */
	take_sd(5, sd, &len);
	fx_set_secdata(&brec[5], sd, len);
	brec[5].payload[1] ^= 1;
	cr_assert_eq(deliver(v, &brec[5], NOW), PG_E_SIG_PROOF);
	brec[5].payload[1] ^= 1;
	/* 6. the proof cut by a hash (nproof lowered to match) */
	take_sd(5, sd, &len);
	sd[PG_SECDATA_OFF_NPROOF]--;
	fx_set_secdata(&brec[5], sd, (uint16_t)(len - 32));
	cr_assert_eq(deliver(v, &brec[5], NOW), PG_E_SIG_MALFORMED);
	/* 7. an index whose path is shorter: refused by shape */
	take_sd(0, sd, &len);
	sd[PG_SECDATA_OFF_SIZE] = 5;
	sd[PG_SECDATA_OFF_INDEX] = 4; /* leaf 4 of 5 has 1 hash, not 3 */
	fx_set_secdata(&brec[0], sd, len);
	cr_assert_eq(deliver(v, &brec[0], NOW), PG_E_SIG_MALFORMED);
	/* 8. leaf 0 claimed in a bundle of 7: the walk reaches the same root, but the size is
	 * signed, so the signature fails, even once the real (root, 8) is cached */
	cr_assert_eq(deliver(v, &brec[1], NOW), 0); /* caches (root, 8, alice) */
	take_sd(0, sd, &len);
	sd[PG_SECDATA_OFF_SIZE] = 7;
	fx_set_secdata(&brec[0], sd, len);
	checks = stats(v).sig_checks;
	cr_assert_eq(deliver(v, &brec[0], NOW), PG_E_SIG_BAD);
	cr_assert_eq(stats(v).sig_checks, checks + 1);
	cr_assert(!held(&brec[0]));
	/* 9. with (root, 8) cached: a record whose signature bytes were changed. A hit needs the
	 * same signature bytes, or anyone could mint a second security data for the record. */
	take_sd(2, sd, &len);
	sd[PG_SECDATA_OFF_SIG + 10] ^= 4;
	fx_set_secdata(&brec[2], sd, len);
	cr_assert_eq(deliver(v, &brec[2], NOW), PG_E_SIG_BAD);
	cr_assert_eq(stats(v).sig_checks, checks + 2);
	cr_assert(!held(&brec[2]));
	/* 10. a forged bundle: the attacker's own tree over altered records, consistent proofs,
	 * alice's real signature of another root. Rejected, and the root is not cached: the
	 * second forged record costs a signature check again. */
	for (int i = 0; i < 8; i++) {
		fx_rec_init(&forged[i], alice.name, NULL, 1, 900 + (uint32_t)i);
		frecs[i] = forged[i].r;
	}
	cr_assert_eq(pg_signer_sign_bundle(alice.signer, frecs, 8, fsd, flen), 0);
	memcpy(sig, bsd[0] + PG_SECDATA_OFF_SIG, 64);
	for (int i = 0; i < 2; i++) {
		memcpy(fsd[i] + PG_SECDATA_OFF_SIG, sig, 64);
		fx_set_secdata(&forged[i], fsd[i], flen[i]);
		checks = stats(v).sig_checks;
		cr_assert_eq(deliver(v, &forged[i], NOW), PG_E_SIG_BAD, "forged %d", i);
		cr_assert_eq(stats(v).sig_checks, checks + 1, "forged %d: cache hit", i);
	}
	/* 11. the untouched record still verifies, from the cache */
	take_sd(5, sd, &len);
	fx_set_secdata(&brec[5], sd, len);
	cr_assert_eq(deliver(v, &brec[5], NOW), 0);
	cr_assert_eq(stats(v).by_reason[VERIFY_BAD_PROOF], 5);
	cr_assert_eq(stats(v).by_reason[VERIFY_MALFORMED], 2);
	cr_assert_eq(stats(v).by_reason[VERIFY_BAD_SIGNATURE], 4);
	verify_destroy(v);
}

Test(verify_bundle, bundle_records_follow_the_role_rule_and_defer)
{
	struct verify *v = verifier(VERIFY_BACKEND_SODIUM);
	int calls = 0;

	/* bob (member) modifies four of alice's records in one bundle: each rejected */
	make_bundle(&bob, true, 4, 10);
	for (unsigned i = 0; i < 4; i++)
		cr_assert_eq(deliver(v, &brec[i], NOW), PG_E_SIG_NOT_ADMIN);
	/* carol (administrator) may */
	make_bundle(&carol, true, 4, 20);
	for (unsigned i = 0; i < 4; i++)
		cr_assert_eq(deliver(v, &brec[i], NOW), 0);
	/* dave's bundle waits for dave, then goes through with one signature check */
	make_bundle(&dave, false, 4, 30);
	for (unsigned i = 0; i < 4; i++)
		cr_assert_eq(deliver(v, &brec[i], NOW), PG_E_SIG_DEFERRED);
	publish(&dave, PG_KEYTAB_ROLE_MEMBER, WIDE_NB, WIDE_NA);
	cr_assert_eq(stats(v).sig_checks, 2);
	cr_assert_eq(verify_deferred_run(v, NOW + 1, accept_and_store, &calls), 4);
	cr_assert_eq(stats(v).sig_checks, 3);
	for (unsigned i = 0; i < 4; i++)
		cr_assert(held(&brec[i]));
	verify_destroy(v);
}

/* ---- the walk memory (verify_bundle.c) ------------------------------------------------------ */

static struct verify *fresh(enum verify_backend backend)
{
	struct verify_config c = config(backend);

	c.rvt = NULL; /* records may come back: no version table */
	return verifier_with(&c);
}

Test(verify_bundle, walk_memory_accepts_any_order_and_saves_hashes)
{
	static const unsigned sizes[] = { 1, 3, 64, 37 };
	unsigned order[BMAX];

	for (size_t s = 0; s < PG_ARRAY_SIZE(sizes); s++) {
		unsigned n = sizes[s];

		make_bundle(&alice, false, n, (uint32_t)(2000 + 100 * s));
		for (int how = 0; how < 3; how++) {
			struct verify *v = fresh(VERIFY_BACKEND_SODIUM);
			uint64_t full = 0;

			for (unsigned i = 0; i < n; i++) /* forward, reverse, a fixed shuffle */
				order[i] = how == 0 ? i : how == 1 ? n - 1 - i : (i * 29 + 7) % n;
			if (how == 2 && n % 29 == 0)
				continue;
			for (unsigned i = 0; i < n; i++) {
				cr_assert_eq(verify_record(v, &brec[order[i]].view, NOW), 0,
					     "size %u order %d record %u", n, how, order[i]);
				full += (uint64_t)pg_bundle_path_len(order[i], n);
			}
			cr_assert_eq(stats(v).sig_checks, 1);
			/* the full walks would hash `full` nodes; remembered ones are not rehashed
			 */
			cr_assert_leq(stats(v).node_hashes, 2 * (uint64_t)n,
				      "size %u order %d: %llu", n, how,
				      (unsigned long long)stats(v).node_hashes);
			cr_assert(n < 8 || stats(v).node_hashes < full / 2);
			verify_destroy(v);
		}
	}
}

Test(verify_bundle, walk_memory_rejects_what_the_full_walk_rejects)
{
	enum { N = 37, ROUNDS = 300 };
	static struct fx_rec t;
	struct verify *warm = fresh(VERIFY_BACKEND_SODIUM), *cold;
	uint64_t rng = 0x243f6a8885a308d3ull;
	uint8_t sd[PG_SECDATA_BUNDLE_MAX_LEN];

	make_bundle(&alice, false, N, 3000);
	for (unsigned i = 0; i < N; i += 2) /* half the tree remembered */
		cr_assert_eq(verify_record(warm, &brec[i].view, NOW), 0);
	for (int round = 0; round < ROUNDS; round++) {
		unsigned i, len, at;
		int got_warm, got_cold;

		rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
		i = (unsigned)(rng % N);
		len = blen[i];
		memcpy(sd, bsd[i], len);
		/* a flipped bit in the security data (any field) or in the record's payload */
		fx_rec_init(&t, alice.name, NULL, 1, 3000 + i);
		at = (unsigned)((rng >> 20) % (len + t.r.payload_len));
		if (at < len)
			sd[at] ^= (uint8_t)(1u << ((rng >> 40) % 8));
		else
			t.payload[at - len] ^= (uint8_t)(1u << ((rng >> 40) % 8));
		fx_set_secdata(&t, sd, len);
		fx_seal(&t);
		cold = fresh(VERIFY_BACKEND_SODIUM);
		got_cold = verify_record(cold, &t.view, NOW);
		got_warm = verify_record(warm, &t.view, NOW);
		verify_destroy(cold);
		cr_assert_neq(got_cold, 0, "round %d: record %u byte %u accepted", round, i, at);
		cr_assert_eq(got_warm, got_cold, "round %d: record %u byte %u: warm %s, cold %s",
			     round, i, at, pg_strerror_name(got_warm), pg_strerror_name(got_cold));
	}
	/* the memory is intact: every record still verifies, few hashes more */
	for (unsigned i = 0; i < N; i++)
		cr_assert_eq(verify_record(warm, &brec[i].view, NOW), 0, "record %u", i);
	verify_destroy(warm);
}

Test(verify_bundle, interleaved_bundles_all_verify)
{
	static struct fx_rec a[8];
	static uint8_t asd[8][PG_SECDATA_BUNDLE_MAX_LEN];
	uint16_t alen[8];
	struct verify *v = fresh(VERIFY_BACKEND_OPENSSL);

	make_bundle(&bob, false, 8, 4000);
	for (unsigned i = 0; i < 8; i++) { /* keep bob's bundle aside, then sign alice's */
		memcpy(asd[i], bsd[i], blen[i]);
		alen[i] = blen[i];
		fx_rec_init(&a[i], bob.name, NULL, 1, 4000 + i);
		fx_set_secdata(&a[i], asd[i], alen[i]);
		fx_seal(&a[i]);
	}
	make_bundle(&alice, false, 8, 5000);
	for (unsigned i = 0; i < 8; i++) {
		cr_assert_eq(verify_record(v, &a[i].view, NOW), 0, "bob %u", i);
		cr_assert_eq(verify_record(v, &brec[i].view, NOW), 0, "alice %u", i);
	}
	cr_assert_eq(stats(v).sig_checks, 2); /* the root cache holds both */
	verify_destroy(v);
}
