/* Minimal unit-test harness: TEST(fn) runs one test function; a test
 * passes when none of its CHECKs failed. main() ends with DONE(). */
#ifndef TEST_CHECK_H
#define TEST_CHECK_H

#include <stdio.h>

static int t_failed_checks __attribute__((unused)), t_passed, t_failed;

#define CHECK(cond) \
	do { \
		if (!(cond)) { \
			t_failed_checks++; \
			printf("  FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); \
		} \
	} while (0)

#define CHECK_EQ(a, b) \
	do { \
		long long _a = (long long)(a), _b = (long long)(b); \
		if (_a != _b) { \
			t_failed_checks++; \
			printf("  FAIL %s:%d: %s == %s (%lld != %lld)\n", __FILE__, __LINE__, #a, #b, _a, _b); \
		} \
	} while (0)

#define TEST(fn) \
	do { \
		int _before = t_failed_checks; \
		fn(); \
		if (t_failed_checks == _before) t_passed++; \
		else { t_failed++; printf("not ok %s\n", #fn); } \
	} while (0)

/* TEST(fn) again with var set to val for its run (a failure is
 * reported under the test's own name, then this note). */
#define TEST_WITH(var, val, fn) \
	do { \
		int _f = t_failed; \
		var = (val); \
		TEST(fn); \
		var = 0; \
		if (t_failed != _f) \
			printf("  (that was with %s = %s)\n", #var, #val); \
	} while (0)

#define DONE(name) \
	do { \
		printf("%s: %d passed, %d failed\n", name, t_passed, t_failed); \
		return t_failed != 0; \
	} while (0)

#endif
