/*
 * identity_export.c - moving an identity between stores: a password-encrypted export file.
 *
 * THE FILE is three PEM blocks, in this order:
 *
 *   -----BEGIN ENCRYPTED PRIVATE KEY-----   PKCS#8 EncryptedPrivateKeyInfo (RFC 5958), PBES2
 *   -----BEGIN CERTIFICATE-----             the identity certificate, as stored
 *   -----BEGIN PEERGRAPH IDENTITY-----      base64 of "key=value\n" lines:
 *       format=1
 *       peer_name=<authority.classifier>
 *       friendly_name=<UTF-8>
 *       sha256=<hex SHA-256 over a domain tag, the two DER blocks and the lines above>
 *
 * The key comes first so the stock tool reads the file as a key and stops there:
 * `openssl pkey -in F -passin pass:PW -noout` succeeds, and fails with a wrong password.
 *
 * KDF CHOICE: PBES2 with PBKDF2-HMAC-SHA256 at 600 000 iterations (OWASP's 2023 figure for
 * PBKDF2-SHA256), a random 16-byte salt, and AES-256-CBC. Not scrypt, although it is the
 * stronger KDF: OpenSSL 3.0 decrypts PKCS#8 with scrypt under a fixed 32 MiB memory cap, and
 * N = 2^15, r = 8 needs 32 MiB + 2 KiB, so `openssl pkey` (and `openssl pkcs8 -scrypt` when
 * writing) refuses such a file; scrypt at N = 2^14 would be readable but is below the bar we
 * set. PBKDF2 at this count costs ~0.15 s here per export or import.
 *
 * WRONG PASSWORD vs DAMAGE: PKCS#8 has no MAC, so a wrong password and a changed ciphertext
 * both end in a failed decryption. The checksum tells them apart: import verifies it first
 * (a mismatch, a missing block or a cut file is PG_E_EXPORT_CORRUPT), and only then decrypts,
 * so a failure to decrypt intact bytes is PG_E_BAD_PASSWORD. The checksum is not a MAC (it
 * guards against accident, not against someone who rewrites the file); the key, certificate
 * and peer name are checked against each other after decryption all the same.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>

#include "fileio.h"
#include "identity_priv.h"
#include "pg_assert.h"
#include "pg_error.h"

enum {
	KDF_ITER = 600000,
	KDF_ITER_MAX = 10000000, /* import refuses more: ~2.5 s of work */
	KDF_SALT_LEN = 16,
	SUM_LEN = 32,
	META_BODY_MAX = 128 + PG_PEERNAME_MAX + PG_FRIENDLY_NAME_MAX_BYTES + 2 * SUM_LEN,
};

#define PEM_KEY	 "ENCRYPTED PRIVATE KEY"
#define PEM_CERT "CERTIFICATE"
#define PEM_META "PEERGRAPH IDENTITY"
#define SUM_TAG	 "peergraph identity export v1"

static int check_password(const char *password)
{
	size_t n = strnlen(password, PG_IDENTITY_PASSWORD_MAX + 1);

	return n == 0 || n > PG_IDENTITY_PASSWORD_MAX ? PG_E_PASSWORD_LEN : 0;
}

static int sum_part(EVP_MD_CTX *ctx, const void *p, size_t len)
{
	uint8_t be[4] = { (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
			  (uint8_t)len };

	return EVP_DigestUpdate(ctx, be, sizeof(be)) && EVP_DigestUpdate(ctx, p, len);
}

/* The checksum of the metadata block, as 64 hex chars + NUL. */
static int checksum(const uint8_t *key, size_t klen, const uint8_t *cert, size_t clen,
		    const char *lines, size_t llen, char hex[2 * SUM_LEN + 1])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t md[SUM_LEN];
	unsigned int mdlen = 0;
	int ok;

	ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
	     sum_part(ctx, SUM_TAG, sizeof(SUM_TAG)) && sum_part(ctx, key, klen) &&
	     sum_part(ctx, cert, clen) && sum_part(ctx, lines, llen) &&
	     EVP_DigestFinal_ex(ctx, md, &mdlen) && mdlen == SUM_LEN;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return PG_E_CRYPTO;
	for (int i = 0; i < SUM_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return 0;
}

/* Encrypts the key as PKCS#8 PBES2 (see KDF CHOICE) and returns its DER. */
static int encrypt_key(EVP_PKEY *pkey, const char *password, uint8_t **der, int *len)
{
	PKCS8_PRIV_KEY_INFO *p8inf;
	unsigned char salt[KDF_SALT_LEN];
	X509_ALGOR *alg = NULL;
	X509_SIG *p8 = NULL;
	int err = PG_E_CRYPTO;

	p8inf = EVP_PKEY2PKCS8(pkey);
	if (!p8inf || RAND_bytes(salt, sizeof(salt)) != 1)
		goto out_free_p8inf;
	/* NULL iv: a random one */
	alg = PKCS5_pbe2_set_iv_ex(EVP_aes_256_cbc(), KDF_ITER, salt, sizeof(salt), NULL,
				   NID_hmacWithSHA256, NULL);
	if (!alg)
		goto out_free_p8inf;
	p8 = PKCS8_set0_pbe_ex(password, (int)strlen(password), p8inf, alg, NULL, NULL);
	if (!p8) {
		X509_ALGOR_free(alg); /* set0 took it only on success */
		goto out_free_p8inf;
	}
	*der = NULL;
	*len = i2d_X509_SIG(p8, der);
	if (*len > 0)
		err = 0;
	X509_SIG_free(p8);
out_free_p8inf:
	PKCS8_PRIV_KEY_INFO_free(p8inf);
	return err;
}

static int meta_lines(const char *peer_name, const char *friendly, char out[META_BODY_MAX])
{
	int n = snprintf(out, META_BODY_MAX, "format=1\npeer_name=%s\nfriendly_name=%s\n",
			 peer_name, friendly);

	PG_ASSERT(n > 0 && n < META_BODY_MAX - (int)sizeof("sha256=\n") - 2 * SUM_LEN);
	return n;
}

int pg_identity_export(struct pg_identity_store *st, const char *peer_name, const char *path,
		       const char *password)
{
	char body[META_BODY_MAX], hex[2 * SUM_LEN + 1];
	struct pg_identity *id;
	uint8_t *key = NULL;
	BIO *bio = NULL;
	char *data;
	long n;
	int klen, blen, err;

	st->err[0] = '\0';
	err = check_password(password);
	if (err)
		return err;
	err = pg_identity_open(st, peer_name, &id);
	if (err)
		return err;
	err = encrypt_key(id->pkey, password, &key, &klen);
	if (err) {
		pg_idstore_fail(st, err, "encrypting the key of %s", peer_name);
		goto out_close_identity;
	}
	blen = meta_lines(peer_name, id->friendly_name, body);
	err = checksum(key, (size_t)klen, id->cert_der, id->cert_len, body, (size_t)blen, hex);
	if (err)
		goto out_free_key;
	blen += snprintf(body + blen, sizeof(body) - (size_t)blen, "sha256=%s\n", hex);

	err = PG_E_CRYPTO;
	bio = BIO_new(BIO_s_mem());
	if (!bio || !PEM_write_bio(bio, PEM_KEY, "", key, klen) ||
	    !PEM_write_bio(bio, PEM_CERT, "", id->cert_der, (long)id->cert_len) ||
	    !PEM_write_bio(bio, PEM_META, "", (unsigned char *)body, blen))
		goto out_free_bio;
	n = BIO_get_mem_data(bio, &data);
	err = pg_file_write_atomic_path(path, data, (size_t)n);
	if (err)
		pg_idstore_fail(st, err, "writing %s", path);
out_free_bio:
	if (err == PG_E_CRYPTO)
		pg_idstore_fail(st, err, "encoding the export of %s", peer_name);
	BIO_free(bio);
out_free_key:
	OPENSSL_free(key);
out_close_identity:
	pg_identity_close(id);
	return err;
}

/* --- import --- */

/* The decoded blocks of an export file. */
struct export_blocks {
	unsigned char *key, *cert, *meta; /* PEM_read_bio's allocations */
	long klen, clen, mlen;
	char peer_name[PG_PEERNAME_SIZE];
	char friendly[PG_FRIENDLY_NAME_SIZE];
};

static void free_blocks(struct export_blocks *b)
{
	OPENSSL_free(b->key);
	OPENSSL_free(b->cert);
	OPENSSL_free(b->meta);
}

/* Reads the next PEM block; it must be called `want` and carry no headers. */
static bool read_block(BIO *bio, const char *want, unsigned char **data, long *len)
{
	char *name = NULL, *header = NULL;
	bool ok;

	ok = PEM_read_bio(bio, &name, &header, data, len) && !strcmp(name, want) &&
	     header[0] == '\0' && *len > 0;
	OPENSSL_free(name);
	OPENSSL_free(header);
	return ok;
}

/*
 * Splits the file into its blocks and checks the metadata and the checksum: 0,
 * PG_E_EXPORT_CORRUPT or PG_E_EXPORT_FORMAT. Nothing is decrypted here.
 */
static int parse_blocks(const uint8_t *file, size_t len, struct export_blocks *b)
{
	char format[8], hex[2 * SUM_LEN + 1];
	BIO *bio = BIO_new_mem_buf(file, (int)len);
	struct pg_peername pn;
	const char *meta, *last;
	size_t prefix;
	bool ok;

	if (!bio)
		return PG_E_CRYPTO;
	ok = read_block(bio, PEM_KEY, &b->key, &b->klen) &&
	     read_block(bio, PEM_CERT, &b->cert, &b->clen) &&
	     read_block(bio, PEM_META, &b->meta, &b->mlen);
	BIO_free(bio);
	if (!ok || b->mlen >= META_BODY_MAX)
		return PG_E_EXPORT_CORRUPT;

	/* the last line is sha256=<hex>; it sums everything before it */
	meta = (const char *)b->meta;
	if (meta[b->mlen - 1] != '\n' || memchr(meta, '\0', (size_t)b->mlen))
		return PG_E_EXPORT_CORRUPT;
	last = memrchr(meta, '\n', (size_t)b->mlen - 1);
	last = last ? last + 1 : meta;
	prefix = (size_t)(last - meta);
	if (pg_idstore_kv_get(meta, prefix, "format", format, sizeof(format)))
		return PG_E_EXPORT_CORRUPT;
	if (strcmp(format, "1"))
		return PG_E_EXPORT_FORMAT;
	if (checksum(b->key, (size_t)b->klen, b->cert, (size_t)b->clen, meta, prefix, hex))
		return PG_E_CRYPTO;
	if ((size_t)b->mlen - prefix != sizeof("sha256=\n") - 1 + 2 * SUM_LEN ||
	    memcmp(last, "sha256=", 7) || memcmp(last + 7, hex, 2 * SUM_LEN))
		return PG_E_EXPORT_CORRUPT;
	/* intact from here on: malformed fields are a writer's bug, still "corrupt" */
	if (pg_idstore_kv_get(meta, prefix, "peer_name", b->peer_name, sizeof(b->peer_name)) ||
	    pg_idstore_kv_get(meta, prefix, "friendly_name", b->friendly, sizeof(b->friendly)) ||
	    pg_peername_check_friendly_name(b->friendly) || pg_peername_parse(b->peer_name, &pn) ||
	    !pg_peername_is_secured(&pn))
		return PG_E_EXPORT_CORRUPT;
	return 0;
}

/* Checks the PBES2 parameters before any work: PBKDF2 with a bounded iteration count. */
static int check_kdf(const X509_SIG *p8)
{
	const X509_ALGOR *alg;
	PBE2PARAM *pbe2 = NULL;
	PBKDF2PARAM *kdf = NULL;
	long iter = 0;

	X509_SIG_get0(p8, &alg, NULL);
	if (OBJ_obj2nid(alg->algorithm) != NID_pbes2)
		return PG_E_EXPORT_FORMAT;
	pbe2 = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBE2PARAM), alg->parameter);
	if (pbe2 && OBJ_obj2nid(pbe2->keyfunc->algorithm) == NID_id_pbkdf2)
		kdf = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBKDF2PARAM),
						pbe2->keyfunc->parameter);
	if (kdf)
		iter = ASN1_INTEGER_get(kdf->iter);
	PBKDF2PARAM_free(kdf);
	PBE2PARAM_free(pbe2);
	return iter >= 1 && iter <= KDF_ITER_MAX ? 0 : PG_E_EXPORT_FORMAT;
}

static int decrypt_key(const X509_SIG *p8, const char *password, EVP_PKEY **out)
{
	PKCS8_PRIV_KEY_INFO *p8inf;

	p8inf = PKCS8_decrypt_ex(p8, password, (int)strlen(password), NULL, NULL);
	*out = p8inf ? EVP_PKCS82PKEY_ex(p8inf, NULL, NULL) : NULL;
	PKCS8_PRIV_KEY_INFO_free(p8inf);
	/* the bytes are intact (checksum), so a key that does not come out is the password's */
	return *out ? 0 : PG_E_BAD_PASSWORD;
}

/* Checks that the decrypted key, the certificate and the peer name agree. */
static bool consistent(EVP_PKEY *pkey, X509 *cert, const char *peer_name)
{
	struct pg_identity keys = { 0 };
	struct pg_peername pn;
	char name[PG_PEERNAME_SIZE];
	bool ok;

	ok = pg_peername_parse(peer_name, &pn) == 0 && pg_peername_is_secured(&pn) &&
	     pg_idkey_derive(pkey, &keys) == 0 &&
	     pg_peername_secured(keys.spki_der, keys.spki_len, pn.classifier, name) == 0 &&
	     !strcmp(name, peer_name) && pg_idcert_matches(cert, pkey, peer_name);
	OPENSSL_free(keys.spki_der);
	return ok;
}

int pg_identity_import(struct pg_identity_store *st, const char *path, const char *password,
		       unsigned flags, char peer_name[PG_PEERNAME_SIZE])
{
	struct export_blocks b = { 0 };
	char real[PATH_MAX];
	const unsigned char *p;
	EVP_PKEY *pkey = NULL;
	X509_SIG *p8 = NULL;
	X509 *cert = NULL;
	bool committed = false;
	uint8_t *file;
	size_t len;
	int err;

	st->err[0] = '\0';
	err = check_password(password);
	if (err)
		return err;
	/* the user's path may be a symlink; pg_file_read follows none, so resolve it first */
	if (!realpath(path, real))
		return pg_idstore_fail(st, -errno, "%s", path);
	err = pg_file_read(AT_FDCWD, real, EXPORT_FILE_MAX, 0, &file, &len, NULL);
	if (err == -EFBIG)
		return pg_idstore_fail(st, PG_E_EXPORT_CORRUPT, "%s: over %d bytes", path,
				       EXPORT_FILE_MAX);
	if (err)
		return pg_idstore_fail(st, err, "%s", path);
	err = parse_blocks(file, len, &b);
	pg_file_free(file, len);
	if (err) {
		pg_idstore_fail(st, err, "%s", path);
		goto out_free_blocks;
	}

	err = PG_E_EXPORT_CORRUPT;
	p = b.key;
	p8 = d2i_X509_SIG(NULL, &p, b.klen);
	if (!p8 || p != b.key + b.klen)
		goto err_record_message;
	p = b.cert;
	cert = d2i_X509(NULL, &p, b.clen);
	if (!cert || p != b.cert + b.clen)
		goto err_record_message;
	err = check_kdf(p8);
	if (err)
		goto err_record_message;
	/* a clash needs no password to report */
	err = pg_idstore_absent(st, b.peer_name);
	if (err)
		goto err_record_message;
	err = decrypt_key(p8, password, &pkey);
	if (err)
		goto err_record_message;
	if (!consistent(pkey, cert, b.peer_name)) {
		err = PG_E_EXPORT_CORRUPT;
		goto err_record_message;
	}
	err = pg_idstore_commit(st, b.peer_name, pkey, cert, b.friendly, flags, &committed);
	if (committed && peer_name)
		strcpy(peer_name, b.peer_name);
	goto out_free_all;

err_record_message:
	pg_idstore_fail(st, err, "%s%s%s", path, b.peer_name[0] ? ": " : "", b.peer_name);
out_free_all:
	EVP_PKEY_free(pkey);
	X509_free(cert);
	X509_SIG_free(p8);
out_free_blocks:
	free_blocks(&b);
	return err;
}
