/*
 * frame.h - control-API frames (proto.h): decoding and checking untrusted frames, iterating over
 * their fields, and writing frames. Pure functions over memory, shared by the daemon and
 * libpeergraph; fuzzed by tests/fuzz/fuzz_api.c.
 *
 * A receiver decodes the header (pg_api_hdr_decode), reads len - 12 more bytes, and checks the
 * body against its message's schema (pg_api_body_check) before anything reads a field: after
 * that, every field has a known tag allowed in that message, a value of its kind and bound
 * (UTF-8 strings, exact-size integers and GUIDs, records that decode), the required ones are
 * there and the single ones are single. The iterator and the getters then trust the body.
 */
#ifndef PG_API_FRAME_H
#define PG_API_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"
#include "record.h"

struct pg_api_hdr {
	uint32_t len; /* bytes after the len field: 12 + body */
	uint16_t version;
	uint16_t type;
	uint32_t id;
	int32_t status;
};

struct pg_api_field {
	uint16_t tag;
	uint32_t len;
	const uint8_t *v;
};

struct pg_api_iter {
	const uint8_t *p, *end;
};

/* Decodes the 16 header bytes. 0; PG_E_API_VERSION; PG_E_API_FRAME (len below 12 or above the
 * frame bound). The message type is checked with the body (pg_api_body_check). */
int pg_api_hdr_decode(const uint8_t hdr[PG_API_HDR_LEN], struct pg_api_hdr *h);

/* Checks a body of message `type` (a request, a reply, or an event) against its schema; a
 * failed reply (status != 0) may carry only MESSAGE. lim bounds the records' size. 0,
 * PG_E_API_TYPE, or PG_E_API_FIELD (*bad_tag, may be NULL, names the field at fault). */
int pg_api_body_check(uint16_t type, int32_t status, const uint8_t *body, size_t len,
		      const struct pg_record_limits *lim, uint16_t *bad_tag);

/* Iterates over the fields of a checked body (or of an item's value). */
void pg_api_iter_init(struct pg_api_iter *it, const uint8_t *body, size_t len);
/* The next field; false at the end. */
bool pg_api_iter_next(struct pg_api_iter *it, struct pg_api_field *f);
/* The first field with this tag in a checked body: true when found. */
bool pg_api_find(const uint8_t *body, size_t len, uint16_t tag, struct pg_api_field *f);

/* Values of checked fields of their kind. */
uint32_t pg_api_u32(const struct pg_api_field *f);
uint64_t pg_api_u64(const struct pg_api_field *f);
/* Copies a string field into out (cap >= len + 1) with a NUL; false when it does not fit. */
bool pg_api_str(const struct pg_api_field *f, char *out, size_t cap);

/*
 * Writing a frame. The writer grows its buffer (realloc) up to max bytes; the first failure
 * (too large, out of memory, an invalid record) sticks and pg_api_end reports it, so a caller
 * writes all its fields and checks once.
 */
struct pg_api_writer {
	uint8_t *buf;
	size_t cap, len, max;
	size_t item; /* offset of the open item's field header, 0 when none */
	int err;
};

/* An empty writer whose frames may grow to max bytes (<= PG_API_FRAME_MAX). */
void pg_api_writer_init(struct pg_api_writer *w, size_t max);
/* Frees the buffer. */
void pg_api_writer_free(struct pg_api_writer *w);
/* Starts a frame (discarding any previous one and its error). */
void pg_api_begin(struct pg_api_writer *w, uint16_t type, uint32_t id, int32_t status);
void pg_api_put_u32(struct pg_api_writer *w, uint16_t tag, uint32_t v);
void pg_api_put_u64(struct pg_api_writer *w, uint16_t tag, uint64_t v);
void pg_api_put_bytes(struct pg_api_writer *w, uint16_t tag, const void *v, size_t len);
/* A NUL-terminated string. */
void pg_api_put_str(struct pg_api_writer *w, uint16_t tag, const char *s);
/* A record, encoded straight into the frame (pg_record_encode under lim). */
void pg_api_put_record(struct pg_api_writer *w, const struct pg_record *r,
		       const struct pg_record_limits *lim);
/* Opens / closes an ITEM field; the fields put between go inside it (no nesting). */
void pg_api_item_begin(struct pg_api_writer *w);
void pg_api_item_end(struct pg_api_writer *w);
/* Seals the header. The frame's length, or the sticky error (-ENOSPC past max, -ENOMEM, a
 * record's PG_E_*, -EINVAL for an unclosed item). The frame is w->buf[0..length). */
long pg_api_end(struct pg_api_writer *w);

#endif
