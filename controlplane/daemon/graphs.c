/*
 * graphs.c - peergraphd's graphs (graphs.h): their directories and properties, opening and
 * closing their stores and signers (and adding them to the dataplane), the records this node
 * makes and floods, and the queue of store events for subscribers.
 *
 * graph.props is six lines in a fixed order, written whole and atomically (fileio.h), read
 * back strictly; the graph id is stored hex-encoded so that any id round-trips:
 *
 *   format=1 / id=<hex> / identity=<peer name or empty> / max_record_size=<n> / flags=<n> /
 *   autoopen=<0|1>
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

#include "api/proto.h"
#include "fileio.h"
#include "graphs.h"
#include "log.h"
#include "pg_assert.h"
#include "pg_error.h"

#define PROPS_FILE "graph.props"

enum {
	PROPS_MAX = 2048,
	SECDATA_CAP = PG_SECDATA_MAX,
	PREFETCH_AHEAD = 4, /* records between a batch's prefetch and its add */
};

/* ---- properties ------------------------------------------------------------------------- */

static int props_write(const struct pgd_graph *g)
{
	char text[PROPS_MAX], hex[2 * PGD_GRAPH_ID_MAX + 1];
	size_t idlen = strlen(g->id);
	int n;

	for (size_t i = 0; i < idlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", (unsigned char)g->id[i]);
	hex[2 * idlen] = '\0';
	n = snprintf(text, sizeof(text),
		     "format=1\nid=%s\nidentity=%s\nmax_record_size=%" PRIu32
		     "\nflags=%u\nautoopen=%d\n",
		     hex, g->identity, g->max_record_size, g->flags, g->autoopen ? 1 : 0);
	if (n < 0 || (size_t)n >= sizeof(text))
		return -EOVERFLOW;
	char path[PATH_MAX + 16];

	snprintf(path, sizeof(path), "%s/%s", g->dir, PROPS_FILE);
	return pg_file_write_atomic_path(path, text, (size_t)n);
}

/* The value of line "key=value\n" at *p (advanced past it) into out[cap]; false if not so. */
static bool props_line(char **p, const char *key, char *out, size_t cap)
{
	size_t klen = strlen(key);
	char *nl;

	if (strncmp(*p, key, klen) != 0 || (*p)[klen] != '=')
		return false;
	*p += klen + 1;
	nl = strchr(*p, '\n');
	if (!nl || (size_t)(nl - *p) >= cap)
		return false;
	memcpy(out, *p, (size_t)(nl - *p));
	out[nl - *p] = '\0';
	*p = nl + 1;
	return true;
}

static bool parse_u32(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int props_read(struct pgd_graph *g)
{
	char hex[2 * PGD_GRAPH_ID_MAX + 2], v[64], path[PATH_MAX + 16];
	uint32_t flags, autoopen;
	uint8_t *buf;
	size_t len;
	char *p;
	int fd, err;

	snprintf(path, sizeof(path), "%s", g->dir);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = pg_file_read(fd, PROPS_FILE, PROPS_MAX, 0, &buf, &len, NULL);
	close(fd);
	if (err)
		return err;
	p = (char *)buf;
	err = -EINVAL;
	if (!props_line(&p, "format", v, sizeof(v)) || strcmp(v, "1") != 0 ||
	    !props_line(&p, "id", hex, sizeof(hex)) ||
	    !props_line(&p, "identity", g->identity, sizeof(g->identity)) ||
	    !props_line(&p, "max_record_size", v, sizeof(v)) ||
	    !parse_u32(v, &g->max_record_size) || !props_line(&p, "flags", v, sizeof(v)) ||
	    !parse_u32(v, &flags) || !props_line(&p, "autoopen", v, sizeof(v)) ||
	    !parse_u32(v, &autoopen) || *p != '\0' || strlen(hex) % 2 || strlen(hex) == 0)
		goto out_free;
	for (size_t i = 0; i < strlen(hex) / 2; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			goto out_free;
		g->id[i] = (char)(hi << 4 | lo);
	}
	g->id[strlen(hex) / 2] = '\0';
	g->flags = flags;
	g->autoopen = autoopen != 0;
	g->lim.max_record_size = g->max_record_size;
	err = pgd_graph_id_check(g->id);
	if (!err && pg_record_limits_check(&g->lim))
		err = PG_E_BAD_LIMIT;
out_free:
	pg_file_free(buf, len);
	return err;
}

/* ---- the list --------------------------------------------------------------------------- */

int pgd_graph_id_check(const char *id)
{
	size_t len = strlen(id);

	if (len == 0 || len > PGD_GRAPH_ID_MAX || !pg_utf8_valid(id, len))
		return -EINVAL;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)id[i] < 0x20 || id[i] == 0x7f)
			return -EINVAL;
	return 0;
}

static struct pgd_graph *graph_new(struct pgd_graphs *gs, const char *dirname)
{
	struct pgd_graph *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	if ((size_t)snprintf(g->dir, sizeof(g->dir), "%s/%s", gs->root, dirname) >=
	    sizeof(g->dir)) {
		free(g);
		return NULL;
	}
	g->notify_fd = -1;
	pthread_mutex_init(&g->ev_lock, NULL);
	return g;
}

static void graph_free(struct pgd_graph *g)
{
	pthread_mutex_destroy(&g->ev_lock);
	free(g);
}

static void dir_name_of(const char *id, char out[40])
{
	XXH128_hash_t h = XXH3_128bits(id, strlen(id));

	snprintf(out, 40, "g-%016" PRIx64 "%016" PRIx64, h.high64, h.low64);
}

int pgd_graphs_init(struct pgd_graphs *gs, const char *state_dir,
		    const struct pgd_graphs_config *cfg, struct pg_identity_store *ids,
		    struct dp_node *node)
{
	struct dirent *de;
	DIR *d;

	memset(gs, 0, sizeof(*gs));
	gs->cfg = *cfg;
	gs->ids = ids;
	gs->node = node;
	if ((size_t)snprintf(gs->root, sizeof(gs->root), "%s/graphs", state_dir) >=
	    sizeof(gs->root))
		return -ENAMETOOLONG;
	if (mkdir(gs->root, 0700) != 0 && errno != EEXIST)
		return -errno;
	d = opendir(gs->root);
	if (!d)
		return -errno;
	while ((de = readdir(d)) != NULL) {
		struct pgd_graph *g;
		char msg[256];
		int err;

		if (strncmp(de->d_name, "g-", 2) != 0)
			continue;
		if (gs->n == PGD_GRAPHS_MAX) {
			pgd_log(PGD_LOG_WARN, "more than %d graphs under %s: %s and later ignored",
				PGD_GRAPHS_MAX, gs->root, de->d_name);
			break;
		}
		if (!(g = graph_new(gs, de->d_name))) {
			closedir(d);
			return -ENOMEM;
		}
		if ((err = props_read(g))) {
			pgd_log(PGD_LOG_ERROR, "graph directory %s: unreadable %s (%s): skipped",
				g->dir, PROPS_FILE, pg_strerror(err));
			graph_free(g);
			continue;
		}
		gs->g[gs->n++] = g;
		if (g->autoopen && (err = pgd_graph_open(gs, g, msg, sizeof(msg))))
			pgd_log(PGD_LOG_ERROR, "graph \"%s\" stays closed: %s", g->id, msg);
	}
	closedir(d);
	return 0;
}

void pgd_graphs_fini(struct pgd_graphs *gs)
{
	for (unsigned i = 0; i < gs->n; i++) {
		struct pgd_graph *g = gs->g[i];

		if (g->open) {
			bool keep = g->autoopen;

			pgd_graph_close(gs, g);
			g->autoopen =
			    keep; /* a shutdown is not a close: reopen at the next start */
			props_write(g);
		}
		graph_free(g);
	}
	gs->n = 0;
}

uint32_t pgd_graph_status_bits(struct pgd_graph *g)
{
	struct dp_graph_status st = { 0 };
	uint32_t bits = 0;

	if (g->open) {
		dp_graph_status(g->dp, &st);
		bits |= PG_API_GS_OPEN;
	}
	if (g->signer)
		bits |= PG_API_GS_SECURED;
	if (st.listening)
		bits |= PG_API_GS_LISTENING;
	if (st.links)
		bits |= PG_API_GS_CONNECTED;
	return bits;
}

struct pgd_graph *pgd_graph_find(struct pgd_graphs *gs, const char *id)
{
	for (unsigned i = 0; i < gs->n; i++)
		if (strcmp(gs->g[i]->id, id) == 0)
			return gs->g[i];
	return NULL;
}

/* ---- events ------------------------------------------------------------------------------ */

static void on_store_event(void *arg, const struct pg_store_event *ev)
{
	struct pgd_graph *g = arg;
	size_t len;
	uint8_t *bytes;
	uint64_t one = 1;

	pthread_mutex_lock(&g->ev_lock);
	if (!g->ev_wanted)
		goto out_unlock;
	len = pg_record_encoded_size(ev->rec);
	if (g->ev_len == PGD_EVENTS_MAX || g->ev_bytes + len > PGD_EVENT_BYTES ||
	    !(bytes = malloc(len))) {
		g->ev_dropped++;
		goto out_unlock;
	}
	if (pg_record_encode(ev->rec, &g->lim, bytes, len) != (long)len) {
		free(bytes); /* a stored record always encodes: counted, never trusted */
		g->ev_dropped++;
		goto out_unlock;
	}
	if (!g->ev) {
		g->ev = calloc(PGD_EVENTS_MAX, sizeof(*g->ev));
		if (!g->ev) {
			free(bytes);
			g->ev_dropped++;
			goto out_unlock;
		}
	}
	g->ev[(g->ev_head + g->ev_len) % PGD_EVENTS_MAX] = (struct pgd_event){
		.kind = ev->kind, .seq = ev->seq, .bytes = bytes, .len = (uint32_t)len
	};
	g->ev_len++;
	g->ev_bytes += len;
	if (write(g->notify_fd, &one, sizeof(one)) < 0) {
		/* a full eventfd counter has a wake-up pending already */
	}
out_unlock:
	pthread_mutex_unlock(&g->ev_lock);
}

unsigned pgd_graph_events_take(struct pgd_graph *g, struct pgd_event *out, unsigned max,
			       uint64_t *dropped)
{
	unsigned n = 0;

	pthread_mutex_lock(&g->ev_lock);
	while (n < max && g->ev_len > 0) {
		out[n] = g->ev[g->ev_head];
		g->ev_bytes -= out[n].len;
		g->ev_head = (g->ev_head + 1) % PGD_EVENTS_MAX;
		g->ev_len--;
		n++;
	}
	*dropped = g->ev_dropped;
	g->ev_dropped = 0;
	pthread_mutex_unlock(&g->ev_lock);
	return n;
}

static void events_clear(struct pgd_graph *g)
{
	pthread_mutex_lock(&g->ev_lock);
	while (g->ev_len > 0) {
		free(g->ev[g->ev_head].bytes);
		g->ev_head = (g->ev_head + 1) % PGD_EVENTS_MAX;
		g->ev_len--;
	}
	g->ev_bytes = 0;
	pthread_mutex_unlock(&g->ev_lock);
}

void pgd_graph_events_want(struct pgd_graph *g, bool want)
{
	pthread_mutex_lock(&g->ev_lock);
	g->ev_wanted = want;
	pthread_mutex_unlock(&g->ev_lock);
	if (!want)
		events_clear(g);
}

/* ---- open, close, create, delete ----------------------------------------------------------- */

static int signer_open(struct pgd_graphs *gs, struct pgd_graph *g, char *msg, size_t msglen)
{
	struct pg_signer_config sc = { .graph_id = g->id, .graph_id_len = strlen(g->id) };
	int err;

	sc.limits = g->lim;
	if ((err = pg_identity_open(gs->ids, g->identity, &g->ident))) {
		snprintf(msg, msglen, "identity %s: %s", g->identity, pg_strerror(err));
		return err;
	}
	if ((err = pg_signer_create(g->ident, &sc, &g->signer))) {
		snprintf(msg, msglen, "signer for %s: %s", g->identity, pg_strerror(err));
		pg_identity_close(g->ident);
		g->ident = NULL;
	}
	return err;
}

/* Has the dataplane serve g's open store (expiry, flooding). 0 or an error (msg). */
static int dataplane_add(struct pgd_graphs *gs, struct pgd_graph *g, char *msg, size_t msglen)
{
	struct dp_graph_config dc = {
		.id = g->id,
		.id_len = (uint16_t)strlen(g->id),
		.store = g->store,
		.limits = g->lim,
		.capacity = gs->cfg.max_records,
		/* a graph whose records this node signs wants every record signed */
		.secured = g->signer != NULL,
		/* the node subscribes to the store and hands every event on to us */
		.on_event = on_store_event,
		.on_event_arg = g,
	};
	int err = dp_node_graph_add(gs->node, &dc, &g->dp);

	if (err == -ENOSPC)
		snprintf(msg, msglen, "the dataplane serves %d graphs at most", DP_STORES_MAX);
	else if (err)
		snprintf(msg, msglen, "the dataplane: %s", pg_strerror(err));
	return err;
}

int pgd_graph_open(struct pgd_graphs *gs, struct pgd_graph *g, char *msg, size_t msglen)
{
	struct pg_store_config c;
	char store_dir[PATH_MAX + 8];
	int err;

	if (g->open)
		return 0;
	snprintf(store_dir, sizeof(store_dir), "%s/store", g->dir);
	pg_store_config_default(&c);
	c.dir = store_dir;
	c.graph_id = g->id;
	c.graph_id_len = (uint16_t)strlen(g->id);
	c.limits = g->lim;
	c.max_records = gs->cfg.max_records;
	c.max_bytes = gs->cfg.max_bytes;
	c.segment_size = gs->cfg.segment_size;
	c.commit_interval_us = gs->cfg.commit_interval_us;
	c.direct_io = gs->cfg.direct_io;
	g->notify_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (g->notify_fd < 0) {
		err = -errno;
		snprintf(msg, msglen, "eventfd: %s", strerror(-err));
		return err;
	}
	if (g->identity[0] && !(g->flags & PGD_GRAPH_UNSECURED) &&
	    (err = signer_open(gs, g, msg, msglen)))
		goto err_close_fd;
	g->creator = g->ident ? pg_identity_peer_name(g->ident) : gs->cfg.node_name;
	if ((err = pg_store_open(&c, &g->store))) {
		snprintf(msg, msglen, "store %s: %s", store_dir, pg_strerror(err));
		goto err_close_signer;
	}
	pg_store_set_notify_fd(g->store, g->notify_fd);
	if ((err = dataplane_add(gs, g, msg, msglen))) {
		pg_store_close(g->store);
		g->store = NULL;
		goto err_close_signer;
	}
	g->open = true;
	if (!g->autoopen) {
		g->autoopen = true;
		if ((err = props_write(g)))
			pgd_log(PGD_LOG_WARN, "graph \"%s\": cannot remember it is open: %s", g->id,
				pg_strerror(err));
	}
	return 0;

err_close_signer:
	pg_signer_destroy(g->signer);
	g->signer = NULL;
	pg_identity_close(g->ident);
	g->ident = NULL;
err_close_fd:
	close(g->notify_fd);
	g->notify_fd = -1;
	return err;
}

int pgd_graph_close(struct pgd_graphs *gs, struct pgd_graph *g)
{
	if (!g->open)
		return 0;
	dp_node_graph_remove(gs->node, g->dp); /* no worker touches the store after this */
	g->dp = NULL;
	pg_store_close(g->store); /* makes everything put durable first */
	g->store = NULL;
	free(g->enc);
	g->enc = NULL;
	pg_signer_destroy(g->signer);
	g->signer = NULL;
	pg_identity_close(g->ident);
	g->ident = NULL;
	close(g->notify_fd);
	g->notify_fd = -1;
	events_clear(g);
	free(g->ev);
	g->ev = NULL;
	g->ev_wanted = false;
	g->had_links = false;
	g->open = false;
	g->autoopen = false;
	return props_write(g);
}

int pgd_graph_create(struct pgd_graphs *gs, const char *id, const char *identity,
		     uint32_t max_record_size, unsigned flags, char *msg, size_t msglen)
{
	struct pgd_graph *g;
	char dirname[40];
	int err;

	if (pgd_graph_id_check(id)) {
		snprintf(msg, msglen,
			 "a graph id is 1..256 bytes of UTF-8 without control characters");
		return -EINVAL;
	}
	if (pgd_graph_find(gs, id)) {
		snprintf(msg, msglen, "graph \"%s\" exists", id);
		return -EEXIST;
	}
	if (gs->n == PGD_GRAPHS_MAX) {
		snprintf(msg, msglen, "this daemon holds its maximum of %d graphs", PGD_GRAPHS_MAX);
		return -ENOSPC;
	}
	dir_name_of(id, dirname);
	if (!(g = graph_new(gs, dirname)))
		return -ENOMEM;
	snprintf(g->id, sizeof(g->id), "%s", id);
	g->max_record_size = max_record_size ? max_record_size : PG_RECORD_SIZE_DEFAULT;
	g->lim.max_record_size = g->max_record_size;
	g->flags = flags & PGD_GRAPH_UNSECURED;
	if (pg_record_limits_check(&g->lim)) {
		snprintf(msg, msglen, "max record size %u is outside 1 KiB .. 60 MiB",
			 max_record_size);
		err = PG_E_BAD_LIMIT;
		goto err_free;
	}
	if (identity && identity[0])
		snprintf(g->identity, sizeof(g->identity), "%s", identity);
	else if (pg_identity_get_default(gs->ids, g->identity) != 0)
		g->identity[0] = '\0'; /* no default identity: an unsecured graph */
	if (mkdir(g->dir, 0700) != 0) {
		err = -errno;
		snprintf(msg, msglen, "mkdir %s: %s", g->dir, strerror(errno));
		goto err_free;
	}
	g->autoopen = false;
	if ((err = props_write(g))) {
		snprintf(msg, msglen, "write %s/%s: %s", g->dir, PROPS_FILE, pg_strerror(err));
		goto err_remove;
	}
	if ((err = pgd_graph_open(gs, g, msg, msglen)))
		goto err_remove;
	gs->g[gs->n++] = g;
	return 0;

err_remove:
	pgd_dir_remove_tree(g->dir);
err_free:
	graph_free(g);
	return err;
}

static int rm_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb, (void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

int pgd_dir_remove_tree(const char *dir)
{
	return nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -errno;
}

int pgd_graph_delete(struct pgd_graphs *gs, struct pgd_graph *g)
{
	int err;

	pgd_graph_close(gs, g);
	err = pgd_dir_remove_tree(g->dir);
	for (unsigned i = 0; i < gs->n; i++) {
		if (gs->g[i] == g) {
			gs->g[i] = gs->g[--gs->n];
			break;
		}
	}
	graph_free(g);
	return err;
}

/* ---- records ------------------------------------------------------------------------------ */

/* Encodes r into the graph's buffer (or, larger than PGD_ENCODE_KEEP, a buffer of its own:
 * *own, freed by the caller). Its length, or the encoder's error. */
static long encode(struct pgd_graph *g, const struct pg_record *r, uint8_t **out, uint8_t **own)
{
	size_t len = pg_record_encoded_size(r);
	long n;

	*own = NULL;
	if (len > PGD_ENCODE_KEEP)
		*out = *own = malloc(len);
	else if (!g->enc)
		*out = g->enc = malloc(PGD_ENCODE_KEEP);
	else
		*out = g->enc;
	if (!*out)
		return -ENOMEM;
	n = pg_record_encode(r, &g->lim, *out, len);
	return n == (long)len || n < 0 ? n : -EINVAL;
}

/* Stores a record we just encoded and hands it to the flood: one decode for both. The flood
 * gets a view of raw itself (node.h: the version table keeps a copy of raw and moves the
 * view's pointers onto it), never the caller's view, whose pointers (an update's creator in
 * the held record, an add's payload in the request) dangle once the request is done. */
static int store_and_flood(struct pgd_graph *g, const uint8_t *raw, uint32_t n, uint64_t *ticket)
{
	struct pg_record view;
	int err = pg_record_decode(raw, n, &g->lim, &view);

	PG_ASSERT(err == 0); /* we encoded it */
	if (!(err = pg_store_put_decoded(g->store, &view, raw, n, ticket)))
		dp_graph_publish(g->dp, &view, raw, n);
	return err;
}

/* Signs r (in a secured graph) into sd, stores its encoding and floods the same bytes. Room
 * in the flood is asked first, for the record's size with the largest signature, so that a
 * busy node costs neither a signature nor a store entry, and publish cannot be refused after
 * the store took the record (node.h). */
static int sign_and_put(struct pgd_graph *g, struct pg_record *r, uint64_t *ticket)
{
	uint8_t sd[SECDATA_CAP], *raw, *own;
	long n;
	int err;

	r->secdata = NULL;
	r->secdata_len = 0;
	/* what the encoder would refuse is refused first, not answered busy */
	if ((err = pg_record_validate(r, &g->lim)) ||
	    (err = pg_attrs_check(r->attrs, r->attrs_len, r->nattrs)))
		return err;
	if (!dp_graph_room(g->dp, (uint32_t)pg_record_encoded_size(r) +
				      (g->signer ? (uint32_t)sizeof(sd) : 0)))
		return PG_E_BUSY;
	if (g->signer) {
		n = pg_signer_sign_record(g->signer, r, sd, sizeof(sd));
		if (n < 0)
			return (int)n;
		r->secdata = sd;
		r->secdata_len = (uint16_t)n;
	}
	if ((n = encode(g, r, &raw, &own)) < 0) {
		free(own);
		return (int)n;
	}
	err = store_and_flood(g, raw, (uint32_t)n, ticket);
	free(own);
	return err;
}

int pgd_record_add(struct pgd_graph *g, const struct pg_record *in, uint64_t now_us,
		   uint64_t *ticket)
{
	struct pg_record r = *in;
	int err;

	r.version = 1;
	r.flags = in->flags & PG_RECORD_AUTO_REFRESH;
	r.creator = g->creator;
	r.creator_len = (uint16_t)strlen(g->creator);
	r.modifier = "";
	r.modifier_len = 0;
	r.created_us = r.modified_us = now_us;
	err = sign_and_put(g, &r, ticket);
	return err == PG_E_STALE ? -EEXIST : err; /* the id is taken: update it instead */
}

/* Stores and floods one record whose security data is already set (or none is needed). */
static int put_signed(struct pgd_graph *g, const struct pg_record *r, uint64_t *ticket)
{
	uint8_t *raw, *own;
	long n;
	int err;

	if (!dp_graph_room(g->dp, (uint32_t)pg_record_encoded_size(r)))
		return PG_E_BUSY;
	if ((n = encode(g, r, &raw, &own)) < 0) {
		free(own);
		return (int)n;
	}
	err = store_and_flood(g, raw, (uint32_t)n, ticket);
	free(own);
	return err;
}

void pgd_records_add(struct pgd_graph *g, const struct pg_record *in, unsigned n, uint64_t now_us,
		     int *res, uint64_t *ticket)
{
	static struct pg_record recs[PG_BUNDLE_MAX];
	static uint8_t sd[PG_BUNDLE_MAX][PG_SECDATA_BUNDLE_MAX_LEN];
	static uint16_t lens[PG_BUNDLE_MAX];
	static unsigned at[PG_BUNDLE_MAX];
	unsigned k = 0;
	int err;

	PG_ASSERT(n <= PG_BUNDLE_MAX);
	if (!g->signer) {
		uint16_t clen = (uint16_t)strlen(g->creator);

		for (unsigned i = 0; i < n; i++) {
			uint64_t t = 0;

			/* the table's and the store's misses of a record a few ahead start now */
			if (i + PREFETCH_AHEAD < n)
				dp_graph_prefetch(g->dp, &in[i + PREFETCH_AHEAD].id, g->creator,
						  clen);
			res[i] = pgd_record_add(g, &in[i], now_us, &t);
			if (!res[i] && t > *ticket)
				*ticket = t;
		}
		return;
	}
	/* the records that can be made, then one signature over their Merkle root */
	for (unsigned i = 0; i < n; i++) {
		struct pg_record *r = &recs[k];

		*r = in[i];
		r->version = 1;
		r->flags = in[i].flags & PG_RECORD_AUTO_REFRESH;
		r->creator = g->creator;
		r->creator_len = (uint16_t)strlen(g->creator);
		r->modifier = "";
		r->modifier_len = 0;
		r->created_us = r->modified_us = now_us;
		r->secdata = NULL;
		r->secdata_len = 0;
		if ((err = pg_record_validate(r, &g->lim)) ||
		    (err = pg_attrs_check(r->attrs, r->attrs_len, r->nattrs))) {
			res[i] = err;
			continue;
		}
		at[k++] = i;
	}
	if (!k)
		return;
	if ((err = pg_signer_sign_bundle(g->signer, recs, k, sd, lens))) {
		for (unsigned j = 0; j < k; j++)
			res[at[j]] = err;
		return;
	}
	for (unsigned j = 0; j < k; j++) {
		uint64_t t = 0;

		recs[j].secdata = sd[j];
		recs[j].secdata_len = lens[j];
		err = put_signed(g, &recs[j], &t);
		res[at[j]] = err == PG_E_STALE ? -EEXIST : err;
		if (!err && t > *ticket)
			*ticket = t;
	}
}

/* The record (id, creator) as held, decoded into a view over buf (malloc'd; caller frees). */
static int held_get(struct pgd_graph *g, const struct pg_guid *id, const char *creator,
		    struct pg_record *out, uint8_t **buf)
{
	size_t cap = 4096, len = 0;
	int err;

	for (int tries = 0; tries < 2; tries++) {
		if (!(*buf = malloc(cap)))
			return -ENOMEM;
		err = pg_store_get(g->store, id, creator, (uint16_t)strlen(creator),
				   PG_STORE_WITH_DELETED, *buf, cap, &len);
		if (err != -ENOSPC)
			break;
		free(*buf);
		*buf = NULL;
		cap = len;
	}
	if (!err && (err = pg_record_decode(*buf, len, &g->lim, out)) == 0 &&
	    (out->flags & PG_RECORD_DELETED))
		err = PG_E_NOT_FOUND; /* a tombstone is not a record to update or delete */
	if (err) {
		free(*buf);
		*buf = NULL;
	}
	return err;
}

static void touch(struct pgd_graph *g, struct pg_record *r, const struct pg_record *held,
		  uint64_t now_us)
{
	r->version = held->version + 1;
	r->creator = held->creator;
	r->creator_len = held->creator_len;
	r->created_us = held->created_us;
	r->modified_us = now_us > held->modified_us ? now_us : held->modified_us;
	r->modifier = g->creator;
	r->modifier_len = (uint16_t)strlen(g->creator);
}

int pgd_record_update(struct pgd_graph *g, const struct pg_record *in, uint64_t now_us,
		      uint64_t *ticket)
{
	struct pg_record held, r = *in;
	uint8_t *buf;
	int err;

	if ((err = held_get(g, &in->id, g->creator, &held, &buf)))
		return err;
	if (held.version >= PG_RECORD_VERSION_MAX) {
		err = PG_E_BAD_VERSION;
		goto out_free;
	}
	touch(g, &r, &held, now_us);
	r.flags = in->flags & PG_RECORD_AUTO_REFRESH;
	err = sign_and_put(g, &r, ticket);
out_free:
	free(buf);
	return err;
}

int pgd_record_delete(struct pgd_graph *g, const struct pg_guid *id, const char *creator,
		      uint64_t now_us, uint64_t *ticket)
{
	struct pg_record held, r;
	uint8_t *buf;
	int err;

	if ((err = held_get(g, id, creator ? creator : g->creator, &held, &buf)))
		return err;
	if (held.version >= PG_RECORD_VERSION_MAX) {
		err = PG_E_BAD_VERSION;
		goto out_free;
	}
	r = held;
	touch(g, &r, &held, now_us);
	r.flags |= PG_RECORD_DELETED;
	r.nattrs = 0; /* the pointers stay valid (held's): empty, never NULL + 0 */
	r.attrs_len = 0;
	r.payload_len = 0;
	err = sign_and_put(g, &r, ticket);
out_free:
	free(buf);
	return err;
}
