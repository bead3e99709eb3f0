/* SPDX-License-Identifier: Apache-2.0 */
/*
 * relay_ack: indexer acknowledgements — poll each channel's pending ids,
 * mark acknowledged batches delivered at once (HEC reports a `true` only
 * once), give back batches whose ack will not come, and recover persisted
 * sent batches after a restart or a dead relay's lease.
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

/* --------------------------------------------------------------- acks */

int relay_start_polls(struct relay *r, int64_t now)
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

int relay_on_ack_result(struct relay *r, struct hec_result *res, int64_t now)
{
	struct ackpoll *ap = res->ctx;
	int64_t *batches = NULL, *sent_ms = NULL;
	size_t nb;
	int rc = 0;

	r->polls_in_flight--;
	r->adopted_unpolled = false;
	COUNT(r, ack_polls, 1);
	atomic_store(&r->m.hec_up,
	             res->http_status != 0 && res->outcome != HEC_BAD_ANSWER);
	if (res->outcome != HEC_OK && res->outcome != HEC_OK_SLOW_DOWN) {
		char reason[512];

		relay_describe(reason, sizeof(reason), res);
		/* An HTML 200 to a poll confirms nothing. */
		log_warn("ack poll failed",
		         "channel=%s answer=\"%s\" body=\"%s\"",
		         acks_channel_guid(r->acks, ap->ch), reason,
		         res->body_head);
		acks_poll_failed(r->acks, ap->ch, now);
		if (res->outcome == HEC_AUTH)
			r->token_reload = true;
		goto done;
	}
	nb = acks_poll_done(r->acks, ap->ch, ap->epoch, res->resp.ack_ids,
	                    res->resp.acked, res->resp.n_acks, now, &batches,
	                    &sent_ms);
	/* An ack is reported true only once: record it at once. */
	if (nb)
		relay_deliver(r, batches, sent_ms, nb, now);
done:
	free(batches);
	free(sent_ms);
	free(ap->ids);
	free(ap);
	return rc;
}

void relay_acks_cleared(struct relay *r, int ch, uint64_t seq, int64_t now)
{
	int64_t *b, *sent_ms;
	size_t n = acks_request_done(r->acks, ch, seq, &b, &sent_ms);

	if (n)
		relay_deliver(r, b, sent_ms, n, now);
	free(b);
	free(sent_ms);
}

void relay_deliver(struct relay *r,
                   const int64_t *batches,
                   const int64_t *sent_ms,
                   size_t n,
                   int64_t now)
{
	int rows = 0;

	for (size_t i = 0; sent_ms && i < n; i++)
		metrics_observe(&r->m.ack_seconds,
		                (double)(now - sent_ms[i]) / 1000.0);
	if (store_mark_delivered(r->store, batches, n, &rows) != 0) {
		/* Held (and heartbeated) until it works: HEC will not say
		 * true again. */
		relay_store_failed(RELAY_ERR, "mark_delivered", batches[0]);
		r->undelivered = xrealloc(r->undelivered,
		                          (r->n_undelivered + n) *
		                                  sizeof(*r->undelivered));
		memcpy(r->undelivered + r->n_undelivered, batches,
		       n * sizeof(*batches));
		r->n_undelivered += n;
		return;
	}
	COUNT(r, events_delivered, rows);
	log_debug("batches acknowledged", "batches=%zu events=%d", n, rows);
}

void relay_retire_channel(struct relay *r,
                          int ch,
                          int64_t batch,
                          const char *outcome,
                          const char *reason)
{
	int rows = 0;

	if (store_retire_channel(r->store, acks_channel_guid(r->acks, ch),
	                         batch, outcome, reason, &rows) != 0)
		relay_store_failed(RELAY_ERR, "retire_channel", batch);
	COUNT(r, events_released, rows);
	COUNT(r, duplicates_risked, rows);
	log_warn("ack channel retired: its unconfirmed rows go back to pending"
	         " (possible duplicates)",
	         "channel=%s batch=%" PRId64 " outcome=%s events=%d"
	         " reason=\"%s\"",
	         acks_channel_guid(r->acks, ch), batch, outcome, rows, reason);
	/* Whether or not the statement worked, nothing on the channel is
	 * credited again: what SQL did not release expires unheld. */
	acks_retire(r->acks, ch);
	for (size_t ep = 0; ep < r->n_endpoints; ep++)
		if (r->ep_channel[ep] == ch)
			relay_new_channel(r, ep);
}

void relay_new_channel(struct relay *r, size_t ep)
{
	char guid[37];

	sys_uuid_v4(guid);
	r->ep_channel[ep] = acks_channel(r->acks, ep, guid);
}

/* Release batches whose ack will not come (timeout, channel reset). */
int relay_release_batches(struct relay *r,
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
			relay_store_failed(rc, "release", b[i]);
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
		int ch;

		if (a[i].ack_id < 0 || ep == r->n_endpoints) {
			/* No ack id to prove it (a v1 send without acks), or
			 * the endpoint that took it is gone: send again. */
			rc = store_release(
			        r->store, a[i].batch_id, "unconfirmable",
			        a[i].ack_id < 0 ? "sent without an ack id"
			                        : "the endpoint that took this"
			                          " batch is no longer"
			                          " configured",
			        true, -1, -1, &rows);
			COUNT(r, duplicates_risked, rows);
			continue;
		}
		ch = acks_channel(r->acks, ep, a[i].channel);
		if (acks_retired(r->acks, ch))
			continue; /* retire_channel released it already */
		if (acks_add(r->acks, ch, (uint64_t)a[i].ack_id, a[i].batch_id,
		             a[i].n_events,
		             now - (int64_t)(a[i].sent_age_s * 1000), now))
			r->adopted_unpolled = true;
		else
			relay_retire_channel(r, ch, a[i].batch_id, "ack_reset",
			                     "persisted ack ids show HEC reset"
			                     " the channel");
	}
	if (n)
		log_info("resuming ack polling for persisted batches",
		         "batches=%zu", n);
	return rc;
}

int relay_recover(struct relay *r, bool startup, int64_t now)
{
	struct store_adopted *a = NULL;
	size_t n = 0;
	int rc =
	        store_recover(r->store, r->cfg->relay.lease_s, startup, &a, &n);

	if (rc)
		return relay_store_failed(rc, "recover", 0);
	rc = adopt(r, a, n, now);
	free(a);
	return rc;
}
