/* SPDX-License-Identifier: Apache-2.0 */
#include "pace.h"

/* Weight of a new sample in the latency average. */
#define RTT_ALPHA 0.1
/* Latency this far above its average counts as rising. */
#define RTT_RISING 2.0

void pace_init(struct pace *p,
               int max_in_flight,
               int initial_backoff_ms,
               int max_backoff_ms,
               double multiplier)
{
	p->max = max_in_flight > 0 ? max_in_flight : 1;
	/* Start at half the ceiling: fast enough at once, room to probe. */
	p->limit = p->max > 1 ? p->max / 2.0 : 1.0;
	p->rtt_avg_s = 0;
	p->failures = 0;
	p->hold_until_ms = 0;
	p->initial_ms = initial_backoff_ms > 0 ? initial_backoff_ms : 1;
	p->max_ms =
	        max_backoff_ms > p->initial_ms ? max_backoff_ms : p->initial_ms;
	p->multiplier = multiplier >= 1.0 ? multiplier : 2.0;
}

int pace_limit(const struct pace *p)
{
	int l = (int)p->limit;

	return l < 1 ? 1 : (l > p->max ? p->max : l);
}

bool pace_may_send(const struct pace *p, int64_t now_ms, int in_flight)
{
	return now_ms >= p->hold_until_ms && in_flight < pace_limit(p);
}

void pace_success(struct pace *p, double latency_s)
{
	p->failures = 0;
	if (p->rtt_avg_s > 0 && latency_s > p->rtt_avg_s * RTT_RISING) {
		p->limit *= 0.9;
	} else {
		p->limit += 1.0 / p->limit;
	}
	if (p->limit > p->max)
		p->limit = p->max;
	if (p->limit < 1)
		p->limit = 1;
	p->rtt_avg_s = p->rtt_avg_s > 0 ? p->rtt_avg_s * (1 - RTT_ALPHA) +
	                                          latency_s * RTT_ALPHA
	                                : latency_s;
}

int64_t
pace_failure(struct pace *p, int64_t now_ms, bool overload, uint32_t rnd)
{
	double cap = p->initial_ms;
	int64_t hold;

	if (overload) {
		p->limit /= 2;
		if (p->limit < 1)
			p->limit = 1;
	}
	for (int i = 0; i < p->failures && cap < p->max_ms; i++)
		cap *= p->multiplier;
	if (cap > p->max_ms)
		cap = p->max_ms;
	if (p->failures < 64)
		p->failures++;
	/* Full jitter: anywhere in [0, cap), so many relays spread out. */
	hold = (int64_t)((double)rnd / 4294967296.0 * cap);
	p->hold_until_ms = now_ms + hold;
	return hold;
}

int64_t pace_retry_after_ms(long retry_after_s, int cap_ms)
{
	if (retry_after_s < 0)
		return 0;
	/* Compare in seconds first: a proxy's Retry-After: 31536000 (or
	 * LONG_MAX, where strtol saturates) must neither overflow nor stop
	 * delivery for a year. */
	if (retry_after_s >= cap_ms / 1000)
		return cap_ms;
	return (int64_t)retry_after_s * 1000;
}
