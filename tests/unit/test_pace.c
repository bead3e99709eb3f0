/* SPDX-License-Identifier: Apache-2.0 */
#include "pace.h"
#include "unit.h"

#include <limits.h>

static void test_pace__grows_on_success_to_max(void)
{
	struct pace p;

	pace_init(&p, 8, 100, 10000, 2.0);
	CHECK_INT(pace_limit(&p), 4);
	for (int i = 0; i < 200; i++)
		pace_success(&p, 0.01);
	CHECK_INT(pace_limit(&p), 8);
	CHECK(pace_may_send(&p, 0, 7));
	CHECK(!pace_may_send(&p, 0, 8));
}

static void test_pace__overload_halves_and_holds(void)
{
	struct pace p;
	int64_t hold;

	pace_init(&p, 8, 100, 10000, 2.0);
	for (int i = 0; i < 200; i++)
		pace_success(&p, 0.01);
	hold = pace_failure(&p, 1000, true, 0x80000000u);
	CHECK_INT(pace_limit(&p), 4);
	CHECK_INT(hold, 50); /* half of the first cap (100 ms) */
	CHECK(!pace_may_send(&p, 1049, 0));
	CHECK(pace_may_send(&p, 1050, 0));
	/* Caps grow 100, 200, 400 ... and stop at max. */
	for (int i = 0; i < 20; i++)
		hold = pace_failure(&p, 0, false, 0xffffffffu);
	CHECK(hold <= 10000 && hold > 9000);
	/* Plain failures (not back-pressure) do not cut concurrency. */
	CHECK_INT(pace_limit(&p), 4);
}

static void test_pace__success_resets_backoff(void)
{
	struct pace p;

	pace_init(&p, 4, 100, 10000, 2.0);
	(void)pace_failure(&p, 0, true, 0);
	CHECK_INT(p.failures, 1);
	pace_success(&p, 0.01);
	CHECK_INT(p.failures, 0);
}

static void test_pace__retry_after_capped_without_overflow(void)
{
	CHECK_INT(pace_retry_after_ms(-1, 60000), 0);
	CHECK_INT(pace_retry_after_ms(3, 60000), 3000);
	CHECK_INT(pace_retry_after_ms(60, 60000), 60000);
	/* one proxy's answer must not stop delivery for a year */
	CHECK_INT(pace_retry_after_ms(31536000L, 60000), 60000);
	CHECK_INT(pace_retry_after_ms(LONG_MAX, 60000), 60000);
	CHECK_INT(pace_retry_after_ms(5, 1500), 1500);
}

static void test_pace__rising_latency_cuts(void)
{
	struct pace p;
	int before;

	pace_init(&p, 16, 100, 10000, 2.0);
	for (int i = 0; i < 50; i++)
		pace_success(&p, 0.01);
	before = pace_limit(&p);
	for (int i = 0; i < 10; i++)
		pace_success(&p, 0.5);
	CHECK(pace_limit(&p) < before);
}

int main(void)
{
	UNIT_RUN(test_pace__grows_on_success_to_max);
	UNIT_RUN(test_pace__overload_halves_and_holds);
	UNIT_RUN(test_pace__success_resets_backoff);
	UNIT_RUN(test_pace__retry_after_capped_without_overflow);
	UNIT_RUN(test_pace__rising_latency_cuts);
	return unit_finish();
}
