/*
 * pg_error.h - the one error convention of peergraph.
 *
 * Every function that can fail returns 0 (or a count) on success and a negative number on
 * failure: either a negative errno (-ENOMEM, -EIO, ...) or one of the project codes below,
 * which all lie at or below PG_E_BASE so the two never collide. pg_strerror() turns either
 * kind into a message a user can act on.
 */
#ifndef PG_ERROR_H
#define PG_ERROR_H

#define PG_E_BASE 1000

enum pg_err {
	PG_OK = 0,
	/* decoders of untrusted bytes */
	PG_E_TRUNCATED = -(PG_E_BASE + 1),     /* input ends before a field it announces */
	PG_E_BAD_MAGIC = -(PG_E_BASE + 2),     /* not one of our formats */
	PG_E_BAD_FORMAT = -(PG_E_BASE + 3),    /* unknown format version or reserved bits set */
	PG_E_LENGTH = -(PG_E_BASE + 4),        /* a length field points past the end */
	PG_E_TRAILING = -(PG_E_BASE + 5),      /* bytes left over after the last field */
	PG_E_TOO_LARGE = -(PG_E_BASE + 6),     /* payload + attributes over the max record size */
	PG_E_ATTR_NAME = -(PG_E_BASE + 7),     /* attribute name empty, > 40, or not alphanumeric */
	PG_E_ATTR_TYPE = -(PG_E_BASE + 8),     /* attribute type not int / string / date */
	PG_E_ATTR_ORDER = -(PG_E_BASE + 9),    /* attributes not in strictly ascending name order */
	PG_E_ATTR_RESERVED = -(PG_E_BASE + 10), /* a reserved attribute name set by a record */
	PG_E_TOO_MANY_ATTRS = -(PG_E_BASE + 11),
	PG_E_BAD_TIMES = -(PG_E_BASE + 12),    /* not: creation <= last-modified < expiration */
	PG_E_BAD_VERSION = -(PG_E_BASE + 13),  /* record version 0 or above PG_RECORD_VERSION_MAX */
	PG_E_DELETED_BODY = -(PG_E_BASE + 14), /* deleted record with payload or attributes */
	PG_E_BAD_FLAGS = -(PG_E_BASE + 15),    /* unknown record flag bits */
	PG_E_ID_TOO_LONG = -(PG_E_BASE + 16),  /* creator / modifier id over 256 bytes */
	PG_E_SECDATA_TOO_LARGE = -(PG_E_BASE + 17),
	PG_E_TOO_MANY_RECORDS = -(PG_E_BASE + 18), /* batch count over the caller's bound */
	PG_E_CHECKSUM = -(PG_E_BASE + 19),     /* stored bytes fail their checksum */
	PG_E_EXPIRY_SHRANK = -(PG_E_BASE + 20), /* an update moved expiration earlier */
	PG_E_BAD_UTF8 = -(PG_E_BASE + 21),     /* a string that must be UTF-8 is not */
	PG_E_BAD_LIMIT = -(PG_E_BASE + 22),    /* a configured limit outside its allowed range */
	/* record-version table and store */
	PG_E_TABLE_FULL = -(PG_E_BASE + 40),   /* the record-version table has no free slot */
	PG_E_STALE = -(PG_E_BASE + 41),        /* we hold this version or a newer one */
	PG_E_NOT_FOUND = -(PG_E_BASE + 42),    /* no such record */
	PG_E_STORE_FULL = -(PG_E_BASE + 43),   /* the store's arena or queue is at its bound */
	PG_E_LISTENING = -(PG_E_BASE + 44),    /* export/import refused: the graph is listening */
	PG_E_GRAPH_MISMATCH = -(PG_E_BASE + 45), /* snapshot belongs to another graph */
	/* search language */
	PG_E_QUERY_SYNTAX = -(PG_E_BASE + 60),  /* malformed query text */
	PG_E_QUERY_TYPE = -(PG_E_BASE + 61),    /* a value that does not parse as its type */
	PG_E_QUERY_OPERATOR = -(PG_E_BASE + 62), /* unknown compare operator */
	PG_E_QUERY_TOO_COMPLEX = -(PG_E_BASE + 63), /* over the clause or depth bound */
	PG_E_QUERY_ESCAPE = -(PG_E_BASE + 64),  /* a backslash escape that escapes nothing */
	PG_E_LAST = -(PG_E_BASE + 99),
};

/* Returns a static, human-readable message for a pg_err code or a negative errno. Never NULL. */
const char *pg_strerror(int err);

/* Returns the symbolic name of a pg_err code ("PG_E_TRUNCATED"), or "errno" for an errno. */
const char *pg_strerror_name(int err);

#endif
