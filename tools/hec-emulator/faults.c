/* SPDX-License-Identifier: Apache-2.0 */
/*
 * faults: knobs and draws.  See faults.h.
 *
 * The control API names each knob once, in the tables below: per-request
 * faults as NAME_rate / NAME_next, the scalar knobs with their type.  An
 * update is staged in full and applied only when every key parsed.
 */
#include "faults.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest a *_ms / *_s / *_next knob may be: a day of milliseconds. */
#define KNOB_MAX 86400000

static const char *const health_names[HEALTH_N] = {
        "ok", "queues_full", "ack_unavailable", "shutting_down"};

static const char *const fault_names[FAULT_N] = {
        "busy", "throttle", "drop", "drop_ack", "warn", "ack_never"};

enum knob_type {
	KNOB_MS,     /* integer 0..KNOB_MAX */
	KNOB_BOOL,   /* true or false */
	KNOB_HEALTH, /* a health_names string */
	KNOB_WARN    /* 24 or 25 */
};

struct knob {
	const char *name;
	enum knob_type type;
	size_t off; /* of an _Atomic uint32_t in struct faults */
};

static const struct knob knobs[] = {
        {"latency_ms", KNOB_MS, offsetof(struct faults, latency_ms)},
        {"ack_delay_ms", KNOB_MS, offsetof(struct faults, ack_delay_ms)},
        {"ack_jitter_ms", KNOB_MS, offsetof(struct faults, ack_jitter_ms)},
        {"retry_after_s", KNOB_MS, offsetof(struct faults, retry_after_s)},
        {"health", KNOB_HEALTH, offsetof(struct faults, health)},
        {"warn_code", KNOB_WARN, offsetof(struct faults, warn_code)},
        {"lossy", KNOB_BOOL, offsetof(struct faults, lossy)},
        {"html_200", KNOB_BOOL, offsetof(struct faults, html_200)},
        {"no_ack_id", KNOB_BOOL, offsetof(struct faults, no_ack_id)},
        {"code7_exact", KNOB_BOOL, offsetof(struct faults, code7_exact)},
};

#define N_KNOBS (sizeof(knobs) / sizeof(knobs[0]))

int health_parse(const char *s)
{
	for (int i = 0; i < HEALTH_N; i++) {
		if (!strcmp(s, health_names[i]))
			return i;
	}
	return -1;
}

const char *health_name(int h)
{
	return h >= 0 && h < HEALTH_N ? health_names[h] : "unknown";
}

const char *fault_name(enum fault which)
{
	return fault_names[which];
}

static _Atomic uint32_t *knob_slot(struct faults *f, const struct knob *k)
{
	return (_Atomic uint32_t *)(void *)((char *)f + k->off);
}

static uint32_t to_ppm(double rate)
{
	if (rate <= 0)
		return 0;
	if (rate >= 1)
		return 1000000;
	return (uint32_t)(rate * 1e6 + 0.5);
}

void faults_init(struct faults *f,
                 const struct fault_settings *s,
                 uint64_t seed)
{
	memset(f, 0, sizeof(*f));
	for (int i = 0; i < FAULT_N; i++)
		atomic_store(&f->ppm[i], to_ppm(s->rate[i]));
	atomic_store(&f->latency_ms, s->latency_ms);
	atomic_store(&f->ack_delay_ms, s->ack_delay_ms);
	atomic_store(&f->ack_jitter_ms, s->ack_jitter_ms);
	atomic_store(&f->retry_after_s, s->retry_after_s);
	atomic_store(&f->health, (uint32_t)s->health);
	atomic_store(&f->warn_code,
	             (uint32_t)(s->warn_code ? s->warn_code : 24));
	atomic_store(&f->lossy, s->lossy);
	atomic_store(&f->html_200, s->html_200);
	atomic_store(&f->no_ack_id, s->no_ack_id);
	atomic_store(&f->code7_exact, s->code7_exact);
	f->seed = seed;
}

static uint64_t splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t next_draw(struct faults *f)
{
	return splitmix64(f->seed + atomic_fetch_add(&f->draws, 1));
}

/* Consume one of the "next N requests" if any are left. */
static bool take_next(_Atomic int64_t *next)
{
	int64_t n = atomic_load(next);

	while (n > 0) {
		if (atomic_compare_exchange_weak(next, &n, n - 1))
			return true;
	}
	return false;
}

/* Rates 0 and 1 take no draw, so they leave the sequence alone. */
static bool draw(struct faults *f, _Atomic uint32_t *ppm)
{
	uint32_t p = atomic_load(ppm);

	if (p == 0)
		return false;
	if (p >= 1000000)
		return true;
	return next_draw(f) % 1000000 < p;
}

bool faults_take(struct faults *f, enum fault which)
{
	return take_next(&f->next[which]) || draw(f, &f->ppm[which]);
}

uint64_t faults_ack_delay_ms(struct faults *f)
{
	uint64_t d = atomic_load(&f->ack_delay_ms);
	uint32_t j = atomic_load(&f->ack_jitter_ms);

	return j ? d + next_draw(f) % ((uint64_t)j + 1) : d;
}

/* Staged values of an update (-1: not given), applied only when all of
 * them parse. */
struct staged {
	int64_t ppm[FAULT_N];
	int64_t next[FAULT_N];
	int64_t knob[N_KNOBS];
};

/* "busy_rate" -> FAULT_BUSY with suffix "rate"; -1 if no such fault. */
static int fault_of(const char *key, const char *suffix)
{
	size_t kl = strlen(key), sl = strlen(suffix);

	for (int i = 0; i < FAULT_N; i++) {
		size_t nl = strlen(fault_names[i]);

		if (kl == nl + 1 + sl && !strncmp(key, fault_names[i], nl) &&
		    key[nl] == '_' && !strcmp(key + nl + 1, suffix))
			return i;
	}
	return -1;
}

static int stage_knob(int64_t *slot, const struct knob *k, json_t *v)
{
	json_int_t n = json_is_integer(v) ? json_integer_value(v) : -1;

	switch (k->type) {
	case KNOB_MS:
		if (n < 0 || n > KNOB_MAX)
			return relay_error_set("%s: an integer 0..%d", k->name,
			                       KNOB_MAX);
		*slot = n;
		return 0;
	case KNOB_BOOL:
		if (!json_is_boolean(v))
			return relay_error_set("%s: true or false", k->name);
		*slot = json_is_true(v);
		return 0;
	case KNOB_WARN:
		if (n != 24 && n != 25)
			return relay_error_set("%s: 24 or 25", k->name);
		*slot = n;
		return 0;
	default:
		*slot = json_is_string(v) ? health_parse(json_string_value(v))
		                          : -1;
		if (*slot < 0)
			return relay_error_set("health: ok, queues_full, "
			                       "ack_unavailable or "
			                       "shutting_down");
		return 0;
	}
}

static int stage_key(struct staged *s, const char *key, json_t *v)
{
	int i = fault_of(key, "rate");

	if (i >= 0) {
		if (!json_is_number(v) || json_number_value(v) < 0 ||
		    json_number_value(v) > 1)
			return relay_error_set("%s: a number 0..1", key);
		s->ppm[i] = to_ppm(json_number_value(v));
		return 0;
	}
	i = fault_of(key, "next");
	if (i >= 0) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > KNOB_MAX)
			return relay_error_set("%s: an integer >= 0", key);
		s->next[i] = json_integer_value(v);
		return 0;
	}
	for (size_t k = 0; k < N_KNOBS; k++) {
		if (!strcmp(key, knobs[k].name))
			return stage_knob(&s->knob[k], &knobs[k], v);
	}
	return relay_error_set("unknown knob \"%s\"", key);
}

static void apply(struct faults *f, const struct staged *s)
{
	for (int i = 0; i < FAULT_N; i++) {
		if (s->ppm[i] >= 0)
			atomic_store(&f->ppm[i], (uint32_t)s->ppm[i]);
		if (s->next[i] >= 0)
			atomic_store(&f->next[i], s->next[i]);
	}
	for (size_t k = 0; k < N_KNOBS; k++) {
		if (s->knob[k] >= 0)
			atomic_store(knob_slot(f, &knobs[k]),
			             (uint32_t)s->knob[k]);
	}
}

int faults_update(struct faults *f, const char *json, size_t len)
{
	struct staged s;
	json_error_t err;
	json_t *root = json_loadb(json, len, 0, &err), *v;
	const char *key;
	int rc = 0;

	if (!root || !json_is_object(root)) {
		rc = relay_error_set("expected a JSON object");
		goto done;
	}
	/* All bits set: every slot -1. */
	memset(&s, 0xff, sizeof(s));
	json_object_foreach(root, key, v)
	{
		rc = stage_key(&s, key, v);
		if (rc)
			goto done;
	}
	apply(f, &s);
done:
	json_decref(root);
	return rc ? RELAY_EINVAL : 0;
}

static json_t *knob_json(struct faults *f, const struct knob *k)
{
	uint32_t v = atomic_load(knob_slot(f, k));

	switch (k->type) {
	case KNOB_BOOL:
		return json_boolean(v);
	case KNOB_HEALTH:
		return json_string(health_name((int)v));
	default:
		return json_integer(v);
	}
}

char *faults_to_json(struct faults *f)
{
	json_t *o = json_object();
	char key[32];
	char *s;

	for (int i = 0; i < FAULT_N; i++) {
		snprintf(key, sizeof(key), "%s_rate", fault_names[i]);
		json_object_set_new(o, key,
		                    json_real(atomic_load(&f->ppm[i]) / 1e6));
		snprintf(key, sizeof(key), "%s_next", fault_names[i]);
		json_object_set_new(
		        o, key,
		        json_integer((json_int_t)atomic_load(&f->next[i])));
	}
	for (size_t k = 0; k < N_KNOBS; k++)
		json_object_set_new(o, knobs[k].name, knob_json(f, &knobs[k]));
	json_object_set_new(o, "seed", json_integer((json_int_t)f->seed));
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}
