/* SPDX-License-Identifier: Apache-2.0 */
/*
 * faults: run-time knobs and fault injection.
 *
 * Every knob starts from a command-line value and can be changed while the
 * emulator runs (POST /emulator/faults), so each is an atomic read on the
 * request path without a lock.  Rates are probabilities; the *_next
 * counters make the next N requests fail deterministically, which is what
 * tests want.  Random draws come from a counter hashed with splitmix64, so
 * a given --seed gives the same sequence of decisions.
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

/* Plain start values (from the command line). */
struct fault_settings {
	double busy_rate;     /* 503 code 9 */
	double throttle_rate; /* 429 code 26 */
	double drop_rate;     /* index, then close without answering */
	unsigned latency_ms;  /* added before answering */
	unsigned ack_delay_ms;
	unsigned retry_after_s; /* Retry-After on 503/429; 0: none */
	int health;
};

struct faults {
	_Atomic uint32_t busy_ppm, throttle_ppm, drop_ppm;
	_Atomic int64_t busy_next, throttle_next, drop_next;
	_Atomic uint32_t latency_ms, ack_delay_ms, retry_after_s;
	_Atomic int health;
	_Atomic uint64_t draws;
	uint64_t seed;
};

void faults_init(struct faults *f,
                 const struct fault_settings *s,
                 uint64_t seed);

/* Whether this request gets the fault (consumes a *_next first). */
bool faults_take_busy(struct faults *f);
bool faults_take_throttle(struct faults *f);
bool faults_take_drop(struct faults *f);

/*
 * Apply a JSON object of knobs: busy_rate, throttle_rate, drop_rate,
 * busy_next, throttle_next, drop_next, latency_ms, ack_delay_ms,
 * retry_after_s, health.  All or nothing; RELAY_EINVAL with a message.
 */
int faults_update(struct faults *f,
                  const char *json,
                  size_t len) RELAY_MUSTCHECK;

/* The knobs as a JSON object; the caller frees the string. */
char *faults_to_json(struct faults *f);

/* "ok", "queues_full", "ack_unavailable", "shutting_down" <-> enum. */
int health_parse(const char *s);
const char *health_name(int h);

#endif
