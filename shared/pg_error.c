/*
 * pg_error.c - messages for the project's error codes (see pg_error.h).
 */
#include <string.h>

#include "pg_error.h"

struct err_text {
	int code;
	const char *name;
	const char *msg;
};

#define E(c, m) { c, #c, m }
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
	E(PG_E_TABLE_FULL, "record-version table full: raise its capacity"),
	E(PG_E_STALE, "stale: this version or a newer one is already held"),
	E(PG_E_NOT_FOUND, "record not found"),
	E(PG_E_STORE_FULL, "record store at its configured bound"),
	E(PG_E_LISTENING, "refused: the graph is listening (export/import only before listen)"),
	E(PG_E_GRAPH_MISMATCH, "the file belongs to another graph"),
	E(PG_E_QUERY_SYNTAX, "query syntax error"),
	E(PG_E_QUERY_TYPE, "query value does not parse as its type"),
	E(PG_E_QUERY_OPERATOR, "unknown compare operator in query"),
	E(PG_E_QUERY_TOO_COMPLEX, "query over its clause or nesting bound"),
	E(PG_E_QUERY_ESCAPE, "bad escape in query string: '\\' must precede '*', '?' or '\\'"),
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
