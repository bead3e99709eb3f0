/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reply: HEC code table and reply builders.  See reply.h.
 */
#include "reply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

#define JSON_UTF8 "application/json; charset=UTF-8"

struct code_row {
	unsigned status;
	const char *text;
};

/* hec-protocol.md section 4, indexed by code. */
static const struct code_row codes[HEC_CODE_MAX] = {
        [0] = {200, "Success"},
        [1] = {403, "Token disabled"},
        [2] = {401, "Token is required"},
        [3] = {401, "Invalid authorization"},
        [4] = {403, "Invalid token"},
        [5] = {400, "No data"},
        [6] = {400, "Invalid data format"},
        [7] = {400, "Incorrect index"},
        [8] = {500, "Internal server error"},
        [9] = {503, "Server is busy"},
        [10] = {400, "Data channel is missing"},
        [11] = {400, "Invalid data channel"},
        [12] = {400, "Event field is required"},
        [13] = {400, "Event field cannot be blank"},
        [14] = {400, "ACK is disabled"},
        [15] = {400, "Error in handling indexed fields"},
        [16] = {400, "Query string authorization is not enabled"},
        [17] = {200, "HEC is healthy"},
        [18] = {503, "HEC is unhealthy, queues are full"},
        [19] = {503, "HEC is unhealthy, ack service unavailable"},
        [20] = {503,
                "HEC is unhealthy, queues are full, ack service unavailable"},
        [21] = {400, "Invalid token"},
        [22] = {400, "Token disabled"},
        [23] = {503, "Server is shutting down"},
        [24] = {200, "HEC queue is approaching its capacity limit"},
        [25] = {200, "HEC ACK is approaching its capacity limit"},
        [26] = {429,
                "HEC queue is at capacity and cannot process any more requests"},
        [27] = {429, "HEC ACK channel is at capacity and cannot process any "
                     "more requests"},
};

void reply_init(struct reply *r)
{
	memset(r, 0, sizeof(*r));
	r->hec_code = -1;
}

void reply_dispose(struct reply *r)
{
	free(r->body);
	free(r->set_cookie);
	reply_init(r);
}

const char *hec_code_text(int code)
{
	if (code < 0 || code >= HEC_CODE_MAX)
		return "";
	return codes[code].text;
}

unsigned hec_code_status(int code)
{
	if (code < 0 || code >= HEC_CODE_MAX)
		return 500;
	return codes[code].status;
}

void reply_json(struct reply *r, unsigned status, char *body, size_t len)
{
	free(r->body);
	r->status = status;
	r->body = body;
	r->len = len;
	r->content_type = JSON_UTF8;
}

static void set_body(struct reply *r, unsigned status, char *body)
{
	reply_json(r, status, body, strlen(body));
}

void reply_hec(struct reply *r, int code)
{
	/* Texts are constants without quotes or backslashes. */
	set_body(r, hec_code_status(code),
	         xasprintf("{\"text\":\"%s\",\"code\":%d}", hec_code_text(code),
	                   code));
	r->hec_code = code;
}

void reply_hec_event(struct reply *r, int code, long event_number)
{
	if (event_number < 0) {
		reply_hec(r, code);
		return;
	}
	set_body(r, hec_code_status(code),
	         xasprintf("{\"text\":\"%s\",\"code\":%d,"
	                   "\"invalid-event-number\":%ld}",
	                   hec_code_text(code), code, event_number));
	r->hec_code = code;
}

void reply_success(struct reply *r, int code, int64_t ack_id)
{
	if (ack_id < 0) {
		reply_hec(r, code);
		return;
	}
	set_body(r, 200,
	         xasprintf("{\"text\":\"%s\",\"code\":%d,\"ackId\":%lld}",
	                   hec_code_text(code), code, (long long)ack_id));
	r->hec_code = code;
}

void reply_not_found(struct reply *r, unsigned status)
{
	set_body(r, status,
	         xstrdup("{\"text\":\"The requested URL was not found on this "
	                 "server.\",\"code\":404}"));
}

static void set_html(struct reply *r, unsigned status, const char *page)
{
	free(r->body);
	r->status = status;
	r->body = xstrdup(page);
	r->len = strlen(r->body);
	r->content_type = "text/html; charset=UTF-8";
	r->hec_code = -1;
}

void reply_unsupported_encoding(struct reply *r)
{
	set_html(r, 415,
	         "<!doctype html><html><head><meta "
	         "http-equiv=\"content-type\" content=\"text/html; "
	         "charset=UTF-8\"><title>415 Unsupported Media "
	         "Type</title></head><body><h1>Unsupported Media "
	         "Type</h1><p>Content-Encoding not supported.</p>"
	         "</body></html>");
}

void reply_maintenance(struct reply *r)
{
	set_html(r, 200,
	         "<!doctype html><html><head><title>Down for "
	         "maintenance</title></head><body><h1>Down for "
	         "maintenance</h1><p>This service is being updated. Please "
	         "try again later.</p></body></html>");
}

void reply_too_large(struct reply *r, size_t limit)
{
	/* Splunk's 413 body is unknown (hec-protocol.md "Could not
	 * confirm"); this mirrors the compact JSON shape of its other
	 * answers and names the limit. */
	set_body(r, 413,
	         xasprintf("{\"text\":\"Content-Length too large (maximum is "
	                   "%zu)\",\"code\":413}",
	                   limit));
}
