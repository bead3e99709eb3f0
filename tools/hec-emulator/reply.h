/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reply: HEC status codes and the replies built from them.
 *
 * Every answer the emulator gives is a struct reply: HTTP status, body,
 * content type and a few optional headers.  Handlers fill one and httpd.c
 * sends it, so what goes on the wire (Splunk's headers, compact JSON
 * bodies) is decided in one place.  Codes and texts follow
 * hec-protocol.md section 4; clients key on the code, not the text.
 */
#ifndef HEC_REPLY_H
#define HEC_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The HEC codes this emulator answers with (hec-protocol.md section 4). */
enum hec_code {
	HEC_SUCCESS = 0,
	HEC_TOKEN_DISABLED = 1,
	HEC_TOKEN_REQUIRED = 2,
	HEC_INVALID_AUTH = 3,
	HEC_INVALID_TOKEN = 4,
	HEC_NO_DATA = 5,
	HEC_INVALID_FORMAT = 6,
	HEC_INCORRECT_INDEX = 7,
	HEC_INTERNAL = 8,
	HEC_BUSY = 9,
	HEC_CHANNEL_MISSING = 10,
	HEC_CHANNEL_INVALID = 11,
	HEC_EVENT_REQUIRED = 12,
	HEC_EVENT_BLANK = 13,
	HEC_ACK_DISABLED = 14,
	HEC_FIELDS_ERROR = 15,
	HEC_QUERY_AUTH_DISABLED = 16,
	HEC_HEALTHY = 17,
	HEC_UNHEALTHY_QUEUES = 18,
	HEC_UNHEALTHY_ACK = 19,
	HEC_UNHEALTHY_BOTH = 20,
	HEC_HEALTH_INVALID_TOKEN = 21,
	HEC_HEALTH_TOKEN_DISABLED = 22,
	HEC_SHUTTING_DOWN = 23,
	HEC_QUEUE_WARN = 24,
	HEC_ACK_WARN = 25,
	HEC_QUEUE_FULL = 26,
	HEC_ACK_FULL = 27,
	HEC_CODE_MAX = 28
};

#define REPLY_NO_EVENT_NUMBER (-1)

struct reply {
	unsigned status;
	char *body; /* owned; NULL for an empty body */
	size_t len;
	const char *content_type; /* static string */
	const char *allow;        /* static; Allow header or NULL */
	unsigned retry_after_s;   /* 0: no Retry-After header */
	char *set_cookie;         /* owned; Set-Cookie value or NULL */
	int hec_code;             /* -1 when the reply carries none */
	bool drop;                /* close the connection without answering */
};

void reply_init(struct reply *r);
void reply_dispose(struct reply *r);

/* Splunk's text for a code ("" for codes it does not know). */
const char *hec_code_text(int code);
/* The HTTP status Splunk pairs with a code. */
unsigned hec_code_status(int code);

/* {"text":..,"code":N} with the status paired to the code. */
void reply_hec(struct reply *r, int code);
/* Same, plus "invalid-event-number" (prefix-commit errors). */
void reply_hec_event(struct reply *r, int code, long event_number);
/* 200 with a 2xx code (Success, or the warnings 24/25), with "ackId"
 * when ack_id >= 0. */
void reply_success(struct reply *r, int code, int64_t ack_id);
/* 404 or 405 with the body Splunk sends for an unknown URL. */
void reply_not_found(struct reply *r, unsigned status);
/* Any status with a JSON body the caller built (taken over). */
void reply_json(struct reply *r, unsigned status, char *body, size_t len);
/* 415 for an unsupported Content-Encoding: Splunk answers with HTML. */
void reply_unsupported_encoding(struct reply *r);
/* 200 with an HTML maintenance page, as a load balancer in front of a
 * Splunk being serviced might answer. */
void reply_maintenance(struct reply *r);
/* 413 when the body passes max_content_length. */
void reply_too_large(struct reply *r, size_t limit);

#endif
