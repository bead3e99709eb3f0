/* SPDX-License-Identifier: Apache-2.0 */
#include "ratelimit.h"

void ratelimit_init(struct ratelimit *rl,
                    int per_second,
                    int burst,
                    int64_t now_ms)
{
	rl->rate = per_second > 0 ? per_second : 0;
	rl->burst = burst > 0 ? burst : rl->rate;
	if (rl->burst < 1)
		rl->burst = 1;
	rl->tokens = rl->burst;
	rl->last_ms = now_ms;
}

static void refill(struct ratelimit *rl, int64_t now_ms)
{
	if (now_ms > rl->last_ms) {
		rl->tokens +=
		        (double)(now_ms - rl->last_ms) * rl->rate / 1000.0;
		if (rl->tokens > rl->burst)
			rl->tokens = rl->burst;
		rl->last_ms = now_ms;
	}
}

bool ratelimit_take(struct ratelimit *rl, int64_t now_ms)
{
	if (rl->rate <= 0)
		return true;
	refill(rl, now_ms);
	if (rl->tokens < 1.0)
		return false;
	rl->tokens -= 1.0;
	return true;
}

int64_t ratelimit_next_ms(const struct ratelimit *rl, int64_t now_ms)
{
	double missing;

	if (rl->rate <= 0)
		return now_ms;
	/* Tokens as they would be at now_ms, without changing state. */
	missing = 1.0 - (rl->tokens +
	                 (double)(now_ms - rl->last_ms) * rl->rate / 1000.0);
	if (missing <= 0)
		return now_ms;
	return now_ms + (int64_t)(missing * 1000.0 / rl->rate) + 1;
}
