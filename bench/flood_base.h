/*
 * flood_base.h - the baselines bench-flood prints beside its own figures, measured in the
 * same run on the same host: the kernel's UDP ceiling on loopback (sendmmsg -> recvmmsg, and
 * the same with GSO on send and GRO on receive) and ZeroMQ PUSH -> PULL over TCP on loopback.
 *
 * Each measurement runs a sender thread and a receiver thread on sockets of its own and
 * counts at the receiver: a figure is what arrived, per second, from the receiver's first
 * batch to its last (the first batch itself not counted, since it was queued before the
 * clock started). The sender sends for `seconds`; the receiver stops once the sender is done
 * and nothing came for 50 ms, or at seconds + 2 s whatever happens. Every loop is bounded in
 * time and in count; every socket is closed and every thread joined before a function
 * returns. bench/bench_flood_base.c prints them on their own (build/bench/bench-flood-base).
 */
#ifndef PG_FLOOD_BASE_H
#define PG_FLOOD_BASE_H

#include <stdbool.h>
#include <stddef.h>

enum {
	FLOOD_BASE_DGRAM_SIZE = 1200, /* bytes of a datagram, and of a GSO segment */
	FLOOD_BASE_ZMQ_SIZE = 128,    /* bytes of a ZeroMQ message */
	FLOOD_BASE_BURST = 64,	      /* datagrams per sendmmsg / recvmmsg */
	FLOOD_BASE_UDP_MAX = 65507,   /* bytes of a UDP payload over IPv4 */
	FLOOD_BASE_MEM_CHUNK = 256,   /* bytes per copy of flood_base_mem */
};

/* Datagrams of size bytes (1..FLOOD_BASE_UDP_MAX) per second received over 127.0.0.1 UDP,
 * sent with sendmmsg in bursts of FLOOD_BASE_BURST and received with recvmmsg, for seconds
 * (0.05..600). The rate, or a negative errno when it could not be measured (-EINVAL for
 * arguments out of bounds, -EIO when nothing arrived). */
double flood_base_kernel_dgram_s(double seconds, unsigned size);

/* The same with UDP_SEGMENT (GSO) on send, sends of as many size-byte segments as fit 64 KiB
 * (at most 64), and UDP_GRO on receive: segments per second received, each coalesced
 * datagram split by the segment size its GRO control message gives. size 1..1472. The rate,
 * or a negative errno (-ENOPROTOOPT when the kernel has no UDP GSO or GRO). */
double flood_base_kernel_gso_seg_s(double seconds, unsigned size);

/* Messages of size bytes (1..65536) per second received by a ZeroMQ PULL socket from a PUSH
 * socket over TCP on 127.0.0.1, in one context, one thread each. The rate, or a negative
 * errno; -ENOTSUP when this build has no ZeroMQ (flood_base_have_zmq). */
double flood_base_zmq_msg_s(double seconds, unsigned size);

/* True when this build measures ZeroMQ (libzmq was found at configure time). */
bool flood_base_have_zmq(void);

/* What memory costs a store that grows: bytes (16 MiB .. 4 GiB) of a fresh anonymous mapping
 * written in FLOOD_BASE_MEM_CHUNK-byte copies, as a store copies records, first while every
 * page is new (page faults, zeroing, and on a VM the hypervisor backing the page), then again
 * over the same, now resident, pages. Bytes per second of each into *fresh and *warm; 0, or
 * a negative errno (-EINVAL, -ENOMEM). */
int flood_base_mem(size_t bytes, double *fresh, double *warm);

#endif
