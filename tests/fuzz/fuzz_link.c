/*
 * fuzz_link.c - libFuzzer target for what a node does with datagrams from the network: the
 * wire decoder (dataplane/link/wire.h) and one link's state machine (link.h) fed the
 * datagrams it accepts. The input is a sequence of datagrams, each a 2-byte length and its
 * bytes; virtual time moves 100 us per datagram and the link is polled after each. Whatever
 * arrives, the link's invariants hold: what it hands out lies within its buffers, what it
 * acknowledges it was sent, its reassembly stays within its budget, and an accepted datagram
 * re-decodes from what the encoders produce.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "link.h"
#include "pg_assert.h"
#include "pg_bytes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t records, record_bytes;

static void on_record(void *ctx, const uint8_t *rec, uint32_t len)
{
	(void)ctx;
	PG_ASSERT(len >= 1);
	records++;
	record_bytes += rec[0] + rec[len - 1]; /* touch both ends: ASan checks the bounds */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dp_link_config c;
	struct dp_link_budget budget = { .max = 1 << 20 };
	struct dp_link *l;
	struct dp_link_out out[32];
	uint64_t now = 1000;
	uint8_t rec[700];

	dp_link_config_default(&c);
	c.window = 64;
	c.rwnd = 256;
	c.max_record = 1 << 18;
	PG_ASSERT(dp_link_create(&c, 1, 2, 1472, &budget, now, &l) == 0);
	dp_link_grant(l, 256);
	/* something in flight, so acknowledgements have something to act on */
	memset(rec, 0x5a, sizeof(rec));
	for (unsigned i = 0; i < 8; i++)
		dp_link_send_record(l, now, rec, sizeof(rec));
	dp_link_flush(l);
	dp_link_poll(l, now, out, 32);

	while (size >= 2) {
		size_t len = load_le16(data);
		struct dp_wire_msg m;

		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		now += 100;
		if (dp_wire_decode(data, len, &m) == 0) {
			if (m.type == DP_WIRE_DATA) {
				struct dp_wire_chunk ch;
				uint32_t pos = 0;

				while (dp_wire_chunk_next(&m, &pos, &ch))
					PG_ASSERT(ch.bytes >= data &&
						  ch.bytes + ch.len <= data + len);
				if (m.link == 1 &&
				    dp_link_data_check(l, now, m.seq) == DP_LINK_SEQ_NEW)
					dp_link_data(l, now, &m, on_record, NULL);
			} else if (m.link == 1) {
				dp_link_input(l, now, &m);
			}
		}
		data += len;
		size -= len;
		PG_ASSERT(budget.used <= budget.max);
		unsigned n = dp_link_poll(l, now, out, 32);
		for (unsigned i = 0; i < n; i++) {
			struct dp_wire_msg back;

			PG_ASSERT(dp_wire_decode(out[i].data, out[i].len, &back) == 0);
			PG_ASSERT(back.link == 2);
		}
		if (dp_link_state(l) != DP_LINK_UP)
			break;
	}
	dp_link_destroy(l);
	PG_ASSERT(budget.used == 0);
	return 0;
}
