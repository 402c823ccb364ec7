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
	PG_E_TRUNCATED = -(PG_E_BASE + 1),  /* input ends before a field it announces */
	PG_E_BAD_MAGIC = -(PG_E_BASE + 2),  /* not one of our formats */
	PG_E_BAD_FORMAT = -(PG_E_BASE + 3), /* unknown format version or reserved bits set */
	PG_E_LENGTH = -(PG_E_BASE + 4),	    /* a length field points past the end */
	PG_E_TRAILING = -(PG_E_BASE + 5),   /* bytes left over after the last field */
	PG_E_TOO_LARGE = -(PG_E_BASE + 6),  /* payload + attributes over the max record size */
	PG_E_ATTR_NAME = -(PG_E_BASE + 7),  /* attribute name empty, > 40, or not alphanumeric */
	PG_E_ATTR_TYPE = -(PG_E_BASE + 8),  /* attribute type not int / string / date */
	PG_E_ATTR_ORDER = -(PG_E_BASE + 9), /* attributes not in strictly ascending name order */
	PG_E_ATTR_RESERVED = -(PG_E_BASE + 10), /* a reserved attribute name set by a record */
	PG_E_TOO_MANY_ATTRS = -(PG_E_BASE + 11),
	PG_E_BAD_TIMES = -(PG_E_BASE + 12),    /* not: creation <= last-modified < expiration */
	PG_E_BAD_VERSION = -(PG_E_BASE + 13),  /* record version 0 or above PG_RECORD_VERSION_MAX */
	PG_E_DELETED_BODY = -(PG_E_BASE + 14), /* deleted record with payload or attributes */
	PG_E_BAD_FLAGS = -(PG_E_BASE + 15),    /* unknown record flag bits */
	PG_E_ID_TOO_LONG = -(PG_E_BASE + 16),  /* creator / modifier id over 256 bytes */
	PG_E_SECDATA_TOO_LARGE = -(PG_E_BASE + 17),
	PG_E_TOO_MANY_RECORDS = -(PG_E_BASE + 18), /* batch count over the caller's bound */
	PG_E_CHECKSUM = -(PG_E_BASE + 19),	   /* stored bytes fail their checksum */
	PG_E_EXPIRY_SHRANK = -(PG_E_BASE + 20),	   /* an update moved expiration earlier */
	PG_E_BAD_UTF8 = -(PG_E_BASE + 21),	   /* a string that must be UTF-8 is not */
	PG_E_BAD_LIMIT = -(PG_E_BASE + 22),	  /* a configured limit outside its allowed range */
	PG_E_CREATOR_CHANGED = -(PG_E_BASE + 23), /* an update names another creator */
	PG_E_KEY_COLLISION = -(PG_E_BASE + 24),	  /* same record key, another record id */
	/* record-version table and store */
	PG_E_TABLE_FULL = -(PG_E_BASE + 40),	 /* the record-version table has no free slot */
	PG_E_STALE = -(PG_E_BASE + 41),		 /* we hold this version or a newer one */
	PG_E_NOT_FOUND = -(PG_E_BASE + 42),	 /* no such record */
	PG_E_STORE_FULL = -(PG_E_BASE + 43),	 /* the store's arena or queue is at its bound */
	PG_E_LISTENING = -(PG_E_BASE + 44),	 /* export/import refused: the graph is listening */
	PG_E_GRAPH_MISMATCH = -(PG_E_BASE + 45), /* snapshot belongs to another graph */
	PG_E_RECORD_EXPIRED = -(PG_E_BASE + 46), /* its expiration time has already passed */
	PG_E_FILE_CHANGED = -(PG_E_BASE + 47),	 /* an input file changed size while read */
	/* search language */
	PG_E_QUERY_SYNTAX = -(PG_E_BASE + 60),	    /* malformed query text */
	PG_E_QUERY_TYPE = -(PG_E_BASE + 61),	    /* a value that does not parse as its type */
	PG_E_QUERY_OPERATOR = -(PG_E_BASE + 62),    /* unknown compare operator */
	PG_E_QUERY_TOO_COMPLEX = -(PG_E_BASE + 63), /* over a PG_QUERY_*_MAX bound (query.h) */
	PG_E_QUERY_ESCAPE = -(PG_E_BASE + 64),	    /* a backslash escape that escapes nothing */
	/* key table (shared memory) */
	PG_E_KEYTAB_FULL = -(PG_E_BASE + 120),	     /* no slot left: nslots * 3 / 4 keys held */
	PG_E_KEYTAB_BUSY = -(PG_E_BASE + 121),	     /* slot kept changing during the read */
	PG_E_KEYTAB_NO_KEY = -(PG_E_BASE + 122),     /* key id not in the table */
	PG_E_KEYTAB_MAGIC = -(PG_E_BASE + 123),	     /* not a key table, or still being created */
	PG_E_KEYTAB_LAYOUT = -(PG_E_BASE + 124),     /* layout version of another build */
	PG_E_KEYTAB_SIZE = -(PG_E_BASE + 125),	     /* header size/geometry != the segment */
	PG_E_KEYTAB_TOO_SMALL = -(PG_E_BASE + 126),  /* segment shorter than its header */
	PG_E_KEYTAB_REVOKED = -(PG_E_BASE + 127),    /* update of a revoked key */
	PG_E_KEYTAB_NOT_WRITER = -(PG_E_BASE + 128), /* write from a non-creating process */
	PG_E_KEYTAB_DUPLICATE = -(PG_E_BASE + 129),  /* publish of a key id already held */
	PG_E_KEYTAB_OWNER = -(PG_E_BASE + 130),	     /* segment owned by another user */
	PG_E_KEYTAB_MODE = -(PG_E_BASE + 131),	     /* segment writable by group or others */
	PG_E_KEYTAB_EXISTS = -(PG_E_BASE + 132),     /* create: name taken (not by another user) */
	PG_E_KEYTAB_BAD_KEY = -(PG_E_BASE + 133),    /* small-order / non-canonical public key */
	/* record signatures (secdata.h, bundle.h, controlplane/sign.h, dataplane/verify.h) */
	PG_E_SIG_UNSIGNED = -(PG_E_BASE + 140),	 /* record carries no security data */
	PG_E_SIG_MALFORMED = -(PG_E_BASE + 141), /* security data not in its one valid encoding */
	PG_E_SIG_BAD = -(PG_E_BASE + 142),	 /* Ed25519 signature does not verify */
	PG_E_SIG_PROOF = -(PG_E_BASE + 143),	 /* bundle proof does not reach the signed root */
	PG_E_SIG_WRONG_SIGNER = -(PG_E_BASE + 144), /* key is not the record's last toucher's */
	PG_E_SIG_NOT_ADMIN = -(PG_E_BASE + 145),    /* another's record modified by a non-admin */
	PG_E_SIG_REVOKED = -(PG_E_BASE + 146),	    /* signer's key is revoked */
	PG_E_SIG_WINDOW = -(PG_E_BASE + 147),	   /* [modified, expires] outside signer validity */
	PG_E_SIG_UNKNOWN_KEY = -(PG_E_BASE + 148), /* signer never appeared in the key table */
	PG_E_SIG_QUEUE_FULL = -(PG_E_BASE + 149),  /* deferred queue at its bound: dropped */
	PG_E_SIG_DEFERRED = -(PG_E_BASE + 150),	   /* not an error: held until its key appears */
	PG_E_SIG_BUNDLE_SIZE = -(PG_E_BASE + 151), /* bundle of 0 or more than 1024 records */
	/* control API (controlplane/api/proto.h) */
	PG_E_API_VERSION = -(PG_E_BASE + 160), /* frame of another protocol version */
	PG_E_API_FRAME = -(PG_E_BASE + 161),   /* frame length out of bounds, or cut short */
	PG_E_API_TYPE = -(PG_E_BASE + 162),    /* unknown message type */
	PG_E_API_FIELD = -(PG_E_BASE + 163),   /* field unknown, malformed, repeated or missing */
	/* peergraphd's configuration (controlplane/daemon/config.h) */
	PG_E_CONFIG = -(PG_E_BASE + 170), /* a setting or the file is wrong: see its message */
	/* datagrams between nodes (dataplane/link/wire.h) and flooding */
	PG_E_WIRE_MAGIC = -(PG_E_BASE + 180),	/* not a peergraph datagram */
	PG_E_WIRE_VERSION = -(PG_E_BASE + 181), /* another protocol version */
	PG_E_WIRE_TYPE = -(PG_E_BASE + 182),	/* unknown datagram type or chunk kind */
	PG_E_WIRE_FLAGS = -(PG_E_BASE + 183),	/* unknown flag bits */
	PG_E_WIRE_LENGTH = -(PG_E_BASE + 184),	/* cut short, or a length past the end */
	PG_E_WIRE_FIELD = -(PG_E_BASE + 185),	/* a field out of its range */
	PG_E_BUSY = -(PG_E_BASE + 190),		/* queues full: slow down and retry */
	PG_E_LAST = -(PG_E_BASE + 99),
	/* identities and peer names (controlplane/identity.h, peername.h) */
	PG_E_CLASSIFIER_LEN = -(PG_E_BASE + 100),     /* classifier empty or over 149 bytes */
	PG_E_CLASSIFIER_CHAR = -(PG_E_BASE + 101),    /* classifier byte outside its set */
	PG_E_FRIENDLY_NAME_LEN = -(PG_E_BASE + 102),  /* friendly name over 255 code points */
	PG_E_FRIENDLY_NAME_CHAR = -(PG_E_BASE + 103), /* control character in friendly name */
	PG_E_PEERNAME = -(PG_E_BASE + 104),	      /* not authority.classifier */
	PG_E_IDENTITY_EXISTS = -(PG_E_BASE + 105),    /* peer name already in the store */
	PG_E_IDENTITY_NOT_FOUND = -(PG_E_BASE + 106),
	PG_E_KEY_PERMS = -(PG_E_BASE + 107),	    /* key file mode has group or other bits */
	PG_E_BAD_PASSWORD = -(PG_E_BASE + 108),	    /* export file intact, password wrong */
	PG_E_EXPORT_CORRUPT = -(PG_E_BASE + 109),   /* export file truncated or changed */
	PG_E_EXPORT_FORMAT = -(PG_E_BASE + 110),    /* unsupported export version or KDF */
	PG_E_IDENTITY_CORRUPT = -(PG_E_BASE + 111), /* stored files inconsistent */
	PG_E_CRYPTO = -(PG_E_BASE + 112),	    /* OpenSSL failed (see the store's message) */
	PG_E_VALIDITY = -(PG_E_BASE + 113),	    /* bad certificate validity period */
	PG_E_PASSWORD_LEN = -(PG_E_BASE + 114),	    /* password empty or over its bound */
	PG_E_NO_DEFAULT = -(PG_E_BASE + 115),	    /* the store has no default identity */
	PG_E_IDENTITY_STORE_FULL = -(PG_E_BASE + 116), /* PG_IDENTITY_STORE_MAX reached */
};

/* Returns a static, human-readable message for a pg_err code or a negative errno. Never NULL. */
const char *pg_strerror(int err);

/* Returns the symbolic name of a pg_err code ("PG_E_TRUNCATED"), or "errno" for an errno. */
const char *pg_strerror_name(int err);

#endif
