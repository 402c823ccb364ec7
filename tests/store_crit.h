/*
 * store_crit.h - Criterion for the store tests, or under TSan a minimal stand-in.
 *
 * Criterion cannot start under TSan (its inheritable arena wants address space TSan reserves:
 * Criterion issue #274), and .ci/run runs the `concurrent` suite, test-store included, under
 * TSan. So there the few Criterion macros the store tests use map onto a tiny runner: tests
 * register from constructors and run in order in one process (test_store.c holds the
 * runner's main); a failed assertion prints where and exits 1, an expectation counts.
 * Otherwise this is just <criterion/criterion.h>.
 */
#ifndef PG_STORE_CRIT_H
#define PG_STORE_CRIT_H

#if defined(__SANITIZE_THREAD__)
#define STORE_ON_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define STORE_ON_TSAN 1
#endif
#endif

#ifndef STORE_ON_TSAN
#include <criterion/criterion.h>
#else
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

/* An assertion without a message expands to fprintf(stderr, ""): harmless, but gcc warns. */
#pragma GCC diagnostic ignored "-Wformat-zero-length"

struct crit_test {
	const char *name;
	void (*fn)(void);
	void (*fini)(void);
};

/* Defined by test_store.c. */
extern struct crit_test crit_tests[32];
extern unsigned crit_ntests, crit_failed;
void crit_register(const char *suite, const char *name, void (*fn)(void));
void crit_suite_fini(const char *suite, void (*fini)(void));

#define Test(suite, name, ...)                                                                     \
	static void suite##_##name(void);                                                          \
	__attribute__((constructor)) static void crit_reg_##suite##_##name(void)                   \
	{                                                                                          \
		crit_register(#suite, #name, suite##_##name);                                      \
	}                                                                                          \
	static void suite##_##name(void)

#define TestSuite(suite, fini_field)                                                               \
	__attribute__((constructor(200))) static void crit_suite_##suite(void)                     \
	{                                                                                          \
		struct {                                                                           \
			void (*fini)(void);                                                        \
		} crit_s = { fini_field };                                                         \
		crit_suite_fini(#suite, crit_s.fini);                                              \
	}

#define crit_check(ok, fatal, expr, ...)                                                           \
	do {                                                                                       \
		if (!(ok)) {                                                                       \
			fprintf(stderr, "%s:%d: failed: %s: ", __FILE__, __LINE__, expr);          \
			fprintf(stderr, "" __VA_ARGS__);                                           \
			fputc('\n', stderr);                                                       \
			crit_failed++;                                                             \
			if (fatal)                                                                 \
				exit(1);                                                           \
		}                                                                                  \
	} while (0)

#define cr_assert(c, ...)	 crit_check((c), true, #c, __VA_ARGS__)
#define cr_assert_not(c, ...)	 crit_check(!(c), true, "!" #c, __VA_ARGS__)
#define cr_assert_eq(a, b, ...)	 crit_check((a) == (b), true, #a " == " #b, __VA_ARGS__)
#define cr_assert_neq(a, b, ...) crit_check((a) != (b), true, #a " != " #b, __VA_ARGS__)
#define cr_assert_gt(a, b, ...)	 crit_check((a) > (b), true, #a " > " #b, __VA_ARGS__)
#define cr_assert_geq(a, b, ...) crit_check((a) >= (b), true, #a " >= " #b, __VA_ARGS__)
#define cr_assert_leq(a, b, ...) crit_check((a) <= (b), true, #a " <= " #b, __VA_ARGS__)
#define cr_expect_eq(a, b, ...)	 crit_check((a) == (b), false, #a " == " #b, __VA_ARGS__)
#define cr_log_info(...)	 (fprintf(stderr, __VA_ARGS__), fputc('\n', stderr))
#define cr_skip_test(...)                                                                          \
	do {                                                                                       \
		fprintf(stderr, "skipped: " __VA_ARGS__);                                          \
		fputc('\n', stderr);                                                               \
		return;                                                                            \
	} while (0)
#endif

#endif
