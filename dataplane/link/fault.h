/*
 * fault.h - seeded fault injection on received datagrams: drop, duplicate, reorder, delay.
 *
 * The kernel here has no netem (DESIGN.md, "Testing a network on one machine"), so the
 * engine's transport injects faults itself, set per node by the [fault] section of its
 * configuration. This is a filter without I/O and without a clock of its own: the caller
 * feeds it each datagram with the time (dp_fault_input) and asks it, at the time it returns,
 * for what has come due (dp_fault_poll); it hands datagrams on through the caller's deliver
 * callback. The same seed and the same calls give the same deliveries, so a failing run
 * replays exactly.
 *
 * Each datagram draws one of four fates: dropped (probability drop), delivered twice
 * (dup), held back so that later datagrams overtake it (reorder), or delivered once (the
 * rest). Every copy that is delivered is delayed by delay_us plus a uniform jitter in
 * [0, jitter_us]. A datagram held back (delayed or reordered) is copied into a pool of
 * slots fixed at create; when no slot is free, or it is longer than max_len, it is
 * delivered at once and counted (pool_full, too_long): the filter never grows and never
 * loses a datagram beyond the drops it was asked for. See fault.c for how reordering works.
 *
 * Threads: a filter belongs to one thread (a worker); nothing is shared between filters.
 */
#ifndef DP_FAULT_H
#define DP_FAULT_H

#include <stdbool.h>
#include <stdint.h>

enum {
	DP_FAULT_ADDR_MAX = 28,		     /* bytes of a peer address (sockaddr_in6) */
	DP_FAULT_SLOTS_MAX = 1 << 20,	     /* bound of slots */
	DP_FAULT_LEN_MAX = 1 << 16,	     /* bound of max_len: a GRO batch of 64 KiB */
	DP_FAULT_SLOTS_DEFAULT = 4096,	     /* what the daemon gives a worker's filter */
	DP_FAULT_LEN_DEFAULT = 1472,	     /* the link's default max datagram (doc/flood.md) */
	DP_FAULT_REORDER_MAX = 3,	     /* a reordered datagram waits for 1..3 later ones */
	DP_FAULT_REORDER_BOUND_US = 1000,    /* ... or at most this long past its delay */
	DP_FAULT_DELAY_MAX_US = 10000000,    /* bound of delay_us and of jitter_us: 10 s */
	DP_FAULT_POOL_BYTES_MAX = 256 << 20, /* bound of slots x max_len */
};

/* What faults to inject. All of drop, dup, reorder, delay_us and jitter_us zero: none (see
 * dp_fault_enabled). */
struct dp_fault_config {
	double drop;	   /* probability a datagram is dropped, [0, 1] */
	double dup;	   /* ... delivered twice, [0, 1] */
	double reorder;	   /* ... held until 1..3 later ones are delivered, [0, 1] */
	uint32_t delay_us; /* every delivered copy waits this long, 0..DP_FAULT_DELAY_MAX_US */
	uint32_t
	    jitter_us;	  /* ... plus a uniform draw in [0, jitter_us], 0..DP_FAULT_DELAY_MAX_US */
	uint64_t seed;	  /* of the filter's random numbers; any value */
	uint32_t slots;	  /* datagrams held at once, 1..DP_FAULT_SLOTS_MAX */
	uint32_t max_len; /* bytes of a slot: longer datagrams are never held, 1..LEN_MAX */
};

/* Counters since create. Once nothing is held, delivered == in - dropped + duplicated. */
struct dp_fault_stats {
	uint64_t in;	     /* datagrams fed to dp_fault_input */
	uint64_t dropped;    /* ... dropped on purpose */
	uint64_t duplicated; /* ... delivered twice (one extra delivery each) */
	uint64_t reordered;  /* ... held back to be overtaken */
	uint64_t delayed;    /* copies held back for delay_us + jitter (not reordered ones) */
	uint64_t delivered;  /* calls of deliver, duplicates included */
	uint64_t pool_full;  /* copies that should have been held, delivered at once: no slot */
	uint64_t too_long;   /* ... delivered at once: longer than max_len */
	uint64_t held;	     /* copies in the pool now */
};

struct dp_fault;

/* Receives one datagram the filter lets through: data[0..len) and the peer address given
 * with it. Both are valid only during the call. It must not call into the filter. */
typedef void (*dp_fault_deliver_fn)(void *ctx, const uint8_t *data, uint32_t len, const void *addr,
				    uint32_t addr_len);

/* True when c asks for any fault; when false the caller skips the filter (seed, slots and
 * max_len do not count). */
bool dp_fault_enabled(const struct dp_fault_config *c);

/* 0 when c is valid: each probability in [0, 1] (not NaN), drop + dup + reorder <= 1 (with
 * 1e-9 of rounding allowed), delay_us and jitter_us <= DP_FAULT_DELAY_MAX_US, slots and
 * max_len within their bounds and slots x max_len <= DP_FAULT_POOL_BYTES_MAX; else -EINVAL. */
int dp_fault_config_check(const struct dp_fault_config *c);

/* Creates a filter: the whole pool is allocated here, never later. 0, -EINVAL (see
 * dp_fault_config_check) or -ENOMEM; *out is set only on success. */
int dp_fault_create(const struct dp_fault_config *c, struct dp_fault **out);

/* Frees the filter and what it still holds (undelivered). NULL is fine. */
void dp_fault_destroy(struct dp_fault *f);

/*
 * Feeds one datagram received at now_us (never earlier than a previous call's now_us).
 * First delivers what is due by now_us (as dp_fault_poll), then decides this datagram's fate:
 * deliver is called for it 0, 1 or 2 times now, or the filter keeps a copy for later; each
 * delivery may then release held reordered datagrams it overtook, delivered right after it.
 * len <= DP_FAULT_LEN_MAX, addr_len <= DP_FAULT_ADDR_MAX (addr may be NULL when 0).
 * Cannot fail. Call dp_fault_poll at dp_fault_next_due() for the rest.
 */
void dp_fault_input(struct dp_fault *f, uint64_t now_us, const uint8_t *data, uint32_t len,
		    const void *addr, uint32_t addr_len, dp_fault_deliver_fn deliver, void *ctx);

/* Delivers every held datagram due by now_us (delayed ones, and reordered ones whose bound
 * passed), earliest first; returns the next due time, UINT64_MAX when nothing is held.
 * Cannot fail; bounded by the pool's slots. */
uint64_t dp_fault_poll(struct dp_fault *f, uint64_t now_us, dp_fault_deliver_fn deliver, void *ctx);

/* The next due time of a held datagram, UINT64_MAX when nothing is held. */
uint64_t dp_fault_next_due(const struct dp_fault *f);

/* Delivers everything held at once, in due order, whatever the time (shutdown, tests).
 * Returns how many copies it delivered. */
uint32_t dp_fault_flush(struct dp_fault *f, dp_fault_deliver_fn deliver, void *ctx);

/* Copies the counters into *s. Cannot fail. */
void dp_fault_stats(const struct dp_fault *f, struct dp_fault_stats *s);

#endif
