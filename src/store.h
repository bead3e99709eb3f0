/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store: the relay's view of the outbox — one call per state transition,
 * each a single short statement on the clawdstrike.* functions (see
 * sql/30_relay.sql), never a transaction held across HTTP.
 *
 * Connection loss is handled here, once: a statement that fails with a
 * connection-class error is retried after reconnecting, with capped
 * backoff, until it succeeds or `stop` (if set) becomes non-zero.  The SQL
 * functions are idempotent or fenced by batch id and status, so running a
 * statement again after an unknown outcome is safe; work whose result was
 * lost (a claim, an adoption) is held by nobody, so it expires and is taken
 * back (the heartbeat renews only batches the caller names).
 *
 * Each store has a run token, the owner of the batches this process claims
 * or adopts, and holds its instance_id for as long as its session lives
 * (clawdstrike.register): a second live process with the same instance_id
 * is refused at store_open, and a process that finds its name taken after
 * a reconnect is fenced (store_fenced; every call fails).  Main-loop
 * thread only.
 *
 * Claims alone use a second connection, without the instance lock (see
 * store_claim_start), so that the next claim runs while the relay books
 * the previous one; a claim cut by a lost connection is not re-run but
 * fails, and that connection is reconnected before the next claim.
 */
#ifndef RELAY_STORE_H
#define RELAY_STORE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

struct store;
struct db_result;

/* Connect (the first attempt must succeed; later losses are retried). */
int store_open(struct store **out,
               const char *conninfo,
               const char *instance_id,
               const volatile sig_atomic_t *stop) RELAY_MUSTCHECK;
void store_free(struct store *s);

/* Another process holds our instance_id now: the caller must stop. */
bool store_fenced(const struct store *s);
/* This process's run token (a GUID string). */
const char *store_run(const struct store *s);

/*
 * Call fn(up, arg) when the database becomes unreachable (up = false,
 * before the reconnect loop starts waiting) and when it is back.
 */
void store_on_health(struct store *s,
                     void (*fn)(bool up, void *arg),
                     void *arg);

/* Times a lost connection was re-established (for metrics). */
uint64_t store_reconnects(const struct store *s);

struct store_row {
	int64_t id;
	int attempts;
	const char *event; /* JSON text, borrowed from the claim */
	size_t event_len;
};

struct store_claim {
	int64_t batch_id; /* 0 when nothing was claimed */
	size_t n;
	struct store_row *rows; /* claim order: critical, high, oldest */
	struct db_result *res;  /* owns the event texts */
};

/*
 * Claims run on a second connection of their own (application_name
 * "clawdstrike-relay-claim", same conninfo, no instance lock), so one can
 * run in the database while the caller works on the main connection; at
 * most one is in flight.
 *
 * store_claim_start() sends a claim of up to max_events pending rows into a
 * new batch leased for lease_s, whose request goes out on ack channel
 * `channel` (NULL: acks off); a lost claim connection is reconnected first,
 * as exec() does (RELAY_EAGAIN if the stop flag is raised meanwhile).
 * store_claim_socket() is the socket to poll for POLLIN while it runs (-1
 * when no claim is in flight).  store_claim_finish() returns RELAY_EAGAIN
 * while the result is not complete; otherwise the claim is over: 0 with
 * the rows in *out (n 0: nothing was pending; dispose it), or a failure.
 * A failed claim's outcome is unknown: rows it claimed are held by nobody,
 * so their lease expires and they are taken back (store_recover).
 */
int store_claim_start(struct store *s,
                      int max_events,
                      int lease_s,
                      const char *channel) RELAY_MUSTCHECK;
int store_claim_socket(const struct store *s);
/* A claim was sent and its result not taken yet (false for no store:
 * teardown of a relay whose store never opened). */
bool store_claim_pending(const struct store *s);
int store_claim_finish(struct store *s,
                       struct store_claim *out) RELAY_MUSTCHECK;
void store_claim_dispose(struct store_claim *c);

/*
 * Record that HEC took the request holding rows `ids` of the batch, with
 * ack_id on channel.  *rows_out is the number of rows now `sent`; 0 means
 * the lease was lost to another relay.  Rows of the batch not in `ids` go
 * back to pending.
 */
int store_mark_sent(struct store *s,
                    int64_t batch,
                    const int64_t *ids,
                    size_t n_ids,
                    const char *endpoint,
                    const char *channel,
                    int64_t ack_id,
                    int lease_s,
                    int *rows_out) RELAY_MUSTCHECK;

/* The claimed batch's request goes out on `channel` instead; *ours false
 * when the batch was taken back. */
int store_set_channel(struct store *s,
                      int64_t batch,
                      const char *channel,
                      bool *ours) RELAY_MUSTCHECK;

/*
 * The channel proves nothing any more: release `batch` (if > 0) and every
 * sent batch on it, counted as possible duplicates, in one transaction.
 */
int store_retire_channel(struct store *s,
                         const char *channel,
                         int64_t batch,
                         const char *outcome,
                         const char *reason,
                         int *rows_out) RELAY_MUSTCHECK;

/* Count `events` rows of the batch as risked duplicates (a resend). */
int store_risk_duplicates(struct store *s,
                          int64_t batch,
                          int events) RELAY_MUSTCHECK;

/* Sent batches whose ack came back true: their sent rows are delivered. */
int store_mark_delivered(struct store *s,
                         const int64_t *batches,
                         size_t n,
                         int *rows_out) RELAY_MUSTCHECK;

/*
 * Rows indexed without an ack id: a prefix commit (rows before a rejected
 * event), or (no_ack) HEC's JSON success to a request holding exactly
 * these rows with acks off, which also closes the batch.
 */
int store_mark_rows_delivered(struct store *s,
                              int64_t batch,
                              const int64_t *ids,
                              size_t n,
                              bool no_ack,
                              int *rows_out) RELAY_MUSTCHECK;

/* Dead-letter rows with a reason (and HEC's answer when there was one;
 * http_status/hec_code < 0 and hec_text NULL mean none). */
int store_fail_rows(struct store *s,
                    int64_t batch,
                    const int64_t *ids,
                    size_t n,
                    const char *reason,
                    int http_status,
                    int hec_code,
                    const char *hec_text) RELAY_MUSTCHECK;

/* Give the batch's in-flight rows back to pending and close it. */
int store_release(struct store *s,
                  int64_t batch,
                  const char *outcome,
                  const char *reason,
                  bool duplicates_risked,
                  int http_status,
                  int hec_code,
                  int *rows_out) RELAY_MUSTCHECK;

/* Move `ids` of a claimed batch into a new batch; *new_batch 0 if the
 * batch was no longer ours. */
int store_split(struct store *s,
                int64_t batch,
                const int64_t *ids,
                size_t n,
                int64_t *new_batch) RELAY_MUSTCHECK;

/*
 * Renew the leases of the batches this process holds (`ids`), and only
 * those; *renewed (free()) lists the ones still ours.
 */
int store_heartbeat(struct store *s,
                    const int64_t *ids,
                    size_t n,
                    int lease_s,
                    int64_t **renewed,
                    size_t *n_renewed) RELAY_MUSTCHECK;

/* A sent batch taken over for ack polling (ours after a restart, or a dead
 * relay's whose lease expired). */
struct store_adopted {
	int64_t batch_id;
	char endpoint[512];
	char channel[40];
	int64_t ack_id; /* -1: none recorded */
	int n_events;
	double sent_age_s; /* seconds since it was sent */
};

/*
 * Release expired (and, at startup, our own unsent) batches and adopt sent
 * ones; *out (free()) holds the adopted batches.
 */
int store_recover(struct store *s,
                  int lease_s,
                  bool startup,
                  struct store_adopted **out,
                  size_t *n_out) RELAY_MUSTCHECK;

/* Delete delivered rows older than `days` (at most max_rows per kind). */
int store_purge(struct store *s, int days, int max_rows, long *rows_out)
        RELAY_MUSTCHECK;

/* Pending rows and the oldest pending age (for metrics). */
int store_backlog(struct store *s,
                  long *pending,
                  double *oldest_age_s) RELAY_MUSTCHECK;

#endif
