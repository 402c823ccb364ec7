/*
 * proto.h - the control API's wire format: how peergraphd and its clients (libpeergraph, and
 * through it the CLI) talk over the daemon's Unix socket. doc/api.md is the same in prose,
 * with every message's fields and replies.
 *
 * A connection carries frames both ways; all integers are little-endian.
 *
 *   frame  = header(16) || body
 *   header = u32 len      bytes after this field (12 + body), 12 .. PG_API_FRAME_MAX - 4
 *            u16 version  PG_API_VERSION: a daemon answers another version with
 *                         PG_E_API_VERSION and closes the connection
 *            u16 type     the message (enum pg_api_msg); a reply carries its request's type
 *                         with PG_API_REPLY set; an event is PG_API_EVENT
 *            u32 id       chosen by the client per request and echoed by the reply; 0 in events
 *            i32 status   replies: 0 or a negative error (pg_error.h); requests and events: 0
 *   body   = field*
 *   field  = u16 tag || u16 zero || u32 len || value[len]   (no padding)
 *
 * Fields are typed by their tag (enum pg_api_tag, kinds in pg_api_tag_kind): a u32 or u64 is
 * exactly 4 or 8 bytes, a GUID 16, a string 1..its bound bytes of UTF-8 without NUL, a record
 * one encoding of the record codec (record.h), bytes anything up to their bound, and an item
 * a nested body (one level) describing one element of a list. Each message allows a set of tags,
 * some required, some repeatable (frame.c's schema table); anything else is refused with
 * PG_E_API_FIELD before a handler runs, so handlers see only well-formed requests.
 *
 * Records travel as records: many RECORD fields per frame, in the project's codec, so a batch
 * of adds is one frame, one system call and one parse.
 */
#ifndef PG_API_PROTO_H
#define PG_API_PROTO_H

#include <stdint.h>

enum {
	PG_API_VERSION = 1,
	PG_API_HDR_LEN = 16,
	PG_API_FIELD_HDR_LEN = 8,
	PG_API_FRAME_MAX = 64 << 20,  /* a 60 MiB record, its framing and a few fields */
	PG_API_STRING_MAX = 4096,     /* default bound of a string field */
	PG_API_BYTES_MAX = 64 << 10,  /* default bound of a bytes field (export blobs: more) */
	PG_API_REPLY = 0x8000,	      /* set in a reply's type */
	PG_API_EVENT = 0x4000,	      /* the type of an event frame */
	PG_API_FIELDS_MAX = 1u << 20, /* fields one frame may carry */
	PG_API_ITEM_FIELDS_MAX = 64,  /* fields one item may carry */
	PG_API_LEN_MIN = 12,	      /* the smallest header.len: no body */
	PG_API_ADDRESS_MAX = 261,     /* "[" 253-byte host "]:" 5-digit port */
	PG_API_NODE_MAX = 256,	      /* bytes of a node id */
	PG_API_NAME_MAX = 64,	      /* bytes of a counter's name */
};

/* Header offsets. */
enum {
	PG_API_OFF_LEN = 0,
	PG_API_OFF_VERSION = 4,
	PG_API_OFF_TYPE = 6,
	PG_API_OFF_ID = 8,
	PG_API_OFF_STATUS = 12,
};
_Static_assert(PG_API_OFF_STATUS + 4 == PG_API_HDR_LEN, "header is 16 bytes");
_Static_assert(PG_API_HDR_LEN - 4 == PG_API_LEN_MIN, "len counts the rest of the header");

/* Messages. Requests; a reply has the same number | PG_API_REPLY. */
enum pg_api_msg {
	PG_API_HELLO = 1, /* -> VERSION_STR, UID */

	PG_API_IDENTITY_CREATE = 10,	  /* CLASSIFIER [FRIENDLY_NAME] [FLAGS] -> IDENTITY */
	PG_API_IDENTITY_LIST = 11,	  /* -> ITEM{IDENTITY FRIENDLY_NAME FLAGS}* */
	PG_API_IDENTITY_DELETE = 12,	  /* IDENTITY */
	PG_API_IDENTITY_SET_NAME = 13,	  /* IDENTITY FRIENDLY_NAME */
	PG_API_IDENTITY_SET_DEFAULT = 14, /* IDENTITY */
	PG_API_IDENTITY_EXPORT = 15,	  /* IDENTITY PASSWORD -> DATA */
	PG_API_IDENTITY_IMPORT = 16,	  /* DATA PASSWORD [FLAGS] -> IDENTITY */

	PG_API_GRAPH_CREATE = 20, /* GRAPH [IDENTITY] [MAX_RECORD_SIZE] [FLAGS] */
	PG_API_GRAPH_OPEN = 21,	  /* GRAPH */
	PG_API_GRAPH_CLOSE = 22,  /* GRAPH */
	PG_API_GRAPH_DELETE = 23, /* GRAPH */
	PG_API_GRAPH_LIST = 24,	  /* -> ITEM{GRAPH STATUS}* */
	PG_API_GRAPH_STATUS = 25, /* GRAPH -> STATUS COUNT (records) [IDENTITY] ... [LINKS] */
	PG_API_GRAPH_EXPORT = 26, /* GRAPH PATH */
	PG_API_GRAPH_IMPORT = 27, /* GRAPH PATH */
	/* flooding: links between this node and others for one graph (doc/flood.md) */
	PG_API_GRAPH_LISTEN = 28,     /* GRAPH [FLAGS: PG_API_LISTEN_STOP] */
	PG_API_GRAPH_CONNECT = 29,    /* GRAPH ADDRESS -> ADDRESS (resolved); the outcome is an
				       * event: NEIGHBOUR_UP or CONNECT_FAILED with that ADDRESS */
	PG_API_GRAPH_DISCONNECT = 30, /* GRAPH ADDRESS */
	PG_API_GRAPH_NEIGHBOURS = 31, /* GRAPH -> ITEM{ADDRESS NODE FLAGS RECORDS_RX RECORDS_TX
				       * RETRANSMITS SRTT_US REASM_TIMEOUTS}* */

	PG_API_RECORD_ADD = 40,	   /* GRAPH RECORD* -> RESULT* (one per record, in order) */
	PG_API_RECORD_UPDATE = 41, /* GRAPH RECORD* -> RESULT* */
	PG_API_RECORD_DELETE = 42, /* GRAPH RECORD_ID* [CREATOR] -> RESULT* */
	PG_API_RECORD_GET = 43,	   /* GRAPH RECORD_ID [CREATOR] [FLAGS] -> RECORD */
	PG_API_RECORD_ENUM = 44,   /* GRAPH [TYPE] [CREATOR] [FLAGS] [CURSOR] -> RECORD* [CURSOR] */
	PG_API_RECORD_SEARCH = 45, /* GRAPH QUERY [FLAGS] [CURSOR] -> RECORD* [CURSOR] */

	PG_API_NODE_STATS = 50, /* -> [ADDRESS] (the dataplane's, bound) ITEM{NAME COUNT}*
				 * (the node's counters, by the names of api/node_stats.h) */

	PG_API_SUBSCRIBE = 60,	 /* GRAPH [EVENT_MASK] : then EVENT frames */
	PG_API_UNSUBSCRIBE = 61, /* GRAPH */
};

/* Field tags. */
enum pg_api_tag {
	PG_API_T_VERSION_STR = 1,      /* string: the daemon's version */
	PG_API_T_UID = 2,	       /* u32: the uid the daemon runs as */
	PG_API_T_IDENTITY = 3,	       /* string: a peer name */
	PG_API_T_CLASSIFIER = 4,       /* string */
	PG_API_T_FRIENDLY_NAME = 5,    /* string */
	PG_API_T_PASSWORD = 6,	       /* string */
	PG_API_T_DATA = 7,	       /* bytes: an identity export */
	PG_API_T_FLAGS = 8,	       /* u32: per message (doc/api.md) */
	PG_API_T_GRAPH = 9,	       /* string: a graph id, <= 256 bytes */
	PG_API_T_PATH = 10,	       /* string: an absolute path on the daemon's host */
	PG_API_T_STATUS = 11,	       /* u32: enum pg_api_graph_status bits */
	PG_API_T_COUNT = 12,	       /* u64 */
	PG_API_T_RECORD = 13,	       /* record: one record encoding */
	PG_API_T_RECORD_ID = 14,       /* guid */
	PG_API_T_TYPE = 15,	       /* guid: a record type */
	PG_API_T_CREATOR = 16,	       /* string: a creator id */
	PG_API_T_QUERY = 17,	       /* string: search language (query.h) */
	PG_API_T_CURSOR = 18,	       /* bytes: where an enumeration continues */
	PG_API_T_RESULT = 19,	       /* i32 (as u32): one record's outcome, 0 or an error */
	PG_API_T_EVENT_KIND = 20,      /* u32: enum pg_api_event_kind */
	PG_API_T_EVENT_MASK = 21,      /* u32: bits 1 << enum pg_api_event_kind */
	PG_API_T_LOST = 22,	       /* u64: events dropped for this subscriber so far */
	PG_API_T_ITEM = 23,	       /* item: one element of a list */
	PG_API_T_MAX_RECORD_SIZE = 24, /* u32: a graph's max record size */
	PG_API_T_MESSAGE = 25,	       /* string: an error's detail, in a failed reply */
	PG_API_T_SEQ = 26,	       /* u64: an event's sequence number in the graph's log */
	PG_API_T_ADDRESS = 27,	       /* string: "host:port" or "[IPv6]:port" */
	PG_API_T_NODE = 28,	       /* string: a node id, as its HELLO says (<= 256 bytes) */
	PG_API_T_REASON = 29,	       /* u32: why a link ended (enum pg_api_link_reason) */
	PG_API_T_RECORDS_RX = 30,      /* u64: records received over a link */
	PG_API_T_RECORDS_TX = 31,      /* u64: records sent over a link */
	PG_API_T_RETRANSMITS = 32,     /* u64: datagrams a link sent again */
	PG_API_T_SRTT_US = 33,	       /* u64: a link's smoothed round-trip time, microseconds */
	PG_API_T_LINKS = 34,	       /* u32: a graph's established links */
	PG_API_T_NAME = 35,	       /* string: a counter's name (NODE_STATS), <= 64 bytes */
	PG_API_T_REASM_TIMEOUTS = 36,  /* u64: records a link freed unfinished (reassembly) */
	PG_API_TAGS,		       /* one past the last tag */
};

/* What a tag's value is. */
enum pg_api_kind {
	PG_API_K_U32 = 1,
	PG_API_K_U64,
	PG_API_K_GUID,
	PG_API_K_STRING,
	PG_API_K_BYTES,
	PG_API_K_RECORD,
	PG_API_K_ITEM,
};

/* Graph status bits (PG_API_T_STATUS). */
enum pg_api_graph_status {
	PG_API_GS_OPEN = 0x1,	   /* opened by the daemon: its store is loaded */
	PG_API_GS_SECURED = 0x2,   /* records are signed by the graph's identity */
	PG_API_GS_LISTENING = 0x4, /* accepts links from other nodes (GRAPH_LISTEN) */
	PG_API_GS_CONNECTED = 0x8, /* has one link or more */
};

/* GRAPH_LISTEN's FLAGS. */
enum { PG_API_LISTEN_STOP = 0x1 };

/* FLAGS of a GRAPH_NEIGHBOURS item, and of a neighbour event. */
enum pg_api_link_flags {
	PG_API_LINK_INITIATOR = 0x1, /* item: this node connected to it */
	PG_API_LINK_BY_PEER = 0x2,   /* NEIGHBOUR_DOWN, CONNECT_FAILED: the other node ended it */
};

/* Why a link ended or never came up (PG_API_T_REASON): the CLOSE reasons of the datagram
 * protocol (dataplane/link/wire.h DP_CLOSE_*, same numbers), and 0 for silence. */
enum pg_api_link_reason {
	PG_API_REASON_TIMEOUT = 0,  /* nothing heard: dead link, or no answer to the hello */
	PG_API_REASON_CLOSED = 1,   /* disconnected by a node (graph disconnect / close) */
	PG_API_REASON_NO_GRAPH = 2, /* the other node has no such graph open and listening */
	PG_API_REASON_VERSION = 3,  /* no common protocol version */
	PG_API_REASON_FULL = 4,	    /* the other node's link table is full */
	PG_API_REASON_PROTOCOL = 5, /* a node broke the protocol */
	PG_API_REASON_SHUTDOWN = 6, /* the node is stopping */
	PG_API_REASON_SELF = 7,	    /* the address is this node's own */
	PG_API_REASONS,
};

/* Event kinds (PG_API_T_EVENT_KIND). */
enum pg_api_event_kind {
	PG_API_EV_ADDED = 1,
	PG_API_EV_UPDATED = 2,
	PG_API_EV_DELETED = 3,
	PG_API_EV_EXPIRED = 4,
	PG_API_EV_GRAPH_STATUS = 5,
	PG_API_EV_LOST = 6, /* the subscriber fell behind: LOST says how many events it missed */
	/* links: ADDRESS, NODE (not in CONNECT_FAILED), REASON and FLAGS (not in UP) */
	PG_API_EV_NEIGHBOUR_UP = 7,
	PG_API_EV_NEIGHBOUR_DOWN = 8,
	PG_API_EV_CONNECT_FAILED = 9,
	PG_API_EV_KINDS,
};

#endif
