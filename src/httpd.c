/* SPDX-License-Identifier: Apache-2.0 */
#include "httpd.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util/buf.h"
#include "util/sys.h"
#include "util/xalloc.h"

struct httpd {
	struct MHD_Daemon *d;
	struct metrics *m;
	int port;
};

static enum MHD_Result reply(struct MHD_Connection *c,
                             unsigned status,
                             const char *type,
                             char *body,
                             size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
	        len, body, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ret;

	MHD_add_response_header(r, "Content-Type", type);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
text(struct MHD_Connection *c, unsigned status, const char *msg)
{
	return reply(c, status, "text/plain; charset=utf-8", xstrdup(msg),
	             strlen(msg));
}

static enum MHD_Result serve_metrics(struct httpd *h, struct MHD_Connection *c)
{
	struct buf b;
	size_t len;
	char *body;

	buf_init(&b, 0);
	if (metrics_render(h->m, &b) != 0) {
		buf_dispose(&b);
		return text(c, 500, "cannot render metrics\n");
	}
	body = buf_take(&b, &len);
	return reply(c, 200, "text/plain; version=0.0.4; charset=utf-8", body,
	             len);
}

static enum MHD_Result serve_readyz(struct httpd *h, struct MHD_Connection *c)
{
	const struct metrics *m = h->m;
	char msg[256];

	if (!atomic_load(&m->db_up))
		return text(c, 503, "not ready: database unreachable\n");
	if (!atomic_load(&m->token_ok))
		return text(c, 503, "not ready: HEC refused the token\n");
	if (!atomic_load(&m->hec_up))
		return text(c, 503, "not ready: HEC not answering\n");
	snprintf(msg, sizeof(msg), "ready\n");
	return text(c, 200, msg);
}

static enum MHD_Result handle(void *cls,
                              struct MHD_Connection *c,
                              const char *url,
                              const char *method,
                              const char *version,
                              const char *upload,
                              size_t *upload_size,
                              void **state)
{
	struct httpd *h = cls;
	int64_t age;

	(void)version;
	(void)upload;
	(void)upload_size;
	(void)state;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return text(c, 405, "method not allowed\n");
	if (strcmp(url, "/metrics") == 0)
		return serve_metrics(h, c);
	if (strcmp(url, "/healthz") == 0) {
		age = sys_now_ms() - atomic_load(&h->m->last_loop_ms);
		return age <= HTTPD_LIVENESS_MS
		               ? text(c, 200, "ok\n")
		               : text(c, 503, "relay loop stalled\n");
	}
	if (strcmp(url, "/readyz") == 0)
		return serve_readyz(h, c);
	return text(c, 404, "not found: try /metrics, /healthz, /readyz\n");
}

/* "host:port" or "[v6]:port" into a socket address. */
static int parse_listen(const char *s, struct sockaddr_storage *ss)
{
	char host[128];
	const char *colon = strrchr(s, ':');
	long port;
	char *end;
	size_t hl;

	if (!colon)
		return relay_error_set("metrics.listen \"%s\": expected"
		                       " HOST:PORT",
		                       s);
	port = strtol(colon + 1, &end, 10);
	if (*end || port < 0 || port > 65535)
		return relay_error_set("metrics.listen \"%s\": bad port", s);
	hl = (size_t)(colon - s);
	if (hl && s[0] == '[' && s[hl - 1] == ']') {
		s++;
		hl -= 2;
	}
	if (hl >= sizeof(host))
		return relay_error_set("metrics.listen \"%s\": host too long",
		                       s);
	memcpy(host, s, hl);
	host[hl] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) ==
	    1) {
		((struct sockaddr_in *)ss)->sin_family = AF_INET;
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
		return 0;
	}
	if (inet_pton(AF_INET6, host,
	              &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
		return 0;
	}
	return relay_error_set("metrics.listen \"%s\": host must be an IP"
	                       " address",
	                       s);
}

int httpd_start(struct httpd **out, const char *listen, struct metrics *m)
{
	struct sockaddr_storage ss;
	const union MHD_DaemonInfo *info;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	struct httpd *h;

	*out = NULL;
	if (parse_listen(listen, &ss) != 0)
		return RELAY_EINVAL;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	h = xcalloc(1, sizeof(*h));
	h->m = m;
	h->d = MHD_start_daemon(
	        flags, 0, NULL, NULL, handle, h, MHD_OPTION_SOCK_ADDR,
	        (struct sockaddr *)&ss, MHD_OPTION_CONNECTION_LIMIT, 32,
	        MHD_OPTION_CONNECTION_TIMEOUT, 10, MHD_OPTION_END);
	if (!h->d) {
		free(h);
		return relay_error_set("metrics.listen %s: cannot listen"
		                       " (address in use?)",
		                       listen);
	}
	info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info ? info->port : 0;
	*out = h;
	return 0;
}

int httpd_port(const struct httpd *h)
{
	return h->port;
}

void httpd_stop(struct httpd *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->d);
	free(h);
}
