/*
 * test_client_links.c - libpeergraph's calls for links between nodes (listen, connect,
 * disconnect, neighbours, events) and the node's counters (NODE_STATS), against a fake daemon
 * (client_fake.h): every field of the protocol reaches the caller, every error is kept.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>

#include <criterion/criterion.h>

#include "client/client_priv.h"
#include "client_fake.h"
#include "peergraph.h"
#include "pg_time.h"

static void serve_links(struct fake *f)
{
	struct pg_api_field fld;

	FAKE_CHECK(f, fake_hello(f));
	/* listen: no FLAGS; stop: FLAGS 1 */
	FAKE_CHECK(f, fake_read(f, PG_API_GRAPH_LISTEN));
	FAKE_CHECK(f, fake_str_is(f, PG_API_T_GRAPH, "lab"));
	FAKE_CHECK(f, !fake_field(f, PG_API_T_FLAGS, &fld));
	fake_reply(f, 0);
	FAKE_CHECK(f, fake_send(f));
	FAKE_CHECK(f, fake_read(f, PG_API_GRAPH_LISTEN));
	FAKE_CHECK(f, fake_u32_is(f, PG_API_T_FLAGS, PG_API_LISTEN_STOP));
	fake_reply(f, 0);
	FAKE_CHECK(f, fake_send(f));
	/* connect: the resolved address back, then its outcome as an event */
	FAKE_CHECK(f, fake_read(f, PG_API_GRAPH_CONNECT));
	FAKE_CHECK(f, fake_str_is(f, PG_API_T_ADDRESS, "nodeb:3587"));
	fake_reply(f, 0);
	pg_api_put_str(&f->w, PG_API_T_ADDRESS, "192.0.2.7:3587");
	FAKE_CHECK(f, fake_send(f));
	fake_event(f, PG_API_EV_NEIGHBOUR_UP);
	pg_api_put_str(&f->w, PG_API_T_GRAPH, "lab");
	pg_api_put_str(&f->w, PG_API_T_ADDRESS, "192.0.2.7:3587");
	pg_api_put_str(&f->w, PG_API_T_NODE, "0.nodeb");
	FAKE_CHECK(f, fake_send(f));
	/* connect again: refused, with the daemon's detail */
	FAKE_CHECK(f, fake_read(f, PG_API_GRAPH_CONNECT));
	fake_reply(f, -EISCONN);
	pg_api_put_str(&f->w, PG_API_T_MESSAGE, "graph \"lab\" has a link to 192.0.2.7:3587");
	FAKE_CHECK(f, fake_send(f));
	/* neighbours: a full item, and one with its address only */
	FAKE_CHECK(f, fake_read(f, PG_API_GRAPH_NEIGHBOURS));
	fake_reply(f, 0);
	pg_api_item_begin(&f->w);
	pg_api_put_str(&f->w, PG_API_T_ADDRESS, "192.0.2.7:3587");
	pg_api_put_str(&f->w, PG_API_T_NODE, "0.nodeb");
	pg_api_put_u32(&f->w, PG_API_T_FLAGS, PG_API_LINK_INITIATOR);
	pg_api_put_u64(&f->w, PG_API_T_RECORDS_RX, 5);
	pg_api_put_u64(&f->w, PG_API_T_RECORDS_TX, 1000);
	pg_api_put_u64(&f->w, PG_API_T_RETRANSMITS, 2);
	pg_api_put_u64(&f->w, PG_API_T_SRTT_US, 180);
	pg_api_put_u64(&f->w, PG_API_T_REASM_TIMEOUTS, 4);
	pg_api_item_end(&f->w);
	pg_api_item_begin(&f->w);
	pg_api_put_str(&f->w, PG_API_T_ADDRESS, "[::1]:4000");
	pg_api_item_end(&f->w);
	FAKE_CHECK(f, fake_send(f));
	/* status with links */
	FAKE_CHECK(f, fake_read(f, PG_API_GRAPH_STATUS));
	fake_reply(f, 0);
	pg_api_put_u32(&f->w, PG_API_T_STATUS,
		       PG_API_GS_OPEN | PG_API_GS_LISTENING | PG_API_GS_CONNECTED);
	pg_api_put_u64(&f->w, PG_API_T_COUNT, 3);
	pg_api_put_u32(&f->w, PG_API_T_LINKS, 2);
	FAKE_CHECK(f, fake_send(f));
	/* disconnect, a link down by the other node, a connect that failed */
	FAKE_CHECK(f, fake_read(f, PG_API_GRAPH_DISCONNECT));
	FAKE_CHECK(f, fake_str_is(f, PG_API_T_ADDRESS, "[::1]:4000"));
	fake_reply(f, -ENOENT);
	FAKE_CHECK(f, fake_send(f));
	fake_event(f, PG_API_EV_NEIGHBOUR_DOWN);
	pg_api_put_str(&f->w, PG_API_T_GRAPH, "lab");
	pg_api_put_str(&f->w, PG_API_T_ADDRESS, "192.0.2.7:3587");
	pg_api_put_str(&f->w, PG_API_T_NODE, "0.nodeb");
	pg_api_put_u32(&f->w, PG_API_T_REASON, PG_API_REASON_CLOSED);
	pg_api_put_u32(&f->w, PG_API_T_FLAGS, PG_API_LINK_BY_PEER);
	FAKE_CHECK(f, fake_send(f));
	fake_event(f, PG_API_EV_CONNECT_FAILED);
	pg_api_put_str(&f->w, PG_API_T_GRAPH, "lab");
	pg_api_put_str(&f->w, PG_API_T_ADDRESS, "192.0.2.8:3587");
	pg_api_put_u32(&f->w, PG_API_T_REASON, PG_API_REASON_TIMEOUT);
	FAKE_CHECK(f, fake_send(f));
}

/* What each link call sends, and what it makes of the replies and the neighbour events. */
Test(client, links)
{
	char resolved[PEERGRAPH_ADDRESS_SIZE];
	struct peergraph_neighbour nb[1];
	struct peergraph_graph_status st;
	struct peergraph_event ev;
	struct peergraph *pg;
	struct fake f;
	unsigned n = 0;

	pg = start(&f, serve_links, NULL);
	cr_expect_eq(peergraph_graph_listen(pg, "lab", true), 0);
	cr_expect_eq(peergraph_graph_listen(pg, "lab", false), 0);
	cr_assert_eq(peergraph_graph_connect(pg, "lab", "nodeb:3587", resolved), 0);
	cr_expect_str_eq(resolved, "192.0.2.7:3587");
	cr_expect_eq(peergraph_graph_connect(pg, "lab", "nodeb:3587", NULL), -EISCONN);
	cr_expect_not_null(strstr(peergraph_last_message(pg), "has a link"));
	cr_assert_eq(peergraph_graph_neighbours(pg, "lab", nb, 1, &n), 0);
	cr_expect_eq(n, 2, "the total, past max");
	cr_expect_str_eq(nb[0].address, "192.0.2.7:3587");
	cr_expect_str_eq(nb[0].node, "0.nodeb");
	cr_expect(nb[0].initiator && nb[0].records_rx == 5 && nb[0].records_tx == 1000 &&
		  nb[0].retransmits == 2 && nb[0].srtt_us == 180 && nb[0].reasm_timeouts == 4);
	cr_assert_eq(peergraph_graph_status(pg, "lab", &st), 0);
	cr_expect_eq(st.links, 2);
	cr_expect_eq(st.status,
		     PEERGRAPH_GRAPH_OPEN | PEERGRAPH_GRAPH_LISTENING | PEERGRAPH_GRAPH_CONNECTED);
	cr_expect_eq(peergraph_graph_disconnect(pg, "lab", "[::1]:4000"), -ENOENT);
	/* the events, in order: the one that came during a call first */
	cr_assert_eq(peergraph_event_next(pg, &ev, 5000), 1);
	cr_expect_eq(ev.kind, PEERGRAPH_EVENT_NEIGHBOUR_UP);
	cr_expect_str_eq(ev.address, "192.0.2.7:3587");
	cr_expect_str_eq(ev.node, "0.nodeb");
	cr_expect_str_eq(ev.graph_id, "lab");
	cr_assert_eq(peergraph_event_next(pg, &ev, 5000), 1);
	cr_expect_eq(ev.kind, PEERGRAPH_EVENT_NEIGHBOUR_DOWN);
	cr_expect(ev.by_peer && ev.reason == PEERGRAPH_REASON_CLOSED);
	cr_expect_str_eq(ev.node, "0.nodeb");
	cr_assert_eq(peergraph_event_next(pg, &ev, 5000), 1);
	cr_expect_eq(ev.kind, PEERGRAPH_EVENT_CONNECT_FAILED);
	cr_expect_str_eq(ev.address, "192.0.2.8:3587");
	cr_expect_str_empty(ev.node, "no node in a failed connect");
	cr_expect(!ev.by_peer && ev.reason == PEERGRAPH_REASON_TIMEOUT);
	cr_expect_str_eq(peergraph_link_reason_text(PEERGRAPH_REASON_NO_GRAPH),
			 "the other node has no such graph open and listening");
	cr_expect_str_eq(peergraph_link_reason_text(99), "an unknown reason");
	/* arguments the library refuses itself */
	cr_expect_eq(peergraph_graph_neighbours(pg, "lab", NULL, 1, &n), -EINVAL);
	cr_expect_eq(peergraph_graph_connect(pg, "lab", NULL, NULL), -EINVAL);
	finish(&f, pg);
}

static void counter(struct fake *f, const char *name, uint64_t v)
{
	pg_api_item_begin(&f->w);
	pg_api_put_str(&f->w, PG_API_T_NAME, name);
	pg_api_put_u64(&f->w, PG_API_T_COUNT, v);
	pg_api_item_end(&f->w);
}

static void serve_node_stats(struct fake *f)
{
	FAKE_CHECK(f, fake_hello(f));
	/* a node with a dataplane: its address, some counters, one this library does not know */
	FAKE_CHECK(f, fake_read(f, PG_API_NODE_STATS));
	fake_reply(f, 0);
	pg_api_put_str(&f->w, PG_API_T_ADDRESS, "127.0.0.1:40001");
	counter(f, "records_in", 7);
	counter(f, "a_counter_of_later", 99);
	counter(f, "drops_unknown", 3);
	counter(f, "decode_err_length", 5);
	counter(f, "stage_ns_tx", 11);
	counter(f, "links", 2);
	FAKE_CHECK(f, fake_send(f));
	/* one without: no address, no counters */
	FAKE_CHECK(f, fake_read(f, PG_API_NODE_STATS));
	fake_reply(f, 0);
	FAKE_CHECK(f, fake_send(f));
}

/* NODE_STATS: the counters by name into the struct, whatever their order; unknown names
 * skipped; the field table names every member once. */
Test(client, node_stats)
{
	const struct peergraph_node_stat_field *fld;
	struct peergraph_node_stats st, zero;
	struct peergraph *pg;
	struct fake f;
	size_t n;

	pg = start(&f, serve_node_stats, NULL);
	cr_assert_eq(peergraph_node_stats(pg, &st), 0);
	cr_expect_str_eq(st.address, "127.0.0.1:40001");
	cr_expect_eq(st.records_in, 7);
	cr_expect_eq(st.drops[PEERGRAPH_DROP_UNKNOWN], 3);
	cr_expect_eq(st.decode_err[PEERGRAPH_DECODE_LENGTH], 5);
	cr_expect_eq(st.stage_ns[PEERGRAPH_STAGE_TX], 11);
	cr_expect_eq(st.links, 2);
	cr_expect_eq(st.records_new + st.drops[PEERGRAPH_DROP_DECODE] + st.reasm_timeouts, 0);
	memset(&st, 0xff, sizeof(st));
	cr_assert_eq(peergraph_node_stats(pg, &st), 0);
	memset(&zero, 0, sizeof(zero));
	cr_expect_eq(memcmp(&st, &zero, sizeof(st)), 0, "all zero, address \"\"");
	cr_expect_eq(peergraph_node_stats(pg, NULL), -EINVAL);
	finish(&f, pg);

	/* every u64 of the struct once, by a distinct name, but decode_err's two spare slots */
	fld = peergraph_node_stat_fields(&n);
	cr_expect_eq(n + (PEERGRAPH_DECODE_ERRORS - PEERGRAPH_DECODE_FIELD - 1),
		     (sizeof(st) - offsetof(struct peergraph_node_stats, rx_datagrams)) /
			 sizeof(uint64_t));
	for (size_t i = 0; i < n; i++) {
		cr_expect_eq(fld[i].offset % sizeof(uint64_t), 0);
		cr_expect_geq(fld[i].offset, offsetof(struct peergraph_node_stats, rx_datagrams));
		for (size_t j = 0; j < i; j++) {
			cr_expect_neq(fld[i].offset, fld[j].offset, "%s", fld[i].name);
			cr_expect_str_neq(fld[i].name, fld[j].name);
		}
	}
}

/* ---- helpers ----------------------------------------------------------------------------- */
