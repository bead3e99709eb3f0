/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hec client against a tiny HTTP server on loopback (libmicrohttpd, one
 * thread per connection so a slow answer does not serialise the others).
 * The server records what it saw and answers like HEC: ackIds on sends,
 * {"acks":{...}} on polls, a sticky cookie named after itself; modes make
 * it slow, busy (503 + Retry-After) or drop the connection once it has
 * read the body.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "hec.h"
#include "unit.h"
#include "util/gzip.h"
#include "util/buf.h"

#define TOKEN "tok-SECRET-1234"
#define UA "relay-test/1.0"
#define CHAN "11111111-2222-3333-4444-555555555555"
#define MAX_SEEN 64

enum mode { MODE_OK, MODE_SLOW, MODE_BUSY, MODE_DROP };

struct seen {
	char method[8], path[128], query_channel[80];
	char auth[128], ua[128], channel[80], encoding[32], ctype[64];
	char cookie[128];
	char *body;
	size_t len;
};

struct server {
	struct MHD_Daemon *d;
	int port;
	char name[8];
	enum mode mode;
	pthread_mutex_t mu;
	struct seen seen[MAX_SEEN];
	int n_seen, active, max_active, next_ack;
	char url[64];
};

/* One upload in progress on a connection. */
struct upload {
	struct seen s;
	size_t cap;
};

static void
copy_hdr(struct MHD_Connection *c, const char *name, char *out, size_t size)
{
	const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);

	snprintf(out, size, "%s", v ? v : "");
}

static struct upload *
upload_start(struct MHD_Connection *c, const char *url, const char *method)
{
	struct upload *u = calloc(1, sizeof(*u));
	const char *q = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
	                                            "channel");

	snprintf(u->s.method, sizeof(u->s.method), "%s", method);
	snprintf(u->s.path, sizeof(u->s.path), "%s", url);
	snprintf(u->s.query_channel, sizeof(u->s.query_channel), "%s",
	         q ? q : "");
	copy_hdr(c, "Authorization", u->s.auth, sizeof(u->s.auth));
	copy_hdr(c, "User-Agent", u->s.ua, sizeof(u->s.ua));
	copy_hdr(c, "X-Splunk-Request-Channel", u->s.channel,
	         sizeof(u->s.channel));
	copy_hdr(c, "Content-Encoding", u->s.encoding, sizeof(u->s.encoding));
	copy_hdr(c, "Content-Type", u->s.ctype, sizeof(u->s.ctype));
	copy_hdr(c, "Cookie", u->s.cookie, sizeof(u->s.cookie));
	return u;
}

static void upload_add(struct upload *u, const char *p, size_t n)
{
	if (u->s.len + n + 1 > u->cap) {
		u->cap = (u->s.len + n + 1) * 2;
		u->s.body = realloc(u->s.body, u->cap);
	}
	memcpy(u->s.body + u->s.len, p, n);
	u->s.len += n;
	u->s.body[u->s.len] = '\0';
}

/* {"acks":[1,2,3]} -> {"acks":{"1":true,"2":false,"3":true}}: odd ids
 * are indexed. */
static void ack_answer(const char *body, char *out, size_t size)
{
	const char *p = body ? strchr(body, '[') : NULL;
	size_t n = (size_t)snprintf(out, size, "{\"acks\":{");

	while (p && *p && *p != ']') {
		char *end;
		unsigned long long id = strtoull(p + 1, &end, 10);

		if (end == p + 1)
			break;
		n += (size_t)snprintf(out + n, size - n, "%s\"%llu\":%s",
		                      n > 9 ? "," : "", id,
		                      id % 2 ? "true" : "false");
		p = end;
	}
	snprintf(out + n, size - n, "}}");
}

static enum MHD_Result reply(struct MHD_Connection *c,
                             unsigned status,
                             const char *body,
                             const struct server *srv)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
	        strlen(body), (void *)(size_t)body, MHD_RESPMEM_MUST_COPY);
	char cookie[32];
	enum MHD_Result ret;

	MHD_add_response_header(r, "Content-Type", "application/json");
	snprintf(cookie, sizeof(cookie), "lb=%s; Path=/", srv->name);
	if (strstr(body, "ackId"))
		MHD_add_response_header(r, "Set-Cookie", cookie);
	if (status == 503)
		MHD_add_response_header(r, "Retry-After", "7");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
answer(struct server *srv, struct MHD_Connection *c, const struct seen *s)
{
	char body[4096];
	int ack;

	if (srv->mode == MODE_DROP)
		return MHD_NO; /* close without a word, body read */
	if (srv->mode == MODE_BUSY)
		return reply(c, 503, "{\"text\":\"Server is busy\",\"code\":9}",
		             srv);
	if (srv->mode == MODE_SLOW)
		usleep(200 * 1000);
	if (strstr(s->path, "/ack")) {
		ack_answer(s->body, body, sizeof(body));
		return reply(c, 200, body, srv);
	}
	if (strstr(s->path, "/health"))
		return reply(c, 200,
		             "{\"text\":\"HEC is healthy\",\"code\":17}", srv);
	pthread_mutex_lock(&srv->mu);
	ack = srv->next_ack++;
	pthread_mutex_unlock(&srv->mu);
	snprintf(body, sizeof(body),
	         "{\"text\":\"Success\",\"code\":0,"
	         "\"ackId\":%d}",
	         ack);
	return reply(c, 200, body, srv);
}

static void record(struct server *srv, struct upload *u)
{
	pthread_mutex_lock(&srv->mu);
	if (srv->n_seen < MAX_SEEN) {
		srv->seen[srv->n_seen++] = u->s;
		u->s.body = NULL; /* moved */
	}
	if (++srv->active > srv->max_active)
		srv->max_active = srv->active;
	pthread_mutex_unlock(&srv->mu);
}

static enum MHD_Result on_request(void *cls,
                                  struct MHD_Connection *c,
                                  const char *url,
                                  const char *method,
                                  const char *version,
                                  const char *data,
                                  size_t *data_size,
                                  void **con_cls)
{
	struct server *srv = cls;
	struct upload *u = *con_cls;
	struct seen copy;
	enum MHD_Result ret;

	(void)version;
	if (!u) {
		*con_cls = upload_start(c, url, method);
		return MHD_YES;
	}
	if (*data_size) {
		upload_add(u, data, *data_size);
		*data_size = 0;
		return MHD_YES;
	}
	copy = u->s;
	record(srv, u);
	ret = answer(srv, c, &copy);
	pthread_mutex_lock(&srv->mu);
	srv->active--;
	pthread_mutex_unlock(&srv->mu);
	return ret;
}

static void on_completed(void *cls,
                         struct MHD_Connection *c,
                         void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct upload *u = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (u) {
		free(u->s.body);
		free(u);
		*con_cls = NULL;
	}
}

static struct server *server_start(const char *name, enum mode mode)
{
	struct server *srv = calloc(1, sizeof(*srv));
	const union MHD_DaemonInfo *info;

	snprintf(srv->name, sizeof(srv->name), "%s", name);
	srv->mode = mode;
	pthread_mutex_init(&srv->mu, NULL);
	srv->d = MHD_start_daemon(
	        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD,
	        0, NULL, NULL, on_request, srv, MHD_OPTION_NOTIFY_COMPLETED,
	        on_completed, NULL, MHD_OPTION_END);
	if (!srv->d) {
		fprintf(stderr, "cannot start test server\n");
		exit(1);
	}
	info = MHD_get_daemon_info(srv->d, MHD_DAEMON_INFO_BIND_PORT);
	srv->port = info->port;
	snprintf(srv->url, sizeof(srv->url), "http://127.0.0.1:%d/", srv->port);
	return srv;
}

static void server_stop(struct server *srv)
{
	MHD_stop_daemon(srv->d);
	for (int i = 0; i < srv->n_seen; i++)
		free(srv->seen[i].body);
	pthread_mutex_destroy(&srv->mu);
	free(srv);
}

/* Copy of request i, once the server has recorded it. */
static struct seen seen_get(struct server *srv, int i)
{
	struct seen s;

	memset(&s, 0, sizeof(s));
	pthread_mutex_lock(&srv->mu);
	if (i < srv->n_seen)
		s = srv->seen[i];
	pthread_mutex_unlock(&srv->mu);
	return s;
}

static struct hec *client(const char *const *urls, size_t n, bool gzip)
{
	struct hec_opts o = {
	        .urls = urls,
	        .n_urls = n,
	        .token = TOKEN,
	        .gzip = gzip,
	        .gzip_level = 1,
	        .timeout_ms = 10000,
	        .connect_timeout_ms = 2000,
	        .user_agent = UA,
	};
	struct hec *hec = NULL;

	if (hec_new(&hec, &o)) {
		fprintf(stderr, "hec_new: %s\n", relay_error_last());
		exit(1);
	}
	return hec;
}

/* Drive until n results are in (or 10 s pass); returns how many. */
static int collect(struct hec *hec, struct hec_result *out, int n)
{
	struct timespec t0, now;
	int got = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (got < n) {
		if (hec_wait(hec, 50, NULL, 0))
			break;
		while (got < n && hec_next_result(hec, &out[got]))
			got++;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec > 10)
			break;
	}
	return got;
}

static const char *body1 = "{\"event\":{\"a\":1},\"time\":1700000000.123}"
                           "{\"event\":{\"b\":2},\"time\":1700000000.124}";

static void test_hec__headers_and_gzip(void)
{
	struct server *srv = server_start("A", MODE_OK);
	const char *urls[] = {srv->url};
	struct hec *hec = client(urls, 1, true);
	struct hec_result r;
	struct seen s;
	struct buf plain;
	int tag = 42;

	CHECK_INT(hec_post_events(hec, 0, CHAN, body1, strlen(body1), &tag), 0);
	CHECK_INT(hec_in_flight(hec), 1);
	CHECK_INT(collect(hec, &r, 1), 1);
	CHECK_INT(hec_in_flight(hec), 0);
	CHECK_INT(r.kind, HEC_REQ_EVENTS);
	CHECK_INT(r.outcome, HEC_OK);
	CHECK(r.ctx == &tag);
	CHECK_INT(r.endpoint, 0);
	CHECK_INT(r.http_status, 200);
	CHECK_INT(r.retry_after_s, -1);
	CHECK_INT(r.resp.ack_id, 0);
	CHECK_STR(r.error, "");
	CHECK(r.latency_s > 0 && r.latency_s < 10);
	s = seen_get(srv, 0);
	CHECK_STR(s.method, "POST");
	CHECK_STR(s.path, "/services/collector/event");
	CHECK_STR(s.auth, "Splunk " TOKEN);
	CHECK_STR(s.ua, UA);
	CHECK_STR(s.channel, CHAN);
	CHECK_STR(s.query_channel, "");
	CHECK_STR(s.encoding, "gzip");
	CHECK_STR(s.ctype, "application/json");
	CHECK_INT(r.body_bytes, s.len);
	buf_init(&plain, 0);
	CHECK_INT(gzip_decompress(&plain, s.body, s.len), 0);
	CHECK_STR(plain.data, body1);
	buf_dispose(&plain);
	hec_result_dispose(&r);

	/* Health: GET with the token, no body, no channel. */
	CHECK_INT(hec_check_health(hec, 0, NULL), 0);
	CHECK_INT(collect(hec, &r, 1), 1);
	CHECK_INT(r.kind, HEC_REQ_HEALTH);
	CHECK_INT(r.outcome, HEC_OK);
	CHECK_INT(r.resp.code, 17);
	s = seen_get(srv, 1);
	CHECK_STR(s.method, "GET");
	CHECK_STR(s.path, "/services/collector/health");
	CHECK_STR(s.auth, "Splunk " TOKEN);
	CHECK_STR(s.channel, "");
	hec_result_dispose(&r);
	hec_free(hec);
	server_stop(srv);
}

static void test_hec__plain_body(void)
{
	struct server *srv = server_start("A", MODE_OK);
	const char *urls[] = {srv->url};
	struct hec *hec = client(urls, 1, false);
	struct hec_result r;
	struct seen s;

	/* No channel: no header. */
	CHECK_INT(hec_post_events(hec, 0, NULL, body1, strlen(body1), NULL), 0);
	CHECK_INT(collect(hec, &r, 1), 1);
	CHECK_INT(r.outcome, HEC_OK);
	s = seen_get(srv, 0);
	CHECK_STR(s.encoding, "");
	CHECK_STR(s.channel, "");
	CHECK_STR(s.body, body1);
	CHECK_INT(r.body_bytes, strlen(body1));
	hec_result_dispose(&r);
	hec_free(hec);
	server_stop(srv);
}

static void test_hec__concurrent(void)
{
	struct server *srv = server_start("A", MODE_SLOW);
	const char *urls[] = {srv->url};
	struct hec *hec = client(urls, 1, true);
	struct hec_result r[8];
	int ctx[8], seen_ctx = 0, ack_mask = 0;

	for (int i = 0; i < 8; i++)
		CHECK_INT(hec_post_events(hec, 0, CHAN, body1, strlen(body1),
		                          &ctx[i]),
		          0);
	CHECK_INT(hec_in_flight(hec), 8);
	CHECK_INT(collect(hec, r, 8), 8);
	/* The server holds each request 200 ms: requests on the wire at
	 * the same time prove concurrency without a timing threshold (a
	 * slow machine or valgrind can stretch any wall-clock bound). */
	CHECK(srv->max_active >= 2);
	for (int i = 0; i < 8; i++) {
		CHECK_INT(r[i].outcome, HEC_OK);
		seen_ctx |= 1 << ((int *)r[i].ctx - ctx);
		if (r[i].resp.ack_id >= 0 && r[i].resp.ack_id < 8)
			ack_mask |= 1 << r[i].resp.ack_id;
		hec_result_dispose(&r[i]);
	}
	CHECK_INT(seen_ctx, 0xff);
	CHECK_INT(ack_mask, 0xff);
	hec_free(hec);
	server_stop(srv);
}

static void test_hec__ack_poll(void)
{
	struct server *srv = server_start("A", MODE_OK);
	const char *urls[] = {srv->url};
	struct hec *hec = client(urls, 1, true);
	const uint64_t ids[] = {1, 2, 3, 10000000000ull};
	struct hec_result r;
	struct seen s;
	int ok = 0;

	CHECK_INT(hec_poll_acks(hec, 0, CHAN, ids, 4, NULL), 0);
	CHECK_INT(collect(hec, &r, 1), 1);
	CHECK_INT(r.kind, HEC_REQ_ACK);
	CHECK_INT(r.outcome, HEC_OK);
	s = seen_get(srv, 0);
	CHECK_STR(s.method, "POST");
	CHECK_STR(s.path, "/services/collector/ack");
	CHECK_STR(s.query_channel, CHAN);
	CHECK_STR(s.channel, CHAN);
	CHECK_STR(s.encoding, "");
	CHECK_STR(s.ctype, "application/json");
	CHECK_STR(s.body, "{\"acks\":[1,2,3,10000000000]}");
	CHECK_INT(r.resp.n_acks, 4);
	for (size_t i = 0; i < r.resp.n_acks; i++)
		if (r.resp.acked[i] == (r.resp.ack_ids[i] % 2 == 1))
			ok++;
	CHECK_INT(ok, 4);
	hec_result_dispose(&r);
	/* A poll needs a channel. */
	CHECK_INT(hec_poll_acks(hec, 0, NULL, ids, 1, NULL), RELAY_EINVAL);
	hec_free(hec);
	server_stop(srv);
}

static void test_hec__retry_after(void)
{
	struct server *srv = server_start("A", MODE_BUSY);
	const char *urls[] = {srv->url};
	struct hec *hec = client(urls, 1, true);
	struct hec_result r;

	CHECK_INT(hec_post_events(hec, 0, CHAN, body1, strlen(body1), NULL), 0);
	CHECK_INT(collect(hec, &r, 1), 1);
	CHECK_INT(r.outcome, HEC_RETRY);
	CHECK_INT(r.http_status, 503);
	CHECK_INT(r.retry_after_s, 7);
	CHECK_INT(r.resp.code, 9);
	CHECK_STR(r.error, "");
	hec_result_dispose(&r);
	hec_free(hec);
	server_stop(srv);
}

static void test_hec__dropped_after_body(void)
{
	struct server *srv = server_start("A", MODE_DROP);
	const char *urls[] = {srv->url};
	struct hec *hec = client(urls, 1, false);
	struct hec_result r[2];
	size_t big_len = 300 * 1024;
	char *big = malloc(big_len);

	memset(big, 'x', big_len);
	CHECK_INT(hec_post_events(hec, 0, CHAN, body1, strlen(body1), NULL), 0);
	CHECK_INT(collect(hec, r, 1), 1);
	CHECK_INT(hec_post_events(hec, 0, CHAN, big, big_len, NULL), 0);
	CHECK_INT(collect(hec, r + 1, 1), 1);
	for (int i = 0; i < 2; i++) {
		CHECK_INT(r[i].outcome, HEC_RETRY_MAYBE_SENT);
		CHECK_INT(r[i].http_status, 0);
		CHECK(r[i].error[0] != '\0');
		CHECK(!strstr(r[i].error, TOKEN));
		hec_result_dispose(&r[i]);
	}
	CHECK_INT(seen_get(srv, 1).len, big_len);
	free(big);
	hec_free(hec);
	server_stop(srv);
}

/* A loopback port with nobody listening. */
static int dead_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(fd, (struct sockaddr *)&a, &len))
		port = 1;
	else
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static void test_hec__refused(void)
{
	char url[64];
	const char *urls[] = {url};
	struct hec *hec;
	struct hec_result r;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d", dead_port());
	hec = client(urls, 1, true);
	CHECK_INT(hec_post_events(hec, 0, CHAN, body1, strlen(body1), NULL), 0);
	CHECK_INT(collect(hec, &r, 1), 1);
	CHECK_INT(r.outcome, HEC_RETRY);
	CHECK_INT(r.http_status, 0);
	CHECK_CONTAINS(r.error, "onnect");
	CHECK(!strstr(r.error, TOKEN));
	hec_result_dispose(&r);
	hec_free(hec);
}

static void test_hec__cookies_per_endpoint(void)
{
	struct server *a = server_start("A", MODE_OK);
	struct server *b = server_start("B", MODE_OK);
	const char *urls[] = {a->url, b->url};
	struct hec *hec = client(urls, 2, true);
	const uint64_t id = 0;
	struct hec_result r;

	CHECK_INT(hec_endpoint_count(hec), 2);
	CHECK_STR(hec_endpoint_url(hec, 1), b->url);
	/* Before any send, no cookie anywhere. */
	CHECK_INT(hec_poll_acks(hec, 1, CHAN, &id, 1, NULL), 0);
	CHECK_INT(collect(hec, &r, 1), 1);
	hec_result_dispose(&r);
	CHECK_STR(seen_get(b, 0).cookie, "");
	/* A send to A sets lb=A; the poll to A replays it, B's does not. */
	CHECK_INT(hec_post_events(hec, 0, CHAN, body1, strlen(body1), NULL), 0);
	CHECK_INT(collect(hec, &r, 1), 1);
	hec_result_dispose(&r);
	CHECK_STR(seen_get(a, 0).cookie, "");
	CHECK_INT(hec_poll_acks(hec, 0, CHAN, &id, 1, NULL), 0);
	CHECK_INT(collect(hec, &r, 1), 1);
	hec_result_dispose(&r);
	CHECK_STR(seen_get(a, 1).cookie, "lb=A");
	CHECK_INT(hec_poll_acks(hec, 1, CHAN, &id, 1, NULL), 0);
	CHECK_INT(collect(hec, &r, 1), 1);
	hec_result_dispose(&r);
	CHECK_STR(seen_get(b, 1).cookie, "");
	/* B gets its own; A's jar is unchanged. */
	CHECK_INT(hec_post_events(hec, 1, CHAN, body1, strlen(body1), NULL), 0);
	CHECK_INT(collect(hec, &r, 1), 1);
	hec_result_dispose(&r);
	CHECK_INT(hec_poll_acks(hec, 1, CHAN, &id, 1, NULL), 0);
	CHECK_INT(hec_poll_acks(hec, 0, CHAN, &id, 1, NULL), 0);
	CHECK_INT(collect(hec, &r, 1), 1);
	hec_result_dispose(&r);
	CHECK_INT(collect(hec, &r, 1), 1);
	hec_result_dispose(&r);
	CHECK_STR(seen_get(b, 3).cookie, "lb=B");
	CHECK_STR(seen_get(a, 2).cookie, "lb=A");
	hec_free(hec);
	server_stop(a);
	server_stop(b);
}

static void test_hec__token_change(void)
{
	struct server *srv = server_start("A", MODE_OK);
	const char *urls[] = {srv->url};
	struct hec *hec = client(urls, 1, true);
	struct hec_result r;

	hec_set_token(hec, "new-token-5678");
	CHECK_INT(hec_post_events(hec, 0, CHAN, body1, strlen(body1), NULL), 0);
	CHECK_INT(collect(hec, &r, 1), 1);
	hec_result_dispose(&r);
	CHECK_STR(seen_get(srv, 0).auth, "Splunk new-token-5678");
	/* A token that would break the header line: refused, not sent. */
	hec_set_token(hec, "bad\r\nX-Evil: 1");
	CHECK_INT(hec_post_events(hec, 0, CHAN, body1, strlen(body1), NULL),
	          RELAY_EINVAL);
	CHECK(!strstr(relay_error_last(), "bad"));
	CHECK_INT(hec_in_flight(hec), 0);
	hec_free(hec);
	server_stop(srv);
}

static void test_hec__bad_arguments(void)
{
	const char *urls[] = {"http://127.0.0.1:1"};
	const char *bad_urls[] = {"ftp://127.0.0.1/"};
	struct hec_opts o = {.urls = urls, .n_urls = 1, .token = "x\n" TOKEN};
	struct hec *hec = NULL;

	CHECK_INT(hec_new(&hec, &o), RELAY_EINVAL);
	CHECK(hec == NULL);
	CHECK(!strstr(relay_error_last(), TOKEN));
	o.token = TOKEN;
	o.urls = bad_urls;
	CHECK_INT(hec_new(&hec, &o), RELAY_EINVAL);
	o.urls = urls;
	o.ca_cert_path = "/nonexistent/ca.pem";
	CHECK_INT(hec_new(&hec, &o), RELAY_EINVAL);
	CHECK_CONTAINS(relay_error_last(), "/nonexistent/ca.pem");
	o.ca_cert_path = NULL;
	CHECK_INT(hec_new(&hec, &o), 0);
	CHECK_INT(hec_post_events(hec, 1, NULL, "x", 1, NULL), RELAY_EINVAL);
	CHECK_INT(hec_post_events(hec, 0, "chan\r\nX: y", "x", 1, NULL),
	          RELAY_EINVAL);
	CHECK_INT(hec_post_events(hec, 0, "", "x", 1, NULL), RELAY_EINVAL);
	CHECK_INT(hec_in_flight(hec), 0);
	CHECK(hec_endpoint_url(hec, 5) == NULL);
	hec_free(hec);
}

/* The wake fd cuts a wait short even with nothing in flight. */
static void test_hec__wake_fd(void)
{
	const char *urls[] = {"http://127.0.0.1:1"};
	struct hec *hec = client(urls, 1, true);
	struct timespec t0, t1;
	int p[2];

	CHECK_INT(pipe(p), 0);
	CHECK_INT(write(p[1], "x", 1), 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_INT(hec_wait(hec, 5000, &p[0], 1), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK(t1.tv_sec - t0.tv_sec < 2);
	close(p[0]);
	close(p[1]);
	hec_free(hec);
}

int main(void)
{
	UNIT_RUN(test_hec__headers_and_gzip);
	UNIT_RUN(test_hec__plain_body);
	UNIT_RUN(test_hec__concurrent);
	UNIT_RUN(test_hec__ack_poll);
	UNIT_RUN(test_hec__retry_after);
	UNIT_RUN(test_hec__dropped_after_body);
	UNIT_RUN(test_hec__refused);
	UNIT_RUN(test_hec__cookies_per_endpoint);
	UNIT_RUN(test_hec__token_change);
	UNIT_RUN(test_hec__bad_arguments);
	UNIT_RUN(test_hec__wake_fd);
	return unit_finish();
}
