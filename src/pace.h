/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pace: how fast the relay may send (pure logic, time and randomness
 * passed in).
 *
 * Adaptive concurrency in the spirit of Vector's ARC: the number of
 * requests in flight grows by one per window of successes while latency is
 * not rising, shrinks by a tenth when latency rises past its moving
 * average, and halves on back-pressure (429, 503, warnings 24/25).  Failures
 * also set a hold: capped exponential back-off with full jitter.  A
 * server's Retry-After holds only the endpoint that sent it (the caller's
 * business), capped by pace_retry_after_ms.  The limit stays within
 * [1, max_in_flight].
 */
#ifndef RELAY_PACE_H
#define RELAY_PACE_H

#include <stdbool.h>
#include <stdint.h>

struct pace {
	int max;          /* relay.max_in_flight */
	double limit;     /* current concurrency limit */
	double rtt_avg_s; /* moving average of request latency */
	int failures;     /* consecutive failures (back-off exponent) */
	int64_t hold_until_ms;
	int initial_ms, max_ms;
	double multiplier;
};

void pace_init(struct pace *p,
               int max_in_flight,
               int initial_backoff_ms,
               int max_backoff_ms,
               double multiplier);

/* Current limit on requests in flight (at least 1). */
int pace_limit(const struct pace *p);

/* Whether a new request may start now with `in_flight` already out. */
bool pace_may_send(const struct pace *p, int64_t now_ms, int in_flight);

/* A request succeeded with this latency. */
void pace_success(struct pace *p, double latency_s);

/*
 * A request failed.  `overload` marks back-pressure (429/503, warnings)
 * that also cuts concurrency; rnd is a uniform random 32-bit value for the
 * jitter.  Returns the hold in ms.
 */
int64_t
pace_failure(struct pace *p, int64_t now_ms, bool overload, uint32_t rnd);

/* How long to hold an endpoint that answered Retry-After (seconds, < 0:
 * absent): at most cap_ms (retry.max_backoff_ms), never overflowing. */
int64_t pace_retry_after_ms(long retry_after_s, int cap_ms);

#endif
