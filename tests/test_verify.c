/*
 * test_verify.c - record verification in the dataplane (dataplane/verify.h), as a receiving
 * node sees it: records signed by the control plane's signer (or forged by hand), encoded,
 * decoded, and verified against a key table and a version table.
 *
 * The test graph's members are verify_fixture.h's. Bundles are in test_verify_bundle.c.
 *
 * Every rejection is checked for its reason, for its counter, and for the version table
 * staying untouched (the test's delivery stores only what verify_record accepted). The tables
 * run with both Ed25519 backends where the backend matters.
 */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "ed25519_forge.h"
#include "verify_fixture.h"

TestSuite(verify, .init = vf_setup, .fini = vf_teardown);

/* ---- accepted records and duplicates -------------------------------------------------------- */

Test(verify, signed_records_are_accepted_and_duplicates_never_reverified)
{
	static struct fx_rec t, t2;

	for (size_t b = 0; b < PG_ARRAY_SIZE(backends); b++) {
		struct verify *v = verifier(backends[b]);

		cr_assert_eq(verify_backend_of(v), backends[b]);
		fx_rec_init(&t, alice.name, NULL, 1, (uint32_t)b);
		fx_sign(&t, &alice);
		cr_assert_eq(deliver(v, &t, NOW), 0);
		cr_assert(held(&t));
		cr_assert_eq(stats(v).sig_checks, 1);
		/* the same copy again, and again: duplicates, no signature check */
		cr_assert_eq(deliver(v, &t, NOW), PG_E_STALE);
		cr_assert_eq(deliver(v, &t, NOW), PG_E_STALE);
		/* alice updates her record: version 2 wins and is verified */
		fx_rec_init(&t2, alice.name, alice.name, 2, (uint32_t)b);
		fx_sign(&t2, &alice);
		cr_assert_eq(deliver(v, &t2, NOW), 0);
		cr_assert(held(&t2));
		/* the old version 1 arriving late: older, no signature check */
		cr_assert_eq(deliver(v, &t, NOW), PG_E_STALE);
		cr_assert_eq(stats(v).sig_checks, 2);
		cr_assert_eq(stats(v).duplicates, 3);
		cr_assert_eq(stats(v).accepted, 2);
		cr_assert_eq(stats(v).rejected, 0);
		verify_destroy(v);
	}
}

/* ---- tampering, one field per row ----------------------------------------------------------- */

static void set_attrs(struct fx_rec *t, const struct pg_attr *a, unsigned n)
{
	long len = pg_attrs_encode(a, n, t->attrs, sizeof(t->attrs));

	cr_assert_geq(len, 0);
	t->r.attrs_len = (uint32_t)len;
	t->r.nattrs = (uint16_t)n;
}

static const struct pg_attr attr_size = { .name = "size", .name_len = 4, .type = PG_ATTR_INT };
static const struct pg_attr attr_title = { .name = "title",
					   .name_len = 5,
					   .type = PG_ATTR_STRING,
					   .v.str = { .ptr = "hello", .len = 5 } };

static void m_type(struct fx_rec *t)
{
	t->r.type.b[3] ^= 1;
}
static void m_id(struct fx_rec *t)
{
	t->r.id.b[0] ^= 0x80;
}
static void m_version(struct fx_rec *t)
{
	t->r.version++;
}
static void m_flags(struct fx_rec *t)
{
	t->r.flags |= PG_RECORD_AUTO_REFRESH;
}
static void m_creator(struct fx_rec *t)
{
	t->creator[t->r.creator_len - 1] ^= 1; /* the classifier: same authority */
}
static void m_modifier(struct fx_rec *t)
{
	memcpy(t->modifier, t->creator, t->r.creator_len); /* "updated" by its own creator */
	t->r.modifier_len = t->r.creator_len;
}
static void m_created(struct fx_rec *t)
{
	t->r.created_us--;
}
static void m_modified(struct fx_rec *t)
{
	t->r.modified_us++;
}
static void m_expires(struct fx_rec *t)
{
	t->r.expires_us++;
}
static void m_attr_name(struct fx_rec *t)
{
	struct pg_attr a[2] = { attr_size, attr_title };

	a[0].name = "sizf";
	a[0].v.i = 42;
	set_attrs(t, a, 2);
}
static void m_attr_type(struct fx_rec *t)
{
	struct pg_attr a[2] = { attr_size, attr_title };

	a[0].type = PG_ATTR_DATE;
	a[0].v.date_us = 42;
	set_attrs(t, a, 2);
}
static void m_attr_int(struct fx_rec *t)
{
	struct pg_attr a[2] = { attr_size, attr_title };

	a[0].v.i = 43;
	set_attrs(t, a, 2);
}
static void m_attr_string(struct fx_rec *t)
{
	struct pg_attr a[2] = { attr_size, attr_title };

	a[0].v.i = 42;
	a[1].v.str.ptr = "hellO";
	set_attrs(t, a, 2);
}
static void m_attr_added(struct fx_rec *t)
{
	struct pg_attr a[3] = { attr_size, attr_title, attr_size };

	a[0].v.i = 42;
	a[2].name = "zeta";
	set_attrs(t, a, 3);
}
static void m_attr_removed(struct fx_rec *t)
{
	set_attrs(t, &attr_title, 1);
}
static void m_payload_byte(struct fx_rec *t)
{
	t->payload[0] ^= 0x20;
}
static void m_payload_cut(struct fx_rec *t)
{
	t->r.payload_len--;
}
static void m_tombstone(struct fx_rec *t)
{
	t->r.flags |= PG_RECORD_DELETED;
	t->r.payload_len = 0;
	t->r.attrs_len = 0;
	t->r.nattrs = 0;
}
static void m_key_id_bob(struct fx_rec *t)
{
	memcpy(t->sd + PG_SECDATA_OFF_KEY_ID, pg_identity_key_id(bob.id), 32);
}
static void m_key_id_unknown(struct fx_rec *t)
{
	t->sd[PG_SECDATA_OFF_KEY_ID + 5] ^= 0x40;
}
static void m_sig_r(struct fx_rec *t)
{
	t->sd[PG_SECDATA_OFF_SIG] ^= 1;
}
static void m_sig_s(struct fx_rec *t)
{
	t->sd[PG_SECDATA_OFF_SIG + 63] ^= 0x01;
}
/* S + L (the group order): the same signature in a second encoding. */
static void m_sig_malleated(struct fx_rec *t)
{
	static const uint8_t order[32] = { 0xed, 0xd3, 0xf5, 0x5c, 0x1a,       0x63,
					   0x12, 0x58, 0xd6, 0x9c, 0xf7,       0xa2,
					   0xde, 0xf9, 0xde, 0x14, [31] = 0x10 };
	uint8_t *s = t->sd + PG_SECDATA_OFF_SIG + 32;
	unsigned carry = 0;

	for (int i = 0; i < 32; i++) {
		unsigned x = s[i] + order[i] + carry;

		s[i] = (uint8_t)x;
		carry = x >> 8;
	}
}
static void m_sd_fmt(struct fx_rec *t)
{
	t->sd[PG_SECDATA_OFF_FMT] = 2;
}
static void m_sd_kind(struct fx_rec *t)
{
	t->sd[PG_SECDATA_OFF_KIND] = PG_SECDATA_BUNDLE;
}
static void m_sd_longer(struct fx_rec *t)
{
	t->r.secdata_len++;
}
static void m_sd_cut(struct fx_rec *t)
{
	t->r.secdata_len -= 10;
}
static void m_sd_none(struct fx_rec *t)
{
	t->r.secdata_len = 0;
}
static void m_sd_oversized(struct fx_rec *t)
{
	static uint8_t big[PG_SECDATA_MAX];

	memcpy(big, t->sd, PG_SECDATA_SINGLE_LEN);
	t->r.secdata = big;
	t->r.secdata_len = PG_SECDATA_MAX;
}

struct tamper_row {
	int no;
	const char *field;
	void (*mutate)(struct fx_rec *t);
	int want;
};

static const struct tamper_row tamper_rows[] = {
	{ 1, "type", m_type, PG_E_SIG_BAD },
	{ 2, "id", m_id, PG_E_SIG_BAD },
	{ 3, "version", m_version, PG_E_SIG_BAD },
	{ 4, "flags", m_flags, PG_E_SIG_BAD },
	{ 5, "creator (classifier)", m_creator, PG_E_SIG_BAD },
	{ 6, "modifier (set)", m_modifier, PG_E_SIG_BAD },
	{ 7, "creation time", m_created, PG_E_SIG_BAD },
	{ 8, "last-modified time", m_modified, PG_E_SIG_BAD },
	{ 9, "expiration time", m_expires, PG_E_SIG_BAD },
	{ 10, "attribute name", m_attr_name, PG_E_SIG_BAD },
	{ 11, "attribute type", m_attr_type, PG_E_SIG_BAD },
	{ 12, "attribute int value", m_attr_int, PG_E_SIG_BAD },
	{ 13, "attribute string value", m_attr_string, PG_E_SIG_BAD },
	{ 14, "attribute added", m_attr_added, PG_E_SIG_BAD },
	{ 15, "attribute removed", m_attr_removed, PG_E_SIG_BAD },
	{ 16, "payload byte", m_payload_byte, PG_E_SIG_BAD },
	{ 17, "payload cut by a byte", m_payload_cut, PG_E_SIG_BAD },
	{ 18, "made a tombstone", m_tombstone, PG_E_SIG_BAD },
	{ 19, "secdata key id -> bob's (known key)", m_key_id_bob, PG_E_SIG_BAD },
	{ 20, "secdata key id -> unknown key", m_key_id_unknown, PG_E_SIG_DEFERRED },
	{ 21, "signature R byte", m_sig_r, PG_E_SIG_BAD },
	{ 22, "signature S byte", m_sig_s, PG_E_SIG_BAD },
	{ 23, "signature S + L (malleated)", m_sig_malleated, PG_E_SIG_BAD },
	{ 24, "secdata format", m_sd_fmt, PG_E_SIG_MALFORMED },
	{ 25, "secdata kind", m_sd_kind, PG_E_SIG_MALFORMED },
	{ 26, "secdata one byte longer", m_sd_longer, PG_E_SIG_MALFORMED },
	{ 27, "secdata cut", m_sd_cut, PG_E_SIG_MALFORMED },
	{ 28, "secdata removed", m_sd_none, PG_E_SIG_UNSIGNED },
	{ 29, "secdata oversized (4096 bytes)", m_sd_oversized, PG_E_SIG_MALFORMED },
};

Test(verify, every_tampered_field_is_rejected)
{
	static struct fx_rec t;

	for (size_t b = 0; b < PG_ARRAY_SIZE(backends); b++) {
		struct verify *v = verifier(backends[b]);
		uint64_t want_rejected = 0;

		for (size_t i = 0; i < PG_ARRAY_SIZE(tamper_rows); i++) {
			const struct tamper_row *row = &tamper_rows[i];
			int err;

			fx_rec_init(&t, alice.name, NULL, 1, (uint32_t)(100 + i));
			fx_sign(&t, &alice);
			fx_seal(&t);
			row->mutate(&t);
			err = deliver(v, &t, NOW);
			cr_expect_eq(err, row->want, "backend %zu row %d (%s): got %s", b, row->no,
				     row->field, pg_strerror_name(err));
			cr_expect(!held(&t), "row %d: stored", row->no);
			want_rejected += row->want != PG_E_SIG_DEFERRED;
		}
		cr_assert_eq(stats(v).rejected, want_rejected);
		cr_assert_eq(stats(v).accepted, 0);
		cr_assert_eq(stats(v).by_reason[VERIFY_UNSIGNED], 1);
		cr_assert_eq(stats(v).by_reason[VERIFY_MALFORMED], 5);
		cr_assert_eq(stats(v).deferred, 1);
		verify_destroy(v);
	}
}

/* ---- wrong keys, windows, revocation, roles ------------------------------------------------- */

Test(verify, wrong_keys_are_rejected)
{
	static struct fx_rec t;
	struct pg_signer *other_graph;
	struct pg_signer_config sc = { .graph_id = "another-graph", .graph_id_len = 13 };
	struct verify *v = verifier(VERIFY_BACKEND_SODIUM);

	/* 1. bob signs a record in alice's name, with his own key: not the toucher's key */
	fx_rec_init(&t, alice.name, NULL, 1, 1);
	fx_sign_raw(&t, &bob, pg_identity_key_id(bob.id));
	cr_assert_eq(deliver(v, &t, NOW), PG_E_SIG_WRONG_SIGNER);
	/* 2. ... naming alice's key id: her key did not sign it */
	fx_rec_init(&t, alice.name, NULL, 1, 2);
	fx_sign_raw(&t, &bob, pg_identity_key_id(alice.id));
	cr_assert_eq(deliver(v, &t, NOW), PG_E_SIG_BAD);
	/* 3. alice's signature of another record, copied */
	fx_rec_init(&t, alice.name, NULL, 1, 3);
	fx_sign(&t, &alice);
	t.r.id.b[0] ^= 0x10;
	cr_assert_eq(deliver(v, &t, NOW), PG_E_SIG_BAD);
	/* 4. alice's record signed for another graph */
	cr_assert_eq(pg_signer_create(alice.id, &sc, &other_graph), 0);
	fx_rec_init(&t, alice.name, NULL, 1, 4);
	cr_assert_eq(pg_signer_sign_record(other_graph, &t.r, t.sd, sizeof(t.sd)),
		     PG_SECDATA_SINGLE_LEN);
	t.r.secdata = t.sd;
	t.r.secdata_len = PG_SECDATA_SINGLE_LEN;
	cr_assert_eq(deliver(v, &t, NOW), PG_E_SIG_BAD);
	/* 5. an unsecured creator name belongs to no key */
	fx_rec_init(&t, "0.alice", NULL, 1, 5);
	fx_sign_raw(&t, &alice, pg_identity_key_id(alice.id));
	cr_assert_eq(deliver(v, &t, NOW), PG_E_SIG_WRONG_SIGNER);
	cr_assert_eq(stats(v).by_reason[VERIFY_WRONG_SIGNER], 2);
	cr_assert_eq(stats(v).by_reason[VERIFY_BAD_SIGNATURE], 3);
	cr_assert_eq(stats(v).accepted, 0);
	pg_signer_destroy(other_graph);
	verify_destroy(v);
}

/* A member's signature made of the identity point R and S = k*a satisfies the cofactorless
 * equation for any message; OpenSSL accepted it and libsodium did not, so nodes split by
 * backend (issue 12 item 2). mallory's key is made here, where its secret scalar is known. */
Test(verify, identity_r_signature_is_refused_by_both_backends)
{
	static struct fx_rec t;
	static uint8_t msg[8192];
	static const uint8_t spki[12] = { 0x30, 0x2a, 0x30, 0x05, 0x06, 0x03,
					  0x2b, 0x65, 0x70, 0x03, 0x21, 0x00 };
	uint8_t pk[32], sk[64], seed[32], sig[64], key_id[32], md[20];
	uint8_t spki_pk[44];
	char creator[64], hex[41];
	struct pg_secdata sd = { .kind = PG_SECDATA_SINGLE, .key_id = key_id, .sig = sig };
	unsigned mdlen = 0;
	size_t len;

	memset(seed, 0x6d, sizeof(seed));
	memset(key_id, 0x6d, sizeof(key_id));
	cr_assert_eq(crypto_sign_seed_keypair(pk, sk, seed), 0);
	memcpy(spki_pk, spki, sizeof(spki));
	memcpy(spki_pk + sizeof(spki), pk, sizeof(pk));
	cr_assert_eq(EVP_Digest(spki_pk, sizeof(spki_pk), md, &mdlen, EVP_sha1(), NULL), 1);
	sodium_bin2hex(hex, sizeof(hex), md, sizeof(md));
	snprintf(creator, sizeof(creator), "%s.mallory", hex);
	cr_assert_eq(pg_keytab_publish(kt, key_id, pk, PG_KEYTAB_ROLE_MEMBER, WIDE_NB, WIDE_NA), 0);
	for (size_t b = 0; b < PG_ARRAY_SIZE(backends); b++) {
		struct verify *v = verifier(backends[b]);

		/* mallory's honest signature: the set-up is right */
		fx_rec_init(&t, creator, NULL, 1, (uint32_t)(40 + 2 * b));
		len = fx_record_msg(&t, pg_signer_graph_tag(alice.signer), msg, sizeof(msg));
		crypto_sign_detached(sig, NULL, msg, len, sk);
		cr_assert_eq(pg_secdata_encode(&sd, t.sd, sizeof(t.sd)), PG_SECDATA_SINGLE_LEN);
		t.r.secdata = t.sd;
		t.r.secdata_len = PG_SECDATA_SINGLE_LEN;
		cr_assert_eq(deliver(v, &t, NOW), 0, "backend %zu: honest", b);
		/* R = identity, S = SHA-512(R || A || M) * a mod L */
		fx_rec_init(&t, creator, NULL, 1, (uint32_t)(41 + 2 * b));
		len = fx_record_msg(&t, pg_signer_graph_tag(alice.signer), msg, sizeof(msg));
		memset(sig, 0, 32);
		sig[0] = 1;
		forge_s_k_a(sig, pk, seed, msg, len);
		cr_assert_eq(pg_secdata_encode(&sd, t.sd, sizeof(t.sd)), PG_SECDATA_SINGLE_LEN);
		t.r.secdata = t.sd;
		t.r.secdata_len = PG_SECDATA_SINGLE_LEN;
		cr_assert_eq(deliver(v, &t, NOW), PG_E_SIG_BAD, "backend %zu: identity R", b);
		cr_assert_not(held(&t));
		verify_destroy(v);
	}
}

struct window_row {
	int no;
	const char *what;
	uint64_t nb, na;	    /* frank's window in the key table */
	uint64_t modified, expires; /* the record's */
	int want;
};

static const struct window_row window_rows[] = {
	{ 1, "window covers the record", FX_T0, FX_T0 + FX_HOUR, FX_T0 + 10, FX_T0 + 100, 0 },
	{ 2, "bounds are inclusive", FX_T0 + 10, FX_T0 + 100, FX_T0 + 10, FX_T0 + 100, 0 },
	{ 3, "modified before not-before", FX_T0 + 11, FX_T0 + FX_HOUR, FX_T0 + 10, FX_T0 + 100,
	  PG_E_SIG_WINDOW },
	{ 4, "expires after not-after (outlives membership)", FX_T0, FX_T0 + 99, FX_T0 + 10,
	  FX_T0 + 100, PG_E_SIG_WINDOW },
	{ 5, "window long over (expired signer)", WIDE_NB, FX_T0 - 1, FX_T0 + 10, FX_T0 + 100,
	  PG_E_SIG_WINDOW },
	{ 6, "window not yet open", FX_T0 + FX_HOUR, WIDE_NA, FX_T0 + 10, FX_T0 + 100,
	  PG_E_SIG_WINDOW },
};

Test(verify, signer_window_must_cover_modified_to_expires)
{
	static struct fx_rec t;
	struct verify *v = verifier(VERIFY_BACKEND_SODIUM);

	for (size_t i = 0; i < PG_ARRAY_SIZE(window_rows); i++) {
		const struct window_row *row = &window_rows[i];
		int err;

		cr_assert_eq(pg_keytab_update(kt, pg_identity_key_id(frank.id), row->nb, row->na),
			     0);
		fx_rec_init(&t, frank.name, NULL, 1, (uint32_t)i);
		t.r.created_us = row->modified;
		t.r.modified_us = row->modified;
		t.r.expires_us = row->expires;
		fx_sign(&t, &frank); /* frank's own signer knows only his certificate's window */
		err = deliver(v, &t, NOW);
		cr_expect_eq(err, row->want, "row %d (%s): got %s", row->no, row->what,
			     pg_strerror_name(err));
		cr_expect_eq(held(&t), row->want == 0, "row %d", row->no);
	}
	cr_assert_eq(stats(v).by_reason[VERIFY_OUTSIDE_WINDOW], 4);
	verify_destroy(v);
}

Test(verify, revoked_signer_is_rejected)
{
	static struct fx_rec t;
	struct verify *v = verifier(VERIFY_BACKEND_OPENSSL);

	fx_rec_init(&t, eve.name, NULL, 1, 1);
	fx_sign(&t, &eve);
	cr_assert_eq(deliver(v, &t, NOW), PG_E_SIG_REVOKED);
	cr_assert(!held(&t));
	/* a revocation applies from the next record on */
	fx_rec_init(&t, alice.name, NULL, 1, 2);
	fx_sign(&t, &alice);
	cr_assert_eq(deliver(v, &t, NOW), 0);
	cr_assert_eq(pg_keytab_revoke(kt, pg_identity_key_id(alice.id)), 0);
	fx_rec_init(&t, alice.name, NULL, 1, 3);
	fx_sign(&t, &alice);
	cr_assert_eq(deliver(v, &t, NOW), PG_E_SIG_REVOKED);
	cr_assert(!held(&t));
	cr_assert_eq(stats(v).by_reason[VERIFY_REVOKED], 2);
	verify_destroy(v);
}

struct role_row {
	int no;
	const char *what;
	struct fx_member *creator; /* NULL: the unsecured creator "0.someone" */
	struct fx_member *modifier;
	int want;
};

static const struct role_row role_rows[] = {
	{ 1, "member modifies her own record", &alice, &alice, 0 },
	{ 2, "member modifies another's record", &alice, &bob, PG_E_SIG_NOT_ADMIN },
	{ 3, "inviting member modifies another's record", &alice, &ivy, PG_E_SIG_NOT_ADMIN },
	{ 4, "administrator modifies another's record", &alice, &carol, 0 },
	{ 5, "administrator modifies a record of an unsecured creator", NULL, &carol, 0 },
	{ 6, "member modifies a record of an unsecured creator", NULL, &bob, PG_E_SIG_NOT_ADMIN },
	{ 7, "revoked administrator modifies another's record", &alice, &eve, PG_E_SIG_REVOKED },
};

Test(verify, only_administrators_modify_others_records)
{
	static struct fx_rec t;
	struct verify *v = verifier(VERIFY_BACKEND_SODIUM);

	for (size_t i = 0; i < PG_ARRAY_SIZE(role_rows); i++) {
		const struct role_row *row = &role_rows[i];
		int err;

		fx_rec_init(&t, row->creator ? row->creator->name : "0.someone",
			    row->modifier->name, 2, (uint32_t)i);
		fx_sign(&t, row->modifier);
		err = deliver(v, &t, NOW);
		cr_expect_eq(err, row->want, "row %d (%s): got %s", row->no, row->what,
			     pg_strerror_name(err));
		cr_expect_eq(held(&t), row->want == 0, "row %d", row->no);
	}
	cr_assert_eq(stats(v).by_reason[VERIFY_NOT_ADMIN], 3);
	verify_destroy(v);
}

/* A record that expired leaves its key remembering the version; a late copy of it is a
 * duplicate (one table probe), not another signature check counted as accepted (issue 12). */
Test(verify, late_copies_of_an_expired_record_are_duplicates)
{
	static struct fx_rec t, t2;

	for (size_t b = 0; b < PG_ARRAY_SIZE(backends); b++) {
		struct verify *v = verifier(backends[b]);
		struct rvt_view w;

		fx_rec_init(&t, alice.name, NULL, 1, (uint32_t)(70 + b));
		fx_sign(&t, &alice);
		cr_assert_eq(deliver(v, &t, NOW), 0);
		cr_assert_eq(rvt_lookup(th, key_of(&t.view), &w), 0);
		cr_assert_eq(rvt_remove_expired(th, key_of(&t.view), w.body), 0);
		rvt_quiescent(th);
		cr_assert_eq(deliver(v, &t, NOW), PG_E_STALE, "backend %zu: late copy", b);
		cr_assert_eq(verify_burst(v, &t.view, 1, NOW, (int[1]){ 0 }), 0);
		cr_assert_eq(stats(v).sig_checks, 1, "one signature check, for the first copy");
		cr_assert_eq(stats(v).accepted, 1);
		cr_assert_eq(stats(v).duplicates, 2);
		/* a newer version after the expiry is a new record */
		fx_rec_init(&t2, alice.name, alice.name, 2, (uint32_t)(70 + b));
		fx_sign(&t2, &alice);
		cr_assert_eq(deliver(v, &t2, NOW), 0);
		verify_destroy(v);
	}
}

/* A view built by hand (not decoded) with a bad attribute block and an unknown signer: the
 * encoder does not check attributes, so it used to be queued, and re-validating it when the
 * key table changed aborted the node. Now it is refused before the queue. */
Test(verify, bad_attribute_block_is_rejected_not_queued)
{
	static struct fx_rec t;
	struct verify *v = verifier(VERIFY_BACKEND_SODIUM);
	int accepted = 0, err;

	fx_rec_init(&t, dave.name, NULL, 1, 60);
	t.attrs[2] = '-'; /* the first attribute's name: "-ize" */
	fx_sign_raw(&t, &dave, pg_identity_key_id(dave.id));
	err = verify_record(v, &t.r, NOW);
	cr_assert_eq(err, PG_E_ATTR_NAME, "got %s", pg_strerror_name(err));
	cr_assert_eq(stats(v).queue_len, 0);
	cr_assert_eq(stats(v).by_reason[VERIFY_MALFORMED], 1);
	publish(&dave, PG_KEYTAB_ROLE_MEMBER, WIDE_NB, WIDE_NA);
	cr_assert_eq(verify_deferred_run(v, NOW + 1, accept_and_store, &accepted), 0);
	cr_assert_eq(accepted, 0);
	verify_destroy(v);
}

/* ---- deferred records --------------------------------------------------------------------- */

Test(verify, deferred_until_the_key_is_published)
{
	static struct fx_rec t;
	struct verify *v = verifier(VERIFY_BACKEND_SODIUM);
	int calls = 0;

	fx_rec_init(&t, dave.name, NULL, 1, 1);
	fx_sign(&t, &dave);
	cr_assert_eq(deliver(v, &t, NOW), PG_E_SIG_DEFERRED);
	cr_assert(!held(&t));
	cr_assert_eq(stats(v).queue_len, 1);
	/* the same copy again (another neighbour): queued once */
	cr_assert_eq(deliver(v, &t, NOW + 1), PG_E_STALE);
	cr_assert_eq(stats(v).deferred_dups, 1);
	/* nothing changed in the key table: nothing re-validated */
	cr_assert_eq(verify_deferred_run(v, NOW + 2, accept_and_store, &calls), 0);
	cr_assert_eq(stats(v).revalidations, 0);
	/* dave appears: the next pass accepts his record */
	publish(&dave, PG_KEYTAB_ROLE_MEMBER, WIDE_NB, WIDE_NA);
	cr_assert_eq(verify_deferred_run(v, NOW + 3, accept_and_store, &calls), 1);
	cr_assert_eq(calls, 1);
	cr_assert(held(&t));
	cr_assert_eq(stats(v).accepted_deferred, 1);
	cr_assert_eq(stats(v).revalidations, 1);
	cr_assert_eq(stats(v).queue_len, 0);
	cr_assert_eq(stats(v).queue_bytes, 0);
	/* and from now on his records go straight through; the queued copy is a duplicate */
	cr_assert_eq(deliver(v, &t, NOW + 4), PG_E_STALE);
	verify_destroy(v);
}

Test(verify, deferred_records_are_rechecked_in_full)
{
	static struct fx_rec t1, t2, t3;
	struct verify *v = verifier(VERIFY_BACKEND_OPENSSL);
	int calls = 0;

	/* three of dave's records wait: one forged, one outside his coming window, one fine */
	fx_rec_init(&t1, dave.name, NULL, 1, 1);
	fx_sign(&t1, &dave);
	fx_seal(&t1);
	t1.payload[0] ^= 1;
	fx_rec_init(&t2, dave.name, NULL, 1, 2);
	t2.r.expires_us = WIDE_NA + 1;
	fx_sign(&t2, &dave);
	fx_rec_init(&t3, dave.name, NULL, 1, 3);
	fx_sign(&t3, &dave);
	cr_assert_eq(deliver(v, &t1, NOW), PG_E_SIG_DEFERRED);
	cr_assert_eq(deliver(v, &t2, NOW), PG_E_SIG_DEFERRED);
	cr_assert_eq(deliver(v, &t3, NOW), PG_E_SIG_DEFERRED);
	cr_assert_eq(stats(v).queue_len, 3);
	/* another key changing re-validates, and they keep waiting, in order */
	cr_assert_eq(pg_keytab_update(kt, pg_identity_key_id(bob.id), WIDE_NB, WIDE_NA), 0);
	cr_assert_eq(verify_deferred_run(v, NOW + 1, accept_and_store, &calls), 0);
	cr_assert_eq(stats(v).revalidations, 1);
	cr_assert_eq(stats(v).queue_len, 3);
	publish(&dave, PG_KEYTAB_ROLE_MEMBER, WIDE_NB, WIDE_NA);
	cr_assert_eq(verify_deferred_run(v, NOW + 2, accept_and_store, &calls), 1);
	cr_assert(!held(&t1));
	cr_assert(!held(&t2));
	cr_assert(held(&t3));
	cr_assert_eq(stats(v).by_reason[VERIFY_BAD_SIGNATURE], 1);
	cr_assert_eq(stats(v).by_reason[VERIFY_OUTSIDE_WINDOW], 1);
	cr_assert_eq(stats(v).queue_len, 0);
	verify_destroy(v);
}

Test(verify, deferred_records_are_dropped_after_the_timeout)
{
	static struct fx_rec t1, t2;
	struct verify *v = verifier(VERIFY_BACKEND_SODIUM);
	int calls = 0;

	fx_rec_init(&t1, dave.name, NULL, 1, 1);
	fx_sign(&t1, &dave);
	fx_rec_init(&t2, dave.name, NULL, 1, 2);
	fx_sign(&t2, &dave);
	cr_assert_eq(deliver(v, &t1, NOW), PG_E_SIG_DEFERRED);
	cr_assert_eq(deliver(v, &t2, NOW + 10 * PG_USEC_PER_SEC), PG_E_SIG_DEFERRED);
	/* one microsecond before t1's timeout: both wait */
	verify_deferred_run(v, NOW + TIMEOUT - 1, accept_and_store, &calls);
	cr_assert_eq(stats(v).queue_len, 2);
	cr_assert_eq(stats(v).by_reason[VERIFY_UNKNOWN_KEY], 0);
	/* at it: t1 leaves, counted; t2 has 10 s left */
	verify_deferred_run(v, NOW + TIMEOUT, accept_and_store, &calls);
	cr_assert_eq(stats(v).queue_len, 1);
	cr_assert_eq(stats(v).by_reason[VERIFY_UNKNOWN_KEY], 1);
	verify_deferred_run(v, NOW + TIMEOUT + 10 * PG_USEC_PER_SEC, accept_and_store, &calls);
	cr_assert_eq(stats(v).queue_len, 0);
	cr_assert_eq(stats(v).by_reason[VERIFY_UNKNOWN_KEY], 2);
	/* dave turning up later finds nothing left to accept */
	publish(&dave, PG_KEYTAB_ROLE_MEMBER, WIDE_NB, WIDE_NA);
	cr_assert_eq(verify_deferred_run(v, NOW + 2 * TIMEOUT, accept_and_store, &calls), 0);
	cr_assert_eq(calls, 0);
	cr_assert(!held(&t1));
	verify_destroy(v);
}

Test(verify, full_deferred_queue_drops_and_counts)
{
	static struct fx_rec t[4];
	struct verify_config c = config(VERIFY_BACKEND_SODIUM);
	struct verify *v;
	int calls = 0;

	c.defer_max = 2;
	v = verifier_with(&c);
	for (int i = 0; i < 4; i++) {
		fx_rec_init(&t[i], dave.name, NULL, 1, (uint32_t)i);
		fx_sign(&t[i], &dave);
	}
	cr_assert_eq(deliver(v, &t[0], NOW), PG_E_SIG_DEFERRED);
	cr_assert_eq(deliver(v, &t[1], NOW), PG_E_SIG_DEFERRED);
	cr_assert_eq(deliver(v, &t[2], NOW), PG_E_SIG_QUEUE_FULL);
	cr_assert_eq(stats(v).by_reason[VERIFY_QUEUE_FULL], 1);
	cr_assert_eq(stats(v).queue_len, 2);
	/* the dropped one is gone for good; the two queued are accepted when dave appears */
	publish(&dave, PG_KEYTAB_ROLE_MEMBER, WIDE_NB, WIDE_NA);
	cr_assert_eq(verify_deferred_run(v, NOW + 1, accept_and_store, &calls), 2);
	cr_assert(held(&t[0]) && held(&t[1]) && !held(&t[2]));
	verify_destroy(v);

	/* the byte bound: room for one record */
	fx_rec_init(&t[2], frank.name, NULL, 1, 9);
	fx_sign_raw(&t[2], &frank, pg_identity_key_id(frank.id));
	t[2].sd[PG_SECDATA_OFF_KEY_ID] ^= 1; /* an unknown key id */
	fx_seal(&t[2]);
	fx_rec_init(&t[3], frank.name, NULL, 1, 10);
	fx_sign_raw(&t[3], &frank, pg_identity_key_id(frank.id));
	t[3].sd[PG_SECDATA_OFF_KEY_ID] ^= 1;
	c.defer_max = 0;
	c.defer_bytes_max = t[2].enc_len + 8;
	v = verifier_with(&c);
	cr_assert_eq(deliver(v, &t[2], NOW), PG_E_SIG_DEFERRED);
	cr_assert_eq(deliver(v, &t[3], NOW), PG_E_SIG_QUEUE_FULL);
	cr_assert_eq(stats(v).by_reason[VERIFY_QUEUE_FULL], 1);
	verify_destroy(v);
}

/* ---- the key table segment ------------------------------------------------------------------ */

enum seg_damage { SEG_MAGIC, SEG_GROWN, SEG_TINY, SEG_MISSING, SEG_BAD_FD };

struct seg_row {
	int no;
	const char *what;
	enum seg_damage how;
	int want;
};

static const struct seg_row seg_rows[] = {
	{ 1, "wrong magic", SEG_MAGIC, PG_E_KEYTAB_MAGIC },
	{ 2, "segment larger than its header says", SEG_GROWN, PG_E_KEYTAB_SIZE },
	{ 3, "segment shorter than a header", SEG_TINY, PG_E_KEYTAB_TOO_SMALL },
	{ 4, "no such segment name", SEG_MISSING, -ENOENT },
	{ 5, "not a descriptor", SEG_BAD_FD, -EBADF },
};

Test(verify, verifier_does_not_start_on_a_bad_key_table)
{
	for (size_t i = 0; i < PG_ARRAY_SIZE(seg_rows); i++) {
		const struct seg_row *row = &seg_rows[i];
		struct verify_config c = config(VERIFY_BACKEND_AUTO);
		struct pg_keytab *k2 = NULL;
		struct verify *v = (struct verify *)&c; /* must come back NULL */
		uint32_t bad = 0x12345678;
		int fd = -1, err;

		if (row->how == SEG_MAGIC || row->how == SEG_GROWN) {
			cr_assert_eq(pg_keytab_create(NULL, 64, &k2), 0);
			fd = pg_keytab_fd(k2);
			if (row->how == SEG_MAGIC)
				cr_assert_eq(pwrite(fd, &bad, 4, 0), 4);
			else
				cr_assert_eq(ftruncate(fd, 128 + 64 * 128 + 4096), 0);
		} else if (row->how == SEG_TINY) {
			fd = memfd_create("pg-tiny", MFD_CLOEXEC);
			cr_assert_geq(fd, 0);
			/* a memfd starts at 0777, which attach refuses before its size */
			cr_assert_eq(fchmod(fd, 0600), 0);
			cr_assert_eq(ftruncate(fd, 100), 0);
		} else if (row->how == SEG_MISSING) {
			c.keytab_name = "/pg-verify-test-no-such-segment";
		} else {
			fd = 1000000;
		}
		c.keytab_fd = fd;
		err = verify_create(&c, &v);
		cr_expect_eq(err, row->want, "row %d (%s): got %s (%d)", row->no, row->what,
			     pg_strerror_name(err), err);
		cr_expect_null(v, "row %d", row->no);
		if (row->how == SEG_TINY)
			close(fd);
		pg_keytab_destroy(k2);
	}
}

Test(verify, bad_configs_are_refused)
{
	struct verify_config c;
	struct verify *v;

	c = config(VERIFY_BACKEND_SODIUM);
	c.keytab_fd = -1;
	cr_assert_eq(verify_create(&c, &v), -EINVAL);
	c = config(VERIFY_BACKEND_SODIUM);
	c.root_cache_size = 100; /* not a power of two */
	cr_assert_eq(verify_create(&c, &v), -EINVAL);
	c = config(VERIFY_BACKEND_SODIUM);
	c.defer_max = VERIFY_DEFER_MAX + 1;
	cr_assert_eq(verify_create(&c, &v), -EINVAL);
	c = config(VERIFY_BACKEND_SODIUM);
	c.limits.max_record_size = 10;
	cr_assert_eq(verify_create(&c, &v), PG_E_BAD_LIMIT);
	cr_assert_null(v);
}

/* ---- bursts ---------------------------------------------------------------------------------- */

Test(verify, burst_answers_like_one_by_one)
{
	enum { N = 45 };
	static struct fx_rec t[N];
	static struct pg_record views[N];
	int res[N], want[N];
	unsigned want_ok = 0;
	struct verify *v = verifier(VERIFY_BACKEND_SODIUM);

	for (int i = 0; i < N; i++) {
		struct fx_member *who = i % 5 == 3 ? &dave : &alice;

		fx_rec_init(&t[i], who->name, NULL, 1, (uint32_t)i);
		fx_sign(&t[i], who);
		fx_seal(&t[i]);
		want[i] = who == &dave ? PG_E_SIG_DEFERRED : 0;
		if (i % 7 == 2 && who == &alice) {
			t[i].enc[t[i].enc_len - 1] ^= 1; /* the signature's last byte */
			want[i] = PG_E_SIG_BAD;
		}
		if (i % 5 == 1 && want[i] == 0) {
			store(&t[i].view); /* held already */
			want[i] = PG_E_STALE;
		}
		want_ok += want[i] == 0;
		views[i] = t[i].view;
	}
	cr_assert_eq(verify_burst(v, views, N, NOW, res), want_ok);
	for (int i = 0; i < N; i++)
		cr_expect_eq(res[i], want[i], "record %d: %s, want %s", i, pg_strerror_name(res[i]),
			     pg_strerror_name(want[i]));
	verify_destroy(v);
}

Test(verify, auto_backend_follows_the_environment)
{
	struct verify *v;

	unsetenv("PG_VERIFY_BACKEND");
	v = verifier(VERIFY_BACKEND_AUTO);
	cr_assert_eq(verify_backend_of(v), VERIFY_BACKEND_SODIUM);
	verify_destroy(v);
	setenv("PG_VERIFY_BACKEND", "openssl", 1);
	v = verifier(VERIFY_BACKEND_AUTO);
	cr_assert_eq(verify_backend_of(v), VERIFY_BACKEND_OPENSSL);
	verify_destroy(v);
	unsetenv("PG_VERIFY_BACKEND");
}

Test(verify, records_beyond_the_verifier_limits_are_rejected_not_queued)
{
	static uint8_t big[2000];
	static struct fx_rec t;
	struct verify_config c = config(VERIFY_BACKEND_SODIUM);
	struct verify *v;

	c.limits.max_record_size = PG_RECORD_SIZE_MIN; /* 1 KiB: below what the decoder allowed */
	v = verifier_with(&c);
	for (int i = 0; i < 2; i++) {
		struct fx_member *who = i == 0 ? &alice : &dave; /* known key, then unknown */

		fx_rec_init(&t, who->name, NULL, 1, (uint32_t)i);
		t.r.payload = big;
		t.r.payload_len = sizeof(big);
		fx_sign(&t, who);
		cr_assert_eq(deliver(v, &t, NOW), PG_E_TOO_LARGE, "%s", who->name);
		cr_assert(!held(&t));
	}
	cr_assert_eq(stats(v).by_reason[VERIFY_MALFORMED], 2);
	cr_assert_eq(stats(v).queue_len, 0);
	verify_destroy(v);
}

Test(verify, reason_names_cover_every_reason)
{
	for (int r = 0; r < VERIFY_REASONS; r++) {
		cr_assert_neq(strcmp(verify_reason_name((enum verify_reason)r), "none"), 0);
		cr_assert_not_null(verify_reason_name((enum verify_reason)r));
	}
	cr_assert_eq(verify_reason_of(0), VERIFY_REASONS);
	cr_assert_eq(verify_reason_of(PG_E_STALE), VERIFY_REASONS);
	cr_assert_eq(verify_reason_of(PG_E_SIG_DEFERRED), VERIFY_REASONS);
	cr_assert_eq(verify_reason_of(PG_E_SIG_NOT_ADMIN), VERIFY_NOT_ADMIN);
}
