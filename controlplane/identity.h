/*
 * identity.h - the identity manager: Ed25519 identities in an on-disk store.
 *
 * An identity (FEATURES.md §2) is an Ed25519 key pair, a classifier and a friendly name; its
 * peer name is `authority.classifier` (peername.h) and it carries a self-signed X.509 v3
 * identity certificate (subject CN = the peer name). Identities live in a store directory the
 * caller chooses; one identity of the store may be its default.
 *
 * On-disk layout (every directory 0700, every file 0600, every write atomic):
 *
 *   <store>/                      created 0700 by pg_identity_store_open
 *     default                     "<peer name>\n" of the default identity (absent: none)
 *     <peer name>/                one directory per identity, named by its peer name
 *       key.pem                   PKCS#8 "PRIVATE KEY" PEM, unencrypted, mode 0600; a key
 *                                 file readable by group or others is refused on load
 *       cert.pem                  the identity certificate, PEM
 *       meta                      "format=1\nfriendly_name=<UTF-8>\n"
 *     .<tag>.tmp-<hex>/           an identity being created or imported (renamed last)
 *     .<tag>.tmp-<hex>            a file being replaced (renamed over its target)
 *
 * An identity appears in the store only by the rename of its complete temp directory, so a
 * crash never leaves a half-written identity; pg_identity_store_open removes leftover temp
 * directories. The store is for one process at a time and a handle is not thread-safe.
 *
 * Certificate validity: [not_before, not_after] in Unix seconds; "infinite" is not_before +
 * 1000 calendar years (the project's convention, FEATURES.md §3), the default at creation.
 *
 * Export format and its KDF: see identity_export.c.
 */
#ifndef PG_IDENTITY_H
#define PG_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "peername.h"

struct pg_identity_store;
struct pg_identity;

enum {
	PG_IDENTITY_STORE_MAX = 1024,	   /* identities one store holds */
	PG_IDENTITY_PUBKEY_LEN = 32,	   /* raw Ed25519 public key */
	PG_IDENTITY_KEY_ID_LEN = 32,	   /* SHA-256 of the raw public key */
	PG_IDENTITY_SIG_LEN = 64,	   /* Ed25519 signature */
	PG_IDENTITY_PASSWORD_MAX = 1024,   /* bytes of an export password */
	PG_IDENTITY_INFINITE_YEARS = 1000, /* "infinite" validity */
	PG_IDENTITY_ERRMSG_SIZE = 4352,	   /* detail message, with room for two paths */
};

/* Who becomes the default identity when one is created or imported. */
enum pg_identity_flags {
	PG_IDENTITY_DEFAULT_IF_NONE = 0x0, /* (0) default only if the store has none yet */
	PG_IDENTITY_MAKE_DEFAULT = 0x1,	   /* always becomes the default */
	PG_IDENTITY_NOT_DEFAULT = 0x2,	   /* never becomes the default */
};

/* Options of pg_identity_create; a NULL pointer means all defaults. */
struct pg_identity_create_opts {
	unsigned flags;	    /* enum pg_identity_flags */
	int64_t not_before; /* certificate validity start, Unix seconds; 0 = now */
	int64_t not_after;  /* end; 0 = infinite (not_before + 1000 years); <= year 9999 */
};

/* --- the store --- */

/* Opens (creating it 0700 if absent; its parent must exist) the store at dir. 0 or -errno. */
int pg_identity_store_open(const char *dir, struct pg_identity_store **out);

/* Closes a store (NULL is fine). Open identities stay valid. */
void pg_identity_store_close(struct pg_identity_store *st);

/* The detail of the store's last failure (paths, OpenSSL's reason, the fix), "" after a
 * success. Valid until the next call on the store. */
const char *pg_identity_store_errmsg(const struct pg_identity_store *st);

/* Creates an identity; its peer name goes to peer_name (may be NULL). friendly_name may be
 * NULL (= ""). 0, a peername.h limit error, PG_E_VALIDITY, PG_E_IDENTITY_STORE_FULL, PG_E_CRYPTO or
 * -errno. If the identity was stored but making it the default failed, that error is returned
 * and peer_name is filled. */
int pg_identity_create(struct pg_identity_store *st, const char *classifier,
		       const char *friendly_name, const struct pg_identity_create_opts *opts,
		       char peer_name[PG_PEERNAME_SIZE]);

/* Lists peer names, sorted, into names[0..cap). Returns how many the store holds (may exceed
 * cap: call again with more room) or -errno. names may be NULL when cap is 0. */
int pg_identity_list(struct pg_identity_store *st, char (*names)[PG_PEERNAME_SIZE], size_t cap);

/* Deletes an identity (clearing the default if it was). 0, PG_E_IDENTITY_NOT_FOUND, -errno. */
int pg_identity_delete(struct pg_identity_store *st, const char *peer_name);

/* Copies the friendly name to out. 0, PG_E_IDENTITY_NOT_FOUND, PG_E_IDENTITY_CORRUPT. */
int pg_identity_get_friendly_name(struct pg_identity_store *st, const char *peer_name,
				  char out[PG_FRIENDLY_NAME_SIZE]);

/* Sets the friendly name (atomically). 0, a friendly-name error, _NOT_FOUND or -errno. */
int pg_identity_set_friendly_name(struct pg_identity_store *st, const char *peer_name,
				  const char *friendly_name);

/* Copies the default identity's peer name to out. 0, PG_E_NO_DEFAULT or -errno. */
int pg_identity_get_default(struct pg_identity_store *st, char out[PG_PEERNAME_SIZE]);

/* Makes peer_name the default; NULL clears the default. 0, _NOT_FOUND or -errno. */
int pg_identity_set_default(struct pg_identity_store *st, const char *peer_name);

/* --- export / import (identity_export.c) --- */

/* Writes the identity, its key encrypted under password, to path (atomically, mode 0600;
 * replaces an existing file). 0, PG_E_PASSWORD_LEN, _NOT_FOUND, PG_E_KEY_PERMS, -errno. */
int pg_identity_export(struct pg_identity_store *st, const char *peer_name, const char *path,
		       const char *password);

/* Restores an exported identity into the store; its peer name goes to peer_name (may be
 * NULL); flags as at creation. On failure the store is unchanged: PG_E_BAD_PASSWORD,
 * PG_E_EXPORT_CORRUPT, PG_E_EXPORT_FORMAT, PG_E_IDENTITY_EXISTS, PG_E_PASSWORD_LEN, -errno. */
int pg_identity_import(struct pg_identity_store *st, const char *path, const char *password,
		       unsigned flags, char peer_name[PG_PEERNAME_SIZE]);

/* --- an open identity: what signing and key tables need --- */

/* Loads an identity with its private key and checks that key, certificate and name agree.
 * 0, _NOT_FOUND, PG_E_KEY_PERMS (see the store's message for the fix), _IDENTITY_CORRUPT. */
int pg_identity_open(struct pg_identity_store *st, const char *peer_name, struct pg_identity **out);

/* Frees an open identity and its key (NULL is fine). */
void pg_identity_close(struct pg_identity *id);

/* Signs msg with the identity key (pure Ed25519). 0 or PG_E_CRYPTO. */
int pg_identity_sign(const struct pg_identity *id, const void *msg, size_t len,
		     uint8_t sig[PG_IDENTITY_SIG_LEN]);

/*
 * Accessors; they cannot fail. Pointers are borrowed and live until pg_identity_close
 * (EVP_PKEY_up_ref / X509_up_ref to keep the objects longer).
 */
const char *pg_identity_peer_name(const struct pg_identity *id);
const char *pg_identity_authority(const struct pg_identity *id); /* 40 hex chars */
const char *pg_identity_classifier(const struct pg_identity *id);
const char *pg_identity_friendly_name(const struct pg_identity *id); /* as loaded */
EVP_PKEY *pg_identity_pkey(const struct pg_identity *id);	     /* private key */
const uint8_t *pg_identity_public_key(const struct pg_identity *id); /* 32 bytes */
const uint8_t *pg_identity_key_id(const struct pg_identity *id);     /* SHA-256(pubkey) */
const uint8_t *pg_identity_spki_der(const struct pg_identity *id, size_t *len);
X509 *pg_identity_cert(const struct pg_identity *id);
const uint8_t *pg_identity_cert_der(const struct pg_identity *id, size_t *len);
const char *pg_identity_cert_pem(const struct pg_identity *id); /* NUL-terminated */
/* The certificate's validity period, Unix seconds. */
void pg_identity_validity(const struct pg_identity *id, int64_t *not_before, int64_t *not_after);

#endif
