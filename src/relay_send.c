/* SPDX-License-Identifier: Apache-2.0 */
/*
 * relay_send: from claimed rows to requests on the wire — validate and
 * format events into posts (rows that do not fit move to a batch of their
 * own; a lone event bigger than a batch goes alone), record each batch's
 * ack channel, and send as pace, Retry-After holds and the rate limit
 * allow.  What HEC answers is relay_answer.c's.
 */
#include <inttypes.h>
#include <poll.h>
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
struct post *relay_post_copy_range(const struct post *p,
                                   size_t from,
                                   size_t to,
                                   int64_t batch)
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
void relay_post_truncate(struct post *p, size_t n)
{
	buf_truncate(&p->body, p->off[n]);
	p->n = n;
}

/* ------------------------------------------------------------ helpers */

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

void relay_queue_post(struct relay *r, struct post *p, int64_t not_before)
{
	struct post **tail = &r->posts;

	p->not_before_ms = not_before;
	p->in_flight = false;
	while (*tail)
		tail = &(*tail)->next;
	p->next = NULL;
	*tail = p;
}

void relay_unlink_post(struct relay *r, struct post *p)
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
		relay_unlink_post(r, p);
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
void relay_abandon_post(struct relay *r, struct post *p, const char *why)
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
			COUNT(r, events_failed, 1);
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
			relay_queue_post(r, p, now);
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
		relay_abandon_post(r, p, relay_error_last());
	} else if (p && p->n) {
		relay_queue_post(r, p, now);
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
	if (relay_stopping(r) || r->auth_failed || r->adopted_unpolled ||
	    store_claim_pending(r->store))
		return false;
	if (now < r->next_claim_ms || any_queued(r))
		return false;
	/* Bounded pending acks push back on claiming. */
	if (acks_pending_events(r->acks) >= r->max_pending_events)
		return false;
	return pace_may_send(&r->pace, now,
	                     r->posts_in_flight + r->polls_in_flight);
}

/* Send a claim on the claim connection, recording the current
 * endpoint's ack channel as the batch's. */
static int start_claim(struct relay *r)
{
	const struct config *cfg = r->cfg;
	int ch = cfg->splunk.use_ack ? r->ep_channel[r->cur_endpoint] : -1;
	int rc;

	rc = store_claim_start(r->store, cfg->splunk.batch.size,
	                       cfg->relay.lease_s,
	                       ch >= 0 ? acks_channel_guid(r->acks, ch) : NULL);
	if (rc)
		return relay_store_failed(rc, "claim", 0);
	r->claim_ch = ch;
	return 0;
}

/* When to claim again after a claim that brought n rows. */
static void pace_claims(struct relay *r, size_t n, int64_t now)
{
	const struct config *cfg = r->cfg;
	int cap = cfg->splunk.batch.flush_interval_ms < IDLE_MAX_MS
	                  ? cfg->splunk.batch.flush_interval_ms
	                  : IDLE_MAX_MS;

	if (!n) {
		/* Nothing there: poll again soon, backing off while idle. */
		r->idle_ms = r->idle_ms ? r->idle_ms * 2 : IDLE_MIN_MS;
		if (r->idle_ms > cap)
			r->idle_ms = cap;
	} else {
		/* A full claim means a backlog: claim again at once. */
		r->idle_ms = (int)n < cfg->splunk.batch.size ? IDLE_MIN_MS : 0;
	}
	r->next_claim_ms = now + r->idle_ms;
}

/*
 * Take the claim in flight if its result is in: 1 with its rows in *c
 * (dispose it), 0 when it is still running or claimed nothing, < 0 when it
 * failed (its outcome is unknown: rows it claimed expire and are taken
 * back).
 */
static int take_claim(struct relay *r, struct store_claim *c, int64_t now)
{
	int rc;

	memset(c, 0, sizeof(*c));
	if (!store_claim_pending(r->store))
		return 0;
	rc = store_claim_finish(r->store, c);
	if (rc == RELAY_EAGAIN)
		return 0;
	if (rc)
		return relay_store_failed(rc, "claim", 0);
	pace_claims(r, c->n, now);
	if (!c->n)
		return 0;
	COUNT(r, events_claimed, c->n);
	return 1;
}

/* Stopping: a claim's rows go back to pending the way queued posts do. */
static void give_back(struct relay *r, const struct store_claim *c, int ch)
{
	struct post *p = post_new(c->batch_id, c->n, 0);

	for (size_t i = 0; i < c->n; i++) {
		p->ids[p->n++] = c->rows[i].id;
		p->off[p->n] = 0; /* no body: it never goes out */
	}
	p->endpoint = r->cur_endpoint;
	p->ch = ch;
	relay_queue_post(r, p, 0);
	relay_release_queued(r);
}

/*
 * A claim whose result is in becomes posts; the next claim is sent first,
 * when allowed, so it runs while this one is built and sent.  Returns rows
 * claimed (0: none yet) or < 0 on error.
 */
static int finish_claim(struct relay *r, int64_t now)
{
	int ch = r->claim_ch;
	struct store_claim c;
	int rc = take_claim(r, &c, now);

	if (rc <= 0)
		return rc;
	if (relay_stopping(r)) {
		give_back(r, &c, ch);
	} else {
		if (may_claim(r, now))
			(void)start_claim(r); /* a failure is logged; retried */
		rc = build_posts(r, &c, ch, now);
	}
	store_claim_dispose(&c);
	return rc ? rc : (int)c.n;
}

void relay_settle_claim(struct relay *r)
{
	struct store_claim c;
	int ch = r->claim_ch;

	/* Fenced: the batch is not ours to touch. */
	for (int i = 0;
	     i < 50 && store_claim_pending(r->store) && !store_fenced(r->store);
	     i++) {
		struct pollfd pfd = {store_claim_socket(r->store), POLLIN, 0};

		(void)poll(&pfd, 1, 100);
		if (take_claim(r, &c, sys_now_ms()) > 0)
			give_back(r, &c, ch);
		store_claim_dispose(&c);
	}
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
			relay_queue_post(r, p, now + 1000);
			return 0;
		}
		if (rc == 0) { /* in flight: back on the list, at its end */
			relay_queue_post(r, p, p->not_before_ms);
			p->in_flight = true;
		}
	}
	return 0;
}

int relay_fill(struct relay *r, int64_t now)
{
	/* A finished claim's posts go out at once; the next claim may
	 * have been sent meanwhile (finish_claim). */
	int rc = finish_claim(r, now);

	if (dispatch(r, now) == 0 && rc >= 0 && may_claim(r, now))
		rc = start_claim(r);
	return rc < 0 ? rc : 0;
}
