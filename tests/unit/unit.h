/* SPDX-License-Identifier: Apache-2.0 */
/*
 * unit.h: a minimal test harness in the spirit of curl's unitcheck.h.
 *
 * A test file defines static void test_<module>__<case>(void) functions and
 * a main() that runs them with UNIT_RUN(); CHECK* record failures without
 * stopping the case.  unit_finish() prints "N passed, N failed" and returns
 * the exit status.
 */
#ifndef RELAY_UNIT_H
#define RELAY_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_failures_in_case;
static int unit_passed, unit_failed;

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, \
			        __LINE__, #cond);                              \
			unit_failures_in_case++;                               \
		}                                                              \
	} while (0)

#define CHECK_INT(a, b)                                                        \
	do {                                                                   \
		long long a_ = (long long)(a), b_ = (long long)(b);            \
		if (a_ != b_) {                                                \
			fprintf(stderr, "%s:%d: %s == %lld, expected %lld\n",  \
			        __FILE__, __LINE__, #a, a_, b_);               \
			unit_failures_in_case++;                               \
		}                                                              \
	} while (0)

#define CHECK_STR(a, b)                                                        \
	do {                                                                   \
		const char *a_ = (a), *b_ = (b);                               \
		if (!a_ || !b_ || strcmp(a_, b_) != 0) {                       \
			fprintf(stderr,                                        \
			        "%s:%d: %s == \"%s\", expected \"%s\"\n",      \
			        __FILE__, __LINE__, #a, a_ ? a_ : "(null)",    \
			        b_ ? b_ : "(null)");                           \
			unit_failures_in_case++;                               \
		}                                                              \
	} while (0)

/* CHECK_CONTAINS(haystack, needle): substring match, e.g. error texts. */
#define CHECK_CONTAINS(h, n)                                                   \
	do {                                                                   \
		const char *h_ = (h), *n_ = (n);                               \
		if (!h_ || !strstr(h_, n_)) {                                  \
			fprintf(stderr,                                        \
			        "%s:%d: \"%s\" does not contain \"%s\"\n",     \
			        __FILE__, __LINE__, h_ ? h_ : "(null)", n_);   \
			unit_failures_in_case++;                               \
		}                                                              \
	} while (0)

#define UNIT_RUN(fn)                                                           \
	do {                                                                   \
		unit_failures_in_case = 0;                                     \
		fn();                                                          \
		if (unit_failures_in_case) {                                   \
			fprintf(stderr, "FAIL %s\n", #fn);                     \
			unit_failed++;                                         \
		} else {                                                       \
			unit_passed++;                                         \
		}                                                              \
	} while (0)

static inline int unit_finish(void)
{
	printf("%d passed, %d failed\n", unit_passed, unit_failed);
	return unit_failed ? 1 : 0;
}

#endif
