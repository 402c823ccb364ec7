/*
 * store_writer.c - two plain programs of the store tests in one binary.
 *
 * store-writer crash DIR COMPACT_EVERY SEGMENT_SIZE DIRECT FD
 *   The child of test-store's crash test: puts the crash workload of store_gen.h as fast as it
 *   can and reports, on file descriptor FD, each time more operations became durable: a u64
 *   count A meaning operations 0..A-1 are acknowledged as stored. The test SIGKILLs it
 *   mid-stream and checks the reopened store against what was reported. COMPACT_EVERY 0:
 *   never compact, else compact after every that many operations; DIRECT 0: a buffered log,
 *   1: O_DIRECT. It stops by itself after 60 s or 50 M operations.
 *
 * store-writer stress
 *   The store under concurrency, self-checking (store_stress.c): meson runs it as the test
 *   `store-stress`, also under TSan, where Criterion cannot start (Criterion issue #274).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pg_error.h"
#include "pg_time.h"
#include "store.h"
#include "store_gen.h"

int store_stress(void);

enum {
	OPS_MAX = 50000000,
	RING = 1 << 20, /* tickets of operations not yet reported */
};

static int report_fd;

static int report(uint64_t acked)
{
	ssize_t w = write(report_fd, &acked, sizeof(acked));

	return w == sizeof(acked) ? 0 : -1;
}

static int crash_writer(int argc, char **argv)
{
	static uint64_t tickets[RING];
	struct pg_store_config c;
	struct pg_store *s;
	uint64_t acked = 0, end = pg_mono_ns() + 60ull * 1000000000, every;
	uint8_t buf[1024];
	int err;

	if (argc != 6) {
		fprintf(stderr,
			"usage: store-writer crash DIR COMPACT_EVERY SEGMENT_SIZE DIRECT FD\n");
		return 2;
	}
	report_fd = atoi(argv[5]);
	every = strtoull(argv[2], NULL, 10);
	pg_store_config_default(&c);
	c.dir = argv[1];
	c.graph_id = SG_GRAPH;
	c.graph_id_len = (uint16_t)strlen(SG_GRAPH);
	c.max_records = 1 << 22;
	c.max_bytes = 2ull << 30;
	c.segment_size = (uint32_t)strtoul(argv[3], NULL, 10);
	c.compact_log_bytes = 0;
	c.direct_io = strcmp(argv[4], "0") != 0;
	c.now_us = SG_T0;
	if ((err = pg_store_open(&c, &s))) {
		fprintf(stderr, "store-writer: open: %s\n", pg_strerror(err));
		return 1;
	}
	for (uint64_t j = 0; j < OPS_MAX && pg_mono_ns() < end; j++) {
		uint64_t n, durable;
		uint32_t v;
		long len;

		sg_op(j, &n, &v);
		len = sg_record(buf, sizeof(buf), n, v);
		if (len < 0 || (err = pg_store_put(s, buf, (size_t)len, &tickets[j % RING]))) {
			fprintf(stderr, "store-writer: put %llu: %s\n", (unsigned long long)j,
				pg_strerror(len < 0 ? (int)len : err));
			return 1;
		}
		if (every && j % every == every - 1 && (err = pg_store_compact(s))) {
			fprintf(stderr, "store-writer: compact: %s\n", pg_strerror(err));
			return 1;
		}
		/* report every 64 operations, or wait when the ring of tickets is full */
		if (j % 64 != 63 && j + 1 - acked < RING)
			continue;
		if (j + 1 - acked >= RING)
			pg_store_wait_durable(s, tickets[acked % RING], 1000000);
		durable = pg_store_durable_seq(s);
		uint64_t was = acked;

		while (acked <= j && tickets[acked % RING] <= durable)
			acked++;
		if (acked != was && report(acked) < 0) {
			perror("store-writer: report");
			return 1;
		}
	}
	pg_store_close(s);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "crash") == 0)
		return crash_writer(argc - 1, argv + 1);
	if (argc == 2 && strcmp(argv[1], "stress") == 0)
		return store_stress();
	fprintf(stderr,
		"usage: store-writer crash DIR COMPACT_EVERY SEGMENT_SIZE DIRECT FD | stress\n");
	return 2;
}
