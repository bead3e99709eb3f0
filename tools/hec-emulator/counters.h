/* SPDX-License-Identifier: Apache-2.0 */
/*
 * counters: what the emulator did, served as JSON (GET /emulator/counters).
 *
 * Plain atomic counters bumped on the request path (no lock); the render
 * is a snapshot that may be torn across counters, which is fine for tests
 * that read it after their requests have been answered.
 */
#ifndef HEC_COUNTERS_H
#define HEC_COUNTERS_H

#include <stdatomic.h>
#include <stdint.h>

#include "acks.h"
#include "cluster.h"
#include "reply.h"

enum endpoint {
	EP_EVENT = 0,
	EP_RAW,
	EP_ACK,
	EP_HEALTH,
	EP_CONTROL,
	EP_OTHER,
	EP_N
};

/* HTTP statuses counted one by one; others land in "other". */
#define COUNTERS_STATUSES 13

struct counters {
	_Atomic uint64_t requests[EP_N];
	_Atomic uint64_t status[COUNTERS_STATUSES + 1];
	_Atomic uint64_t hec_code[HEC_CODE_MAX];
	/* events_indexed = events_durable + held + lost (lossy mode). */
	_Atomic uint64_t events_indexed;         /* accepted (answered 200) */
	_Atomic uint64_t events_durable;         /* written to the index */
	_Atomic uint64_t events_lost_in_restart; /* held, dropped by restart */
	_Atomic uint64_t bytes_received;         /* as sent (maybe gzip) */
	_Atomic uint64_t bytes_decoded;          /* after gunzip */
	_Atomic uint64_t acks_issued;
	_Atomic uint64_t acks_true;  /* ids found true (and forgotten) */
	_Atomic uint64_t acks_never; /* ids that will never read true */
	_Atomic uint64_t ack_polls;
	_Atomic uint64_t ack_ids_queried;
	_Atomic uint64_t faults_busy;
	_Atomic uint64_t faults_throttled;
	_Atomic uint64_t faults_dropped;
	_Atomic uint64_t faults_ack_dropped; /* polls answered by no answer */
	_Atomic uint64_t faults_warned;      /* 200 code 24/25 */
	_Atomic uint64_t faults_html;        /* 200 HTML pages */
	_Atomic uint64_t faults_delayed;
	_Atomic uint64_t restarts;
	_Atomic uint64_t acks_forgotten;
	_Atomic uint64_t tls_client_rejected; /* no/bad client certificate */
	_Atomic uint64_t ack_cookie_misses;   /* /ack without the cookie */
	_Atomic uint64_t node_requests[CLUSTER_MAX_NODES]; /* routed */
};

void counters_init(struct counters *c);
void counters_add(_Atomic uint64_t *counter, uint64_t n);
void counters_count_reply(struct counters *c, unsigned status, int hec_code);

/*
 * JSON object of everything plus the ack gauges (the sum, and "nodes":
 * one object per node); the caller frees it.
 */
char *counters_to_json(struct counters *c,
                       const struct acks_stats *total,
                       const struct acks_stats *nodes,
                       unsigned n_nodes,
                       uint64_t uptime_ms);

#endif
