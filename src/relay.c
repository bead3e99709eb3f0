/* SPDX-License-Identifier: Apache-2.0 */
/*
 * relay: the delivery loop (see relay.h for the pipeline).
 *
 * A `post` is one claimed batch on its way to HEC: its rows in body order,
 * the uncompressed body and each envelope's offset (so a 413 can split it
 * and a prefix commit can tell rows apart).  A post is either in flight,
 * or waiting in the retry queue for its back-off to pass (its lease kept
 * alive by the heartbeat), or gone: sent (its ack is then tracked by
 * `acks`), delivered, dead-lettered or released back to pending.
 *
 * Outages, timeouts and auth failures never dead-letter anything: the
 * batch is retried (same body, same rows) after a back-off, or released.
 * Only an event that HEC or our own validation rejects becomes `failed`.
 */
#include "relay.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "acks.h"
#include "config.h"
#include "event.h"
#include "hec.h"
#include "httpd.h"
#include "metrics.h"
#include "pace.h"
#include "ratelimit.h"
#include "store.h"
#include "token.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/sys.h"
#include "util/xalloc.h"

/* Idle claim polling: from IDLE_MIN_MS doubling up to IDLE_MAX_MS (or the
 * flush interval when shorter).  A full claim resets it to zero. */
#define IDLE_MIN_MS 5
#define IDLE_MAX_MS 100
/* First ack poll this soon after a send; backing off to poll_interval_ms. */
#define ACK_MIN_POLL_MS 20
/* Wait this long before retrying after 401/403 (token re-read each time). */
#define AUTH_HOLD_MS 5000
/* Background upkeep intervals. */
#define PURGE_EVERY_MS 60000
#define STATS_EVERY_MS 10000
#define HEALTH_EVERY_MS 30000
#define GAUGE_EVERY_MS 2000
#define TOKEN_CHECK_EVERY_MS 5000
/* Longest wait for acks during a graceful shutdown. */
#define SHUTDOWN_ACK_WAIT_MS 30000

struct post {
	int64_t batch_id;
	size_t n;
	int64_t *ids;
	size_t *off; /* n + 1 offsets into body */
	struct buf body;
	size_t endpoint;
	int64_t not_before_ms;
	int tries;
	struct post *next; /* retry queue link */
};

struct ackpoll {
	int ch;
	uint64_t epoch;
	uint64_t *ids;
	size_t n;
};

struct relay {
	const struct config *cfg;
	struct relay_signals *sig;
	struct store *store;
	struct hec *hec;
	struct acks *acks;
	struct pace pace;
	int *ep_channel; /* this run's ack channel per endpoint */
	size_t n_endpoints;
	size_t cur_endpoint;
	const char *const *indexed; /* NULL-terminated, borrowed from cfg */
	struct post *retry_head;
	int posts_in_flight;
	int polls_in_flight;
	int64_t next_claim_ms;
	int idle_ms;
	int64_t next_heartbeat_ms, next_recover_ms, next_purge_ms;
	int64_t next_stats_ms, next_health_ms, next_gauge_ms;
	int64_t shutdown_deadline_ms; /* 0 until a stop is requested */
	bool adopted_unpolled; /* hold claims until adopted acks were polled */
	bool auth_failed;
	size_t max_pending_events;
	struct metrics m;
	struct httpd *httpd;
	struct ratelimit rl;
	struct config *owned_cfg; /* the configuration after a reload */
	bool token_reload;
	int64_t next_token_check_ms;
	struct stat token_stat;
	bool token_stat_known;
	uint64_t token_hash; /* of the token in use (FNV-1a) */
	int64_t next_vault_ms, last_vault_ms;
	bool vault_down; /* warned once; info when it answers again */
};

/* Relaxed atomic add to a metrics counter. */
#define COUNT(r, field, n)                                                     \
	atomic_fetch_add_explicit(&(r)->m.field, (uint_fast64_t)(n),           \
	                          memory_order_relaxed)
#define GET(r, field) atomic_load_explicit(&(r)->m.field, memory_order_relaxed)

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

static void post_free(struct post *p)
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

static bool stopping(const struct relay *r)
{
	return r->sig->stop != 0;
}

static void count_failed_rows(struct relay *r, size_t n)
{
	COUNT(r, events_failed, n);
}

/* Describe a HEC answer for last_error / logs. */
static void describe(char *out, size_t size, const struct hec_result *res)
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
static int store_failed(int rc, const char *what, int64_t batch)
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
		post_free(p);
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
		return store_failed(rc, "claim", 0);
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
	if (stopping(r) || r->auth_failed || r->adopted_unpolled)
		return false;
	if (now < r->next_claim_ms || r->retry_head)
		return false;
	/* Bounded pending acks push back on claiming. */
	if (acks_pending_events(r->acks) >= r->max_pending_events)
		return false;
	return pace_may_send(&r->pace, now,
	                     r->posts_in_flight + r->polls_in_flight);
}

static int fill(struct relay *r, int64_t now)
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
		return store_failed(rc, "release", p->batch_id);
	COUNT(r, events_released, rows);
	if (dup)
		COUNT(r, duplicates_risked, rows);
	post_free(p);
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

	if (res->resent) {
		/* The HTTP client re-sent the request after a dead
		 * connection: HEC may have indexed the first copy too. */
		rc = store_risk_duplicates(r->store, p->batch_id, (int)p->n);
		if (rc)
			return store_failed(rc, "risk_duplicates", p->batch_id);
		COUNT(r, duplicates_risked, p->n);
		log_warn(
		        "request was re-sent on a fresh connection; rows may be"
		        " duplicated",
		        "batch=%" PRId64 " events=%zu", p->batch_id, p->n);
	}
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
			return store_failed(rc, "mark_delivered", p->batch_id);
		COUNT(r, events_sent, rows);
		COUNT(r, events_delivered, rows);
		post_free(p);
		return 0;
	}
	/* Persist the ack id before anything else happens. */
	rc = store_mark_sent(r->store, p->batch_id, url,
	                     acks_channel_guid(r->acks, ch), res->resp.ack_id,
	                     r->cfg->relay.lease_s, &rows);
	if (rc)
		return store_failed(rc, "mark_sent", p->batch_id);
	if (rows == 0) {
		/* Our lease was taken over: those rows will be sent again by
		 * whoever holds them now. */
		log_warn("lease lost before the send was recorded; rows may be"
		         " duplicated",
		         "batch=%" PRId64, p->batch_id);
		COUNT(r, duplicates_risked, p->n);
		post_free(p);
		return 0;
	}
	COUNT(r, events_sent, rows);
	acks_add(r->acks, ch, (uint64_t)res->resp.ack_id, p->batch_id, rows,
	         now, now);
	post_free(p);
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
		describe(reason, sizeof(reason), res);
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
			return store_failed(rc, "mark_rows_delivered",
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
		return store_failed(rc, "fail_rows", p->batch_id);
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
			return store_failed(rc, "split", p->batch_id);
		if (newb) {
			q = post_take_tail(p, (size_t)bad + 1, newb);
			queue_post(r, q, now);
		}
	}
	/* What is left of p is delivered or failed: close its batch. */
	rc = store_release(r->store, p->batch_id, "prefix_commit", reason,
	                   false, (int)res->http_status, res->resp.code, NULL);
	if (rc)
		return store_failed(rc, "release", p->batch_id);
	post_free(p);
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
			return store_failed(rc, "fail_rows", p->batch_id);
		count_failed_rows(r, 1);
		rc = store_release(r->store, p->batch_id, "too_large",
		                   "HTTP 413", false, 413, res->resp.code,
		                   NULL);
		if (rc)
			return store_failed(rc, "release", p->batch_id);
		post_free(p);
		return 0;
	}
	rc = store_split(r->store, p->batch_id, &p->ids[p->n / 2],
	                 p->n - p->n / 2, &newb);
	if (rc)
		return store_failed(rc, "split", p->batch_id);
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

	describe(reason, sizeof(reason), res);

	hold = pace_failure(&r->pace, now, overload, res->retry_after_s,
	                    sys_random_u32());
	if (r->n_endpoints > 1)
		r->cur_endpoint = (p->endpoint + 1) % r->n_endpoints;
	if (res->outcome == HEC_RETRY_MAYBE_SENT || stopping(r)) {
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
	if (stopping(r))
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

static int on_event_result(struct relay *r, struct hec_result *res, int64_t now)
{
	struct post *p = res->ctx;

	r->posts_in_flight--;
	count_answer(r, res);
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

		describe(reason, sizeof(reason), res);
		log_error("HEC refused the request; check the configuration",
		          "batch=%" PRId64 " answer=\"%s\"", p->batch_id,
		          reason);
		if (stopping(r))
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

/* --------------------------------------------------------------- acks */

static int start_polls(struct relay *r, int64_t now)
{
	uint64_t *ids, epoch;
	size_t n;
	int ch;

	while ((ch = acks_next_poll(r->acks, now, &ids, &n, &epoch)) >= 0) {
		struct ackpoll *ap = xcalloc(1, sizeof(*ap));

		ap->ch = ch;
		ap->epoch = epoch;
		ap->ids = ids;
		ap->n = n;
		if (hec_poll_acks(r->hec, acks_channel_endpoint(r->acks, ch),
		                  acks_channel_guid(r->acks, ch), ids, n,
		                  ap) != 0) {
			log_warn("cannot start ack poll", "error=\"%s\"",
			         relay_error_last());
			acks_poll_failed(r->acks, ch, now);
			free(ids);
			free(ap);
			break;
		}
		r->polls_in_flight++;
	}
	return 0;
}

static int on_ack_result(struct relay *r, struct hec_result *res, int64_t now)
{
	struct ackpoll *ap = res->ctx;
	int64_t *batches = NULL, *sent_ms = NULL;
	size_t nb;
	int rows = 0, rc = 0;

	r->polls_in_flight--;
	r->adopted_unpolled = false;
	COUNT(r, ack_polls, 1);
	atomic_store(&r->m.hec_up, res->http_status != 0);
	if (res->outcome != HEC_OK && res->outcome != HEC_OK_SLOW_DOWN) {
		char reason[512];

		describe(reason, sizeof(reason), res);
		log_warn("ack poll failed", "channel=%s answer=\"%s\"",
		         acks_channel_guid(r->acks, ap->ch), reason);
		acks_poll_failed(r->acks, ap->ch, now);
		if (res->outcome == HEC_AUTH)
			r->token_reload = true;
		goto done;
	}
	nb = acks_poll_done(r->acks, ap->ch, ap->epoch, res->resp.ack_ids,
	                    res->resp.acked, res->resp.n_acks, now, &batches,
	                    &sent_ms);
	if (!nb)
		goto done;
	for (size_t i = 0; i < nb; i++)
		metrics_observe(&r->m.ack_seconds,
		                (double)(now - sent_ms[i]) / 1000.0);
	/* An ack is reported true only once: record it at once. */
	rc = store_mark_delivered(r->store, batches, nb, true, &rows);
	if (rc) {
		store_failed(rc, "mark_delivered", batches[0]);
		goto done;
	}
	COUNT(r, events_delivered, rows);
	log_debug("batches acknowledged", "batches=%zu events=%d", nb, rows);
done:
	free(batches);
	free(sent_ms);
	free(ap->ids);
	free(ap);
	return rc;
}

/* Release batches whose ack will not come (timeout, channel reset). */
static int release_batches(struct relay *r,
                           int64_t *b,
                           size_t n,
                           const char *outcome,
                           const char *reason)
{
	int rc = 0;

	for (size_t i = 0; i < n && !rc; i++) {
		int rows = 0;

		rc = store_release(r->store, b[i], outcome, reason, true, -1,
		                   -1, &rows);
		if (rc) {
			store_failed(rc, "release", b[i]);
			break;
		}
		COUNT(r, events_released, rows);
		COUNT(r, duplicates_risked, rows);
		log_warn("no indexer ack: rows returned to pending and will be"
		         " sent again (possible duplicates)",
		         "batch=%" PRId64 " outcome=%s events=%d", b[i],
		         outcome, rows);
	}
	free(b);
	return rc;
}

/* -------------------------------------------------------------- upkeep */

static int
adopt(struct relay *r, struct store_adopted *a, size_t n, int64_t now)
{
	int rc = 0;

	for (size_t i = 0; i < n && !rc; i++) {
		size_t ep = r->n_endpoints;
		int rows = 0;

		for (size_t k = 0; k < r->n_endpoints; k++)
			if (strcmp(hec_endpoint_url(r->hec, k),
			           a[i].endpoint) == 0)
				ep = k;
		if (a[i].ack_id < 0) {
			/* Sent without acks (use_ack off) but not yet marked
			 * delivered when the relay stopped: HEC took it. */
			rc = store_mark_delivered(r->store, &a[i].batch_id, 1,
			                          false, &rows);
			continue;
		}
		if (ep == r->n_endpoints) {
			rc = store_release(r->store, a[i].batch_id,
			                   "endpoint_gone",
			                   "the endpoint that took this batch"
			                   " is no longer configured",
			                   true, -1, -1, &rows);
			COUNT(r, duplicates_risked, rows);
			continue;
		}
		acks_add(r->acks, acks_channel(r->acks, ep, a[i].channel),
		         (uint64_t)a[i].ack_id, a[i].batch_id, a[i].n_events,
		         now - (int64_t)(a[i].sent_age_s * 1000), now);
		r->adopted_unpolled = true;
	}
	if (n)
		log_info("resuming ack polling for persisted batches",
		         "batches=%zu", n);
	return rc;
}

static int recover(struct relay *r, bool startup, int64_t now)
{
	struct store_adopted *a = NULL;
	size_t n = 0;
	int rc =
	        store_recover(r->store, r->cfg->relay.lease_s, startup, &a, &n);

	if (rc)
		return store_failed(rc, "recover", 0);
	rc = adopt(r, a, n, now);
	free(a);
	return rc;
}

static void upkeep(struct relay *r, int64_t now)
{
	const int lease_ms = r->cfg->relay.lease_s * 1000;
	int64_t *b;
	size_t n;

	n = acks_take_expired(r->acks, now, &b);
	(void)release_batches(r, b, n, "ack_timeout",
	                      "no indexer acknowledgement within"
	                      " ack.timeout_s");
	n = acks_take_lost(r->acks, &b);
	(void)release_batches(r, b, n, "ack_lost",
	                      "HEC forgot the ack channel (restart?)");
	if (now >= r->next_heartbeat_ms) {
		if (store_heartbeat(r->store, r->cfg->relay.lease_s) != 0)
			store_failed(RELAY_ERR, "heartbeat", 0);
		r->next_heartbeat_ms = now + lease_ms / 3;
	}
	if (now >= r->next_recover_ms && !stopping(r)) {
		(void)recover(r, false, now);
		r->next_recover_ms = now + lease_ms / 2;
	}
	if (now >= r->next_purge_ms && r->cfg->retention.delivered_days > 0) {
		long rows = 0;

		if (store_purge(r->store, r->cfg->retention.delivered_days,
		                10000, &rows) == 0 &&
		    rows)
			log_info("purged delivered rows", "rows=%ld", rows);
		r->next_purge_ms = now + PURGE_EVERY_MS;
	}
	if (now >= r->next_health_ms) {
		/* /readyz reports HEC health even while no events flow. */
		for (size_t i = 0; i < r->n_endpoints; i++)
			if (hec_check_health(r->hec, i, NULL) == 0)
				r->polls_in_flight++;
		r->next_health_ms = now + HEALTH_EVERY_MS;
	}
	if (now >= r->next_gauge_ms) {
		long pending = 0;
		double age = 0;

		if (store_backlog(r->store, &pending, &age) == 0) {
			atomic_store(&r->m.pending_rows, pending);
			atomic_store(&r->m.oldest_pending_ms,
			             (int_fast64_t)(age * 1000));
		}
		r->next_gauge_ms = now + GAUGE_EVERY_MS;
	}
	if (now >= r->next_stats_ms) {
		log_info("relay stats",
		         "claimed=%" PRIu64 " sent=%" PRIu64
		         " delivered=%" PRIu64 " failed=%" PRIu64
		         " released=%" PRIu64 " duplicates_risked=%" PRIu64
		         " pending=%ld in_flight=%d concurrency=%d"
		         " pending_acks=%zu",
		         (uint64_t)GET(r, events_claimed),
		         (uint64_t)GET(r, events_sent),
		         (uint64_t)GET(r, events_delivered),
		         (uint64_t)GET(r, events_failed),
		         (uint64_t)GET(r, events_released),
		         (uint64_t)GET(r, duplicates_risked),
		         (long)GET(r, pending_rows), r->posts_in_flight,
		         pace_limit(&r->pace), acks_pending_batches(r->acks));
		r->next_stats_ms = now + STATS_EVERY_MS;
	}
}

/* ------------------------------------------------------------- tokens */

/* Load the current token from its source (token.h). */
static int load_token(const struct config *cfg, char **out)
{
	return token_load(cfg, out, NULL);
}

/* Tells tokens apart without keeping a second copy of the secret. */
static uint64_t token_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* Vault is read every vault.refresh_s, and after a 401/403 at most once
 * a second (several refused requests ask for one read). */
static bool vault_due(const struct relay *r, int64_t now)
{
	if (token_source_of(r->cfg) != TOKEN_VAULT)
		return false;
	if (now >= r->next_vault_ms)
		return true;
	return r->token_reload && now >= r->last_vault_ms + 1000;
}

/* Vault unreachable: keep the last good token, warn once per outage. */
static void token_source_failed(struct relay *r)
{
	if (token_source_of(r->cfg) != TOKEN_VAULT) {
		log_error("cannot reload the HEC token", "error=\"%s\"",
		          relay_error_last());
		return;
	}
	if (!r->vault_down)
		log_warn("cannot read the HEC token from Vault; keeping the"
		         " last good token until Vault answers",
		         "error=\"%s\"", relay_error_last());
	r->vault_down = true;
}

static void reload_token(struct relay *r, int64_t now)
{
	bool vault = token_source_of(r->cfg) == TOKEN_VAULT;
	char *tok = NULL;
	long version = -1;
	uint64_t h;

	if (vault && !vault_due(r, now))
		return; /* token_reload stays set: read when due */
	r->token_reload = false;
	if (vault) {
		r->last_vault_ms = now;
		r->next_vault_ms =
		        now + r->cfg->splunk.vault.refresh_s * 1000LL;
	}
	if (token_load(r->cfg, &tok, &version) != 0) {
		token_source_failed(r);
		return;
	}
	if (r->vault_down)
		log_info("Vault answers again", "version=%ld", version);
	r->vault_down = false;
	h = token_hash(tok);
	if (h == r->token_hash) {
		token_free(tok);
		return; /* unchanged: held posts keep their hold */
	}
	hec_set_token(r->hec, tok);
	token_free(tok);
	r->token_hash = h;
	COUNT(r, token_reloads, 1);
	log_info("HEC token reloaded", "source=%s version=%ld",
	         token_source_name(token_source_of(r->cfg)), version);
	/* Held posts (refused with the old token) go now with the new one. */
	for (struct post *p = r->retry_head; p; p = p->next)
		if (p->not_before_ms > now)
			p->not_before_ms = now;
}

/*
 * Kubernetes updates a mounted secret by swapping a symlink, so watch the
 * file's identity (inode, size, mtime through the link), every few seconds.
 */
static bool token_file_changed(struct relay *r, int64_t now)
{
	const char *path = r->cfg->splunk.hec_token_file;
	struct stat st;
	bool changed;

	if (!path || !*path || now < r->next_token_check_ms)
		return false;
	r->next_token_check_ms = now + TOKEN_CHECK_EVERY_MS;
	if (stat(path, &st) != 0)
		return false; /* mid-swap or gone: keep the token we have */
	changed = r->token_stat_known &&
	          (st.st_ino != r->token_stat.st_ino ||
	           st.st_size != r->token_stat.st_size ||
	           st.st_mtim.tv_sec != r->token_stat.st_mtim.tv_sec ||
	           st.st_mtim.tv_nsec != r->token_stat.st_mtim.tv_nsec);
	r->token_stat = st;
	r->token_stat_known = true;
	if (changed)
		log_info("HEC token file changed", "file=%s", path);
	return changed;
}

/* Apply what a new configuration may change without a restart. */
static void apply_config(struct relay *r, struct config *n, int64_t now)
{
	log_set_level(n->log.level);
	r->indexed = (const char *const *)n->splunk.indexed_fields.v;
	ratelimit_init(&r->rl, n->splunk.rate_limit.requests_per_second,
	               n->splunk.rate_limit.burst_size, now);
	r->pace.initial_ms = n->splunk.retry.initial_backoff_ms;
	r->pace.max_ms = n->splunk.retry.max_backoff_ms;
	r->pace.multiplier = n->splunk.retry.backoff_multiplier;
	config_free(r->owned_cfg); /* a previous reload's, if any */
	r->owned_cfg = n;
	r->cfg = n;
}

/*
 * SIGHUP: re-read the configuration file.  Keys that need a restart
 * (endpoints, TLS, database, ...) are reported, and then nothing but the
 * token is reloaded: a half-applied configuration would be worse.
 */
static void reload_config(struct relay *r, int64_t now)
{
	struct config *n = NULL;
	struct buf b;

	r->sig->reload = 0;
	r->token_reload = true;
	if (access(r->cfg->path, R_OK) != 0)
		return; /* running on embedded defaults: only the token */
	if (config_load(&n, r->cfg->path) != 0 ||
	    config_check_delivery(n) != 0) {
		log_error("configuration reload failed; keeping the running"
		          " configuration",
		          "error=\"%s\"", relay_error_last());
		config_free(n);
		return;
	}
	buf_init(&b, 4096);
	if (config_reload_blockers(r->cfg, n, &b) > 0) {
		for (char *c = b.data; *c; c++)
			if (*c == '\n')
				*c = c[1] ? ',' : '\0';
		log_warn("configuration reload: these keys need a restart; only"
		         " the token was reloaded",
		         "keys=%s", b.data);
		config_free(n);
	} else {
		apply_config(r, n, now);
		log_info("configuration reloaded", "file=%s", r->cfg->path);
	}
	buf_dispose(&b);
}

/* -------------------------------------------------------------- loop */

static int64_t next_wakeup(const struct relay *r, int64_t now)
{
	int64_t t = now + 1000, d;

	if (!stopping(r) && r->next_claim_ms < t)
		t = r->next_claim_ms;
	for (const struct post *p = r->retry_head; p; p = p->next)
		if (p->not_before_ms < t)
			t = p->not_before_ms;
	if (r->retry_head) {
		d = ratelimit_next_ms(&r->rl, now);
		if (d > now && d < t)
			t = d;
	}
	d = acks_next_deadline(r->acks);
	if (d >= 0 && d < t)
		t = d;
	if (r->pace.hold_until_ms > now && r->pace.hold_until_ms < t)
		t = r->pace.hold_until_ms;
	return t < now ? now : t;
}

/* Give back every queued post that is not in flight (shutdown). */
static void release_queued(struct relay *r)
{
	while (r->retry_head) {
		struct post *p = r->retry_head;

		r->retry_head = p->next;
		(void)release_post(r, p, "shutdown",
		                   "relay stopped before sending", false, NULL);
	}
}

static bool finished(struct relay *r, int64_t now)
{
	if (!stopping(r))
		return false;
	if (!r->shutdown_deadline_ms) {
		log_info("shutting down: no new claims; finishing requests and"
		         " polling acks",
		         "pending_acks=%zu", acks_pending_batches(r->acks));
		r->shutdown_deadline_ms = now + SHUTDOWN_ACK_WAIT_MS;
	}
	release_queued(r);
	if (r->posts_in_flight || r->polls_in_flight)
		return false;
	/* Sent batches left unacknowledged stay `sent` with their ack ids:
	 * the next start resumes polling them, so nothing is resent. */
	return acks_pending_batches(r->acks) == 0 ||
	       now >= r->shutdown_deadline_ms;
}

static void on_health_result(struct relay *r, const struct hec_result *res)
{
	r->polls_in_flight--;
	atomic_store(&r->m.hec_up, res->http_status == 200);
	if (res->http_status != 200)
		log_warn("HEC health check failed",
		         "http=%ld code=%d error=\"%s\"", res->http_status,
		         res->resp.code, res->error);
}

static int drain_results(struct relay *r, int64_t now)
{
	struct hec_result res;
	int rc = 0;

	while (hec_next_result(r->hec, &res)) {
		if (res.kind == HEC_REQ_EVENTS)
			rc = on_event_result(r, &res, now);
		else if (res.kind == HEC_REQ_ACK)
			rc = on_ack_result(r, &res, now);
		else
			on_health_result(r, &res);
		hec_result_dispose(&res);
		if (rc == RELAY_EAGAIN)
			return rc;
	}
	return 0;
}

static void drain_wake_fd(int fd)
{
	char sink[64];

	if (fd >= 0)
		while (read(fd, sink, sizeof(sink)) > 0)
			;
}

static void publish_gauges(struct relay *r, int64_t now)
{
	atomic_store(&r->m.last_loop_ms, now);
	atomic_store(&r->m.in_flight_requests, r->posts_in_flight);
	atomic_store(&r->m.pending_acks,
	             (int_fast64_t)acks_pending_batches(r->acks));
	atomic_store(&r->m.concurrency_limit, pace_limit(&r->pace));
	atomic_store(&r->m.db_reconnects, store_reconnects(r->store));
}

static int loop(struct relay *r)
{
	for (;;) {
		int64_t now = sys_now_ms(), wake;

		publish_gauges(r, now);
		drain_wake_fd(r->sig->wake_fd);
		if (r->sig->reload)
			reload_config(r, now);
		if (r->token_reload || token_file_changed(r, now) ||
		    vault_due(r, now))
			reload_token(r, now);
		upkeep(r, now);
		if (finished(r, now))
			return 0;
		if (fill(r, now) == RELAY_EAGAIN && stopping(r))
			return 0;
		start_polls(r, now);
		wake = next_wakeup(r, now);
		if (hec_wait(r->hec, (int)(wake - now), r->sig->wake_fd) != 0)
			log_warn("HEC transfer error", "error=\"%s\"",
			         relay_error_last());
		if (drain_results(r, sys_now_ms()) == RELAY_EAGAIN &&
		    stopping(r))
			return 0;
	}
}

/* ------------------------------------------------------------ set-up */

/* Config strings are "" when unset; hec wants NULL. */
static const char *nonempty(const char *s)
{
	return s && *s ? s : NULL;
}

static int open_hec(struct relay *r)
{
	const struct config *cfg = r->cfg;
	struct hec_opts o;
	char *tok = NULL;
	int rc;

	rc = load_token(cfg, &tok);
	if (rc)
		return rc;
	memset(&o, 0, sizeof(o));
	o.urls = (const char *const *)cfg->splunk.hec_url.v;
	o.n_urls = cfg->splunk.hec_url.n;
	o.token = tok;
	o.gzip = cfg->splunk.compression;
	o.gzip_level = 1;
	o.timeout_ms = cfg->splunk.connection.timeout_ms;
	o.connect_timeout_ms = cfg->splunk.connection.timeout_ms < 10000
	                               ? cfg->splunk.connection.timeout_ms
	                               : 10000;
	o.ca_cert_path = nonempty(cfg->splunk.tls.ca_cert_path);
	o.client_cert_path = nonempty(cfg->splunk.tls.client_cert_path);
	o.client_key_path = nonempty(cfg->splunk.tls.client_key_path);
	o.insecure_skip_verify = cfg->splunk.tls.insecure_skip_verify;
	o.http2 = cfg->splunk.tls.http2;
	o.user_agent = "clawdstrike-relay/" RELAY_VERSION_STRING;
	rc = hec_new(&r->hec, &o);
	r->token_hash = token_hash(tok);
	r->last_vault_ms = sys_now_ms();
	r->next_vault_ms =
	        r->last_vault_ms + cfg->splunk.vault.refresh_s * 1000LL;
	log_info("HEC token loaded", "source=%s",
	         token_source_name(token_source_of(cfg)));
	token_free(tok);
	return rc;
}

static void setup_channels(struct relay *r)
{
	r->n_endpoints = hec_endpoint_count(r->hec);
	r->ep_channel = xcalloc(r->n_endpoints, sizeof(*r->ep_channel));
	for (size_t i = 0; i < r->n_endpoints; i++) {
		char guid[37];

		sys_uuid_v4(guid);
		r->ep_channel[i] = acks_channel(r->acks, i, guid);
	}
}

static void teardown(struct relay *r)
{
	release_queued(r);
	while (r->retry_head) {
		struct post *p = r->retry_head;

		r->retry_head = p->next;
		post_free(p);
	}
	httpd_stop(r->httpd);
	hec_free(r->hec);
	acks_free(r->acks);
	store_free(r->store);
	free(r->ep_channel);
	config_free(r->owned_cfg);
}

static void on_db_health(bool up, void *arg)
{
	struct relay *r = arg;

	atomic_store(&r->m.db_up, up);
	/* Blocked on a reconnect is still alive, for /healthz. */
	atomic_store(&r->m.last_loop_ms, sys_now_ms());
}

static int start_httpd(struct relay *r)
{
	const char *listen = r->cfg->metrics.listen;
	int rc;

	if (!listen || !*listen)
		return 0;
	rc = httpd_start(&r->httpd, listen, &r->m);
	if (!rc)
		log_info("metrics listener ready", "listen=%s port=%d", listen,
		         httpd_port(r->httpd));
	return rc;
}

int relay_run(const struct config *cfg, struct relay_signals *sig)
{
	struct relay r;
	int rc;

	memset(&r, 0, sizeof(r));
	r.cfg = cfg;
	r.sig = sig;
	metrics_init(&r.m);
	atomic_store(&r.m.token_ok, true);
	atomic_store(&r.m.last_loop_ms, sys_now_ms());
	r.indexed = (const char *const *)cfg->splunk.indexed_fields.v;
	/* Back-pressure: at most this many events awaiting acks. */
	r.max_pending_events = (size_t)cfg->splunk.batch.size *
	                       (size_t)cfg->relay.max_in_flight * 64;
	ratelimit_init(&r.rl, cfg->splunk.rate_limit.requests_per_second,
	               cfg->splunk.rate_limit.burst_size, sys_now_ms());
	pace_init(&r.pace, cfg->relay.max_in_flight,
	          cfg->splunk.retry.initial_backoff_ms,
	          cfg->splunk.retry.max_backoff_ms,
	          cfg->splunk.retry.backoff_multiplier);
	r.acks = acks_new(ACK_MIN_POLL_MS, cfg->splunk.ack.poll_interval_ms,
	                  cfg->splunk.ack.timeout_s * 1000);
	rc = start_httpd(&r);
	if (rc)
		goto done;
	rc = store_open(&r.store, cfg->database.url, cfg->relay.instance_id,
	                &sig->stop);
	if (rc)
		goto done;
	atomic_store(&r.m.db_up, true);
	store_on_health(r.store, on_db_health, &r);
	rc = open_hec(&r);
	if (rc)
		goto done;
	setup_channels(&r);
	log_info("relay starting",
	         "instance=%s endpoints=%zu use_ack=%s"
	         " batch_size=%d max_in_flight=%d",
	         cfg->relay.instance_id, r.n_endpoints,
	         cfg->splunk.use_ack ? "true" : "false", cfg->splunk.batch.size,
	         cfg->relay.max_in_flight);
	/* Resume our own persisted acks before sending anything new. */
	rc = recover(&r, true, sys_now_ms());
	if (rc)
		goto done;
	r.next_recover_ms = sys_now_ms() + cfg->relay.lease_s * 500;
	rc = loop(&r);
	log_info("relay stopped",
	         "delivered=%" PRIu64 " failed=%" PRIu64
	         " duplicates_risked=%" PRIu64 " pending_acks=%zu",
	         (uint64_t)GET(&r, events_delivered),
	         (uint64_t)GET(&r, events_failed),
	         (uint64_t)GET(&r, duplicates_risked),
	         acks_pending_batches(r.acks));
done:
	teardown(&r);
	return rc;
}
