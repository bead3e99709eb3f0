/* SPDX-License-Identifier: Apache-2.0 */
/*
 * faults: run-time knobs and fault injection.
 *
 * Every knob starts from a command-line value and can be changed while the
 * emulator runs (POST /emulator/faults), so each is an atomic read on the
 * request path without a lock.  Each request fault has a rate (a
 * probability) and a *_next counter that makes the next N requests get it
 * deterministically, which is what tests want.  Random draws (rates and
 * ack jitter) come from a counter hashed with splitmix64, so a given
 * --seed gives the same sequence of decisions for the same sequence of
 * requests.
 */
#ifndef HEC_FAULTS_H
#define HEC_FAULTS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

enum health_state {
	HEALTH_OK = 0,
	HEALTH_QUEUES_FULL,     /* 503 code 18 (20 with ?ack=true) */
	HEALTH_ACK_UNAVAILABLE, /* 503 code 19 with ?ack=true */
	HEALTH_SHUTTING_DOWN,   /* 503 code 23 */
	HEALTH_N
};

/* Faults drawn per request: knobs NAME_rate and NAME_next. */
enum fault {
	FAULT_BUSY = 0,  /* busy: 503 code 9 */
	FAULT_THROTTLE,  /* throttle: 429 code 26 */
	FAULT_DROP,      /* drop: index, then close without answering */
	FAULT_DROP_ACK,  /* drop_ack: answer a poll, then close unanswered */
	FAULT_WARN,      /* warn: index, answer 200 with warn_code */
	FAULT_ACK_NEVER, /* ack_never: the request's ack id never reads true */
	FAULT_N
};

/* Plain start values (from the command line). */
struct fault_settings {
	double rate[FAULT_N];
	unsigned latency_ms; /* added before answering */
	unsigned ack_delay_ms;
	unsigned ack_jitter_ms; /* plus uniform [0, jitter] per ack id */
	unsigned retry_after_s; /* Retry-After on 503/429; 0: none */
	int health;
	int warn_code;  /* 24 or 25 */
	bool lossy;     /* events durable only when their ack reads true */
	bool html_200;  /* every collector request: 200 HTML page */
	bool no_ack_id; /* success without ackId even on ack tokens */
	bool code7_exact;
};

struct faults {
	_Atomic uint32_t ppm[FAULT_N];
	_Atomic int64_t next[FAULT_N];
	/* Scalar knobs, all 32-bit so one table in faults.c serves them. */
	_Atomic uint32_t latency_ms, ack_delay_ms, ack_jitter_ms, retry_after_s;
	_Atomic uint32_t health, warn_code;
	_Atomic uint32_t lossy, html_200, no_ack_id, code7_exact;
	_Atomic uint64_t draws;
	uint64_t seed;
};

void faults_init(struct faults *f,
                 const struct fault_settings *s,
                 uint64_t seed);

/* Whether this request gets the fault (consumes a *_next first). */
bool faults_take(struct faults *f, enum fault which);

/* ack_delay_ms plus a seeded draw from [0, ack_jitter_ms]. */
uint64_t faults_ack_delay_ms(struct faults *f);

/* A knob that is on/off, read once per request. */
static inline bool faults_on(_Atomic uint32_t *knob)
{
	return atomic_load(knob) != 0;
}

/*
 * Apply a JSON object of knobs (see the README's control API table).
 * All or nothing; RELAY_EINVAL with a message.
 */
int faults_update(struct faults *f,
                  const char *json,
                  size_t len) RELAY_MUSTCHECK;

/* The knobs as a JSON object; the caller frees the string. */
char *faults_to_json(struct faults *f);

/* "ok", "queues_full", "ack_unavailable", "shutting_down" <-> enum. */
int health_parse(const char *s);
const char *health_name(int h);

/* The command-line and knob names of a fault ("drop_ack" ...). */
const char *fault_name(enum fault which);

#endif
