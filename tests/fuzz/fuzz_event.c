/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for event validation: arbitrary bytes as an event.
 *
 * Differential: the fast path (event_parse) must agree with the jansson
 * reference path (event__parse_reference) on the verdict, the error text,
 * the fields and the envelope -- except where jansson refuses a number
 * past its range, which the fast path keeps (as jsonb does).  Every
 * accepted event's envelope must be one valid JSON object with "metadata"
 * last in "event".
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static json_t *envelope(const struct event *ev, struct buf *b)
{
	struct envelope_opts opts = {
	        .host = "h\"\x01",
	        .source = "s",
	        .sourcetype = "st",
	        .index = "i",
	        .indexed_fields = event_field_names(),
	};
	json_t *env, *e;
	const char *last = NULL;
	void *it;

	buf_reset(b);
	if (event_format_envelope(ev, &opts, b) != 0)
		abort();
	if (memchr(b->data, '\n', b->len))
		abort();
	env = json_loadb(b->data, b->len, JSON_DECODE_INT_AS_REAL, NULL);
	if (!env)
		return NULL; /* a number past double range: kept as written */
	e = json_object_get(env, "event");
	if (!json_is_object(e))
		abort();
	for (it = json_object_iter(e); it; it = json_object_iter_next(e, it))
		last = json_object_iter_key(it);
	if (json_object_get(e, "metadata") && strcmp(last, "metadata") != 0)
		abort();
	return env;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct event *fast = NULL, *ref = NULL;
	char fast_msg[1024];
	int rf, rr;
	struct buf b;
	json_t *ef, *er;

	rf = event_parse(&fast, text, size, 0);
	snprintf(fast_msg, sizeof(fast_msg), "%s", relay_error_last());
	rr = event__parse_reference(&ref, text, size, 0);
	if (rr && (strstr(relay_error_last(), "too big") ||
	           strstr(relay_error_last(), "overflow"))) {
		/* jansson's range limit; the fast path may take it. */
	} else if (rf != rr || (rf && strcmp(fast_msg, relay_error_last()))) {
		fprintf(stderr, "fast %d \"%s\", reference %d \"%s\"\n", rf,
		        fast_msg, rr, relay_error_last());
		abort();
	}
	if (rf == 0) {
		buf_init(&b, 0);
		ef = envelope(fast, &b);
		if (rr == 0) {
			er = envelope(ref, &b);
			if (!ef || !er || !json_equal(ef, er))
				abort();
			if (event_time_ms(fast) != event_time_ms(ref) ||
			    event_severity(fast) != event_severity(ref))
				abort();
			json_decref(er);
		}
		json_decref(ef);
		buf_dispose(&b);
	}
	event_free(fast);
	event_free(ref);
	return 0;
}
