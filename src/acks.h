/* SPDX-License-Identifier: Apache-2.0 */
/*
 * acks: the indexer-acknowledgement tracker (pure logic, time passed in).
 *
 * Each ack channel (a GUID on one HEC endpoint) holds the ack ids HEC gave
 * our sent batches.  The tracker decides when to poll each channel (soon
 * after a send, then backing off to the maximum interval while nothing
 * comes back true, so a channel with pending ids is never idle long), which
 * ids go in one poll (all pending ids of the channel), which batches a poll
 * answer delivers, and which batches timed out.
 *
 * An ack id proves something only on a channel whose every issued id we
 * know.  When one is unknown (an answer lost after the body went out, a
 * client resend), or HEC shows it reset the channel (restarts forget ack
 * ids and start again from 0 on the same channel: an id given to us twice,
 * or one far below the highest issued, further than the requests that can
 * be in flight at once), the ids pending from before are unconfirmable.
 * For a reset the caller gives those back and starts the channel's history
 * again from the id that showed it (acks_reset); for an unknown id it
 * retires the channel (acks_retire) and sends new requests on a fresh one.
 * Either way answers to polls sent before are ignored (a per-channel epoch).
 */
#ifndef RELAY_ACKS_H
#define RELAY_ACKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct acks;

struct acks *acks_new(int min_poll_ms, int max_poll_ms, int timeout_ms);
void acks_free(struct acks *a);

/* Find or create the channel (endpoint, guid); returns its handle. */
int acks_channel(struct acks *a, size_t endpoint, const char *guid);
const char *acks_channel_guid(const struct acks *a, int ch);
size_t acks_channel_endpoint(const struct acks *a, int ch);

/*
 * Track batch `batch_id` (n_events rows) sent at sent_ms with ack_id on
 * channel ch.  Returns false, tracking nothing, when the id cannot be
 * credited to the batch: the channel is retired, or the id shows HEC reset
 * it (the caller must retire it).
 */
bool acks_add(struct acks *a,
              int ch,
              uint64_t ack_id,
              int64_t batch_id,
              int n_events,
              int64_t sent_ms,
              int64_t now_ms);

/* Batches awaiting an ack, and their events. */
size_t acks_pending_batches(const struct acks *a);
size_t acks_pending_events(const struct acks *a);

/*
 * A channel due for a poll at now_ms: returns its handle and the ids to ask
 * for (*ids, caller frees; *epoch to hand back with the answer), or -1 when
 * none is due.  The channel counts as polling until acks_poll_done/failed.
 */
int acks_next_poll(struct acks *a,
                   int64_t now_ms,
                   uint64_t **ids,
                   size_t *n,
                   uint64_t *epoch);

/*
 * A poll answered: returns the batches delivered (ids answered true) in
 * *batches (caller frees) and removes them; *sent_ms (if sent_ms is not
 * NULL; caller frees) gets each one's send time.  Answers from an older epoch
 * are ignored (returns 0).
 */
size_t acks_poll_done(struct acks *a,
                      int ch,
                      uint64_t epoch,
                      const uint64_t *ids,
                      const bool *acked,
                      size_t n,
                      int64_t now_ms,
                      int64_t **batches,
                      int64_t **sent_ms);

/* A poll failed (no answer, or an error status): back off. */
void acks_poll_failed(struct acks *a, int ch, int64_t now_ms);

/* Batches whose ack did not come within the timeout (removed; free). */
size_t acks_take_expired(struct acks *a, int64_t now_ms, int64_t **batches);

/* HEC reset channel ch: drop its pending batches (the caller gives them
 * back) and forget which ids were issued, so the id that showed the reset
 * can be added. */
void acks_reset(struct acks *a, int ch);

/*
 * Retire channel ch: drop its pending batches (the caller gives them back;
 * acks_channel_batches lists them first), ignore answers to polls already
 * sent, and credit no id on it again.
 */
void acks_retire(struct acks *a, int ch);
bool acks_retired(const struct acks *a, int ch);

/* Batch ids pending on channel ch (ch < 0: on every channel), appended to
 * *out (grown with xrealloc) from *n on. */
void acks_batches(const struct acks *a, int ch, int64_t **out, size_t *n);

/* Stop tracking `batch` (its lease was taken back); false if not tracked. */
bool acks_forget(struct acks *a, int64_t batch);

/* Earliest time something needs doing (a poll or a timeout), or -1. */
int64_t acks_next_deadline(const struct acks *a);

#endif
