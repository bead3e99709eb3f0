/* SPDX-License-Identifier: Apache-2.0 */
/*
 * httpd: libmicrohttpd glue.  See httpd.h.
 *
 * libmicrohttpd calls on_request() first with the headers, then once per
 * chunk of body, then once more with no data: the request is dispatched on
 * that last call.  Answering before the body (413) is allowed only on the
 * first call.  Returning MHD_NO closes the connection without an answer,
 * which is how "responses dropped after indexing" is injected.
 *
 * HTTPS (--tls-cert/--tls-key) is libmicrohttpd's, over GnuTLS.  With
 * --tls-client-ca libmicrohttpd asks for a client certificate but cannot
 * demand one, so the first call of every request checks it
 * (gnutls_certificate_verify_peers2) and closes the connection without an
 * answer when it is missing or not signed by that CA, as a Splunk with
 * requireClientCert = true ends the handshake.  The control API is exempt
 * (loopback only), so tests can drive an emulator their client cannot
 * otherwise talk to.
 */
#include "httpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "collector.h"
#include "control.h"
#include "util/log.h"
#include "util/xalloc.h"

struct httpd {
	struct MHD_Daemon *daemon;
	int fd;
	char *cert, *key, *trust; /* PEM text for libmicrohttpd, or NULL */
};

struct route {
	const char *path;
	enum endpoint ep;
};

static const struct route routes[] = {
        {"/services/collector", EP_EVENT},
        {"/services/collector/event", EP_EVENT},
        {"/services/collector/event/1.0", EP_EVENT},
        {"/services/collector/raw", EP_RAW},
        {"/services/collector/raw/1.0", EP_RAW},
        {"/services/collector/ack", EP_ACK},
        {"/services/collector/health", EP_HEALTH},
        {"/services/collector/health/1.0", EP_HEALTH},
};

static enum endpoint route_of(const char *url)
{
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (!strcmp(url, routes[i].path))
			return routes[i].ep;
	}
	if (!strncmp(url, "/emulator/", 10))
		return EP_CONTROL;
	return EP_OTHER;
}

const char *request_header(const struct request *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

const char *request_query(const struct request *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND,
	                                   name);
}

static const struct sockaddr *client_addr(const struct request *rq)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
	        rq->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

	return ci ? ci->client_addr : NULL;
}

void request_client_ip(const struct request *rq, char *buf, size_t size)
{
	const struct sockaddr *sa = client_addr(rq);
	const void *a = NULL;

	buf[0] = '\0';
	if (!sa)
		return;
	if (sa->sa_family == AF_INET)
		a = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6)
		a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	if (a && !inet_ntop(sa->sa_family, a, buf, (socklen_t)size))
		buf[0] = '\0';
}

bool request_is_loopback(const struct request *rq)
{
	const struct sockaddr *sa = client_addr(rq);
	const struct sockaddr_in6 *s6;
	const uint8_t *b;

	if (!sa)
		return false;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 =
		        (const struct sockaddr_in *)(const void *)sa;

		return (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family != AF_INET6)
		return false;
	s6 = (const struct sockaddr_in6 *)(const void *)sa;
	b = s6->sin6_addr.s6_addr;
	if (IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr))
		return true;
	return IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) && b[12] == 127;
}

/* Put the reply on the wire; MHD_NO closes the connection. */
static enum MHD_Result send_reply(struct MHD_Connection *c, struct reply *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char num[16];

	if (r->body)
		resp = MHD_create_response_from_buffer(r->len, r->body,
		                                       MHD_RESPMEM_MUST_FREE);
	else
		resp = MHD_create_response_from_buffer(0, NULL,
		                                       MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	r->body = NULL; /* libmicrohttpd frees it now */
	MHD_add_response_header(resp, "Server", "Splunkd");
	MHD_add_response_header(resp, "Vary", "Authorization");
	if (r->content_type)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
		                        r->content_type);
	if (r->allow)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
	if (r->set_cookie)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE,
		                        r->set_cookie);
	if (r->retry_after_s) {
		snprintf(num, sizeof(num), "%u", r->retry_after_s);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, num);
	}
	ret = MHD_queue_response(c, r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static const char *allowed_methods(enum endpoint ep)
{
	return ep == EP_HEALTH ? "GET,HEAD,OPTIONS" : "POST,OPTIONS";
}

static bool method_ok(enum endpoint ep, const char *method)
{
	if (ep == EP_HEALTH)
		return !strcmp(method, "GET") || !strcmp(method, "HEAD");
	return !strcmp(method, "POST");
}

/* Route a complete request to its handler. */
static void dispatch(struct emu *emu, struct request *rq, struct reply *r)
{
	if (rq->ep == EP_CONTROL) {
		control_handle(emu, rq, r);
		return;
	}
	if (rq->ep == EP_OTHER) {
		reply_not_found(r, 404);
		return;
	}
	if (!strcmp(rq->method, "OPTIONS")) {
		r->status = 200;
		r->allow = allowed_methods(rq->ep);
		return;
	}
	if (!method_ok(rq->ep, rq->method)) {
		reply_not_found(r, 405);
		r->allow = allowed_methods(rq->ep);
		return;
	}
	if (rq->too_large) {
		reply_too_large(r, emu->opts->max_content_length);
		return;
	}
	collector_handle(emu, rq, r);
}

static void
count(struct emu *emu, const struct request *rq, const struct reply *r)
{
	counters_add(&emu->counters.requests[rq->ep], 1);
	if (!r->drop)
		counters_count_reply(&emu->counters, r->status, r->hec_code);
	log_debug("request", "method=%s path=%s status=%u code=%d drop=%d",
	          rq->method, rq->url, r->status, r->hec_code, (int)r->drop);
}

/* Content-Length past the limit: answer 413 without reading the body. */
static bool declared_too_large(struct emu *emu, struct request *rq)
{
	const char *cl = request_header(rq, MHD_HTTP_HEADER_CONTENT_LENGTH);
	char *end;
	unsigned long long n;

	if (!cl || rq->ep == EP_OTHER)
		return false;
	errno = 0;
	n = strtoull(cl, &end, 10);
	return !errno && end != cl && n > emu->opts->max_content_length;
}

static enum MHD_Result finish(struct emu *emu, struct request *rq)
{
	struct reply r;
	enum MHD_Result ret;

	reply_init(&r);
	dispatch(emu, rq, &r);
	count(emu, rq, &r);
	ret = r.drop ? MHD_NO : send_reply(rq->conn, &r);
	reply_dispose(&r);
	rq->answered = true;
	return ret;
}

static struct request *request_new(struct emu *emu,
                                   struct MHD_Connection *c,
                                   const char *url,
                                   const char *method)
{
	struct request *rq = xcalloc(1, sizeof(*rq));

	rq->conn = c;
	rq->url = url;
	rq->method = method;
	rq->ep = route_of(url);
	buf_init(&rq->body, emu->opts->max_content_length);
	rq->basic_user =
	        MHD_basic_auth_get_username_password(c, &rq->basic_password);
	return rq;
}

/* --tls-client-ca: a verified client certificate, else false (logged). */
static bool client_cert_ok(struct emu *emu, struct request *rq)
{
	const union MHD_ConnectionInfo *ci;
	unsigned status = 0;
	int rc;

	if (!emu->opts->tls_client_ca || rq->ep == EP_CONTROL)
		return true;
	ci = MHD_get_connection_info(rq->conn,
	                             MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (!ci || !ci->tls_session)
		return false;
	rc = gnutls_certificate_verify_peers2((gnutls_session_t)ci->tls_session,
	                                      &status);
	if (rc == 0 && status == 0)
		return true;
	counters_add(&emu->counters.tls_client_rejected, 1);
	log_warn("client certificate refused; closing the connection",
	         "path=%s reason=\"%s\"", rq->url,
	         rc == GNUTLS_E_NO_CERTIFICATE_FOUND ? "no client certificate"
	         : rc                                ? gnutls_strerror(rc)
	                                             : "not signed by "
	                                               "--tls-client-ca");
	return false;
}

static enum MHD_Result first_call(struct emu *emu, struct request *rq)
{
	struct reply r;
	enum MHD_Result ret;

	if (!client_cert_ok(emu, rq)) {
		rq->answered = true;
		return MHD_NO;
	}
	if (!declared_too_large(emu, rq))
		return MHD_YES;
	reply_init(&r);
	reply_too_large(&r, emu->opts->max_content_length);
	count(emu, rq, &r);
	ret = send_reply(rq->conn, &r);
	reply_dispose(&r);
	rq->answered = true;
	return ret;
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
	struct emu *emu = cls;
	struct request *rq = *con_cls;

	(void)version;
	if (!rq) {
		rq = request_new(emu, c, url, method);
		*con_cls = rq;
		return first_call(emu, rq);
	}
	if (rq->answered) {
		*data_size = 0; /* discard what follows a 413 */
		return MHD_YES;
	}
	if (*data_size) {
		counters_add(&emu->counters.bytes_received, *data_size);
		if (!rq->too_large &&
		    buf_append(&rq->body, data, *data_size) != 0) {
			rq->too_large = true;
			buf_dispose(&rq->body);
		}
		*data_size = 0;
		return MHD_YES;
	}
	return finish(emu, rq);
}

static void on_completed(void *cls,
                         struct MHD_Connection *c,
                         void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct request *rq = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (!rq)
		return;
	buf_dispose(&rq->body);
	if (rq->basic_user)
		MHD_free(rq->basic_user);
	if (rq->basic_password)
		MHD_free(rq->basic_password);
	free(rq);
	*con_cls = NULL;
}

/* Split "ADDR:PORT" / "[V6]:PORT" and bind a listening socket. */
static int listen_on(const char *spec, int *fd_out, uint16_t *port_out)
{
	char host[256];
	const char *colon = strrchr(spec, ':');
	struct addrinfo hints, *res = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	size_t hl;
	int fd = -1, one = 1, rc = 0;

	if (!colon || colon == spec || !colon[1])
		return relay_error_set("--listen: expected ADDR:PORT");
	hl = (size_t)(colon - spec);
	if (spec[0] == '[' && hl > 2 && spec[hl - 1] == ']') {
		spec++;
		hl -= 2;
	}
	if (hl >= sizeof(host))
		return relay_error_set("--listen: address too long");
	memcpy(host, spec, hl);
	host[hl] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if (getaddrinfo(host, colon + 1, &hints, &res) != 0 || !res)
		return relay_error_set("--listen: cannot resolve %s", spec);
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, res->ai_addr, res->ai_addrlen) || listen(fd, 1024) ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl)) {
		rc = relay_error_set("listen %s: %s", colon + 1,
		                     strerror(errno));
		goto done;
	}
	*port_out = ntohs(ss.ss_family == AF_INET6
	                          ? ((struct sockaddr_in6 *)&ss)->sin6_port
	                          : ((struct sockaddr_in *)&ss)->sin_port);
	*fd_out = fd;
	fd = -1;
done:
	if (fd >= 0)
		close(fd);
	freeaddrinfo(res);
	return rc;
}

/* A whole PEM file as a string (libmicrohttpd takes PEM text). */
static int read_pem(const char *flag, const char *path, char **out)
{
	FILE *f = fopen(path, "rb");
	struct buf b;
	char chunk[4096];
	size_t n;
	int rc = 0;

	if (!f)
		return relay_error_set("%s %s: %s", flag, path,
		                       strerror(errno));
	buf_init(&b, (size_t)1 << 20);
	while (!rc && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		rc = buf_append(&b, chunk, n);
	if (!rc && ferror(f))
		rc = relay_error_set("%s %s: read error", flag, path);
	else if (rc)
		rc = relay_error_set("%s %s: larger than 1 MiB", flag, path);
	fclose(f);
	if (!rc && !strstr(b.data ? b.data : "", "-----BEGIN "))
		rc = relay_error_set("%s %s: not a PEM file", flag, path);
	if (rc) {
		buf_dispose(&b);
		return rc;
	}
	*out = buf_take(&b, NULL);
	return 0;
}

static int load_tls(struct httpd *h, const struct emu_options *o)
{
	if (!o->tls_cert)
		return 0;
	if (read_pem("--tls-cert", o->tls_cert, &h->cert) != 0 ||
	    read_pem("--tls-key", o->tls_key, &h->key) != 0)
		return -1;
	if (o->tls_client_ca &&
	    read_pem("--tls-client-ca", o->tls_client_ca, &h->trust) != 0)
		return -1;
	return 0;
}

static void httpd_free(struct httpd *h)
{
	free(h->cert);
	if (h->key) {
		explicit_bzero(h->key, strlen(h->key));
		free(h->key);
	}
	free(h->trust);
	free(h);
}

static struct MHD_Daemon *
start_daemon(struct emu *emu, struct httpd *h, unsigned flags)
{
	unsigned pool = emu->opts->threads;
	/* Options after the common ones; unused slots end the list. */
	struct MHD_OptionItem tls[] = {
	        {h->cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0,
	         h->cert},
	        {MHD_OPTION_HTTPS_MEM_KEY, 0, h->key},
	        {h->trust ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END, 0,
	         h->trust},
	        {MHD_OPTION_END, 0, NULL},
	};

	if (pool == 0)
		flags |= MHD_USE_THREAD_PER_CONNECTION;
	if (h->cert)
		flags |= MHD_USE_TLS;
	return MHD_start_daemon(
	        flags, 0, NULL, NULL, &on_request, emu,
	        MHD_OPTION_LISTEN_SOCKET, h->fd, MHD_OPTION_NOTIFY_COMPLETED,
	        &on_completed, emu, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	        (size_t)256 * 1024, MHD_OPTION_CONNECTION_TIMEOUT,
	        (unsigned)7200, MHD_OPTION_ARRAY, tls,
	        /* With a thread per connection there is no pool. */
	        pool > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, pool,
	        MHD_OPTION_END);
}

struct httpd *httpd_start(struct emu *emu, uint16_t *port)
{
	struct httpd *h = xcalloc(1, sizeof(*h));
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
	                 MHD_USE_ERROR_LOG;

	if (load_tls(h, emu->opts) != 0) {
		httpd_free(h);
		return NULL;
	}
	if (h->cert && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		relay_error_set("this libmicrohttpd has no TLS support");
		httpd_free(h);
		return NULL;
	}
	if (listen_on(emu->opts->listen, &h->fd, port) != 0) {
		httpd_free(h);
		return NULL;
	}
	h->daemon = start_daemon(emu, h, flags);
	if (!h->daemon) {
		relay_error_set(h->cert ? "libmicrohttpd failed to start (is "
		                          "the TLS key the certificate's?)"
		                        : "libmicrohttpd failed to start");
		close(h->fd);
		httpd_free(h);
		return NULL;
	}
	return h;
}

void httpd_stop(struct httpd *h)
{
	if (!h)
		return;
	/* libmicrohttpd closes the listening socket it was given. */
	MHD_stop_daemon(h->daemon);
	httpd_free(h);
}
