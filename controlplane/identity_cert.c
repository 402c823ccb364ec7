/*
 * identity_cert.c - an identity's derived key forms and its self-signed X.509 v3 certificate.
 *
 * The certificate (FEATURES.md §2, "identity certificate"): version 3, a random positive
 * 128-bit serial, subject = issuer = CN=<peer name> as a UTF8String, Ed25519 key and
 * signature, basicConstraints CA:FALSE (critical), keyUsage digitalSignature (critical),
 * subjectKeyIdentifier (SHA-1 of the key bits, RFC 5280 §4.2.1.2 method 1) and a matching
 * authorityKeyIdentifier. It verifies with `openssl verify -CAfile c.pem c.pem`.
 *
 * LIMITATION: RFC 5280 bounds a CN at 64 characters (ub-common-name); a peer name is up to
 * 190. OpenSSL's string-table check would refuse it, so the CN is set as a raw UTF8String;
 * OpenSSL parses and verifies such certificates, and no peergraph code depends on the bound.
 */
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "identity_priv.h"
#include "pg_assert.h"
#include "pg_error.h"

enum {
	SERIAL_BITS = 127, /* positive, fits 16 DER bytes */
};

int pg_idkey_derive(EVP_PKEY *pkey, struct pg_identity *id)
{
	size_t publen = sizeof(id->pub);
	unsigned char *der = NULL;
	unsigned int mdlen = 0;
	int n;

	if (!EVP_PKEY_is_a(pkey, "ED25519"))
		return PG_E_IDENTITY_CORRUPT;
	if (!EVP_PKEY_get_raw_public_key(pkey, id->pub, &publen) || publen != sizeof(id->pub))
		return PG_E_CRYPTO;
	if (!EVP_Digest(id->pub, sizeof(id->pub), id->key_id, &mdlen, EVP_sha256(), NULL) ||
	    mdlen != sizeof(id->key_id))
		return PG_E_CRYPTO;
	n = i2d_PUBKEY(pkey, &der);
	if (n <= 0)
		return PG_E_CRYPTO;
	OPENSSL_free(id->spki_der);
	id->spki_der = der;
	id->spki_len = (size_t)n;
	return 0;
}

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, ctx, nid, value);
	int ok;

	if (!ext)
		return 0;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok;
}

static int set_serial(X509 *x)
{
	BIGNUM *bn = BN_new();
	int ok = 0;

	if (!bn)
		return 0;
	if (BN_rand(bn, SERIAL_BITS, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) && !BN_is_zero(bn))
		ok = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
	BN_free(bn);
	return ok;
}

int pg_idcert_build(EVP_PKEY *pkey, const char *peer_name, int64_t nb, int64_t na, X509 **out)
{
	X509V3_CTX ctx;
	X509_NAME *name;
	X509 *x;

	x = X509_new();
	if (!x)
		return PG_E_CRYPTO;
	name = X509_get_subject_name(x);
	if (!X509_set_version(x, X509_VERSION_3) || !set_serial(x) ||
	    !X509_NAME_add_entry_by_NID(name, NID_commonName, V_ASN1_UTF8STRING,
					(const unsigned char *)peer_name, (int)strlen(peer_name),
					-1, 0) ||
	    !X509_set_issuer_name(x, name) || !X509_set_pubkey(x, pkey) ||
	    !ASN1_TIME_set(X509_getm_notBefore(x), (time_t)nb) ||
	    !ASN1_TIME_set(X509_getm_notAfter(x), (time_t)na))
		goto err_free_cert;

	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	/* SKID before AKID: the AKID copies the (self-)issuer's SKID */
	if (!add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE") ||
	    !add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature") ||
	    !add_ext(x, &ctx, NID_subject_key_identifier, "hash") ||
	    !add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always"))
		goto err_free_cert;
	/* Ed25519 hashes internally: no digest */
	if (X509_sign(x, pkey, NULL) <= 0)
		goto err_free_cert;
	PG_DEBUG_ASSERT(pg_idcert_matches(x, pkey, peer_name));
	*out = x;
	return 0;

err_free_cert:
	X509_free(x);
	return PG_E_CRYPTO;
}

static bool cn_is(X509 *cert, const char *peer_name)
{
	X509_NAME *name = X509_get_subject_name(cert);
	int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
	const ASN1_STRING *s;
	size_t n = strlen(peer_name);

	if (i < 0 || X509_NAME_get_index_by_NID(name, NID_commonName, i) >= 0)
		return false;
	s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
	return s && (size_t)ASN1_STRING_length(s) == n &&
	       memcmp(ASN1_STRING_get0_data(s), peer_name, n) == 0;
}

bool pg_idcert_matches(X509 *cert, EVP_PKEY *pkey, const char *peer_name)
{
	EVP_PKEY *certkey = X509_get0_pubkey(cert);
	bool ok;

	ok = X509_get_version(cert) == X509_VERSION_3 && certkey &&
	     EVP_PKEY_eq(certkey, pkey) == 1 && cn_is(cert, peer_name) &&
	     X509_NAME_cmp(X509_get_subject_name(cert), X509_get_issuer_name(cert)) == 0 &&
	     X509_verify(cert, pkey) == 1;
	ERR_clear_error();
	return ok;
}

static int asn1_time_unix(const ASN1_TIME *t, int64_t *out)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (!ASN1_TIME_to_tm(t, &tm))
		return PG_E_CRYPTO;
	*out = (int64_t)timegm(&tm);
	return 0;
}

int pg_idcert_validity(X509 *cert, int64_t *nb, int64_t *na)
{
	int err = asn1_time_unix(X509_get0_notBefore(cert), nb);

	return err ? err : asn1_time_unix(X509_get0_notAfter(cert), na);
}

int pg_idcert_encode(struct pg_identity *id)
{
	unsigned char *der = NULL;
	BIO *bio;
	char *mem;
	long n;
	int len;

	len = i2d_X509(id->cert, &der);
	if (len <= 0)
		return PG_E_CRYPTO;
	bio = BIO_new(BIO_s_mem());
	if (!bio || !PEM_write_bio_X509(bio, id->cert))
		goto err_free_bio;
	n = BIO_get_mem_data(bio, &mem);
	if (n <= 0)
		goto err_free_bio;
	id->cert_pem = OPENSSL_malloc((size_t)n + 1);
	if (!id->cert_pem)
		goto err_free_bio;
	memcpy(id->cert_pem, mem, (size_t)n);
	id->cert_pem[n] = '\0';
	BIO_free(bio);
	id->cert_der = der;
	id->cert_len = (size_t)len;
	return 0;

err_free_bio:
	BIO_free(bio);
	OPENSSL_free(der);
	return PG_E_CRYPTO;
}
