/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hec_response_parse and hec_classify: parsing of send, ack and error
 * answers (and of garbage), and the classification truth table for every
 * row of reference/hec-protocol.md §4.
 */
#include <stdlib.h>

#include "hec.h"
#include "unit.h"

static int parse(struct hec_response *r, const char *s)
{
	return hec_response_parse(r, s, strlen(s));
}

static void test_hec_response__send_answer(void)
{
	struct hec_response r;

	CHECK_INT(parse(&r, "{\"text\":\"Success\",\"code\":0,\"ackId\":7}"),
	          0);
	CHECK_INT(r.code, 0);
	CHECK_STR(r.text, "Success");
	CHECK_INT(r.ack_id, 7);
	CHECK_INT(r.invalid_event_number, -1);
	CHECK_INT(r.n_acks, 0);
	hec_response_dispose(&r);

	/* No ack on the token: no ackId. Unknown keys are ignored. */
	CHECK_INT(parse(&r, " {\"text\":\"Success\",\"code\":0,\"x\":[1]} \n"),
	          0);
	CHECK_INT(r.ack_id, -1);
	hec_response_dispose(&r);

	/* ackId 0 is the first id of a channel, not "absent". */
	CHECK_INT(parse(&r, "{\"code\":0,\"ackId\":0}"), 0);
	CHECK_INT(r.ack_id, 0);
	CHECK_STR(r.text, "");
	hec_response_dispose(&r);
}

static void test_hec_response__ack_answer(void)
{
	struct hec_response r;
	int seen = 0;

	CHECK_INT(parse(&r, "{\"acks\":{\"0\":true,\"1\":false,"
	                    "\"18446744073709551615\":true,\"x\":true,"
	                    "\"-1\":true,\"2\":1}}"),
	          0);
	CHECK_INT(r.code, -1);
	CHECK_INT(r.n_acks, 4); /* "x" and "-1" are not ids */
	for (size_t i = 0; i < r.n_acks; i++) {
		if (r.ack_ids[i] == 0 && r.acked[i])
			seen |= 1;
		if (r.ack_ids[i] == 1 && !r.acked[i])
			seen |= 2;
		if (r.ack_ids[i] == UINT64_MAX && r.acked[i])
			seen |= 4;
		if (r.ack_ids[i] == 2 && !r.acked[i]) /* 1 is not true */
			seen |= 8;
	}
	CHECK_INT(seen, 15);
	hec_response_dispose(&r);
	CHECK(r.ack_ids == NULL && r.acked == NULL && r.n_acks == 0);

	/* Too big for uint64: skipped, not wrapped. */
	CHECK_INT(parse(&r, "{\"acks\":{\"18446744073709551616\":true}}"), 0);
	CHECK_INT(r.n_acks, 0);
	hec_response_dispose(&r);

	CHECK_INT(parse(&r, "{\"acks\":{}}"), 0);
	CHECK_INT(r.n_acks, 0);
	hec_response_dispose(&r);
}

static void test_hec_response__invalid_event_number(void)
{
	struct hec_response r;

	CHECK_INT(parse(&r, "{\"text\":\"Invalid data format\",\"code\":6,"
	                    "\"invalid-event-number\":75}"),
	          0);
	CHECK_INT(r.code, 6);
	CHECK_INT(r.invalid_event_number, 75);
	CHECK_INT(hec_classify(400, true, &r), HEC_REJECT_EVENT);
	hec_response_dispose(&r);
}

static void test_hec_response__garbage(void)
{
	static const char *bad[] = {
	        "",
	        "<html><body>502 Bad Gateway</body></html>",
	        "[1,2,3]",
	        "\"text\"",
	        "null",
	        "{\"text\":\"Success\",\"code\":0,\"ackId\":7", /* truncated */
	        "{\"text\":\"Succ",
	        "{\"code\":0,\"ackId\":99999999999999999999999}",
	        "{} {}",
	};
	struct hec_response r;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_INT(parse(&r, bad[i]), RELAY_EINVAL);
		CHECK_INT(r.code, -1);
		CHECK_INT(r.ack_id, -1);
		CHECK_INT(r.invalid_event_number, -1);
		CHECK(r.ack_ids == NULL && r.n_acks == 0);
		hec_response_dispose(&r);
	}
	/* Embedded NUL: the length, not strlen, bounds the input. */
	CHECK_INT(hec_response_parse(&r, "{\"code\":0}\0xx", 13), RELAY_EINVAL);
	hec_response_dispose(&r);
}

/* Wrong types and out-of-range numbers read as "absent". */
static void test_hec_response__odd_values(void)
{
	struct hec_response r;
	char text[300];

	CHECK_INT(parse(&r, "{\"code\":\"6\",\"ackId\":-3,"
	                    "\"invalid-event-number\":1.5,\"text\":12}"),
	          0);
	CHECK_INT(r.code, -1);
	CHECK_INT(r.ack_id, -1);
	CHECK_INT(r.invalid_event_number, -1);
	CHECK_STR(r.text, "");
	hec_response_dispose(&r);

	CHECK_INT(parse(&r, "{\"code\":9223372036854775807,"
	                    "\"ackId\":9223372036854775807,\"acks\":[1]}"),
	          0);
	CHECK_INT(r.code, -1);
	CHECK_INT(r.ack_id, INT64_MAX);
	CHECK_INT(r.n_acks, 0);
	hec_response_dispose(&r);

	/* Long text is cut to fit, NUL-terminated. */
	memset(text, 'a', sizeof(text));
	memcpy(text, "{\"text\":\"", 9);
	memcpy(text + 209, "\"}", 3);
	CHECK_INT(parse(&r, text), 0);
	CHECK_INT(strlen(r.text), sizeof(r.text) - 1);
	hec_response_dispose(&r);
}

struct row {
	long status;
	int code;
	enum hec_outcome want;
};

/* hec-protocol.md §4, every code with the HTTP status HEC pairs it with. */
static const struct row table[] = {
        {200, 0, HEC_OK},
        {403, 1, HEC_AUTH},
        {401, 2, HEC_AUTH},
        {401, 3, HEC_AUTH},
        {403, 4, HEC_AUTH},
        {400, 5, HEC_BAD_REQUEST},
        {400, 6, HEC_BAD_REQUEST},
        {400, 7, HEC_BAD_REQUEST},
        {500, 8, HEC_RETRY},
        {503, 9, HEC_RETRY},
        {400, 10, HEC_BAD_REQUEST},
        {400, 11, HEC_BAD_REQUEST},
        {400, 12, HEC_BAD_REQUEST},
        {400, 13, HEC_BAD_REQUEST},
        {400, 14, HEC_BAD_REQUEST},
        {400, 15, HEC_BAD_REQUEST},
        {400, 16, HEC_BAD_REQUEST},
        {200, 17, HEC_OK},
        {503, 18, HEC_RETRY},
        {503, 19, HEC_RETRY},
        {503, 20, HEC_RETRY},
        {400, 21, HEC_AUTH},
        {400, 22, HEC_AUTH},
        {503, 23, HEC_RETRY},
        {200, 24, HEC_OK_SLOW_DOWN},
        {200, 25, HEC_OK_SLOW_DOWN},
        {429, 26, HEC_RETRY},
        {429, 27, HEC_RETRY},
        {400, 28, HEC_BAD_REQUEST},
        {404, 404, HEC_RETRY},
        {405, 405, HEC_BAD_REQUEST},
        {413, -1, HEC_TOO_LARGE},
        {415, -1, HEC_BAD_REQUEST},
        {408, -1, HEC_RETRY},
        {501, -1, HEC_RETRY},
        {502, -1, HEC_RETRY},
        {504, -1, HEC_RETRY},
        {599, -1, HEC_RETRY},
        {301, -1, HEC_RETRY},
        {100, -1, HEC_RETRY},
        {204, -1, HEC_OK},
        {401, -1, HEC_AUTH},
        {400, -1, HEC_BAD_REQUEST},
        {418, -1, HEC_BAD_REQUEST},
        {999, -1, HEC_RETRY},
};

static void test_hec_response__classify_table(void)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		struct hec_response r;
		enum hec_outcome got;

		memset(&r, 0, sizeof(r));
		r.code = table[i].code;
		r.ack_id = -1;
		r.invalid_event_number = -1;
		/* The body going out or not changes nothing once HEC
		 * answered. */
		for (int sent = 0; sent < 2; sent++) {
			got = hec_classify(table[i].status, sent, &r);
			if (got != table[i].want)
				fprintf(stderr, "status %ld code %d: %s\n",
				        table[i].status, table[i].code,
				        hec_outcome_name(got));
			CHECK_INT(got, table[i].want);
		}
	}
}

static void test_hec_response__classify_prefix_commit(void)
{
	static const int codes[] = {6, 7, 12, 13, 15};
	struct hec_response r;

	memset(&r, 0, sizeof(r));
	r.ack_id = -1;
	for (size_t i = 0; i < 5; i++) {
		r.code = codes[i];
		r.invalid_event_number = 0;
		CHECK_INT(hec_classify(400, true, &r), HEC_REJECT_EVENT);
		r.invalid_event_number = 3;
		CHECK_INT(hec_classify(400, true, &r), HEC_REJECT_EVENT);
	}
	/* 413 wins over a stray event number. */
	CHECK_INT(hec_classify(413, true, &r), HEC_TOO_LARGE);
}

static void test_hec_response__classify_transport(void)
{
	CHECK_INT(hec_classify(0, false, NULL), HEC_RETRY);
	CHECK_INT(hec_classify(0, true, NULL), HEC_RETRY_MAYBE_SENT);
	/* No body to read: classified by status alone. */
	CHECK_INT(hec_classify(200, true, NULL), HEC_OK);
	CHECK_INT(hec_classify(400, true, NULL), HEC_BAD_REQUEST);
	CHECK_INT(hec_classify(503, true, NULL), HEC_RETRY);
}

/* A 2xx proves something only as HEC's own answer to this request. */
static void test_hec_response__strict_2xx(void)
{
	static const struct {
		const char *body;
		enum hec_req_kind kind;
		bool ack_channel;
		enum hec_outcome want;
	} t[] = {
	        {"{\"text\":\"Success\",\"code\":0,\"ackId\":3}",
	         HEC_REQ_EVENTS, true, HEC_OK},
	        /* token with acknowledgement switched off */
	        {"{\"text\":\"Success\",\"code\":0}", HEC_REQ_EVENTS, true,
	         HEC_BAD_ANSWER},
	        {"{\"text\":\"Success\",\"code\":0}", HEC_REQ_EVENTS, false,
	         HEC_OK},
	        {"{\"text\":\"Success\",\"code\":0,\"ackId\":\"3\"}",
	         HEC_REQ_EVENTS, true, HEC_BAD_ANSWER},
	        {"{\"text\":\"Success\",\"code\":0,\"ackId\":1.5}",
	         HEC_REQ_EVENTS, true, HEC_BAD_ANSWER},
	        /* a load balancer's maintenance page */
	        {"<html><body>Maintenance</body></html>", HEC_REQ_EVENTS, false,
	         HEC_BAD_ANSWER},
	        {"<html><body>Maintenance</body></html>", HEC_REQ_ACK, false,
	         HEC_BAD_ANSWER},
	        {"", HEC_REQ_EVENTS, false, HEC_BAD_ANSWER},
	        {"{\"ackId\":3}", HEC_REQ_EVENTS, true, HEC_BAD_ANSWER},
	        {"{\"acks\":{\"0\":true}}", HEC_REQ_ACK, false, HEC_OK},
	        {"{\"acks\":[0]}", HEC_REQ_ACK, false, HEC_BAD_ANSWER},
	        {"{\"text\":\"Success\",\"code\":0}", HEC_REQ_ACK, false,
	         HEC_BAD_ANSWER},
	        /* health is judged by its status */
	        {"<html></html>", HEC_REQ_HEALTH, false, HEC_OK},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct hec_response r;

		(void)parse(&r, t[i].body);
		CHECK_INT(hec_check_answer(HEC_OK, t[i].kind, t[i].ack_channel,
		                           &r),
		          t[i].want);
		hec_response_dispose(&r);
	}
	/* Only 2xx outcomes are judged; the rest pass through. */
	CHECK_INT(hec_check_answer(HEC_RETRY, HEC_REQ_EVENTS, true, NULL),
	          HEC_RETRY);
	CHECK_INT(hec_check_answer(HEC_OK, HEC_REQ_EVENTS, true, NULL),
	          HEC_BAD_ANSWER);
}

static void test_hec_response__names(void)
{
	CHECK_STR(hec_outcome_name(HEC_OK), "ok");
	CHECK_STR(hec_outcome_name(HEC_OK_SLOW_DOWN), "ok_slow_down");
	CHECK_STR(hec_outcome_name(HEC_RETRY), "retry");
	CHECK_STR(hec_outcome_name(HEC_RETRY_MAYBE_SENT), "retry_maybe_sent");
	CHECK_STR(hec_outcome_name(HEC_AUTH), "auth");
	CHECK_STR(hec_outcome_name(HEC_REJECT_EVENT), "reject_event");
	CHECK_STR(hec_outcome_name(HEC_TOO_LARGE), "too_large");
	CHECK_STR(hec_outcome_name(HEC_BAD_REQUEST), "bad_request");
	CHECK_STR(hec_outcome_name(HEC_BAD_ANSWER), "bad_answer");
	CHECK_STR(hec_outcome_name((enum hec_outcome)99), "unknown");
}

int main(void)
{
	UNIT_RUN(test_hec_response__send_answer);
	UNIT_RUN(test_hec_response__ack_answer);
	UNIT_RUN(test_hec_response__invalid_event_number);
	UNIT_RUN(test_hec_response__garbage);
	UNIT_RUN(test_hec_response__odd_values);
	UNIT_RUN(test_hec_response__classify_table);
	UNIT_RUN(test_hec_response__classify_prefix_commit);
	UNIT_RUN(test_hec_response__classify_transport);
	UNIT_RUN(test_hec_response__strict_2xx);
	UNIT_RUN(test_hec_response__names);
	return unit_finish();
}
