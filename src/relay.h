/* SPDX-License-Identifier: Apache-2.0 */
/*
 * relay: the delivery loop of `clawdstrike-relay run`.
 *
 *   claim (store) -> validate + format (event) -> POST (hec)
 *     -> mark sent with channel and ack id (store) -> poll acks (acks, hec)
 *     -> mark delivered (store)
 *
 * One thread drives everything: libcurl multi carries several requests at
 * once, and each PostgreSQL statement is short.  Rows are only ever in
 * PostgreSQL or in a request whose lease is held, so a crash at any moment
 * loses nothing: leases expire and the persisted channel and ack ids let
 * the next relay finish the job.  This file holds the only cross-module
 * choreography.
 */
#ifndef RELAY_RELAY_H
#define RELAY_RELAY_H

#include <signal.h>

struct config;

/* Signals reach the loop as flags plus a byte on wake_fd (a self-pipe). */
struct relay_signals {
	volatile sig_atomic_t stop;   /* SIGTERM/SIGINT: graceful shutdown */
	volatile sig_atomic_t reload; /* SIGHUP: re-read the token */
	int wake_fd;                  /* read end; -1 when none */
};

/*
 * Run until a stop is requested and the shutdown completes.  Returns 0 on
 * a clean shutdown, RELAY_ERR (message set) on a fatal startup problem.
 */
int relay_run(const struct config *cfg, struct relay_signals *sig);

#endif
