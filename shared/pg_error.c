/*
 * pg_error.c - messages for the project's error codes (see pg_error.h).
 */
#include <string.h>

#include "pg_error.h"
#include "query.h"

/* The message of PG_E_QUERY_TOO_COMPLEX names the bounds of query.h: change both together. */
_Static_assert(PG_QUERY_TEXT_MAX == 65536 && PG_QUERY_CLAUSES_MAX == 64 &&
		   PG_QUERY_GROUPS_MAX == 64 && PG_QUERY_DEPTH_MAX == 16 &&
		   PG_QUERY_WILD_RUN_MAX == 64,
	       "PG_E_QUERY_TOO_COMPLEX's message states the query bounds");

struct err_text {
	int code;
	const char *name;
	const char *msg;
};

/* One table row per line reads best. */
/* clang-format off */
#define E(c, m) { c, #c, m }
/* clang-format on */
static const struct err_text texts[] = {
	E(PG_OK, "success"),
	E(PG_E_TRUNCATED, "input truncated: it ends before a field it announces"),
	E(PG_E_BAD_MAGIC, "not a peergraph encoding (bad magic)"),
	E(PG_E_BAD_FORMAT, "unknown format version or reserved bits set"),
	E(PG_E_LENGTH, "a length field points past the end of the input"),
	E(PG_E_TRAILING, "unexpected bytes after the last field"),
	E(PG_E_TOO_LARGE, "max record size exceeded (payload + attributes)"),
	E(PG_E_ATTR_NAME, "bad attribute name: 1..40 ASCII letters and digits"),
	E(PG_E_ATTR_TYPE, "bad attribute type: must be int, string or date"),
	E(PG_E_ATTR_ORDER, "attributes not in strictly ascending name order (duplicate name?)"),
	E(PG_E_ATTR_RESERVED, "attribute name is reserved for a record field"),
	E(PG_E_TOO_MANY_ATTRS, "too many attributes"),
	E(PG_E_BAD_TIMES, "invalid times: need creation <= last-modified < expiration"),
	E(PG_E_BAD_VERSION, "invalid record version: must be 1 .. 2^31-1"),
	E(PG_E_DELETED_BODY, "a deleted record must have no payload and no attributes"),
	E(PG_E_BAD_FLAGS, "unknown record flag bits set"),
	E(PG_E_ID_TOO_LONG, "creator or modifier id longer than 256 bytes"),
	E(PG_E_SECDATA_TOO_LARGE, "security data larger than its limit"),
	E(PG_E_TOO_MANY_RECORDS, "too many records in one batch"),
	E(PG_E_CHECKSUM, "checksum mismatch: stored bytes are corrupt or torn"),
	E(PG_E_EXPIRY_SHRANK, "an update may not move expiration earlier"),
	E(PG_E_BAD_UTF8, "string is not valid UTF-8"),
	E(PG_E_BAD_LIMIT, "configured limit outside its allowed range"),
	E(PG_E_CREATOR_CHANGED, "update refused: it names another creator than the record's"),
	E(PG_E_KEY_COLLISION, "update refused: another record id under the same record key"),
	E(PG_E_TABLE_FULL, "record-version table full: raise its capacity"),
	E(PG_E_STALE, "stale: this version or a newer one is already held"),
	E(PG_E_NOT_FOUND, "record not found"),
	E(PG_E_STORE_FULL, "record store at its configured bound"),
	E(PG_E_LISTENING, "refused: the graph is listening (export/import only before listen)"),
	E(PG_E_GRAPH_MISMATCH, "the file belongs to another graph"),
	E(PG_E_RECORD_EXPIRED, "record already expired: its expiration time has passed"),
	E(PG_E_FILE_CHANGED, "the file changed size while it was read: retry once it is complete"),
	E(PG_E_QUERY_SYNTAX, "query syntax error"),
	E(PG_E_QUERY_TYPE, "query value does not parse as its type"),
	E(PG_E_QUERY_OPERATOR, "unknown compare operator in query"),
	E(PG_E_QUERY_TOO_COMPLEX,
	  "query too long or complex: its limits are 65536 bytes of text, 64 clauses, 64 and/or "
	  "groups, groups nested 16 deep, and 64 characters (code points) between two '*' of a "
	  "pattern when a '?' is among them"),
	E(PG_E_QUERY_ESCAPE, "bad escape in query string: '\\' must precede '*', '?' or '\\'"),
	E(PG_E_KEYTAB_FULL, "key table full: create it with more slots"),
	E(PG_E_KEYTAB_BUSY, "key table slot kept changing while read: retry later"),
	E(PG_E_KEYTAB_NO_KEY, "key id not in the key table"),
	E(PG_E_KEYTAB_MAGIC, "not a peergraph key table (bad magic), or still being created"),
	E(PG_E_KEYTAB_LAYOUT, "key table layout version differs from this build's"),
	E(PG_E_KEYTAB_SIZE, "key table header does not match the segment's size (truncated?)"),
	E(PG_E_KEYTAB_TOO_SMALL, "key table segment smaller than its header"),
	E(PG_E_KEYTAB_REVOKED, "key is revoked: a revoked key cannot be renewed"),
	E(PG_E_KEYTAB_NOT_WRITER, "only the process that created the key table may write it"),
	E(PG_E_KEYTAB_DUPLICATE, "key id already in the key table: renew it with update"),
	E(PG_E_KEYTAB_OWNER, "key table segment owned by another user than its writer's: refused "
			     "(did someone else create its name?)"),
	E(PG_E_KEYTAB_MODE,
	  "key table segment writable by group or others: refused (anyone could forge its keys)"),
	E(PG_E_KEYTAB_EXISTS, "a key table of this name exists: its writer still runs, or died and "
			      "left it (remove it with pg_keytab_unlink)"),
	E(PG_E_KEYTAB_BAD_KEY, "public key refused: not a canonical Ed25519 key of prime order"),
	E(PG_E_SIG_UNSIGNED, "record carries no security data (unsigned)"),
	E(PG_E_SIG_MALFORMED,
	  "security data malformed: unknown format or kind, wrong length, reserved bytes set, or "
	  "a bundle index / size / proof length that do not match"),
	E(PG_E_SIG_BAD, "signature does not verify with the signer's key"),
	E(PG_E_SIG_PROOF, "bundle inclusion proof does not lead to the signed root (record or "
			  "proof altered)"),
	E(PG_E_SIG_WRONG_SIGNER, "signing key is not the key of the record's last modifier (its "
				 "creator if never updated)"),
	E(PG_E_SIG_NOT_ADMIN, "only administrators may modify records created by others"),
	E(PG_E_SIG_REVOKED, "the signer's key is revoked"),
	E(PG_E_SIG_WINDOW,
	  "record's [last-modified, expiration] lies outside the signer's validity window"),
	E(PG_E_SIG_UNKNOWN_KEY, "signer's key did not appear in the key table before the timeout"),
	E(PG_E_SIG_QUEUE_FULL, "deferred-record queue full: record dropped"),
	E(PG_E_SIG_DEFERRED, "record deferred until its signer's key is known"),
	E(PG_E_SIG_BUNDLE_SIZE, "a bundle holds 1 to 1024 records"),
	E(PG_E_API_VERSION, "control API frame of another protocol version: client and daemon "
			    "differ (upgrade the older one)"),
	E(PG_E_API_FRAME, "control API frame length out of bounds, or the frame was cut short"),
	E(PG_E_API_TYPE, "unknown control API message type"),
	E(PG_E_API_FIELD, "control API message with a field that is unknown, malformed, repeated "
			  "or missing for its type"),
	E(PG_E_CONFIG, "invalid configuration: the message names the file, line and key, and "
		       "what is allowed"),
	E(PG_E_WIRE_MAGIC, "not a peergraph datagram"),
	E(PG_E_WIRE_VERSION, "datagram of another peergraph protocol version"),
	E(PG_E_WIRE_TYPE, "unknown datagram type or chunk kind"),
	E(PG_E_WIRE_FLAGS, "datagram with unknown flag bits"),
	E(PG_E_WIRE_LENGTH, "datagram cut short, or a length in it past its end"),
	E(PG_E_WIRE_FIELD, "datagram field out of its range"),
	E(PG_E_BUSY, "busy: the node's flood queues are full (a neighbour is slower than the "
		     "publisher); retry later or slow down"),
	E(PG_E_CLASSIFIER_LEN, "classifier must be 1..149 bytes"),
	E(PG_E_CLASSIFIER_CHAR,
	  "bad classifier character: printable ASCII only, no space, '/' or '\\'"),
	E(PG_E_FRIENDLY_NAME_LEN, "friendly name longer than 255 characters (code points)"),
	E(PG_E_FRIENDLY_NAME_CHAR, "friendly name contains a control character"),
	E(PG_E_PEERNAME,
	  "malformed peer name: need authority.classifier, authority 40 lowercase hex or 0"),
	E(PG_E_IDENTITY_EXISTS, "an identity with this peer name is already in the store"),
	E(PG_E_IDENTITY_NOT_FOUND, "no such identity in the store"),
	E(PG_E_KEY_PERMS,
	  "private key file open to group or others: refused; fix with chmod 600 <file>"),
	E(PG_E_BAD_PASSWORD, "wrong password: the export file is intact but does not decrypt"),
	E(PG_E_EXPORT_CORRUPT, "identity export file truncated, damaged or not an export file"),
	E(PG_E_EXPORT_FORMAT, "unsupported identity export file (format version or KDF)"),
	E(PG_E_IDENTITY_CORRUPT, "stored identity files are missing, malformed or inconsistent"),
	E(PG_E_CRYPTO, "OpenSSL operation failed"),
	E(PG_E_VALIDITY, "bad validity period: need not-before < not-after <= year 9999"),
	E(PG_E_PASSWORD_LEN, "password must be 1..1024 bytes"),
	E(PG_E_NO_DEFAULT, "the identity store has no default identity"),
	E(PG_E_IDENTITY_STORE_FULL, "identity store full: it holds its maximum of 1024 identities"),
};
#undef E

static const struct err_text *find(int err)
{
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (texts[i].code == err)
			return &texts[i];
	return NULL;
}

const char *pg_strerror(int err)
{
	const struct err_text *t = find(err);

	if (t)
		return t->msg;
	if (err < 0 && err > -PG_E_BASE)
		return strerror(-err);
	return "unknown error";
}

const char *pg_strerror_name(int err)
{
	const struct err_text *t = find(err);

	return t ? t->name : "errno";
}
