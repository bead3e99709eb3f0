/* SPDX-License-Identifier: Apache-2.0 */
/*
 * body: the event endpoint's body, split into envelopes and validated the
 * way Splunk does it (hec-protocol.md section 3 and section 4).
 *
 * HEC is prefix-commit: envelopes are taken in order and the first bad one
 * stops the request.  body_parse() therefore returns the good prefix plus
 * the code (and invalid-event-number) of what stopped it; the caller
 * indexes the prefix and answers with the code.  Envelopes point into the
 * caller's buffer, which must outlive the result.
 */
#ifndef HEC_BODY_H
#define HEC_BODY_H

#include <stdbool.h>
#include <stddef.h>

#include "jscan.h"

struct token;

/* What an unknown top-level key in an envelope does. */
enum unknown_keys {
	/* As observed on Splunk 10.4 (hec-protocol.md section 3, [O]):
	 * parsing stops silently; 200 for the prefix, 400 code 5 when the
	 * first envelope has one. */
	UNKNOWN_KEYS_STOP = 0,
	UNKNOWN_KEYS_IGNORE, /* index the envelope, drop the key */
	UNKNOWN_KEYS_REJECT  /* 400 code 6 with invalid-event-number */
};

struct body_rules {
	size_t max_event_size;     /* maxEventSize: bytes of one envelope */
	const struct token *token; /* for the index allowlist */
	bool code7_exact;          /* report code 7 at N, not Splunk's N+1 */
	enum unknown_keys unknown;
};

/* One accepted envelope; absent members have type JT_NONE. */
struct envelope {
	const char *text; /* the whole envelope, as sent */
	size_t len;
	struct jval event, fields, host, source, sourcetype, index;
	double time;
	bool has_time;
};

struct body_result {
	struct envelope *ev; /* the prefix to index */
	size_t n, cap;
	int code;          /* HEC code: 0 when the whole body was taken */
	long event_number; /* invalid-event-number, or -1 */
};

void body_result_init(struct body_result *r);
void body_result_dispose(struct body_result *r);

/* Split and validate a (decoded) body; always fills r. */
void body_parse(struct body_result *r,
                const char *data,
                size_t len,
                const struct body_rules *rules);

/*
 * Decode a JSON string span into buf (NUL-terminated).  Returns 0, or -1
 * when it is not a string or does not fit.
 */
int body_string(const struct jval *v, char *buf, size_t size);

#endif
