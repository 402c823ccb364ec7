/*
 * config_keys.h - the table of peergraphd's configuration keys, inside the configuration
 * module only (config.c reads files with it; config_keys.c holds it and turns values to and
 * from text). Callers use config.h.
 */
#ifndef PGD_CONFIG_KEYS_H
#define PGD_CONFIG_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/config.h"

enum pgd_section {
	PGD_SEC_DAEMON,
	PGD_SEC_STORE,
	PGD_SEC_DATAPLANE,
	PGD_SEC_FAULT,
	PGD_SEC_COUNT,
};

enum pgd_key_type {
	PGD_KEY_COUNT, /* plain decimal number in [min, max] */
	PGD_KEY_SIZE,  /* bytes, K/M/G/T suffixes, in [min, max] */
	PGD_KEY_POW2,  /* a PGD_KEY_SIZE that must be a power of two */
	PGD_KEY_BOOL,
	PGD_KEY_LEVEL,	    /* log level word, stored as a syslog priority */
	PGD_KEY_PATH,	    /* absolute path, printable ASCII without spaces, < size bytes */
	PGD_KEY_GROUP,	    /* group name or "" */
	PGD_KEY_NODE,	    /* unsecured peer name "0.<classifier>" */
	PGD_KEY_PROB,	    /* probability: "0", "1" or "0." and 1..9 digits, a double in [min, max]
			     * billionths; min, max and def are in billionths */
	PGD_KEY_COUNT_POW2, /* a PGD_KEY_COUNT that must be a power of two */
	PGD_KEY_ADDR,	    /* numeric "host:port" / "[v6]:port" (addr.h), "none" or "" */
	PGD_KEY_WORD,	    /* one of the key's words (any case), stored in lower case */
	PGD_KEY_NODE_ID,    /* printable ASCII without spaces, < size bytes; "" for a default */
};

enum {
	PGD_KEY_TOTAL = 30,	   /* rows of the table: one per setting of struct pgd_config */
	PGD_QUOTE_MAX = 40,	   /* bytes of a key or value echoed in a message */
	PGD_VALUE_SIZE = PATH_MAX, /* the longest value's text and its NUL */
};

struct pgd_key {
	enum pgd_section section;
	const char *name;
	enum pgd_key_type type;
	bool reloadable;
	uint16_t offset; /* of its field in struct pgd_config */
	uint16_t size;	 /* of its field: 4 or 8 for numbers (8: a double for PGD_KEY_PROB); the
			  * buffer for strings */
	uint64_t min, max, def;
	const char *def_text;	  /* default of a string key; NULL for node_name (host-dependent) */
	const char *const *words; /* PGD_KEY_WORD: the values allowed, NULL-terminated */
	const char *help;	  /* lines of prose, '\n' between them, each under 90 columns */
};

extern const struct pgd_key pgd_keys[PGD_KEY_TOTAL];
extern const char *const pgd_section_names[PGD_SEC_COUNT];
extern const char *const pgd_section_help[PGD_SEC_COUNT]; /* one line of prose */

/* The section of that name, or -1. */
int pgd_section_find(const char *name);

/* The key of that name in section sec, or NULL. */
const struct pgd_key *pgd_key_find(enum pgd_section sec, const char *name);

/* Writes the section names, comma-separated, to out (cut to len). */
void pgd_section_list(char *out, size_t len);

/* Writes the keys of sec, comma-separated, to out (cut to len). */
void pgd_section_key_list(enum pgd_section sec, char *out, size_t len);

/* Sets k in *c from value (already trimmed): all or nothing. 0, or PG_E_CONFIG with why
 * holding "what is wrong (allowed: ...)". */
int pgd_key_set(const struct pgd_key *k, struct pgd_config *c, const char *value, char *why,
		size_t whylen);

/* Checks what no single key can: drop + duplicate + reorder of [fault] at most 1. 0, or
 * PG_E_CONFIG with why holding "what is wrong (allowed: ...)". */
int pgd_config_check(const struct pgd_config *c, char *why, size_t whylen);

/* Writes k's value in *c as the file would hold it (cut to len). */
void pgd_key_format(const struct pgd_key *k, const struct pgd_config *c, char *out, size_t len);

/* Writes what k allows, e.g. "1..4096" (cut to len). */
void pgd_key_allowed(const struct pgd_key *k, char *out, size_t len);

bool pgd_key_equal(const struct pgd_key *k, const struct pgd_config *a, const struct pgd_config *b);

/* Copies k's field from src to dst. */
void pgd_key_copy(const struct pgd_key *k, struct pgd_config *dst, const struct pgd_config *src);

/* Writes s for a message: at most PGD_QUOTE_MAX bytes, bytes outside printable ASCII as '?',
 * "..." after a cut one. out needs PGD_QUOTE_MAX + 4 bytes. */
void pgd_quote(const char *s, char out[PGD_QUOTE_MAX + 4]);

#endif
