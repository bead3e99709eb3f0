/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config: load relay.yaml with libyaml into struct config.
 *
 * Everything about a key lives in one row of `keys[]` (pgbouncer's CfKey
 * table): its dotted path, type, offset in struct config, default (as text,
 * parsed by the same code as file values, so defaults are validated too),
 * flags and doc line.  The loader walks the YAML document tree: a mapping
 * key is either a table row, a section (a prefix of rows), a rejected key
 * with its own explanation, or an error with a did-you-mean.  Checks that
 * involve several keys run after the walk (finish()).  The yaml_parser_t and
 * yaml_document_t never leave this file.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <yaml.h>

#include "util/strdist.h"
#include "util/xalloc.h"

#define CONFIG_RELOADABLE 0x1 /* SIGHUP may change it */
#define CONFIG_SECRET 0x2     /* never printed */
#define CONFIG_HOSTNAME 0x4   /* empty: this machine's hostname */

#define MAX_FILE_BYTES (1024 * 1024)
#define MAX_LIST 256
#define MAX_SHOWN 60 /* bytes of a bad value quoted in a message */

enum ctype {
	CT_STR,
	CT_BOOL,
	CT_INT,
	CT_DOUBLE,
	CT_LEVEL,
	CT_URLS,
	CT_FIELDS,
	CT_ROUTES,
};

/* A string check: NULL if v is fine, else what is wrong with it. */
typedef const char *(*check_fn)(const char *v);

struct key {
	const char *path;
	enum ctype type;
	size_t off;
	const char *def;
	unsigned flags;
	double min, max; /* CT_INT, CT_DOUBLE */
	check_fn check;  /* CT_STR, list items */
	const char *doc;
};

static const char *check_url(const char *v);
static const char *check_url_opt(const char *v);
static const char *check_index(const char *v);
static const char *check_nonempty(const char *v);
static const char *check_text(const char *v);
static const char *check_listen(const char *v);
static const char *check_instance(const char *v);
static const char *check_token(const char *v);
static const char *check_vault_path(const char *v);

#define OFF(member) offsetof(struct config, member)
#define SPL "exporters.splunk."

/* clang-format off */
static const struct key keys[] = {
	{"database.url", CT_STR, OFF(database.url), "", 0, 0, 0, NULL,
	 "libpq connection URL or conninfo string; empty uses libpq defaults and the PG* environment variables (PGHOST, PGUSER, PGPASSFILE...)"},
	{"relay.instance_id", CT_STR, OFF(relay.instance_id), "", CONFIG_HOSTNAME, 0, 0, check_instance,
	 "names this relay process: one live process per name (a second one is refused); a restarted relay keeps it to resume its own pending acks at once (letters, digits, . _ : -)"},
	{"relay.lease_s", CT_INT, OFF(relay.lease_s), "60", 0, 5, 3600, NULL,
	 "seconds a claimed batch stays leased before another relay may take it back; must exceed connection.timeout_ms"},
	{"relay.max_in_flight", CT_INT, OFF(relay.max_in_flight), "8", 0, 1, 256, NULL,
	 "concurrent HEC requests (upper bound for adaptive concurrency)"},
	{"metrics.listen", CT_STR, OFF(metrics.listen), "127.0.0.1:9187", 0, 0, 0, check_listen,
	 "host:port of /metrics, /healthz and /readyz ([v6addr]:port for IPv6); empty disables the listener"},
	{"log.level", CT_LEVEL, OFF(log.level), "info", CONFIG_RELOADABLE, 0, 0, NULL,
	 "error, warn, info or debug"},
	{"retention.delivered_days", CT_INT, OFF(retention.delivered_days), "7", 0, 0, 36500, NULL,
	 "days delivered rows are kept in the outbox; 0 keeps them forever (failed rows are never removed); the batch audit and event_id tombstones follow the database settings retention_batches and retention_tombstones (30 days)"},

	{SPL "enabled", CT_BOOL, OFF(splunk.enabled), "true", 0, 0, 0, NULL,
	 "deliver to Splunk HEC; when true, hec_url and one token source are required; false: run claims and delivers nothing (retention and metrics only)"},
	{SPL "hec_url", CT_URLS, OFF(splunk.hec_url), NULL, 0, 0, 0, check_url,
	 "HEC base URL (https://host:8088) or a list of them for failover; ack polls stick to the URL that took the batch; required"},
	{SPL "hec_token", CT_STR, OFF(splunk.hec_token), "", CONFIG_RELOADABLE | CONFIG_SECRET, 0, 0, check_token,
	 "HEC token, usually ${SPLUNK_HEC_TOKEN}; one of hec_token, hec_token_file or vault is required"},
	{SPL "hec_token_file", CT_STR, OFF(splunk.hec_token_file), "", CONFIG_RELOADABLE, 0, 0, NULL,
	 "file holding the HEC token (e.g. a Kubernetes secret mount); re-read when it changes and on 401/403"},
	{SPL "index", CT_STR, OFF(splunk.index), "security", CONFIG_RELOADABLE, 0, 0, check_index,
	 "Splunk index for events no routing rule sends elsewhere; empty leaves it to the token's default index"},
	{SPL "sourcetype", CT_STR, OFF(splunk.sourcetype), "clawdstrike:security", CONFIG_RELOADABLE, 0, 0, check_nonempty,
	 "sourcetype for events no routing rule overrides"},
	{SPL "source", CT_STR, OFF(splunk.source), "clawdstrike", CONFIG_RELOADABLE, 0, 0, check_nonempty,
	 "source field of every event"},
	{SPL "host", CT_STR, OFF(splunk.host), "", CONFIG_HOSTNAME | CONFIG_RELOADABLE, 0, 0, check_text,
	 "host field of every event"},
	{SPL "use_ack", CT_BOOL, OFF(splunk.use_ack), "true", 0, 0, 0, NULL,
	 "wait for indexer acknowledgement before marking rows delivered; false delivers on HTTP 200 (may lose events Splunk queued but never indexed)"},
	{SPL "compression", CT_BOOL, OFF(splunk.compression), "true", 0, 0, 0, NULL,
	 "gzip request bodies"},
	{SPL "indexed_fields", CT_FIELDS, OFF(splunk.indexed_fields),
	 "agent_id session_id user tenant_id environment decision_allowed guard severity resource_type resource_name resource_path dest_host dest_port mitre_tactic mitre_technique",
	 0, 0, 0, NULL,
	 "Splunk field names sent as HEC indexed `fields` (seed field mapping names plus environment); top-level event keys (event_id, event_type, event_category, outcome, action, timestamp) are refused since Splunk would hold them twice"},
	{SPL "max_content_length", CT_INT, OFF(splunk.max_content_length), "2097152", 0, 65536, 838860800, NULL,
	 "hard cap on one request body in bytes before compression; keep it at or below the server's [http_input] max_content_length (800 MB by default, 1 MB before Splunk 6.5); must be at least batch.max_bytes and more than max_event_bytes"},
	{SPL "max_event_bytes", CT_INT, OFF(splunk.max_event_bytes), "1048576", 0, 1024, 838860800, NULL,
	 "largest event (its JSON) accepted; bigger events are dead-lettered with a reason, never sent (Splunk's maxEventSize is 5 MB)"},

	{SPL "batch.size", CT_INT, OFF(splunk.batch.size), "500", 0, 1, 100000, NULL,
	 "most events in one HEC request"},
	{SPL "batch.flush_interval_ms", CT_INT, OFF(splunk.batch.flush_interval_ms), "2000", 0, 0, 600000, NULL,
	 "longest a partly filled batch waits before it is sent; 0 sends at once"},
	{SPL "batch.max_bytes", CT_INT, OFF(splunk.batch.max_bytes), "1000000", 0, 1024, 838860800, NULL,
	 "target request body size in bytes before compression; a batch is sent when the next event would pass it"},
	{SPL "ack.poll_interval_ms", CT_INT, OFF(splunk.ack.poll_interval_ms), "1000", 0, 10, 300000, NULL,
	 "first ack poll after a send; later polls back off, but a channel with pending acks is never left idle near Splunk's 600 s maxIdleTime"},
	{SPL "ack.timeout_s", CT_INT, OFF(splunk.ack.timeout_s), "300", 0, 1, 86400, NULL,
	 "unacknowledged batches go back to pending after this long and are re-sent (counted as possible duplicates)"},

	{SPL "tls.ca_cert_path", CT_STR, OFF(splunk.tls.ca_cert_path), "", 0, 0, 0, NULL,
	 "PEM file of CA certificates to trust for HEC instead of the system store"},
	{SPL "tls.client_cert_path", CT_STR, OFF(splunk.tls.client_cert_path), "", 0, 0, 0, NULL,
	 "PEM client certificate for mutual TLS"},
	{SPL "tls.client_key_path", CT_STR, OFF(splunk.tls.client_key_path), "", 0, 0, 0, NULL,
	 "PEM private key for client_cert_path (omit if the certificate file holds the key)"},
	{SPL "tls.insecure_skip_verify", CT_BOOL, OFF(splunk.tls.insecure_skip_verify), "false", 0, 0, 0, NULL,
	 "do not verify the HEC certificate or host name; testing only, warned about at start and by check"},
	{SPL "tls.http2", CT_BOOL, OFF(splunk.tls.http2), "false", 0, 0, 0, NULL,
	 "offer HTTP/2 over TLS"},

	{SPL "retry.initial_backoff_ms", CT_INT, OFF(splunk.retry.initial_backoff_ms), "500", CONFIG_RELOADABLE, 1, 3600000, NULL,
	 "first wait after a retryable failure (network error, 408, 429, 5xx, a 2xx that is not HEC's answer); waits use full jitter"},
	{SPL "retry.max_backoff_ms", CT_INT, OFF(splunk.retry.max_backoff_ms), "60000", CONFIG_RELOADABLE, 1, 3600000, NULL,
	 "cap on the wait between retries, and on a Retry-After (which holds only the endpoint that sent it); retries never stop, so an outage delays events but never dead-letters them"},
	{SPL "retry.backoff_multiplier", CT_DOUBLE, OFF(splunk.retry.backoff_multiplier), "2.0", CONFIG_RELOADABLE, 1, 10, NULL,
	 "growth factor of the wait between retries"},

	{SPL "rate_limit.requests_per_second", CT_INT, OFF(splunk.rate_limit.requests_per_second), "0", CONFIG_RELOADABLE, 0, 1000000, NULL,
	 "static cap on HEC requests per second on top of adaptive concurrency; 0 is no cap"},
	{SPL "rate_limit.burst_size", CT_INT, OFF(splunk.rate_limit.burst_size), "0", CONFIG_RELOADABLE, 0, 1000000, NULL,
	 "requests allowed in a burst above the rate; 0 means requests_per_second"},

	{SPL "connection.timeout_ms", CT_INT, OFF(splunk.connection.timeout_ms), "30000", 0, 100, 3600000, NULL,
	 "whole-request timeout of one HEC request (a timed-out request is retried)"},
	{SPL "connection.keepalive_ms", CT_INT, OFF(splunk.connection.keepalive_ms), "60000", 0, 1000, 3600000, NULL,
	 "TCP keep-alive probe interval of HEC connections"},

	{SPL "vault.address", CT_STR, OFF(splunk.vault.address), "", CONFIG_RELOADABLE, 0, 0, check_url_opt,
	 "Vault server URL; setting it makes Vault the token source"},
	{SPL "vault.path", CT_STR, OFF(splunk.vault.path), "", CONFIG_RELOADABLE, 0, 0, check_vault_path,
	 "KV v2 read path without /v1/, e.g. secret/data/clawdstrike/splunk"},
	{SPL "vault.key", CT_STR, OFF(splunk.vault.key), "hec_token", CONFIG_RELOADABLE, 0, 0, check_nonempty,
	 "key of the token inside the secret's data"},
	{SPL "vault.token", CT_STR, OFF(splunk.vault.token), "", CONFIG_RELOADABLE | CONFIG_SECRET, 0, 0, check_token,
	 "Vault token, usually ${VAULT_TOKEN}; or use vault.token_file"},
	{SPL "vault.token_file", CT_STR, OFF(splunk.vault.token_file), "", CONFIG_RELOADABLE, 0, 0, NULL,
	 "file holding the Vault token (e.g. written by a Vault agent)"},
	{SPL "vault.refresh_s", CT_INT, OFF(splunk.vault.refresh_s), "300", CONFIG_RELOADABLE, 10, 86400, NULL,
	 "seconds between token reads; the last good token is kept while Vault is unreachable"},

	{SPL "routing", CT_ROUTES, OFF(splunk.routing), NULL, CONFIG_RELOADABLE, 0, 0, NULL,
	 "list of {condition, index, sourcetype}; the first rule whose condition matches chooses index/sourcetype (empty ones fall back to the defaults); `default` only as the last rule"},
};
/* clang-format on */

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

/* The members of a routing rule, dumped with the table. */
static const struct {
	const char *name;
	const char *doc;
} rule_keys[] = {
        {"condition", "required; see the condition language in route.h, e.g. "
                      "severity in ['critical', 'high'] and not "
                      "decision_allowed == true"},
        {"index", "index for matching events; empty: exporters.splunk.index"},
        {"sourcetype",
         "sourcetype for matching events; empty: exporters.splunk.sourcetype"},
};

/* Keys people will copy from elsewhere and why they are refused. */
static const struct {
	const char *path;
	const char *why;
} rejected[] = {
        {SPL "retry.max_retries",
         "not supported: retryable failures (network errors, 408, 429, 5xx) "
         "are retried until they succeed, so an outage can delay events but "
         "never dead-letter them; only HEC's permanent rejection of an event "
         "makes it failed. Remove the key; retry.max_backoff_ms caps the wait"},
        {SPL "connection.max_connections",
         "not supported: use relay.max_in_flight"},
        {SPL "ack_channel",
         "not supported: each run opens fresh random ack channels (and "
         "retires one that can no longer prove anything); they are "
         "persisted, so a restart resumes them"},
        {SPL "dead_letter",
         "not supported: dead letters are the failed rows of "
         "clawdstrike.outbox (view clawdstrike.dead_letter)"},
};

/* Top-level keys of the event JSON: never also sent as indexed fields. */
static const char *const event_top_keys[] = {
        "event_id", "event_type", "event_category",
        "outcome",  "action",     "timestamp",
};

struct loader {
	struct config *cfg;
	yaml_document_t *doc;
	const char *name;
	int lines[NKEYS]; /* where each key was set; 0: default */
	int splunk_line;
	bool token_from_env, vault_token_from_env;
};

/* ---- messages --------------------------------------------------------- */

static int
lerr(const struct loader *ld, int line, const char *key, const char *fmt, ...)
        RELAY_PRINTF(4, 5);

/* "<file>:<line>: <key>: <message>" (line and key optional). */
static int
lerr(const struct loader *ld, int line, const char *key, const char *fmt, ...)
{
	char msg[800], where[64] = "";
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(where, sizeof(where), ":%d", line);
	relay_error_set("%s%s: %s%s%s", ld->name, where, key ? key : "",
	                key ? ": " : "", msg);
	return RELAY_EINVAL;
}

/* A bad value quoted for a message, shortened, secrets withheld. */
static const char *
shown(char *buf, size_t size, const struct key *k, const char *v)
{
	size_t n = 0;

	if (k && (k->flags & CONFIG_SECRET))
		return "value not shown";
	buf[n++] = '"';
	for (; *v && n + 6 < size; v++) {
		unsigned char c = (unsigned char)*v;

		if (n > MAX_SHOWN) {
			memcpy(buf + n, "...", 3);
			n += 3;
			break;
		}
		buf[n++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	buf[n++] = '"';
	buf[n] = '\0';
	return buf;
}

/* ---- string checks ---------------------------------------------------- */

static bool has_ctl(const char *v)
{
	for (; *v; v++)
		if ((unsigned char)*v < 0x20 || *v == 0x7f)
			return true;
	return false;
}

static const char *check_text(const char *v)
{
	return has_ctl(v) ? "must not contain control characters" : NULL;
}

static const char *check_nonempty(const char *v)
{
	return *v ? check_text(v) : "must not be empty";
}

static const char *check_url(const char *v)
{
	const char *host;

	if (strncmp(v, "https://", 8) == 0)
		host = v + 8;
	else if (strncmp(v, "http://", 7) == 0)
		host = v + 7;
	else
		return "must be an http:// or https:// URL";
	if (!*host || *host == '/' || *host == ':')
		return "must name a host";
	for (; *v; v++)
		if ((unsigned char)*v <= 0x20 || *v == 0x7f)
			return "must not contain spaces or control characters";
	return NULL;
}

static const char *check_url_opt(const char *v)
{
	return *v ? check_url(v) : NULL;
}

static const char *check_token(const char *v)
{
	/* It goes into an HTTP header: no room for CR/LF or spaces. */
	for (; *v; v++)
		if ((unsigned char)*v <= 0x20 || (unsigned char)*v >= 0x7f)
			return "must be printable ASCII without spaces";
	return NULL;
}

/* Splunk: lowercase letters, digits, '_' and '-', not starting with _/-. */
static const char *check_index(const char *v)
{
	if (!*v)
		return NULL;
	if (*v == '_' || *v == '-')
		return "must start with a lowercase letter or a digit";
	if (strlen(v) > 80)
		return "must be at most 80 characters";
	for (; *v; v++)
		if (!((*v >= 'a' && *v <= 'z') || (*v >= '0' && *v <= '9') ||
		      *v == '_' || *v == '-'))
			return "must hold only lowercase letters, digits, '_' and '-'";
	return NULL;
}

static const char *check_instance(const char *v)
{
	if (strlen(v) > 128)
		return "must be at most 128 characters";
	for (; *v; v++)
		if (!((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') ||
		      (*v >= '0' && *v <= '9') || strchr("._:-", *v)))
			return "must hold only letters, digits and . _ : -";
	return NULL;
}

static const char *check_listen(const char *v)
{
	const char *colon;
	char *end;
	long port;

	if (!*v)
		return NULL;
	if (*v == '[') {
		const char *close = strchr(v, ']');

		if (!close || close[1] != ':')
			return "must be host:port or [ipv6]:port";
		colon = close + 1;
	} else {
		colon = strrchr(v, ':');
		if (!colon || colon == v || memchr(v, ':', (size_t)(colon - v)))
			return "must be host:port or [ipv6]:port";
	}
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || port < 1 || port > 65535)
		return "port must be a number between 1 and 65535";
	return check_text(v);
}

static const char *check_vault_path(const char *v)
{
	if (!*v)
		return NULL;
	if (*v == '/' || strncmp(v, "v1/", 3) == 0)
		return "must not start with / or v1/ (e.g. secret/data/clawdstrike/splunk)";
	if (!strstr(v, "/data/"))
		return "must be a KV v2 read path <mount>/data/<secret>, e.g. secret/data/clawdstrike/splunk";
	return check_text(v);
}

/* ---- small helpers ---------------------------------------------------- */

static void *slot(struct config *cfg, const struct key *k)
{
	return (char *)cfg + k->off;
}

static const void *cslot(const struct config *cfg, const struct key *k)
{
	return (const char *)cfg + k->off;
}

static const struct key *key_find(const char *path)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].path, path) == 0)
			return &keys[i];
	return NULL;
}

static size_t key_index(const struct key *k)
{
	return (size_t)(k - keys);
}

static void strlist_add(struct config_strlist *l, const char *s)
{
	/* Keep v NULL-terminated so it can serve as a plain string array. */
	l->v = xrealloc(l->v, (l->n + 2) * sizeof(*l->v));
	l->v[l->n++] = xstrdup(s);
	l->v[l->n] = NULL;
}

static void strlist_clear(struct config_strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static bool strlist_has(const struct config_strlist *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return true;
	return false;
}

static void routes_clear(struct config_routes *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].condition);
		route_free(r->v[i].expr);
		free(r->v[i].index);
		free(r->v[i].sourcetype);
	}
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

static void add_warning(struct config *cfg, const char *fmt, ...)
        RELAY_PRINTF(2, 3);

static void add_warning(struct config *cfg, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	strlist_add(&cfg->warnings, msg);
}

/* ---- ${VAR} expansion ------------------------------------------------- */

/*
 * Expand ${VAR}, ${VAR:-default} and $$ in s into *out.  A '$' followed by
 * anything else is kept as is.  Expanded text is not rescanned.
 */
static int expand(const struct loader *ld,
                  const char *keyname,
                  int line,
                  const char *s,
                  char **out,
                  bool *used_env)
{
	struct buf b;
	int rc = 0;

	buf_init(&b, 0);
	*out = NULL;
	while (*s && !rc) {
		const char *name, *end, *def = NULL, *val;
		size_t nlen;

		if (s[0] != '$' || (s[1] != '$' && s[1] != '{')) {
			rc = buf_append(&b, s, 1);
			s++;
			continue;
		}
		if (s[1] == '$') {
			rc = buf_append(&b, "$", 1);
			s += 2;
			continue;
		}
		name = s + 2;
		end = strchr(name, '}');
		if (!end) {
			rc = lerr(ld, line, keyname,
			          "unterminated ${ in value");
			break;
		}
		nlen = strcspn(name, ":}");
		if (name[nlen] == ':') {
			if (name[nlen + 1] != '-') {
				rc = lerr(
				        ld, line, keyname,
				        "bad expansion: write ${NAME} or ${NAME:-default}");
				break;
			}
			def = name + nlen + 2;
		}
		if (nlen == 0 || (name[0] >= '0' && name[0] <= '9')) {
			rc = lerr(ld, line, keyname,
			          "bad variable name in ${...}");
			break;
		}
		for (size_t i = 0; i < nlen; i++)
			if (!(name[i] == '_' ||
			      (name[i] >= 'A' && name[i] <= 'Z') ||
			      (name[i] >= 'a' && name[i] <= 'z') ||
			      (name[i] >= '0' && name[i] <= '9')))
				rc = RELAY_EINVAL;
		if (rc) {
			rc = lerr(ld, line, keyname,
			          "bad variable name in ${...}");
			break;
		}
		{
			char vname[256];

			if (nlen >= sizeof(vname)) {
				rc = lerr(ld, line, keyname,
				          "variable name too long");
				break;
			}
			memcpy(vname, name, nlen);
			vname[nlen] = '\0';
			val = getenv(vname);
			if (val && !*val && def)
				val = NULL; /* ${VAR:-x}: empty counts as unset
				             */
			if (!val && !def) {
				rc = lerr(
				        ld, line, keyname,
				        "environment variable %s is not set (write ${%s:-default} to give a default)",
				        vname, vname);
				break;
			}
		}
		if (val) {
			rc = buf_puts(&b, val);
			*used_env = true;
		} else {
			rc = buf_append(&b, def, (size_t)(end - def));
		}
		s = end + 1;
	}
	if (rc) {
		buf_dispose(&b);
		return RELAY_EINVAL;
	}
	*out = buf_take(&b, NULL);
	if (!*out)
		*out = xstrdup("");
	return 0;
}

/* ---- scalar parsing --------------------------------------------------- */

/* Parse v into the slot of k (not list types); line 0: a default. */
static int
parse_scalar(struct loader *ld, const struct key *k, int line, const char *v)
{
	void *dst = slot(ld->cfg, k);
	char sb[80];
	const char *why;
	char *end;

	switch (k->type) {
	case CT_STR:
		why = k->check ? k->check(v) : check_text(v);
		if (why)
			return lerr(ld, line, k->path, "%s (got %s)", why,
			            shown(sb, sizeof(sb), k, v));
		free(*(char **)dst);
		*(char **)dst = xstrdup(v);
		return 0;
	case CT_BOOL:
		if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") ||
		    !strcasecmp(v, "on"))
			*(bool *)dst = true;
		else if (!strcasecmp(v, "false") || !strcasecmp(v, "no") ||
		         !strcasecmp(v, "off"))
			*(bool *)dst = false;
		else
			return lerr(ld, line, k->path,
			            "must be true or false (got %s)",
			            shown(sb, sizeof(sb), k, v));
		return 0;
	case CT_INT: {
		long long n;

		errno = 0;
		n = strtoll(v, &end, 10);
		if (errno || end == v || *end || n < (long long)k->min ||
		    n > (long long)k->max)
			return lerr(
			        ld, line, k->path,
			        "must be an integer between %.0f and %.0f (got %s)",
			        k->min, k->max, shown(sb, sizeof(sb), k, v));
		*(int *)dst = (int)n;
		return 0;
	}
	case CT_DOUBLE: {
		double d;

		errno = 0;
		d = strtod(v, &end);
		if (errno || end == v || *end || !isfinite(d) || d < k->min ||
		    d > k->max)
			return lerr(
			        ld, line, k->path,
			        "must be a number between %g and %g (got %s)",
			        k->min, k->max, shown(sb, sizeof(sb), k, v));
		*(double *)dst = d;
		return 0;
	}
	case CT_LEVEL:
		if (log_level_parse(v, (enum log_level *)dst) != 0)
			return lerr(
			        ld, line, k->path,
			        "must be one of error, warn, info, debug (got %s)",
			        shown(sb, sizeof(sb), k, v));
		return 0;
	case CT_URLS:
	case CT_FIELDS:
	case CT_ROUTES:
		break;
	}
	return lerr(ld, line, k->path, "internal error: not a scalar key");
}

/* ---- YAML walking ----------------------------------------------------- */

static int node_line(const yaml_node_t *n)
{
	return (int)n->start_mark.line + 1;
}

static bool is_null(const yaml_node_t *n)
{
	const char *v = (const char *)n->data.scalar.value;

	if (n->type != YAML_SCALAR_NODE ||
	    n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return !*v || !strcmp(v, "~") || !strcmp(v, "null") ||
	       !strcmp(v, "Null") || !strcmp(v, "NULL");
}

static const char *kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SEQUENCE_NODE:
		return "a list";
	default:
		return "a scalar";
	}
}

/* The expanded text of scalar node n, for key keyname. */
static int scalar_text(struct loader *ld,
                       const char *keyname,
                       const yaml_node_t *n,
                       const char *want,
                       char **out,
                       bool *used_env)
{
	*out = NULL;
	if (n->type != YAML_SCALAR_NODE)
		return lerr(ld, node_line(n), keyname, "expected %s, got %s",
		            want, kind(n));
	if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length)
		return lerr(ld, node_line(n), keyname,
		            "value contains a NUL byte");
	return expand(ld, keyname, node_line(n),
	              (const char *)n->data.scalar.value, out, used_env);
}

static int parse_urls(struct loader *ld, const struct key *k, yaml_node_t *n)
{
	struct config_strlist *l = slot(ld->cfg, k);
	yaml_node_item_t *it;
	char sb[80], *v = NULL;
	bool env = false;
	const char *why;
	int rc = 0;

	strlist_clear(l);
	if (n->type == YAML_SCALAR_NODE) {
		rc = scalar_text(ld, k->path, n, "a URL or a list of URLs", &v,
		                 &env);
		if (!rc && (why = check_url(v)))
			rc = lerr(ld, node_line(n), k->path, "%s (got %s)", why,
			          shown(sb, sizeof(sb), k, v));
		if (!rc)
			strlist_add(l, v);
		free(v);
		return rc;
	}
	if (n->type != YAML_SEQUENCE_NODE)
		return lerr(ld, node_line(n), k->path,
		            "expected a URL or a list of URLs, got %s",
		            kind(n));
	for (it = n->data.sequence.items.start;
	     !rc && it < n->data.sequence.items.top; it++) {
		yaml_node_t *item = yaml_document_get_node(ld->doc, *it);

		rc = scalar_text(ld, k->path, item, "a URL", &v, &env);
		if (!rc && (why = check_url(v)))
			rc = lerr(ld, node_line(item), k->path, "%s (got %s)",
			          why, shown(sb, sizeof(sb), k, v));
		if (!rc && strlist_has(l, v))
			rc = lerr(ld, node_line(item), k->path,
			          "%s is listed twice",
			          shown(sb, sizeof(sb), k, v));
		if (!rc && l->n >= MAX_LIST)
			rc = lerr(ld, node_line(item), k->path,
			          "more than %d URLs", MAX_LIST);
		if (!rc)
			strlist_add(l, v);
		free(v);
		v = NULL;
	}
	if (!rc && l->n == 0)
		rc = lerr(ld, node_line(n), k->path, "needs at least one URL");
	return rc;
}

static bool is_event_top_key(const char *name)
{
	for (size_t i = 0; i < sizeof(event_top_keys) / sizeof(*event_top_keys);
	     i++)
		if (strcmp(name, event_top_keys[i]) == 0)
			return true;
	return false;
}

/* One indexed field name: known, not a top-level event key, not twice. */
static int check_field(struct loader *ld,
                       const struct key *k,
                       int line,
                       const struct config_strlist *l,
                       const char *v)
{
	const struct route_field *f = route_field_find(v);
	const char *best = NULL;
	size_t best_d = 3;
	struct buf list;
	char sb[80];
	int rc;

	if (is_event_top_key(v))
		return lerr(
		        ld, line, k->path,
		        "%s is a top-level key of the event JSON; sent as an indexed field too, Splunk would hold it twice (indexed and JSON-extracted)",
		        v);
	if (f && strlist_has(l, v))
		return lerr(ld, line, k->path, "%s is listed twice", v);
	if (f)
		return 0;
	buf_init(&list, 0);
	for (size_t i = 0; i < route_nfields; i++) {
		const char *name = route_fields[i].name;
		size_t d;

		if (is_event_top_key(name))
			continue;
		d = strdist(v, strlen(v), name);
		if (d < best_d) {
			best_d = d;
			best = name;
		}
		if (buf_printf(&list, "%s%s", list.len ? ", " : "", name))
			break;
	}
	if (best)
		rc = lerr(ld, line, k->path,
		          "unknown field %s (did you mean %s?); allowed: %s",
		          shown(sb, sizeof(sb), k, v), best, list.data);
	else
		rc = lerr(ld, line, k->path, "unknown field %s; allowed: %s",
		          shown(sb, sizeof(sb), k, v), list.data);
	buf_dispose(&list);
	return rc;
}

/* Default text: space separated names; file value: a YAML list. */
static int parse_fields(struct loader *ld,
                        const struct key *k,
                        yaml_node_t *n,
                        const char *def)
{
	struct config_strlist *l = slot(ld->cfg, k);
	yaml_node_item_t *it;
	bool env = false;
	int rc = 0;

	strlist_clear(l);
	if (def) {
		char *copy = xstrdup(def), *save = NULL;

		for (char *t = strtok_r(copy, " ", &save); t && !rc;
		     t = strtok_r(NULL, " ", &save)) {
			rc = check_field(ld, k, 0, l, t);
			if (!rc)
				strlist_add(l, t);
		}
		free(copy);
		return rc;
	}
	if (n->type != YAML_SEQUENCE_NODE)
		return lerr(ld, node_line(n), k->path,
		            "expected a list of field names, got %s", kind(n));
	for (it = n->data.sequence.items.start;
	     !rc && it < n->data.sequence.items.top; it++) {
		yaml_node_t *item = yaml_document_get_node(ld->doc, *it);
		char *v = NULL;

		rc = scalar_text(ld, k->path, item, "a field name", &v, &env);
		if (!rc)
			rc = check_field(ld, k, node_line(item), l, v);
		if (!rc)
			strlist_add(l, v);
		free(v);
	}
	return rc;
}

static const char *const rule_names[] = {"condition", "index", "sourcetype"};

static int parse_rule_member(struct loader *ld,
                             struct config_route *r,
                             const char *keyname,
                             const char *member,
                             yaml_node_t *val)
{
	const char *why;
	char sb[80], *v = NULL;
	bool env = false;
	int rc;

	rc = scalar_text(ld, keyname, val, "a scalar", &v, &env);
	if (rc)
		return rc;
	if (strcmp(member, "condition") == 0) {
		rc = route_compile(&r->expr, v);
		if (rc)
			rc = lerr(ld, node_line(val), keyname, "%s",
			          relay_error_last());
		free(r->condition);
		r->condition = v;
		return rc;
	}
	why = strcmp(member, "index") == 0 ? check_index(v) : check_text(v);
	if (why) {
		rc = lerr(ld, node_line(val), keyname, "%s (got %s)", why,
		          shown(sb, sizeof(sb), NULL, v));
		free(v);
		return rc;
	}
	if (strcmp(member, "index") == 0) {
		free(r->index);
		r->index = v;
	} else {
		free(r->sourcetype);
		r->sourcetype = v;
	}
	return 0;
}

static int parse_rule(struct loader *ld,
                      const struct key *k,
                      size_t idx,
                      yaml_node_t *n,
                      struct config_route *r)
{
	char keyname[160];
	bool seen[3] = {false, false, false};
	int rc = 0;

	snprintf(keyname, sizeof(keyname), "%s[%zu]", k->path, idx);
	r->line = node_line(n);
	if (n->type != YAML_MAPPING_NODE)
		return lerr(
		        ld, node_line(n), keyname,
		        "expected a mapping with condition, index and sourcetype, got %s",
		        kind(n));
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
	     !rc && p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(ld->doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(ld->doc, p->value);
		const char *name;
		char full[200];
		size_t m;

		if (kn->type != YAML_SCALAR_NODE)
			return lerr(ld, node_line(kn), keyname,
			            "keys must be plain strings");
		name = (const char *)kn->data.scalar.value;
		for (m = 0; m < 3; m++)
			if (strcmp(name, rule_names[m]) == 0)
				break;
		snprintf(full, sizeof(full), "%s.%s", keyname, name);
		if (m == 3) {
			const char *best = NULL;

			for (size_t j = 0; j < 3; j++)
				if (strdist(name, strlen(name),
				            rule_names[j]) <= 2)
					best = rule_names[j];
			if (best)
				return lerr(
				        ld, node_line(kn), full,
				        "unknown key (did you mean %s?); a rule has condition, index and sourcetype",
				        best);
			return lerr(
			        ld, node_line(kn), full,
			        "unknown key; a rule has condition, index and sourcetype");
		}
		if (seen[m])
			return lerr(ld, node_line(kn), full, "duplicate key");
		seen[m] = true;
		rc = parse_rule_member(ld, r, full, name, vn);
	}
	if (!rc && !seen[0])
		rc = lerr(ld, node_line(n), keyname, "condition is required");
	return rc;
}

static int parse_routes(struct loader *ld, const struct key *k, yaml_node_t *n)
{
	struct config_routes *rs = slot(ld->cfg, k);
	size_t count;
	int rc = 0;

	routes_clear(rs);
	if (n->type != YAML_SEQUENCE_NODE)
		return lerr(ld, node_line(n), k->path,
		            "expected a list of rules, got %s", kind(n));
	count = (size_t)(n->data.sequence.items.top -
	                 n->data.sequence.items.start);
	if (count > MAX_LIST)
		return lerr(ld, node_line(n), k->path, "more than %d rules",
		            MAX_LIST);
	rs->v = xcalloc(count ? count : 1, sizeof(*rs->v));
	for (size_t i = 0; !rc && i < count; i++) {
		yaml_node_t *item = yaml_document_get_node(
		        ld->doc, n->data.sequence.items.start[i]);

		rs->n = i + 1;
		rc = parse_rule(ld, k, i, item, &rs->v[i]);
		if (!rc && route_is_default(rs->v[i].expr) && i + 1 < count) {
			char keyname[160];

			snprintf(keyname, sizeof(keyname), "%s[%zu].condition",
			         k->path, i);
			rc = lerr(
			        ld, node_line(item), keyname,
			        "'default' is only allowed in the last rule (rules after it would never match)");
		}
	}
	return rc;
}

/* Set key k from YAML node n. */
static int set_key(struct loader *ld, const struct key *k, yaml_node_t *n)
{
	bool env = false;
	char *v = NULL;
	int rc;

	ld->lines[key_index(k)] = node_line(n);
	if (is_null(n))
		return 0; /* `key:` or `key: ~` keeps the default */
	switch (k->type) {
	case CT_URLS:
		return parse_urls(ld, k, n);
	case CT_FIELDS:
		return parse_fields(ld, k, n, NULL);
	case CT_ROUTES:
		return parse_routes(ld, k, n);
	default:
		break;
	}
	rc = scalar_text(ld, k->path, n, "a scalar", &v, &env);
	if (!rc)
		rc = parse_scalar(ld, k, node_line(n), v);
	free(v);
	if (!rc && k->off == OFF(splunk.hec_token))
		ld->token_from_env = env;
	if (!rc && k->off == OFF(splunk.vault.token))
		ld->vault_token_from_env = env;
	return rc;
}

/* Is prefix a section, i.e. a proper prefix of some key path? */
static bool is_section(const char *prefix)
{
	size_t n = strlen(prefix);

	for (size_t i = 0; i < NKEYS; i++)
		if (strncmp(keys[i].path, prefix, n) == 0 &&
		    keys[i].path[n] == '.')
			return true;
	return false;
}

/* Copy into out the path component of path following prefix. */
static void
next_component(const char *path, size_t plen, char *out, size_t size)
{
	const char *s = path + plen, *e = strchr(s, '.');
	size_t n = e ? (size_t)(e - s) : strlen(s);

	if (n >= size)
		n = size - 1;
	memcpy(out, s, n);
	out[n] = '\0';
}

static int unknown_key(struct loader *ld,
                       int line,
                       const char *prefix,
                       const char *name,
                       const char *full)
{
	size_t plen = *prefix ? strlen(prefix) + 1 : 0;
	char best[64] = "", comp[64];
	size_t best_d = 3;

	for (size_t i = 0; i < sizeof(rejected) / sizeof(*rejected); i++)
		if (strcmp(rejected[i].path, full) == 0)
			return lerr(ld, line, full, "%s", rejected[i].why);
	for (size_t i = 0; i < NKEYS; i++) {
		size_t d;

		if (plen && (strncmp(keys[i].path, prefix, plen - 1) != 0 ||
		             keys[i].path[plen - 1] != '.'))
			continue;
		next_component(keys[i].path, plen, comp, sizeof(comp));
		d = strdist(name, strlen(name), comp);
		if (d < best_d) {
			best_d = d;
			snprintf(best, sizeof(best), "%s", comp);
		}
	}
	if (*best)
		return lerr(ld, line, full, "unknown key (did you mean %s?)",
		            best);
	return lerr(ld, line, full, "unknown key");
}

/* full = prefix.name (or name at the top); -1 if it does not fit. */
static int
join_path(char *full, size_t size, const char *prefix, const char *name)
{
	size_t pl = strlen(prefix), nl = strlen(name), dot = pl ? 1 : 0;

	if (pl + dot + nl + 1 > size)
		return -1;
	memcpy(full, prefix, pl);
	if (dot)
		full[pl] = '.';
	memcpy(full + pl + dot, name, nl + 1);
	return 0;
}

static int walk(struct loader *ld, const char *prefix, yaml_node_t *map)
{
	yaml_node_pair_t *start = map->data.mapping.pairs.start;
	int rc = 0;

	for (yaml_node_pair_t *p = start;
	     !rc && p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(ld->doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(ld->doc, p->value);
		const struct key *k;
		const char *name;
		char full[256];

		if (kn->type != YAML_SCALAR_NODE)
			return lerr(ld, node_line(kn), *prefix ? prefix : NULL,
			            "keys must be plain strings, got %s",
			            kind(kn));
		name = (const char *)kn->data.scalar.value;
		if (join_path(full, sizeof(full), prefix, name) != 0)
			return lerr(ld, node_line(kn), *prefix ? prefix : NULL,
			            "key too long");
		for (yaml_node_pair_t *q = start; q < p; q++) {
			yaml_node_t *prev =
			        yaml_document_get_node(ld->doc, q->key);

			if (prev->type == YAML_SCALAR_NODE &&
			    strcmp((const char *)prev->data.scalar.value,
			           name) == 0)
				return lerr(ld, node_line(kn), full,
				            "duplicate key (first at line %d)",
				            node_line(prev));
		}
		k = key_find(full);
		if (k) {
			rc = set_key(ld, k, vn);
		} else if (is_section(full)) {
			if (strcmp(full, "exporters.splunk") == 0)
				ld->splunk_line = node_line(kn);
			if (is_null(vn))
				continue;
			if (vn->type != YAML_MAPPING_NODE)
				return lerr(ld, node_line(vn), full,
				            "expected a mapping, got %s",
				            kind(vn));
			rc = walk(ld, full, vn);
		} else {
			rc = unknown_key(ld, node_line(kn), prefix, name, full);
		}
	}
	return rc;
}

/* ---- defaults and cross-key checks ------------------------------------ */

static int apply_defaults(struct loader *ld)
{
	int rc = 0;

	for (size_t i = 0; !rc && i < NKEYS; i++) {
		const struct key *k = &keys[i];

		if (k->type == CT_FIELDS && k->def)
			rc = parse_fields(ld, k, NULL, k->def);
		else if (k->def && k->type != CT_URLS && k->type != CT_ROUTES)
			rc = parse_scalar(ld, k, 0, k->def);
	}
	return rc;
}

static void fill_hostname(char **dst)
{
	char host[256];

	if (**dst)
		return;
	if (gethostname(host, sizeof(host)) != 0 || !host[0])
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	free(*dst);
	*dst = xstrdup(host);
}

static int line_of(const struct loader *ld, size_t off)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].off == off)
			return ld->lines[i];
	return 0;
}

static int check_vault(struct loader *ld)
{
	struct config *c = ld->cfg;

	if (!*c->splunk.vault.address) {
		if (*c->splunk.vault.path || *c->splunk.vault.token ||
		    *c->splunk.vault.token_file)
			return lerr(ld, ld->splunk_line, SPL "vault.address",
			            "required when other vault keys are set");
		return 0;
	}
	if (!*c->splunk.vault.path)
		return lerr(
		        ld, line_of(ld, OFF(splunk.vault.address)),
		        SPL "vault.path",
		        "required with vault.address (e.g. secret/data/clawdstrike/splunk)");
	if (!*c->splunk.vault.token && !*c->splunk.vault.token_file)
		return lerr(
		        ld, line_of(ld, OFF(splunk.vault.address)),
		        SPL "vault.token",
		        "vault.token (e.g. ${VAULT_TOKEN}) or vault.token_file is required with vault.address");
	if (*c->splunk.vault.token && *c->splunk.vault.token_file)
		return lerr(ld, line_of(ld, OFF(splunk.vault.token_file)),
		            SPL "vault.token_file",
		            "set vault.token or vault.token_file, not both");
	return 0;
}

static int check_token_sources(struct loader *ld)
{
	struct config *c = ld->cfg;
	const char *set[3];
	int n = 0;

	if (*c->splunk.hec_token)
		set[n++] = "hec_token";
	if (*c->splunk.hec_token_file)
		set[n++] = "hec_token_file";
	if (*c->splunk.vault.address)
		set[n++] = "vault";
	if (n > 1)
		return lerr(ld, ld->splunk_line, "exporters.splunk",
		            "set one token source, not %s and %s", set[0],
		            set[1]);
	return 0;
}

static int check_limits(struct loader *ld)
{
	struct config *c = ld->cfg;

	if (c->splunk.batch.max_bytes > c->splunk.max_content_length)
		return lerr(ld, line_of(ld, OFF(splunk.batch.max_bytes)),
		            SPL "batch.max_bytes",
		            "%d is more than max_content_length (%d)",
		            c->splunk.batch.max_bytes,
		            c->splunk.max_content_length);
	if (c->splunk.max_event_bytes >= c->splunk.max_content_length)
		return lerr(
		        ld, line_of(ld, OFF(splunk.max_event_bytes)),
		        SPL "max_event_bytes",
		        "%d must be less than max_content_length (%d) so the largest event fits in a request with its envelope",
		        c->splunk.max_event_bytes,
		        c->splunk.max_content_length);
	if (c->splunk.retry.initial_backoff_ms > c->splunk.retry.max_backoff_ms)
		return lerr(ld,
		            line_of(ld, OFF(splunk.retry.initial_backoff_ms)),
		            SPL "retry.initial_backoff_ms",
		            "%d is more than retry.max_backoff_ms (%d)",
		            c->splunk.retry.initial_backoff_ms,
		            c->splunk.retry.max_backoff_ms);
	if ((long long)c->splunk.connection.timeout_ms >=
	    (long long)c->relay.lease_s * 1000) {
		int tl = line_of(ld, OFF(splunk.connection.timeout_ms));

		if (!tl && line_of(ld, OFF(relay.lease_s)))
			return lerr(
			        ld, line_of(ld, OFF(relay.lease_s)),
			        "relay.lease_s",
			        "%d s must be more than exporters.splunk.connection.timeout_ms (%d), or a slow request could outlive its lease and the batch be sent twice",
			        c->relay.lease_s,
			        c->splunk.connection.timeout_ms);
		return lerr(
		        ld, tl, SPL "connection.timeout_ms",
		        "%d must be less than relay.lease_s (%d s), or a slow request could outlive its lease and the batch be sent twice",
		        c->splunk.connection.timeout_ms, c->relay.lease_s);
	}
	if ((long long)c->splunk.ack.poll_interval_ms >=
	    (long long)c->splunk.ack.timeout_s * 1000)
		return lerr(ld, line_of(ld, OFF(splunk.ack.poll_interval_ms)),
		            SPL "ack.poll_interval_ms",
		            "%d must be less than ack.timeout_s (%d s)",
		            c->splunk.ack.poll_interval_ms,
		            c->splunk.ack.timeout_s);
	if (*c->splunk.tls.client_key_path && !*c->splunk.tls.client_cert_path)
		return lerr(ld, line_of(ld, OFF(splunk.tls.client_key_path)),
		            SPL "tls.client_key_path",
		            "needs tls.client_cert_path");
	return 0;
}

static void collect_warnings(struct loader *ld)
{
	struct config *c = ld->cfg;

	if (c->splunk.tls.insecure_skip_verify)
		add_warning(
		        c,
		        "%s: exporters.splunk.tls.insecure_skip_verify is true: the HEC server's certificate is NOT verified and the token can be stolen by anyone on the path",
		        ld->name);
	for (size_t i = 0; i < c->splunk.hec_url.n; i++)
		if (strncmp(c->splunk.hec_url.v[i], "http://", 7) == 0)
			add_warning(
			        c,
			        "%s: exporters.splunk.hec_url %s is plain http: the token and events travel unencrypted",
			        ld->name, c->splunk.hec_url.v[i]);
	if (*c->splunk.hec_token && !ld->token_from_env)
		add_warning(
		        c,
		        "%s: exporters.splunk.hec_token is written in the file; prefer ${SPLUNK_HEC_TOKEN} or hec_token_file",
		        ld->name);
	if (*c->splunk.vault.token && !ld->vault_token_from_env)
		add_warning(
		        c,
		        "%s: exporters.splunk.vault.token is written in the file; prefer ${VAULT_TOKEN} or vault.token_file",
		        ld->name);
	if (!strncmp(c->splunk.vault.address, "http://", 7))
		add_warning(
		        c,
		        "%s: exporters.splunk.vault.address is plain http: the Vault token travels unencrypted",
		        ld->name);
}

static int finish(struct loader *ld)
{
	struct config *c = ld->cfg;
	int rc;

	fill_hostname(&c->relay.instance_id);
	fill_hostname(&c->splunk.host);
	if (check_instance(c->relay.instance_id))
		return lerr(
		        ld, 0, "relay.instance_id",
		        "the hostname is not a valid instance id; set relay.instance_id");
	if (c->splunk.rate_limit.requests_per_second &&
	    !c->splunk.rate_limit.burst_size)
		c->splunk.rate_limit.burst_size =
		        c->splunk.rate_limit.requests_per_second;
	rc = check_limits(ld);
	if (!rc)
		rc = check_vault(ld);
	if (!rc)
		rc = check_token_sources(ld);
	if (!rc)
		collect_warnings(ld);
	return rc;
}

/* ---- loading ---------------------------------------------------------- */

static int load_doc(struct loader *ld, const char *text)
{
	yaml_parser_t parser;
	yaml_document_t doc, extra;
	yaml_node_t *root;
	int rc = 0;

	if (!yaml_parser_initialize(&parser))
		return lerr(ld, 0, NULL, "cannot initialise the YAML parser");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text,
	                             strlen(text));
	if (!yaml_parser_load(&parser, &doc)) {
		rc = lerr(ld, (int)parser.problem_mark.line + 1, NULL,
		          "YAML syntax error: %s%s%s",
		          parser.problem ? parser.problem : "unknown problem",
		          parser.context ? " " : "",
		          parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		return rc;
	}
	root = yaml_document_get_root_node(&doc);
	if (root) {
		if (!yaml_parser_load(&parser, &extra)) {
			rc = lerr(ld, (int)parser.problem_mark.line + 1, NULL,
			          "YAML syntax error: %s",
			          parser.problem ? parser.problem
			                         : "unknown problem");
		} else {
			if (yaml_document_get_root_node(&extra))
				rc = lerr(ld, (int)extra.start_mark.line + 1,
				          NULL, "more than one YAML document");
			yaml_document_delete(&extra);
		}
	}
	ld->doc = &doc;
	if (!rc && root && !is_null(root)) {
		if (root->type != YAML_MAPPING_NODE)
			rc = lerr(ld, node_line(root), NULL,
			          "expected a mapping at the top, got %s",
			          kind(root));
		else
			rc = walk(ld, "", root);
	}
	ld->doc = NULL;
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return rc;
}

int config_load_string(struct config **out,
                       const char *yaml_text,
                       const char *name)
{
	struct loader ld = {0};
	int rc;

	*out = NULL;
	ld.cfg = xcalloc(1, sizeof(*ld.cfg));
	ld.name = name ? name : "config";
	ld.cfg->path = xstrdup(ld.name);
	rc = apply_defaults(&ld);
	if (!rc)
		rc = load_doc(&ld, yaml_text);
	if (!rc)
		rc = finish(&ld);
	if (rc) {
		config_free(ld.cfg);
		return RELAY_EINVAL;
	}
	*out = ld.cfg;
	return 0;
}

int config_load(struct config **out, const char *path)
{
	struct buf text;
	char chunk[8192];
	FILE *f;
	int rc = 0;

	*out = NULL;
	if (!path)
		path = getenv(CONFIG_PATH_ENV);
	if (!path || !*path)
		path = CONFIG_DEFAULT_PATH;
	f = fopen(path, "r");
	if (!f) {
		relay_error_set("%s: cannot open: %s", path, strerror(errno));
		return RELAY_EINVAL;
	}
	buf_init(&text, MAX_FILE_BYTES);
	while (!rc) {
		size_t n = fread(chunk, 1, sizeof(chunk), f);

		if (n == 0)
			break;
		if (memchr(chunk, '\0', n)) {
			relay_error_set("%s: not a text file (NUL byte)", path);
			rc = RELAY_EINVAL;
		} else if (buf_append(&text, chunk, n) != 0) {
			relay_error_set("%s: larger than %d bytes", path,
			                MAX_FILE_BYTES);
			rc = RELAY_EINVAL;
		}
	}
	if (!rc && ferror(f)) {
		relay_error_set("%s: cannot read: %s", path, strerror(errno));
		rc = RELAY_EINVAL;
	}
	fclose(f);
	if (!rc)
		rc = config_load_string(out, text.data ? text.data : "", path);
	buf_dispose(&text);
	return rc;
}

int config_check_delivery(const struct config *cfg)
{
	const struct config_strlist *u = &cfg->splunk.hec_url;

	if (!cfg->splunk.enabled)
		return 0;
	if (u->n == 0) {
		relay_error_set(
		        "%s: exporters.splunk.hec_url: required (a URL such as https://splunk.example.com:8088, or a list of them)",
		        cfg->path);
		return RELAY_EINVAL;
	}
	if (!*cfg->splunk.hec_token && !*cfg->splunk.hec_token_file &&
	    !*cfg->splunk.vault.address) {
		relay_error_set(
		        "%s: exporters.splunk.hec_token: required: set hec_token (e.g. ${SPLUNK_HEC_TOKEN}), hec_token_file or vault",
		        cfg->path);
		return RELAY_EINVAL;
	}
	return 0;
}

void config_free(struct config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < NKEYS; i++) {
		const struct key *k = &keys[i];
		void *p = slot(cfg, k);

		if (k->type == CT_STR)
			free(*(char **)p);
		else if (k->type == CT_URLS || k->type == CT_FIELDS)
			strlist_clear(p);
		else if (k->type == CT_ROUTES)
			routes_clear(p);
	}
	strlist_clear(&cfg->warnings);
	free(cfg->path);
	free(cfg);
}

/* ---- output ----------------------------------------------------------- */

/*
 * The value of the first password parameter in s, or NULL: `password=`
 * in a URL's query, or a conninfo's `password = value` (any case, spaces
 * around '=' allowed, as libpq reads it).
 */
static const char *find_password(const char *s)
{
	for (const char *p = s; *p; p++) {
		const char *v;

		/* (sslpassword, the client key's passphrase, matches too) */
		if (strncasecmp(p, "password", 8) != 0)
			continue;
		v = p + 8;
		while (*v == ' ' || *v == '\t')
			v++;
		if (*v != '=')
			continue;
		for (v++; *v == ' ' || *v == '\t'; v++)
			;
		return v;
	}
	return NULL;
}

/*
 * Copy s into b with credentials masked: the password of a URL's userinfo
 * (scheme://user:secret@host) and the value of any password parameter
 * (find_password).
 */
static int put_masked(struct buf *b, const char *s)
{
	const char *scheme = strstr(s, "://");
	const char *p = s;
	int rc = 0;

	if (scheme) {
		const char *auth = scheme + 3;
		size_t alen = strcspn(auth, "/?#");
		const char *at = memchr(auth, '@', alen);
		const char *colon =
		        at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;

		if (colon) {
			rc = buf_append(b, s, (size_t)(colon + 1 - s));
			if (!rc)
				rc = buf_puts(b, "<redacted>");
			p = at;
		}
	}
	while (!rc && *p) {
		const char *pw = find_password(p);

		if (!pw)
			return buf_puts(b, p);
		rc = buf_append(b, p, (size_t)(pw - p));
		if (!rc)
			rc = buf_puts(b, "<redacted>");
		p = pw;
		if (*p == '\'') {
			for (p++; *p && *p != '\''; p++)
				if (*p == '\\' && p[1])
					p++;
			if (*p)
				p++;
		} else {
			p += strcspn(p, " &");
		}
	}
	return rc;
}

static int
put_value(struct buf *b, const struct config *cfg, const struct key *k)
{
	const void *p = cslot(cfg, k);
	int rc = 0;

	switch (k->type) {
	case CT_STR: {
		const char *s = *(char *const *)p;

		if (k->flags & CONFIG_SECRET)
			return buf_puts(b, *s ? "<redacted>" : "<unset>");
		if (!*s)
			return buf_puts(b, "\"\"");
		return put_masked(b, s);
	}
	case CT_BOOL:
		return buf_puts(b, *(const bool *)p ? "true" : "false");
	case CT_INT:
		return buf_printf(b, "%d", *(const int *)p);
	case CT_DOUBLE:
		return buf_printf(b, "%g", *(const double *)p);
	case CT_LEVEL: {
		static const char *const names[] = {"error", "warn", "info",
		                                    "debug"};
		int lv = (int)*(const enum log_level *)p;

		return buf_puts(b, lv >= 0 && lv < 4 ? names[lv] : "?");
	}
	case CT_URLS:
	case CT_FIELDS: {
		const struct config_strlist *l = p;

		rc = buf_puts(b, "[");
		for (size_t i = 0; !rc && i < l->n; i++) {
			rc = buf_puts(b, i ? ", " : "");
			if (!rc)
				rc = put_masked(b, l->v[i]);
		}
		return rc ? rc : buf_puts(b, "]");
	}
	case CT_ROUTES: {
		const struct config_routes *r = p;

		rc = buf_printf(b, "%zu rule%s", r->n, r->n == 1 ? "" : "s");
		for (size_t i = 0; !rc && i < r->n; i++)
			rc = buf_printf(
			        b,
			        "\n%s[%zu]: condition=\"%s\" index=\"%s\" sourcetype=\"%s\"",
			        k->path, i, r->v[i].condition,
			        r->v[i].index ? r->v[i].index : "",
			        r->v[i].sourcetype ? r->v[i].sourcetype : "");
		return rc;
	}
	}
	return rc;
}

int config_redacted_summary(const struct config *cfg, struct buf *b)
{
	int rc = buf_printf(b, "config: %s\n", cfg->path);

	for (size_t i = 0; !rc && i < NKEYS; i++) {
		rc = buf_printf(b, "%s: ", keys[i].path);
		if (!rc)
			rc = put_value(b, cfg, &keys[i]);
		if (!rc)
			rc = buf_puts(b, "\n");
	}
	return rc;
}

static bool same_strlist(const struct config_strlist *a,
                         const struct config_strlist *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]) != 0)
			return false;
	return true;
}

static bool
same_value(const struct config *a, const struct config *b, const struct key *k)
{
	const void *pa = cslot(a, k), *pb = cslot(b, k);

	switch (k->type) {
	case CT_STR:
		return strcmp(*(char *const *)pa, *(char *const *)pb) == 0;
	case CT_BOOL:
		return *(const bool *)pa == *(const bool *)pb;
	case CT_INT:
		return *(const int *)pa == *(const int *)pb;
	case CT_DOUBLE:
		return *(const double *)pa == *(const double *)pb;
	case CT_LEVEL:
		return *(const enum log_level *)pa ==
		       *(const enum log_level *)pb;
	case CT_URLS:
	case CT_FIELDS:
		return same_strlist(pa, pb);
	case CT_ROUTES:
		break;
	}
	return false; /* routes: always reloadable */
}

int config_reload_blockers(const struct config *old,
                           const struct config *new_cfg,
                           struct buf *b)
{
	int n = 0;

	for (size_t i = 0; i < NKEYS; i++) {
		if (keys[i].flags & CONFIG_RELOADABLE)
			continue;
		if (same_value(old, new_cfg, &keys[i]))
			continue;
		n++;
		if (buf_printf(b, "%s\n", keys[i].path) != 0)
			break;
	}
	return n;
}

void config_route_event(const struct config *cfg,
                        route_get_fn get,
                        void *arg,
                        const char **index,
                        const char **sourcetype)
{
	const struct config_routes *r = &cfg->splunk.routing;

	*index = cfg->splunk.index;
	*sourcetype = cfg->splunk.sourcetype;
	for (size_t i = 0; i < r->n; i++) {
		if (!route_eval(r->v[i].expr, get, arg))
			continue;
		if (r->v[i].index && *r->v[i].index)
			*index = r->v[i].index;
		if (r->v[i].sourcetype && *r->v[i].sourcetype)
			*sourcetype = r->v[i].sourcetype;
		return;
	}
}

static const char *type_name(const struct key *k)
{
	switch (k->type) {
	case CT_STR:
		return (k->flags & CONFIG_SECRET) ? "secret string" : "string";
	case CT_BOOL:
		return "bool";
	case CT_INT:
		return "integer";
	case CT_DOUBLE:
		return "number";
	case CT_LEVEL:
		return "enum";
	case CT_URLS:
		return "URL or list of URLs";
	case CT_FIELDS:
		return "list of field names";
	case CT_ROUTES:
		return "list of rules";
	}
	return "?";
}

void config_table_dump(FILE *f)
{
	fprintf(f, "| key | type | default | reloadable | description |\n");
	fprintf(f, "|---|---|---|---|---|\n");
	for (size_t i = 0; i < NKEYS; i++) {
		const struct key *k = &keys[i];
		char range[64] = "", def[512];

		if (k->type == CT_INT)
			snprintf(range, sizeof(range), " (%.0f..%.0f)", k->min,
			         k->max);
		else if (k->type == CT_DOUBLE)
			snprintf(range, sizeof(range), " (%g..%g)", k->min,
			         k->max);
		if (k->flags & CONFIG_HOSTNAME)
			snprintf(def, sizeof(def), "hostname");
		else if (k->type == CT_URLS)
			snprintf(def, sizeof(def), "required");
		else if (k->type == CT_ROUTES)
			snprintf(def, sizeof(def), "none");
		else if (k->def && *k->def)
			snprintf(def, sizeof(def), "`%s`", k->def);
		else
			snprintf(def, sizeof(def), "`\"\"`");
		fprintf(f, "| `%s` | %s%s | %s | %s | %s |\n", k->path,
		        type_name(k), range, def,
		        (k->flags & CONFIG_RELOADABLE) ? "yes" : "no", k->doc);
		if (k->type != CT_ROUTES)
			continue;
		for (size_t j = 0; j < sizeof(rule_keys) / sizeof(*rule_keys);
		     j++)
			fprintf(f, "| `%s[].%s` | %s | | yes | %s |\n", k->path,
			        rule_keys[j].name, j ? "string" : "condition",
			        rule_keys[j].doc);
	}
	for (size_t i = 0; i < sizeof(rejected) / sizeof(*rejected); i++)
		fprintf(f, "| `%s` | rejected | | | %s |\n", rejected[i].path,
		        rejected[i].why);
}
