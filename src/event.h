/* SPDX-License-Identifier: Apache-2.0 */
/*
 * event: validate one Clawdstrike security event (SPEC §6) and format it as
 * a Splunk HEC envelope (SPEC §5, hec-protocol.md §3).
 *
 * event_parse() checks the rules of sql/10_validate.sql in the same order
 * and with the same texts, so a bad event reads the same in SQL, in the
 * enqueue command and in the relay's dead-letter reason.  A parsed event is
 * immutable and owns all its memory; getters lend pointers that live as
 * long as the event.
 */
#ifndef RELAY_EVENT_H
#define RELAY_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/err.h"

struct event;

enum event_severity {
	EVENT_SEV_INFO = 0,
	EVENT_SEV_LOW,
	EVENT_SEV_MEDIUM,
	EVENT_SEV_HIGH,
	EVENT_SEV_CRITICAL,
};

/* Default size limit of one event (SPEC §6). */
#define EVENT_MAX_BYTES_DEFAULT (1024 * 1024)

/*
 * Parse and validate len bytes of JSON text (need not be NUL-terminated).
 * max_bytes limits len (0: no limit).  On success *out is a new event the
 * caller frees with event_free().  On a bad event returns RELAY_EINVAL with
 * the message "invalid event: <path>: <problem>" in relay_error_last(), and
 * *out is NULL.
 */
int event_parse(struct event **out,
                const char *json,
                size_t len,
                size_t max_bytes) RELAY_MUSTCHECK;

/* Free an event; NULL is fine. */
void event_free(struct event *ev);

enum event_severity event_severity(const struct event *ev);
/* The event_id exactly as sent (any case). */
const char *event_id_str(const struct event *ev);
/* The timestamp as epoch milliseconds (offset applied, fraction truncated). */
int64_t event_time_ms(const struct event *ev);

/*
 * The value of a Splunk field (names of the seed's "Splunk Field Mappings"
 * table, plus "environment" for session.environment) as a string, or NULL
 * when the event lacks it or the name is unknown.  decision_allowed reads
 * "true"/"false", dest_port a decimal string.
 */
const char *event_field(const struct event *ev, const char *splunk_name);

/* event_field() in the shape of a routing getter; arg is the event. */
const char *event_field_getter(const char *field, void *arg);

/* The known Splunk field names, NULL-terminated (for config validation). */
const char *const *event_field_names(void);

/* Per-envelope metadata; the caller picks index/sourcetype per event. */
struct envelope_opts {
	const char *host;       /* NULL or "": omitted */
	const char *source;     /* NULL or "": omitted */
	const char *sourcetype; /* NULL or "": omitted */
	const char *index;      /* NULL or "": omitted (token default) */
	/* Splunk field names sent as indexed "fields", NULL-terminated (or
	 * NULL for none); names absent from the event are skipped. */
	const char *const *indexed_fields;
};

/*
 * Append one compact HEC envelope (no newline) to out:
 * {"time":S.mmm,"host":..,"source":..,"sourcetype":..,"index":..,
 *  "event":{...metadata last},"fields":{...}}.
 * RELAY_EFULL with out unchanged when the buffer cap would pass.
 */
int event_format_envelope(const struct event *ev,
                          const struct envelope_opts *opts,
                          struct buf *out) RELAY_MUSTCHECK;

/*
 * Testing only: event_parse() through jansson alone (the reference the
 * fast path must agree with).
 */
int event__parse_reference(struct event **out,
                           const char *json,
                           size_t len,
                           size_t max_bytes) RELAY_MUSTCHECK;

/* Bytes of the compact "event" object alone (to size batches). */
size_t event_body_len(const struct event *ev);

#endif
