/* SPDX-License-Identifier: Apache-2.0 */
/*
 * relay_answer: what the relay does with HEC's answer to an event post
 * (see relay_int.h): record the ack id (or deliver, without acks), split,
 * prefix-commit, hold, retry or release, and retire the ack channel when
 * the answer leaves an id unknown.  Only an event that HEC rejects is
 * dead-lettered; an answer that is not HEC's proves nothing and is held.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay_int.h"

#include "acks.h"
#include "config.h"
#include "store.h"
#include "util/log.h"
#include "util/sys.h"
#include "util/xalloc.h"

/* Release a post's rows to pending and drop it. */
static int release_post(struct relay *r,
                        struct post *p,
                        const char *outcome,
                        const char *reason,
                        bool dup,
                        const struct hec_result *res)
{
	int64_t batch = p->batch_id;
	int rows = 0;
	int rc = store_release(r->store, batch, outcome, reason, dup,
	                       res ? (int)res->http_status : -1,
	                       res ? res->resp.code : -1, &rows);

	relay_post_free(p);
	if (rc)
		return relay_store_failed(rc, "release", batch);
	COUNT(r, events_released, rows);
	if (dup)
		COUNT(r, duplicates_risked, rows);
	return 0;
}

static bool record_risk(struct relay *r, int64_t batch, size_t n)
{
	if (store_risk_duplicates(r->store, batch, (int)n) == 0)
		return true;
	relay_store_failed(RELAY_ERR, "risk_duplicates", batch);
	return false;
}

void relay_risk_duplicates(struct relay *r, int64_t batch, size_t n)
{
	COUNT(r, duplicates_risked, n);
	if (record_risk(r, batch, n))
		return;
	r->risks = xrealloc(r->risks, (r->n_risks + 1) * sizeof(*r->risks));
	r->risks[r->n_risks++] = (struct risk){batch, n};
}

void relay_retry_risks(struct relay *r)
{
	size_t keep = 0;

	for (size_t i = 0; i < r->n_risks; i++)
		if (!record_risk(r, r->risks[i].batch, r->risks[i].n))
			r->risks[keep++] = r->risks[i];
	r->n_risks = keep;
}

/* The batch is no longer ours (taken back by a relay after its lease
 * expired): whoever holds it now sends it; HEC may hold it too. */
static void lease_lost(struct relay *r, struct post *p, bool maybe_indexed)
{
	log_warn("lease lost: the batch was taken back; dropping it",
	         "batch=%" PRId64 " maybe_indexed=%s", p->batch_id,
	         maybe_indexed ? "true" : "false");
	if (maybe_indexed)
		COUNT(r, duplicates_risked, p->n);
	relay_post_free(p);
}

/* use_ack off: HEC's JSON success to exactly these rows delivers them. */
static int deliver_unacked(struct relay *r, struct post *p)
{
	int rows = 0;
	int rc = store_mark_rows_delivered(r->store, p->batch_id, p->ids, p->n,
	                                   true, &rows);

	if (rc) {
		/* The batch stays claimed and held by nobody: it expires
		 * and is re-sent (a counted duplicate). */
		relay_store_failed(rc, "mark_rows_delivered", p->batch_id);
		relay_post_free(p);
		return rc;
	}
	if (rows == 0) {
		lease_lost(r, p, true);
		return 0;
	}
	COUNT(r, events_sent, rows);
	COUNT(r, events_delivered, rows);
	relay_post_free(p);
	return 0;
}

static int on_accepted(struct relay *r,
                       struct post *p,
                       const struct hec_result *res,
                       int64_t now)
{
	const char *url = hec_endpoint_url(r->hec, p->endpoint);
	int ch = p->ch, rows = 0, rc;

	pace_success(&r->pace, res->latency_s);
	r->ep_bad_answer[p->endpoint] = false;
	if (res->outcome == HEC_OK_SLOW_DOWN)
		(void)pace_failure(&r->pace, now, true, sys_random_u32());
	if (!r->cfg->splunk.use_ack)
		return deliver_unacked(r, p);
	if (acks_retired(r->acks, ch)) {
		/* An id on a channel that proves nothing cannot be credited. */
		relay_retire_channel(r, ch, p->batch_id, "unconfirmable",
		                     "answered on a retired ack channel");
		relay_post_free(p);
		return 0;
	}
	/* Persist the ack id before anything else happens. */
	rc = store_mark_sent(r->store, p->batch_id, p->ids, p->n, url,
	                     acks_channel_guid(r->acks, ch), res->resp.ack_id,
	                     r->cfg->relay.lease_s, &rows);
	if (rc) {
		/* The id is unrecorded: to recovery, this request's id is
		 * unknown, so its channel proves nothing. */
		relay_store_failed(rc, "mark_sent", p->batch_id);
		relay_retire_channel(r, ch, p->batch_id, "unconfirmable",
		                     "ack id could not be recorded");
		relay_post_free(p);
		return rc;
	}
	if (rows == 0) {
		/* Taken back by recovery, which retired our channel. */
		relay_retire_channel(r, ch, 0, "unconfirmable",
		                     "a batch on the channel was taken back");
		lease_lost(r, p, true);
		return 0;
	}
	if ((size_t)rows != p->n)
		log_error("mark_sent moved fewer rows than the request held",
		          "batch=%" PRId64 " rows=%d events=%zu", p->batch_id,
		          rows, p->n);
	COUNT(r, events_sent, rows);
	if (!acks_add(r->acks, ch, (uint64_t)res->resp.ack_id, p->batch_id,
	              rows, now, now)) {
		log_warn("HEC issued an ack id twice on the channel (a restart,"
		         " or HEC nodes behind a balancer that is not sticky);"
		         " sending one request per ack channel for a while",
		         "endpoint=%s batch=%" PRId64 " ack_id=%" PRId64, url,
		         p->batch_id, res->resp.ack_id);
		relay_retire_channel(r, ch, p->batch_id, "ack_reset",
		                     "HEC reissued an ack id on the channel");
		r->ep_single_ms[p->endpoint] = now + SINGLE_CHANNEL_MS;
	}
	relay_post_free(p);
	return 0;
}

/*
 * Split rows [from, to) of p into a batch of their own, queued to be sent;
 * dup_risk counts them as possible duplicates (HEC may hold them).  Returns
 * 0, 1 when the batch is no longer ours, < 0 on error.
 */
static int split_range(struct relay *r,
                       struct post *p,
                       size_t from,
                       size_t to,
                       bool dup_risk,
                       int64_t now)
{
	int64_t newb = 0;
	int rc = store_split(r->store, p->batch_id, &p->ids[from], to - from,
	                     &newb);

	if (rc)
		return relay_store_failed(rc, "split", p->batch_id);
	if (!newb)
		return 1;
	if (dup_risk)
		relay_risk_duplicates(r, newb, to - from);
	relay_queue_post(r, relay_post_copy_range(p, from, to, newb), now);
	return 0;
}

/*
 * 400 with invalid-event-number N: HEC indexed the rows before the bad one
 * and dropped it and the rest.  Code 7 (bad index) is reported either at
 * the culprit or one past it, depending on the Splunk version: rows before
 * N-1 are indexed either way, and rows N-1 and N (the suspects) are sent
 * again one by one, so the bad one is named alone and an indexed good one
 * is never dead-lettered (it may be a counted duplicate).  A lone suspect
 * is the culprit.
 */
static int on_rejected(struct relay *r,
                       struct post *p,
                       const struct hec_result *res,
                       int64_t now)
{
	int64_t bad = res->resp.invalid_event_number;
	bool code7 = res->resp.code == 7;
	size_t lo, hi;
	int rows = 0, rc;
	char reason[512];

	if (bad < 0 || (size_t)bad > p->n || (!code7 && (size_t)bad == p->n)) {
		relay_describe(reason, sizeof(reason), res);
		log_error("HEC rejected a batch with an out-of-range event"
		          " number; holding it",
		          "batch=%" PRId64 " answer=\"%s\"", p->batch_id,
		          reason);
		relay_queue_post(r, p, now + AUTH_HOLD_MS);
		return 0;
	}
	lo = code7 && bad > 0 ? (size_t)bad - 1 : (size_t)bad;
	hi = code7 && (size_t)bad < p->n ? (size_t)bad + 1 : lo + 1;
	if (lo > 0) {
		rc = store_mark_rows_delivered(r->store, p->batch_id, p->ids,
		                               lo, false, &rows);
		if (rc) {
			/* Nobody holds the batch now: it expires and is
			 * taken back. */
			relay_store_failed(rc, "mark_rows_delivered",
			                   p->batch_id);
			relay_post_free(p);
			return rc;
		}
		if (rows == 0) {
			lease_lost(r, p, true);
			return 0;
		}
		COUNT(r, events_sent, rows);
		COUNT(r, events_delivered, rows);
	}
	snprintf(reason, sizeof(reason), "rejected by HEC: code %d: %s",
	         res->resp.code, res->resp.text);
	if (hi - lo == 1) {
		rc = store_fail_rows(r->store, p->batch_id, &p->ids[lo], 1,
		                     reason, (int)res->http_status,
		                     res->resp.code, res->resp.text);
		if (rc) {
			relay_store_failed(rc, "fail_rows", p->batch_id);
			relay_post_free(p);
			return rc;
		}
		COUNT(r, events_failed, 1);
		log_warn("event rejected by HEC, dead-lettered",
		         "batch=%" PRId64 " row=%" PRId64
		         " code=%d prefix_delivered=%zu",
		         p->batch_id, p->ids[lo], res->resp.code, lo);
	} else {
		log_warn("HEC rejected an event's index; sending the two"
		         " suspects one by one",
		         "batch=%" PRId64 " rows=%" PRId64 ",%" PRId64
		         " prefix_delivered=%zu",
		         p->batch_id, p->ids[lo], p->ids[lo + 1], lo);
		for (size_t i = lo; i < hi; i++) {
			/* The one before N is indexed if N was exact. */
			rc = split_range(r, p, i, i + 1, i < (size_t)bad, now);
			if (rc)
				goto split_failed;
		}
	}
	if (hi < p->n) {
		rc = split_range(r, p, hi, p->n, false, now);
		if (rc)
			goto split_failed;
	}
	/* What is left of p is delivered or failed: close its batch. */
	relay_post_truncate(p, lo);
	return release_post(r, p, lo ? "prefix_commit" : "rejected", reason,
	                    false, res);
split_failed:
	if (rc > 0) {
		lease_lost(r, p, false);
		return 0;
	}
	relay_post_free(p);
	return rc;
}

/* 413: split the batch in two, or dead-letter a lone event. */
static int on_too_large(struct relay *r,
                        struct post *p,
                        const struct hec_result *res,
                        int64_t now)
{
	size_t half = p->n / 2;
	int rc;

	if (p->n == 1) {
		rc = store_fail_rows(r->store, p->batch_id, p->ids, 1,
		                     "event too large for HEC: HTTP 413 for a"
		                     " request holding only this event",
		                     413, res->resp.code, res->resp.text);
		if (rc) {
			relay_store_failed(rc, "fail_rows", p->batch_id);
			relay_post_free(p);
			return rc;
		}
		COUNT(r, events_failed, 1);
		return release_post(r, p, "too_large", "HTTP 413", false, res);
	}
	rc = split_range(r, p, half, p->n, false, now);
	if (rc) {
		/* Not ours any more (never re-posted), or the split failed:
		 * either way this process lets the batch go. */
		if (rc > 0)
			lease_lost(r, p, false);
		else
			relay_abandon_post(r, p, relay_error_last());
		return rc < 0 ? rc : 0;
	}
	log_warn("HEC answered 413: splitting the batch",
	         "batch=%" PRId64 " events=%zu", p->batch_id, p->n);
	relay_post_truncate(p, half);
	relay_queue_post(r, p, now);
	return 0;
}

/* Hold endpoint ep for what its Retry-After asked, within the cap. */
static void hold_endpoint(struct relay *r,
                          size_t ep,
                          const struct hec_result *res,
                          int64_t now)
{
	int64_t ms = pace_retry_after_ms(res->retry_after_s,
	                                 r->cfg->splunk.retry.max_backoff_ms);

	if (ms > 0 && now + ms > r->ep_hold_ms[ep])
		r->ep_hold_ms[ep] = now + ms;
}

/* With several endpoints, the next request tries the next one. */
static void fail_over(struct relay *r, const struct post *p)
{
	if (r->n_endpoints > 1)
		r->cur_endpoint = (p->endpoint + 1) % r->n_endpoints;
}

/*
 * Transient trouble: retry the same post later; failover moves to the
 * next endpoint.  (A held post is given back at shutdown by
 * relay_release_queued, like any queued one.)
 */
static int on_retry(struct relay *r,
                    struct post *p,
                    const struct hec_result *res,
                    int64_t now)
{
	bool overload = res->http_status == 429 || res->http_status == 503;
	char reason[512];
	int64_t hold;

	relay_describe(reason, sizeof(reason), res);
	hold = pace_failure(&r->pace, now, overload, sys_random_u32());
	hold_endpoint(r, p->endpoint, res, now);
	fail_over(r, p);
	if (res->outcome == HEC_RETRY_MAYBE_SENT) {
		/* HEC may hold these rows, under an ack id we will never
		 * learn: the channel proves nothing from now on. */
		log_warn("HEC request failed after the body went out; rows"
		         " returned to pending (possible duplicates)",
		         "batch=%" PRId64 " answer=\"%s\"", p->batch_id,
		         reason);
		if (p->ch >= 0) {
			relay_retire_channel(r, p->ch, p->batch_id,
			                     "response_lost", reason);
			relay_post_free(p);
			return 0;
		}
		return release_post(r, p, "response_lost", reason, true, res);
	}
	log_warn("HEC request failed; retrying",
	         "batch=%" PRId64 " hold_ms=%" PRId64 " answer=\"%s\"",
	         p->batch_id, hold, reason);
	relay_queue_post(r, p, now + hold);
	return 0;
}

/*
 * A 2xx that is not HEC's answer (a maintenance page, a token with acks
 * off): it proves nothing, so hold and retry, never deliver or dead-letter.
 * If it was HEC's JSON, HEC took the events (a counted duplicate when they
 * go again); any id it may have issued is unknown, so the channel retires.
 */
static int on_bad_answer(struct relay *r,
                         struct post *p,
                         const struct hec_result *res,
                         int64_t now)
{
	const char *url = hec_endpoint_url(r->hec, p->endpoint);
	int64_t hold = pace_failure(&r->pace, now, false, sys_random_u32());

	if (!r->ep_bad_answer[p->endpoint])
		log_error("HEC endpoint answered 2xx without HEC's answer"
		          " (with use_ack an integer ackId); holding events,"
		          " nothing is delivered on it",
		          "endpoint=%s http=%ld code=%d body=\"%s\"", url,
		          res->http_status, res->resp.code, res->body_head);
	r->ep_bad_answer[p->endpoint] = true;
	if (res->resp.json && res->resp.code == 0)
		relay_risk_duplicates(r, p->batch_id, p->n);
	if (p->ch >= 0)
		relay_retire_channel(
		        r, p->ch, 0, "unconfirmable",
		        "a 2xx without HEC's answer on the channel");
	fail_over(r, p);
	relay_queue_post(r, p, now + hold);
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
	relay_queue_post(r, p, now + AUTH_HOLD_MS);
	return 0;
}

/* Not attributable to one event (channel, ack setting, path): a
 * configuration problem.  Hold, never dead-letter. */
static int on_bad_request(struct relay *r,
                          struct post *p,
                          const struct hec_result *res,
                          int64_t now)
{
	char reason[512];

	relay_describe(reason, sizeof(reason), res);
	log_error("HEC refused the request; check the configuration",
	          "batch=%" PRId64 " answer=\"%s\"", p->batch_id, reason);
	relay_queue_post(r, p, now + AUTH_HOLD_MS);
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
	        [HEC_BAD_ANSWER] = METRICS_BAD_ANSWER,
	};

	COUNT(r, batches[map[res->outcome]], 1);
	COUNT(r, bytes_sent, res->body_bytes);
	metrics_count_status(&r->m, res->http_status);
	metrics_observe(&r->m.request_seconds, res->latency_s);
	atomic_store(&r->m.hec_up,
	             res->http_status != 0 && res->outcome != HEC_BAD_ANSWER);
	atomic_store(&r->m.token_ok, res->outcome != HEC_AUTH);
}

/*
 * libcurl re-sent the request on another connection after one died with
 * the body written (possibly more than once): HEC may have indexed each
 * earlier copy too, whatever this answer says.  With acks, each earlier
 * copy may also have taken an ack id we never saw: the channel retires and
 * the batch goes again (counted).  Returns true when that consumed p.
 */
static bool on_resent(struct relay *r, struct post *p, int resends)
{
	size_t n = p->n * (size_t)resends;

	log_warn("request was re-sent on another connection; rows may be"
	         " duplicated",
	         "batch=%" PRId64 " events=%zu resends=%d", p->batch_id, p->n,
	         resends);
	/* Each earlier copy may be in HEC, whatever happens to this one. */
	relay_risk_duplicates(r, p->batch_id, n);
	if (p->ch >= 0) {
		relay_retire_channel(r, p->ch, p->batch_id, "resent",
		                     "the HTTP client re-sent the request");
		relay_post_free(p);
		return true;
	}
	return false;
}

static int handle_event_result(struct relay *r,
                               struct post *p,
                               struct hec_result *res,
                               int64_t now)
{
	r->posts_in_flight--;
	relay_unlink_post(r, p);
	p->in_flight = false;
	count_answer(r, res);
	if (res->resends > 0 && on_resent(r, p, res->resends))
		return 0;
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
	case HEC_BAD_REQUEST:
		return on_bad_request(r, p, res, now);
	case HEC_BAD_ANSWER:
		return on_bad_answer(r, p, res, now);
	case HEC_RETRY:
	case HEC_RETRY_MAYBE_SENT:
		return on_retry(r, p, res, now);
	}
	return 0;
}

int relay_on_event_result(struct relay *r, struct hec_result *res, int64_t now)
{
	struct post *p = res->ctx;
	int ch = r->cfg->splunk.use_ack ? p->ch : -1;
	uint64_t seq = p->seq;
	int rc = handle_event_result(r, p, res, now);

	/* After the answer's own id was checked: a true held back for it
	 * may count now. */
	if (ch >= 0)
		relay_acks_cleared(r, ch, seq, now);
	return rc;
}

/* Give back every queued post that is not in flight (shutdown). */
void relay_release_queued(struct relay *r)
{
	struct post **pp = &r->posts;

	while (*pp) {
		struct post *p = *pp;

		if (p->in_flight) {
			pp = &p->next;
			continue;
		}
		*pp = p->next;
		(void)release_post(r, p, "shutdown",
		                   "relay stopped before sending", false, NULL);
	}
}
