/* SPDX-License-Identifier: Apache-2.0 */
/*
 * control: /emulator/... handlers.  See control.h.
 */
#include "control.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "util/xalloc.h"

static void answer(struct reply *r, unsigned status, json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT);

	json_decref(o);
	if (!s)
		s = xstrdup("{}");
	reply_json(r, status, s, strlen(s));
}

static void answer_error(struct reply *r, unsigned status, const char *msg)
{
	answer(r, status, json_pack("{s:s}", "error", msg));
}

static void answer_string(struct reply *r, char *s)
{
	if (!s)
		s = xstrdup("{}");
	reply_json(r, 200, s, strlen(s));
}

static void get_counters(struct emu *emu, struct reply *r)
{
	struct acks_stats total, nodes[CLUSTER_MAX_NODES];

	/* Idle cleanup is lazy (on requests); make the gauges current. */
	cluster_sweep(&emu->cluster, emu_now_ms());
	cluster_stats(&emu->cluster, &total, nodes);
	answer_string(r, counters_to_json(&emu->counters, &total, nodes,
	                                  emu->cluster.n,
	                                  emu_now_ms() - emu->started_ms));
}

static void post_faults(struct emu *emu, struct request *rq, struct reply *r)
{
	if (faults_update(&emu->faults, rq->body.data ? rq->body.data : "",
	                  rq->body.len) != 0) {
		answer_error(r, 400, relay_error_last());
		return;
	}
	log_info("faults changed", "by=control");
	answer_string(r, faults_to_json(&emu->faults));
}

static void restart(struct emu *emu, struct reply *r)
{
	struct acks_lost lost;

	cluster_restart(&emu->cluster, &lost);
	counters_add(&emu->counters.restarts, 1);
	counters_add(&emu->counters.acks_forgotten, lost.acks);
	counters_add(&emu->counters.events_lost_in_restart, lost.events);
	log_info("restart: acks forgotten", "lost=%zu events_lost=%zu",
	         lost.acks, lost.events);
	answer(r, 200,
	       json_pack("{s:I,s:I}", "forgotten_acks", (json_int_t)lost.acks,
	                 "events_lost", (json_int_t)lost.events));
}

static void get_tokens(struct emu *emu, struct reply *r)
{
	const struct tokens *t = &emu->opts->tokens;
	json_t *a = json_array();

	for (size_t i = 0; i < t->n; i++) {
		const struct token *tok = &t->v[i];

		json_array_append_new(
		        a,
		        json_pack("{s:s,s:s,s:b}", "name", tok->name, "state",
		                  token_state_name(atomic_load(&tok->state)),
		                  "ack", tokens_ack(t, tok)));
	}
	answer(r, 200, json_pack("{s:o}", "tokens", a));
}

static void post_tokens(struct emu *emu, struct request *rq, struct reply *r)
{
	json_error_t err;
	json_t *o = json_loadb(rq->body.data ? rq->body.data : "", rq->body.len,
	                       0, &err);
	const char *key = NULL, *state = NULL;
	struct token *tok;
	int st;

	if (json_unpack(o, "{s:s,s:s}", "token", &key, "state", &state) != 0) {
		answer_error(r, 400, "expected {\"token\":..,\"state\":..}");
		goto done;
	}
	st = token_state_parse(state);
	if (st < 0) {
		answer_error(r, 400, "state: enabled, disabled or revoked");
		goto done;
	}
	tok = tokens_find(&emu->opts->tokens, key);
	if (!tok) {
		answer_error(r, 404, "no such token");
		goto done;
	}
	atomic_store(&tok->state, st);
	log_info("token state changed", "name=%s state=%s", tok->name, state);
	answer(r, 200,
	       json_pack("{s:s,s:s}", "name", tok->name, "state", state));
done:
	json_decref(o);
}

void control_handle(struct emu *emu, struct request *rq, struct reply *r)
{
	const char *p = rq->url + strlen("/emulator/");
	bool get = !strcmp(rq->method, "GET");
	bool post = !strcmp(rq->method, "POST");

	if (!emu->opts->control || !request_is_loopback(rq)) {
		reply_not_found(r, 404);
		return;
	}
	if (!strcmp(p, "counters") && get)
		get_counters(emu, r);
	else if (!strcmp(p, "faults") && get)
		answer_string(r, faults_to_json(&emu->faults));
	else if (!strcmp(p, "faults") && post)
		post_faults(emu, rq, r);
	else if (!strcmp(p, "restart") && post)
		restart(emu, r);
	else if (!strcmp(p, "tokens") && get)
		get_tokens(emu, r);
	else if (!strcmp(p, "tokens") && post)
		post_tokens(emu, rq, r);
	else
		answer_error(r, 404, "unknown control path or method");
}
