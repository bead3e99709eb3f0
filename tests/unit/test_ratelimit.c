/* SPDX-License-Identifier: Apache-2.0 */
#include "ratelimit.h"
#include "unit.h"

static void test_ratelimit__burst_then_rate(void)
{
	struct ratelimit rl;
	int n = 0;

	ratelimit_init(&rl, 10, 3, 0);
	while (ratelimit_take(&rl, 0))
		n++;
	CHECK_INT(n, 3); /* the burst */
	CHECK_INT(ratelimit_next_ms(&rl, 0), 101);
	CHECK(!ratelimit_take(&rl, 99));
	CHECK(ratelimit_take(&rl, 101)); /* 10/s: one per 100 ms */
	CHECK(!ratelimit_take(&rl, 150));
	/* A long pause refills only up to the burst. */
	n = 0;
	while (ratelimit_take(&rl, 100000))
		n++;
	CHECK_INT(n, 3);
}

static void test_ratelimit__zero_is_unlimited(void)
{
	struct ratelimit rl;

	ratelimit_init(&rl, 0, 0, 0);
	for (int i = 0; i < 1000; i++)
		CHECK(ratelimit_take(&rl, 0));
	CHECK_INT(ratelimit_next_ms(&rl, 5), 5);
}

static void test_ratelimit__default_burst_is_the_rate(void)
{
	struct ratelimit rl;
	int n = 0;

	ratelimit_init(&rl, 50, 0, 1000);
	while (ratelimit_take(&rl, 1000))
		n++;
	CHECK_INT(n, 50);
}

int main(void)
{
	UNIT_RUN(test_ratelimit__burst_then_rate);
	UNIT_RUN(test_ratelimit__zero_is_unlimited);
	UNIT_RUN(test_ratelimit__default_burst_is_the_rate);
	return unit_finish();
}
