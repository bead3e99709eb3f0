/* SPDX-License-Identifier: Apache-2.0 */
/*
 * output: what the emulator indexed, as JSON Lines (--output FILE).
 *
 * One line per indexed event:
 *   {"time":..,"host":..,"source":..,"sourcetype":..,"index":..,
 *    "fields":{..},"event":..,"channel":..,"ack_id":..,"token":..,
 *    "endpoint":"event"}
 * Metadata is what Splunk would store: the envelope's values, else the
 * token's defaults.  The event is copied as sent (valid JSON by then),
 * with raw newlines between its tokens turned into spaces so every event
 * stays on one line.  A request's lines are formatted off-lock and
 * written with one write(2) under the lock before the request is
 * answered, so a reader that got the 200 finds them in the file.
 */
#ifndef HEC_OUTPUT_H
#define HEC_OUTPUT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "body.h"
#include "util/buf.h"
#include "util/err.h"

struct output {
	int fd; /* -1: output off */
	bool close_fd;
	pthread_mutex_t lock;
};

/* Per-request values every line shares; strings are JSON literals. */
struct line_meta {
	const char *host, *source, *sourcetype, *index; /* defaults */
	const char *channel;                            /* literal or "null" */
	const char *token;                              /* the token's name */
	const char *endpoint;
	int64_t ack_id;  /* -1: null */
	double received; /* epoch seconds: the time of events without one */
};

/* Open for appending (NULL: off, "-": stdout). */
int output_open(struct output *o, const char *path) RELAY_MUSTCHECK;
void output_close(struct output *o);
bool output_enabled(const struct output *o);

/* Append one line for an envelope of the event endpoint. */
void output_format_envelope(struct buf *b,
                            const struct envelope *e,
                            const struct line_meta *m);
/* Append one line for a raw event (a line of a raw body). */
void output_format_raw(struct buf *b,
                       const char *event,
                       size_t len,
                       const struct line_meta *m);

/* Write formatted lines as one append. */
int output_write(struct output *o,
                 const char *data,
                 size_t len) RELAY_MUSTCHECK;

#endif
