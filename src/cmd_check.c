/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `check`: is this relay ready to run?  Validates the configuration (as
 * `run` would), prints its redacted summary, then checks each dependency
 * and prints one line per check:
 *
 *   ok   database: ...            the check passed
 *   warn config: ...              advisory (insecure TLS, plain http, ...)
 *   FAIL hec https://...: ...     a problem; the exit status becomes 1
 *
 * The HEC token is checked with an empty POST to the event endpoint: HEC
 * authenticates before it looks at the body, so a valid token gets 400
 * code 5 "No data" and a bad one 401/403, and nothing is indexed.  The
 * token itself is never printed.
 */
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "db.h"
#include "hec.h"
#include "migrate.h"
#include "sqlbundle.h"
#include "tlsprobe.h"
#include "token.h"
#include "util/buf.h"
#include "util/sys.h"
#include "util/xalloc.h"

/* A check waits at most this long for one HEC answer. */
#define CHECK_HEC_TIMEOUT_MS 10000L

static const char help[] =
        "Usage: clawdstrike-relay [-c FILE] check\n"
        "\n"
        "Validate the configuration (including what delivery needs), print\n"
        "it with secrets redacted, then check: the database is reachable and\n"
        "its schema version matches this binary; the token source (inline,\n"
        "file or vault; never the token) can be read; each https hec_url\n"
        "completes a TLS handshake with the configured CA/client\n"
        "certificate (days until its certificate expires); each hec_url\n"
        "answers the health endpoint and accepts the token (an empty POST\n"
        "to /services/collector/event, which indexes nothing); the\n"
        "metrics.listen address is free.  One line per check: `ok`, `warn`\n"
        "(advisory) or `FAIL`.\n"
        "\n"
        "Exit status: 0 every check passed, 1 a check failed, 2 the\n"
        "configuration is invalid (the message names the file, line and key).\n";

struct checker {
	int failed;
};

static void line_out(struct checker *ck,
                     const char *tag,
                     const char *what,
                     const char *fmt,
                     ...) RELAY_PRINTF(4, 5);

/* One result line; newlines in server messages are folded to spaces. */
static void line_out(struct checker *ck,
                     const char *tag,
                     const char *what,
                     const char *fmt,
                     ...)
{
	char msg[1024];
	size_t i = 0, o = 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* libpq's messages span lines ("...failed\n\tIs the server..."). */
	for (; msg[i]; i++) {
		bool space = msg[i] == '\n' || msg[i] == '\t' || msg[i] == ' ';

		if (!space)
			msg[o++] = msg[i];
		else if (o && msg[o - 1] != ' ')
			msg[o++] = ' ';
	}
	while (o && msg[o - 1] == ' ')
		o--;
	msg[o] = '\0';
	if (strcmp(tag, "FAIL") == 0)
		ck->failed++;
	printf("%-4s %s: %s\n", tag, what, msg);
	fflush(stdout);
}

/* ------------------------------------------------------------ database */

/*
 * The version query names clawdstrike.schema_migrations, so without the
 * schema it fails at parse time (undefined table or schema) rather than
 * answering 0: that too means "not installed".
 */
static bool schema_missing(struct db *db)
{
	const char *st = db_last_sqlstate(db);

	return strcmp(st, "42P01") == 0 || strcmp(st, "3F000") == 0;
}

static void check_schema(struct checker *ck, struct db *db)
{
	int version = 0, sql_current = 0, want = sqlbundle_latest_version();

	if (migrate_schema_version(db, &version, &sql_current) != 0 &&
	    !schema_missing(db)) {
		line_out(ck, "FAIL", "database", "schema version: %s",
		         relay_error_last());
	} else if (version == 0) {
		line_out(ck, "FAIL", "database",
		         "the clawdstrike schema is not installed (binary"
		         " expects version %d): run migrate",
		         want);
	} else if (version < want) {
		line_out(ck, "FAIL", "database",
		         "schema version %d, binary expects %d: run migrate",
		         version, want);
	} else if (version > want) {
		line_out(ck, "FAIL", "database",
		         "schema version %d is newer than this binary's %d:"
		         " upgrade the relay",
		         version, want);
	} else if (!sql_current) {
		line_out(ck, "FAIL", "database",
		         "schema version %d, but the functions and views differ"
		         " from this binary's sql/: run migrate",
		         version);
	} else {
		line_out(ck, "ok", "database", "schema version %d (current)",
		         version);
	}
}

static void check_database(struct checker *ck, const struct config *cfg)
{
	struct db_result *r = NULL;
	struct db *db = NULL;

	if (db_connect(&db, cfg->database.url, "clawdstrike-relay check")) {
		line_out(ck, "FAIL", "database", "%s", relay_error_last());
		return;
	}
	if (db_query(db, &r,
	             "SELECT current_database(), current_user,"
	             " current_setting('server_version')",
	             0, NULL)) {
		line_out(ck, "FAIL", "database", "%s", relay_error_last());
	} else {
		line_out(ck, "ok", "database",
		         "connected to %s as %s (PostgreSQL %s)",
		         db_result_value(r, 0, 0), db_result_value(r, 0, 1),
		         db_result_value(r, 0, 2));
		check_schema(ck, db);
	}
	db_result_free(r);
	db_free(db);
}

/* ----------------------------------------------------------------- HEC */

/* Wait for the one request in flight; 0 and *out filled, or an error. */
static int await_result(struct hec *hec, struct hec_result *out)
{
	while (!hec_next_result(hec, out)) {
		int rc = hec_wait(hec, 200, NULL, 0);

		if (rc)
			return rc;
	}
	return 0;
}

/* "HTTP 403 code 4 Invalid token", or the transport error. */
static void describe(const struct hec_result *r, char *out, size_t n)
{
	if (!r->http_status)
		snprintf(out, n, "no HTTP answer: %s",
		         r->error[0] ? r->error : "transport error");
	else if (r->resp.code >= 0)
		snprintf(out, n, "HTTP %ld code %d %s", r->http_status,
		         r->resp.code, r->resp.text);
	else
		snprintf(out, n, "HTTP %ld", r->http_status);
}

/* Returns 0 when the endpoint answered over HTTP at all. */
static int
check_health(struct checker *ck, struct hec *hec, size_t ep, const char *what)
{
	struct hec_result r;
	char d[512];
	int rc = hec_check_health(hec, ep, NULL);

	if (!rc)
		rc = await_result(hec, &r);
	if (rc) {
		line_out(ck, "FAIL", what, "health: %s", relay_error_last());
		return rc;
	}
	describe(&r, d, sizeof(d));
	if (r.http_status == 200)
		line_out(ck, "ok", what, "health: %s",
		         r.resp.text[0] ? r.resp.text : "healthy");
	else
		line_out(ck, "FAIL", what, "health: %s", d);
	rc = r.http_status ? 0 : RELAY_ERR;
	hec_result_dispose(&r);
	return rc;
}

static void token_verdict(struct checker *ck,
                          const struct hec_result *r,
                          bool use_ack,
                          const char *what)
{
	char d[512];

	describe(r, d, sizeof(d));
	if (r->http_status == 400 && r->resp.code == 5)
		line_out(ck, "ok", what, "token accepted (%s)", d);
	else if (r->http_status == 200)
		line_out(ck, "ok", what, "token accepted (%s)", d);
	else if (r->http_status == 400 && r->resp.code == 10 && !use_ack)
		line_out(ck, "FAIL", what,
		         "%s: the token requires indexer acknowledgement; set"
		         " exporters.splunk.use_ack: true",
		         d);
	else
		line_out(ck, "FAIL", what, "%s", d);
}

static void check_token(struct checker *ck,
                        struct hec *hec,
                        size_t ep,
                        bool use_ack,
                        const char *what)
{
	struct hec_result r;
	char channel[37];
	int rc;

	/* A fresh channel, as the relay uses one per run. */
	sys_uuid_v4(channel);
	rc = hec_post_events(hec, ep, use_ack ? channel : NULL, "", 0, NULL);
	if (!rc)
		rc = await_result(hec, &r);
	if (rc) {
		line_out(ck, "FAIL", what, "token: %s", relay_error_last());
		return;
	}
	token_verdict(ck, &r, use_ack, what);
	hec_result_dispose(&r);
}

static const char *nonempty(const char *s)
{
	return s && *s ? s : NULL;
}

/* The token as `run` loads it (token.h: inline, file or Vault). */
static int load_token(const struct config *cfg, char **out)
{
	return token_load(cfg, out, NULL);
}

static int open_hec(const struct config *cfg, struct hec **out)
{
	long t = cfg->splunk.connection.timeout_ms;
	struct hec_opts o;
	char *tok = NULL;
	int rc = load_token(cfg, &tok);

	if (rc)
		return rc;
	memset(&o, 0, sizeof(o));
	o.urls = (const char *const *)cfg->splunk.hec_url.v;
	o.n_urls = cfg->splunk.hec_url.n;
	o.token = tok;
	/* An empty body stays empty: gzip would send a gzip header. */
	o.gzip = false;
	o.timeout_ms =
	        t > 0 && t < CHECK_HEC_TIMEOUT_MS ? t : CHECK_HEC_TIMEOUT_MS;
	o.connect_timeout_ms = o.timeout_ms;
	o.ca_cert_path = nonempty(cfg->splunk.tls.ca_cert_path);
	o.client_cert_path = nonempty(cfg->splunk.tls.client_cert_path);
	o.client_key_path = nonempty(cfg->splunk.tls.client_key_path);
	o.insecure_skip_verify = cfg->splunk.tls.insecure_skip_verify;
	o.http2 = cfg->splunk.tls.http2;
	o.user_agent = "clawdstrike-relay/" RELAY_VERSION_STRING;
	rc = hec_new(out, &o);
	token_free(tok);
	return rc;
}

/* ---------------------------------------------------- token source, TLS */

/* A token file others can read is a leaked token. */
static void check_token_files(struct checker *ck, const struct config *cfg)
{
	const char *keys[2], *paths[2];
	size_t n = token_files(cfg, keys, paths);

	for (size_t i = 0; i < n; i++)
		if (sys_secret_private(paths[i]) != 0)
			line_out(ck, "FAIL", "token", "%s: %s", keys[i],
			         relay_error_last());
}

/* Which source the token comes from, and whether it can be read now. */
static void check_token_source(struct checker *ck, const struct config *cfg)
{
	enum token_source s = token_source_of(cfg);
	char *tok = NULL;
	long version = -1;
	char where[600];

	if (s == TOKEN_VAULT)
		snprintf(where, sizeof(where), "vault %s path %s key %s",
		         cfg->splunk.vault.address, cfg->splunk.vault.path,
		         cfg->splunk.vault.key);
	else if (s == TOKEN_FILE)
		snprintf(where, sizeof(where),
		         "file %s (re-read when it"
		         " changes and on 401/403)",
		         cfg->splunk.hec_token_file);
	else
		snprintf(where, sizeof(where),
		         "inline (exporters.splunk."
		         "hec_token)");
	if (token_load(cfg, &tok, &version) != 0) {
		line_out(ck, "FAIL", "token", "source %s: %s", where,
		         relay_error_last());
		return;
	}
	if (!*tok)
		line_out(ck, "FAIL", "token", "source %s: the token is empty",
		         where);
	else if (version >= 0)
		line_out(ck, "ok", "token",
		         "source %s: read (secret version"
		         " %ld)",
		         where, version);
	else
		line_out(ck, "ok", "token", "source %s: read", where);
	token_free(tok);
	check_token_files(ck, cfg);
}

/* Days before a certificate expiry that `check` starts warning. */
#define CHECK_CERT_WARN_DAYS 14

/* https endpoints: handshake with the relay's TLS settings, expiry. */
static void check_tls(struct checker *ck,
                      const struct config *cfg,
                      const char *url,
                      const char *what)
{
	struct tlsprobe_opts o;
	struct tlsprobe_result r;
	const char *tag;

	if (strncmp(url, "https://", 8) != 0)
		return; /* plain http: config already warned */
	memset(&o, 0, sizeof(o));
	o.ca_cert_path = nonempty(cfg->splunk.tls.ca_cert_path);
	o.client_cert_path = nonempty(cfg->splunk.tls.client_cert_path);
	o.client_key_path = nonempty(cfg->splunk.tls.client_key_path);
	o.insecure_skip_verify = cfg->splunk.tls.insecure_skip_verify;
	o.timeout_ms = CHECK_HEC_TIMEOUT_MS;
	if (tlsprobe_run(url, &o, &r) != 0) {
		line_out(ck, "FAIL", what, "tls: handshake failed: %s",
		         relay_error_last());
		return;
	}
	if (!r.not_after) {
		line_out(ck, r.verified ? "ok" : "warn", what,
		         "tls: handshake ok (%s), certificate expiry unknown",
		         r.verified ? "verified" : "NOT verified");
		return;
	}
	tag = r.days_left < 0                      ? "FAIL"
	      : !r.verified                        ? "warn"
	      : r.days_left < CHECK_CERT_WARN_DAYS ? "warn"
	                                           : "ok";
	line_out(ck, tag, what,
	         "tls: handshake ok (%s), certificate %s (issuer %s) %s %ld"
	         " days",
	         r.verified ? "verified" : "NOT verified: insecure_skip_verify",
	         r.subject, r.issuer,
	         r.days_left < 0 ? "expired" : "expires in",
	         r.days_left < 0 ? -r.days_left : r.days_left);
}

/* ------------------------------------------------------------- metrics */

/* Could `run` listen on metrics.listen?  Binds and closes at once. */
static void check_metrics_listener(struct checker *ck, const struct config *cfg)
{
	const char *spec = cfg->metrics.listen;
	char host[256];
	const char *colon = spec ? strrchr(spec, ':') : NULL;
	struct addrinfo hints, *res = NULL;
	size_t hl;
	int fd = -1, one = 1, e;

	if (!spec || !*spec) {
		line_out(ck, "ok", "metrics",
		         "listener off (metrics.listen is"
		         " empty)");
		return;
	}
	hl = colon ? (size_t)(colon - spec) : 0;
	if (hl >= 2 && spec[0] == '[' && spec[hl - 1] == ']') {
		spec++;
		hl -= 2;
	}
	if (!colon || hl >= sizeof(host)) {
		line_out(ck, "FAIL", "metrics", "%s: not host:port",
		         cfg->metrics.listen);
		return;
	}
	memcpy(host, spec, hl);
	host[hl] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	e = getaddrinfo(host, colon + 1, &hints, &res);
	if (e != 0 || !res) {
		line_out(ck, "FAIL", "metrics", "%s: %s", cfg->metrics.listen,
		         gai_strerror(e));
		return;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, res->ai_addr, res->ai_addrlen) || listen(fd, 1))
		line_out(ck, "FAIL", "metrics",
		         "cannot listen on %s: %s"
		         " (another relay running?)",
		         cfg->metrics.listen, strerror(errno));
	else
		line_out(ck, "ok", "metrics",
		         "%s is free for /metrics,"
		         " /healthz, /readyz",
		         cfg->metrics.listen);
	if (fd >= 0)
		close(fd);
	freeaddrinfo(res);
}

static void check_hec(struct checker *ck, const struct config *cfg)
{
	struct hec *hec = NULL;

	if (!cfg->splunk.enabled) {
		line_out(ck, "warn", "hec",
		         "exporters.splunk.enabled is false: nothing will be"
		         " delivered");
		return;
	}
	if (open_hec(cfg, &hec) != 0) {
		line_out(ck, "FAIL", "hec", "%s", relay_error_last());
		return;
	}
	for (size_t i = 0; i < hec_endpoint_count(hec); i++) {
		char *what = xasprintf("hec %s", hec_endpoint_url(hec, i));

		check_tls(ck, cfg, hec_endpoint_url(hec, i), what);
		/* Without an HTTP answer the token cannot be judged. */
		if (check_health(ck, hec, i, what) == 0)
			check_token(ck, hec, i, cfg->splunk.use_ack, what);
		free(what);
	}
	hec_free(hec);
}

/* ------------------------------------------------------------- command */

static int print_summary(const struct config *cfg)
{
	struct buf b;
	int rc;

	buf_init(&b, 0);
	rc = config_redacted_summary(cfg, &b);
	if (!rc)
		printf("%s\n", b.data);
	buf_dispose(&b);
	return rc;
}

int cmd_check(const struct cli_ctx *ctx, int argc, char **argv)
{
	struct checker ck = {0};
	struct config *cfg = NULL;
	int rc;

	if (cli_wants_help(argc, argv, help))
		return CLI_OK;
	if (argc > 1) {
		fprintf(stderr, "%s: check takes no arguments\n", ctx->prog);
		return CLI_USAGE;
	}
	rc = cli_load_config(ctx, &cfg, true);
	if (rc)
		return rc;
	if (print_summary(cfg) != 0)
		fprintf(stderr, "%s: check: %s\n", ctx->prog,
		        relay_error_last());
	line_out(&ck, "ok", "config", "%s is valid", cfg->path);
	for (size_t i = 0; i < cfg->warnings.n; i++)
		line_out(&ck, "warn", "config", "%s", cfg->warnings.v[i]);
	check_database(&ck, cfg);
	if (cfg->splunk.enabled)
		check_token_source(&ck, cfg);
	check_hec(&ck, cfg);
	check_metrics_listener(&ck, cfg);
	config_free(cfg);
	if (ck.failed)
		printf("%d check(s) failed\n", ck.failed);
	else
		printf("all checks passed\n");
	return ck.failed ? CLI_RUNTIME : CLI_OK;
}
