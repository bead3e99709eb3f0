/* SPDX-License-Identifier: Apache-2.0 */
#include "metrics.h"
#include "unit.h"

static void test_metrics__render_counters_gauges_histograms(void)
{
	struct metrics m;
	struct buf b;

	metrics_init(&m);
	atomic_store(&m.events_delivered, 42);
	atomic_store(&m.batches[METRICS_RETRY], 3);
	atomic_store(&m.pending_rows, 7);
	atomic_store(&m.db_up, true);
	metrics_count_status(&m, 503);
	metrics_count_status(&m, 418);
	metrics_observe(&m.request_seconds, 0.02);
	metrics_observe(&m.request_seconds, 3);
	buf_init(&b, 0);
	CHECK_INT(metrics_render(&m, &b), 0);
	CHECK_CONTAINS(b.data,
	               "# TYPE clawdstrike_relay_events_delivered_total"
	               " counter\nclawdstrike_relay_events_delivered_total"
	               " 42\n");
	CHECK_CONTAINS(
	        b.data,
	        "clawdstrike_relay_batches_total{outcome=\"retry\"} 3\n");
	CHECK_CONTAINS(b.data, "clawdstrike_relay_hec_responses_total{status="
	                       "\"503\"} 1\n");
	CHECK_CONTAINS(b.data, "clawdstrike_relay_hec_responses_total{status="
	                       "\"other\"} 1\n");
	CHECK_CONTAINS(b.data, "clawdstrike_relay_pending_rows 7\n");
	CHECK_CONTAINS(b.data, "clawdstrike_relay_database_up 1\n");
	/* Buckets are cumulative: 0.02 s falls in le=0.025, 3 s in le=5. */
	CHECK_CONTAINS(b.data, "clawdstrike_relay_request_duration_seconds_"
	                       "bucket{le=\"0.01\"} 0\n");
	CHECK_CONTAINS(b.data, "clawdstrike_relay_request_duration_seconds_"
	                       "bucket{le=\"0.025\"} 1\n");
	CHECK_CONTAINS(b.data, "clawdstrike_relay_request_duration_seconds_"
	                       "bucket{le=\"2.5\"} 1\n");
	CHECK_CONTAINS(b.data, "clawdstrike_relay_request_duration_seconds_"
	                       "bucket{le=\"5\"} 2\n");
	CHECK_CONTAINS(b.data, "clawdstrike_relay_request_duration_seconds_"
	                       "bucket{le=\"+Inf\"} 2\n");
	CHECK_CONTAINS(
	        b.data,
	        "clawdstrike_relay_request_duration_seconds_sum 3.020000\n");
	buf_dispose(&b);
}

int main(void)
{
	UNIT_RUN(test_metrics__render_counters_gauges_histograms);
	return unit_finish();
}
