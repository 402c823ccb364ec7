/*
 * client_record.c - records through libpeergraph: the public struct peergraph_record to the
 * codec's struct pg_record (record.h) and back; batched add, update and delete; get; and
 * enumeration and search, which follow the daemon's continuation cursors.
 *
 * What the library fills in. An added record gets a random id when its id is all zero (written
 * back to the caller's record), version 1, an empty creator (the daemon sets its graph's
 * identity, or its node name), creation = last-modified = now, and, when expires_us is 0, an
 * expiry PEERGRAPH_LIFETIME_DEFAULT_S from now. An update travels the same way: the daemon
 * keeps the record's creator and creation time and sets its version, modifier and
 * last-modified time itself, so the version 1, empty creator and times the library sends
 * are placeholders that only make the record encodable (the codec needs a valid record); what
 * the caller gives -- id, type, flags, payload, attributes, expiry -- is what the update says.
 *
 * Each record is checked here with the codec's own rules (attribute names, sizes up to the
 * largest record any graph allows, times) before it is sent: a record refused here gets its
 * error in results[] and is not sent, the others still are, just as the daemon answers one
 * RESULT per record it was sent.
 *
 * BATCHES OVER SEVERAL FRAMES, PIPELINED
 *
 * A call takes up to PEERGRAPH_BATCH_MAX records. Records go into one frame until the next
 * would take it past PGC_BATCH_FRAME_MAX bytes or PGC_BATCH_FRAME_RECORDS records; that frame
 * is sent and the rest of the batch goes on in a new one. Frames are not answered one by one:
 * up to PGC_WINDOW_MAX are sent before the oldest one's reply is read (struct batch keeps
 * each one's range of records), so that this side encodes the next frame while the daemon
 * stores one and the store commits the ones before; replies come in request order. results[i]
 * holds PENDING while record i is in a frame awaiting its RESULT; the RESULTs of a frame are
 * matched, in order, to its PENDING records, and a reply with more or fewer RESULTs than
 * records is a protocol error. When a frame fails as a whole, its records get that error and
 * no further frame is sent: the records not sent get it too, while the frames already sent
 * after it are still answered and their records get their own outcome (they may have been
 * added). The call returns how many records were added, or the error when there were none.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "client_priv.h"
#include "pg_assert.h"
#include "pg_error.h"
#include "pg_time.h"

_Static_assert(sizeof(struct peergraph_guid) == sizeof(struct pg_guid), "a GUID is 16 bytes");
_Static_assert(SAME(PEERGRAPH_ATTR_INT, PG_ATTR_INT) &&
		   SAME(PEERGRAPH_ATTR_STRING, PG_ATTR_STRING) &&
		   SAME(PEERGRAPH_ATTR_DATE, PG_ATTR_DATE),
	       "attribute types travel as they are");
_Static_assert(SAME(PEERGRAPH_RECORD_AUTO_REFRESH, PG_RECORD_AUTO_REFRESH) &&
		   SAME(PEERGRAPH_RECORD_DELETED, PG_RECORD_DELETED),
	       "record flags travel as they are");

enum {
	PENDING = 1, /* results[i]: sent, its RESULT not read yet (outcomes are 0 or negative) */
	CURSOR_MAX = 64, /* the CURSOR field's bound (frame.c) */
};

/* Makes the scratch buffer hold need bytes, emptied. 0 or -ENOMEM. */
static int scratch_reserve(struct peergraph *pg, size_t need)
{
	uint8_t *p;

	pg->scratch_used = 0;
	if (need <= pg->scratch_cap)
		return 0;
	p = realloc(pg->scratch, need);
	if (!p)
		return -ENOMEM;
	pg->scratch = p;
	pg->scratch_cap = need;
	return 0;
}

/* Copies len bytes into the scratch buffer with a NUL; the room was reserved. */
static const char *scratch_str(struct peergraph *pg, const char *s, size_t len)
{
	char *p = (char *)pg->scratch + pg->scratch_used;

	PG_ASSERT(len + 1 <= pg->scratch_cap - pg->scratch_used);
	memcpy(p, s, len);
	p[len] = '\0';
	pg->scratch_used += len + 1;
	return p;
}

/* ---- public record -> codec record ------------------------------------------------------ */

/* The codec's form of one public attribute. 0 or this record's error. */
static int attr_import(const struct peergraph_attr *in, struct pg_attr *a)
{
	size_t len = in->name ? strnlen(in->name, PG_ATTR_NAME_MAX + 1) : 0;

	if (len == 0 || len > PG_ATTR_NAME_MAX)
		return PG_E_ATTR_NAME;
	memset(a, 0, sizeof(*a));
	a->name = in->name;
	a->name_len = (uint8_t)len;
	a->type = (uint8_t)in->type;
	switch (in->type) {
	case PEERGRAPH_ATTR_INT:
		a->v.i = in->i;
		return 0;
	case PEERGRAPH_ATTR_DATE:
		a->v.date_us = in->date;
		return 0;
	case PEERGRAPH_ATTR_STRING:
		if (!in->str)
			return -EINVAL;
		len = strnlen(in->str, (size_t)PG_RECORD_SIZE_MAX + 1);
		if (len > PG_RECORD_SIZE_MAX)
			return PG_E_TOO_LARGE;
		a->v.str.ptr = in->str;
		a->v.str.len = (uint32_t)len;
		return 0;
	default:
		return PG_E_ATTR_TYPE;
	}
}

/* Encodes a record's attributes into the scratch buffer (r->attrs). 0 or its error. */
static int attrs_import(struct peergraph *pg, const struct peergraph_record *in,
			struct pg_record *r)
{
	struct pg_attr a[PG_ATTRS_MAX];
	size_t need;
	long len;
	int err;

	if (in->nattrs > PG_ATTRS_MAX)
		return PG_E_TOO_MANY_ATTRS;
	if (in->nattrs && !in->attrs)
		return -EINVAL;
	for (unsigned i = 0; i < in->nattrs; i++)
		if ((err = attr_import(&in->attrs[i], &a[i])))
			return err;
	need = pg_attrs_encoded_size(a, in->nattrs);
	if (need > PG_RECORD_SIZE_MAX)
		return PG_E_TOO_LARGE;
	if ((err = scratch_reserve(pg, need)))
		return err;
	len = pg_attrs_encode(a, in->nattrs, pg->scratch, need);
	if (len < 0)
		return (int)len;
	r->attrs = pg->scratch;
	r->attrs_len = (uint32_t)len;
	r->nattrs = (uint16_t)in->nattrs;
	return 0;
}

/* The codec's form of a record to add or update (see the top of this file for what the
 * library fills in). 0, or why this record cannot be sent. */
static int record_import(struct peergraph *pg, const struct peergraph_record *in, uint64_t now,
			 struct pg_record *r)
{
	int err;

	memset(r, 0, sizeof(*r));
	if (in->payload_len > PG_RECORD_SIZE_MAX)
		return PG_E_TOO_LARGE;
	if (in->payload_len && !in->payload)
		return -EINVAL;
	if (in->flags > UINT16_MAX)
		return PG_E_BAD_FLAGS;
	if (in->expires_us && in->expires_us <= now)
		return PG_E_RECORD_EXPIRED;
	memcpy(r->type.b, in->type.b, sizeof(r->type.b));
	memcpy(r->id.b, in->id.b, sizeof(r->id.b));
	r->version = 1;
	r->flags = (uint16_t)in->flags;
	r->created_us = r->modified_us = now;
	r->expires_us =
	    in->expires_us ? in->expires_us : now + PEERGRAPH_LIFETIME_DEFAULT_S * PG_USEC_PER_SEC;
	r->creator = r->modifier = "";
	r->payload = in->payload;
	r->payload_len = (uint32_t)in->payload_len;
	if ((err = attrs_import(pg, in, r)))
		return err;
	return pg_record_validate(r, &pgc_limits);
}

/* ---- codec record -> public record ------------------------------------------------------ */

/* Copies a string of the record into a fixed buffer of PEERGRAPH_ID_MAX + 1 bytes. */
static const char *id_copy(char *dst, const char *s, size_t len)
{
	PG_ASSERT(len <= PEERGRAPH_ID_MAX); /* pg_record_decode bounds it */
	memcpy(dst, s, len);
	dst[len] = '\0';
	return dst;
}

int pgc_record_export(struct peergraph *pg, const struct pg_api_field *f,
		      struct peergraph_record *out)
{
	struct pg_attr_iter it;
	struct pg_record r;
	struct pg_attr a;
	unsigned n = 0;
	int err;

	err = pg_record_decode(f->v, f->len, &pgc_limits, &r);
	if (err)
		return pgc_fail(pg, err, "the daemon sent a record that does not decode: %s",
				pg_strerror(err));
	/* each attribute's NUL-terminated name and string take no more than its encoding */
	if ((err = scratch_reserve(pg, r.attrs_len)))
		return err;
	memset(out, 0, sizeof(*out));
	memcpy(out->type.b, r.type.b, sizeof(out->type.b));
	memcpy(out->id.b, r.id.b, sizeof(out->id.b));
	out->version = r.version;
	out->flags = r.flags;
	out->creator = id_copy(pg->creator, r.creator, r.creator_len);
	out->modifier = id_copy(pg->modifier, r.modifier, r.modifier_len);
	out->created_us = r.created_us;
	out->modified_us = r.modified_us;
	out->expires_us = r.expires_us;
	pg_attr_iter_init(&it, &r);
	while (n < r.nattrs && pg_attr_iter_next(&it, &a)) {
		struct peergraph_attr *p = &pg->attrs[n++];

		memset(p, 0, sizeof(*p));
		p->name = scratch_str(pg, a.name, a.name_len);
		p->type = (enum peergraph_attr_type)a.type;
		if (a.type == PG_ATTR_STRING)
			p->str = scratch_str(pg, a.v.str.ptr, a.v.str.len);
		else if (a.type == PG_ATTR_DATE)
			p->date = a.v.date_us;
		else
			p->i = a.v.i;
	}
	out->attrs = pg->attrs;
	out->nattrs = n;
	out->payload = r.payload;
	out->payload_len = r.payload_len;
	out->is_signed = r.secdata_len > 0;
	return 0;
}

/* ---- batches ------------------------------------------------------------------------------ */

/* One frame sent, its reply not read yet: records [from, to) of the call. */
struct flight {
	size_t from, to;
};

struct batch {
	const char *graph_id;
	const char *creator; /* DELETE: the records' creator, NULL for the node's */
	uint16_t type;
	unsigned window;		  /* frames in flight at most */
	int *res;			  /* per record: PENDING or its outcome */
	size_t from;			  /* the open frame's first record */
	size_t sent;			  /* records in the open frame */
	struct flight fl[PGC_WINDOW_MAX]; /* frames in flight, oldest at fl_head */
	unsigned fl_head, nfl;
	long added;
	int failed; /* the first frame that failed as a whole: its error */
};

/* Puts the next record in the open frame, opening one first. 0 or an error. */
static int batch_open(struct peergraph *pg, struct batch *b, size_t i)
{
	int err;

	if (b->sent)
		return 0;
	if ((err = pgc_begin(pg, b->type)))
		return err;
	pg_api_put_str(&pg->w, PG_API_T_GRAPH, b->graph_id);
	if (b->creator)
		pg_api_put_str(&pg->w, PG_API_T_CREATOR, b->creator);
	b->from = i;
	return 0;
}

/* Reads the RESULTs of the reply just read into the PENDING records of f. 0, or a protocol
 * error. */
static int batch_results(struct peergraph *pg, struct batch *b, const struct flight *f)
{
	struct pg_api_field fld;
	struct pg_api_iter it;
	size_t len, i = f->from;
	const uint8_t *body = pgc_body(pg, &len);
	int32_t v;

	pg_api_iter_init(&it, body, len);
	while (pg_api_iter_next(&it, &fld)) {
		while (i < f->to && b->res[i] != PENDING)
			i++;
		v = (int32_t)pg_api_u32(&fld); /* the reply's schema allows RESULT only */
		if (i == f->to || v > 0)
			return pgc_fail(pg, PG_E_API_FIELD,
					"the daemon sent a RESULT of %d past its frame's records",
					v);
		b->res[i++] = v;
		b->added += v == 0;
	}
	while (i < f->to && b->res[i] != PENDING)
		i++;
	if (i < f->to)
		return pgc_fail(pg, PG_E_API_FIELD, "the daemon sent fewer RESULTs than records");
	return 0;
}

/* The window's on_reply: the oldest frame in flight is answered. */
static int batch_reply(struct peergraph *pg, void *ctx, int status)
{
	struct batch *b = ctx;
	struct flight f;

	PG_ASSERT(b->nfl); /* the window and the flights move together */
	f = b->fl[b->fl_head];
	b->fl_head = (b->fl_head + 1) % PGC_WINDOW_MAX;
	b->nfl--;
	if (!status)
		return batch_results(pg, b, &f);
	for (size_t j = f.from; j < f.to; j++)
		if (b->res[j] == PENDING)
			b->res[j] = status;
	if (!b->failed)
		b->failed = status;
	return 0;
}

/* Sends the open frame, holding records [from, to), once the window has room. 0, the error
 * of a frame that failed as a whole (nothing more is sent), or an error. */
static int batch_flush(struct peergraph *pg, struct batch *b, size_t to)
{
	int err;

	if (!b->sent)
		return 0;
	while (b->nfl >= b->window && !b->failed)
		if ((err = pgc_wait(pg)) < 0)
			return err;
	if (b->failed)
		return b->failed;
	b->sent = 0;
	b->fl[(b->fl_head + b->nfl) % PGC_WINDOW_MAX] = (struct flight){ b->from, to };
	b->nfl++; /* before sending: a reply read while sending may be this frame's elder's */
	if ((err = pgc_send(pg))) {
		b->nfl--;
		return err;
	}
	return b->failed;
}

/* Ends the batch with records [0, i) taken: reads the replies still owed, then gives err (or
 * the failed frame's error) to the records left PENDING and those not taken. Returns what the
 * call returns: how many were added, or the error when none were. */
static long batch_end(struct peergraph *pg, struct batch *b, size_t i, size_t n, int err,
		      int *results)
{
	int e;

	while (b->nfl && pg->win.count)
		if ((e = pgc_wait(pg)) < 0 && !err)
			err = e;
	b->nfl = 0; /* the connection closed: their replies will never come */
	pgc_window_close(pg);
	if (!err)
		err = b->failed;
	for (size_t j = 0; err && j < n; j++)
		if (j >= i || b->res[j] == PENDING)
			b->res[j] = err;
	if (b->res != results)
		free(b->res);
	return err && !b->added ? err : b->added;
}

/* Opens the batch: results or an array of its own for the records' outcomes. 0 or an error. */
static int batch_init(struct peergraph *pg, struct batch *b, uint16_t type, const char *graph_id,
		      size_t n, int *results)
{
	memset(b, 0, sizeof(*b));
	if (!graph_id || n > PEERGRAPH_BATCH_MAX)
		return -EINVAL;
	b->graph_id = graph_id;
	b->type = type;
	b->window = PGC_WINDOW_MAX;
	b->res = results ? results : calloc(n ? n : 1, sizeof(*b->res));
	if (!b->res)
		return -ENOMEM;
	pgc_window_open(pg, batch_reply, b);
	return 0;
}

/* Adds or updates n records (the two differ only in the id an add may draw). */
static long records_send(struct peergraph *pg, uint16_t type, const char *graph_id,
			 struct peergraph_record *recs, size_t n, int *results)
{
	uint64_t now = pg_time_now_us();
	static const struct peergraph_guid zero;
	struct pgc_id_pool ids = { .left = 0 };
	struct pg_record r;
	struct batch b;
	size_t i = 0;
	int err;

	if ((err = batch_init(pg, &b, type, graph_id, n, results)))
		return err;
	if (n && !recs)
		err = -EINVAL;
	for (; i < n && !err; i++) {
		if (type == PG_API_RECORD_ADD && !memcmp(&recs[i].id, &zero, sizeof(zero)))
			pgc_id_draw(&ids, n - i, &recs[i].id);
		if ((b.res[i] = record_import(pg, &recs[i], now, &r)))
			continue;
		if (b.sent && (b.sent == PGC_BATCH_FRAME_RECORDS ||
			       pg->w.len + PG_API_FIELD_HDR_LEN + pg_record_encoded_size(&r) >
				   PGC_BATCH_FRAME_MAX))
			err = batch_flush(pg, &b, i);
		if (!err)
			err = batch_open(pg, &b, i);
		if (err)
			break;
		pg_api_put_record(&pg->w, &r, &pgc_limits);
		b.res[i] = PENDING;
		b.sent++;
	}
	if (!err)
		err = batch_flush(pg, &b, n);
	return batch_end(pg, &b, i, n, err, results);
}

long peergraph_record_add(struct peergraph *pg, const char *graph_id, struct peergraph_record *recs,
			  size_t n, int *results)
{
	return records_send(pg, PG_API_RECORD_ADD, graph_id, recs, n, results);
}

long peergraph_record_update(struct peergraph *pg, const char *graph_id,
			     struct peergraph_record *recs, size_t n, int *results)
{
	return records_send(pg, PG_API_RECORD_UPDATE, graph_id, recs, n, results);
}

long peergraph_record_delete(struct peergraph *pg, const char *graph_id,
			     const struct peergraph_guid *ids, size_t n, const char *creator,
			     int *results)
{
	struct batch b;
	size_t i = 0;
	int err;

	if ((err = batch_init(pg, &b, PG_API_RECORD_DELETE, graph_id, n, results)))
		return err;
	b.creator = creator;
	if (n && !ids)
		err = -EINVAL;
	for (; i < n && !err; i++) {
		/* 24 bytes a record: the count bounds a frame, far below PGC_BATCH_FRAME_MAX */
		if (b.sent == PGC_BATCH_FRAME_RECORDS && (err = batch_flush(pg, &b, i)))
			break;
		if ((err = batch_open(pg, &b, i)))
			break;
		pg_api_put_bytes(&pg->w, PG_API_T_RECORD_ID, ids[i].b, sizeof(ids[i].b));
		b.res[i] = PENDING;
		b.sent++;
	}
	if (!err)
		err = batch_flush(pg, &b, n);
	return batch_end(pg, &b, i, n, err, results);
}

/* ---- get, enumerate, search ------------------------------------------------------------- */

int peergraph_record_get(struct peergraph *pg, const char *graph_id,
			 const struct peergraph_guid *id, const char *creator, unsigned flags,
			 struct peergraph_record *out)
{
	struct pg_api_field f;
	const uint8_t *body;
	size_t len;
	int err;

	if (!graph_id || !id || !out)
		return -EINVAL;
	if ((err = pgc_begin(pg, PG_API_RECORD_GET)))
		return err;
	pg_api_put_str(&pg->w, PG_API_T_GRAPH, graph_id);
	pg_api_put_bytes(&pg->w, PG_API_T_RECORD_ID, id->b, sizeof(id->b));
	if (creator)
		pg_api_put_str(&pg->w, PG_API_T_CREATOR, creator);
	if (flags)
		pg_api_put_u32(&pg->w, PG_API_T_FLAGS, flags);
	if ((err = pgc_call(pg)))
		return err;
	body = pgc_body(pg, &len);
	if (!pg_api_find(body, len, PG_API_T_RECORD, &f)) /* required by the schema */
		return pgc_fail(pg, PG_E_API_FIELD, "the daemon's record is missing");
	return pgc_record_export(pg, &f, out);
}

/* One enumeration or search: what every round's request carries. */
struct scan {
	uint16_t type;
	const char *graph_id;
	const struct peergraph_guid *rtype; /* ENUM */
	const char *creator;		    /* ENUM */
	const char *query;		    /* SEARCH */
	unsigned flags;
};

/* Hands each RECORD of the reply just read to fn. 0 to go on, 1 when fn stopped, or an
 * error; *seen counts the records fn saw. */
static int scan_reply(struct peergraph *pg, peergraph_record_fn fn, void *ctx, long *seen)
{
	struct peergraph_record rec;
	struct pg_api_field f;
	struct pg_api_iter it;
	size_t len;
	const uint8_t *body = pgc_body(pg, &len);
	int err, stop;

	pg_api_iter_init(&it, body, len);
	while (pg_api_iter_next(&it, &f)) {
		if (f.tag != PG_API_T_RECORD)
			continue;
		if ((err = pgc_record_export(pg, &f, &rec)))
			return err;
		(*seen)++;
		pg->in_callback = true;
		stop = fn(ctx, &rec);
		pg->in_callback = false;
		if (stop)
			return 1;
	}
	return 0;
}

/* Runs an enumeration or a search to its end, following the daemon's cursors. */
static long scan_run(struct peergraph *pg, const struct scan *s, peergraph_record_fn fn, void *ctx)
{
	uint8_t cursor[CURSOR_MAX];
	size_t cursor_len = 0, len;
	const uint8_t *body;
	struct pg_api_field f;
	long seen = 0, before;
	int err;

	if (!s->graph_id || !fn)
		return -EINVAL;
	for (uint32_t round = 0; round < PGC_SCAN_ROUNDS_MAX; round++) {
		if ((err = pgc_begin(pg, s->type)))
			return err;
		pg_api_put_str(&pg->w, PG_API_T_GRAPH, s->graph_id);
		if (s->rtype)
			pg_api_put_bytes(&pg->w, PG_API_T_TYPE, s->rtype->b, sizeof(s->rtype->b));
		if (s->creator)
			pg_api_put_str(&pg->w, PG_API_T_CREATOR, s->creator);
		if (s->query)
			pg_api_put_str(&pg->w, PG_API_T_QUERY, s->query);
		if (s->flags)
			pg_api_put_u32(&pg->w, PG_API_T_FLAGS, s->flags);
		if (round)
			pg_api_put_bytes(&pg->w, PG_API_T_CURSOR, cursor, cursor_len);
		if ((err = pgc_call(pg)))
			return err;
		before = seen;
		if ((err = scan_reply(pg, fn, ctx, &seen)))
			return err < 0 ? err : seen;
		body = pgc_body(pg, &len);
		if (!pg_api_find(body, len, PG_API_T_CURSOR, &f))
			return seen;
		/* a round that returns nothing and the cursor it was given would never end */
		if (seen == before && round && f.len == cursor_len && !memcmp(f.v, cursor, f.len))
			return pgc_fail(pg, PG_E_API_FIELD,
					"the daemon's enumeration does not leave its cursor");
		PG_ASSERT(f.len <= sizeof(cursor)); /* the CURSOR field's bound, checked */
		memcpy(cursor, f.v, f.len);
		cursor_len = f.len;
	}
	snprintf(pg->message, sizeof(pg->message), "the enumeration did not end in %u rounds",
		 (unsigned)PGC_SCAN_ROUNDS_MAX);
	return -ELOOP;
}

long peergraph_record_enum(struct peergraph *pg, const char *graph_id,
			   const struct peergraph_guid *type, const char *creator, unsigned flags,
			   peergraph_record_fn fn, void *ctx)
{
	const struct scan s = { .type = PG_API_RECORD_ENUM,
				.graph_id = graph_id,
				.rtype = type,
				.creator = creator,
				.flags = flags };

	return scan_run(pg, &s, fn, ctx);
}

long peergraph_record_search(struct peergraph *pg, const char *graph_id, const char *query,
			     unsigned flags, peergraph_record_fn fn, void *ctx)
{
	const struct scan s = {
		.type = PG_API_RECORD_SEARCH, .graph_id = graph_id, .query = query, .flags = flags
	};

	if (!query)
		return -EINVAL;
	return scan_run(pg, &s, fn, ctx);
}

/* ---- GUIDs ---------------------------------------------------------------------------------- */

void peergraph_guid_format(const struct peergraph_guid *g, char out[37])
{
	struct pg_guid v;

	memcpy(v.b, g->b, sizeof(v.b));
	pg_guid_format(&v, out);
}

int peergraph_guid_parse(const char *s, struct peergraph_guid *out)
{
	struct pg_guid v;

	if (!s || pg_guid_parse(s, strlen(s), &v))
		return -EINVAL;
	memcpy(out->b, v.b, sizeof(out->b));
	return 0;
}

/* Fills buf from the kernel's random pool. getrandom blocks only until the pool is first
 * seeded, and may be cut short by a signal past 256 bytes (looped); it exists on every kernel
 * this project supports. */
static void random_fill(uint8_t *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = getrandom(buf + got, len - got, 0);
		PG_ASSERT(n > 0 || errno == EINTR);
		if (n > 0)
			got += (size_t)n;
	}
}

/* Makes 16 random bytes an RFC 4122 version 4 (random) UUID: 122 random bits. */
static void guid_v4(struct peergraph_guid *g)
{
	g->b[6] = (uint8_t)((g->b[6] & 0x0f) | 0x40);
	g->b[8] = (uint8_t)((g->b[8] & 0x3f) | 0x80);
}

void peergraph_guid_random(struct peergraph_guid *out)
{
	random_fill(out->b, sizeof(out->b));
	guid_v4(out);
}

void pgc_id_draw(struct pgc_id_pool *p, size_t want, struct peergraph_guid *out)
{
	if (!p->left) {
		p->left = want < PGC_ID_POOL ? (unsigned)want : PGC_ID_POOL;
		random_fill(p->b[0], p->left * sizeof(p->b[0]));
	}
	PG_ASSERT(p->left > 0 && p->left <= PGC_ID_POOL);
	memcpy(out->b, p->b[--p->left], sizeof(out->b));
	guid_v4(out);
}
