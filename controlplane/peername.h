/*
 * peername.h - peer names (`authority.classifier`) and the text limits of identities.
 *
 * A peer name is the text form of an identity (FEATURES.md §2, kept from PNRP): the authority
 * is the lowercase hex SHA-1 of the DER SubjectPublicKeyInfo of the identity's key (40 chars)
 * for a secured name, or "0" for an unsecured name; the classifier is chosen by the user.
 * The authority never contains '.', so a name splits at its first '.'; the classifier may
 * itself contain dots.
 *
 * Character sets and how lengths are counted:
 *   classifier     1..149 bytes of printable ASCII 0x21..0x7e except '/' and '\' (no spaces,
 *                  no controls, no UTF-8): bytes and characters are the same count. '/' is
 *                  excluded because a peer name names a directory in the identity store.
 *   friendly name  0..255 Unicode code points of well-formed UTF-8 (no overlongs, no
 *                  surrogates), without C0 controls or DEL; at most 1020 bytes.
 */
#ifndef PG_PEERNAME_H
#define PG_PEERNAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	PG_AUTHORITY_LEN = 40,	    /* hex chars of a secured authority */
	PG_CLASSIFIER_MAX = 149,    /* bytes (= ASCII chars) */
	PG_FRIENDLY_NAME_MAX = 255, /* code points */
	PG_FRIENDLY_NAME_MAX_BYTES = 4 * PG_FRIENDLY_NAME_MAX,
	PG_PEERNAME_MAX = PG_AUTHORITY_LEN + 1 + PG_CLASSIFIER_MAX, /* 190 */
	PG_PEERNAME_SIZE = PG_PEERNAME_MAX + 1,			    /* buffer with NUL */
	PG_FRIENDLY_NAME_SIZE = PG_FRIENDLY_NAME_MAX_BYTES + 1,
};

/* A parsed peer name: both parts NUL-terminated. */
struct pg_peername {
	char authority[PG_AUTHORITY_LEN + 1]; /* 40 lowercase hex, or "0" */
	char classifier[PG_CLASSIFIER_MAX + 1];
};

/* Checks a classifier: 0, PG_E_CLASSIFIER_LEN or PG_E_CLASSIFIER_CHAR. */
int pg_peername_check_classifier(const char *classifier);

/* Checks a friendly name: 0, PG_E_BAD_UTF8, PG_E_FRIENDLY_NAME_LEN or _CHAR. */
int pg_peername_check_friendly_name(const char *name);

/* Parses and validates `text`; fills *out (may be NULL to only validate). 0 or PG_E_PEERNAME /
 * a classifier error. */
int pg_peername_parse(const char *text, struct pg_peername *out);

/* True if the parsed name's authority is 40 hex chars (not "0"). */
bool pg_peername_is_secured(const struct pg_peername *pn);

/* Writes "0.<classifier>" to out[PG_PEERNAME_SIZE]. 0 or a classifier error. */
int pg_peername_unsecured(const char *classifier, char out[PG_PEERNAME_SIZE]);

/* Writes the lowercase hex SHA-1 of spki_der (40 chars + NUL). 0 or PG_E_CRYPTO. */
int pg_peername_authority(const uint8_t *spki_der, size_t len, char out[PG_AUTHORITY_LEN + 1]);

/* Writes "<authority of spki_der>.<classifier>" to out[PG_PEERNAME_SIZE]. 0 or an error. */
int pg_peername_secured(const uint8_t *spki_der, size_t len, const char *classifier,
			char out[PG_PEERNAME_SIZE]);

#endif
