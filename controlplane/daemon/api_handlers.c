/*
 * api_handlers.c - what peergraphd answers to each control-API message (doc/api.md).
 *
 * pgd_frame_dispatch checks a request's body against its schema (api/frame.c) and calls the
 * message's handler, which reads fields it can trust, does the work through the identity
 * store (identity.h), the graphs (graphs.h) and their stores, and writes the reply's fields
 * into srv->w. A handler returns 0 or the request's error, with srv->msg saying what went
 * wrong in words; the dispatcher then sends either the reply or a failed one. Record writes
 * reply only once durable: their handler parks the reply (server.c holds it, and the replies
 * after it, while the connection goes on). The flooding messages (links) are in api_links.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "log.h"
#include "pg_error.h"
#include "secdata.h"
#include "query.h"
#include "server_impl.h"
#include "trust.h"

enum {
	ENUM_CHUNK = 4 << 20, /* record bytes of one enumeration reply before it sets a cursor */
	EXPORT_MAX = 1 << 20, /* bytes of an identity export */
};

/* ---- field helpers ----------------------------------------------------------------------- */

static void field_str(const uint8_t *body, size_t len, uint16_t tag, char *out, size_t cap)
{
	struct pg_api_field f;

	out[0] = '\0';
	if (pg_api_find(body, len, tag, &f) && !pg_api_str(&f, out, cap))
		out[0] = '\0'; /* longer than the caller's buffer: the schema bound is larger */
}

static uint32_t field_u32(const uint8_t *body, size_t len, uint16_t tag, uint32_t dflt)
{
	struct pg_api_field f;

	return pg_api_find(body, len, tag, &f) ? pg_api_u32(&f) : dflt;
}

static struct pgd_graph *graph_of(struct pgd_server *srv, const uint8_t *body, size_t len,
				  bool must_be_open, int *err)
{
	char id[PGD_GRAPH_ID_MAX + 1];
	struct pgd_graph *g;

	field_str(body, len, PG_API_T_GRAPH, id, sizeof(id));
	g = pgd_graph_find(srv->gs, id);
	if (!g) {
		snprintf(srv->msg, sizeof(srv->msg),
			 "no graph \"%s\" on this node (peergraph graph list shows them)", id);
		*err = PG_E_NOT_FOUND;
		return NULL;
	}
	if (must_be_open && !g->open) {
		snprintf(srv->msg, sizeof(srv->msg), "graph \"%s\" is closed: open it first", id);
		*err = -ENOTCONN;
		return NULL;
	}
	return g;
}

void pgd_field_str(const uint8_t *body, size_t len, uint16_t tag, char *out, size_t cap)
{
	field_str(body, len, tag, out, cap);
}

struct pgd_graph *pgd_request_graph(struct pgd_server *srv, const uint8_t *body, size_t len,
				    bool must_be_open, int *err)
{
	return graph_of(srv, body, len, must_be_open, err);
}

/* ---- hello and identities ---------------------------------------------------------------- */

static int h_hello(struct pgd_server *srv, struct conn *c, const struct pg_api_hdr *h,
		   const uint8_t *body, size_t len)
{
	(void)c, (void)h, (void)body, (void)len;
	pg_api_put_str(&srv->w, PG_API_T_VERSION_STR, srv->cfg.version);
	pg_api_put_u32(&srv->w, PG_API_T_UID, (uint32_t)geteuid());
	return 0;
}

static int ids_error(struct pgd_server *srv, int err)
{
	const char *m = pg_identity_store_errmsg(srv->ids);

	snprintf(srv->msg, sizeof(srv->msg), "%s", m && m[0] ? m : pg_strerror(err));
	return err;
}

/* A new identity of this node: its records must verify on this node's secured graphs too. */
static void trust_new(struct pgd_server *srv, const char *name)
{
	struct pg_identity *id;
	int err;

	if (!srv->gs->keytab)
		return;
	if (!(err = pg_identity_open(srv->ids, name, &id))) {
		err = pgd_trust_identity(srv->gs->keytab, id);
		pg_identity_close(id);
	}
	if (err)
		pgd_log(PGD_LOG_WARN, "identity %s: not in the key table: %s", name,
			pg_strerror(err));
}

static int h_identity_create(struct pgd_server *srv, struct conn *c, const struct pg_api_hdr *h,
			     const uint8_t *body, size_t len)
{
	char classifier[PG_CLASSIFIER_MAX + 1], friendly[PG_FRIENDLY_NAME_SIZE],
	    name[PG_PEERNAME_SIZE];
	struct pg_identity_create_opts o = { 0 };
	int err;

	(void)c, (void)h;
	field_str(body, len, PG_API_T_CLASSIFIER, classifier, sizeof(classifier));
	field_str(body, len, PG_API_T_FRIENDLY_NAME, friendly, sizeof(friendly));
	o.flags = field_u32(body, len, PG_API_T_FLAGS, 0) & 0x3;
	if ((err = pg_identity_create(srv->ids, classifier, friendly, &o, name)))
		return ids_error(srv, err);
	pg_api_put_str(&srv->w, PG_API_T_IDENTITY, name);
	pgd_log(PGD_LOG_INFO, "identity %s created", name);
	trust_new(srv, name);
	return 0;
}

static int h_identity_list(struct pgd_server *srv, struct conn *c, const struct pg_api_hdr *h,
			   const uint8_t *body, size_t len)
{
	static char names[PG_IDENTITY_STORE_MAX][PG_PEERNAME_SIZE];
	char dflt[PG_PEERNAME_SIZE], friendly[PG_FRIENDLY_NAME_SIZE];
	int n;

	(void)c, (void)h, (void)body, (void)len;
	n = pg_identity_list(srv->ids, names, PG_IDENTITY_STORE_MAX);
	if (n < 0)
		return ids_error(srv, n);
	if (pg_identity_get_default(srv->ids, dflt))
		dflt[0] = '\0';
	for (int i = 0; i < n && i < PG_IDENTITY_STORE_MAX; i++) {
		pg_api_item_begin(&srv->w);
		pg_api_put_str(&srv->w, PG_API_T_IDENTITY, names[i]);
		if (pg_identity_get_friendly_name(srv->ids, names[i], friendly) == 0 && friendly[0])
			pg_api_put_str(&srv->w, PG_API_T_FRIENDLY_NAME, friendly);
		pg_api_put_u32(&srv->w, PG_API_T_FLAGS, strcmp(names[i], dflt) ? 0 : 0x4);
		pg_api_item_end(&srv->w);
	}
	return 0;
}

static int h_identity_delete(struct pgd_server *srv, struct conn *c, const struct pg_api_hdr *h,
			     const uint8_t *body, size_t len)
{
	char name[PG_PEERNAME_SIZE];
	int err;

	(void)c, (void)h;
	field_str(body, len, PG_API_T_IDENTITY, name, sizeof(name));
	for (unsigned i = 0; i < srv->gs->n; i++) {
		if (strcmp(srv->gs->g[i]->identity, name) == 0) {
			snprintf(srv->msg, sizeof(srv->msg),
				 "identity %s signs graph \"%s\": delete the graph first", name,
				 srv->gs->g[i]->id);
			return -EBUSY;
		}
	}
	if ((err = pg_identity_delete(srv->ids, name)))
		return ids_error(srv, err);
	pgd_log(PGD_LOG_INFO, "identity %s deleted", name);
	return 0;
}

static int h_identity_set(struct pgd_server *srv, struct conn *c, const struct pg_api_hdr *h,
			  const uint8_t *body, size_t len)
{
	char name[PG_PEERNAME_SIZE], friendly[PG_FRIENDLY_NAME_SIZE];
	int err;

	(void)c;
	field_str(body, len, PG_API_T_IDENTITY, name, sizeof(name));
	if (h->type == PG_API_IDENTITY_SET_NAME) {
		field_str(body, len, PG_API_T_FRIENDLY_NAME, friendly, sizeof(friendly));
		err = pg_identity_set_friendly_name(srv->ids, name, friendly);
	} else {
		err = pg_identity_set_default(srv->ids, name);
	}
	return err ? ids_error(srv, err) : 0;
}

/* A scratch file name under the daemon's temp directory for export / import. */
static int temp_path(struct pgd_server *srv, char *out, size_t cap)
{
	static unsigned serial;

	snprintf(out, cap, "%s/tmp/x-%d-%u", srv->cfg.state_dir, (int)getpid(), serial++);
	return 0;
}

static int h_identity_export(struct pgd_server *srv, struct conn *c, const struct pg_api_hdr *h,
			     const uint8_t *body, size_t len)
{
	char name[PG_PEERNAME_SIZE], password[1025], path[4200];
	uint8_t *data;
	size_t dlen;
	int err;

	(void)c, (void)h;
	field_str(body, len, PG_API_T_IDENTITY, name, sizeof(name));
	field_str(body, len, PG_API_T_PASSWORD, password, sizeof(password));
	temp_path(srv, path, sizeof(path));
	err = pg_identity_export(srv->ids, name, path, password);
	explicit_bzero(password, sizeof(password));
	if (err)
		return ids_error(srv, err);
	err = pg_file_read(AT_FDCWD, path, EXPORT_MAX, 0, &data, &dlen, NULL);
	unlink(path);
	if (err) {
		snprintf(srv->msg, sizeof(srv->msg), "reading the export back: %s",
			 pg_strerror(err));
		return err;
	}
	pg_api_put_bytes(&srv->w, PG_API_T_DATA, data, dlen);
	pg_file_free(data, dlen);
	return 0;
}

static int h_identity_import(struct pgd_server *srv, struct conn *c, const struct pg_api_hdr *h,
			     const uint8_t *body, size_t len)
{
	char password[1025], path[4200], name[PG_PEERNAME_SIZE];
	struct pg_api_field f;
	int err;

	(void)c, (void)h;
	pg_api_find(body, len, PG_API_T_DATA, &f);
	field_str(body, len, PG_API_T_PASSWORD, password, sizeof(password));
	temp_path(srv, path, sizeof(path));
	if ((err = pg_file_write_atomic_path(path, f.v, f.len))) {
		snprintf(srv->msg, sizeof(srv->msg), "writing %.300s: %s", path, pg_strerror(err));
		return err;
	}
	err = pg_identity_import(srv->ids, path, password,
				 field_u32(body, len, PG_API_T_FLAGS, 0) & 3, name);
	explicit_bzero(password, sizeof(password));
	unlink(path);
	if (err)
		return ids_error(srv, err);
	pg_api_put_str(&srv->w, PG_API_T_IDENTITY, name);
	pgd_log(PGD_LOG_INFO, "identity %s imported", name);
	trust_new(srv, name);
	return 0;
}

/* ---- graphs ------------------------------------------------------------------------------- */

static int h_graph_create(struct pgd_server *srv, struct conn *c, const struct pg_api_hdr *h,
			  const uint8_t *body, size_t len)
{
	char id[PGD_GRAPH_ID_MAX + 1], ident[PG_PEERNAME_SIZE];
	struct pgd_graph *g;
	int err;

	(void)c, (void)h;
	field_str(body, len, PG_API_T_GRAPH, id, sizeof(id));
	field_str(body, len, PG_API_T_IDENTITY, ident, sizeof(ident));
	err =
	    pgd_graph_create(srv->gs, id, ident, field_u32(body, len, PG_API_T_MAX_RECORD_SIZE, 0),
			     field_u32(body, len, PG_API_T_FLAGS, 0), srv->msg, sizeof(srv->msg));
	if (err)
		return err;
	g = pgd_graph_find(srv->gs, id);
	if ((err = pgd_server_watch_graph(srv, g))) {
		snprintf(srv->msg, sizeof(srv->msg), "watching the graph: %s", strerror(-err));
		pgd_graph_close(srv->gs, g);
		return err;
	}
	pgd_log(PGD_LOG_INFO, "graph \"%s\" created (%s)", id,
		g->signer ? g->identity : "unsecured");
	return 0;
}

static void graph_shut(struct pgd_server *srv, struct pgd_graph *g)
{
	pgd_server_unwatch_graph(srv, g);
	pgd_server_graph_gone(srv, g);
}

static int h_graph_open_close(struct pgd_server *srv, struct conn *c, const struct pg_api_hdr *h,
			      const uint8_t *body, size_t len)
{
	struct pgd_graph *g;
	int err = 0;

	(void)c;
	if (!(g = graph_of(srv, body, len, false, &err)))
		return err;
	if (h->type == PG_API_GRAPH_OPEN) {
		if (g->open)
			return 0;
		if ((err = pgd_graph_open(srv->gs, g, srv->msg, sizeof(srv->msg))))
			return err;
		if ((err = pgd_server_watch_graph(srv, g))) {
			pgd_graph_close(srv->gs, g);
			return err;
		}
		pgd_log(PGD_LOG_INFO, "graph \"%s\" opened", g->id);
		return 0;
	}
	if (!g->open)
		return 0;
	graph_shut(srv, g);
	err = pgd_graph_close(srv->gs, g); /* its store durable: release its held replies */
	pgd_server_graph_durable(srv, g, true);
	pgd_log(PGD_LOG_INFO, "graph \"%s\" closed", g->id);
	return err;
}

static int h_graph_delete(struct pgd_server *srv, struct conn *c, const struct pg_api_hdr *h,
			  const uint8_t *body, size_t len)
{
	struct pgd_graph *g;
	char id[PGD_GRAPH_ID_MAX + 1];
	int err = 0;

	(void)c, (void)h;
	if (!(g = graph_of(srv, body, len, false, &err)))
		return err;
	snprintf(id, sizeof(id), "%s", g->id);
	if (g->open) {
		graph_shut(srv, g);
		pgd_graph_close(srv->gs, g);
		pgd_server_graph_durable(srv, g, true);
	}
	if ((err = pgd_graph_delete(srv->gs, g)))
		snprintf(srv->msg, sizeof(srv->msg), "removing its directory: %s", strerror(-err));
	pgd_log(PGD_LOG_INFO, "graph \"%s\" deleted", id);
	return err;
}

static uint64_t records_of(struct pgd_graph *g)
{
	struct pg_store_stats st;

	if (!g->open)
		return 0;
	pg_store_stats_get(g->store, &st);
	return st.records;
}

static int h_graph_list(struct pgd_server *srv, struct conn *c, const struct pg_api_hdr *h,
			const uint8_t *body, size_t len)
{
	(void)c, (void)h, (void)body, (void)len;
	for (unsigned i = 0; i < srv->gs->n; i++) {
		struct pgd_graph *g = srv->gs->g[i];

		pg_api_item_begin(&srv->w);
		pg_api_put_str(&srv->w, PG_API_T_GRAPH, g->id);
		pg_api_put_u32(&srv->w, PG_API_T_STATUS, pgd_graph_status_bits(g));
		if (g->identity[0])
			pg_api_put_str(&srv->w, PG_API_T_IDENTITY, g->identity);
		pg_api_item_end(&srv->w);
	}
	return 0;
}

static int h_graph_status(struct pgd_server *srv, struct conn *c, const struct pg_api_hdr *h,
			  const uint8_t *body, size_t len)
{
	struct pgd_graph *g;
	int err = 0;

	(void)c, (void)h;
	if (!(g = graph_of(srv, body, len, false, &err)))
		return err;
	pg_api_put_u32(&srv->w, PG_API_T_STATUS, pgd_graph_status_bits(g));
	pg_api_put_u64(&srv->w, PG_API_T_COUNT, records_of(g));
	if (g->identity[0])
		pg_api_put_str(&srv->w, PG_API_T_IDENTITY, g->identity);
	pg_api_put_u32(&srv->w, PG_API_T_MAX_RECORD_SIZE, g->max_record_size);
	if (g->open) {
		struct dp_graph_status st;

		dp_graph_status(g->dp, &st);
		pg_api_put_u32(&srv->w, PG_API_T_LINKS, st.links);
	}
	return 0;
}

static int h_graph_export_import(struct pgd_server *srv, struct conn *c, const struct pg_api_hdr *h,
				 const uint8_t *body, size_t len)
{
	char path[4096];
	struct pgd_graph *g;
	uint64_t ticket = 0;
	long n;
	int err = 0;

	if (!(g = graph_of(srv, body, len, true, &err)))
		return err;
	field_str(body, len, PG_API_T_PATH, path, sizeof(path));
	if (path[0] != '/') {
		snprintf(srv->msg, sizeof(srv->msg), "the path must be absolute: %s", path);
		return -EINVAL;
	}
	if (h->type == PG_API_GRAPH_EXPORT)
		err = pg_store_export(g->store, path);
	else
		err = pg_store_import(g->store, path, &ticket);
	if (err) {
		snprintf(srv->msg, sizeof(srv->msg), "%s %s: %s",
			 h->type == PG_API_GRAPH_EXPORT ? "export to" : "import from", path,
			 pg_strerror(err));
		return err;
	}
	if (h->type == PG_API_GRAPH_IMPORT && (n = pg_api_end(&srv->w)) > 0) {
		pgd_conn_park(srv, c, g, ticket, srv->w.buf, (size_t)n);
		return 1; /* answered (once durable) */
	}
	return 0;
}

/* ---- records ------------------------------------------------------------------------------ */

/* RECORD_ADD: the frame's records in groups of up to PG_BUNDLE_MAX, each group made, signed
 * (one bundle in a secured graph) and stored together; one RESULT per record, in order. */
static int records_add(struct pgd_server *srv, struct conn *c, struct pgd_graph *g,
		       const uint8_t *body, size_t len, uint64_t now)
{
	static struct pg_record recs[PG_BUNDLE_MAX];
	static int res[PG_BUNDLE_MAX], bad[PG_BUNDLE_MAX];
	uint64_t ticket = 0;
	struct pg_api_iter it;
	struct pg_api_field f;
	unsigned n = 0;
	bool more = true;
	long w;

	pg_api_iter_init(&it, body, len);
	while (more) {
		more = pg_api_iter_next(&it, &f);
		if (more && f.tag != PG_API_T_RECORD)
			continue;
		if (more) {
			bad[n] = pg_record_decode(f.v, f.len, &g->lim, &recs[n]);
			n++;
		}
		if (n == PG_BUNDLE_MAX || (!more && n)) {
			static struct pg_record ok[PG_BUNDLE_MAX];
			static int ok_res[PG_BUNDLE_MAX];
			unsigned k = 0;

			for (unsigned i = 0; i < n; i++)
				if (!bad[i])
					ok[k++] = recs[i];
			pgd_records_add(g, ok, k, now, ok_res, &ticket);
			k = 0;
			for (unsigned i = 0; i < n; i++)
				res[i] = bad[i] ? bad[i] : ok_res[k++];
			for (unsigned i = 0; i < n; i++)
				pg_api_put_u32(&srv->w, PG_API_T_RESULT, (uint32_t)res[i]);
			n = 0;
		}
	}
	dp_graph_flush(g->dp); /* one wake-up for the frame's records */
	if ((w = pg_api_end(&srv->w)) < 0) {
		snprintf(srv->msg, sizeof(srv->msg), "building the reply: %s", pg_strerror((int)w));
		return (int)w;
	}
	pgd_conn_park(srv, c, g, ticket, srv->w.buf, (size_t)w);
	return 1;
}

static int h_record_write(struct pgd_server *srv, struct conn *c, const struct pg_api_hdr *h,
			  const uint8_t *body, size_t len)
{
	char creator[PG_ID_MAX + 1];
	uint64_t now = pg_time_now_us(), ticket = 0, t;
	struct pg_api_iter it;
	struct pg_api_field f;
	struct pgd_graph *g;
	struct pg_record r;
	long n;
	int err = 0;

	if (!(g = graph_of(srv, body, len, true, &err)))
		return err;
	field_str(body, len, PG_API_T_CREATOR, creator, sizeof(creator));
	if (h->type == PG_API_RECORD_ADD)
		return records_add(srv, c, g, body, len, now);
	pg_api_iter_init(&it, body, len);
	while (pg_api_iter_next(&it, &f)) {
		if (f.tag == PG_API_T_RECORD) {
			err = pg_record_decode(f.v, f.len, &g->lim, &r);
			if (!err)
				err = h->type == PG_API_RECORD_ADD
					  ? pgd_record_add(g, &r, now, &t)
					  : pgd_record_update(g, &r, now, &t);
		} else if (f.tag == PG_API_T_RECORD_ID) {
			struct pg_guid id;

			memcpy(id.b, f.v, sizeof(id.b));
			err = pgd_record_delete(g, &id, creator[0] ? creator : NULL, now, &t);
		} else {
			continue;
		}
		if (!err && t > ticket)
			ticket = t;
		pg_api_put_u32(&srv->w, PG_API_T_RESULT, (uint32_t)err);
	}
	dp_graph_flush(g->dp);
	if ((n = pg_api_end(&srv->w)) < 0) {
		snprintf(srv->msg, sizeof(srv->msg), "building the reply: %s", pg_strerror((int)n));
		return (int)n;
	}
	pgd_conn_park(srv, c, g, ticket, srv->w.buf, (size_t)n);
	return 1;
}

static int h_record_get(struct pgd_server *srv, struct conn *c, const struct pg_api_hdr *h,
			const uint8_t *body, size_t len)
{
	char creator[PG_ID_MAX + 1];
	struct pg_api_field f;
	struct pgd_graph *g;
	struct pg_guid id;
	size_t cap = 64 << 10, got = 0;
	uint8_t *buf = NULL;
	int err = 0;

	(void)c, (void)h;
	if (!(g = graph_of(srv, body, len, true, &err)))
		return err;
	field_str(body, len, PG_API_T_CREATOR, creator, sizeof(creator));
	pg_api_find(body, len, PG_API_T_RECORD_ID, &f);
	memcpy(id.b, f.v, sizeof(id.b));
	for (int tries = 0; tries < 2; tries++) {
		if (!(buf = malloc(cap)))
			return -ENOMEM;
		err = pg_store_get(
		    g->store, &id, creator[0] ? creator : g->creator,
		    (uint16_t)strlen(creator[0] ? creator : g->creator),
		    (field_u32(body, len, PG_API_T_FLAGS, 0) & 1) ? PG_STORE_WITH_DELETED : 0, buf,
		    cap, &got);
		if (err != -ENOSPC)
			break;
		free(buf);
		buf = NULL;
		cap = got;
	}
	if (!err)
		pg_api_put_bytes(&srv->w, PG_API_T_RECORD, buf, got);
	else
		snprintf(srv->msg, sizeof(srv->msg), "%s", pg_strerror(err));
	free(buf);
	return err;
}

/* Enumeration and search: records after `skip` go into the reply until ENUM_CHUNK bytes. */
struct walk {
	struct pgd_server *srv;
	const struct pg_query *q;
	uint64_t skip, seen, sent;
	bool more;
};

static int walk_one(void *arg, const struct pg_record *rec, const uint8_t *raw, uint32_t len)
{
	struct walk *wk = arg;

	if (wk->q && !pg_query_match(wk->q, rec))
		return 0;
	if (wk->seen++ < wk->skip)
		return 0;
	if (wk->srv->w.len > ENUM_CHUNK) {
		wk->more = true;
		return 1;
	}
	pg_api_put_bytes(&wk->srv->w, PG_API_T_RECORD, raw, len);
	wk->sent++;
	return 0;
}

static int h_record_enum(struct pgd_server *srv, struct conn *c, const struct pg_api_hdr *h,
			 const uint8_t *body, size_t len)
{
	char creator[PG_ID_MAX + 1], text[PG_QUERY_TEXT_MAX + 1];
	struct walk wk = { .srv = srv };
	struct pg_query *q = NULL;
	struct pg_query_error qe;
	struct pg_api_field f;
	struct pg_guid type;
	struct pgd_graph *g;
	uint8_t cursor[8];
	bool typed;
	int err = 0;

	(void)c;
	if (!(g = graph_of(srv, body, len, true, &err)))
		return err;
	field_str(body, len, PG_API_T_CREATOR, creator, sizeof(creator));
	if ((typed = pg_api_find(body, len, PG_API_T_TYPE, &f)))
		memcpy(type.b, f.v, sizeof(type.b));
	if (pg_api_find(body, len, PG_API_T_CURSOR, &f)) {
		if (f.len != sizeof(cursor)) {
			snprintf(srv->msg, sizeof(srv->msg), "not a cursor this daemon made");
			return PG_E_API_FIELD;
		}
		wk.skip = load_le64(f.v);
	}
	if (h->type == PG_API_RECORD_SEARCH) {
		field_str(body, len, PG_API_T_QUERY, text, sizeof(text));
		if ((err = pg_query_parse(text, strlen(text), &q, &qe))) {
			snprintf(srv->msg, sizeof(srv->msg), "query at byte %zu: %s", qe.offset,
				 pg_strerror(err));
			return err;
		}
		wk.q = q;
	}
	pg_store_enum(g->store, typed ? &type : NULL, creator[0] ? creator : NULL,
		      (uint16_t)strlen(creator),
		      (field_u32(body, len, PG_API_T_FLAGS, 0) & 1) ? PG_STORE_WITH_DELETED : 0,
		      walk_one, &wk);
	pg_query_destroy(q);
	if (wk.more) {
		store_le64(cursor, wk.skip + wk.sent);
		pg_api_put_bytes(&srv->w, PG_API_T_CURSOR, cursor, sizeof(cursor));
	}
	return 0;
}

static int h_subscribe(struct pgd_server *srv, struct conn *c, const struct pg_api_hdr *h,
		       const uint8_t *body, size_t len)
{
	struct pgd_graph *g;
	int err = 0;

	if (!(g = graph_of(srv, body, len, h->type == PG_API_SUBSCRIBE, &err)))
		return err;
	if (h->type == PG_API_UNSUBSCRIBE) {
		pgd_server_unsubscribe(srv, c, g);
		return 0;
	}
	if ((err = pgd_server_subscribe(srv, c, g, field_u32(body, len, PG_API_T_EVENT_MASK, 0))))
		snprintf(srv->msg, sizeof(srv->msg), "a connection subscribes to at most %d graphs",
			 SUBS_MAX);
	return err;
}

/* ---- dispatch ------------------------------------------------------------------------------ */

static const struct {
	uint16_t type;
	pgd_handler_fn fn;
} handlers[] = {
	{ PG_API_HELLO, h_hello },
	{ PG_API_IDENTITY_CREATE, h_identity_create },
	{ PG_API_IDENTITY_LIST, h_identity_list },
	{ PG_API_IDENTITY_DELETE, h_identity_delete },
	{ PG_API_IDENTITY_SET_NAME, h_identity_set },
	{ PG_API_IDENTITY_SET_DEFAULT, h_identity_set },
	{ PG_API_IDENTITY_EXPORT, h_identity_export },
	{ PG_API_IDENTITY_IMPORT, h_identity_import },
	{ PG_API_GRAPH_CREATE, h_graph_create },
	{ PG_API_GRAPH_OPEN, h_graph_open_close },
	{ PG_API_GRAPH_CLOSE, h_graph_open_close },
	{ PG_API_GRAPH_DELETE, h_graph_delete },
	{ PG_API_GRAPH_LIST, h_graph_list },
	{ PG_API_GRAPH_STATUS, h_graph_status },
	{ PG_API_GRAPH_EXPORT, h_graph_export_import },
	{ PG_API_GRAPH_IMPORT, h_graph_export_import },
	{ PG_API_GRAPH_LISTEN, pgd_h_graph_listen },
	{ PG_API_GRAPH_CONNECT, pgd_h_graph_connect },
	{ PG_API_GRAPH_DISCONNECT, pgd_h_graph_disconnect },
	{ PG_API_GRAPH_NEIGHBOURS, pgd_h_graph_neighbours },
	{ PG_API_NODE_STATS, pgd_h_node_stats },
	{ PG_API_RECORD_ADD, h_record_write },
	{ PG_API_RECORD_UPDATE, h_record_write },
	{ PG_API_RECORD_DELETE, h_record_write },
	{ PG_API_RECORD_GET, h_record_get },
	{ PG_API_RECORD_ENUM, h_record_enum },
	{ PG_API_RECORD_SEARCH, h_record_enum },
	{ PG_API_SUBSCRIBE, h_subscribe },
	{ PG_API_UNSUBSCRIBE, h_subscribe },
};

static const char *tag_name(uint16_t tag)
{
	static const char *const names[PG_API_TAGS] = {
		[PG_API_T_VERSION_STR] = "VERSION_STR",
		[PG_API_T_UID] = "UID",
		[PG_API_T_IDENTITY] = "IDENTITY",
		[PG_API_T_CLASSIFIER] = "CLASSIFIER",
		[PG_API_T_FRIENDLY_NAME] = "FRIENDLY_NAME",
		[PG_API_T_PASSWORD] = "PASSWORD",
		[PG_API_T_DATA] = "DATA",
		[PG_API_T_FLAGS] = "FLAGS",
		[PG_API_T_GRAPH] = "GRAPH",
		[PG_API_T_PATH] = "PATH",
		[PG_API_T_STATUS] = "STATUS",
		[PG_API_T_COUNT] = "COUNT",
		[PG_API_T_RECORD] = "RECORD",
		[PG_API_T_RECORD_ID] = "RECORD_ID",
		[PG_API_T_TYPE] = "TYPE",
		[PG_API_T_CREATOR] = "CREATOR",
		[PG_API_T_QUERY] = "QUERY",
		[PG_API_T_CURSOR] = "CURSOR",
		[PG_API_T_RESULT] = "RESULT",
		[PG_API_T_EVENT_KIND] = "EVENT_KIND",
		[PG_API_T_EVENT_MASK] = "EVENT_MASK",
		[PG_API_T_LOST] = "LOST",
		[PG_API_T_ITEM] = "ITEM",
		[PG_API_T_MAX_RECORD_SIZE] = "MAX_RECORD_SIZE",
		[PG_API_T_MESSAGE] = "MESSAGE",
		[PG_API_T_SEQ] = "SEQ",
		[PG_API_T_ADDRESS] = "ADDRESS",
		[PG_API_T_NODE] = "NODE",
		[PG_API_T_REASON] = "REASON",
		[PG_API_T_RECORDS_RX] = "RECORDS_RX",
		[PG_API_T_RECORDS_TX] = "RECORDS_TX",
		[PG_API_T_RETRANSMITS] = "RETRANSMITS",
		[PG_API_T_SRTT_US] = "SRTT_US",
		[PG_API_T_LINKS] = "LINKS",
		[PG_API_T_NAME] = "NAME",
		[PG_API_T_REASM_TIMEOUTS] = "REASM_TIMEOUTS",
	};

	return tag < PG_API_TAGS && names[tag] ? names[tag] : "unknown";
}

void pgd_frame_dispatch(struct pgd_server *srv, struct conn *c, const struct pg_api_hdr *h,
			const uint8_t *body, size_t len)
{
	struct pg_record_limits lim = { .max_record_size = PG_RECORD_SIZE_MAX };
	uint16_t bad = 0;
	pgd_handler_fn fn = NULL;
	long n;
	int err;

	srv->msg[0] = '\0';
	if (c->refused) {
		snprintf(
		    srv->msg, sizeof(srv->msg),
		    "not allowed: peergraphd admits its own user, root and its configured group");
		pg_api_begin(&srv->w, (uint16_t)(h->type | PG_API_REPLY), h->id, -EACCES);
		pg_api_put_str(&srv->w, PG_API_T_MESSAGE, srv->msg);
		if ((n = pg_api_end(&srv->w)) > 0)
			pgd_conn_reply(srv, c, srv->w.buf, (size_t)n);
		c->closing = true;
		return;
	}
	for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
		if (handlers[i].type == h->type)
			fn = handlers[i].fn;
	err = fn ? pg_api_body_check(h->type, h->status, body, len, &lim, &bad) : PG_E_API_TYPE;
	if (err == PG_E_API_FIELD)
		snprintf(srv->msg, sizeof(srv->msg), "field %u (%s) is not valid in this message",
			 bad, tag_name(bad));
	else if (err == PG_E_API_TYPE)
		snprintf(srv->msg, sizeof(srv->msg), "unknown message type %u", h->type);
	if (!err) {
		pg_api_begin(&srv->w, (uint16_t)(h->type | PG_API_REPLY), h->id, 0);
		err = fn(srv, c, h, body, len);
		if (err == 1)
			return; /* answered, or held until durable */
	}
	if (err) {
		pgd_log(PGD_LOG_DEBUG, "client pid %d: message %u: %s (%s)", (int)c->pid, h->type,
			pg_strerror(err), srv->msg);
		pg_api_begin(&srv->w, (uint16_t)(h->type | PG_API_REPLY), h->id, err);
		if (srv->msg[0])
			pg_api_put_str(&srv->w, PG_API_T_MESSAGE, srv->msg);
	}
	if ((n = pg_api_end(&srv->w)) < 0) {
		pgd_log(PGD_LOG_ERROR, "client pid %d: reply to message %u: %s", (int)c->pid,
			h->type, pg_strerror((int)n));
		pg_api_begin(&srv->w, (uint16_t)(h->type | PG_API_REPLY), h->id, (int32_t)n);
		n = pg_api_end(&srv->w);
	}
	if (n > 0)
		pgd_conn_reply(srv, c, srv->w.buf, (size_t)n);
}
