/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hec: the libcurl half of the HEC client (contract in hec.h).
 *
 * One CURLM drives every transfer; its connection cache keeps the
 * keep-alive connections to all endpoints.  A transfer (struct xfer) owns a
 * CURL easy handle plus its request body, response buffer and header list.
 * Finished transfers wait in a FIFO until hec_next_result() hands their
 * result over, then return to an idle pool and are reused as they are:
 * options are set once per handle and only the URL, body, headers and
 * share change per request.  Each endpoint has a CURLSH sharing cookies,
 * DNS and TLS sessions: the jar is per endpoint, so a load balancer's
 * sticky cookie from a send is replayed on that endpoint's ack polls and
 * never reaches another endpoint (cookies ignore ports, so two endpoints
 * on one host would otherwise share it).
 *
 * finish() alone turns a CURLcode and an HTTP status into a hec_outcome.
 * The token exists only in hec->auth and in the per-request header list;
 * no error text is ever built from either (curl's error buffer never holds
 * request headers).
 *
 * hec_new() calls curl_global_init() the first time: the relay is still
 * single-threaded then.  The global state lives until exit.
 */
#include "hec.h"

#include <curl/curl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/gzip.h"
#include "util/xalloc.h"

#define HEC_PATH_EVENT "/services/collector/event"
#define HEC_PATH_ACK "/services/collector/ack"
#define HEC_PATH_HEALTH "/services/collector/health"
#define HEC_DEFAULT_UA "clawdstrike-relay"
/* HEC answers are tiny JSON; a cap keeps a broken proxy from eating RAM. */
#define HEC_RESP_MAX (64 * 1024)
/*
 * Idle connections kept by the multi.  curl's default (4 x handles
 * currently added) would close keep-alive connections whenever the number
 * of busy transfers drops, so a burst would reconnect (and redo TLS).
 */
#define HEC_MAX_CONNECTS 64L
/* A transfer whose body buffer grew past this gives the memory back. */
#define HEC_BODY_KEEP (4u * 1024 * 1024)
#define HEC_CHANNEL_MAX 64
#define HEC_TCP_KEEPIDLE_S 60L
#define HEC_TCP_KEEPINTVL_S 30L

enum xfer_state { XFER_IDLE, XFER_ACTIVE, XFER_DONE };

struct xfer {
	struct xfer *next;     /* idle pool or done FIFO */
	struct xfer *all_next; /* every transfer, for hec_free */
	enum xfer_state state;
	CURL *easy;
	size_t share_ep; /* endpoint whose CURLSH is set; SIZE_MAX: none */
	struct curl_slist *headers;
	struct buf body; /* what goes on the wire (gzip or copy) */
	size_t body_off; /* how much of body curl has read */
	struct buf resp; /* response body, capped */
	struct timespec t0;
	char errbuf[CURL_ERROR_SIZE];
	bool ack_channel; /* an event post on an ack channel: needs an ackId */
	struct hec_result res;
};

struct endpoint {
	char *url;       /* as configured (hec_endpoint_url) */
	size_t base_len; /* url without trailing '/' */
	CURLSH *share;
};

struct hec {
	CURLM *multi;
	struct endpoint *eps;
	size_t n_eps;
	char *auth;    /* "Authorization: Splunk <token>"; never logged */
	bool token_ok; /* false: token has control characters */
	bool gzip;
	int gzip_level;
	long timeout_ms, connect_timeout_ms;
	char *ca, *cert, *key, *user_agent;
	bool insecure, http2;
	struct xfer *all, *idle;
	struct xfer *done_head, *done_tail;
	int n_active, n_done;
	struct buf scratch; /* URLs under construction */
};

/* ---- errors: the one place CURL/CURLM/CURLSH codes become relay codes */

static int curl_fail(const char *what, CURLcode c)
{
	return relay_error_set("hec: %s: %s", what, curl_easy_strerror(c));
}

static int multi_fail(const char *what, CURLMcode c)
{
	return relay_error_set("hec: %s: %s", what, curl_multi_strerror(c));
}

static double elapsed_s(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) +
	       (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Retry-After as seconds (integer or HTTP-date), -1 when absent/garbage. */
static long retry_after(CURL *easy)
{
	struct curl_header *h;
	const char *v;
	char *end;
	long n;
	time_t when;

	if (curl_easy_header(easy, "Retry-After", 0, CURLH_HEADER, -1, &h))
		return -1;
	v = h->value;
	while (*v == ' ' || *v == '\t')
		v++;
	if (*v >= '0' && *v <= '9') {
		n = strtol(v, &end, 10);
		while (*end == ' ' || *end == '\t')
			end++;
		return *end ? -1 : n; /* strtol saturates at LONG_MAX */
	}
	when = curl_getdate(v, NULL);
	if (when == -1)
		return -1;
	when -= time(NULL);
	return when > 0 ? (long)when : 0;
}

/* The start of an answer body for a log line: control bytes as '.'. */
static void printable_head(char *out, size_t size, const char *s, size_t len)
{
	size_t n = len < size - 1 ? len : size - 1;

	for (size_t i = 0; i < n; i++)
		out[i] =
		        s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' ? s[i] : '.';
	out[n] = '\0';
}

/*
 * Fill x->res from a finished transfer: every CURLcode and HTTP status is
 * mapped here.  A transport failure is classified as "no HTTP answer" even
 * when a status line had arrived (an answer cut short has lost its ackId),
 * and http_status still reports what was seen, for diagnosis.
 */
static void finish(struct xfer *x, CURLcode cc)
{
	struct hec_result *r = &x->res;
	curl_off_t up = 0;
	bool body_sent;

	r->latency_s = elapsed_s(&x->t0);
	r->http_status = 0;
	(void)curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE,
	                        &r->http_status);
	(void)curl_easy_getinfo(x->easy, CURLINFO_SIZE_UPLOAD_T, &up);
	/* A GET has no body that HEC could index. */
	body_sent = r->kind != HEC_REQ_HEALTH && up >= (curl_off_t)x->body.len;
	r->retry_after_s = r->http_status ? retry_after(x->easy) : -1;
	if (x->resp.len)
		(void)hec_response_parse(&r->resp, x->resp.data, x->resp.len);
	if (cc != CURLE_OK) {
		/* A long curl detail is cut to fit: fine for a log line. */
		if (snprintf(r->error, sizeof(r->error), "%s%s%s",
		             curl_easy_strerror(cc), x->errbuf[0] ? ": " : "",
		             x->errbuf) < 0)
			r->error[0] = '\0';
		r->outcome = hec_classify(0, body_sent, NULL);
		return;
	}
	r->outcome = hec_check_answer(
	        hec_classify(r->http_status, body_sent, &r->resp), r->kind,
	        x->ack_channel, &r->resp);
	if (r->outcome == HEC_BAD_ANSWER)
		printable_head(r->body_head, sizeof(r->body_head), x->resp.data,
		               x->resp.len);
}

/* ---- transfers */

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * n, room = x->resp.max - x->resp.len;

	/* Past the cap the rest is dropped, but read to the end so the
	 * connection stays reusable; the truncated JSON will not parse. */
	if (buf_append(&x->resp, p, len < room ? len : room))
		return len; /* cannot happen: the copy fits by construction */
	return len;
}

static size_t on_read(char *dst, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * n, left = x->body.len - x->body_off;

	if (len > left)
		len = left;
	if (len) {
		memcpy(dst, x->body.data + x->body_off, len);
		x->body_off += len;
	}
	return len;
}

/*
 * curl rewinds the body to send it again when a reused keep-alive
 * connection turns out to be dead, even after the whole request went out on
 * it.  If the server had read that request, HEC may already hold the
 * events: the rewind is allowed (it is usually an idle connection closed by
 * the server) but counted in `resends`, so the caller counts the risk.
 */
static int on_seek(void *arg, curl_off_t offset, int origin)
{
	struct xfer *x = arg;

	if (origin != SEEK_SET || offset < 0 || (size_t)offset > x->body.len)
		return CURL_SEEKFUNC_CANTSEEK;
	if (x->body_off > (size_t)offset)
		x->res.resends++;
	x->body_off = (size_t)offset;
	return CURL_SEEKFUNC_OK;
}

#define SETOPT(c, e, opt, val)                                                 \
	do {                                                                   \
		if (!(c))                                                      \
			(c) = curl_easy_setopt((e), (opt), (val));             \
	} while (0)

static CURLcode setup_tls(const struct hec *hec, CURL *e)
{
	CURLcode c = CURLE_OK;
	long verify = hec->insecure ? 0L : 1L;

	if (hec->ca)
		SETOPT(c, e, CURLOPT_CAINFO, hec->ca);
	if (hec->cert)
		SETOPT(c, e, CURLOPT_SSLCERT, hec->cert);
	if (hec->key)
		SETOPT(c, e, CURLOPT_SSLKEY, hec->key);
	SETOPT(c, e, CURLOPT_SSL_VERIFYPEER, verify);
	SETOPT(c, e, CURLOPT_SSL_VERIFYHOST, hec->insecure ? 0L : 2L);
	return c;
}

/* Options that never change for the life of a handle. */
static CURLcode setup_easy(const struct hec *hec, struct xfer *x)
{
	CURL *e = x->easy;
	CURLcode c = CURLE_OK;

	SETOPT(c, e, CURLOPT_PRIVATE, (void *)x);
	SETOPT(c, e, CURLOPT_ERRORBUFFER, x->errbuf);
	SETOPT(c, e, CURLOPT_NOSIGNAL, 1L);
	SETOPT(c, e, CURLOPT_PROTOCOLS_STR, "http,https");
	SETOPT(c, e, CURLOPT_TCP_KEEPALIVE, 1L);
	SETOPT(c, e, CURLOPT_TCP_KEEPIDLE, HEC_TCP_KEEPIDLE_S);
	SETOPT(c, e, CURLOPT_TCP_KEEPINTVL, HEC_TCP_KEEPINTVL_S);
	SETOPT(c, e, CURLOPT_TIMEOUT_MS, hec->timeout_ms);
	SETOPT(c, e, CURLOPT_CONNECTTIMEOUT_MS, hec->connect_timeout_ms);
	SETOPT(c, e, CURLOPT_USERAGENT, hec->user_agent);
	/* "" turns the cookie engine on without reading a file; the jar
	 * itself is the endpoint's share. */
	SETOPT(c, e, CURLOPT_COOKIEFILE, "");
	SETOPT(c, e, CURLOPT_WRITEFUNCTION, on_body);
	SETOPT(c, e, CURLOPT_WRITEDATA, (void *)x);
	SETOPT(c, e, CURLOPT_READFUNCTION, on_read);
	SETOPT(c, e, CURLOPT_READDATA, (void *)x);
	SETOPT(c, e, CURLOPT_SEEKFUNCTION, on_seek);
	SETOPT(c, e, CURLOPT_SEEKDATA, (void *)x);
	SETOPT(c, e, CURLOPT_HTTP_VERSION,
	       hec->http2 ? (long)CURL_HTTP_VERSION_2TLS
	                  : (long)CURL_HTTP_VERSION_1_1);
	/* HTTP/2: wait for a connection that can multiplex, not a new one. */
	if (hec->http2)
		SETOPT(c, e, CURLOPT_PIPEWAIT, 1L);
	if (!c)
		c = setup_tls(hec, e);
	return c;
}

static void xfer_destroy(struct xfer *x)
{
	curl_easy_cleanup(x->easy);
	curl_slist_free_all(x->headers);
	buf_dispose(&x->body);
	buf_dispose(&x->resp);
	hec_response_dispose(&x->res.resp);
	free(x);
}

static struct xfer *xfer_new(struct hec *hec)
{
	struct xfer *x = xcalloc(1, sizeof(*x));
	CURLcode c;

	buf_init(&x->body, 0);
	buf_init(&x->resp, HEC_RESP_MAX);
	x->share_ep = SIZE_MAX;
	x->easy = curl_easy_init();
	if (!x->easy) {
		relay_error_set("hec: curl_easy_init failed");
		xfer_destroy(x);
		return NULL;
	}
	c = setup_easy(hec, x);
	if (c) {
		curl_fail("easy handle set-up", c);
		xfer_destroy(x);
		return NULL;
	}
	x->all_next = hec->all;
	hec->all = x;
	return x;
}

static struct xfer *xfer_get(struct hec *hec)
{
	struct xfer *x = hec->idle;

	if (!x)
		return xfer_new(hec);
	hec->idle = x->next;
	x->next = NULL;
	return x;
}

/* Back to the idle pool, ready for the next request. */
static void xfer_put(struct hec *hec, struct xfer *x)
{
	curl_slist_free_all(x->headers);
	x->headers = NULL;
	if (x->body.cap > HEC_BODY_KEEP)
		buf_dispose(&x->body);
	buf_reset(&x->body);
	buf_reset(&x->resp);
	memset(&x->res, 0, sizeof(x->res));
	x->state = XFER_IDLE;
	x->next = hec->idle;
	hec->idle = x;
}

static struct curl_slist *slist_add(struct curl_slist *l, const char *s)
{
	struct curl_slist *n = curl_slist_append(l, s);

	if (!n) {
		/* Same policy as xalloc: dying loses nothing (see xalloc.h). */
		fputs("out of memory\n", stderr);
		abort();
	}
	return n;
}

static struct curl_slist *
headers_build(const struct hec *hec, const char *channel, bool json, bool gz)
{
	struct curl_slist *h = slist_add(NULL, hec->auth);
	char line[sizeof("X-Splunk-Request-Channel: ") + HEC_CHANNEL_MAX];

	if (json)
		h = slist_add(h, "Content-Type: application/json");
	if (gz)
		h = slist_add(h, "Content-Encoding: gzip");
	if (channel) {
		snprintf(line, sizeof(line), "X-Splunk-Request-Channel: %s",
		         channel);
		h = slist_add(h, line);
	}
	/* No "Expect: 100-continue" round trip before big bodies. */
	return slist_add(h, "Expect:");
}

/* Per-request options, then hand the transfer to the multi. */
static int xfer_start(struct hec *hec, struct xfer *x, size_t ep)
{
	CURL *e = x->easy;
	CURLcode c = CURLE_OK;
	CURLMcode mc;

	SETOPT(c, e, CURLOPT_URL, hec->scratch.data);
	if (x->share_ep != ep)
		SETOPT(c, e, CURLOPT_SHARE, hec->eps[ep].share);
	SETOPT(c, e, CURLOPT_HTTPHEADER, x->headers);
	if (x->res.kind == HEC_REQ_HEALTH) {
		SETOPT(c, e, CURLOPT_HTTPGET, 1L);
	} else {
		/* The body goes through on_read/on_seek (not POSTFIELDS) so
		 * that a resend by curl itself is seen: see on_seek. */
		SETOPT(c, e, CURLOPT_POST, 1L);
		SETOPT(c, e, CURLOPT_POSTFIELDSIZE_LARGE,
		       (curl_off_t)x->body.len);
	}
	if (c)
		return curl_fail("request set-up", c);
	x->share_ep = ep;
	x->body_off = 0;
	x->res.resends = 0;
	x->errbuf[0] = '\0';
	x->res.endpoint = ep;
	x->res.retry_after_s = -1;
	hec_response_dispose(&x->res.resp);
	clock_gettime(CLOCK_MONOTONIC, &x->t0);
	mc = curl_multi_add_handle(hec->multi, e);
	if (mc)
		return multi_fail("add transfer", mc);
	x->state = XFER_ACTIVE;
	hec->n_active++;
	return 0;
}

/* GUIDs only: the value goes into a header line and a query string. */
static bool channel_ok(const char *ch)
{
	size_t n = 0;

	for (; ch[n]; n++) {
		char c = ch[n];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		      (c >= 'A' && c <= 'Z') || c == '-'))
			return false;
	}
	return n > 0 && n <= HEC_CHANNEL_MAX;
}

static int check_request(const struct hec *hec, size_t ep, const char *ch)
{
	if (ep >= hec->n_eps) {
		relay_error_set("hec: no endpoint %zu", ep);
		return RELAY_EINVAL;
	}
	if (ch && !channel_ok(ch)) {
		relay_error_set("hec: channel is not a GUID");
		return RELAY_EINVAL;
	}
	if (!hec->token_ok) {
		relay_error_set("hec: token contains control characters");
		return RELAY_EINVAL;
	}
	return 0;
}

static int
url_build(struct hec *hec, size_t ep, const char *path, const char *channel)
{
	const struct endpoint *e = &hec->eps[ep];

	buf_reset(&hec->scratch);
	if (buf_printf(&hec->scratch, "%.*s%s", (int)e->base_len, e->url,
	               path) ||
	    (channel && buf_printf(&hec->scratch, "?channel=%s", channel)))
		return relay_error_set("hec: URL too long");
	return 0;
}

/* Common tail of the three request kinds; gives x back on failure. */
static int launch(struct hec *hec, struct xfer *x, size_t ep, int rc)
{
	if (!rc)
		rc = xfer_start(hec, x, ep);
	if (rc)
		xfer_put(hec, x);
	return rc;
}

static struct xfer *
request_begin(struct hec *hec, enum hec_req_kind kind, void *ctx)
{
	struct xfer *x = xfer_get(hec);

	if (!x)
		return NULL;
	x->res.kind = kind;
	x->res.ctx = ctx;
	x->ack_channel = false;
	x->res.body_head[0] = '\0';
	return x;
}

int hec_post_events(struct hec *hec,
                    size_t endpoint,
                    const char *channel,
                    const char *body,
                    size_t len,
                    void *ctx)
{
	struct xfer *x;
	int rc = check_request(hec, endpoint, channel);

	if (rc)
		return rc;
	x = request_begin(hec, HEC_REQ_EVENTS, ctx);
	if (!x)
		return RELAY_ERR;
	x->ack_channel = channel != NULL;
	if (hec->gzip)
		rc = gzip_compress(&x->body, body, len, hec->gzip_level);
	else
		rc = buf_append(&x->body, body, len);
	if (!rc)
		rc = url_build(hec, endpoint, HEC_PATH_EVENT, NULL);
	x->res.body_bytes = x->body.len;
	x->headers = headers_build(hec, channel, true, hec->gzip);
	return launch(hec, x, endpoint, rc);
}

/* {"acks":[1,2,3]} without printf: polls can carry many ids. */
static int acks_body(struct buf *b, const uint64_t *ids, size_t n)
{
	char num[24];
	int rc = buf_puts(b, "{\"acks\":[");

	for (size_t i = 0; i < n && !rc; i++) {
		uint64_t v = ids[i];
		char *p = num + sizeof(num);

		do {
			*--p = (char)('0' + v % 10);
			v /= 10;
		} while (v);
		if (i)
			*--p = ',';
		rc = buf_append(b, p, (size_t)(num + sizeof(num) - p));
	}
	return rc ? rc : buf_puts(b, "]}");
}

int hec_poll_acks(struct hec *hec,
                  size_t endpoint,
                  const char *channel,
                  const uint64_t *ids,
                  size_t n,
                  void *ctx)
{
	struct xfer *x;
	int rc = check_request(hec, endpoint, channel);

	if (!rc && !channel) {
		relay_error_set("hec: ack poll without a channel");
		rc = RELAY_EINVAL;
	}
	if (rc)
		return rc;
	x = request_begin(hec, HEC_REQ_ACK, ctx);
	if (!x)
		return RELAY_ERR;
	rc = acks_body(&x->body, ids, n);
	if (!rc)
		rc = url_build(hec, endpoint, HEC_PATH_ACK, channel);
	x->res.body_bytes = x->body.len;
	x->headers = headers_build(hec, channel, true, false);
	return launch(hec, x, endpoint, rc);
}

int hec_check_health(struct hec *hec, size_t endpoint, void *ctx)
{
	struct xfer *x;
	int rc = check_request(hec, endpoint, NULL);

	if (rc)
		return rc;
	x = request_begin(hec, HEC_REQ_HEALTH, ctx);
	if (!x)
		return RELAY_ERR;
	rc = url_build(hec, endpoint, HEC_PATH_HEALTH, NULL);
	x->headers = headers_build(hec, NULL, false, false);
	return launch(hec, x, endpoint, rc);
}

/* ---- driving the multi */

static void done_push(struct hec *hec, struct xfer *x)
{
	x->next = NULL;
	x->state = XFER_DONE;
	if (hec->done_tail)
		hec->done_tail->next = x;
	else
		hec->done_head = x;
	hec->done_tail = x;
	hec->n_active--;
	hec->n_done++;
}

static void collect(struct hec *hec)
{
	for (;;) {
		int left;
		CURLMsg *m = curl_multi_info_read(hec->multi, &left);
		struct xfer *x = NULL;
		CURLcode cc;

		if (!m)
			break;
		if (m->msg != CURLMSG_DONE)
			continue;
		cc = m->data.result;
		(void)curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &x);
		/* m is invalid once its handle leaves the multi. */
		(void)curl_multi_remove_handle(hec->multi, x->easy);
		finish(x, cc);
		done_push(hec, x);
	}
}

static int drive(struct hec *hec)
{
	int running;
	CURLMcode mc = curl_multi_perform(hec->multi, &running);

	if (mc)
		return multi_fail("perform", mc);
	collect(hec);
	return 0;
}

int hec_wait(struct hec *hec, int timeout_ms, const int *fds, size_t n_fds)
{
	struct curl_waitfd wfd[HEC_WAIT_MAX_FDS];
	unsigned n = 0;
	CURLMcode mc;
	int rc;

	if (n_fds > HEC_WAIT_MAX_FDS)
		return relay_error_set("hec_wait: at most %d extra fds",
		                       HEC_WAIT_MAX_FDS);
	for (size_t i = 0; i < n_fds; i++)
		if (fds[i] >= 0)
			wfd[n++] = (struct curl_waitfd){
			        .fd = fds[i], .events = CURL_WAIT_POLLIN};
	rc = drive(hec);
	if (rc)
		return rc;
	/* Results already waiting: just take what the sockets have now. */
	if (hec->done_head || timeout_ms < 0)
		timeout_ms = 0;
	mc = curl_multi_poll(hec->multi, n ? wfd : NULL, n, timeout_ms, NULL);
	if (mc)
		return multi_fail("poll", mc);
	return drive(hec);
}

int hec_next_result(struct hec *hec, struct hec_result *out)
{
	struct xfer *x = hec->done_head;

	if (!x)
		return 0;
	hec->done_head = x->next;
	if (!hec->done_head)
		hec->done_tail = NULL;
	hec->n_done--;
	*out = x->res; /* the ack arrays move to the caller */
	memset(&x->res.resp, 0, sizeof(x->res.resp));
	xfer_put(hec, x);
	return 1;
}

void hec_result_dispose(struct hec_result *r)
{
	if (r)
		hec_response_dispose(&r->resp);
}

int hec_in_flight(const struct hec *hec)
{
	return hec->n_active + hec->n_done;
}

/* ---- lifecycle */

static void auth_free(struct hec *hec)
{
	if (hec->auth) {
		explicit_bzero(hec->auth, strlen(hec->auth));
		free(hec->auth);
		hec->auth = NULL;
	}
}

void hec_set_token(struct hec *hec, const char *token)
{
	bool ok = true;

	for (const char *p = token; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			ok = false;
	auth_free(hec);
	hec->auth = xasprintf("Authorization: Splunk %s", token);
	hec->token_ok = ok;
}

static int global_init(void)
{
	static bool done;
	CURLcode c;

	if (done)
		return 0;
	c = curl_global_init(CURL_GLOBAL_DEFAULT);
	if (c)
		return curl_fail("global init", c);
	done = true;
	return 0;
}

/* http(s)://host[:port][/prefix]; checked now so a typo fails at start. */
static int url_check(const char *url, size_t i)
{
	CURLU *u = curl_url();
	char *scheme = NULL;
	int rc = 0;

	if (!u || curl_url_set(u, CURLUPART_URL, url, 0) ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) ||
	    (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)) {
		relay_error_set("hec: url %zu is not an http(s) URL", i);
		rc = RELAY_EINVAL;
	}
	curl_free(scheme);
	curl_url_cleanup(u);
	return rc;
}

static int endpoint_init(struct endpoint *e, const char *url, size_t i)
{
	CURLSHcode sc = CURLSHE_OK;
	int rc = url_check(url, i);

	if (rc)
		return rc;
	e->url = xstrdup(url);
	e->base_len = strlen(url);
	while (e->base_len && url[e->base_len - 1] == '/')
		e->base_len--;
	e->share = curl_share_init();
	if (!e->share)
		return relay_error_set("hec: curl_share_init failed");
	sc = curl_share_setopt(e->share, CURLSHOPT_SHARE,
	                       CURL_LOCK_DATA_COOKIE);
	if (!sc)
		sc = curl_share_setopt(e->share, CURLSHOPT_SHARE,
		                       CURL_LOCK_DATA_DNS);
	if (!sc)
		sc = curl_share_setopt(e->share, CURLSHOPT_SHARE,
		                       CURL_LOCK_DATA_SSL_SESSION);
	if (sc)
		return relay_error_set("hec: share set-up: %s",
		                       curl_share_strerror(sc));
	return 0;
}

static int file_check(const char *what, const char *path)
{
	if (path && access(path, R_OK) != 0) {
		relay_error_set("hec: cannot read %s %s", what, path);
		return RELAY_EINVAL;
	}
	return 0;
}

static int opts_check(const struct hec_opts *o)
{
	int rc;

	if (!o->n_urls || !o->urls || !o->token) {
		relay_error_set("hec: need at least one URL and a token");
		return RELAY_EINVAL;
	}
	if (o->gzip && (o->gzip_level < 0 || o->gzip_level > 9)) {
		relay_error_set("hec: gzip level %d out of range 1..9",
		                o->gzip_level);
		return RELAY_EINVAL;
	}
	if (o->timeout_ms < 0 || o->connect_timeout_ms < 0) {
		relay_error_set("hec: negative timeout");
		return RELAY_EINVAL;
	}
	rc = file_check("CA file", o->ca_cert_path);
	if (!rc)
		rc = file_check("client certificate", o->client_cert_path);
	if (!rc)
		rc = file_check("client key", o->client_key_path);
	return rc;
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void copy_opts(struct hec *hec, const struct hec_opts *o)
{
	hec->gzip = o->gzip;
	/* 0 is "unset" in a zeroed struct: level 1, the fast default. */
	hec->gzip_level = o->gzip_level ? o->gzip_level : 1;
	/* 0 keeps curl's meaning: no overall limit, 300 s to connect. */
	hec->timeout_ms = o->timeout_ms;
	hec->connect_timeout_ms = o->connect_timeout_ms;
	hec->ca = dup_or_null(o->ca_cert_path);
	hec->cert = dup_or_null(o->client_cert_path);
	hec->key = dup_or_null(o->client_key_path);
	hec->insecure = o->insecure_skip_verify;
	hec->http2 = o->http2;
	/* HEC forces HTTP/1.0 (no keep-alive) on clients without one. */
	hec->user_agent =
	        xstrdup(o->user_agent && *o->user_agent ? o->user_agent
	                                                : HEC_DEFAULT_UA);
}

int hec_new(struct hec **out, const struct hec_opts *opts)
{
	struct hec *hec = NULL;
	int rc;

	*out = NULL;
	rc = opts_check(opts);
	if (!rc)
		rc = global_init();
	if (rc)
		return rc;
	hec = xcalloc(1, sizeof(*hec));
	buf_init(&hec->scratch, 0);
	copy_opts(hec, opts);
	hec_set_token(hec, opts->token);
	if (!hec->token_ok) {
		relay_error_set("hec: token contains control characters");
		rc = RELAY_EINVAL;
		goto done;
	}
	hec->eps = xcalloc(opts->n_urls, sizeof(*hec->eps));
	/* n_eps counts a half-built endpoint too, so hec_free cleans it. */
	for (size_t i = 0; i < opts->n_urls && !rc; i++, hec->n_eps++)
		rc = endpoint_init(&hec->eps[i], opts->urls[i], i);
	if (rc)
		goto done;
	hec->multi = curl_multi_init();
	if (!hec->multi || curl_multi_setopt(hec->multi, CURLMOPT_MAXCONNECTS,
	                                     HEC_MAX_CONNECTS))
		rc = relay_error_set("hec: curl_multi_init failed");
done:
	if (rc)
		hec_free(hec);
	else
		*out = hec;
	return rc;
}

void hec_free(struct hec *hec)
{
	struct xfer *x, *next;

	if (!hec)
		return;
	/* Transfers still running are abandoned: their results are lost. */
	for (x = hec->all; x; x = next) {
		next = x->all_next;
		if (x->state == XFER_ACTIVE)
			(void)curl_multi_remove_handle(hec->multi, x->easy);
		xfer_destroy(x);
	}
	curl_multi_cleanup(hec->multi);
	/* Shares go last: no easy handle may still point at them. */
	for (size_t i = 0; i < hec->n_eps; i++) {
		curl_share_cleanup(hec->eps[i].share);
		free(hec->eps[i].url);
	}
	free(hec->eps);
	auth_free(hec);
	free(hec->ca);
	free(hec->cert);
	free(hec->key);
	free(hec->user_agent);
	buf_dispose(&hec->scratch);
	free(hec);
}

size_t hec_endpoint_count(const struct hec *hec)
{
	return hec->n_eps;
}

const char *hec_endpoint_url(const struct hec *hec, size_t i)
{
	return i < hec->n_eps ? hec->eps[i].url : NULL;
}
