/* SPDX-License-Identifier: Apache-2.0 */
/*
 * metrics: the relay's counters, gauges and histograms, rendered in the
 * Prometheus text format (version 0.0.4).
 *
 * The relay thread updates them; the HTTP listener's thread renders them.
 * Every value is a C11 atomic updated with relaxed ordering: a scrape sees
 * each series at some recent value, which is all Prometheus asks for, and
 * the hot path takes no lock.  Names follow Prometheus practice: `_total`
 * counters, base units (`_seconds`, `_bytes`).
 */
#ifndef RELAY_METRICS_H
#define RELAY_METRICS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/buf.h"

#define METRICS_BUCKETS 15

struct metrics_histogram {
	atomic_uint_fast64_t bucket[METRICS_BUCKETS]; /* cumulative on render */
	atomic_uint_fast64_t count;
	atomic_uint_fast64_t sum_us; /* microseconds, rendered as seconds */
};

/* HEC outcomes of event requests, by class (see hec.h). */
enum metrics_outcome {
	METRICS_OK,
	METRICS_SLOW_DOWN,
	METRICS_RETRY,
	METRICS_MAYBE_SENT,
	METRICS_AUTH,
	METRICS_REJECT,
	METRICS_TOO_LARGE,
	METRICS_BAD_REQUEST,
	METRICS_BAD_ANSWER,
	METRICS_OUTCOMES
};

/* HTTP status classes counted per request. */
#define METRICS_STATUS_SLOTS                                                   \
	8 /* 0 (none), 200, 400, 401, 403, 413, 429, 503                       \
	   */

struct metrics {
	atomic_uint_fast64_t events_claimed;
	atomic_uint_fast64_t events_sent;
	atomic_uint_fast64_t events_delivered;
	atomic_uint_fast64_t events_failed;
	atomic_uint_fast64_t events_released;
	atomic_uint_fast64_t duplicates_risked;
	atomic_uint_fast64_t bytes_sent;
	atomic_uint_fast64_t batches[METRICS_OUTCOMES];
	atomic_uint_fast64_t http_status[METRICS_STATUS_SLOTS];
	atomic_uint_fast64_t http_status_other;
	atomic_uint_fast64_t ack_polls;
	atomic_uint_fast64_t db_reconnects;
	atomic_uint_fast64_t token_reloads;
	struct metrics_histogram request_seconds;
	struct metrics_histogram ack_seconds;
	/* gauges */
	atomic_int_fast64_t pending_rows;
	atomic_int_fast64_t oldest_pending_ms;
	atomic_int_fast64_t in_flight_requests;
	atomic_int_fast64_t pending_acks;
	atomic_int_fast64_t concurrency_limit;
	atomic_bool db_up;
	atomic_bool hec_up;
	atomic_bool token_ok;
	atomic_int_fast64_t last_loop_ms; /* monotonic time of the last loop */
};

void metrics_init(struct metrics *m);

void metrics_observe(struct metrics_histogram *h, double seconds);
void metrics_count_status(struct metrics *m, long http_status);

/* Append the whole exposition to b (no cap needed: a few KiB). */
int metrics_render(const struct metrics *m, struct buf *b) RELAY_MUSTCHECK;

#endif
