/*
 * crit_tsan.h - Criterion, or under TSan a minimal stand-in with the same macros.
 *
 * Criterion cannot start under TSan (its inheritable arena wants address space TSan reserves:
 * Criterion issue #274), yet .ci/run runs the `concurrent` suite under TSan. Test files of the
 * concurrent parts include this header instead of <criterion/criterion.h>: normally it is just
 * Criterion; under TSan the macros those files use map onto a tiny runner. Tests register from
 * constructors and run in order in one process; a failed assertion prints where and exits 1, a
 * failed expectation is counted and fails the run at the end; a suite's .fini runs after each
 * of its tests.
 *
 * Exactly one translation unit of a test program defines CRIT_TSAN_MAIN before including this
 * header: under TSan that unit holds the registry and main(); otherwise the define is inert.
 * CRIT_ON_TSAN is defined under TSan, and CRIT_ON_SANITIZER under TSan or ASan (for scaling
 * op counts down).
 */
#ifndef PG_CRIT_TSAN_H
#define PG_CRIT_TSAN_H

#if defined(__SANITIZE_THREAD__)
#define CRIT_ON_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CRIT_ON_TSAN 1
#endif
#endif

#if defined(CRIT_ON_TSAN) || defined(__SANITIZE_ADDRESS__)
#define CRIT_ON_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CRIT_ON_SANITIZER 1
#endif
#endif

#ifndef CRIT_ON_TSAN
#include <criterion/criterion.h>
#else
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An assertion without a message expands to fprintf(stderr, ""): harmless, but gcc warns. */
#pragma GCC diagnostic ignored "-Wformat-zero-length"

extern unsigned crit_failed;
void crit_register(const char *suite, const char *name, void (*fn)(void));
void crit_suite_fini(const char *suite, void (*fini)(void));

#define Test(suite, name, ...)                                                                     \
	static void crit_test_##suite##_##name(void);                                              \
	__attribute__((constructor)) static void crit_reg_##suite##_##name(void)                   \
	{                                                                                          \
		crit_register(#suite, #name, crit_test_##suite##_##name);                          \
	}                                                                                          \
	static void crit_test_##suite##_##name(void)

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
#define cr_expect(c, ...)	 crit_check((c), false, #c, __VA_ARGS__)
#define cr_expect_eq(a, b, ...)	 crit_check((a) == (b), false, #a " == " #b, __VA_ARGS__)
#define cr_expect_gt(a, b, ...)	 crit_check((a) > (b), false, #a " > " #b, __VA_ARGS__)
#define cr_expect_geq(a, b, ...) crit_check((a) >= (b), false, #a " >= " #b, __VA_ARGS__)
#define cr_log_info(...)	 (fprintf(stderr, __VA_ARGS__), fputc('\n', stderr))
#define cr_skip_test(...)                                                                          \
	do {                                                                                       \
		fprintf(stderr, "skipped: " __VA_ARGS__);                                          \
		fputc('\n', stderr);                                                               \
		return;                                                                            \
	} while (0)

#ifdef CRIT_TSAN_MAIN
enum {
	CRIT_TESTS_MAX = 64,
	CRIT_SUITES_MAX = 8,
};

unsigned crit_failed;
static struct {
	const char *suite, *name;
	void (*fn)(void);
} crit_tests[CRIT_TESTS_MAX];
static unsigned crit_ntests;
static struct {
	const char *suite;
	void (*fini)(void);
} crit_finis[CRIT_SUITES_MAX];
static unsigned crit_nfinis;

void crit_register(const char *suite, const char *name, void (*fn)(void))
{
	if (crit_ntests == CRIT_TESTS_MAX) {
		fprintf(stderr, "crit_tsan.h: more than %d tests\n", CRIT_TESTS_MAX);
		exit(1);
	}
	crit_tests[crit_ntests].suite = suite;
	crit_tests[crit_ntests].name = name;
	crit_tests[crit_ntests++].fn = fn;
}

void crit_suite_fini(const char *suite, void (*fini)(void))
{
	if (crit_nfinis == CRIT_SUITES_MAX) {
		fprintf(stderr, "crit_tsan.h: more than %d suites\n", CRIT_SUITES_MAX);
		exit(1);
	}
	crit_finis[crit_nfinis].suite = suite;
	crit_finis[crit_nfinis++].fini = fini;
}

int main(void)
{
	for (unsigned i = 0; i < crit_ntests; i++) {
		unsigned before = crit_failed;

		crit_tests[i].fn();
		for (unsigned k = 0; k < crit_nfinis; k++)
			if (strcmp(crit_finis[k].suite, crit_tests[i].suite) == 0 &&
			    crit_finis[k].fini)
				crit_finis[k].fini();
		fprintf(stderr, "[%s] %s::%s\n", crit_failed == before ? "PASS" : "FAIL",
			crit_tests[i].suite, crit_tests[i].name);
	}
	fprintf(stderr, "%u tests, %u failed expectations\n", crit_ntests, crit_failed);
	return crit_failed ? 1 : 0;
}
#endif /* CRIT_TSAN_MAIN */

#endif /* CRIT_ON_TSAN */

#endif
