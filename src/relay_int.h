/* SPDX-License-Identifier: Apache-2.0 */
/*
 * relay_int: what the relay's own files share (relay.c: the loop, upkeep,
 * reloads and set-up; relay_send.c: claims and posts; relay_answer.c:
 * HEC's answers to them; relay_ack.c: ack polling, channels and
 * recovery).  Not a public interface:
 * everything here runs on the relay's one thread.
 *
 * A `post` is one claimed batch on its way to HEC: its rows in body order,
 * the uncompressed body and each envelope's offset (so a 413 can split it
 * and a prefix commit can tell rows apart), and the ack channel its batch
 * is recorded on.  A post is on the `posts` list, in flight or waiting for
 * its back-off to pass, or gone: sent (its ack is then tracked by `acks`),
 * delivered, dead-lettered or released back to pending.
 *
 * Claims run on the store's claim connection, at most one in flight
 * (store_claim_pending): the next one is sent as soon as a result is taken, so
 * it runs in the database while the relay builds, sends and books the previous
 * batch, and the loop wakes on its socket too.  Its batch is unknown until its
 * result is taken; it then becomes posts at once (or, when stopping, goes back
 * to pending as queued posts do).
 *
 * What this process holds is exactly: the posts, the batches `acks`
 * tracks, and `undelivered` (acked batches whose mark_delivered must be
 * retried).  The heartbeat renews those leases and no others, and drops
 * from memory whatever it finds taken back; anything dropped from memory
 * expires and is taken back by a relay within relay.lease_s.
 */
#ifndef RELAY_RELAY_INT_H
#define RELAY_RELAY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "hec.h"
#include "metrics.h"
#include "pace.h"
#include "ratelimit.h"
#include "relay.h"
#include "util/buf.h"

struct config;
struct store;
struct acks;
struct httpd;

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
/* After an ack id was issued twice on an endpoint's channel (another
 * indexer behind a balancer that is not sticky, or a restart), send one
 * request per channel there for this long before sharing again. */
#define SINGLE_CHANNEL_MS 600000
/* Free the slots of dead ack channels this often. */
#define CHANNEL_GC_EVERY_MS 10000
/* Retry a failed mark_delivered this often. */
#define UNDELIVERED_RETRY_MS 1000
/* Longest wait for acks during a graceful shutdown. */
#define SHUTDOWN_ACK_WAIT_MS 30000

struct post {
	int64_t batch_id;
	size_t n;
	int64_t *ids;
	size_t *off; /* n + 1 offsets into body */
	struct buf body;
	size_t endpoint;
	int ch;       /* ack channel recorded on the batch; -1: acks off */
	uint64_t seq; /* the request's number on that channel (acks) */
	int64_t not_before_ms;
	int tries;
	bool in_flight;
	struct post *next; /* posts list link */
};

/* n possible duplicates of batch's rows, not yet in the batch audit. */
struct risk {
	int64_t batch;
	size_t n;
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
	int64_t *ep_hold_ms;   /* per endpoint: Retry-After holds it until */
	bool *ep_bad_answer;   /* per endpoint: told of a bad 2xx (log once) */
	int64_t *ep_single_ms; /* per endpoint: one request per ack channel
	                          until then (ids were issued twice) */
	struct post *posts;    /* queued and in flight */
	int64_t *undelivered;  /* acked, mark_delivered to retry */
	size_t n_undelivered;
	struct risk *risks; /* duplicate counts to record again */
	size_t n_risks;
	int posts_in_flight;
	int polls_in_flight;
	int64_t next_claim_ms;
	int idle_ms;
	int claim_ch; /* the ack channel the claim in flight records; -1:
	               * acks off (in flight: store_claim_pending) */
	int64_t next_heartbeat_ms, next_recover_ms, next_purge_ms;
	int64_t next_undelivered_ms, next_channel_gc_ms;
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

static inline bool relay_stopping(const struct relay *r)
{
	return r->sig->stop != 0;
}

/* relay_send.c: claims, posts, sending */
/* Take a finished claim, start the next, send what is due. */
int relay_fill(struct relay *r, int64_t now);
/* The loop ended with a claim in flight: wait a while for its result and
 * give its rows back (if it never comes, their lease expires). */
void relay_settle_claim(struct relay *r);
void relay_post_free(struct post *p);
/* A copy of rows [from, to) of p as a new post of batch `batch`. */
struct post *relay_post_copy_range(const struct post *p,
                                   size_t from,
                                   size_t to,
                                   int64_t batch);
/* Keep only rows [0, n) of p. */
void relay_post_truncate(struct post *p, size_t n);
/* Put p on the posts list, to be sent at not_before or later. */
void relay_queue_post(struct relay *r, struct post *p, int64_t not_before);
void relay_unlink_post(struct relay *r, struct post *p);
/* Give a post's batch back before its request went out, and free p. */
void relay_abandon_post(struct relay *r, struct post *p, const char *why);

/* relay_answer.c: HEC's answers to event posts */
/* Count n possible duplicates on the batch (kept and retried by
 * relay_retry_risks until the statement works: the audit must hold every
 * one). */
void relay_risk_duplicates(struct relay *r, int64_t batch, size_t n);
void relay_retry_risks(struct relay *r);
int relay_on_event_result(struct relay *r, struct hec_result *res, int64_t now);
/* Give back every queued post that is not in flight (shutdown). */
void relay_release_queued(struct relay *r);
/* Drop the queued post of `batch` (its lease was taken back). */
bool relay_drop_post(struct relay *r, int64_t batch);
/* Describe a HEC answer for last_error and logs. */
void relay_describe(char *out, size_t size, const struct hec_result *res);
/* Log a failed store statement once, where it is decided; returns rc. */
int relay_store_failed(int rc, const char *what, int64_t batch);

/* relay_ack.c */
int relay_start_polls(struct relay *r, int64_t now);
int relay_on_ack_result(struct relay *r, struct hec_result *res, int64_t now);
int relay_release_batches(struct relay *r,
                          int64_t *b,
                          size_t n,
                          const char *outcome,
                          const char *reason);
/*
 * Channel ch proves nothing any more: release `batch` (if > 0) and its
 * sent batches as possible duplicates, stop tracking them, and give the
 * endpoint a fresh channel for new requests.
 */
void relay_retire_channel(struct relay *r,
                          int ch,
                          int64_t batch,
                          const char *outcome,
                          const char *reason);
/* Record acked batches delivered (sent_ms, if not NULL, for the ack
 * latency), keeping those that fail for a retry. */
void relay_deliver(struct relay *r,
                   const int64_t *batches,
                   const int64_t *sent_ms,
                   size_t n,
                   int64_t now);
/* A fresh ack channel for endpoint ep's new requests. */
void relay_new_channel(struct relay *r, size_t ep);
/* Request `seq` on channel ch was answered: deliver what that cleared. */
void relay_acks_cleared(struct relay *r, int ch, uint64_t seq, int64_t now);
/* Release expired (at startup: our own unsent) batches, adopt sent ones. */
int relay_recover(struct relay *r, bool startup, int64_t now);

#endif
