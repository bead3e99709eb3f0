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
 * be in flight at once), every id on it is unconfirmable: the caller
 * retires the channel (acks_retire), gives its pending batches back and
 * sends new requests on a fresh one; answers to polls sent before are
 * ignored (a per-channel epoch).
 *
 * A `true` is credited only when no request could still contradict it: a
 * request that was unanswered when the poll answer came may hold the same
 * id (after a reset, or from another indexer behind a non-sticky
 * balancer), and only its answer tells.  So the tracker numbers the
 * requests on each channel (acks_request_started/done) and holds a `true`
 * until every request started before it was processed has been answered.
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

/*
 * Channels live as handles (slots); acks_gc frees every slot that has
 * nothing pending, no request open and no poll out, unless keep[slot] (the
 * caller still refers to it: an endpoint's current channel, a queued post),
 * so a relay opening a channel per request does not grow without bound.
 * keep has acks_channel_slots() entries.
 */
size_t acks_channel_slots(const struct acks *a);
void acks_gc(struct acks *a, const bool *keep);
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
 * A poll answered: returns the batches delivered (ids answered true, with
 * no request unanswered that could contradict them) in *batches and their
 * send times in *sent_ms (caller frees both) and removes them; the other
 * true ones are held for acks_request_done.  Answers from an older epoch
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

/* A request goes out on channel ch; returns its number on the channel. */
uint64_t acks_request_started(struct acks *a, int ch);

/*
 * Request `seq` on ch was answered (whatever the answer; call after
 * acks_add for its id).  Returns the batches whose `true` that cleared,
 * removed, with their send times (*batches, *sent_ms: caller frees).
 */
size_t acks_request_done(struct acks *a,
                         int ch,
                         uint64_t seq,
                         int64_t **batches,
                         int64_t **sent_ms);

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
