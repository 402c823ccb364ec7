/*
 * timerwheel.h - a bounded hierarchical timer wheel for record expiry.
 *
 * Timers are identified by a small integer id (the store uses its index slot), so the wheel
 * owns a fixed array of nodes sized at creation and never allocates afterwards. Schedule,
 * re-schedule and cancel are O(1); advancing costs O(timers fired + levels) per call plus
 * O(timers cascaded), however far time jumps. See timerwheel.c for how it works.
 */
#ifndef PG_TIMERWHEEL_H
#define PG_TIMERWHEEL_H

#include <stdbool.h>
#include <stdint.h>

enum {
	PG_WHEEL_LEVELS = 8,
	PG_WHEEL_SLOT_BITS = 6,
	PG_WHEEL_SLOTS = 1 << PG_WHEEL_SLOT_BITS,
};

struct pg_wheel;

/* Called for a due timer (still scheduled). Return 0 to have it removed, or a negative
 * value to stop the advance leaving it scheduled (the caller could not act on it now). The
 * callback must not schedule or cancel timers. */
typedef int (*pg_wheel_fire_fn)(void *arg, uint32_t id, uint64_t when_us);

/* Creates a wheel for ids 0..capacity-1 ticking every tick_us (>= 1), with the current time
 * now_us. 0, -EINVAL or -ENOMEM. */
int pg_wheel_create(uint32_t capacity, uint64_t tick_us, uint64_t now_us, struct pg_wheel **out);
/* Frees the wheel. NULL is fine. */
void pg_wheel_destroy(struct pg_wheel *w);
/* Schedules id at when_us, moving it if it was scheduled already. Cannot fail. */
void pg_wheel_schedule(struct pg_wheel *w, uint32_t id, uint64_t when_us);
/* Unschedules id; a no-op when it was not scheduled. Cannot fail. */
void pg_wheel_cancel(struct pg_wheel *w, uint32_t id);
/* True when id is scheduled. */
bool pg_wheel_scheduled(const struct pg_wheel *w, uint32_t id);
/* Number of scheduled timers. */
uint32_t pg_wheel_count(const struct pg_wheel *w);
/* Fires, through fn, every timer whose time is <= now_us, earliest tick first, stopping after
 * max (0: no bound) or when fn refuses. Returns how many fired; the rest fire next call. */
uint64_t pg_wheel_advance(struct pg_wheel *w, uint64_t now_us, uint64_t max, pg_wheel_fire_fn fn,
			  void *arg);

#endif
