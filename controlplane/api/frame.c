/*
 * frame.c - control-API frames (frame.h, proto.h): the header decoder, the schema check of a
 * body, field iteration, and the growing frame writer.
 *
 * The schema table below is the one place that says which fields each message carries: the
 * daemon checks every request against it before a handler runs, and libpeergraph checks every
 * reply and event the same way, so neither side ever reads a field it did not expect. Record
 * fields are the exception on purpose: their bytes are decoded by whoever handles them, one
 * record at a time, because one bad record in a batch of adds gets its own RESULT, not a
 * refusal of the whole frame.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "peername.h"
#include "pg_bytes.h"
#include "pg_error.h"
#include "query.h"

/* ---- field kinds and bounds ------------------------------------------------------------ */

struct tag_info {
	uint8_t kind;
	uint32_t max; /* strings and bytes: the largest value */
};

static const struct tag_info tags[PG_API_TAGS] = {
	[PG_API_T_VERSION_STR] = { PG_API_K_STRING, 64 },
	[PG_API_T_UID] = { PG_API_K_U32, 4 },
	[PG_API_T_IDENTITY] = { PG_API_K_STRING, PG_PEERNAME_MAX },
	[PG_API_T_CLASSIFIER] = { PG_API_K_STRING, PG_CLASSIFIER_MAX },
	[PG_API_T_FRIENDLY_NAME] = { PG_API_K_STRING, PG_FRIENDLY_NAME_MAX_BYTES },
	[PG_API_T_PASSWORD] = { PG_API_K_STRING, 1024 },
	[PG_API_T_DATA] = { PG_API_K_BYTES, 1 << 20 },
	[PG_API_T_FLAGS] = { PG_API_K_U32, 4 },
	[PG_API_T_GRAPH] = { PG_API_K_STRING, 256 },
	[PG_API_T_PATH] = { PG_API_K_STRING, 4095 },
	[PG_API_T_STATUS] = { PG_API_K_U32, 4 },
	[PG_API_T_COUNT] = { PG_API_K_U64, 8 },
	[PG_API_T_RECORD] = { PG_API_K_RECORD, PG_API_FRAME_MAX },
	[PG_API_T_RECORD_ID] = { PG_API_K_GUID, 16 },
	[PG_API_T_TYPE] = { PG_API_K_GUID, 16 },
	[PG_API_T_CREATOR] = { PG_API_K_STRING, PG_ID_MAX },
	[PG_API_T_QUERY] = { PG_API_K_STRING, PG_QUERY_TEXT_MAX },
	[PG_API_T_CURSOR] = { PG_API_K_BYTES, 64 },
	[PG_API_T_RESULT] = { PG_API_K_U32, 4 },
	[PG_API_T_EVENT_KIND] = { PG_API_K_U32, 4 },
	[PG_API_T_EVENT_MASK] = { PG_API_K_U32, 4 },
	[PG_API_T_LOST] = { PG_API_K_U64, 8 },
	[PG_API_T_ITEM] = { PG_API_K_ITEM, PG_API_FRAME_MAX },
	[PG_API_T_MAX_RECORD_SIZE] = { PG_API_K_U32, 4 },
	[PG_API_T_MESSAGE] = { PG_API_K_STRING, PG_API_STRING_MAX },
	[PG_API_T_SEQ] = { PG_API_K_U64, 8 },
	[PG_API_T_ADDRESS] = { PG_API_K_STRING, PG_API_ADDRESS_MAX },
	[PG_API_T_NODE] = { PG_API_K_STRING, PG_API_NODE_MAX },
	[PG_API_T_REASON] = { PG_API_K_U32, 4 },
	[PG_API_T_RECORDS_RX] = { PG_API_K_U64, 8 },
	[PG_API_T_RECORDS_TX] = { PG_API_K_U64, 8 },
	[PG_API_T_RETRANSMITS] = { PG_API_K_U64, 8 },
	[PG_API_T_SRTT_US] = { PG_API_K_U64, 8 },
	[PG_API_T_LINKS] = { PG_API_K_U32, 4 },
	[PG_API_T_NAME] = { PG_API_K_STRING, PG_API_NAME_MAX },
	[PG_API_T_REASM_TIMEOUTS] = { PG_API_K_U64, 8 },
};

/* ---- the schema table -------------------------------------------------------------------- */

enum {
	ONE = 0x1,  /* required */
	MANY = 0x2, /* may repeat */
	RULES = 12, /* rules per list (zero-terminated) */
};

struct rule {
	uint8_t tag, flags;
};

struct schema {
	uint16_t type;
	struct rule req[RULES];	 /* the request's fields (an event's, for PG_API_EVENT) */
	struct rule rep[RULES];	 /* the successful reply's */
	struct rule item[RULES]; /* an ITEM's, where the reply is a list */
};

#define R(t)                                                                                       \
	{                                                                                          \
		PG_API_T_##t, ONE                                                                  \
	}
#define O(t)                                                                                       \
	{                                                                                          \
		PG_API_T_##t, 0                                                                    \
	}
#define M(t)                                                                                       \
	{                                                                                          \
		PG_API_T_##t, MANY                                                                 \
	}
#define RM(t)                                                                                      \
	{                                                                                          \
		PG_API_T_##t, ONE | MANY                                                           \
	}

/* clang-format off */
static const struct schema schemas[] = {
	{ PG_API_HELLO, { { 0 } }, { R(VERSION_STR), R(UID) }, { { 0 } } },
	{ PG_API_IDENTITY_CREATE, { R(CLASSIFIER), O(FRIENDLY_NAME), O(FLAGS) }, { R(IDENTITY) },
	  { { 0 } } },
	{ PG_API_IDENTITY_LIST, { { 0 } }, { M(ITEM) }, { R(IDENTITY), O(FRIENDLY_NAME), O(FLAGS) } },
	{ PG_API_IDENTITY_DELETE, { R(IDENTITY) }, { { 0 } }, { { 0 } } },
	{ PG_API_IDENTITY_SET_NAME, { R(IDENTITY), R(FRIENDLY_NAME) }, { { 0 } }, { { 0 } } },
	{ PG_API_IDENTITY_SET_DEFAULT, { R(IDENTITY) }, { { 0 } }, { { 0 } } },
	{ PG_API_IDENTITY_EXPORT, { R(IDENTITY), R(PASSWORD) }, { R(DATA) }, { { 0 } } },
	{ PG_API_IDENTITY_IMPORT, { R(DATA), R(PASSWORD), O(FLAGS) }, { R(IDENTITY) }, { { 0 } } },
	{ PG_API_GRAPH_CREATE, { R(GRAPH), O(IDENTITY), O(MAX_RECORD_SIZE), O(FLAGS) }, { { 0 } },
	  { { 0 } } },
	{ PG_API_GRAPH_OPEN, { R(GRAPH) }, { { 0 } }, { { 0 } } },
	{ PG_API_GRAPH_CLOSE, { R(GRAPH) }, { { 0 } }, { { 0 } } },
	{ PG_API_GRAPH_DELETE, { R(GRAPH) }, { { 0 } }, { { 0 } } },
	{ PG_API_GRAPH_LIST, { { 0 } }, { M(ITEM) }, { R(GRAPH), R(STATUS), O(IDENTITY) } },
	{ PG_API_GRAPH_STATUS, { R(GRAPH) },
	  { R(STATUS), R(COUNT), O(IDENTITY), O(MAX_RECORD_SIZE), O(LINKS) }, { { 0 } } },
	{ PG_API_GRAPH_EXPORT, { R(GRAPH), R(PATH) }, { { 0 } }, { { 0 } } },
	{ PG_API_GRAPH_IMPORT, { R(GRAPH), R(PATH) }, { { 0 } }, { { 0 } } },
	{ PG_API_GRAPH_LISTEN, { R(GRAPH), O(FLAGS) }, { { 0 } }, { { 0 } } },
	{ PG_API_GRAPH_CONNECT, { R(GRAPH), R(ADDRESS) }, { R(ADDRESS) }, { { 0 } } },
	{ PG_API_GRAPH_DISCONNECT, { R(GRAPH), R(ADDRESS) }, { { 0 } }, { { 0 } } },
	{ PG_API_GRAPH_NEIGHBOURS, { R(GRAPH) }, { M(ITEM) },
	  { R(ADDRESS), O(NODE), O(FLAGS), O(RECORDS_RX), O(RECORDS_TX), O(RETRANSMITS),
	    O(SRTT_US), O(REASM_TIMEOUTS) } },
	{ PG_API_RECORD_ADD, { R(GRAPH), RM(RECORD) }, { M(RESULT) }, { { 0 } } },
	{ PG_API_RECORD_UPDATE, { R(GRAPH), RM(RECORD) }, { M(RESULT) }, { { 0 } } },
	{ PG_API_RECORD_DELETE, { R(GRAPH), RM(RECORD_ID), O(CREATOR) }, { M(RESULT) }, { { 0 } } },
	{ PG_API_RECORD_GET, { R(GRAPH), R(RECORD_ID), O(CREATOR), O(FLAGS) }, { R(RECORD) },
	  { { 0 } } },
	{ PG_API_RECORD_ENUM, { R(GRAPH), O(TYPE), O(CREATOR), O(FLAGS), O(CURSOR) },
	  { M(RECORD), O(CURSOR) }, { { 0 } } },
	{ PG_API_RECORD_SEARCH, { R(GRAPH), R(QUERY), O(FLAGS), O(CURSOR) },
	  { M(RECORD), O(CURSOR) }, { { 0 } } },
	{ PG_API_NODE_STATS, { { 0 } }, { O(ADDRESS), M(ITEM) }, { R(NAME), R(COUNT) } },
	{ PG_API_SUBSCRIBE, { R(GRAPH), O(EVENT_MASK) }, { { 0 } }, { { 0 } } },
	{ PG_API_UNSUBSCRIBE, { R(GRAPH) }, { { 0 } }, { { 0 } } },
	{ PG_API_EVENT, { R(EVENT_KIND), O(GRAPH), O(RECORD), O(SEQ), O(LOST), O(STATUS),
			  O(ADDRESS), O(NODE), O(REASON), O(FLAGS) },
	  { { 0 } }, { { 0 } } },
};
/* clang-format on */

static const struct rule failed_reply[RULES] = { O(MESSAGE) };

static const struct schema *schema_of(uint16_t type)
{
	for (size_t i = 0; i < sizeof(schemas) / sizeof(schemas[0]); i++)
		if (schemas[i].type == type)
			return &schemas[i];
	return NULL;
}

static const struct rule *rule_of(const struct rule *rules, uint16_t tag)
{
	for (int i = 0; i < RULES && rules[i].tag; i++)
		if (rules[i].tag == tag)
			return &rules[i];
	return NULL;
}

/* ---- decoding ----------------------------------------------------------------------------- */

int pg_api_hdr_decode(const uint8_t hdr[PG_API_HDR_LEN], struct pg_api_hdr *h)
{
	h->len = load_le32(hdr + PG_API_OFF_LEN);
	h->version = load_le16(hdr + PG_API_OFF_VERSION);
	h->type = load_le16(hdr + PG_API_OFF_TYPE);
	h->id = load_le32(hdr + PG_API_OFF_ID);
	h->status = (int32_t)load_le32(hdr + PG_API_OFF_STATUS);
	if (h->version != PG_API_VERSION)
		return PG_E_API_VERSION;
	if (h->len < PG_API_LEN_MIN || h->len > PG_API_FRAME_MAX - 4)
		return PG_E_API_FRAME;
	return 0;
}

/* Reads one field header and bounds its value; advances *p. */
static int field_parse(const uint8_t **p, const uint8_t *end, struct pg_api_field *f)
{
	size_t left = (size_t)(end - *p);

	if (left < PG_API_FIELD_HDR_LEN)
		return PG_E_API_FIELD;
	f->tag = load_le16(*p);
	f->len = load_le32(*p + 4);
	if (load_le16(*p + 2) != 0 || f->len > left - PG_API_FIELD_HDR_LEN)
		return PG_E_API_FIELD;
	f->v = *p + PG_API_FIELD_HDR_LEN;
	*p = f->v + f->len;
	return 0;
}

static bool value_ok(const struct pg_api_field *f)
{
	const struct tag_info *t = &tags[f->tag];

	switch (t->kind) {
	case PG_API_K_U32:
		return f->len == 4;
	case PG_API_K_U64:
		return f->len == 8;
	case PG_API_K_GUID:
		return f->len == 16;
	case PG_API_K_STRING:
		return f->len <= t->max && !memchr(f->v, 0, f->len) &&
		       pg_utf8_valid((const char *)f->v, f->len);
	case PG_API_K_BYTES:
	case PG_API_K_ITEM: /* the item's own fields are checked by the caller */
		return f->len <= t->max;
	case PG_API_K_RECORD:
		return f->len >= PG_RECORD_HDR_LEN; /* decoded by its handler, record by record */
	default:
		return false;
	}
}

/* Checks a list of fields against rules; items (one level) against item rules. */
static int fields_check(const struct rule *rules, const struct rule *item, const uint8_t *body,
			size_t len, uint32_t max_fields, uint16_t *bad)
{
	const uint8_t *p = body, *end = body + len;
	uint32_t seen[PG_API_TAGS] = { 0 }, n = 0;
	struct pg_api_field f = { 0 };
	const struct rule *r;

	while (p < end) {
		f.tag = 0;
		if (field_parse(&p, end, &f) || ++n > max_fields)
			goto bad_field;
		if (f.tag == 0 || f.tag >= PG_API_TAGS || !(r = rule_of(rules, f.tag)))
			goto bad_field;
		if ((seen[f.tag]++ && !(r->flags & MANY)) || !value_ok(&f))
			goto bad_field;
		if (tags[f.tag].kind == PG_API_K_ITEM &&
		    fields_check(item, NULL, f.v, f.len, PG_API_ITEM_FIELDS_MAX, bad))
			return PG_E_API_FIELD; /* *bad names the item's field */
	}
	for (int i = 0; i < RULES && rules[i].tag; i++) {
		if ((rules[i].flags & ONE) && !seen[rules[i].tag]) {
			f.tag = rules[i].tag;
			goto bad_field;
		}
	}
	return 0;

bad_field:
	if (bad)
		*bad = f.tag;
	return PG_E_API_FIELD;
}

int pg_api_body_check(uint16_t type, int32_t status, const uint8_t *body, size_t len,
		      const struct pg_record_limits *lim, uint16_t *bad_tag)
{
	bool reply = type != PG_API_EVENT && (type & PG_API_REPLY);
	const struct schema *s = schema_of(reply ? (uint16_t)(type & ~PG_API_REPLY) : type);
	const struct rule *rules;

	(void)lim; /* records are decoded by their handlers (see the top of this file) */
	if (bad_tag)
		*bad_tag = 0;
	if (!s)
		return PG_E_API_TYPE;
	if (!reply && status != 0)
		return PG_E_API_FIELD; /* only a reply carries a status */
	if (reply)
		rules = status ? failed_reply : s->rep;
	else
		rules = s->req;
	return fields_check(rules, s->item, body, len, PG_API_FIELDS_MAX, bad_tag);
}

void pg_api_iter_init(struct pg_api_iter *it, const uint8_t *body, size_t len)
{
	it->p = body;
	it->end = body + len;
}

bool pg_api_iter_next(struct pg_api_iter *it, struct pg_api_field *f)
{
	return it->p < it->end && field_parse(&it->p, it->end, f) == 0;
}

bool pg_api_find(const uint8_t *body, size_t len, uint16_t tag, struct pg_api_field *f)
{
	struct pg_api_iter it;

	pg_api_iter_init(&it, body, len);
	while (pg_api_iter_next(&it, f))
		if (f->tag == tag)
			return true;
	return false;
}

uint32_t pg_api_u32(const struct pg_api_field *f)
{
	return f->len == 4 ? load_le32(f->v) : 0;
}

uint64_t pg_api_u64(const struct pg_api_field *f)
{
	return f->len == 8 ? load_le64(f->v) : 0;
}

bool pg_api_str(const struct pg_api_field *f, char *out, size_t cap)
{
	if (f->len >= cap)
		return false;
	memcpy(out, f->v, f->len);
	out[f->len] = '\0';
	return true;
}

/* ---- writing ------------------------------------------------------------------------------ */

void pg_api_writer_init(struct pg_api_writer *w, size_t max)
{
	memset(w, 0, sizeof(*w));
	w->max = max < PG_API_FRAME_MAX ? max : PG_API_FRAME_MAX;
}

void pg_api_writer_free(struct pg_api_writer *w)
{
	free(w->buf);
	memset(w, 0, sizeof(*w));
}

/* Makes room for n more bytes; false (and the sticky error) when it cannot. */
static bool reserve(struct pg_api_writer *w, size_t n)
{
	size_t cap;
	uint8_t *b;

	if (w->err)
		return false;
	if (n > w->max - w->len) {
		w->err = -ENOSPC;
		return false;
	}
	if (w->len + n <= w->cap)
		return true;
	cap = w->cap ? w->cap : 4096;
	while (cap < w->len + n)
		cap *= 2;
	if (cap > w->max)
		cap = w->max;
	b = realloc(w->buf, cap);
	if (!b) {
		w->err = -ENOMEM;
		return false;
	}
	w->buf = b;
	w->cap = cap;
	return true;
}

void pg_api_begin(struct pg_api_writer *w, uint16_t type, uint32_t id, int32_t status)
{
	w->len = 0;
	w->item = 0;
	w->err = 0;
	if (!reserve(w, PG_API_HDR_LEN))
		return;
	store_le16(w->buf + PG_API_OFF_VERSION, PG_API_VERSION);
	store_le16(w->buf + PG_API_OFF_TYPE, type);
	store_le32(w->buf + PG_API_OFF_ID, id);
	store_le32(w->buf + PG_API_OFF_STATUS, (uint32_t)status);
	w->len = PG_API_HDR_LEN;
}

/* Appends a field header for a value of len bytes; the value's place, or NULL. */
static uint8_t *field(struct pg_api_writer *w, uint16_t tag, size_t len)
{
	uint8_t *p;

	if (len > UINT32_MAX || !reserve(w, PG_API_FIELD_HDR_LEN + len))
		return NULL;
	p = w->buf + w->len;
	store_le16(p, tag);
	store_le16(p + 2, 0);
	store_le32(p + 4, (uint32_t)len);
	w->len += PG_API_FIELD_HDR_LEN + len;
	return p + PG_API_FIELD_HDR_LEN;
}

void pg_api_put_u32(struct pg_api_writer *w, uint16_t tag, uint32_t v)
{
	uint8_t *p = field(w, tag, 4);

	if (p)
		store_le32(p, v);
}

void pg_api_put_u64(struct pg_api_writer *w, uint16_t tag, uint64_t v)
{
	uint8_t *p = field(w, tag, 8);

	if (p)
		store_le64(p, v);
}

void pg_api_put_bytes(struct pg_api_writer *w, uint16_t tag, const void *v, size_t len)
{
	uint8_t *p = field(w, tag, len);

	if (p && len)
		memcpy(p, v, len);
}

void pg_api_put_str(struct pg_api_writer *w, uint16_t tag, const char *s)
{
	pg_api_put_bytes(w, tag, s, strlen(s));
}

void pg_api_put_record(struct pg_api_writer *w, const struct pg_record *r,
		       const struct pg_record_limits *lim)
{
	size_t len = pg_record_encoded_size(r);
	uint8_t *p = field(w, PG_API_T_RECORD, len);
	long n;

	if (!p)
		return;
	n = pg_record_encode(r, lim, p, len);
	if (n != (long)len) {
		w->len -= PG_API_FIELD_HDR_LEN + len;
		w->err = n < 0 ? (int)n : -EINVAL;
	}
}

void pg_api_item_begin(struct pg_api_writer *w)
{
	if (w->item && !w->err)
		w->err = -EINVAL; /* items do not nest */
	if (field(w, PG_API_T_ITEM, 0))
		w->item = w->len - PG_API_FIELD_HDR_LEN;
}

void pg_api_item_end(struct pg_api_writer *w)
{
	if (w->err)
		return;
	if (!w->item) {
		w->err = -EINVAL;
		return;
	}
	store_le32(w->buf + w->item + 4, (uint32_t)(w->len - w->item - PG_API_FIELD_HDR_LEN));
	w->item = 0;
}

long pg_api_end(struct pg_api_writer *w)
{
	if (!w->err && w->item)
		w->err = -EINVAL;
	if (w->err)
		return w->err;
	store_le32(w->buf + PG_API_OFF_LEN, (uint32_t)(w->len - 4));
	return (long)w->len;
}
