/* SPDX-License-Identifier: Apache-2.0 */
/*
 * faults: knobs and draws.  See faults.h.
 */
#include "faults.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char *const health_names[HEALTH_N] = {
        "ok", "queues_full", "ack_unavailable", "shutting_down"};

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
	atomic_store(&f->busy_ppm, to_ppm(s->busy_rate));
	atomic_store(&f->throttle_ppm, to_ppm(s->throttle_rate));
	atomic_store(&f->drop_ppm, to_ppm(s->drop_rate));
	atomic_store(&f->latency_ms, s->latency_ms);
	atomic_store(&f->ack_delay_ms, s->ack_delay_ms);
	atomic_store(&f->retry_after_s, s->retry_after_s);
	atomic_store(&f->health, s->health);
	f->seed = seed;
}

static uint64_t splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
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

static bool draw(struct faults *f, _Atomic uint32_t *ppm)
{
	uint32_t p = atomic_load(ppm);
	uint64_t r;

	if (p == 0)
		return false;
	if (p >= 1000000)
		return true;
	r = splitmix64(f->seed + atomic_fetch_add(&f->draws, 1));
	return r % 1000000 < p;
}

bool faults_take_busy(struct faults *f)
{
	return take_next(&f->busy_next) || draw(f, &f->busy_ppm);
}

bool faults_take_throttle(struct faults *f)
{
	return take_next(&f->throttle_next) || draw(f, &f->throttle_ppm);
}

bool faults_take_drop(struct faults *f)
{
	return take_next(&f->drop_next) || draw(f, &f->drop_ppm);
}

/* Staged values of an update, applied only when all of them parse. */
struct staged {
	double rate[3];
	int64_t next[3];
	int64_t ms[3];
	int health;
};

static const char *const rate_keys[3] = {"busy_rate", "throttle_rate",
                                         "drop_rate"};
static const char *const next_keys[3] = {"busy_next", "throttle_next",
                                         "drop_next"};
static const char *const ms_keys[3] = {"latency_ms", "ack_delay_ms",
                                       "retry_after_s"};

static int stage_key(struct staged *s, const char *key, json_t *v)
{
	for (int i = 0; i < 3; i++) {
		if (!strcmp(key, rate_keys[i])) {
			if (!json_is_number(v) || json_number_value(v) < 0 ||
			    json_number_value(v) > 1)
				return relay_error_set("%s: a number 0..1",
				                       key);
			s->rate[i] = json_number_value(v);
			return 0;
		}
		if (!strcmp(key, next_keys[i]) || !strcmp(key, ms_keys[i])) {
			if (!json_is_integer(v) || json_integer_value(v) < 0 ||
			    json_integer_value(v) > 86400000)
				return relay_error_set("%s: an integer >= 0",
				                       key);
			if (!strcmp(key, next_keys[i]))
				s->next[i] = json_integer_value(v);
			else
				s->ms[i] = json_integer_value(v);
			return 0;
		}
	}
	if (!strcmp(key, "health")) {
		s->health = json_is_string(v)
		                    ? health_parse(json_string_value(v))
		                    : -1;
		if (s->health < 0)
			return relay_error_set("health: ok, queues_full, "
			                       "ack_unavailable or "
			                       "shutting_down");
		return 0;
	}
	return relay_error_set("unknown knob \"%s\"", key);
}

static void apply(struct faults *f, const struct staged *s)
{
	_Atomic uint32_t *ppm[3] = {&f->busy_ppm, &f->throttle_ppm,
	                            &f->drop_ppm};
	_Atomic int64_t *next[3] = {&f->busy_next, &f->throttle_next,
	                            &f->drop_next};
	_Atomic uint32_t *ms[3] = {&f->latency_ms, &f->ack_delay_ms,
	                           &f->retry_after_s};

	for (int i = 0; i < 3; i++) {
		if (s->rate[i] >= 0)
			atomic_store(ppm[i], to_ppm(s->rate[i]));
		if (s->next[i] >= 0)
			atomic_store(next[i], s->next[i]);
		if (s->ms[i] >= 0)
			atomic_store(ms[i], (uint32_t)s->ms[i]);
	}
	if (s->health >= 0)
		atomic_store(&f->health, s->health);
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
	for (int i = 0; i < 3; i++) {
		s.rate[i] = -1;
		s.next[i] = -1;
		s.ms[i] = -1;
	}
	s.health = -1;
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

char *faults_to_json(struct faults *f)
{
	json_t *o = json_pack(
	        "{s:f,s:f,s:f,s:I,s:I,s:I,s:I,s:I,s:I,s:s}", "busy_rate",
	        atomic_load(&f->busy_ppm) / 1e6, "throttle_rate",
	        atomic_load(&f->throttle_ppm) / 1e6, "drop_rate",
	        atomic_load(&f->drop_ppm) / 1e6, "busy_next",
	        (json_int_t)atomic_load(&f->busy_next), "throttle_next",
	        (json_int_t)atomic_load(&f->throttle_next), "drop_next",
	        (json_int_t)atomic_load(&f->drop_next), "latency_ms",
	        (json_int_t)atomic_load(&f->latency_ms), "ack_delay_ms",
	        (json_int_t)atomic_load(&f->ack_delay_ms), "retry_after_s",
	        (json_int_t)atomic_load(&f->retry_after_s), "health",
	        health_name(atomic_load(&f->health)));
	char *s = json_dumps(o, JSON_COMPACT);

	json_decref(o);
	return s;
}
