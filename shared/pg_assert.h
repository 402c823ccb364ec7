/*
 * pg_assert.h - assertions that stay on in release builds.
 *
 * PG_ASSERT is for cheap contract checks (a bound, a state, a length): it is never compiled
 * out. PG_DEBUG_ASSERT is for checks too costly for the hot path and follows NDEBUG.
 */
#ifndef PG_ASSERT_H
#define PG_ASSERT_H

#include <stdio.h>
#include <stdlib.h>

#define PG_ASSERT(cond)                                                                            \
	do {                                                                                       \
		if (__builtin_expect(!(cond), 0)) {                                                \
			fprintf(stderr, "peergraph: assertion failed: %s (%s:%d)\n", #cond,        \
				__FILE__, __LINE__);                                               \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#ifdef NDEBUG
#define PG_DEBUG_ASSERT(cond) ((void)0)
#else
#define PG_DEBUG_ASSERT(cond) PG_ASSERT(cond)
#endif

#define PG_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
