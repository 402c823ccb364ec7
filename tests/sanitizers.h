/*
 * sanitizers.h - which sanitizer a test is built with (gcc says __SANITIZE_*__, clang
 * __has_feature), so a test can scale its load or skip a measurement a sanitizer distorts.
 */
#ifndef PG_TEST_SANITIZERS_H
#define PG_TEST_SANITIZERS_H

#if defined(__SANITIZE_THREAD__)
#define UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UNDER_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_TSAN
#define UNDER_TSAN 0
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

#endif
