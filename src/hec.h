/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hec: the Splunk HTTP Event Collector client (libcurl multi).
 *
 * Several requests are in flight at once over keep-alive connections to one
 * or more HEC endpoints.  The caller builds the uncompressed body; hec
 * gzips it (when enabled), sends it with the token, User-Agent and channel
 * headers, and later hands back one classified result per request.  Each
 * endpoint has its own cookie jar, so load-balancer stickiness cookies set
 * on a send are replayed on the ack polls to that endpoint.  CURL handles
 * never leave hec.c; the response parser (hec_response_parse) and the
 * classifier (hec_classify) are pure and unit-tested on their own.
 * Main-loop thread only.
 */
#ifndef RELAY_HEC_H
#define RELAY_HEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

struct hec;

struct hec_opts {
	const char *const *urls; /* base URLs, e.g. https://splunk:8088 */
	size_t n_urls;
	const char *token; /* copied; never logged */
	bool gzip;         /* Content-Encoding: gzip on event posts */
	int gzip_level;    /* zlib level, 1 (fast) .. 9 */
	long timeout_ms;   /* whole request */
	long connect_timeout_ms;
	const char *ca_cert_path;     /* NULL: system CAs */
	const char *client_cert_path; /* mTLS, may be NULL */
	const char *client_key_path;
	bool insecure_skip_verify;
	bool http2;
	const char *user_agent; /* sent on every request */
};

int hec_new(struct hec **out, const struct hec_opts *opts) RELAY_MUSTCHECK;
void hec_free(struct hec *hec);

/* Replace the token used by requests started from now on. */
void hec_set_token(struct hec *hec, const char *token);

size_t hec_endpoint_count(const struct hec *hec);
/* Borrowed base URL of endpoint i. */
const char *hec_endpoint_url(const struct hec *hec, size_t i);

/*
 * Start POST {url}/services/collector/event with `body` (uncompressed,
 * concatenated envelopes).  `channel` (a GUID string) is sent as
 * X-Splunk-Request-Channel when non-NULL.  The body is copied (or
 * compressed into a private buffer): the caller may reuse it at once.
 * `ctx` comes back in the result.
 */
int hec_post_events(struct hec *hec,
                    size_t endpoint,
                    const char *channel,
                    const char *body,
                    size_t len,
                    void *ctx) RELAY_MUSTCHECK;

/* Start POST {url}/services/collector/ack?channel=... for `ids`. */
int hec_poll_acks(struct hec *hec,
                  size_t endpoint,
                  const char *channel,
                  const uint64_t *ids,
                  size_t n,
                  void *ctx) RELAY_MUSTCHECK;

/* Start GET {url}/services/collector/health (with the token). */
int hec_check_health(struct hec *hec,
                     size_t endpoint,
                     void *ctx) RELAY_MUSTCHECK;

/* Requests started and not yet returned by hec_next_result. */
int hec_in_flight(const struct hec *hec);

/* Most extra descriptors hec_wait() watches. */
#define HEC_WAIT_MAX_FDS 4

/*
 * Drive transfers, waiting up to timeout_ms for network activity; returns
 * early when one of the n_fds descriptors `fds` (entries < 0 are skipped:
 * a signal self-pipe, a database socket) becomes readable.
 */
int hec_wait(struct hec *hec, int timeout_ms, const int *fds, size_t n_fds)
        RELAY_MUSTCHECK;

enum hec_req_kind { HEC_REQ_EVENTS, HEC_REQ_ACK, HEC_REQ_HEALTH };

/* What the caller should do with a finished request. */
enum hec_outcome {
	HEC_OK,               /* 2xx: accepted (see ack_id for acks) */
	HEC_OK_SLOW_DOWN,     /* 2xx with warning code 24/25 */
	HEC_RETRY,            /* 408/429/5xx/connect error: not indexed */
	HEC_RETRY_MAYBE_SENT, /* transport failed after the body went out:
	                         HEC may have indexed it (risked duplicate) */
	HEC_AUTH,             /* 401/403: token missing, invalid or disabled */
	HEC_REJECT_EVENT, /* 400 with invalid-event-number (prefix commit) */
	HEC_TOO_LARGE,    /* 413 */
	HEC_BAD_REQUEST,  /* any other 4xx: a bug or a config problem */
	HEC_BAD_ANSWER,   /* 2xx that is not HEC's answer to this request (not
	                     HEC's JSON, no integer ackId with acks on, no
	                     "acks" object to a poll): proves nothing */
};

/* The parsed JSON body of a HEC answer (all fields optional). */
struct hec_response {
	int code;                     /* -1 when absent */
	char text[128];               /* "" when absent */
	int64_t ack_id;               /* -1 when absent */
	int64_t invalid_event_number; /* -1 when absent */
	bool json;                    /* the body was a JSON object */
	bool has_acks;                /* it had an "acks" object */
	/* ack poll answers: {"acks":{"0":true,...}} */
	size_t n_acks;
	uint64_t *ack_ids; /* owned; free with hec_response_dispose */
	bool *acked;
};

struct hec_result {
	enum hec_req_kind kind;
	enum hec_outcome outcome;
	void *ctx;
	size_t endpoint;
	long http_status;   /* 0 when no HTTP answer */
	long retry_after_s; /* Retry-After seconds, -1 when absent */
	double latency_s;   /* request start to finish */
	size_t body_bytes;  /* bytes sent on the wire (after gzip) */
	char error[256];    /* transport error text, "" when none */
	int resends;        /* times curl sent the whole body again on another
	                       connection after one died without an answer: HEC
	                       may hold that many extra copies */
	char body_head[96]; /* start of a HEC_BAD_ANSWER body, printable */
	struct hec_response resp;
};

/*
 * Take the next finished request: returns 1 and fills *out (dispose it
 * with hec_result_dispose), or 0 when none is waiting.
 */
int hec_next_result(struct hec *hec, struct hec_result *out);
void hec_result_dispose(struct hec_result *r);

/* Parse a HEC JSON answer; unknown keys are ignored.  RELAY_EINVAL if the
 * body is not a JSON object (out is then zeroed with code -1). */
int hec_response_parse(struct hec_response *out, const char *body, size_t len);
void hec_response_dispose(struct hec_response *r);

/*
 * Classify a finished request.  http_status 0 means no HTTP answer;
 * `body_sent` says whether the whole request body went out before the
 * transport failed.
 */
enum hec_outcome
hec_classify(long http_status, bool body_sent, const struct hec_response *resp);

/*
 * A 2xx is evidence only when it is HEC's answer to this request: HEC's
 * JSON with an integer `code` (and an integer `ackId` for an event post on
 * a channel, i.e. acks on), or for a poll a JSON "acks" object.  Returns `o`,
 * or HEC_BAD_ANSWER for a 2xx that proves nothing (a load balancer's page, a
 * token with acknowledgement switched off).
 */
enum hec_outcome hec_check_answer(enum hec_outcome o,
                                  enum hec_req_kind kind,
                                  bool ack_channel,
                                  const struct hec_response *resp);

/* Stable lower-case name of an outcome, for logs and metrics labels. */
const char *hec_outcome_name(enum hec_outcome o);

#endif
