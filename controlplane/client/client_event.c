/*
 * client_event.c - events through libpeergraph: subscribing, the connection's event queue,
 * and peergraph_event_next.
 *
 * Once subscribed, the daemon sends EVENT frames whenever it has them, so they also arrive
 * while a call waits for its reply. The core (client.c) checks each one and hands it here to
 * be queued; peergraph_event_next returns the queued ones first, in arrival order, and only
 * then reads the socket.
 *
 * THE QUEUE AND WHAT IT LOSES
 *
 * The queue is a ring of PGC_EVENTS_MAX slots holding copies of event bodies, at most
 * PGC_EVENT_BYTES_MAX bytes of them (one event larger than that is still taken into an empty
 * queue). A program that stops reading events must not make the library grow without bound,
 * so past either bound an event is dropped, and the drop is recorded in place: the slot after
 * the last queued event becomes a LOST marker, and further drops in the same gap only raise
 * its count. Events queued after the gap follow the marker, so the program learns where it
 * lost events and how many, exactly as it learns of the daemon's own drops. A marker's count
 * is the connection's running total of drops ("so far", as in the daemon's LOST); its graph
 * id is "" since the gap may span graphs. Real events may take all slots but one: the last
 * is kept so that a marker always fits after an event.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client_priv.h"
#include "pg_assert.h"

static struct pgc_event_slot *slot_at(struct pgc_event_queue *q, uint32_t i)
{
	return &q->slot[(q->head + i) % PGC_EVENTS_MAX];
}

/* Appends a slot; the caller checked the room. */
static void slot_push(struct pgc_event_queue *q, uint8_t *body, uint32_t len, uint64_t lost)
{
	struct pgc_event_slot *s;

	PG_ASSERT(q->count < PGC_EVENTS_MAX);
	s = slot_at(q, q->count++);
	s->body = body;
	s->len = len;
	s->lost = lost;
}

void pgc_event_push(struct peergraph *pg, const uint8_t *body, size_t len)
{
	struct pgc_event_queue *q = &pg->events;
	struct pgc_event_slot *tail;
	uint8_t *copy = NULL;

	if (q->count < PGC_EVENTS_MAX - 1 &&
	    (q->bytes == 0 || q->bytes + len <= PGC_EVENT_BYTES_MAX))
		copy = malloc(len ? len : 1);
	if (copy) {
		memcpy(copy, body, len);
		slot_push(q, copy, (uint32_t)len, 0);
		q->bytes += len;
		return;
	}
	q->dropped++;
	tail = q->count ? slot_at(q, q->count - 1) : NULL;
	if (tail && !tail->body)
		tail->lost = q->dropped;
	else
		slot_push(q, NULL, 0, q->dropped); /* fits: an event leaves one slot free */
}

void pgc_event_queue_free(struct peergraph *pg)
{
	struct pgc_event_queue *q = &pg->events;

	while (q->count) {
		free(slot_at(q, 0)->body);
		q->head = (q->head + 1) % PGC_EVENTS_MAX;
		q->count--;
	}
	q->bytes = 0;
}

/* Takes the oldest slot; the queue is not empty. */
static struct pgc_event_slot slot_pop(struct pgc_event_queue *q)
{
	struct pgc_event_slot s;

	PG_ASSERT(q->count > 0);
	s = *slot_at(q, 0);
	q->head = (q->head + 1) % PGC_EVENTS_MAX;
	q->count--;
	q->bytes -= s.len;
	return s;
}

/* Fills *ev from a checked event body; strings and the record live in the connection. 1, or
 * an error (a record that does not decode, which closes the connection). */
static int event_export(struct peergraph *pg, const uint8_t *body, size_t len,
			struct peergraph_event *ev)
{
	struct pg_api_field f;
	struct pg_api_iter it;
	int err;

	pg_api_iter_init(&it, body, len);
	while (pg_api_iter_next(&it, &f)) {
		switch (f.tag) {
		case PG_API_T_EVENT_KIND:
			ev->kind = (enum peergraph_event_kind)pg_api_u32(&f);
			break;
		case PG_API_T_GRAPH: /* at most 256 bytes, checked */
			pg_api_str(&f, pg->graph_id, sizeof(pg->graph_id));
			break;
		case PG_API_T_RECORD:
			if ((err = pgc_record_export(pg, &f, &ev->record)))
				return err;
			break;
		case PG_API_T_SEQ:
			ev->seq = pg_api_u64(&f);
			break;
		case PG_API_T_LOST:
			ev->lost = pg_api_u64(&f);
			break;
		case PG_API_T_STATUS:
			ev->status = pg_api_u32(&f);
			break;
		case PG_API_T_ADDRESS: /* bounds checked: the buffers hold them */
			pg_api_str(&f, pg->address, sizeof(pg->address));
			break;
		case PG_API_T_NODE:
			pg_api_str(&f, pg->node, sizeof(pg->node));
			break;
		case PG_API_T_REASON:
			ev->reason = pg_api_u32(&f);
			break;
		case PG_API_T_FLAGS:
			ev->by_peer = pg_api_u32(&f) & PG_API_LINK_BY_PEER;
			break;
		}
	}
	return 1;
}

int peergraph_event_next(struct peergraph *pg, struct peergraph_event *ev, int timeout_ms)
{
	struct pgc_event_slot s;
	int r;

	if (pg->in_callback)
		return -EDEADLK;
	if (!ev)
		return -EINVAL;
	pg->message[0] = '\0';
	free(pg->event_body); /* the last event's: valid until this call */
	pg->event_body = NULL;
	if (!pg->events.count) {
		if (pg->fd < 0)
			return -ENOTCONN;
		if ((r = pgc_read_event(pg, timeout_ms)) <= 0)
			return r;
	}
	s = slot_pop(&pg->events);
	memset(ev, 0, sizeof(*ev));
	pg->graph_id[0] = pg->address[0] = pg->node[0] = '\0';
	ev->graph_id = pg->graph_id;
	ev->address = pg->address;
	ev->node = pg->node;
	ev->record.creator = ev->record.modifier = "";
	if (!s.body) {
		ev->kind = PEERGRAPH_EVENT_LOST;
		ev->lost = s.lost;
		return 1;
	}
	pg->event_body = s.body; /* the record's payload points into it */
	return event_export(pg, s.body, s.len, ev);
}

int peergraph_subscribe(struct peergraph *pg, const char *graph_id, uint32_t mask)
{
	int err;

	if (!graph_id)
		return -EINVAL;
	if ((err = pgc_begin(pg, PG_API_SUBSCRIBE)))
		return err;
	pg_api_put_str(&pg->w, PG_API_T_GRAPH, graph_id);
	if (mask)
		pg_api_put_u32(&pg->w, PG_API_T_EVENT_MASK, mask);
	return pgc_call(pg);
}

int peergraph_unsubscribe(struct peergraph *pg, const char *graph_id)
{
	return pgc_call_str(pg, PG_API_UNSUBSCRIBE, PG_API_T_GRAPH, graph_id);
}
