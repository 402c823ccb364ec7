/*
 * client_graph.c - graphs through libpeergraph: create, open, close, delete, status, list,
 * export and import (peergraph.h; GRAPH_* in doc/api.md). A graph's store lives under the
 * daemon's state directory; export and import paths are on the daemon's host.
 */
#include <errno.h>
#include <string.h>

#include "client_priv.h"

int peergraph_graph_create(struct peergraph *pg, const char *graph_id,
			   const struct peergraph_graph_props *props)
{
	int err;

	if (!graph_id)
		return -EINVAL;
	if ((err = pgc_begin(pg, PG_API_GRAPH_CREATE)))
		return err;
	pg_api_put_str(&pg->w, PG_API_T_GRAPH, graph_id);
	if (props && props->identity)
		pg_api_put_str(&pg->w, PG_API_T_IDENTITY, props->identity);
	if (props && props->max_record_size)
		pg_api_put_u32(&pg->w, PG_API_T_MAX_RECORD_SIZE, props->max_record_size);
	if (props && props->flags)
		pg_api_put_u32(&pg->w, PG_API_T_FLAGS, props->flags);
	return pgc_call(pg);
}

int peergraph_graph_open(struct peergraph *pg, const char *graph_id)
{
	return pgc_call_str(pg, PG_API_GRAPH_OPEN, PG_API_T_GRAPH, graph_id);
}

int peergraph_graph_close(struct peergraph *pg, const char *graph_id)
{
	return pgc_call_str(pg, PG_API_GRAPH_CLOSE, PG_API_T_GRAPH, graph_id);
}

int peergraph_graph_delete(struct peergraph *pg, const char *graph_id)
{
	return pgc_call_str(pg, PG_API_GRAPH_DELETE, PG_API_T_GRAPH, graph_id);
}

/* Fills a graph's status from the fields of a GRAPH_STATUS reply or a GRAPH_LIST item (both
 * checked: strings within their bounds, which the buffers hold). */
static void status_fill(const uint8_t *body, size_t len, struct peergraph_graph_status *out)
{
	struct pg_api_field f;
	struct pg_api_iter it;

	pg_api_iter_init(&it, body, len);
	while (pg_api_iter_next(&it, &f)) {
		switch (f.tag) {
		case PG_API_T_GRAPH:
			pg_api_str(&f, out->graph_id, sizeof(out->graph_id));
			break;
		case PG_API_T_STATUS:
			out->status = pg_api_u32(&f);
			break;
		case PG_API_T_COUNT:
			out->records = pg_api_u64(&f);
			break;
		case PG_API_T_IDENTITY:
			pg_api_str(&f, out->identity, sizeof(out->identity));
			break;
		case PG_API_T_MAX_RECORD_SIZE:
			out->max_record_size = pg_api_u32(&f);
			break;
		}
	}
}

int peergraph_graph_status(struct peergraph *pg, const char *graph_id,
			   struct peergraph_graph_status *out)
{
	const uint8_t *body;
	size_t len;
	int err;

	if (!out)
		return -EINVAL;
	if ((err = pgc_call_str(pg, PG_API_GRAPH_STATUS, PG_API_T_GRAPH, graph_id)))
		return err;
	body = pgc_body(pg, &len);
	memset(out, 0, sizeof(*out));
	/* the request's check bounded graph_id by the GRAPH field's 256 bytes */
	memcpy(out->graph_id, graph_id, strnlen(graph_id, PEERGRAPH_GRAPH_ID_MAX));
	status_fill(body, len, out);
	return 0;
}

/* Fills listed graph i from its ITEM. */
static void list_fill(const struct pg_api_field *item, void *out, size_t i)
{
	struct peergraph_graph_status *st = (struct peergraph_graph_status *)out + i;

	memset(st, 0, sizeof(*st));
	status_fill(item->v, item->len, st);
}

long peergraph_graph_list(struct peergraph *pg, struct peergraph_graph_status *out, size_t max)
{
	return pgc_call_list(pg, PG_API_GRAPH_LIST, max, list_fill, out);
}

/* GRAPH_EXPORT or GRAPH_IMPORT: a graph and a path. */
static int graph_path(struct peergraph *pg, uint16_t type, const char *graph_id, const char *path)
{
	int err;

	if (!graph_id || !path)
		return -EINVAL;
	if ((err = pgc_begin(pg, type)))
		return err;
	pg_api_put_str(&pg->w, PG_API_T_GRAPH, graph_id);
	pg_api_put_str(&pg->w, PG_API_T_PATH, path);
	return pgc_call(pg);
}

int peergraph_graph_export(struct peergraph *pg, const char *graph_id, const char *path)
{
	return graph_path(pg, PG_API_GRAPH_EXPORT, graph_id, path);
}

int peergraph_graph_import(struct peergraph *pg, const char *graph_id, const char *path)
{
	return graph_path(pg, PG_API_GRAPH_IMPORT, graph_id, path);
}
