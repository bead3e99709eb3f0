/* SPDX-License-Identifier: Apache-2.0 */
/*
 * relay_send: from claimed rows to HEC's answer — validate and format
 * events into posts, send them as pace and the rate limit allow, and act on
 * each answer (see relay.h and relay_int.h).
 *
 * Outages, timeouts and auth failures never dead-letter anything: the
 * batch is retried (same body, same rows) after a back-off, or released.
 * Only an event that HEC or our own validation rejects becomes `failed`.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay_int.h"

#include "acks.h"
#include "config.h"
#include "event.h"
#include "store.h"
#include "util/log.h"
#include "util/sys.h"
#include "util/xalloc.h"

/* ---------------------------------------------------------------- posts */

static struct post *post_new(int64_t batch_id, size_t cap_rows, size_t max)
{
	struct post *p = xcalloc(1, sizeof(*p));

	p->batch_id = batch_id;
	p->ids = xmalloc(cap_rows * sizeof(*p->ids));
	p->off = xmalloc((cap_rows + 1) * sizeof(*p->off));
	p->off[0] = 0;
	buf_init(&p->body, max);
	return p;
}

void relay_post_free(struct post *p)
{
	if (!p)
		return;
	free(p->ids);
	free(p->off);
	buf_dispose(&p->body);
	free(p);
}

/* Rows [from, n) of p moved into a new post with batch id `batch`. */
static struct post *post_take_tail(struct post *p, size_t from, int64_t batch)
{
	struct post *q = post_new(batch, p->n - from, p->body.max);
	size_t base = p->off[from];

	for (size_t i = from; i < p->n; i++) {
		q->ids[q->n] = p->ids[i];
		q->off[q->n + 1] = p->off[i + 1] - base;
		q->n++;
	}
	if (buf_append(&q->body, p->body.data + base, p->body.len - base) != 0)
		abort(); /* same cap, smaller body: cannot happen */
	buf_truncate(&p->body, base);
	p->n = from;
	q->endpoint = p->endpoint;
	return q;
}

/* ------------------------------------------------------------ helpers */

static void count_failed_rows(struct relay *r, size_t n)
{
	COUNT(r, events_failed, n);
}

/* Describe a HEC answer for last_error / logs. */
void relay_describe(char *out, size_t size, const struct hec_result *res)
{
	if (res->http_status == 0)
		snprintf(out, size, "no HTTP answer: %s", res->error);
	else if (res->resp.code >= 0)
		snprintf(out, size, "HTTP %ld, HEC code %d: %s",
		         res->http_status, res->resp.code, res->resp.text);
	else
		snprintf(out, size, "HTTP %ld", res->http_status);
}

/* Log a store failure once, where it is decided; returns rc. */
int relay_store_failed(int rc, const char *what, int64_t batch)
{
	log_error("database statement failed",
	          "op=%s batch=%" PRId64 " error=\"%s\"", what, batch,
	          relay_error_last());
	return rc;
}

/* ------------------------------------------------------- claim + format */

/*
 * Append one row's envelope to p.  Returns 0, RELAY_EFULL when the body is
 * full (nothing appended), or RELAY_EINVAL when the event is invalid (the
 * reason is in the last error).
 */
static int
post_add_row(struct relay *r, struct post *p, const struct store_row *row)
{
	const struct config *cfg = r->cfg;
	struct envelope_opts eo;
	struct event *ev = NULL;
	int rc;

	rc = event_parse(&ev, row->event, row->event_len,
	                 (size_t)cfg->splunk.max_event_bytes);
	if (rc)
		return RELAY_EINVAL;
	memset(&eo, 0, sizeof(eo));
	eo.host = cfg->splunk.host;
	eo.source = cfg->splunk.source;
	eo.indexed_fields = r->indexed;
	config_route_event(cfg, event_field_getter, ev, &eo.index,
	                   &eo.sourcetype);
	rc = event_format_envelope(ev, &eo, &p->body);
	event_free(ev);
	if (rc == RELAY_EFULL && p->n == 0) {
		relay_error_set("event too large for HEC: its envelope exceeds"
		                " batch.max_bytes (%zu bytes)",
		                p->body.max);
		return RELAY_EINVAL;
	}
	if (rc)
		return rc;
	p->ids[p->n] = row->id;
	p->off[++p->n] = p->body.len;
	return 0;
}

static void queue_post(struct relay *r, struct post *p, int64_t not_before)
{
	struct post **tail = &r->retry_head;

	p->not_before_ms = not_before;
	while (*tail)
		tail = &(*tail)->next;
	p->next = NULL;
	*tail = p;
}

/*
 * Turn a claim into posts: invalid events are dead-lettered, and rows that
 * do not fit one body move to a new batch of their own.
 */
static int build_posts(struct relay *r, struct store_claim *c, int64_t now)
{
	struct post *p = post_new(c->batch_id, c->n,
	                          (size_t)r->cfg->splunk.batch.max_bytes);
	int64_t *bad = xmalloc(c->n * sizeof(*bad));
	size_t n_bad = 0;
	int rc = 0;

	p->endpoint = r->cur_endpoint;
	for (size_t i = 0; i < c->n; i++) {
		rc = post_add_row(r, p, &c->rows[i]);
		if (rc == RELAY_EINVAL) {
			/* One statement per bad row: rare, and each has its
			 * own reason. */
			bad[n_bad] = c->rows[i].id;
			rc = store_fail_rows(r->store, p->batch_id, &bad[n_bad],
			                     1, relay_error_last(), -1, -1,
			                     NULL);
			if (rc)
				goto done;
			log_warn("event dead-lettered by validation",
			         "batch=%" PRId64 " row=%" PRId64
			         " reason=\"%s\"",
			         p->batch_id, bad[n_bad], relay_error_last());
			n_bad++;
			count_failed_rows(r, 1);
			continue;
		}
		if (rc == RELAY_EFULL) {
			/* Body full: the remaining rows become a batch of
			 * their own, formatted in the next post. */
			int64_t newb = 0;
			size_t rest = c->n - i;
			int64_t *ids = xmalloc(rest * sizeof(*ids));

			for (size_t k = 0; k < rest; k++)
				ids[k] = c->rows[i + k].id;
			rc = store_split(r->store, p->batch_id, ids, rest,
			                 &newb);
			free(ids);
			if (rc)
				goto done;
			queue_post(r, p, now);
			if (!newb) { /* lease lost meanwhile */
				p = NULL;
				goto done;
			}
			p = post_new(newb, rest, p->body.max);
			p->endpoint = r->cur_endpoint;
			i--; /* retry this row in the new post */
			continue;
		}
		if (rc)
			goto done;
	}
done:
	if (p && p->n)
		queue_post(r, p, now);
	else
		relay_post_free(p);
	free(bad);
	return rc;
}

/* Claim once if allowed; returns rows claimed (0 idle) or < 0 on error. */
static int claim_once(struct relay *r, int64_t now)
{
	const struct config *cfg = r->cfg;
	struct store_claim c;
	int rc;

	rc = store_claim(r->store, cfg->splunk.batch.size, cfg->relay.lease_s,
	                 &c);
	if (rc)
		return relay_store_failed(rc, "claim", 0);
	if (!c.n) {
		/* Nothing there: poll again soon, backing off while idle. */
		int cap = cfg->splunk.batch.flush_interval_ms < IDLE_MAX_MS
		                  ? cfg->splunk.batch.flush_interval_ms
		                  : IDLE_MAX_MS;

		r->idle_ms = r->idle_ms ? r->idle_ms * 2 : IDLE_MIN_MS;
		if (r->idle_ms > cap)
			r->idle_ms = cap;
		r->next_claim_ms = now + r->idle_ms;
		return 0;
	}
	COUNT(r, events_claimed, c.n);
	/* A full claim means a backlog: claim again at once. */
	r->idle_ms = (int)c.n < cfg->splunk.batch.size ? IDLE_MIN_MS : 0;
	r->next_claim_ms = now + r->idle_ms;
	rc = build_posts(r, &c, now);
	store_claim_dispose(&c);
	return rc ? rc : (int)c.n;
}

/* -------------------------------------------------------------- sending */

static int submit_post(struct relay *r, struct post *p)
{
	const char *channel = NULL;
	int rc;

	p->endpoint = r->cur_endpoint;
	if (r->cfg->splunk.use_ack)
		channel =
		        acks_channel_guid(r->acks, r->ep_channel[p->endpoint]);
	p->tries++;
	rc = hec_post_events(r->hec, p->endpoint, channel, p->body.data,
	                     p->body.len, p);
	if (rc) {
		log_error("cannot start HEC request",
		          "batch=%" PRId64 " error=\"%s\"", p->batch_id,
		          relay_error_last());
		return rc;
	}
	r->posts_in_flight++;
	return 0;
}

/* Move due posts from the retry queue into flight while pace allows. */
static int dispatch(struct relay *r, int64_t now)
{
	struct post **pp = &r->retry_head;

	while (*pp) {
		struct post *p = *pp;

		if (!pace_may_send(&r->pace, now,
		                   r->posts_in_flight + r->polls_in_flight))
			return 0;
		if (p->not_before_ms > now) {
			pp = &p->next;
			continue;
		}
		if (!ratelimit_take(&r->rl, now))
			return 0;
		*pp = p->next;
		if (submit_post(r, p) != 0) {
			queue_post(r, p, now + 1000);
			return 0;
		}
	}
	return 0;
}

static bool may_claim(const struct relay *r, int64_t now)
{
	if (relay_stopping(r) || r->auth_failed || r->adopted_unpolled)
		return false;
	if (now < r->next_claim_ms || r->retry_head)
		return false;
	/* Bounded pending acks push back on claiming. */
	if (acks_pending_events(r->acks) >= r->max_pending_events)
		return false;
	return pace_may_send(&r->pace, now,
	                     r->posts_in_flight + r->polls_in_flight);
}

int relay_fill(struct relay *r, int64_t now)
{
	int rc = dispatch(r, now);

	while (!rc && may_claim(r, now)) {
		rc = claim_once(r, now);
		if (rc <= 0)
			break;
		rc = dispatch(r, now);
	}
	return rc < 0 ? rc : 0;
}

/* ------------------------------------------------------ event answers */

/* Release a post's rows to pending and drop it. */
static int release_post(struct relay *r,
                        struct post *p,
                        const char *outcome,
                        const char *reason,
                        bool dup,
                        const struct hec_result *res)
{
	int rows = 0;
	int rc = store_release(r->store, p->batch_id, outcome, reason, dup,
	                       res ? (int)res->http_status : -1,
	                       res ? res->resp.code : -1, &rows);

	if (rc)
		return relay_store_failed(rc, "release", p->batch_id);
	COUNT(r, events_released, rows);
	if (dup)
		COUNT(r, duplicates_risked, rows);
	relay_post_free(p);
	return 0;
}

static int on_accepted(struct relay *r,
                       struct post *p,
                       const struct hec_result *res,
                       int64_t now)
{
	const char *url = hec_endpoint_url(r->hec, p->endpoint);
	int ch = r->ep_channel[p->endpoint];
	int rows = 0, rc;

	pace_success(&r->pace, res->latency_s);
	if (res->outcome == HEC_OK_SLOW_DOWN)
		(void)pace_failure(&r->pace, now, true, -1, sys_random_u32());

	if (!r->cfg->splunk.use_ack || res->resp.ack_id < 0) {
		if (r->cfg->splunk.use_ack)
			log_warn("HEC answered without an ackId: the token has"
			         " indexer acknowledgement off; delivering on"
			         " 200",
			         "batch=%" PRId64, p->batch_id);
		rc = store_mark_delivered(r->store, &p->batch_id, 1, false,
		                          &rows);
		if (rc)
			return relay_store_failed(rc, "mark_delivered",
			                          p->batch_id);
		COUNT(r, events_sent, rows);
		COUNT(r, events_delivered, rows);
		relay_post_free(p);
		return 0;
	}
	/* Persist the ack id before anything else happens. */
	rc = store_mark_sent(r->store, p->batch_id, url,
	                     acks_channel_guid(r->acks, ch), res->resp.ack_id,
	                     r->cfg->relay.lease_s, &rows);
	if (rc)
		return relay_store_failed(rc, "mark_sent", p->batch_id);
	if (rows == 0) {
		/* Our lease was taken over: those rows will be sent again by
		 * whoever holds them now. */
		log_warn("lease lost before the send was recorded; rows may be"
		         " duplicated",
		         "batch=%" PRId64, p->batch_id);
		COUNT(r, duplicates_risked, p->n);
		relay_post_free(p);
		return 0;
	}
	COUNT(r, events_sent, rows);
	acks_add(r->acks, ch, (uint64_t)res->resp.ack_id, p->batch_id, rows,
	         now, now);
	relay_post_free(p);
	return 0;
}

/* 400 with invalid-event-number: HEC indexed the rows before it. */
static int on_rejected(struct relay *r,
                       struct post *p,
                       const struct hec_result *res,
                       int64_t now)
{
	int64_t bad = res->resp.invalid_event_number;
	char reason[512];
	int rc;

	/* Code 7 (bad index) reports one past the culprit. */
	if (res->resp.code == 7 && bad > 0)
		bad--;
	if (bad < 0 || (size_t)bad >= p->n) {
		relay_describe(reason, sizeof(reason), res);
		log_error("HEC rejected a batch with an out-of-range event"
		          " number; holding it",
		          "batch=%" PRId64 " answer=\"%s\"", p->batch_id,
		          reason);
		queue_post(r, p, now + AUTH_HOLD_MS);
		return 0;
	}
	if (bad > 0) {
		rc = store_mark_rows_delivered(r->store, p->batch_id, p->ids,
		                               (size_t)bad);
		if (rc)
			return relay_store_failed(rc, "mark_rows_delivered",
			                          p->batch_id);
		COUNT(r, events_sent, bad);
		COUNT(r, events_delivered, bad);
	}
	snprintf(reason, sizeof(reason), "rejected by HEC: code %d: %s",
	         res->resp.code, res->resp.text);
	rc = store_fail_rows(r->store, p->batch_id, &p->ids[bad], 1, reason,
	                     (int)res->http_status, res->resp.code,
	                     res->resp.text);
	if (rc)
		return relay_store_failed(rc, "fail_rows", p->batch_id);
	count_failed_rows(r, 1);
	log_warn("event rejected by HEC, dead-lettered",
	         "batch=%" PRId64 " row=%" PRId64
	         " code=%d prefix_delivered=%" PRId64,
	         p->batch_id, p->ids[bad], res->resp.code, bad);
	if ((size_t)bad + 1 < p->n) {
		int64_t newb = 0;
		struct post *q;

		rc = store_split(r->store, p->batch_id, &p->ids[bad + 1],
		                 p->n - (size_t)bad - 1, &newb);
		if (rc)
			return relay_store_failed(rc, "split", p->batch_id);
		if (newb) {
			q = post_take_tail(p, (size_t)bad + 1, newb);
			queue_post(r, q, now);
		}
	}
	/* What is left of p is delivered or failed: close its batch. */
	rc = store_release(r->store, p->batch_id, "prefix_commit", reason,
	                   false, (int)res->http_status, res->resp.code, NULL);
	if (rc)
		return relay_store_failed(rc, "release", p->batch_id);
	relay_post_free(p);
	return 0;
}

/* 413: split the batch in two, or dead-letter a lone event. */
static int on_too_large(struct relay *r,
                        struct post *p,
                        const struct hec_result *res,
                        int64_t now)
{
	int64_t newb = 0;
	int rc;

	if (p->n == 1) {
		rc = store_fail_rows(r->store, p->batch_id, p->ids, 1,
		                     "event too large for HEC: HTTP 413 for a"
		                     " request holding only this event",
		                     413, res->resp.code, res->resp.text);
		if (rc)
			return relay_store_failed(rc, "fail_rows", p->batch_id);
		count_failed_rows(r, 1);
		rc = store_release(r->store, p->batch_id, "too_large",
		                   "HTTP 413", false, 413, res->resp.code,
		                   NULL);
		if (rc)
			return relay_store_failed(rc, "release", p->batch_id);
		relay_post_free(p);
		return 0;
	}
	rc = store_split(r->store, p->batch_id, &p->ids[p->n / 2],
	                 p->n - p->n / 2, &newb);
	if (rc)
		return relay_store_failed(rc, "split", p->batch_id);
	log_warn("HEC answered 413: splitting the batch",
	         "batch=%" PRId64 " events=%zu new_batch=%" PRId64, p->batch_id,
	         p->n, newb);
	if (newb)
		queue_post(r, post_take_tail(p, p->n / 2, newb), now);
	queue_post(r, p, now);
	return 0;
}

/* Transient trouble: retry the same post later (or give it back when
 * stopping).  Failover moves to the next endpoint. */
static int on_retry(struct relay *r,
                    struct post *p,
                    const struct hec_result *res,
                    int64_t now)
{
	bool overload = res->http_status == 429 || res->http_status == 503;
	char reason[512];
	int64_t hold;

	relay_describe(reason, sizeof(reason), res);

	hold = pace_failure(&r->pace, now, overload, res->retry_after_s,
	                    sys_random_u32());
	if (r->n_endpoints > 1)
		r->cur_endpoint = (p->endpoint + 1) % r->n_endpoints;
	if (res->outcome == HEC_RETRY_MAYBE_SENT || relay_stopping(r)) {
		/* HEC may hold these rows already: give them back so the
		 * duplicate risk is counted in the batch audit. */
		bool dup = res->outcome == HEC_RETRY_MAYBE_SENT;

		log_warn("HEC request failed; rows returned to pending",
		         "batch=%" PRId64 " duplicates_risked=%s answer=\"%s\"",
		         p->batch_id, dup ? "true" : "false", reason);
		return release_post(r, p, dup ? "response_lost" : "shutdown",
		                    reason, dup, res);
	}
	log_warn("HEC request failed; retrying",
	         "batch=%" PRId64 " hold_ms=%" PRId64 " answer=\"%s\"",
	         p->batch_id, hold, reason);
	queue_post(r, p, now + hold);
	return 0;
}

/* 401/403: never dead-letter; hold everything and re-read the token. */
static int on_auth(struct relay *r,
                   struct post *p,
                   const struct hec_result *res,
                   int64_t now)
{
	if (!r->auth_failed)
		log_error("HEC refused the token; holding all sends until a"
		          " valid token is available",
		          "http=%ld code=%d", res->http_status, res->resp.code);
	r->auth_failed = true;
	r->token_reload = true; /* re-read the token file at once */
	if (relay_stopping(r))
		return release_post(r, p, "shutdown", "HEC refused the token",
		                    false, res);
	queue_post(r, p, now + AUTH_HOLD_MS);
	return 0;
}

/* Metrics of one HEC answer to an event request. */
static void count_answer(struct relay *r, const struct hec_result *res)
{
	static const enum metrics_outcome map[] = {
	        [HEC_OK] = METRICS_OK,
	        [HEC_OK_SLOW_DOWN] = METRICS_SLOW_DOWN,
	        [HEC_RETRY] = METRICS_RETRY,
	        [HEC_RETRY_MAYBE_SENT] = METRICS_MAYBE_SENT,
	        [HEC_AUTH] = METRICS_AUTH,
	        [HEC_REJECT_EVENT] = METRICS_REJECT,
	        [HEC_TOO_LARGE] = METRICS_TOO_LARGE,
	        [HEC_BAD_REQUEST] = METRICS_BAD_REQUEST,
	};

	COUNT(r, batches[map[res->outcome]], 1);
	COUNT(r, bytes_sent, res->body_bytes);
	metrics_count_status(&r->m, res->http_status);
	metrics_observe(&r->m.request_seconds, res->latency_s);
	atomic_store(&r->m.hec_up, res->http_status != 0);
	atomic_store(&r->m.token_ok, res->outcome != HEC_AUTH);
}

/*
 * libcurl re-sent the request on another connection after one died with
 * the body written (possibly more than once): HEC may have indexed each
 * earlier copy too, whatever this answer says (a lost answer to the second copy
 * is a further risk, counted by the release that follows).
 */
static int count_resends(struct relay *r, const struct post *p, int resends)
{
	size_t n = p->n * (size_t)resends;
	int rc = store_risk_duplicates(r->store, p->batch_id, (int)n);

	if (rc)
		return relay_store_failed(rc, "risk_duplicates", p->batch_id);
	COUNT(r, duplicates_risked, n);
	log_warn("request was re-sent on another connection; rows may be"
	         " duplicated",
	         "batch=%" PRId64 " events=%zu resends=%d", p->batch_id, p->n,
	         resends);
	return 0;
}

int relay_on_event_result(struct relay *r, struct hec_result *res, int64_t now)
{
	struct post *p = res->ctx;
	int rc;

	r->posts_in_flight--;
	count_answer(r, res);
	if (res->resends > 0) {
		rc = count_resends(r, p, res->resends);
		if (rc)
			return rc;
	}
	switch (res->outcome) {
	case HEC_OK:
	case HEC_OK_SLOW_DOWN:
		if (r->auth_failed) {
			log_info("HEC accepts the token again", NULL);
			r->auth_failed = false;
		}
		return on_accepted(r, p, res, now);
	case HEC_REJECT_EVENT:
		return on_rejected(r, p, res, now);
	case HEC_TOO_LARGE:
		return on_too_large(r, p, res, now);
	case HEC_AUTH:
		return on_auth(r, p, res, now);
	case HEC_BAD_REQUEST: {
		/* Not attributable to one event (channel, ack setting, path):
		 * a configuration problem.  Hold, never dead-letter. */
		char reason[512];

		relay_describe(reason, sizeof(reason), res);
		log_error("HEC refused the request; check the configuration",
		          "batch=%" PRId64 " answer=\"%s\"", p->batch_id,
		          reason);
		if (relay_stopping(r))
			return release_post(r, p, "shutdown", reason, false,
			                    res);
		queue_post(r, p, now + AUTH_HOLD_MS);
		return 0;
	}
	case HEC_RETRY:
	case HEC_RETRY_MAYBE_SENT:
		return on_retry(r, p, res, now);
	}
	return 0;
}

/* Give back every queued post that is not in flight (shutdown). */
void relay_release_queued(struct relay *r)
{
	while (r->retry_head) {
		struct post *p = r->retry_head;

		r->retry_head = p->next;
		(void)release_post(r, p, "shutdown",
		                   "relay stopped before sending", false, NULL);
	}
}
