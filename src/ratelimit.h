/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ratelimit: a token bucket for the static `rate_limit` (requests per
 * second with a burst), pure logic with the time passed in (as curl's
 * ratelimit.h does).  A rate of 0 means no limit.
 */
#ifndef RELAY_RATELIMIT_H
#define RELAY_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct ratelimit {
	double rate;  /* tokens per second; 0: unlimited */
	double burst; /* bucket size */
	double tokens;
	int64_t last_ms;
};

/* burst 0 means "one second's worth". */
void ratelimit_init(struct ratelimit *rl,
                    int per_second,
                    int burst,
                    int64_t now_ms);

/* Take one token if there is one. */
bool ratelimit_take(struct ratelimit *rl, int64_t now_ms);

/* When the next token will be there (now_ms when one is). */
int64_t ratelimit_next_ms(const struct ratelimit *rl, int64_t now_ms);

#endif
