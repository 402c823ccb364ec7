/*
 * fuzz_batch.c - libFuzzer target for the datagram decoder: a batch of records, and each
 * record decoded alone. Every decoded record must re-encode to exactly the bytes it came from
 * (one canonical encoding), and a rejection must leave the output count at zero.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pg_assert.h"
#include "record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pg_record recs[64];
	struct pg_record_limits lim = { .max_record_size = 4096 };
	struct pg_record one;
	uint64_t graph;
	unsigned n = 99;
	int err;

	err = pg_batch_decode(data, size, &lim, &graph, recs, 64, &n);
	PG_ASSERT(err == 0 || n == 0);
	for (unsigned i = 0; err == 0 && i < n; i++) {
		size_t sz = pg_record_encoded_size(&recs[i]);
		uint8_t *buf = malloc(sz);
		PG_ASSERT(buf);
		PG_ASSERT(pg_record_encode(&recs[i], &lim, buf, sz) == (long)sz);
		/* the record's bytes start at its creator field minus the fixed header */
		PG_ASSERT(memcmp(buf, (const uint8_t *)recs[i].creator - PG_RECORD_HDR_LEN, sz) ==
			  0);
		free(buf);
	}
	if (pg_record_decode(data, size, &lim, &one) == 0) {
		uint8_t *buf = malloc(size);
		PG_ASSERT(buf);
		PG_ASSERT(pg_record_encode(&one, &lim, buf, size) == (long)size);
		PG_ASSERT(memcmp(buf, data, size) == 0);
		free(buf);
	}
	return 0;
}
