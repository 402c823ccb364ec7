/*
 * node_stats.h - the names of a node's counters in NODE_STATS (proto.h, doc/api.md "The
 * node's counters"): one list that the daemon writes from the dataplane's struct
 * dp_node_stats (dataplane/node.h) and libpeergraph reads into struct peergraph_node_stats
 * (peergraph.h). Both structs name their members alike, so one X-macro serves both sides:
 * X(name on the wire, member). Every counter is a u64 COUNT; a name the reader does not know
 * is skipped, so a newer daemon may send more.
 *
 * Arrays are indexed by the dataplane's enums, named here too: drops by enum dp_ep_drop
 * (dataplane/link/endpoint.h), decode errors by PG_E_WIRE_* order (magic first), stages by
 * enum dp_stage (node.h). Each side asserts its enums against these.
 */
#ifndef PG_API_NODE_STATS_H
#define PG_API_NODE_STATS_H

enum pg_api_drop {
	PG_API_DROP_DECODE,	 /* the datagram decoder refused it (see decode_err_*) */
	PG_API_DROP_UNKNOWN,	 /* names a link the node does not have */
	PG_API_DROP_ADDRESS,	 /* names a link, from another address */
	PG_API_DROP_COOKIE,	 /* a HELLO with a cookie not valid for its source */
	PG_API_DROP_NO_GRAPH,	 /* a HELLO for a graph not open and listening */
	PG_API_DROP_SHORT_HELLO, /* a HELLO smaller than the COOKIE it would get */
	PG_API_DROP_UNEXPECTED,	 /* a COOKIE or WELCOME no connect waits for */
	PG_API_DROP_FULL,	 /* no free link slot, or the handshake queue full */
	PG_API_DROP_SELF,	 /* a HELLO from this very node */
	PG_API_DROP_REASONS,
};

enum pg_api_decode_err {
	PG_API_DECODE_MAGIC,
	PG_API_DECODE_VERSION,
	PG_API_DECODE_TYPE,
	PG_API_DECODE_FLAGS,
	PG_API_DECODE_LENGTH,
	PG_API_DECODE_FIELD,
	PG_API_DECODE_ERRORS = 8, /* slots of the array (two spare) */
};

enum pg_api_stage {
	PG_API_STAGE_RX,
	PG_API_STAGE_DECODE,
	PG_API_STAGE_TABLE,
	PG_API_STAGE_VERIFY,
	PG_API_STAGE_STORE,
	PG_API_STAGE_TAKE,
	PG_API_STAGE_FILL,
	PG_API_STAGE_TX,
	PG_API_STAGES,
};

/* Every u64 counter: X(name, member). `links` (established links now) is sent as well, by
 * name, outside this list: the dataplane keeps it as an unsigned. */
#define PG_API_NODE_COUNTERS(X)                                                                    \
	X("rx_datagrams", rx_datagrams)                                                            \
	X("tx_datagrams", tx_datagrams)                                                            \
	X("tx_sends", tx_sends)                                                                    \
	X("syscalls", syscalls)                                                                    \
	X("records_in", records_in)                                                                \
	X("records_new", records_new)                                                              \
	X("records_dup", records_dup)                                                              \
	X("records_stale", records_stale)                                                          \
	X("records_bad", records_bad)                                                              \
	X("records_expired", records_expired)                                                      \
	X("records_store_err", records_store_err)                                                  \
	X("records_flooded", records_flooded)                                                      \
	X("records_answered", records_answered)                                                    \
	X("datagrams_refused", datagrams_refused)                                                  \
	X("drops_decode", drops[PG_API_DROP_DECODE])                                               \
	X("drops_unknown", drops[PG_API_DROP_UNKNOWN])                                             \
	X("drops_address", drops[PG_API_DROP_ADDRESS])                                             \
	X("drops_cookie", drops[PG_API_DROP_COOKIE])                                               \
	X("drops_no_graph", drops[PG_API_DROP_NO_GRAPH])                                           \
	X("drops_short_hello", drops[PG_API_DROP_SHORT_HELLO])                                     \
	X("drops_unexpected", drops[PG_API_DROP_UNEXPECTED])                                       \
	X("drops_full", drops[PG_API_DROP_FULL])                                                   \
	X("drops_self", drops[PG_API_DROP_SELF])                                                   \
	X("decode_err_magic", decode_err[PG_API_DECODE_MAGIC])                                     \
	X("decode_err_version", decode_err[PG_API_DECODE_VERSION])                                 \
	X("decode_err_type", decode_err[PG_API_DECODE_TYPE])                                       \
	X("decode_err_flags", decode_err[PG_API_DECODE_FLAGS])                                     \
	X("decode_err_length", decode_err[PG_API_DECODE_LENGTH])                                   \
	X("decode_err_field", decode_err[PG_API_DECODE_FIELD])                                     \
	X("links_up", links_up)                                                                    \
	X("links_down", links_down)                                                                \
	X("connects_failed", connects_failed)                                                      \
	X("retransmits", retransmits)                                                              \
	X("reasm_timeouts", reasm_timeouts)                                                        \
	X("reasm_bad", reasm_bad)                                                                  \
	X("verified", verified)                                                                    \
	X("deferred", deferred)                                                                    \
	X("rejected", rejected)                                                                    \
	X("stage_ns_rx", stage_ns[PG_API_STAGE_RX])                                                \
	X("stage_ns_decode", stage_ns[PG_API_STAGE_DECODE])                                        \
	X("stage_ns_table", stage_ns[PG_API_STAGE_TABLE])                                          \
	X("stage_ns_verify", stage_ns[PG_API_STAGE_VERIFY])                                        \
	X("stage_ns_store", stage_ns[PG_API_STAGE_STORE])                                          \
	X("stage_ns_take", stage_ns[PG_API_STAGE_TAKE])                                            \
	X("stage_ns_fill", stage_ns[PG_API_STAGE_FILL])                                            \
	X("stage_ns_tx", stage_ns[PG_API_STAGE_TX])

#endif
