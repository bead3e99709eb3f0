/* SPDX-License-Identifier: Apache-2.0 */
/*
 * collector: HEC endpoint handlers.  See collector.h.
 */
#include "collector.h"

#include <jansson.h>
#include <math.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "body.h"
#include "encoding.h"
#include "util/gzip.h"
#include "util/log.h"
#include "util/xalloc.h"

#define CHANNEL_HEADER "X-Splunk-Request-Channel"

/* What the ingest endpoints (event, raw) share once a request passed the
 * checks that come before its body. */
struct ingest {
	struct token *tok;
	struct acks *node; /* the indexer the request landed on */
	bool ack;          /* the token uses indexer acknowledgement */
	bool issue_ack;    /* ... and this answer carries an ackId */
	bool has_channel;
	struct channel_id ch;
	const char *channel; /* as sent */
	struct buf decoded;  /* gunzipped body (when gzip) */
	const char *data;    /* the body to parse */
	size_t len;
	char host[64]; /* client address: the default host */
};

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0)
		;
}

static int authenticate(struct emu *emu, struct request *rq, struct token **out)
{
	struct auth_request a = {
	        .authorization = request_header(rq, "Authorization"),
	        .basic_password = rq->basic_password,
	        .query_token = request_query(rq, "token"),
	};

	return tokens_auth(&emu->opts->tokens, &a, out);
}

/* The channel from the header (preferred) or ?channel=; 0 or a code. */
static int find_channel(struct request *rq, bool required, struct ingest *in)
{
	const char *c = request_header(rq, CHANNEL_HEADER);

	if (!c)
		c = request_query(rq, "channel");
	if (!c)
		return required ? HEC_CHANNEL_MISSING : 0;
	if (acks_parse_channel(c, &in->ch) != 0)
		return HEC_CHANNEL_INVALID;
	in->has_channel = true;
	in->channel = c;
	return 0;
}

static bool inject_busy(struct emu *emu, struct reply *r)
{
	unsigned ra = atomic_load(&emu->faults.retry_after_s);

	if (faults_take(&emu->faults, FAULT_BUSY)) {
		counters_add(&emu->counters.faults_busy, 1);
		reply_hec(r, HEC_BUSY);
	} else if (faults_take(&emu->faults, FAULT_THROTTLE)) {
		counters_add(&emu->counters.faults_throttled, 1);
		reply_hec(r, HEC_QUEUE_FULL);
	} else {
		return false;
	}
	r->retry_after_s = ra;
	return true;
}

/* Gunzip when asked; 0, or -1 with the reply filled. */
static int decode_body(struct emu *emu,
                       struct request *rq,
                       struct ingest *in,
                       struct reply *r)
{
	enum encoding enc =
	        gzip_encoding(request_header(rq, "Content-Encoding"));
	int rc;

	in->data = rq->body.data ? rq->body.data : "";
	in->len = rq->body.len;
	if (enc == ENCODING_IDENTITY)
		goto done;
	if (enc == ENCODING_UNSUPPORTED) {
		reply_unsupported_encoding(r);
		return -1;
	}
	buf_init(&in->decoded, emu->opts->max_content_length);
	rc = gzip_decompress(&in->decoded, in->data, in->len);
	if (rc == RELAY_EFULL) {
		reply_too_large(r, emu->opts->max_content_length);
		return -1;
	}
	if (rc) {
		log_debug("bad gzip body", "error=%s", relay_error_last());
		reply_hec(r, HEC_INVALID_FORMAT);
		return -1;
	}
	in->data = in->decoded.data ? in->decoded.data : "";
	in->len = in->decoded.len;
done:
	counters_add(&emu->counters.bytes_decoded, in->len);
	return 0;
}

/* Auth, channel, faults and decoding: 0, or -1 with the reply filled. */
static int ingest_begin(struct emu *emu,
                        struct request *rq,
                        bool raw,
                        struct ingest *in,
                        struct reply *r)
{
	int code = authenticate(emu, rq, &in->tok);
	bool need;

	if (code) {
		reply_hec(r, code);
		return -1;
	}
	in->ack = tokens_ack(&emu->opts->tokens, in->tok);
	/* no_ack_id: the token's acknowledgement looks switched off, but
	 * the channel it demands is still checked. */
	in->issue_ack = in->ack && !faults_on(&emu->faults.no_ack_id);
	need = in->ack || (raw && emu->opts->raw_requires_channel);
	code = find_channel(rq, need, in);
	if (code) {
		reply_hec(r, code);
		return -1;
	}
	if (inject_busy(emu, r))
		return -1;
	request_client_ip(rq, in->host, sizeof(in->host));
	return decode_body(emu, rq, in, r);
}

/* Take an ack id for a request about to be indexed; -1: channel full. */
static int reserve_ack(struct emu *emu,
                       struct ingest *in,
                       struct ack_ticket *t,
                       struct reply *r)
{
	int rc = acks_issue(in->node, &in->ch, emu_now_ms(), t);

	if (rc == ACKS_OK) {
		counters_add(&emu->counters.acks_issued, 1);
		return 0;
	}
	/* ackExpiryMode=off: a full channel blocks new events; Splunk's
	 * status for it is unknown, 503 code 9 is the likely one. */
	reply_hec(r, HEC_BUSY);
	return -1;
}

/* JSON literals for the metadata every line shares; the caller frees. */
struct literals {
	char *host, *channel, *source, *sourcetype, *index;
};

static char *literal(const char *s)
{
	json_t *j = json_string(s);
	char *out = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;

	json_decref(j);
	return out ? out : xstrdup("\"\"");
}

static void literals_dispose(struct literals *l)
{
	free(l->host);
	free(l->channel);
	free(l->source);
	free(l->sourcetype);
	free(l->index);
}

static void meta_init(struct line_meta *m,
                      struct literals *l,
                      const struct ingest *in,
                      const char *endpoint)
{
	memset(l, 0, sizeof(*l));
	l->host = literal(in->host);
	l->channel = in->has_channel ? literal(in->channel) : xstrdup("null");
	m->host = l->host;
	m->channel = l->channel;
	m->source = in->tok->json_source;
	m->sourcetype = in->tok->json_sourcetype;
	m->index = in->tok->json_index;
	m->token = in->tok->json_name;
	m->endpoint = endpoint;
	m->ack_id = -1;
	m->received = emu_wall_s();
}

/* Write a request's lines: from now on they are in the index. */
static int
write_durable(struct emu *emu, const char *lines, size_t len, size_t n_events)
{
	if (output_write(&emu->out, lines, len) != 0) {
		log_error("output write failed", "error=%s",
		          relay_error_last());
		return -1;
	}
	counters_add(&emu->counters.events_durable, n_events);
	return 0;
}

void collector_durable(void *emu,
                       const char *lines,
                       size_t len,
                       size_t n_events)
{
	/* Logged inside; a held request has no one left to tell. */
	(void)write_durable(emu, lines, len, n_events);
}

/* When the request's ack id reads true: ack_delay_ms plus jitter, or
 * never (ack_never). */
static uint64_t ready_at(struct emu *emu)
{
	if (faults_take(&emu->faults, FAULT_ACK_NEVER)) {
		counters_add(&emu->counters.acks_never, 1);
		return ACKS_NEVER;
	}
	return emu_now_ms() + faults_ack_delay_ms(&emu->faults);
}

/*
 * Index the lines and make the ack readable.  Normally the lines are
 * written before the answer; in lossy mode a request with an ack id
 * leaves them with the id, to be written when it reads true.
 */
static int commit(struct emu *emu,
                  struct ingest *in,
                  const struct buf *lines,
                  size_t n,
                  const struct ack_ticket *t)
{
	struct acks_held held = {lines->data, lines->len, n};
	bool lossy = t && faults_on(&emu->faults.lossy);

	if (!lossy && write_durable(emu, lines->data, lines->len, n) != 0)
		return -1;
	counters_add(&emu->counters.events_indexed, n);
	if (t &&
	    !acks_mark_indexed(in->node, t, ready_at(emu),
	                       lossy ? &held : NULL) &&
	    lossy)
		counters_add(&emu->counters.events_lost_in_restart, n);
	return 0;
}

/* 200 for an indexed request: maybe dropped, maybe a 2xx warning. */
static void answer_indexed(struct emu *emu, struct reply *r, int64_t ack_id)
{
	int code = HEC_SUCCESS;

	if (faults_take(&emu->faults, FAULT_DROP)) {
		counters_add(&emu->counters.faults_dropped, 1);
		r->drop = true;
	} else if (faults_take(&emu->faults, FAULT_WARN)) {
		counters_add(&emu->counters.faults_warned, 1);
		code = (int)atomic_load(&emu->faults.warn_code);
	}
	reply_success(r, code, ack_id);
}

static void index_envelopes(struct emu *emu,
                            struct ingest *in,
                            const struct body_result *res,
                            struct reply *r)
{
	bool ok = res->code == 0;
	bool want_ack = ok && in->issue_ack;
	struct ack_ticket t;
	struct line_meta m;
	struct literals l;
	struct buf lines;

	if (want_ack && reserve_ack(emu, in, &t, r) != 0)
		return;
	buf_init(&lines, 0);
	meta_init(&m, &l, in, "event");
	m.ack_id = want_ack ? (int64_t)t.id : -1;
	for (size_t i = 0; output_enabled(&emu->out) && i < res->n; i++)
		output_format_envelope(&lines, &res->ev[i], &m);
	if (commit(emu, in, &lines, res->n, want_ack ? &t : NULL) != 0)
		reply_hec(r, HEC_INTERNAL);
	else if (ok)
		answer_indexed(emu, r, m.ack_id);
	else
		reply_hec_event(r, res->code,
		                res->code == HEC_NO_DATA ? -1
		                                         : res->event_number);
	literals_dispose(&l);
	buf_dispose(&lines);
}

static void handle_event(struct emu *emu,
                         struct request *rq,
                         struct acks *node,
                         struct reply *r)
{
	struct ingest in;
	struct body_result res;
	struct body_rules rules;

	memset(&in, 0, sizeof(in));
	in.node = node;
	body_result_init(&res);
	if (ingest_begin(emu, rq, false, &in, r) != 0)
		goto done;
	rules.max_event_size = emu->opts->max_event_size;
	rules.token = in.tok;
	rules.code7_exact = faults_on(&emu->faults.code7_exact);
	rules.unknown = emu->opts->unknown;
	body_parse(&res, in.data, in.len, &rules);
	if (res.code && res.n == 0) {
		reply_hec_event(r, res.code, res.event_number);
		goto done;
	}
	index_envelopes(emu, &in, &res, r);
done:
	body_result_dispose(&res);
	buf_dispose(&in.decoded);
}

/* Raw metadata from the query string, over the token's defaults. */
static int raw_meta(struct emu *emu,
                    struct request *rq,
                    struct ingest *in,
                    struct line_meta *m,
                    struct literals *l)
{
	const char *host = request_query(rq, "host");
	const char *src = request_query(rq, "source");
	const char *st = request_query(rq, "sourcetype");
	const char *idx = request_query(rq, "index");
	const char *tm = request_query(rq, "time");
	char *end;

	(void)emu;
	if (host) {
		free(l->host);
		l->host = literal(host);
		m->host = l->host;
	}
	if (src)
		m->source = l->source = literal(src);
	if (st)
		m->sourcetype = l->sourcetype = literal(st);
	if (idx && *idx) {
		if (!token_index_allowed(in->tok, idx))
			return HEC_INCORRECT_INDEX;
		m->index = l->index = literal(idx);
	}
	if (tm) {
		double t = strtod(tm, &end);

		if (end != tm && !*end && isfinite(t))
			m->received = t;
	}
	return 0;
}

/* Default line breaking: one event per non-empty line (props.conf's
 * LINE_BREAKER default), without the line end. */
static size_t raw_lines(struct buf *lines,
                        const char *p,
                        size_t len,
                        const struct line_meta *m,
                        bool format)
{
	const char *end = p + len;
	size_t n = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		const char *q = e;

		while (q > p && (q[-1] == '\r'))
			q--;
		if (q > p) {
			if (format)
				output_format_raw(lines, p, (size_t)(q - p), m);
			n++;
		}
		p = nl ? nl + 1 : end;
	}
	return n;
}

static void handle_raw(struct emu *emu,
                       struct request *rq,
                       struct acks *node,
                       struct reply *r)
{
	struct ingest in;
	struct ack_ticket t;
	struct line_meta m;
	struct literals l;
	struct buf lines;
	size_t n;
	int code;

	memset(&in, 0, sizeof(in));
	in.node = node;
	memset(&l, 0, sizeof(l));
	buf_init(&lines, 0);
	if (ingest_begin(emu, rq, true, &in, r) != 0)
		goto done;
	meta_init(&m, &l, &in, "raw");
	code = raw_meta(emu, rq, &in, &m, &l);
	n = code ? 0 : raw_lines(&lines, in.data, in.len, &m, false);
	if (!code && n == 0)
		code = HEC_NO_DATA;
	if (code) {
		reply_hec(r, code);
		goto done;
	}
	if (in.issue_ack && reserve_ack(emu, &in, &t, r) != 0)
		goto done;
	m.ack_id = in.issue_ack ? (int64_t)t.id : -1;
	if (output_enabled(&emu->out))
		raw_lines(&lines, in.data, in.len, &m, true);
	if (commit(emu, &in, &lines, n, in.issue_ack ? &t : NULL) != 0)
		reply_hec(r, HEC_INTERNAL);
	else
		answer_indexed(emu, r, m.ack_id);
done:
	literals_dispose(&l);
	buf_dispose(&lines);
	buf_dispose(&in.decoded);
}

/* {"acks":[0,1,...]} into ids; -1 for anything else. */
static int
parse_ack_body(const char *data, size_t len, uint64_t **ids, size_t *n)
{
	json_error_t err;
	json_t *root = json_loadb(data, len, 0, &err), *a, *v;
	size_t i;
	int rc = -1;

	a = json_is_object(root) ? json_object_get(root, "acks") : NULL;
	if (!json_is_array(a))
		goto done;
	*n = json_array_size(a);
	*ids = xcalloc(*n ? *n : 1, sizeof(**ids));
	json_array_foreach(a, i, v)
	{
		if (!json_is_integer(v)) {
			free(*ids);
			*ids = NULL;
			goto done;
		}
		/* A negative id can never have been issued. */
		(*ids)[i] = json_integer_value(v) < 0
		                    ? UINT64_MAX
		                    : (uint64_t)json_integer_value(v);
	}
	rc = 0;
done:
	json_decref(root);
	return rc;
}

struct ack_result {
	uint64_t id;
	bool ok;
};

static int by_id(const void *a, const void *b)
{
	uint64_t x = ((const struct ack_result *)a)->id;
	uint64_t y = ((const struct ack_result *)b)->id;

	return x < y ? -1 : x > y;
}

/*
 * {"acks":{"0":true,...}}: one key per distinct id (an id asked twice is
 * true if either lookup was), negative ids left out.
 */
static char *ack_answer(const uint64_t *ids, const bool *ok, size_t n)
{
	struct ack_result *v = xcalloc(n ? n : 1, sizeof(*v));
	struct buf b;
	char item[48];
	size_t m = 0;

	for (size_t i = 0; i < n; i++) {
		if (ids[i] == UINT64_MAX)
			continue;
		v[m].id = ids[i];
		v[m++].ok = ok[i];
	}
	qsort(v, m, sizeof(*v), by_id);
	buf_init(&b, 0);
	if (buf_puts(&b, "{\"acks\":{") != 0)
		abort();
	for (size_t i = 0; i < m; i++) {
		bool t = v[i].ok;

		while (i + 1 < m && v[i + 1].id == v[i].id)
			t = v[++i].ok || t;
		snprintf(item, sizeof(item), "%s\"%llu\":%s",
		         b.len > 9 ? "," : "", (unsigned long long)v[i].id,
		         t ? "true" : "false");
		if (buf_puts(&b, item) != 0)
			abort();
	}
	if (buf_puts(&b, "}}") != 0)
		abort();
	free(v);
	return buf_take(&b, NULL);
}

/*
 * --require-channel-cookie: behind a load balancer that routes on the
 * channel cookie, a poll without it lands on some other indexer, which
 * knows nothing of the channel.  True when this node would get the poll.
 */
static bool cookie_routes_here(struct emu *emu,
                               struct request *rq,
                               const struct channel_id *ch)
{
	const char *v;
	struct channel_id got;

	if (!emu->opts->require_channel_cookie)
		return true;
	v = MHD_lookup_connection_value(rq->conn, MHD_COOKIE_KIND,
	                                emu->opts->channel_cookie);
	if (v && acks_parse_channel(v, &got) == 0 &&
	    !memcmp(got.b, ch->b, sizeof(got.b)))
		return true;
	counters_add(&emu->counters.ack_cookie_misses, 1);
	log_warn("ack poll without the channel cookie: answered as another "
	         "indexer would (every id false)",
	         "cookie=%s", v ? "mismatch" : "missing");
	return false;
}

/* inputs.conf channel_cookie: Set-Cookie NAME=<channel> on answers to
 * requests that name a (valid) channel. */
static void
set_channel_cookie(struct emu *emu, struct request *rq, struct reply *r)
{
	const char *c = request_header(rq, CHANNEL_HEADER);
	struct channel_id ch;

	if (!emu->opts->channel_cookie || r->drop)
		return;
	if (!c)
		c = request_query(rq, "channel");
	if (!c || acks_parse_channel(c, &ch) != 0)
		return;
	r->set_cookie = xasprintf("%s=%s", emu->opts->channel_cookie, c);
}

static void handle_ack(struct emu *emu,
                       struct request *rq,
                       struct acks *node,
                       struct reply *r)
{
	struct ingest in;
	struct token *tok;
	uint64_t *ids = NULL;
	bool *ok = NULL;
	char *answer;
	size_t n = 0;
	int code = authenticate(emu, rq, &tok);

	memset(&in, 0, sizeof(in));
	if (!code && !tokens_ack(&emu->opts->tokens, tok))
		code = HEC_ACK_DISABLED;
	if (!code)
		code = find_channel(rq, true, &in);
	if (code) {
		reply_hec(r, code);
		goto done;
	}
	if (decode_body(emu, rq, &in, r) != 0)
		goto done;
	if (parse_ack_body(in.data, in.len, &ids, &n) != 0) {
		reply_hec(r, HEC_INVALID_FORMAT);
		goto done;
	}
	ok = xcalloc(n ? n : 1, sizeof(*ok));
	if (cookie_routes_here(emu, rq, &in.ch))
		acks_query(node, &in.ch, ids, n, ok, emu_now_ms());
	counters_add(&emu->counters.ack_polls, 1);
	counters_add(&emu->counters.ack_ids_queried, n);
	for (size_t i = 0; i < n; i++)
		counters_add(&emu->counters.acks_true, ok[i]);
	answer = ack_answer(ids, ok, n);
	reply_json(r, 200, answer, strlen(answer));
	/* The ids found true are forgotten all the same: the client has
	 * lost them, as when a poll's answer is lost on the way. */
	if (faults_take(&emu->faults, FAULT_DROP_ACK)) {
		counters_add(&emu->counters.faults_ack_dropped, 1);
		r->drop = true;
	}
done:
	free(ids);
	free(ok);
	buf_dispose(&in.decoded);
}

/* Health: optional token check (docs) and the injected state. */
static void handle_health(struct emu *emu, struct request *rq, struct reply *r)
{
	const char *ackq = request_query(rq, "ack");
	bool ack = ackq && !strcmp(ackq, "true");
	int state = atomic_load(&emu->faults.health);
	struct token *tok;
	int code = HEC_HEALTHY;

	if (emu->opts->health_checks_token) {
		int a = authenticate(emu, rq, &tok);

		if (a == HEC_INVALID_TOKEN) {
			reply_hec(r, HEC_HEALTH_INVALID_TOKEN);
			return;
		}
		if (a == HEC_TOKEN_DISABLED) {
			reply_hec(r, HEC_HEALTH_TOKEN_DISABLED);
			return;
		}
	}
	if (state == HEALTH_QUEUES_FULL)
		code = ack ? HEC_UNHEALTHY_BOTH : HEC_UNHEALTHY_QUEUES;
	else if (state == HEALTH_ACK_UNAVAILABLE && ack)
		code = HEC_UNHEALTHY_ACK;
	else if (state == HEALTH_SHUTTING_DOWN)
		code = HEC_SHUTTING_DOWN;
	reply_hec(r, code);
}

/* The node an event, raw or ack request lands on (--nodes). */
static struct acks *route(struct emu *emu)
{
	unsigned i = cluster_route(&emu->cluster);

	counters_add(&emu->counters.node_requests[i], 1);
	return cluster_node(&emu->cluster, i);
}

static void handle(struct emu *emu, struct request *rq, struct reply *r)
{
	/* A maintenance page in front of HEC: nothing reaches a node. */
	if (faults_on(&emu->faults.html_200)) {
		counters_add(&emu->counters.faults_html, 1);
		reply_maintenance(r);
		return;
	}
	switch (rq->ep) {
	case EP_EVENT:
		handle_event(emu, rq, route(emu), r);
		break;
	case EP_RAW:
		handle_raw(emu, rq, route(emu), r);
		break;
	case EP_ACK:
		handle_ack(emu, rq, route(emu), r);
		break;
	default:
		handle_health(emu, rq, r);
		return;
	}
	set_channel_cookie(emu, rq, r);
}

void collector_handle(struct emu *emu, struct request *rq, struct reply *r)
{
	unsigned delay = atomic_load(&emu->faults.latency_ms);

	cluster_sweep(&emu->cluster, emu_now_ms());
	handle(emu, rq, r);
	if (delay) {
		/* After the work, before the answer: a slow indexer. */
		counters_add(&emu->counters.faults_delayed, 1);
		sleep_ms(delay);
	}
}
