/*
 * identity_priv.h - what the identity manager's files share and nothing else includes:
 * the store and identity structs, the certificate builder/checker (identity_cert.c) and
 * the store's commit step that creation and import both end with (identity.c).
 */
#ifndef PG_IDENTITY_PRIV_H
#define PG_IDENTITY_PRIV_H

#include <stdbool.h>

#include "identity.h"

enum {
	KEY_FILE_MAX = 4096,	 /* an Ed25519 PKCS#8 PEM is ~120 bytes */
	CERT_FILE_MAX = 8192,	 /* the certificate PEM, with a 149-byte classifier ~1 KiB */
	META_FILE_MAX = 4096,	 /* friendly name <= 1020 bytes plus keys */
	EXPORT_FILE_MAX = 65536, /* an export file is ~2 KiB */
};

#define KEY_FILE     "key.pem"
#define CERT_FILE    "cert.pem"
#define META_FILE    "meta"
#define DEFAULT_FILE "default"

struct pg_identity_store {
	int dirfd;
	char path[4096];
	char err[PG_IDENTITY_ERRMSG_SIZE];
};

struct pg_identity {
	char peer_name[PG_PEERNAME_SIZE];
	struct pg_peername pn;
	char friendly_name[PG_FRIENDLY_NAME_SIZE];
	EVP_PKEY *pkey;
	X509 *cert;
	uint8_t pub[PG_IDENTITY_PUBKEY_LEN];
	uint8_t key_id[PG_IDENTITY_KEY_ID_LEN];
	uint8_t *spki_der; /* OPENSSL_malloc'd */
	size_t spki_len;
	uint8_t *cert_der; /* OPENSSL_malloc'd */
	size_t cert_len;
	char *cert_pem; /* OPENSSL_malloc'd, NUL-terminated */
	int64_t not_before, not_after;
};

/* Records a detail message (with OpenSSL's queued reason, which it drains) and returns err. */
int pg_idstore_fail(struct pg_identity_store *st, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* 0 if the store has no entry peer_name, PG_E_IDENTITY_EXISTS if it has, or -errno. */
int pg_idstore_absent(struct pg_identity_store *st, const char *peer_name);

/*
 * Writes a complete identity (key, certificate, friendly name) under a temp name, then
 * renames it to peer_name (never over an existing one: PG_E_IDENTITY_EXISTS) and applies
 * flags' default rule. The caller has checked that key, cert and name agree. *committed
 * becomes true once the identity is in the store (a later error is the default rule's).
 */
int pg_idstore_commit(struct pg_identity_store *st, const char *peer_name, EVP_PKEY *pkey,
		      X509 *cert, const char *friendly_name, unsigned flags, bool *committed);

/* Finds key= in "key=value\n" lines; copies value (NUL-terminated) to out[size].
 * 0, -ENOENT, -EINVAL (malformed or duplicate line), -ENAMETOOLONG (value too long). */
int pg_idstore_kv_get(const char *text, size_t len, const char *key, char *out, size_t size);

/* Derives the public forms of pkey (must be Ed25519) into id: pub, key_id, spki_der.
 * 0, PG_E_IDENTITY_CORRUPT (not Ed25519) or PG_E_CRYPTO. */
int pg_idkey_derive(EVP_PKEY *pkey, struct pg_identity *id);

/* Builds and signs the identity certificate of pkey for peer_name over [nb, na]. */
int pg_idcert_build(EVP_PKEY *pkey, const char *peer_name, int64_t nb, int64_t na, X509 **out);

/* Checks cert is v3, self-signed by pkey, for pkey's key, with CN = peer_name. */
bool pg_idcert_matches(X509 *cert, EVP_PKEY *pkey, const char *peer_name);

/* Reads the validity of cert as Unix seconds. 0 or PG_E_CRYPTO. */
int pg_idcert_validity(X509 *cert, int64_t *nb, int64_t *na);

/* Fills id's cert_der and cert_pem from id->cert. 0 or PG_E_CRYPTO. */
int pg_idcert_encode(struct pg_identity *id);

#endif
