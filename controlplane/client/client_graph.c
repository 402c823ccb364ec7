/*
 * client_graph.c - graphs through libpeergraph: create, open, close, delete, status, list,
 * export and import, and their links to other nodes: listen, connect, disconnect, neighbours
 * (peergraph.h; GRAPH_* in doc/api.md). A graph's store lives under the
 * daemon's state directory; export and import paths are on the daemon's host.
 */
#include <errno.h>
#include <string.h>

#include "api/node_stats.h"
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
		case PG_API_T_LINKS:
			out->links = pg_api_u32(&f);
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

/* ---- links ------------------------------------------------------------------------------- */

int peergraph_graph_listen(struct peergraph *pg, const char *graph_id, bool on)
{
	int err;

	if (!graph_id)
		return -EINVAL;
	if ((err = pgc_begin(pg, PG_API_GRAPH_LISTEN)))
		return err;
	pg_api_put_str(&pg->w, PG_API_T_GRAPH, graph_id);
	if (!on)
		pg_api_put_u32(&pg->w, PG_API_T_FLAGS, PG_API_LISTEN_STOP);
	return pgc_call(pg);
}

/* GRAPH_CONNECT or GRAPH_DISCONNECT: a graph and an address. */
static int graph_address(struct peergraph *pg, uint16_t type, const char *graph_id,
			 const char *address)
{
	int err;

	if (!graph_id || !address)
		return -EINVAL;
	if ((err = pgc_begin(pg, type)))
		return err;
	pg_api_put_str(&pg->w, PG_API_T_GRAPH, graph_id);
	pg_api_put_str(&pg->w, PG_API_T_ADDRESS, address);
	return pgc_call(pg);
}

int peergraph_graph_connect(struct peergraph *pg, const char *graph_id, const char *address,
			    char resolved[PEERGRAPH_ADDRESS_SIZE])
{
	struct pg_api_field f;
	const uint8_t *body;
	size_t len;
	int err;

	if ((err = graph_address(pg, PG_API_GRAPH_CONNECT, graph_id, address)))
		return err;
	body = pgc_body(pg, &len);
	/* required by the reply's schema, and bounded to fit */
	if (resolved && pg_api_find(body, len, PG_API_T_ADDRESS, &f))
		pg_api_str(&f, resolved, PEERGRAPH_ADDRESS_SIZE);
	return 0;
}

int peergraph_graph_disconnect(struct peergraph *pg, const char *graph_id, const char *address)
{
	return graph_address(pg, PG_API_GRAPH_DISCONNECT, graph_id, address);
}

/* Fills neighbour i from its ITEM (checked: strings within the buffers' bounds). */
static void neighbour_fill(const struct pg_api_field *item, void *out, size_t i)
{
	struct peergraph_neighbour *nb = (struct peergraph_neighbour *)out + i;
	struct pg_api_field f;
	struct pg_api_iter it;

	memset(nb, 0, sizeof(*nb));
	pg_api_iter_init(&it, item->v, item->len);
	while (pg_api_iter_next(&it, &f)) {
		switch (f.tag) {
		case PG_API_T_ADDRESS:
			pg_api_str(&f, nb->address, sizeof(nb->address));
			break;
		case PG_API_T_NODE:
			pg_api_str(&f, nb->node, sizeof(nb->node));
			break;
		case PG_API_T_FLAGS:
			nb->initiator = pg_api_u32(&f) & PG_API_LINK_INITIATOR;
			break;
		case PG_API_T_RECORDS_RX:
			nb->records_rx = pg_api_u64(&f);
			break;
		case PG_API_T_RECORDS_TX:
			nb->records_tx = pg_api_u64(&f);
			break;
		case PG_API_T_RETRANSMITS:
			nb->retransmits = pg_api_u64(&f);
			break;
		case PG_API_T_SRTT_US:
			nb->srtt_us = pg_api_u64(&f);
			break;
		case PG_API_T_REASM_TIMEOUTS:
			nb->reasm_timeouts = pg_api_u64(&f);
			break;
		}
	}
}

int peergraph_graph_neighbours(struct peergraph *pg, const char *graph_id,
			       struct peergraph_neighbour *out, unsigned max, unsigned *n)
{
	struct pg_api_field f;
	struct pg_api_iter it;
	const uint8_t *body;
	size_t len, count = 0;
	int err;

	if (!n || (max && !out))
		return -EINVAL;
	if ((err = pgc_call_str(pg, PG_API_GRAPH_NEIGHBOURS, PG_API_T_GRAPH, graph_id)))
		return err;
	body = pgc_body(pg, &len);
	pg_api_iter_init(&it, body, len);
	for (; pg_api_iter_next(&it, &f); count++) /* ITEMs only, by the schema */
		if (count < max)
			neighbour_fill(&f, out, count);
	*n = count > UINT32_MAX ? UINT32_MAX : (unsigned)count;
	return 0;
}

const char *peergraph_link_reason_text(uint32_t reason)
{
	static const char *const text[] = {
		[PEERGRAPH_REASON_TIMEOUT] = "nothing heard from the other node",
		[PEERGRAPH_REASON_CLOSED] = "disconnected",
		[PEERGRAPH_REASON_NO_GRAPH] = "the other node has no such graph open and listening",
		[PEERGRAPH_REASON_VERSION] = "no common protocol version",
		[PEERGRAPH_REASON_FULL] = "the other node's link table is full",
		[PEERGRAPH_REASON_PROTOCOL] = "a node broke the protocol",
		[PEERGRAPH_REASON_SHUTDOWN] = "the node is stopping",
		[PEERGRAPH_REASON_SELF] = "that address is this node's own",
	};

	if (reason < sizeof(text) / sizeof(text[0]) && text[reason])
		return text[reason];
	return "an unknown reason";
}

/* ---- the node's counters ---------------------------------------------------------------- */

#define SAME_AS(a, b) ((long)(a) == (long)(b))
_Static_assert(SAME_AS(PEERGRAPH_DROP_DECODE, PG_API_DROP_DECODE) &&
		   SAME_AS(PEERGRAPH_DROP_UNKNOWN, PG_API_DROP_UNKNOWN) &&
		   SAME_AS(PEERGRAPH_DROP_ADDRESS, PG_API_DROP_ADDRESS) &&
		   SAME_AS(PEERGRAPH_DROP_COOKIE, PG_API_DROP_COOKIE) &&
		   SAME_AS(PEERGRAPH_DROP_NO_GRAPH, PG_API_DROP_NO_GRAPH) &&
		   SAME_AS(PEERGRAPH_DROP_SHORT_HELLO, PG_API_DROP_SHORT_HELLO) &&
		   SAME_AS(PEERGRAPH_DROP_UNEXPECTED, PG_API_DROP_UNEXPECTED) &&
		   SAME_AS(PEERGRAPH_DROP_FULL, PG_API_DROP_FULL) &&
		   SAME_AS(PEERGRAPH_DROP_SELF, PG_API_DROP_SELF) &&
		   SAME_AS(PEERGRAPH_DROP_REASONS, PG_API_DROP_REASONS) &&
		   SAME_AS(PEERGRAPH_DECODE_MAGIC, PG_API_DECODE_MAGIC) &&
		   SAME_AS(PEERGRAPH_DECODE_FIELD, PG_API_DECODE_FIELD) &&
		   SAME_AS(PEERGRAPH_DECODE_ERRORS, PG_API_DECODE_ERRORS) &&
		   SAME_AS(PEERGRAPH_STAGE_RX, PG_API_STAGE_RX) &&
		   SAME_AS(PEERGRAPH_STAGE_TX, PG_API_STAGE_TX) &&
		   SAME_AS(PEERGRAPH_STAGES, PG_API_STAGES),
	       "the node's counters are indexed as the protocol names them");

static const struct peergraph_node_stat_field stat_fields[] = {
#define FIELD(name, member) { name, offsetof(struct peergraph_node_stats, member) },
	PG_API_NODE_COUNTERS(FIELD)
#undef FIELD
	    { "links", offsetof(struct peergraph_node_stats, links) },
};

const struct peergraph_node_stat_field *peergraph_node_stat_fields(size_t *n)
{
	*n = sizeof(stat_fields) / sizeof(stat_fields[0]);
	return stat_fields;
}

/* Sets the counter an ITEM{NAME COUNT} names; one this library does not know is skipped. */
static void counter_fill(const struct pg_api_field *item, struct peergraph_node_stats *st)
{
	char name[PG_API_NAME_MAX + 1] = "";
	struct pg_api_field f;
	struct pg_api_iter it;
	uint64_t v = 0;

	pg_api_iter_init(&it, item->v, item->len);
	while (pg_api_iter_next(&it, &f)) {
		if (f.tag == PG_API_T_NAME)
			pg_api_str(&f, name, sizeof(name));
		else if (f.tag == PG_API_T_COUNT)
			v = pg_api_u64(&f);
	}
	for (size_t i = 0; i < sizeof(stat_fields) / sizeof(stat_fields[0]); i++) {
		if (!strcmp(name, stat_fields[i].name)) {
			memcpy((char *)st + stat_fields[i].offset, &v, sizeof(v));
			return;
		}
	}
}

int peergraph_node_stats(struct peergraph *pg, struct peergraph_node_stats *out)
{
	struct pg_api_field f;
	struct pg_api_iter it;
	const uint8_t *body;
	size_t len;
	int err;

	if (!out)
		return -EINVAL;
	if ((err = pgc_begin(pg, PG_API_NODE_STATS)) || (err = pgc_call(pg)))
		return err;
	memset(out, 0, sizeof(*out));
	body = pgc_body(pg, &len);
	pg_api_iter_init(&it, body, len);
	while (pg_api_iter_next(&it, &f)) { /* ADDRESS and ITEMs, by the schema */
		if (f.tag == PG_API_T_ADDRESS)
			pg_api_str(&f, out->address, sizeof(out->address));
		else
			counter_fill(&f, out);
	}
	return 0;
}
