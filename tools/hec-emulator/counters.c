/* SPDX-License-Identifier: Apache-2.0 */
/*
 * counters: atomic counters and their JSON.  See counters.h.
 */
#include "counters.h"

#include <jansson.h>
#include <stddef.h>
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

/* The plain counters, in the order they are rendered. */
#define PLAIN(name)                                                            \
	{                                                                      \
#name, offsetof(struct counters, name)                         \
	}
static const struct {
	const char *name;
	size_t off;
} plain[] = {
        PLAIN(events_indexed),
        PLAIN(events_durable),
        PLAIN(events_lost_in_restart),
        PLAIN(bytes_received),
        PLAIN(bytes_decoded),
        PLAIN(acks_issued),
        PLAIN(acks_true),
        PLAIN(acks_never),
        PLAIN(ack_polls),
        PLAIN(ack_ids_queried),
        PLAIN(faults_busy),
        PLAIN(faults_throttled),
        PLAIN(faults_dropped),
        PLAIN(faults_ack_dropped),
        PLAIN(faults_warned),
        PLAIN(faults_html),
        PLAIN(faults_delayed),
        PLAIN(restarts),
        PLAIN(acks_forgotten),
        PLAIN(tls_client_rejected),
        PLAIN(ack_cookie_misses),
};
#undef PLAIN

/* The ack gauges of one node or of all of them. */
static void set_gauges(json_t *o, const struct acks_stats *s)
{
	json_object_set_new(o, "channels",
	                    json_integer((json_int_t)s->channels));
	json_object_set_new(o, "pending_acks",
	                    json_integer((json_int_t)s->pending));
	json_object_set_new(o, "events_held",
	                    json_integer((json_int_t)s->held_events));
	json_object_set_new(o, "events_lost_in_expiry",
	                    json_integer((json_int_t)s->lost_idle));
}

static json_t *
by_node(struct counters *c, const struct acks_stats *nodes, unsigned n_nodes)
{
	json_t *a = json_array();

	for (unsigned i = 0; i < n_nodes; i++) {
		json_t *o = json_pack("{s:I}", "requests",
		                      get(&c->node_requests[i]));

		set_gauges(o, &nodes[i]);
		json_array_append_new(a, o);
	}
	return a;
}

char *counters_to_json(struct counters *c,
                       const struct acks_stats *total,
                       const struct acks_stats *nodes,
                       unsigned n_nodes,
                       uint64_t uptime_ms)
{
	json_t *o =
	        json_pack("{s:I,s:o,s:o,s:o}", "uptime_ms",
	                  (json_int_t)uptime_ms, "requests", by_endpoint(c),
	                  "http_status", by_status(c), "hec_code", by_code(c));
	char *s;

	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		json_object_set_new(
		        o, plain[i].name,
		        json_integer(get(
		                (_Atomic uint64_t *)(void *)((char *)c +
		                                             plain[i].off))));
	set_gauges(o, total);
	json_object_set_new(o, "nodes", by_node(c, nodes, n_nodes));
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}
