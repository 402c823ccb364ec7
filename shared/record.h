/*
 * record.h - the peergraph record: model, validity rules, conflict order, encodings.
 *
 * A record is what a graph floods (FEATURES.md §1): {type GUID, id GUID, version, flags,
 * creator id, last-modified-by id, typed attributes, creation / last-modified / expiration
 * times, security data, payload}. A decoded record is a *view*: its pointers point into the
 * buffer it was decoded from, so decoding never allocates or copies.
 *
 * Encodings (all integers little-endian; layout constants below, asserted in record.c):
 *
 *   record    = canonical || u16 secdata_len || secdata
 *   canonical = header(80) || creator || modifier || attribute block || payload
 *   header    = u8 fmt(=1) u8 reserved(=0) u16 flags u32 version
 *               u8 type[16] u8 id[16]
 *               u64 created_us u64 modified_us u64 expires_us
 *               u16 creator_len u16 modifier_len u16 nattrs u16 reserved(=0)
 *               u32 attrs_len u32 payload_len
 *   attribute = u8 name_len u8 type name[name_len] value
 *               value: int / date = 8 bytes; string = u32 len || UTF-8 bytes
 *
 * The canonical bytes are exactly what a signature covers: one record has one canonical
 * encoding (attributes sorted by name, no duplicates, reserved fields zero), and the
 * security data, which carries the signature, sits after it.
 *
 * Batch (many records in one datagram):
 *   u32 magic "PGRB" u8 fmt(=1) u8 flags(=0) u16 count u64 graph_key
 *   count x { u32 record_len || record }
 */
#ifndef PG_RECORD_H
#define PG_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct pg_guid {
	uint8_t b[16];
};

/*
 * The 128-bit record key: xxHash3-128 of (record id || creator id), seeded with the graph key.
 *
 * WHO OWNS A RECORD ID
 *
 * A record is named by its creator and its id together, not by its id alone. Were the key the
 * id's only, any member could publish a copy of another member's record id naming *itself* as
 * creator, signed with its own key -- a valid signature by the record's named toucher -- and
 * win the conflict order with a higher version: a takeover, then a tombstone. Refusing a
 * creator change at update time is not enough on its own: a node that never held the first
 * version would accept the forger's copy, and nodes would then disagree by arrival order.
 *
 * So the key covers the creator: the forger's copy is simply another record (bob's record
 * with alice's id), which can never replace, delete or outrank alice's, on every node and in
 * every arrival order. Only the creator's own signature (or an administrator's, for a record
 * whose modifier differs from its creator: verify.h) can make a new version of a record.
 * The other binding the issue considered, deriving the id from the creator's key, would leave
 * 128 bits of id to split between a nonce and a tag and would need a cryptographic hash on
 * every received copy; covering the creator in the key costs a few bytes more of xxHash3.
 * The original API generated record ids itself (random GUIDs) and still may: ids stay unique
 * among honest creators, and a lookup names the record by (id, creator).
 *
 * pg_record_check_update, the one rule every module applies before a copy replaces another
 * (version table, store, import, replay), also refuses a copy whose creator or id differs from
 * the held one's: xxHash3 is not collision-resistant against someone who crafts inputs, so a
 * crafted collision is caught there and refused (PG_E_CREATOR_CHANGED / PG_E_KEY_COLLISION)
 * -- it can never take a record over, only, at worst, be refused where the other is held.
 */
struct pg_key {
	uint64_t lo, hi;
};

enum pg_record_flags {
	PG_RECORD_AUTO_REFRESH = 0x1, /* re-published before it expires (p2p.h value) */
	PG_RECORD_DELETED = 0x2,      /* tombstone: payload and attributes empty */
	PG_RECORD_FLAGS_KNOWN = 0x3,
};

enum pg_attr_type {
	PG_ATTR_INT = 1,    /* int64 */
	PG_ATTR_STRING = 2, /* UTF-8 */
	PG_ATTR_DATE = 3,   /* microseconds since the Unix epoch */
};

enum {
	PG_RECORD_FMT = 1,
	PG_RECORD_HDR_LEN = 80,
	PG_RECORD_VERSION_MAX = 0x7fffffff, /* the version table keeps 31 bits */
	PG_ID_MAX = 256,		    /* creator / modifier id bytes (FEATURES.md §1) */
	PG_ATTR_NAME_MAX = 40,		    /* alphanumerics (keep) */
	PG_ATTRS_MAX = 128,		    /* ours: attributes per record */
	PG_SECDATA_MAX = 4096,		    /* ours: signatures, key ids, proofs */
	PG_RECORD_SIZE_MIN = 1024,	    /* bounds of the configurable max record size */
	PG_RECORD_SIZE_MAX = 60 << 20,
	PG_RECORD_SIZE_DEFAULT = 1 << 20,
	PG_BATCH_MAGIC = 0x42524750, /* "PGRB" */
	PG_BATCH_FMT = 1,
	PG_BATCH_HDR_LEN = 16,
	PG_DATAGRAM_MAX = 65507, /* the largest UDP payload over IPv4 */
};

/* Limits a decoder enforces; max_record_size bounds payload + attribute block. */
struct pg_record_limits {
	uint32_t max_record_size;
};

/* One attribute, as given to the encoder or yielded by the iterator. Names are not
 * NUL-terminated; string values point into the record buffer. */
struct pg_attr {
	const char *name;
	uint8_t name_len;
	uint8_t type;
	union {
		int64_t i;
		uint64_t date_us;
		struct {
			const char *ptr;
			uint32_t len;
		} str;
	} v;
};

struct pg_record {
	struct pg_guid type;
	struct pg_guid id;
	uint32_t version;
	uint16_t flags;
	uint16_t nattrs;
	uint64_t created_us;
	uint64_t modified_us;
	uint64_t expires_us;
	const char *creator;  /* UTF-8, not NUL-terminated, <= PG_ID_MAX bytes */
	const char *modifier; /* empty while the record was never updated */
	uint16_t creator_len;
	uint16_t modifier_len;
	uint32_t attrs_len;
	const uint8_t *attrs; /* encoded attribute block (pg_attrs_encode) */
	const uint8_t *payload;
	uint32_t payload_len;
	uint16_t secdata_len;
	const uint8_t *secdata;
};

/* Attribute constructors; name is a NUL-terminated string (checked when encoded). */
static inline struct pg_attr pg_attr_int(const char *name, int64_t v)
{
	struct pg_attr a = { .name = name, .name_len = (uint8_t)strlen(name), .type = PG_ATTR_INT };

	a.v.i = v;
	return a;
}

static inline struct pg_attr pg_attr_date(const char *name, uint64_t us)
{
	struct pg_attr a = { .name = name,
			     .name_len = (uint8_t)strlen(name),
			     .type = PG_ATTR_DATE };

	a.v.date_us = us;
	return a;
}

static inline struct pg_attr pg_attr_str(const char *name, const char *str)
{
	struct pg_attr a = { .name = name,
			     .name_len = (uint8_t)strlen(name),
			     .type = PG_ATTR_STRING };

	a.v.str.ptr = str;
	a.v.str.len = (uint32_t)strlen(str);
	return a;
}

/* Iterator over a validated attribute block. */
struct pg_attr_iter {
	const uint8_t *p, *end;
};

/* ---- limits ------------------------------------------------------------------------ */

/* Sets the defaults (max record size 1 MiB). */
void pg_record_limits_default(struct pg_record_limits *lim);
/* 0, or PG_E_BAD_LIMIT when max_record_size is outside 1 KiB .. 60 MiB. */
int pg_record_limits_check(const struct pg_record_limits *lim);

/* ---- validity and order ------------------------------------------------------------ */

/* Checks the rules every record obeys: version 1..2^31-1, known flags, creation <=
 * last-modified < expiration, deleted => no payload and no attributes, id lengths, size
 * limit, attribute count. 0 or a PG_E_* code. Does not re-parse the attribute block. */
int pg_record_validate(const struct pg_record *r, const struct pg_record_limits *lim);

/* Checks that `next` may replace `prev` (same record key): the same record (same id and
 * creator: the creator never changes from one version to the next), the same type, and an
 * expiration that does not shrink. 0, PG_E_KEY_COLLISION (another id), PG_E_CREATOR_CHANGED,
 * PG_E_BAD_FORMAT (another type), or PG_E_EXPIRY_SHRANK. */
int pg_record_check_update(const struct pg_record *prev, const struct pg_record *next);

/* The conflict order of FEATURES.md §1, used everywhere two copies of a record meet:
 * higher version -> updated beats never-updated -> lexically higher last-modified-by ->
 * later last-modified time -> larger security data -> higher security-data bytes.
 * Returns > 0 when a wins, < 0 when b wins, 0 when they are the same copy. */
int pg_record_order(const struct pg_record *a, const struct pg_record *b);

/* True when the record has been updated (its last-modified-by id is set). */
static inline bool pg_record_updated(const struct pg_record *r)
{
	return r->modifier_len != 0;
}

/* ---- keys ---------------------------------------------------------------------------- */

/* xxHash3-64 of a graph id; seeds record keys so two graphs never share a key. */
uint64_t pg_graph_key(const char *graph_id, size_t len);
/* The record key of the record (id, creator) in the graph whose key is graph_key; creator_len
 * <= PG_ID_MAX (asserted). */
struct pg_key pg_record_key(uint64_t graph_key, const struct pg_guid *id, const char *creator,
			    size_t creator_len);
/* The record key of a record view. */
static inline struct pg_key pg_record_key_of(uint64_t graph_key, const struct pg_record *r)
{
	return pg_record_key(graph_key, &r->id, r->creator, r->creator_len);
}

static inline bool pg_key_eq(struct pg_key a, struct pg_key b)
{
	return a.lo == b.lo && a.hi == b.hi;
}

/* ---- attributes -------------------------------------------------------------------- */

/* True for 1..40 ASCII letters and digits. */
bool pg_attr_name_valid(const char *name, size_t len);
/* True for the names reserved for record fields (peercreatorid, peerrecordid,
 * peerrecordtype, peercreationtime, peerlastmodificationtime, peerlastmodifiedby),
 * compared without regard to case. */
bool pg_attr_name_reserved(const char *name, size_t len);

/* Bytes pg_attrs_encode() needs for these attributes. */
size_t pg_attrs_encoded_size(const struct pg_attr *attrs, unsigned n);
/* Encodes attributes in canonical order (sorted by name) into out. Returns the length
 * written, or PG_E_ATTR_NAME / _RESERVED / _TYPE / _ORDER (duplicate) / TOO_MANY_ATTRS /
 * BAD_UTF8, or -ENOSPC when cap is too small. */
long pg_attrs_encode(const struct pg_attr *attrs, unsigned n, uint8_t *out, size_t cap);
/* Validates an attribute block of nattrs attributes. 0 or a PG_E_* code. */
int pg_attrs_check(const uint8_t *block, size_t len, unsigned nattrs);

static inline void pg_attr_iter_init(struct pg_attr_iter *it, const struct pg_record *r)
{
	it->p = r->attrs;
	it->end = r->attrs + r->attrs_len;
}
/* Yields the next attribute of a validated block; false at the end. */
bool pg_attr_iter_next(struct pg_attr_iter *it, struct pg_attr *out);
/* Finds an attribute by exact name. 0, or PG_E_NOT_FOUND. */
int pg_attr_find(const struct pg_record *r, const char *name, size_t len, struct pg_attr *out);

/* ---- record encoding --------------------------------------------------------------- */

/* Bytes of the canonical encoding (what a signature covers). */
size_t pg_record_canonical_size(const struct pg_record *r);
/* Bytes of the full record encoding: canonical || u16 secdata_len || secdata. */
size_t pg_record_encoded_size(const struct pg_record *r);
/* Encodes a valid record; r->attrs must be a block from pg_attrs_encode(). Returns the
 * length written, a PG_E_* code when the record is invalid, or -ENOSPC. */
long pg_record_encode(const struct pg_record *r, const struct pg_record_limits *lim, uint8_t *out,
		      size_t cap);
/* Writes only the canonical encoding (for signing). Same returns as pg_record_encode(). */
long pg_record_encode_canonical(const struct pg_record *r, const struct pg_record_limits *lim,
				uint8_t *out, size_t cap);
/* The record key of a record encoding that was already decoded once (its header and creator
 * are read without checks: the caller's store holds only decoded records). */
struct pg_key pg_record_key_encoded(uint64_t graph_key, const uint8_t *rec);
/* The key of len bytes not yet decoded (from the network): false when they are too short to
 * hold the header and the creator it names. A hint (to prefetch), not a check: the decoder
 * may still refuse the record. */
bool pg_record_key_peek(uint64_t graph_key, const uint8_t *rec, size_t len, struct pg_key *out);
/* Makes dst the view of new_raw, a copy of the len-byte encoding raw that src views. */
void pg_record_rebase(struct pg_record *dst, const struct pg_record *src, const uint8_t *raw,
		      uint32_t len, const uint8_t *new_raw);
/* Decodes exactly len bytes of one record into a view over buf; checks every length before
 * reading it and every validity rule. 0 or a PG_E_* code; *out is untouched on error. */
int pg_record_decode(const uint8_t *buf, size_t len, const struct pg_record_limits *lim,
		     struct pg_record *out);

/* ---- batches ----------------------------------------------------------------------- */

struct pg_batch_writer {
	uint8_t *buf;
	size_t cap, len;
	uint16_t count;
};

/* Starts a batch for the graph in buf (cap >= PG_BATCH_HDR_LEN). 0 or -ENOSPC. */
int pg_batch_begin(struct pg_batch_writer *w, uint8_t *buf, size_t cap, uint64_t graph_key);
/* Appends one record. 0, -ENOSPC when it does not fit (the batch is unchanged), or a
 * PG_E_* code for an invalid record. */
int pg_batch_add(struct pg_batch_writer *w, const struct pg_record *r,
		 const struct pg_record_limits *lim);
/* Seals the header; returns the batch length in bytes. */
size_t pg_batch_end(struct pg_batch_writer *w);

/* Decodes a whole batch, all or nothing: fills recs[0..*n) with views over buf, or returns a
 * PG_E_* code (PG_E_TOO_MANY_RECORDS when count > max) leaving *n = 0. */
int pg_batch_decode(const uint8_t *buf, size_t len, const struct pg_record_limits *lim,
		    uint64_t *graph_key, struct pg_record *recs, unsigned max, unsigned *n);

/* ---- text helpers ------------------------------------------------------------------- */

/* True when buf[0..len) is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
bool pg_utf8_valid(const char *buf, size_t len);
/* Formats a GUID as 8-4-4-4-12 lowercase hex into out (37 bytes with the NUL). */
void pg_guid_format(const struct pg_guid *g, char out[37]);
/* Parses the 8-4-4-4-12 form (either case, optional braces). 0 or PG_E_QUERY_TYPE. */
int pg_guid_parse(const char *s, size_t len, struct pg_guid *out);

#endif
