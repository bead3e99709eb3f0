/* SPDX-License-Identifier: Apache-2.0 */
/*
 * counters: atomic counters and their JSON.  See counters.h.
 */
#include "counters.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const unsigned statuses[COUNTERS_STATUSES] = {
        200, 400, 401, 403, 404, 405, 408, 413, 415, 429, 500, 503, 0};
static const char *const endpoint_names[EP_N] = {"event",  "raw",     "ack",
                                                 "health", "control", "other"};

void counters_init(struct counters *c)
{
	memset(c, 0, sizeof(*c));
}

void counters_add(_Atomic uint64_t *counter, uint64_t n)
{
	atomic_fetch_add_explicit(counter, n, memory_order_relaxed);
}

void counters_count_reply(struct counters *c, unsigned status, int hec_code)
{
	size_t i = 0;

	while (i < COUNTERS_STATUSES && statuses[i] != status)
		i++;
	counters_add(&c->status[i], 1);
	if (hec_code >= 0 && hec_code < HEC_CODE_MAX)
		counters_add(&c->hec_code[hec_code], 1);
}

static json_int_t get(_Atomic uint64_t *v)
{
	return (json_int_t)atomic_load_explicit(v, memory_order_relaxed);
}

static json_t *by_endpoint(struct counters *c)
{
	json_t *o = json_object();

	for (int i = 0; i < EP_N; i++)
		json_object_set_new(o, endpoint_names[i],
		                    json_integer(get(&c->requests[i])));
	return o;
}

/* Only non-zero entries, keyed by status or code as a string. */
static json_t *by_status(struct counters *c)
{
	json_t *o = json_object();
	char key[16];

	for (int i = 0; i <= COUNTERS_STATUSES; i++) {
		if (!get(&c->status[i]))
			continue;
		if (i < COUNTERS_STATUSES && statuses[i])
			snprintf(key, sizeof(key), "%u", statuses[i]);
		else
			snprintf(key, sizeof(key), "other");
		json_object_set_new(o, key, json_integer(get(&c->status[i])));
	}
	return o;
}

static json_t *by_code(struct counters *c)
{
	json_t *o = json_object();
	char key[16];

	for (int i = 0; i < HEC_CODE_MAX; i++) {
		if (!get(&c->hec_code[i]))
			continue;
		snprintf(key, sizeof(key), "%d", i);
		json_object_set_new(o, key, json_integer(get(&c->hec_code[i])));
	}
	return o;
}

char *counters_to_json(struct counters *c,
                       const struct acks_stats *acks,
                       uint64_t uptime_ms)
{
	json_t *o = json_pack(
	        "{s:I,s:o,s:o,s:o,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,"
	        "s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
	        "uptime_ms", (json_int_t)uptime_ms, "requests", by_endpoint(c),
	        "http_status", by_status(c), "hec_code", by_code(c),
	        "events_indexed", get(&c->events_indexed), "bytes_received",
	        get(&c->bytes_received), "bytes_decoded",
	        get(&c->bytes_decoded), "acks_issued", get(&c->acks_issued),
	        "acks_true", get(&c->acks_true), "ack_polls",
	        get(&c->ack_polls), "ack_ids_queried", get(&c->ack_ids_queried),
	        "faults_busy", get(&c->faults_busy), "faults_throttled",
	        get(&c->faults_throttled), "faults_dropped",
	        get(&c->faults_dropped), "faults_delayed",
	        get(&c->faults_delayed), "restarts", get(&c->restarts),
	        "acks_forgotten", get(&c->acks_forgotten),
	        "tls_client_rejected", get(&c->tls_client_rejected),
	        "ack_cookie_misses", get(&c->ack_cookie_misses), "channels",
	        (json_int_t)acks->channels, "pending_acks",
	        (json_int_t)acks->pending);
	char *s = json_dumps(o, JSON_COMPACT);

	json_decref(o);
	return s;
}
