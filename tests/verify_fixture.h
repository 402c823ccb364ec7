/*
 * verify_fixture.h - what test_verify.c and test_verify_bundle.c share: a key table with the
 * test graph's members, a version table, and a delivery that stores only what the verifier
 * accepted (as the dataplane does).
 *
 * Members, published in the key table by vf_setup():
 *   alice, bob  members          carol  administrator        ivy  inviting member
 *   eve         admin, revoked   frank  member whose window the tests move
 *   dave        not published (his records are deferred until a test publishes him)
 */
#ifndef PG_VERIFY_FIXTURE_H
#define PG_VERIFY_FIXTURE_H

#include <errno.h>

#include "keytab.h"
#include "pg_assert.h"
#include "rvt.h"
#include "sign_fixture.h"
#include "verify.h"

#define WIDE_NB (FX_T0 - 24 * FX_HOUR)
#define WIDE_NA (FX_T0 + 24 * FX_HOUR)
#define NOW	5000000ull /* the verifier's clock (µs), independent of record times */
#define TIMEOUT (30 * PG_USEC_PER_SEC)

static struct pg_keytab *kt;
static struct rvt *rvt;
static struct rvt_thread *th;
static struct fx_member alice, bob, carol, dave, eve, frank, ivy;

static const enum verify_backend backends[] = { VERIFY_BACKEND_SODIUM, VERIFY_BACKEND_OPENSSL };

static inline void publish(struct fx_member *m, enum pg_keytab_role role, uint64_t nb, uint64_t na)
{
	int err = pg_keytab_publish(kt, pg_identity_key_id(m->id), pg_identity_public_key(m->id),
				    role, nb, na);

	cr_assert_eq(err, 0, "publish %s: %s", m->name, pg_strerror(err));
}

static inline void body_free(void *ctx, const struct pg_record *body)
{
	(void)ctx;
	free((void *)(uintptr_t)body);
}

static inline void vf_setup(void)
{
	struct rvt_config rc = { .capacity = 4096, .max_threads = 2, .body_free = body_free };

	fx_setup();
	fx_member_new(&alice, "alice");
	fx_member_new(&bob, "bob");
	fx_member_new(&carol, "carol");
	fx_member_new(&dave, "dave");
	fx_member_new(&eve, "eve");
	fx_member_new(&frank, "frank");
	fx_member_new(&ivy, "ivy");
	cr_assert_eq(pg_keytab_create(NULL, 64, &kt), 0);
	publish(&alice, PG_KEYTAB_ROLE_MEMBER, WIDE_NB, WIDE_NA);
	publish(&bob, PG_KEYTAB_ROLE_MEMBER, WIDE_NB, WIDE_NA);
	publish(&carol, PG_KEYTAB_ROLE_ADMIN, WIDE_NB, WIDE_NA);
	publish(&eve, PG_KEYTAB_ROLE_ADMIN, WIDE_NB, WIDE_NA);
	cr_assert_eq(pg_keytab_revoke(kt, pg_identity_key_id(eve.id)), 0);
	publish(&frank, PG_KEYTAB_ROLE_MEMBER, WIDE_NB, WIDE_NA);
	publish(&ivy, PG_KEYTAB_ROLE_INVITER, WIDE_NB, WIDE_NA);
	cr_assert_eq(rvt_create(&rc, &rvt), 0);
	cr_assert_eq(rvt_thread_register(rvt, &th), 0);
}

static inline void vf_teardown(void)
{
	if (th)
		rvt_thread_unregister(th);
	th = NULL;
	rvt_destroy(rvt);
	rvt = NULL;
	pg_keytab_destroy(kt);
	kt = NULL;
	fx_member_free(&alice);
	fx_member_free(&bob);
	fx_member_free(&carol);
	fx_member_free(&dave);
	fx_member_free(&eve);
	fx_member_free(&frank);
	fx_member_free(&ivy);
	fx_teardown();
}

/* ---- helpers ------------------------------------------------------------------------------ */

static inline struct verify_config config(enum verify_backend b)
{
	struct verify_config c = {
		.graph_id = FX_GRAPH,
		.graph_id_len = strlen(FX_GRAPH),
		.keytab_fd = pg_keytab_fd(kt),
		.rvt = th,
		.backend = b,
		.defer_timeout_us = TIMEOUT,
	};

	return c;
}

static inline struct verify *verifier_with(const struct verify_config *c)
{
	struct verify *v;
	int err = verify_create(c, &v);

	cr_assert_eq(err, 0, "verify_create: %s", pg_strerror(err));
	return v;
}

static inline struct verify *verifier(enum verify_backend b)
{
	struct verify_config c = config(b);

	return verifier_with(&c);
}

static inline struct pg_key key_of(const struct pg_record *r)
{
	return pg_record_key_of(pg_graph_key(FX_GRAPH, strlen(FX_GRAPH)), r);
}

/* Stores a verified record the way the dataplane does: an owned copy raised in the table. */
static inline void store(const struct pg_record *view)
{
	struct pg_record_limits lim;
	size_t len = pg_record_encoded_size(view);
	struct pg_record *body = malloc(sizeof(*body) + len);
	uint8_t *bytes = (uint8_t *)(body + 1);
	int err;

	cr_assert_not_null(body);
	pg_record_limits_default(&lim);
	cr_assert_eq(pg_record_encode(view, &lim, bytes, len), (long)len);
	cr_assert_eq(pg_record_decode(bytes, len, &lim, body), 0);
	err = rvt_raise(th, key_of(body), body);
	cr_assert_eq(err, 0, "raise: %s", pg_strerror(err));
}

/* Seals (encode + decode) and verifies the record; stores it only if it was verified. */
static inline int deliver(struct verify *v, struct fx_rec *t, uint64_t now)
{
	int err;

	fx_seal(t);
	err = verify_record(v, &t->view, now);
	if (err == 0)
		store(&t->view);
	return err;
}

/* The version table holds this record at this version. */
static inline bool held(const struct fx_rec *t)
{
	struct rvt_view w;

	return rvt_lookup(th, key_of(&t->r), &w) == 0 && w.version == t->r.version;
}

static inline struct verify_stats stats(const struct verify *v)
{
	struct verify_stats s;

	verify_stats_read(v, &s);
	return s;
}

static inline void accept_and_store(void *ctx, const struct pg_record *rec)
{
	(*(int *)ctx)++;
	store(rec);
}

#endif
