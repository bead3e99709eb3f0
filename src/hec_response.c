/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hec_response: the pure half of the HEC client (see hec.h).
 *
 * hec_response_parse() turns a HEC answer body into struct hec_response;
 * json_t never leaves this file.  hec_classify() maps an HTTP status, the
 * HEC `code` and "did the body go out" to what the relay must do.  Both
 * are free of I/O so the truth table of reference/hec-protocol.md §4 is
 * unit-tested and fuzzed without a network.
 *
 * Classification choices that the protocol leaves open (all of them keep
 * the rule "an outage never dead-letters an event"):
 *  - 404 is RETRY.  HEC answers 404 during a rolling restart
 *    (hec-protocol §7, rollingRestartReturnServerBusy); the path is built
 *    by hec.c, so a permanent 404 can only come from a wrong base URL, and
 *    that shows up as a retry loop with http_status 404 in the result,
 *    which the caller reports as unhealthy.  Dead-lettering a batch on a
 *    restart would be the worse error.
 *  - 501 is RETRY like every 5xx (Vector does not retry 501).  splunkd
 *    never sends it for our requests; a proxy in front of it might while a
 *    backend is swapped, and retrying costs nothing but time.
 *  - 1xx/3xx and unknown statuses are RETRY: they are not a HEC answer
 *    (we never follow redirects), so nothing was indexed.
 *  - 400 with code 21/22 (health check with a bad or disabled token) is
 *    AUTH, like 401/403.
 *  - 400 codes 10/11/14/16/28 (channel missing or invalid, ack disabled,
 *    query-string auth) are BAD_REQUEST: configuration or protocol bugs
 *    that the caller holds on rather than dead-letters.
 *  - 400 with invalid-event-number is REJECT_EVENT whatever the code
 *    (6, 7, 12, 13, 15 carry it): HEC committed the prefix before it.
 */
#include "hec.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

/* HEC codes that change the classification (hec-protocol §4). */
#define HEC_CODE_QUEUE_NEAR_FULL 24
#define HEC_CODE_ACK_NEAR_FULL 25
#define HEC_CODE_HEALTH_BAD_TOKEN 21
#define HEC_CODE_HEALTH_TOKEN_DISABLED 22

static void response_empty(struct hec_response *r)
{
	memset(r, 0, sizeof(*r));
	r->code = -1;
	r->ack_id = -1;
	r->invalid_event_number = -1;
}

/* A non-negative JSON integer, or -1 (absent, negative, real, string). */
static int64_t get_count(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);
	json_int_t n;

	if (!json_is_integer(v))
		return -1;
	n = json_integer_value(v);
	return n < 0 ? -1 : (int64_t)n;
}

static int get_code(const json_t *obj)
{
	const json_t *v = json_object_get(obj, "code");
	json_int_t n;

	if (!json_is_integer(v))
		return -1;
	n = json_integer_value(v);
	return n < 0 || n > INT_MAX ? -1 : (int)n;
}

static void get_text(const json_t *obj, char *out, size_t size)
{
	const json_t *v = json_object_get(obj, "text");
	const char *s = json_string_value(v);
	size_t n;

	if (!s)
		return;
	n = strlen(s);
	if (n >= size)
		n = size - 1;
	memcpy(out, s, n);
	out[n] = '\0';
}

/* A decimal ack id key ("0", "17"); false for anything else. */
static bool parse_ack_key(const char *key, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*key < '0' || *key > '9')
		return false;
	errno = 0;
	v = strtoull(key, &end, 10);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

/* {"acks":{"0":true,"1":false}}: keys that are not ids are skipped. */
static void get_acks(const json_t *obj, struct hec_response *r)
{
	json_t *acks = json_object_get(obj, "acks");
	const char *key;
	json_t *val;
	size_t n = json_object_size(acks);

	if (!json_is_object(acks))
		return;
	r->has_acks = true;
	if (!n)
		return;
	r->ack_ids = xmalloc(n * sizeof(*r->ack_ids));
	r->acked = xmalloc(n * sizeof(*r->acked));
	json_object_foreach(acks, key, val)
	{
		uint64_t id;

		if (!parse_ack_key(key, &id))
			continue;
		r->ack_ids[r->n_acks] = id;
		r->acked[r->n_acks] = json_is_true(val);
		r->n_acks++;
	}
}

int hec_response_parse(struct hec_response *out, const char *body, size_t len)
{
	json_t *root;
	json_error_t jerr;

	response_empty(out);
	root = json_loadb(body, len, 0, &jerr);
	if (!json_is_object(root)) {
		json_decref(root);
		relay_error_set("HEC answer is not a JSON object");
		return RELAY_EINVAL;
	}
	out->json = true;
	out->code = get_code(root);
	get_text(root, out->text, sizeof(out->text));
	out->ack_id = get_count(root, "ackId");
	out->invalid_event_number = get_count(root, "invalid-event-number");
	get_acks(root, out);
	json_decref(root);
	return 0;
}

void hec_response_dispose(struct hec_response *r)
{
	if (!r)
		return;
	free(r->ack_ids);
	free(r->acked);
	response_empty(r);
}

static enum hec_outcome classify_2xx(const struct hec_response *resp)
{
	int code = resp ? resp->code : -1;

	if (code == HEC_CODE_QUEUE_NEAR_FULL || code == HEC_CODE_ACK_NEAR_FULL)
		return HEC_OK_SLOW_DOWN;
	return HEC_OK;
}

static enum hec_outcome classify_4xx(long status,
                                     const struct hec_response *resp)
{
	int code = resp ? resp->code : -1;

	switch (status) {
	case 401:
	case 403:
		return HEC_AUTH;
	case 404: /* rolling restart: see the file comment */
	case 408:
	case 429:
		return HEC_RETRY;
	case 413:
		return HEC_TOO_LARGE;
	case 400:
		if (resp && resp->invalid_event_number >= 0)
			return HEC_REJECT_EVENT;
		if (code == HEC_CODE_HEALTH_BAD_TOKEN ||
		    code == HEC_CODE_HEALTH_TOKEN_DISABLED)
			return HEC_AUTH;
		return HEC_BAD_REQUEST;
	default:
		return HEC_BAD_REQUEST;
	}
}

enum hec_outcome
hec_classify(long http_status, bool body_sent, const struct hec_response *resp)
{
	if (http_status == 0)
		return body_sent ? HEC_RETRY_MAYBE_SENT : HEC_RETRY;
	if (http_status >= 200 && http_status < 300)
		return classify_2xx(resp);
	if (http_status >= 400 && http_status < 500)
		return classify_4xx(http_status, resp);
	/* 5xx (501 included), 1xx, 3xx, nonsense: nothing was indexed. */
	return HEC_RETRY;
}

enum hec_outcome hec_check_answer(enum hec_outcome o,
                                  enum hec_req_kind kind,
                                  bool ack_channel,
                                  const struct hec_response *resp)
{
	if (o != HEC_OK && o != HEC_OK_SLOW_DOWN)
		return o;
	if (kind == HEC_REQ_HEALTH)
		return o; /* health is judged by its status alone */
	if (!resp || !resp->json)
		return HEC_BAD_ANSWER;
	if (kind == HEC_REQ_ACK) /* {"acks":{...}}, no code */
		return resp->has_acks ? o : HEC_BAD_ANSWER;
	if (resp->code < 0)
		return HEC_BAD_ANSWER;
	if (ack_channel && resp->ack_id < 0)
		return HEC_BAD_ANSWER;
	return o;
}

const char *hec_outcome_name(enum hec_outcome o)
{
	switch (o) {
	case HEC_OK:
		return "ok";
	case HEC_OK_SLOW_DOWN:
		return "ok_slow_down";
	case HEC_RETRY:
		return "retry";
	case HEC_RETRY_MAYBE_SENT:
		return "retry_maybe_sent";
	case HEC_AUTH:
		return "auth";
	case HEC_REJECT_EVENT:
		return "reject_event";
	case HEC_TOO_LARGE:
		return "too_large";
	case HEC_BAD_REQUEST:
		return "bad_request";
	case HEC_BAD_ANSWER:
		return "bad_answer";
	}
	return "unknown";
}
