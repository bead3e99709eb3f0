/* SPDX-License-Identifier: Apache-2.0 */
/*
 * httpd: libmicrohttpd glue: listening, routing, reading bodies and
 * sending struct reply.
 *
 * Routing follows hec-protocol.md section 1: the collector paths, OPTIONS
 * (200, empty, Allow), 405 for a wrong method and 404 for anything else,
 * both with Splunk's "not found" body.  /emulator/... goes to the control
 * API for loopback clients only.  Bodies are read whole (capped at
 * max_content_length: 413) before a handler runs.
 */
#ifndef HEC_HTTPD_H
#define HEC_HTTPD_H

#include <stdbool.h>
#include <stdint.h>

#include "counters.h"
#include "emulator.h"
#include "util/buf.h"
#include "util/err.h"

struct MHD_Connection;
struct httpd;

/* One HTTP request as the handlers see it. */
struct request {
	struct MHD_Connection *conn;
	enum endpoint ep;
	const char *url;
	const char *method;
	struct buf body; /* as received (maybe gzip) */
	bool too_large;
	bool answered; /* a reply went out before the body (413) */
	char *basic_user, *basic_password;
};

/* A request header or query parameter (NULL when absent). */
const char *request_header(const struct request *rq, const char *name);
const char *request_query(const struct request *rq, const char *name);
/* The client's address as text ("" when unknown). */
void request_client_ip(const struct request *rq, char *buf, size_t size);
bool request_is_loopback(const struct request *rq);

/*
 * Listen on opts->listen and serve until httpd_stop().  The bound port is
 * stored in *port.  Returns NULL with a message on failure.
 */
struct httpd *httpd_start(struct emu *emu, uint16_t *port);
void httpd_stop(struct httpd *h);

#endif
