/* SPDX-License-Identifier: Apache-2.0 */
#include "metrics.h"

#include <string.h>

/* Upper bounds (seconds) of the latency buckets, +Inf implied. */
static const double bucket_le[METRICS_BUCKETS] = {
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
        2.5,   5,    10,    30,   60,  120,  300};

static const long status_codes[METRICS_STATUS_SLOTS] = {0,   200, 400, 401,
                                                        403, 413, 429, 503};

static const char *const outcome_names[METRICS_OUTCOMES] = {
        "ok",       "slow_down", "retry",       "response_lost", "auth",
        "rejected", "too_large", "bad_request", "bad_answer"};

#define LOAD(x) atomic_load_explicit(&(x), memory_order_relaxed)

void metrics_init(struct metrics *m)
{
	memset(m, 0, sizeof(*m));
}

void metrics_observe(struct metrics_histogram *h, double seconds)
{
	for (int i = 0; i < METRICS_BUCKETS; i++) {
		if (seconds <= bucket_le[i]) {
			atomic_fetch_add_explicit(&h->bucket[i], 1,
			                          memory_order_relaxed);
			break;
		}
	}
	atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->sum_us,
	                          (uint_fast64_t)(seconds * 1e6 + 0.5),
	                          memory_order_relaxed);
}

void metrics_count_status(struct metrics *m, long http_status)
{
	for (int i = 0; i < METRICS_STATUS_SLOTS; i++) {
		if (status_codes[i] == http_status) {
			atomic_fetch_add_explicit(&m->http_status[i], 1,
			                          memory_order_relaxed);
			return;
		}
	}
	atomic_fetch_add_explicit(&m->http_status_other, 1,
	                          memory_order_relaxed);
}

static int
counter(struct buf *b, const char *name, const char *help, uint64_t v)
{
	return buf_printf(b, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name,
	                  help, name, name, (unsigned long long)v);
}

static int gauge(struct buf *b, const char *name, const char *help, double v)
{
	return buf_printf(b, "# HELP %s %s\n# TYPE %s gauge\n%s %.17g\n", name,
	                  help, name, name, v);
}

static int histogram(struct buf *b,
                     const char *name,
                     const char *help,
                     const struct metrics_histogram *h)
{
	uint64_t cum = 0;
	int rc = buf_printf(b, "# HELP %s %s\n# TYPE %s histogram\n", name,
	                    help, name);

	for (int i = 0; i < METRICS_BUCKETS && !rc; i++) {
		cum += LOAD(h->bucket[i]);
		rc = buf_printf(b, "%s_bucket{le=\"%g\"} %llu\n", name,
		                bucket_le[i], (unsigned long long)cum);
	}
	if (!rc)
		rc = buf_printf(b,
		                "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n"
		                "%s_count %llu\n",
		                name, (unsigned long long)LOAD(h->count), name,
		                (double)LOAD(h->sum_us) / 1e6, name,
		                (unsigned long long)LOAD(h->count));
	return rc;
}

static int render_labelled(const struct metrics *m, struct buf *b)
{
	int rc =
	        buf_puts(b, "# HELP clawdstrike_relay_batches_total HEC event"
	                    " requests by outcome.\n"
	                    "# TYPE clawdstrike_relay_batches_total counter\n");

	for (int i = 0; i < METRICS_OUTCOMES && !rc; i++)
		rc = buf_printf(
		        b,
		        "clawdstrike_relay_batches_total{outcome=\"%s\"}"
		        " %llu\n",
		        outcome_names[i],
		        (unsigned long long)LOAD(m->batches[i]));
	if (!rc)
		rc = buf_puts(b, "# HELP clawdstrike_relay_hec_responses_total"
		                 " HEC answers by HTTP status (0: none).\n"
		                 "# TYPE clawdstrike_relay_hec_responses_total"
		                 " counter\n");
	for (int i = 0; i < METRICS_STATUS_SLOTS && !rc; i++)
		rc = buf_printf(b,
		                "clawdstrike_relay_hec_responses_total{status="
		                "\"%ld\"} %llu\n",
		                status_codes[i],
		                (unsigned long long)LOAD(m->http_status[i]));
	if (!rc)
		rc = buf_printf(b,
		                "clawdstrike_relay_hec_responses_total{status="
		                "\"other\"} %llu\n",
		                (unsigned long long)LOAD(m->http_status_other));
	return rc;
}

int metrics_render(const struct metrics *m, struct buf *b)
{
	int rc = 0;

#define C(name, help, field)                                                   \
	if (!rc)                                                               \
	rc = counter(b, "clawdstrike_relay_" name, help, LOAD(m->field))
#define G(name, help, value)                                                   \
	if (!rc)                                                               \
	rc = gauge(b, "clawdstrike_relay_" name, help, value)

	C("events_claimed_total", "Events claimed from the outbox.",
	  events_claimed);
	C("events_sent_total", "Events HEC accepted (200).", events_sent);
	C("events_delivered_total",
	  "Events marked delivered (acknowledged, or 200 without acks).",
	  events_delivered);
	C("events_failed_total", "Events dead-lettered.", events_failed);
	C("events_released_total",
	  "Events given back to pending (retry, timeout, shutdown).",
	  events_released);
	C("duplicates_risked_total",
	  "Events re-queued that HEC may already hold.", duplicates_risked);
	C("sent_bytes_total", "Request bytes sent to HEC (after gzip).",
	  bytes_sent);
	C("ack_polls_total", "Ack poll requests.", ack_polls);
	C("db_reconnects_total", "PostgreSQL reconnections.", db_reconnects);
	C("token_reloads_total", "HEC token reloads.", token_reloads);
	if (!rc)
		rc = render_labelled(m, b);
	if (!rc)
		rc = histogram(b, "clawdstrike_relay_request_duration_seconds",
		               "HEC event request latency.",
		               &m->request_seconds);
	if (!rc)
		rc = histogram(b, "clawdstrike_relay_ack_latency_seconds",
		               "Time from send to indexer acknowledgement.",
		               &m->ack_seconds);
	G("pending_rows", "Pending rows in the outbox.",
	  (double)LOAD(m->pending_rows));
	G("oldest_pending_age_seconds", "Age of the oldest pending row.",
	  (double)LOAD(m->oldest_pending_ms) / 1000.0);
	G("in_flight_requests", "HEC event requests in flight.",
	  (double)LOAD(m->in_flight_requests));
	G("pending_acks", "Sent batches awaiting an indexer ack.",
	  (double)LOAD(m->pending_acks));
	G("concurrency_limit", "Current adaptive concurrency limit.",
	  (double)LOAD(m->concurrency_limit));
	G("database_up", "1 when PostgreSQL answered the last statement.",
	  LOAD(m->db_up) ? 1.0 : 0.0);
	G("hec_up", "1 when the last HEC request got an HTTP answer.",
	  LOAD(m->hec_up) ? 1.0 : 0.0);
	G("token_valid", "0 after HEC refused the token (401/403).",
	  LOAD(m->token_ok) ? 1.0 : 0.0);
#undef C
#undef G
	return rc;
}
