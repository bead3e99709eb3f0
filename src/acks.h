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
 * HEC restarts forget ack ids and start again from 0 on the same channel.
 * An ack id given to us twice, or one far below the highest issued on the
 * channel (further than the requests that can be in flight at once, whose
 * answers may arrive in any order), therefore means the channel was reset:
 * every id pending on it is lost and its batches must be resent, and an answer
 * to a poll sent before the reset could describe the new ids, so it is ignored
 * (a per-channel epoch).
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
 * channel ch.  If the id shows HEC reset the channel, the batches that were
 * pending on it are moved to the lost list (see acks_take_lost).
 */
void acks_add(struct acks *a,
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

/* Batches lost to a channel reset (removed; caller frees). */
size_t acks_take_lost(struct acks *a, int64_t **batches);

/* Earliest time something needs doing (a poll or a timeout), or -1. */
int64_t acks_next_deadline(const struct acks *a);

#endif
