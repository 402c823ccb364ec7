/*
 * pg_time.h - time in peergraph: microseconds since the Unix epoch, as uint64_t.
 *
 * Record times (creation, last-modified, expiration, date attributes) are wall-clock
 * microseconds; timers and rates use the monotonic clock.
 */
#ifndef PG_TIME_H
#define PG_TIME_H

#include <stdint.h>
#include <time.h>

#define PG_USEC_PER_SEC	 1000000ull
#define PG_TIME_INFINITE UINT64_MAX

/* Wall-clock now, microseconds since the Unix epoch. */
static inline uint64_t pg_time_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * PG_USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
}

/* Monotonic now in nanoseconds, for intervals and rates. */
static inline uint64_t pg_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#endif
