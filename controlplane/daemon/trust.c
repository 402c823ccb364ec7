/*
 * trust.c - the keys this node trusts (trust.h).
 */
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

#include "pg_error.h"
#include "trust.h"

/* Keys are trusted without a window of their own: the records' times are checked against
 * [0, forever). */
static int publish(struct pg_keytab *kt, const uint8_t pub[PG_KEYTAB_PUBKEY_LEN])
{
	uint8_t id[PG_KEYTAB_ID_LEN];
	int err;

	SHA256(pub, PG_KEYTAB_PUBKEY_LEN, id);
	err = pg_keytab_publish(kt, id, pub, PG_KEYTAB_ROLE_NONE, 0, UINT64_MAX);
	return err == PG_E_KEYTAB_DUPLICATE ? 1 : err;
}

int pgd_trust_identity(struct pg_keytab *kt, const struct pg_identity *id)
{
	int err = publish(kt, pg_identity_public_key(id));

	return err > 0 ? 0 : err;
}

int pgd_trust_store(struct pg_keytab *kt, struct pg_identity_store *ids, char *msg, size_t len)
{
	static char names[256][PG_PEERNAME_SIZE];
	int n = pg_identity_list(ids, names, 256);

	if (n < 0) {
		snprintf(msg, len, "listing identities: %s", pg_strerror(n));
		return n;
	}
	for (int i = 0; i < n; i++) {
		struct pg_identity *id;
		int err = pg_identity_open(ids, names[i], &id);

		if (!err) {
			err = pgd_trust_identity(kt, id);
			pg_identity_close(id);
		}
		if (err) {
			snprintf(msg, len, "identity %s: %s", names[i], pg_strerror(err));
			return err;
		}
	}
	return 0;
}

static int hexval(int c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

static bool parse_hex_key(const char *s, uint8_t out[PG_KEYTAB_PUBKEY_LEN])
{
	if (strlen(s) != 2 * PG_KEYTAB_PUBKEY_LEN)
		return false;
	for (unsigned i = 0; i < PG_KEYTAB_PUBKEY_LEN; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

/* The Ed25519 key of a self-signed identity certificate. 0, or a short reason in why. */
static int cert_key(const char *path, uint8_t out[PG_KEYTAB_PUBKEY_LEN], const char **why)
{
	FILE *f = fopen(path, "r");
	X509 *x;
	EVP_PKEY *k;
	size_t len = PG_KEYTAB_PUBKEY_LEN;
	int err = -EINVAL;

	if (!f) {
		*why = strerror(errno);
		return -errno;
	}
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (!x) {
		*why = "not a PEM certificate";
		return -EINVAL;
	}
	k = X509_get0_pubkey(x);
	if (!k || EVP_PKEY_get_id(k) != EVP_PKEY_ED25519)
		*why = "not an Ed25519 key";
	else if (X509_verify(x, k) != 1)
		*why = "not self-signed by its key (or tampered with)";
	else if (EVP_PKEY_get_raw_public_key(k, out, &len) != 1 || len != PG_KEYTAB_PUBKEY_LEN)
		*why = "unreadable key";
	else
		err = 0;
	X509_free(x);
	return err;
}

int pgd_trust_file(struct pg_keytab *kt, const char *path, char *msg, size_t len)
{
	char line[4096];
	unsigned no = 0;
	int added = 0;
	FILE *f;

	if (!path || !path[0])
		return 0;
	if (!(f = fopen(path, "r"))) {
		int err = -errno;

		snprintf(msg, len, "trust file %s: %s", path, strerror(-err));
		return err;
	}
	while (fgets(line, sizeof(line), f)) {
		uint8_t key[PG_KEYTAB_PUBKEY_LEN];
		const char *why = NULL;
		char *s = line, *e;
		int err;

		no++;
		if ((e = strchr(s, '#')))
			*e = '\0';
		while (*s == ' ' || *s == '\t')
			s++;
		e = s + strlen(s);
		while (e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
			*--e = '\0';
		if (!*s)
			continue;
		if (!parse_hex_key(s, key) && cert_key(s, key, &why)) {
			snprintf(msg, len,
				 "trust file %s:%u: %s: neither 64 hex digits nor an identity "
				 "certificate (%s)",
				 path, no, s, why);
			fclose(f);
			return -EINVAL;
		}
		if ((err = publish(kt, key)) < 0) {
			snprintf(msg, len, "trust file %s:%u: %s", path, no, pg_strerror(err));
			fclose(f);
			return err;
		}
		added += err == 0;
	}
	fclose(f);
	return added;
}
