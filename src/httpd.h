/* SPDX-License-Identifier: Apache-2.0 */
/*
 * httpd: the relay's small HTTP listener (libmicrohttpd, its own thread)
 * for /metrics (Prometheus text), /healthz (the loop is alive) and /readyz
 * (database reachable, HEC answering, token accepted).  It only reads the
 * atomics in struct metrics; it never touches the relay's other state.
 */
#ifndef RELAY_HTTPD_H
#define RELAY_HTTPD_H

#include "metrics.h"
#include "util/err.h"

struct httpd;

/* Listen on "HOST:PORT" (IPv4 or [IPv6]); the port may be 0 (see
 * httpd_port).  m must outlive the listener. */
int httpd_start(struct httpd **out,
                const char *listen,
                struct metrics *m) RELAY_MUSTCHECK;
/* The bound port. */
int httpd_port(const struct httpd *h);
void httpd_stop(struct httpd *h);

/* Loop liveness window for /healthz. */
#define HTTPD_LIVENESS_MS 30000

#endif
