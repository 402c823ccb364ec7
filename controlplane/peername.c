/*
 * peername.c - parsing, validating and forming peer names; the identity text limits.
 *
 * The rules are in peername.h. Everything here is pure string work except the authority,
 * which is SHA-1 over the SubjectPublicKeyInfo DER (kept from PNRP for an interoperable text
 * form; SHA-1 names a key here, it does not sign anything).
 */
#include <string.h>

#include <openssl/evp.h>

#include "peername.h"
#include "pg_assert.h"
#include "pg_error.h"

static bool classifier_byte_ok(unsigned char c)
{
	return c >= 0x21 && c <= 0x7e && c != '/' && c != '\\';
}

int pg_peername_check_classifier(const char *classifier)
{
	size_t n = strnlen(classifier, PG_CLASSIFIER_MAX + 1);

	if (n == 0 || n > PG_CLASSIFIER_MAX)
		return PG_E_CLASSIFIER_LEN;
	for (size_t i = 0; i < n; i++)
		if (!classifier_byte_ok((unsigned char)classifier[i]))
			return PG_E_CLASSIFIER_CHAR;
	return 0;
}

/*
 * Decodes one UTF-8 sequence at s[0..left): returns its length and sets *cp, or 0 if it is
 * malformed (truncated, bad continuation, overlong, surrogate, above U+10FFFF).
 */
static size_t utf8_next(const unsigned char *s, size_t left, uint32_t *cp)
{
	static const uint32_t min_cp[5] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t len;
	uint32_t c = s[0];

	if (c < 0x80)
		len = 1;
	else if ((c & 0xe0) == 0xc0)
		len = 2, c &= 0x1f;
	else if ((c & 0xf0) == 0xe0)
		len = 3, c &= 0x0f;
	else if ((c & 0xf8) == 0xf0)
		len = 4, c &= 0x07;
	else
		return 0;
	if (len > left)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min_cp[len] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

int pg_peername_check_friendly_name(const char *name)
{
	const unsigned char *s = (const unsigned char *)name;
	size_t left = strnlen(name, PG_FRIENDLY_NAME_MAX_BYTES + 1);
	size_t points = 0;

	/* over 1020 bytes is over 255 code points of any width, valid or not */
	if (left > PG_FRIENDLY_NAME_MAX_BYTES)
		return PG_E_FRIENDLY_NAME_LEN;
	while (left > 0) {
		uint32_t cp;
		size_t n = utf8_next(s, left, &cp);

		if (n == 0)
			return PG_E_BAD_UTF8;
		if (cp < 0x20 || cp == 0x7f)
			return PG_E_FRIENDLY_NAME_CHAR;
		if (++points > PG_FRIENDLY_NAME_MAX)
			return PG_E_FRIENDLY_NAME_LEN;
		s += n;
		left -= n;
	}
	return 0;
}

static bool authority_ok(const char *a, size_t n)
{
	if (n == 1)
		return a[0] == '0';
	if (n != PG_AUTHORITY_LEN)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((a[i] >= '0' && a[i] <= '9') || (a[i] >= 'a' && a[i] <= 'f')))
			return false;
	return true;
}

int pg_peername_parse(const char *text, struct pg_peername *out)
{
	size_t n = strnlen(text, PG_PEERNAME_MAX + 1);
	const char *dot = memchr(text, '.', n);
	size_t alen;
	int err;

	if (!dot)
		return PG_E_PEERNAME;
	alen = (size_t)(dot - text);
	if (!authority_ok(text, alen))
		return PG_E_PEERNAME;
	if (n > PG_PEERNAME_MAX)
		return PG_E_CLASSIFIER_LEN; /* the authority is fine, so the rest is too long */
	err = pg_peername_check_classifier(dot + 1);
	if (err)
		return err;
	if (out) {
		memcpy(out->authority, text, alen);
		out->authority[alen] = '\0';
		memcpy(out->classifier, dot + 1, n - alen - 1);
		out->classifier[n - alen - 1] = '\0';
	}
	return 0;
}

bool pg_peername_is_secured(const struct pg_peername *pn)
{
	return strlen(pn->authority) == PG_AUTHORITY_LEN;
}

int pg_peername_unsecured(const char *classifier, char out[PG_PEERNAME_SIZE])
{
	int err = pg_peername_check_classifier(classifier);

	if (err)
		return err;
	out[0] = '0';
	out[1] = '.';
	memcpy(out + 2, classifier, strlen(classifier) + 1);
	return 0;
}

int pg_peername_authority(const uint8_t *spki_der, size_t len, char out[PG_AUTHORITY_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (!EVP_Digest(spki_der, len, md, &mdlen, EVP_sha1(), NULL) || mdlen != 20)
		return PG_E_CRYPTO;
	for (unsigned int i = 0; i < mdlen; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0xf];
	}
	out[PG_AUTHORITY_LEN] = '\0';
	return 0;
}

int pg_peername_secured(const uint8_t *spki_der, size_t len, const char *classifier,
			char out[PG_PEERNAME_SIZE])
{
	int err = pg_peername_check_classifier(classifier);

	if (err)
		return err;
	err = pg_peername_authority(spki_der, len, out);
	if (err)
		return err;
	out[PG_AUTHORITY_LEN] = '.';
	memcpy(out + PG_AUTHORITY_LEN + 1, classifier, strlen(classifier) + 1);
	PG_DEBUG_ASSERT(pg_peername_parse(out, NULL) == 0);
	return 0;
}
