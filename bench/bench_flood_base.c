/*
 * bench_flood_base.c - the baselines of bench-flood on their own: what the kernel's UDP on
 * loopback and ZeroMQ move on this host today (flood_base.h), so that a flooding figure can
 * be read against them. bench-flood prints the same figures in its own run.
 *
 *   kernel_dgram_s     1200-byte datagrams/s, sendmmsg -> recvmmsg (bursts of 64), one
 *                      sender thread and one receiver thread, counted at the receiver
 *   kernel_gso_seg_s   1200-byte segments/s with UDP GSO (64 KiB sends) and GRO
 *   zmq_msg_s          128-byte messages/s, ZeroMQ PUSH -> PULL over TCP on loopback
 *   mem_fresh_mb_s     MB/s written into new anonymous memory (256-byte copies), as a
 *                      growing store writes; mem_warm_mb_s the same pages written again
 *
 * usage: bench-flood-base [--quick] [--seconds S]
 *   --quick: 0.5 s per figure (default 3 s); --seconds: any other time, 0.05..600
 * The output ends with one summary: line; a figure that could not be measured is "na" there
 * and its reason is printed above it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flood_base.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: bench-flood-base [--quick] [--seconds S]\n");
}

/* Prints one figure's line; its value for the summary goes to out ("na" when it failed). */
static void report(const char *name, const char *what, double v, char *out, size_t len)
{
	if (v < 0) {
		printf("%-18s %s: not measured: %s\n", name, what, strerror((int)-v));
		snprintf(out, len, "na");
		return;
	}
	printf("%-18s %s: %.3f M/s\n", name, what, v / 1e6);
	snprintf(out, len, "%.0f", v);
}

int main(int argc, char **argv)
{
	double seconds = 3, dgram, gso, zmq, fresh = -1, warm = -1;
	char s_dgram[32], s_gso[32], s_zmq[32], s_fresh[32], s_warm[32];
	int err;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick")) {
			seconds = 0.5;
		} else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) {
			seconds = strtod(argv[++i], NULL);
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (!(seconds >= 0.05 && seconds <= 600)) {
		fprintf(stderr, "bench-flood-base: --seconds: 0.05..600\n");
		return 2;
	}
	printf("bench-flood-base: %.2f s per figure, 127.0.0.1\n", seconds);
	dgram = flood_base_kernel_dgram_s(seconds, FLOOD_BASE_DGRAM_SIZE);
	report("kernel_dgram_s", "UDP 1200 B, sendmmsg -> recvmmsg", dgram, s_dgram,
	       sizeof(s_dgram));
	gso = flood_base_kernel_gso_seg_s(seconds, FLOOD_BASE_DGRAM_SIZE);
	report("kernel_gso_seg_s", "UDP 1200 B segments, GSO 64 KiB sends -> GRO", gso, s_gso,
	       sizeof(s_gso));
	if (flood_base_have_zmq()) {
		zmq = flood_base_zmq_msg_s(seconds, FLOOD_BASE_ZMQ_SIZE);
		report("zmq_msg_s", "ZeroMQ PUSH -> PULL, TCP, 128 B", zmq, s_zmq, sizeof(s_zmq));
	} else {
		printf("%-18s not built: libzmq was not found when this build was configured "
		       "(libzmq3-dev)\n",
		       "zmq_msg_s");
		snprintf(s_zmq, sizeof(s_zmq), "na");
	}
	if ((err = flood_base_mem(seconds < 1 ? 256u << 20 : 1u << 30, &fresh, &warm))) {
		printf("%-18s not measured: %s\n", "mem_fresh_mb_s", strerror(-err));
		snprintf(s_fresh, sizeof(s_fresh), "na");
		snprintf(s_warm, sizeof(s_warm), "na");
	} else {
		printf("%-18s new anonymous memory written in 256 B copies: %.0f MB/s\n"
		       "%-18s the same pages written again: %.0f MB/s\n",
		       "mem_fresh_mb_s", fresh / 1e6, "mem_warm_mb_s", warm / 1e6);
		snprintf(s_fresh, sizeof(s_fresh), "%.0f", fresh / 1e6);
		snprintf(s_warm, sizeof(s_warm), "%.0f", warm / 1e6);
	}
	if (dgram > 0 && gso > 0)
		printf("GSO/GRO moves %.1fx the segments of plain datagrams\n", gso / dgram);
	printf("\nsummary: kernel_dgram_s=%s kernel_gso_seg_s=%s zmq_msg_s=%s mem_fresh_mb_s=%s "
	       "mem_warm_mb_s=%s\n",
	       s_dgram, s_gso, s_zmq, s_fresh, s_warm);
	return dgram < 0 || gso < 0 ? 1 : 0;
}
