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

/* A copy of rows [from, to) of p as a new post with batch id `batch`. */
static struct post *
post_copy_range(const struct post *p, size_t from, size_t to, int64_t batch)
{
	struct post *q = post_new(batch, to - from, p->body.max);
	size_t base = p->off[from];

	for (size_t i = from; i < to; i++) {
		q->ids[q->n] = p->ids[i];
		q->off[q->n + 1] = p->off[i + 1] - base;
		q->n++;
	}
	if (buf_append(&q->body, p->body.data + base, p->off[to] - base) != 0)
		abort(); /* same cap, smaller body: cannot happen */
	q->endpoint = p->endpoint;
	q->ch = p->ch;
	return q;
}

/* Keep only rows [0, n) of p. */
static void post_truncate(struct post *p, size_t n)
{
	buf_truncate(&p->body, p->off[n]);
	p->n = n;
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
	if (rc == RELAY_EFULL && p->n == 0) {
		/* Bigger than a batch but an event the database took: it goes
		 * alone, in a request of up to max_content_length, and the
		 * post is full after it. */
		p->body.max = (size_t)cfg->splunk.max_content_length;
		rc = event_format_envelope(ev, &eo, &p->body);
		if (rc == RELAY_EFULL)
			relay_error_set(
			        "event too large for HEC: its envelope"
			        " exceeds max_content_length (%zu bytes)",
			        p->body.max);
		if (rc == RELAY_EFULL)
			rc = RELAY_EINVAL;
		else if (!rc)
			p->body.max = p->body.len;
	}
	event_free(ev);
	if (rc)
		return rc;
	p->ids[p->n] = row->id;
	p->off[++p->n] = p->body.len;
	return 0;
}

static void queue_post(struct relay *r, struct post *p, int64_t not_before)
{
	struct post **tail = &r->posts;

	p->not_before_ms = not_before;
	p->in_flight = false;
	while (*tail)
		tail = &(*tail)->next;
	p->next = NULL;
	*tail = p;
}

static void unlink_post(struct relay *r, struct post *p)
{
	for (struct post **pp = &r->posts; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			p->next = NULL;
			return;
		}
}

bool relay_drop_post(struct relay *r, int64_t batch)
{
	for (struct post *p = r->posts; p; p = p->next) {
		if (p->batch_id != batch || p->in_flight)
			continue;
		unlink_post(r, p);
		relay_post_free(p);
		return true;
	}
	return false;
}

/*
 * Something went wrong with a post's batch before its request went out (a
 * failed statement while it was built, its lease lost): give its rows back
 * now if we can.  If even that fails, nobody holds the batch any more, so
 * its lease expires and a relay takes it back within relay.lease_s.
 */
static void abandon_post(struct relay *r, struct post *p, const char *why)
{
	int rows = 0;

	log_error("batch abandoned before its request went out; rows go back"
	          " to pending",
	          "batch=%" PRId64 " reason=\"%s\"", p->batch_id, why);
	if (store_release(r->store, p->batch_id, "abandoned", why, false, -1,
	                  -1, &rows) == 0)
		COUNT(r, events_released, rows);
	else
		relay_store_failed(RELAY_ERR, "release", p->batch_id);
	relay_post_free(p);
}

/*
 * Turn a claim into posts: invalid events are dead-lettered, and rows that
 * do not fit one body move to a new batch of their own.
 */
static int
build_posts(struct relay *r, struct store_claim *c, int ch, int64_t now)
{
	struct post *p = post_new(c->batch_id, c->n,
	                          (size_t)r->cfg->splunk.batch.max_bytes);
	int64_t *bad = xmalloc(c->n * sizeof(*bad));
	size_t n_bad = 0;
	int rc = 0;

	p->endpoint = r->cur_endpoint;
	p->ch = ch;
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
			p = post_new(newb, rest,
			             (size_t)r->cfg->splunk.batch.max_bytes);
			p->endpoint = r->cur_endpoint;
			p->ch = ch;
			i--; /* retry this row in the new post */
			continue;
		}
		if (rc)
			goto done;
	}
done:
	if (rc && p) {
		/* Rows after the failed statement never made it into the
		 * body: none of this batch goes out. */
		relay_store_failed(rc, "build", p->batch_id);
		abandon_post(r, p, relay_error_last());
	} else if (p && p->n) {
		queue_post(r, p, now);
	} else if (p) {
		/* Every row was dead-lettered: close the empty batch. */
		if (store_release(r->store, p->batch_id, "rejected",
		                  "every event failed validation", false, -1,
		                  -1, NULL) != 0)
			relay_store_failed(RELAY_ERR, "release", p->batch_id);
		relay_post_free(p);
	}
	free(bad);
	return rc;
}

/* Claim once if allowed; returns rows claimed (0 idle) or < 0 on error. */
static int claim_once(struct relay *r, int64_t now)
{
	const struct config *cfg = r->cfg;
	int ch = cfg->splunk.use_ack ? r->ep_channel[r->cur_endpoint] : -1;
	struct store_claim c;
	int rc;

	rc = store_claim(r->store, cfg->splunk.batch.size, cfg->relay.lease_s,
	                 ch >= 0 ? acks_channel_guid(r->acks, ch) : NULL, &c);
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
	rc = build_posts(r, &c, ch, now);
	store_claim_dispose(&c);
	return rc ? rc : (int)c.n;
}

/* -------------------------------------------------------------- sending */

/* The endpoint to send to now: the current one, or the next that no
 * Retry-After holds; false when every endpoint is held. */
static bool pick_endpoint(struct relay *r, int64_t now, size_t *ep)
{
	for (size_t k = 0; k < r->n_endpoints; k++) {
		size_t i = (r->cur_endpoint + k) % r->n_endpoints;

		if (r->ep_hold_ms[i] <= now) {
			*ep = i;
			return true;
		}
	}
	return false;
}

/*
 * Send p to endpoint ep.  Its batch is recorded on the channel the request
 * goes out on before it goes (recovery must know which channel an
 * unanswered request may have taken an id on).  Returns 0 when sent, 1
 * when the batch turned out not to be ours any more (p is freed), < 0 on
 * error.
 */
static int submit_post(struct relay *r, struct post *p, size_t ep)
{
	const char *channel = NULL;
	int rc;

	if (r->cfg->splunk.use_ack) {
		int ch = r->ep_channel[ep];

		channel = acks_channel_guid(r->acks, ch);
		if (ch != p->ch) {
			bool ours = false;

			rc = store_set_channel(r->store, p->batch_id, channel,
			                       &ours);
			if (rc)
				return relay_store_failed(rc, "set_channel",
				                          p->batch_id);
			if (!ours) {
				log_warn("lease lost before sending; dropping"
				         " the batch",
				         "batch=%" PRId64, p->batch_id);
				relay_post_free(p);
				return 1;
			}
			p->ch = ch;
		}
	}
	p->endpoint = ep;
	p->tries++;
	rc = hec_post_events(r->hec, p->endpoint, channel, p->body.data,
	                     p->body.len, p);
	if (!rc && channel) {
		p->seq = acks_request_started(r->acks, p->ch);
		/* One request per channel while ids are being issued twice
		 * on this endpoint: no id can then answer for another. */
		if (r->ep_single_ms[ep] > sys_now_ms())
			relay_new_channel(r, ep);
	}
	if (rc) {
		log_error("cannot start HEC request",
		          "batch=%" PRId64 " error=\"%s\"", p->batch_id,
		          relay_error_last());
		return rc;
	}
	r->posts_in_flight++;
	p->in_flight = true;
	return 0;
}

/* Move due posts into flight while pace allows. */
static int dispatch(struct relay *r, int64_t now)
{
	struct post **pp = &r->posts;
	size_t ep;

	while (*pp) {
		struct post *p = *pp;
		int rc;

		if (!pace_may_send(&r->pace, now,
		                   r->posts_in_flight + r->polls_in_flight))
			return 0;
		if (p->in_flight || p->not_before_ms > now) {
			pp = &p->next;
			continue;
		}
		if (!pick_endpoint(r, now, &ep) || !ratelimit_take(&r->rl, now))
			return 0;
		*pp = p->next;
		p->next = NULL;
		rc = submit_post(r, p, ep);
		if (rc < 0) {
			queue_post(r, p, now + 1000);
			return 0;
		}
		if (rc == 0) { /* in flight: back on the list, at its end */
			queue_post(r, p, p->not_before_ms);
			p->in_flight = true;
		}
	}
	return 0;
}

/* A post waits to be sent (not in flight). */
static bool any_queued(const struct relay *r)
{
	for (const struct post *p = r->posts; p; p = p->next)
		if (!p->in_flight)
			return true;
	return false;
}

static bool may_claim(const struct relay *r, int64_t now)
{
	if (relay_stopping(r) || r->auth_failed || r->adopted_unpolled)
		return false;
	if (now < r->next_claim_ms || any_queued(r))
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
	if (dup_risk) {
		rc = store_risk_duplicates(r->store, newb, (int)(to - from));
		if (rc)
			relay_store_failed(rc, "risk_duplicates", newb);
		COUNT(r, duplicates_risked, to - from);
	}
	queue_post(r, post_copy_range(p, from, to, newb), now);
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
		queue_post(r, p, now + AUTH_HOLD_MS);
		return 0;
	}
	lo = code7 && bad > 0 ? (size_t)bad - 1 : (size_t)bad;
	hi = code7 && (size_t)bad < p->n ? (size_t)bad + 1 : lo + 1;
	if (lo > 0) {
		rc = store_mark_rows_delivered(r->store, p->batch_id, p->ids,
		                               lo, false, &rows);
		if (rc)
			return relay_store_failed(rc, "mark_rows_delivered",
			                          p->batch_id);
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
		if (rc)
			return relay_store_failed(rc, "fail_rows", p->batch_id);
		count_failed_rows(r, 1);
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
	post_truncate(p, lo);
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
		count_failed_rows(r, 1);
		return release_post(r, p, "too_large", "HTTP 413", false, res);
	}
	rc = split_range(r, p, half, p->n, false, now);
	if (rc) {
		/* Not ours any more (never re-posted), or the split failed:
		 * either way this process lets the batch go. */
		if (rc > 0)
			lease_lost(r, p, false);
		else
			abandon_post(r, p, relay_error_last());
		return rc < 0 ? rc : 0;
	}
	log_warn("HEC answered 413: splitting the batch",
	         "batch=%" PRId64 " events=%zu", p->batch_id, p->n);
	post_truncate(p, half);
	queue_post(r, p, now);
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
	hold = pace_failure(&r->pace, now, overload, sys_random_u32());
	hold_endpoint(r, p->endpoint, res, now);
	if (r->n_endpoints > 1)
		r->cur_endpoint = (p->endpoint + 1) % r->n_endpoints;
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
	if (relay_stopping(r))
		return release_post(r, p, "shutdown", reason, false, res);
	log_warn("HEC request failed; retrying",
	         "batch=%" PRId64 " hold_ms=%" PRId64 " answer=\"%s\"",
	         p->batch_id, hold, reason);
	queue_post(r, p, now + hold);
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
	if (res->resp.json && res->resp.code == 0) {
		if (store_risk_duplicates(r->store, p->batch_id, (int)p->n) !=
		    0)
			relay_store_failed(RELAY_ERR, "risk_duplicates",
			                   p->batch_id);
		COUNT(r, duplicates_risked, p->n);
	}
	if (p->ch >= 0)
		relay_retire_channel(
		        r, p->ch, 0, "unconfirmable",
		        "a 2xx without HEC's answer on the channel");
	if (r->n_endpoints > 1)
		r->cur_endpoint = (p->endpoint + 1) % r->n_endpoints;
	if (relay_stopping(r))
		return release_post(r, p, "shutdown", "not HEC's answer", false,
		                    res);
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
	if (relay_stopping(r))
		return release_post(r, p, "shutdown", reason, false, res);
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
	if (store_risk_duplicates(r->store, p->batch_id, (int)n) != 0)
		relay_store_failed(RELAY_ERR, "risk_duplicates", p->batch_id);
	COUNT(r, duplicates_risked, n);
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
	unlink_post(r, p);
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
