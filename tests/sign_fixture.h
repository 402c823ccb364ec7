/*
 * sign_fixture.h - what test_sign.c and test_verify.c share: a scratch identity store with
 * named members, and test records that are built field by field, signed, encoded, and decoded
 * back into the view a receiving node would verify.
 */
#ifndef PG_SIGN_FIXTURE_H
#define PG_SIGN_FIXTURE_H

#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "identity.h"
#include "pg_error.h"
#include "pg_time.h"
#include "record.h"
#include "secdata.h"
#include "sign.h"

#define FX_GRAPH "graph-under-test"
#define FX_T0	 1700000000000000ull /* µs: 2023-11-14 */
#define FX_HOUR	 (3600ull * PG_USEC_PER_SEC)

struct fx_member {
	char name[PG_PEERNAME_SIZE];
	struct pg_identity *id;
	struct pg_signer *signer;
};

/* A record under test: its parts, its security data, its encoding and the decoded view. */
struct fx_rec {
	struct pg_record r; /* as built: points into the arrays below */
	char creator[PG_PEERNAME_SIZE];
	char modifier[PG_PEERNAME_SIZE];
	uint8_t attrs[256];
	uint8_t payload[64];
	uint8_t sd[PG_SECDATA_LEN_MAX + 64];
	uint8_t enc[8192];
	size_t enc_len;
	struct pg_record view; /* decoded from enc */
};

static char fx_tmp[64];
static struct pg_identity_store *fx_store;

static inline int fx_rm(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

static inline void fx_setup(void)
{
	char dir[96];

	strcpy(fx_tmp, "/tmp/pg-sign-XXXXXX");
	cr_assert_not_null(mkdtemp(fx_tmp));
	snprintf(dir, sizeof(dir), "%s/store", fx_tmp);
	cr_assert_eq(pg_identity_store_open(dir, &fx_store), 0);
}

static inline void fx_teardown(void)
{
	pg_identity_store_close(fx_store);
	fx_store = NULL;
	if (fx_tmp[0])
		nftw(fx_tmp, fx_rm, 16, FTW_DEPTH | FTW_PHYS);
	fx_tmp[0] = '\0';
}

static inline void fx_member_new(struct fx_member *m, const char *classifier)
{
	struct pg_signer_config sc = { .graph_id = FX_GRAPH, .graph_id_len = strlen(FX_GRAPH) };
	/* certificates valid from a day before the test records (the signer checks them) */
	struct pg_identity_create_opts o = {
		.flags = PG_IDENTITY_NOT_DEFAULT,
		.not_before = (int64_t)(FX_T0 / PG_USEC_PER_SEC) - 86400,
	};
	int err;

	err = pg_identity_create(fx_store, classifier, NULL, &o, m->name);
	cr_assert_eq(err, 0, "create %s: %s", classifier, pg_strerror(err));
	cr_assert_eq(pg_identity_open(fx_store, m->name, &m->id), 0);
	cr_assert_eq(pg_signer_create(m->id, &sc, &m->signer), 0);
}

static inline void fx_member_free(struct fx_member *m)
{
	pg_signer_destroy(m->signer);
	pg_identity_close(m->id);
	memset(m, 0, sizeof(*m));
}

/* Version 1 by creator, or version `version` last touched by modifier (NULL: never updated).
 * `n` varies the record id and payload. Unsigned: call fx_sign, then fx_seal. */
static inline void fx_rec_init(struct fx_rec *t, const char *creator, const char *modifier,
			       uint32_t version, uint32_t n)
{
	struct pg_attr a[2] = {
		{ .name = "size", .name_len = 4, .type = PG_ATTR_INT, .v.i = 42 + n },
		{ .name = "title",
		  .name_len = 5,
		  .type = PG_ATTR_STRING,
		  .v.str = { .ptr = "hello", .len = 5 } },
	};
	long alen;

	memset(t, 0, sizeof(*t));
	snprintf(t->creator, sizeof(t->creator), "%s", creator);
	snprintf(t->modifier, sizeof(t->modifier), "%s", modifier ? modifier : "");
	alen = pg_attrs_encode(a, 2, t->attrs, sizeof(t->attrs));
	cr_assert_gt(alen, 0);
	for (int i = 0; i < 16; i++) {
		t->r.type.b[i] = (uint8_t)(0xa0 + i);
		t->r.id.b[i] = (uint8_t)(i * 7 + n * 13 + (n >> 8));
	}
	t->r.id.b[15] = (uint8_t)n;
	t->r.id.b[14] = (uint8_t)(n >> 8);
	snprintf((char *)t->payload, sizeof(t->payload), "payload %u", n);
	t->r.version = version;
	t->r.nattrs = 2;
	t->r.created_us = FX_T0;
	t->r.modified_us = FX_T0 + version;
	t->r.expires_us = FX_T0 + FX_HOUR;
	t->r.creator = t->creator;
	t->r.creator_len = (uint16_t)strlen(t->creator);
	t->r.modifier = t->modifier;
	t->r.modifier_len = (uint16_t)strlen(t->modifier);
	t->r.attrs = t->attrs;
	t->r.attrs_len = (uint32_t)alen;
	t->r.payload = t->payload;
	t->r.payload_len = (uint32_t)strlen((char *)t->payload);
}

/* Attaches len bytes of security data (copied) to the record. */
static inline void fx_set_secdata(struct fx_rec *t, const uint8_t *sd, size_t len)
{
	cr_assert_leq(len, sizeof(t->sd));
	memmove(t->sd, sd, len);
	t->r.secdata = t->sd;
	t->r.secdata_len = (uint16_t)len;
}

/* Signs the record with the member's signer (single signature). */
static inline void fx_sign(struct fx_rec *t, struct fx_member *m)
{
	long n = pg_signer_sign_record(m->signer, &t->r, t->sd, sizeof(t->sd));

	cr_assert_eq(n, PG_SECDATA_SINGLE_LEN, "sign: %s", pg_strerror((int)n));
	t->r.secdata = t->sd;
	t->r.secdata_len = (uint16_t)n;
}

/* Encodes the record and decodes it into t->view: what a receiving node verifies. */
static inline void fx_seal(struct fx_rec *t)
{
	struct pg_record_limits lim;
	long n;
	int err;

	pg_record_limits_default(&lim);
	n = pg_record_encode(&t->r, &lim, t->enc, sizeof(t->enc));
	cr_assert_gt(n, 0, "encode: %s", pg_strerror((int)n));
	t->enc_len = (size_t)n;
	err = pg_record_decode(t->enc, t->enc_len, &lim, &t->view);
	cr_assert_eq(err, 0, "decode: %s", pg_strerror(err));
}

/* The message a single signature covers, for this record: prefix || canonical bytes. */
static inline size_t fx_record_msg(const struct fx_rec *t, const uint8_t *graph_tag, uint8_t *out,
				   size_t cap)
{
	struct pg_record_limits lim;
	long n;

	pg_record_limits_default(&lim);
	pg_secdata_record_prefix(graph_tag, out);
	n = pg_record_encode_canonical(&t->r, &lim, out + PG_SECDATA_RECORD_PREFIX_LEN,
				       cap - PG_SECDATA_RECORD_PREFIX_LEN);
	cr_assert_gt(n, 0);
	return PG_SECDATA_RECORD_PREFIX_LEN + (size_t)n;
}

/* Signs the record as `by` without the signer's checks (a forgery or a misbehaving member),
 * naming key_id in the security data. */
static inline void fx_sign_raw(struct fx_rec *t, struct fx_member *by, const uint8_t *key_id)
{
	static uint8_t msg[8192];
	uint8_t sig[PG_SECDATA_SIG_LEN];
	struct pg_secdata sd = { .kind = PG_SECDATA_SINGLE, .key_id = key_id, .sig = sig };
	size_t len = fx_record_msg(t, pg_signer_graph_tag(by->signer), msg, sizeof(msg));

	cr_assert_eq(pg_identity_sign(by->id, msg, len, sig), 0);
	cr_assert_eq(pg_secdata_encode(&sd, t->sd, sizeof(t->sd)), PG_SECDATA_SINGLE_LEN);
	t->r.secdata = t->sd;
	t->r.secdata_len = PG_SECDATA_SINGLE_LEN;
}

#endif
