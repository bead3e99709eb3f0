/* SPDX-License-Identifier: Apache-2.0 */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "unit.h"

#define TOKEN "3f1c2e9a-5b7d-4c8e-9f00-a1b2c3d4e5f6"

/* Load text as "relay.yaml"; returns the config or NULL. */
static struct config *load(const char *text)
{
	struct config *c = NULL;

	if (config_load_string(&c, text, "relay.yaml") != 0) {
		CHECK(c == NULL);
		return NULL;
	}
	return c;
}

/* The load error of text ("" if it loaded). */
static const char *error_of(const char *text)
{
	static char msg[1024];
	struct config *c = NULL;
	int rc = config_load_string(&c, text, "relay.yaml");

	msg[0] = '\0';
	if (rc == 0) {
		config_free(c);
		return msg;
	}
	CHECK_INT(rc, RELAY_EINVAL);
	CHECK(c == NULL);
	snprintf(msg, sizeof(msg), "%s", relay_error_last());
	return msg;
}

static char *summary(const struct config *c)
{
	struct buf b;

	buf_init(&b, 0);
	CHECK_INT(config_redacted_summary(c, &b), 0);
	return buf_take(&b, NULL);
}

/* The redacted summary of a config that must load ("" if it did not). */
static char *load_summary(const char *yaml)
{
	struct config *c = load(yaml);
	char *s;

	CHECK(c != NULL);
	if (!c)
		return strdup("");
	s = summary(c);
	config_free(c);
	return s;
}

static void test_config__defaults(void)
{
	struct config *c = load("");
	char host[256] = "";

	CHECK(c != NULL);
	if (!c)
		return;
	CHECK(gethostname(host, sizeof(host)) == 0);
	CHECK_STR(c->path, "relay.yaml");
	CHECK_STR(c->database.url, "");
	CHECK_STR(c->relay.instance_id, host);
	CHECK_INT(c->relay.lease_s, 60);
	CHECK_INT(c->relay.max_in_flight, 8);
	CHECK_STR(c->metrics.listen, "127.0.0.1:9187");
	CHECK_INT(c->log.level, LOG_INFO);
	CHECK_INT(c->retention.delivered_days, 7);
	CHECK(c->splunk.enabled);
	CHECK_INT(c->splunk.hec_url.n, 0);
	CHECK_STR(c->splunk.hec_token, "");
	CHECK_STR(c->splunk.index, "security");
	CHECK_STR(c->splunk.sourcetype, "clawdstrike:security");
	CHECK_STR(c->splunk.source, "clawdstrike");
	CHECK_STR(c->splunk.host, host);
	CHECK(c->splunk.use_ack);
	CHECK(c->splunk.compression);
	CHECK_INT(c->splunk.indexed_fields.n, 15);
	CHECK_STR(c->splunk.indexed_fields.v[0], "agent_id");
	CHECK_STR(c->splunk.indexed_fields.v[14], "mitre_technique");
	CHECK_INT(c->splunk.max_content_length, 2097152);
	CHECK_INT(c->splunk.max_event_bytes, 1048576);
	CHECK_INT(c->splunk.batch.size, 500);
	CHECK_INT(c->splunk.batch.flush_interval_ms, 2000);
	CHECK_INT(c->splunk.batch.max_bytes, 1000000);
	CHECK_INT(c->splunk.ack.poll_interval_ms, 1000);
	CHECK_INT(c->splunk.ack.timeout_s, 300);
	CHECK(!c->splunk.tls.insecure_skip_verify);
	CHECK(!c->splunk.tls.http2);
	CHECK_INT(c->splunk.retry.initial_backoff_ms, 500);
	CHECK_INT(c->splunk.retry.max_backoff_ms, 60000);
	CHECK(c->splunk.retry.backoff_multiplier == 2.0);
	CHECK_INT(c->splunk.rate_limit.requests_per_second, 0);
	CHECK_INT(c->splunk.connection.timeout_ms, 30000);
	CHECK_INT(c->splunk.connection.keepalive_ms, 60000);
	CHECK_STR(c->splunk.vault.key, "hec_token");
	CHECK_INT(c->splunk.vault.refresh_s, 300);
	CHECK_INT(c->splunk.routing.n, 0);
	CHECK_INT(c->warnings.n, 0);
	/* Fine for migrate/status, not for delivery. */
	CHECK_INT(config_check_delivery(c), RELAY_EINVAL);
	CHECK_STR(relay_error_last(),
	          "relay.yaml: exporters.splunk.hec_url: required (a URL such "
	          "as https://splunk.example.com:8088, or a list of them)");
	config_free(c);
}

static void test_config__spec_example(void)
{
	struct config *c;

	setenv("SPLUNK_HEC_TOKEN", TOKEN, 1);
	c = load("database:\n"
	         "  url: postgresql://relay@localhost/clawdstrike\n"
	         "relay:\n"
	         "  instance_id: relay-1\n"
	         "  lease_s: 60\n"
	         "  max_in_flight: 8\n"
	         "metrics:\n"
	         "  listen: 127.0.0.1:9187\n"
	         "exporters:\n"
	         "  splunk:\n"
	         "    enabled: true\n"
	         "    hec_url: https://splunk.example.com:8088\n"
	         "    hec_token: ${SPLUNK_HEC_TOKEN}\n"
	         "    index: security\n"
	         "    sourcetype: clawdstrike:security\n"
	         "    source: clawdstrike\n"
	         "    host: \"\"\n"
	         "    use_ack: true\n"
	         "    compression: true\n"
	         "    batch:\n"
	         "      size: 500\n"
	         "      flush_interval_ms: 2000\n"
	         "      max_bytes: 1000000\n"
	         "    ack:\n"
	         "      poll_interval_ms: 1000\n"
	         "      timeout_s: 300\n");
	CHECK(c != NULL);
	if (!c) {
		fprintf(stderr, "%s\n", relay_error_last());
		return;
	}
	CHECK_STR(c->database.url, "postgresql://relay@localhost/clawdstrike");
	CHECK_STR(c->relay.instance_id, "relay-1");
	CHECK_INT(c->splunk.hec_url.n, 1);
	CHECK_STR(c->splunk.hec_url.v[0], "https://splunk.example.com:8088");
	CHECK_STR(c->splunk.hec_token, TOKEN);
	CHECK(c->splunk.host[0] != '\0'); /* "" means the hostname */
	CHECK_INT(config_check_delivery(c), 0);
	CHECK_INT(c->warnings.n, 0);
	config_free(c);
	unsetenv("SPLUNK_HEC_TOKEN");
}

static void test_config__seed_examples(void)
{
	struct config *c;

	setenv("SPLUNK_HEC_TOKEN", TOKEN, 1);
	/* The seed's High-Availability example, minus retry.max_retries. */
	c = load("exporters:\n"
	         "  splunk:\n"
	         "    enabled: true\n"
	         "    # Load-balanced HEC endpoint\n"
	         "    hec_url: https://hec-lb.example.com:8088\n"
	         "    hec_token: ${SPLUNK_HEC_TOKEN}\n"
	         "    index: security_agents\n"
	         "    sourcetype: clawdstrike:security\n"
	         "    source: clawdstrike\n"
	         "    use_ack: true\n"
	         "    compression: true\n"
	         "    batch:\n"
	         "      size: 500\n"
	         "      flush_interval_ms: 2000\n"
	         "    tls:\n"
	         "      ca_cert_path: /etc/ssl/splunk-ca.pem\n"
	         "    retry:\n"
	         "      initial_backoff_ms: 500\n"
	         "      max_backoff_ms: 60000\n"
	         "      backoff_multiplier: 2.0\n"
	         "    rate_limit:\n"
	         "      requests_per_second: 100\n"
	         "      burst_size: 200\n");
	CHECK(c != NULL);
	if (c) {
		CHECK_STR(c->splunk.index, "security_agents");
		CHECK_STR(c->splunk.tls.ca_cert_path, "/etc/ssl/splunk-ca.pem");
		CHECK_INT(c->splunk.rate_limit.requests_per_second, 100);
		CHECK_INT(c->splunk.rate_limit.burst_size, 200);
		config_free(c);
	}
	/* burst_size 0 becomes requests_per_second. */
	c = load("exporters:\n  splunk:\n    rate_limit:\n"
	         "      requests_per_second: 50\n");
	CHECK(c && c->splunk.rate_limit.burst_size == 50);
	config_free(c);
	unsetenv("SPLUNK_HEC_TOKEN");
}

static void test_config__type_errors(void)
{
	CHECK_STR(error_of("exporters:\n"
	                   "  splunk:\n"
	                   "    batch:\n"
	                   "      size: abc\n"),
	          "relay.yaml:4: exporters.splunk.batch.size: must be an "
	          "integer between 1 and 100000 (got \"abc\")");
	CHECK_STR(error_of("relay:\n  lease_s: 0\n"),
	          "relay.yaml:2: relay.lease_s: must be an integer between 5 "
	          "and 3600 (got \"0\")");
	CHECK_STR(error_of("relay:\n  lease_s: 12.5\n"),
	          "relay.yaml:2: relay.lease_s: must be an integer between 5 "
	          "and 3600 (got \"12.5\")");
	CHECK_STR(error_of("relay:\n  lease_s: 99999999999999999999999\n"),
	          "relay.yaml:2: relay.lease_s: must be an integer between 5 "
	          "and 3600 (got \"99999999999999999999999\")");
	CHECK_STR(error_of("exporters:\n  splunk:\n    use_ack: maybe\n"),
	          "relay.yaml:3: exporters.splunk.use_ack: must be true or "
	          "false (got \"maybe\")");
	CHECK_STR(error_of("exporters:\n  splunk:\n    retry:\n"
	                   "      backoff_multiplier: fast\n"),
	          "relay.yaml:4: exporters.splunk.retry.backoff_multiplier: "
	          "must be a number between 1 and 10 (got \"fast\")");
	CHECK_STR(error_of("exporters:\n  splunk:\n    retry:\n"
	                   "      backoff_multiplier: nan\n"),
	          "relay.yaml:4: exporters.splunk.retry.backoff_multiplier: "
	          "must be a number between 1 and 10 (got \"nan\")");
	CHECK_STR(error_of("log:\n  level: verbose\n"),
	          "relay.yaml:2: log.level: must be one of error, warn, info, "
	          "debug (got \"verbose\")");
	/* Wrong node kinds. */
	CHECK_STR(error_of("relay:\n  lease_s:\n    a: 1\n"),
	          "relay.yaml:3: relay.lease_s: expected a scalar, got a "
	          "mapping");
	CHECK_STR(error_of("relay:\n  instance_id: [a, b]\n"),
	          "relay.yaml:2: relay.instance_id: expected a scalar, got a "
	          "list");
	CHECK_STR(error_of("exporters: yes\n"),
	          "relay.yaml:1: exporters: expected a mapping, got a scalar");
	CHECK_STR(error_of("exporters:\n  splunk:\n    - a\n"),
	          "relay.yaml:3: exporters.splunk: expected a mapping, got a "
	          "list");
	CHECK_STR(error_of("exporters:\n  splunk:\n    hec_url: {a: b}\n"),
	          "relay.yaml:3: exporters.splunk.hec_url: expected a URL or a "
	          "list of URLs, got a mapping");
	CHECK_STR(
	        error_of("exporters:\n  splunk:\n    indexed_fields: guard\n"),
	        "relay.yaml:3: exporters.splunk.indexed_fields: expected a "
	        "list of field names, got a scalar");
	CHECK_STR(error_of("- a\n- b\n"),
	          "relay.yaml:1: expected a mapping at the top, got a list");
	CHECK_STR(error_of("? [a, b]\n: c\n"),
	          "relay.yaml:1: keys must be plain strings, got a list");
	/* String checks. */
	CHECK_STR(error_of("exporters:\n  splunk:\n    index: Security\n"),
	          "relay.yaml:3: exporters.splunk.index: must hold only "
	          "lowercase letters, digits, '_' and '-' (got \"Security\")");
	CHECK_STR(error_of("exporters:\n  splunk:\n    sourcetype: ''\n"),
	          "relay.yaml:3: exporters.splunk.sourcetype: must not be "
	          "empty (got \"\")");
	CHECK_CONTAINS(error_of("metrics:\n  listen: localhost\n"),
	               "relay.yaml:2: metrics.listen: must be host:port");
	CHECK_CONTAINS(error_of("metrics:\n  listen: 127.0.0.1:99999\n"),
	               "port must be a number between 1 and 65535");
	CHECK_STR(error_of("metrics:\n  listen: '[::1]:9187'\n"), "");
	CHECK_STR(error_of("metrics:\n  listen: ''\n"), "");
	CHECK_CONTAINS(
	        error_of("relay:\n  instance_id: relay 1\n"),
	        "relay.yaml:2: relay.instance_id: must hold only letters");
	CHECK_CONTAINS(
	        error_of("exporters:\n  splunk:\n    source: \"a\\0b\"\n"),
	        "NUL byte");
}

static void test_config__booleans_and_nulls(void)
{
	struct config *c = load("exporters:\n  splunk:\n"
	                        "    use_ack: no\n"
	                        "    compression: False\n"
	                        "    index:\n" /* null keeps the default */
	                        "    batch: ~\n"
	                        "    tls:\n"
	                        "      http2: on\n");

	CHECK(c != NULL);
	if (!c)
		return;
	CHECK(!c->splunk.use_ack);
	CHECK(!c->splunk.compression);
	CHECK(c->splunk.tls.http2);
	CHECK_STR(c->splunk.index, "security");
	CHECK_INT(c->splunk.batch.size, 500);
	config_free(c);
	/* An explicitly empty index means "the token's default index". */
	c = load("exporters:\n  splunk:\n    index: ''\n");
	CHECK(c && strcmp(c->splunk.index, "") == 0);
	config_free(c);
}

static void test_config__env_expansion(void)
{
	struct config *c;

	setenv("RELAY_T_SRC", "from-env", 1);
	setenv("RELAY_T_EMPTY", "", 1);
	setenv("RELAY_T_NESTED", "${RELAY_T_SRC}", 1);
	unsetenv("RELAY_T_UNSET");
	c = load("exporters:\n  splunk:\n"
	         "    source: ${RELAY_T_SRC}\n"
	         "    sourcetype: a-${RELAY_T_UNSET:-dflt}-${RELAY_T_SRC}-z\n"
	         "    host: ${RELAY_T_EMPTY:-fallback}\n"
	         "    hec_token_file: /run/$$HOME/${RELAY_T_NESTED}$x$\n"
	         "    batch:\n"
	         "      size: ${RELAY_T_UNSET:-250}\n");
	CHECK(c != NULL);
	if (c) {
		CHECK_STR(c->splunk.source, "from-env");
		CHECK_STR(c->splunk.sourcetype, "a-dflt-from-env-z");
		CHECK_STR(c->splunk.host, "fallback");
		/* $$ is a dollar; expanded text is not expanded again. */
		CHECK_STR(c->splunk.hec_token_file,
		          "/run/$HOME/${RELAY_T_SRC}$x$");
		CHECK_INT(c->splunk.batch.size, 250);
		config_free(c);
	}
	CHECK_STR(error_of("database:\n  url: ok\nexporters:\n  splunk:\n"
	                   "    hec_token: ${RELAY_T_UNSET}\n"),
	          "relay.yaml:5: exporters.splunk.hec_token: environment "
	          "variable RELAY_T_UNSET is not set (write "
	          "${RELAY_T_UNSET:-default} to give a default)");
	CHECK_STR(error_of("log:\n  level: ${RELAY_T_SRC\n"),
	          "relay.yaml:2: log.level: unterminated ${ in value");
	CHECK_STR(error_of("log:\n  level: ${1X}\n"),
	          "relay.yaml:2: log.level: bad variable name in ${...}");
	CHECK_STR(error_of("log:\n  level: ${A-B}\n"),
	          "relay.yaml:2: log.level: bad variable name in ${...}");
	CHECK_STR(error_of("log:\n  level: ${A:B}\n"),
	          "relay.yaml:2: log.level: bad expansion: write ${NAME} or "
	          "${NAME:-default}");
	/* An expanded value is type-checked like a literal one. */
	CHECK_STR(error_of("relay:\n  lease_s: ${RELAY_T_SRC}\n"),
	          "relay.yaml:2: relay.lease_s: must be an integer between 5 "
	          "and 3600 (got \"from-env\")");
	unsetenv("RELAY_T_SRC");
	unsetenv("RELAY_T_EMPTY");
	unsetenv("RELAY_T_NESTED");
}

static void test_config__unknown_keys(void)
{
	CHECK_STR(error_of("exporters:\n  splunk:\n    batch:\n"
	                   "      szie: 10\n"),
	          "relay.yaml:4: exporters.splunk.batch.szie: unknown key (did "
	          "you mean size?)");
	CHECK_STR(error_of("exporter:\n  splunk: {}\n"),
	          "relay.yaml:1: exporter: unknown key (did you mean "
	          "exporters?)");
	CHECK_STR(error_of("exporters:\n  splunk:\n    hec_urls: x\n"),
	          "relay.yaml:3: exporters.splunk.hec_urls: unknown key (did "
	          "you mean hec_url?)");
	CHECK_STR(error_of("frobnicate: 1\n"),
	          "relay.yaml:1: frobnicate: unknown key");
	CHECK_STR(error_of("exporters:\n  elastic:\n    enabled: true\n"),
	          "relay.yaml:2: exporters.elastic: unknown key");
	CHECK_CONTAINS(error_of("exporters:\n  splunk:\n    retry:\n"
	                        "      max_retries: 5\n"),
	               "relay.yaml:4: exporters.splunk.retry.max_retries: not "
	               "supported: retryable failures");
	CHECK_CONTAINS(error_of("exporters:\n  splunk:\n    retry:\n"
	                        "      max_retries: 5\n"),
	               "never dead-letter them");
}

static void test_config__duplicate_keys(void)
{
	CHECK_STR(error_of("relay:\n  lease_s: 10\n  lease_s: 20\n"),
	          "relay.yaml:3: relay.lease_s: duplicate key (first at line "
	          "2)");
	CHECK_STR(error_of("relay:\n  lease_s: 10\nrelay:\n  lease_s: 20\n"),
	          "relay.yaml:3: relay: duplicate key (first at line 1)");
}

static void test_config__yaml_errors(void)
{
	CHECK_CONTAINS(error_of("relay:\n  lease_s: [1\n"),
	               "relay.yaml:3: YAML syntax error");
	CHECK_CONTAINS(error_of("relay: {}\n---\nrelay: {}\n"),
	               "relay.yaml:2: more than one YAML document");
	CHECK_STR(error_of("---\n"), "");
	CHECK_STR(error_of("# only a comment\n"), "");
}

static void test_config__hec_url(void)
{
	struct config *c;

	c = load("exporters:\n  splunk:\n    hec_url:\n"
	         "      - https://hec-a.example.com:8088\n"
	         "      - https://hec-b.example.com:8088\n"
	         "    hec_token_file: /run/secrets/hec_token\n");
	CHECK(c != NULL);
	if (c) {
		CHECK_INT(c->splunk.hec_url.n, 2);
		CHECK_STR(c->splunk.hec_url.v[1],
		          "https://hec-b.example.com:8088");
		CHECK_INT(config_check_delivery(c), 0);
		config_free(c);
	}
	CHECK_STR(error_of("exporters:\n  splunk:\n    hec_url: []\n"),
	          "relay.yaml:3: exporters.splunk.hec_url: needs at least one "
	          "URL");
	CHECK_STR(error_of("exporters:\n  splunk:\n    hec_url:\n"
	                   "      - https://a:8088\n      - ftp://b\n"),
	          "relay.yaml:5: exporters.splunk.hec_url: must be an http:// "
	          "or https:// URL (got \"ftp://b\")");
	CHECK_STR(error_of("exporters:\n  splunk:\n    hec_url: splunk:8088\n"),
	          "relay.yaml:3: exporters.splunk.hec_url: must be an http:// "
	          "or https:// URL (got \"splunk:8088\")");
	CHECK_STR(error_of("exporters:\n  splunk:\n    hec_url: https://\n"),
	          "relay.yaml:3: exporters.splunk.hec_url: must name a host "
	          "(got \"https://\")");
	CHECK_CONTAINS(error_of("exporters:\n  splunk:\n    hec_url:\n"
	                        "      - https://a\n      - https://a\n"),
	               "relay.yaml:5: exporters.splunk.hec_url: \"https://a\" "
	               "is listed twice");
	CHECK_CONTAINS(error_of("exporters:\n  splunk:\n    hec_url:\n"
	                        "      - [https://a]\n"),
	               "relay.yaml:4: exporters.splunk.hec_url: expected a "
	               "URL, got a list");
}

static void test_config__token_sources(void)
{
	struct config *c;

	/* Needs a token source when enabled... */
	c = load("exporters:\n  splunk:\n    hec_url: https://s:8088\n");
	CHECK(c != NULL);
	CHECK_INT(config_check_delivery(c), RELAY_EINVAL);
	CHECK_CONTAINS(relay_error_last(),
	               "relay.yaml: exporters.splunk.hec_token: required");
	config_free(c);
	/* ...but not when disabled. */
	c = load("exporters:\n  splunk:\n    enabled: false\n");
	CHECK(c && config_check_delivery(c) == 0);
	config_free(c);
	/* One source only. */
	CHECK_STR(error_of("exporters:\n  splunk:\n"
	                   "    hec_token: abc\n"
	                   "    hec_token_file: /run/t\n"),
	          "relay.yaml:2: exporters.splunk: set one token source, not "
	          "hec_token and hec_token_file");
	/* Vault. */
	c = load("exporters:\n  splunk:\n    hec_url: https://s:8088\n"
	         "    vault:\n"
	         "      address: https://vault:8200\n"
	         "      path: secret/data/clawdstrike/splunk\n"
	         "      token_file: /run/vault-token\n");
	CHECK(c != NULL);
	if (c) {
		CHECK_INT(config_check_delivery(c), 0);
		CHECK_STR(c->splunk.vault.key, "hec_token");
		config_free(c);
	}
	CHECK_CONTAINS(error_of("exporters:\n  splunk:\n    vault:\n"
	                        "      path: secret/data/x\n"),
	               "exporters.splunk.vault.address: required when other "
	               "vault keys are set");
	CHECK_CONTAINS(error_of("exporters:\n  splunk:\n    vault:\n"
	                        "      address: https://v\n"),
	               "exporters.splunk.vault.path: required with "
	               "vault.address");
	CHECK_CONTAINS(error_of("exporters:\n  splunk:\n    vault:\n"
	                        "      address: https://v\n"
	                        "      path: secret/data/x\n"),
	               "exporters.splunk.vault.token: vault.token (e.g. "
	               "${VAULT_TOKEN}) or vault.token_file is required");
	CHECK_CONTAINS(error_of("exporters:\n  splunk:\n    vault:\n"
	                        "      address: https://v\n"
	                        "      path: secret/clawdstrike\n"),
	               "relay.yaml:5: exporters.splunk.vault.path: must be a "
	               "KV v2 read path");
	CHECK_CONTAINS(error_of("exporters:\n  splunk:\n    hec_token: abc\n"
	                        "    vault:\n      address: https://v\n"
	                        "      path: secret/data/x\n"
	                        "      token: t\n"),
	               "set one token source, not hec_token and vault");
}

static void test_config__secrets_never_shown(void)
{
	const char *e;
	struct config *c;
	char *s;

	/* A malformed token is refused without echoing it. */
	e = error_of("exporters:\n  splunk:\n    hec_token: \"" TOKEN
	             " \\r\\nX-Evil: 1\"\n");
	CHECK_STR(e, "relay.yaml:3: exporters.splunk.hec_token: must be "
	             "printable ASCII without spaces (got value not shown)");
	CHECK(!strstr(e, TOKEN));
	e = error_of("exporters:\n  splunk:\n    hec_token: [" TOKEN "]\n");
	CHECK(e[0] && !strstr(e, TOKEN));

	setenv("RELAY_T_TOKEN", TOKEN, 1);
	setenv("RELAY_T_VTOKEN", "hvs.SECRETVAULT", 1);
	c = load(
	        "database:\n"
	        "  url: postgresql://relay:dbpass@db:5432/cs?password=dbpass2\n"
	        "exporters:\n  splunk:\n"
	        "    hec_url: [https://s:8088, https://u:urlpass@t:8088]\n"
	        "    hec_token: ${RELAY_T_TOKEN}\n");
	CHECK(c != NULL);
	if (c) {
		s = summary(c);
		CHECK(!strstr(s, TOKEN));
		CHECK(!strstr(s, "dbpass"));
		CHECK(!strstr(s, "urlpass"));
		CHECK_CONTAINS(s, "exporters.splunk.hec_token: <redacted>\n");
		CHECK_CONTAINS(s, "database.url: postgresql://relay:<redacted>"
		                  "@db:5432/cs?password=<redacted>\n");
		CHECK_CONTAINS(s, "exporters.splunk.vault.token: <unset>\n");
		CHECK_CONTAINS(s, "exporters.splunk.batch.size: 500\n");
		free(s);
		config_free(c);
	}
	s = load_summary("database:\n  url: host=db password='a b\\'c' user=x\n"
	                 "exporters:\n  splunk:\n    vault:\n"
	                 "      address: https://v\n"
	                 "      path: secret/data/x\n"
	                 "      token: ${RELAY_T_VTOKEN}\n");
	CHECK(!strstr(s, "SECRETVAULT"));
	CHECK(!strstr(s, "a b"));
	CHECK_CONTAINS(s, "database.url: host=db password=<redacted> user=x\n");
	CHECK_CONTAINS(s, "exporters.splunk.vault.token: <redacted>\n");
	free(s);
	/* conninfo allows spaces around '=' and any case in the keyword */
	s = load_summary("database:\n  url: \"host=db password = s3cr3t"
	                 " PASSWORD='x y' sslpassword=k3y user=x\"\n"
	                 "exporters:\n  splunk:\n    hec_url: https://s:8088\n"
	                 "    hec_token: ${RELAY_T_TOKEN}\n");
	CHECK(!strstr(s, "s3cr3t"));
	CHECK(!strstr(s, "x y"));
	CHECK(!strstr(s, "k3y"));
	CHECK_CONTAINS(s,
	               "database.url: host=db password = <redacted>"
	               " PASSWORD=<redacted> sslpassword=<redacted> user=x\n");
	free(s);
	unsetenv("RELAY_T_TOKEN");
	unsetenv("RELAY_T_VTOKEN");
}

static void test_config__warnings(void)
{
	struct config *c = load("exporters:\n  splunk:\n"
	                        "    hec_url: http://s:8088\n"
	                        "    hec_token: " TOKEN "\n"
	                        "    tls:\n      insecure_skip_verify: true\n");

	CHECK(c != NULL);
	if (!c)
		return;
	CHECK_INT(c->warnings.n, 3);
	if (c->warnings.n == 3) {
		CHECK_CONTAINS(c->warnings.v[0], "insecure_skip_verify");
		CHECK_CONTAINS(c->warnings.v[1], "plain http");
		CHECK_CONTAINS(c->warnings.v[2], "hec_token is written in the "
		                                 "file");
	}
	for (size_t i = 0; i < c->warnings.n; i++)
		CHECK(!strstr(c->warnings.v[i], TOKEN));
	config_free(c);
}

static void test_config__cross_checks(void)
{
	CHECK_STR(error_of("exporters:\n  splunk:\n    max_content_length: "
	                   "500000\n"),
	          "relay.yaml: exporters.splunk.batch.max_bytes: 1000000 is "
	          "more than max_content_length (500000)");
	CHECK_CONTAINS(error_of("exporters:\n  splunk:\n"
	                        "    max_event_bytes: 2097152\n"),
	               "relay.yaml:3: exporters.splunk.max_event_bytes: "
	               "2097152 must be less than max_content_length");
	CHECK_CONTAINS(error_of("exporters:\n  splunk:\n    retry:\n"
	                        "      initial_backoff_ms: 90000\n"),
	               "relay.yaml:4: exporters.splunk.retry.initial_backoff_"
	               "ms: 90000 is more than retry.max_backoff_ms (60000)");
	CHECK_CONTAINS(error_of("relay:\n  lease_s: 20\nexporters:\n"
	                        "  splunk:\n    connection:\n"
	                        "      timeout_ms: 20000\n"),
	               "relay.yaml:6: exporters.splunk.connection.timeout_ms: "
	               "20000 must be less than relay.lease_s (20 s)");
	CHECK_CONTAINS(error_of("relay:\n  lease_s: 30\n"),
	               "relay.yaml:2: relay.lease_s: 30 s must be more than "
	               "exporters.splunk.connection.timeout_ms (30000)");
	CHECK_CONTAINS(error_of("exporters:\n  splunk:\n    ack:\n"
	                        "      timeout_s: 1\n"),
	               "exporters.splunk.ack.poll_interval_ms: 1000 must be "
	               "less than ack.timeout_s (1 s)");
	CHECK_CONTAINS(error_of("exporters:\n  splunk:\n    tls:\n"
	                        "      client_key_path: /k.pem\n"),
	               "relay.yaml:4: exporters.splunk.tls.client_key_path: "
	               "needs tls.client_cert_path");
}

static void test_config__indexed_fields(void)
{
	struct config *c;

	c = load("exporters:\n  splunk:\n"
	         "    indexed_fields: [severity, guard, environment]\n");
	CHECK(c && c->splunk.indexed_fields.n == 3);
	config_free(c);
	c = load("exporters:\n  splunk:\n    indexed_fields: []\n");
	CHECK(c && c->splunk.indexed_fields.n == 0);
	config_free(c);
	CHECK_STR(error_of("exporters:\n  splunk:\n    indexed_fields:\n"
	                   "      - severity\n      - event_type\n"),
	          "relay.yaml:5: exporters.splunk.indexed_fields: event_type "
	          "is a top-level key of the event JSON; sent as an indexed "
	          "field too, Splunk would hold it twice (indexed and "
	          "JSON-extracted)");
	for (int i = 0; i < 6; i++) {
		static const char *const top[] = {
		        "event_id", "event_type", "event_category",
		        "outcome",  "action",     "timestamp"};
		char text[128];

		snprintf(text, sizeof(text),
		         "exporters:\n  splunk:\n    indexed_fields: [%s]\n",
		         top[i]);
		CHECK_CONTAINS(error_of(text), "is a top-level key");
	}
	CHECK_CONTAINS(error_of("exporters:\n  splunk:\n"
	                        "    indexed_fields: [sevrity]\n"),
	               "relay.yaml:3: exporters.splunk.indexed_fields: unknown "
	               "field \"sevrity\" (did you mean severity?); allowed: "
	               "agent_id, session_id, user, tenant_id, environment, "
	               "decision_allowed, guard, severity, reason, "
	               "resource_type");
	CHECK_CONTAINS(error_of("exporters:\n  splunk:\n"
	                        "    indexed_fields: [guard, guard]\n"),
	               "guard is listed twice");
}

static const char *get(const char *field, void *arg)
{
	const char *const *kv = arg;

	for (; kv[0]; kv += 2)
		if (strcmp(kv[0], field) == 0)
			return kv[1];
	return NULL;
}

static void test_config__routing(void)
{
	static const char *const crit[] = {"severity", "critical", NULL};
	static const char *const high[] = {"severity", "high", NULL};
	static const char *const low[] = {"severity", "low", NULL};
	const char *index, *st;
	struct config *c;

	c = load("exporters:\n  splunk:\n    routing:\n"
	         "      - condition: severity == 'critical'\n"
	         "        index: security_critical\n"
	         "        sourcetype: clawdstrike:critical\n"
	         "      - condition: severity == 'high'\n"
	         "        index: security_high\n"
	         "      - condition: default\n"
	         "        index: security_agents\n"
	         "        sourcetype: clawdstrike:security\n");
	CHECK(c != NULL);
	if (!c) {
		fprintf(stderr, "%s\n", relay_error_last());
		return;
	}
	CHECK_INT(c->splunk.routing.n, 3);
	CHECK_INT(c->splunk.routing.v[1].line, 7);
	config_route_event(c, get, (void *)(uintptr_t)crit, &index, &st);
	CHECK_STR(index, "security_critical");
	CHECK_STR(st, "clawdstrike:critical");
	config_route_event(c, get, (void *)(uintptr_t)high, &index, &st);
	CHECK_STR(index, "security_high");
	CHECK_STR(st, "clawdstrike:security"); /* not set in the rule */
	config_route_event(c, get, (void *)(uintptr_t)low, &index, &st);
	CHECK_STR(index, "security_agents");
	config_free(c);

	/* No rule matches: the exporter's index and sourcetype. */
	c = load("exporters:\n  splunk:\n    routing:\n"
	         "      - condition: guard == 'egress'\n"
	         "        index: egress\n");
	CHECK(c != NULL);
	if (c) {
		config_route_event(c, get, (void *)(uintptr_t)low, &index, &st);
		CHECK_STR(index, "security");
		config_free(c);
	}

	CHECK_STR(error_of("exporters:\n  splunk:\n    routing:\n"
	                   "      - condition: severity == critical\n"),
	          "relay.yaml:4: exporters.splunk.routing[0].condition: column "
	          "13: expected a quoted string after '==' (got 'critical'; "
	          "quote it: 'critical')");
	CHECK_STR(error_of("exporters:\n  splunk:\n    routing:\n"
	                   "      - condition: default\n"
	                   "      - condition: severity == 'high'\n"),
	          "relay.yaml:4: exporters.splunk.routing[0].condition: "
	          "'default' is only allowed in the last rule (rules after it "
	          "would never match)");
	CHECK_STR(error_of("exporters:\n  splunk:\n    routing:\n"
	                   "      - index: x\n"),
	          "relay.yaml:4: exporters.splunk.routing[0]: condition is "
	          "required");
	CHECK_STR(error_of("exporters:\n  splunk:\n    routing:\n"
	                   "      - condition: true\n"
	                   "        indx: x\n"),
	          "relay.yaml:5: exporters.splunk.routing[0].indx: unknown key "
	          "(did you mean index?); a rule has condition, index and "
	          "sourcetype");
	CHECK_CONTAINS(error_of("exporters:\n  splunk:\n    routing:\n"
	                        "      - condition: true\n"
	                        "        condition: false\n"),
	               "relay.yaml:5: exporters.splunk.routing[0].condition: "
	               "duplicate key");
	CHECK_CONTAINS(error_of("exporters:\n  splunk:\n    routing:\n"
	                        "      - condition: true\n"
	                        "        index: Bad\n"),
	               "relay.yaml:5: exporters.splunk.routing[0].index: must "
	               "hold only lowercase");
	CHECK_STR(error_of("exporters:\n  splunk:\n    routing:\n"
	                   "      - severity == 'high'\n"),
	          "relay.yaml:4: exporters.splunk.routing[0]: expected a "
	          "mapping with condition, index and sourcetype, got a "
	          "scalar");
	CHECK_STR(error_of("exporters:\n  splunk:\n    routing: x\n"),
	          "relay.yaml:3: exporters.splunk.routing: expected a list of "
	          "rules, got a scalar");
}

static void test_config__load_file(void)
{
	char path[] = "/tmp/test_config_XXXXXX";
	struct config *c = NULL;
	int fd = mkstemp(path);
	FILE *f;

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	f = fdopen(fd, "w");
	fputs("relay:\n  lease_s: 30\n  max_in_flight: 0\n", f);
	fclose(f);
	CHECK_INT(config_load(&c, path), RELAY_EINVAL);
	CHECK(c == NULL);
	CHECK(strncmp(relay_error_last(), path, strlen(path)) == 0);
	CHECK_CONTAINS(relay_error_last(), ":3: relay.max_in_flight: must be "
	                                   "an integer between 1 and 256");
	f = fopen(path, "w");
	fputs("relay:\n  lease_s: 45\n", f);
	fclose(f);
	CHECK_INT(config_load(&c, path), 0);
	CHECK(c && c->relay.lease_s == 45);
	CHECK(c && strcmp(c->path, path) == 0);
	config_free(c);
	/* NULL path: $CLAWDSTRIKE_RELAY_CONFIG. */
	setenv(CONFIG_PATH_ENV, path, 1);
	CHECK_INT(config_load(&c, NULL), 0);
	config_free(c);
	unsetenv(CONFIG_PATH_ENV);
	unlink(path);
	CHECK_INT(config_load(&c, path), RELAY_EINVAL);
	CHECK_CONTAINS(relay_error_last(), "cannot open: No such file");
	CHECK_INT(config_load(&c, "/tmp"), RELAY_EINVAL);
	CHECK_CONTAINS(relay_error_last(), "/tmp: cannot read");
}

static void test_config__reload_blockers(void)
{
	struct config *a = load("exporters:\n  splunk:\n    index: a\n");
	struct config *b = load("log:\n  level: debug\n"
	                        "relay:\n  lease_s: 90\n"
	                        "exporters:\n  splunk:\n    index: b\n"
	                        "    hec_url: https://x\n"
	                        "    rate_limit:\n"
	                        "      requests_per_second: 5\n");
	struct buf out;

	CHECK(a && b);
	if (!a || !b)
		return;
	buf_init(&out, 0);
	CHECK_INT(config_reload_blockers(a, b, &out), 2);
	CHECK_STR(out.data, "relay.lease_s\nexporters.splunk.hec_url\n");
	buf_reset(&out);
	CHECK_INT(config_reload_blockers(a, a, &out), 0);
	buf_dispose(&out);
	config_free(a);
	config_free(b);
}

static void test_config__table_dump(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	config_table_dump(f);
	fclose(f);
	CHECK_CONTAINS(text, "| key | type | default | reloadable | "
	                     "description |\n|---|---|---|---|---|\n");
	CHECK_CONTAINS(text, "| `exporters.splunk.batch.size` | integer "
	                     "(1..100000) | `500` | no | ");
	CHECK_CONTAINS(text, "| `relay.instance_id` | string | hostname | no");
	CHECK_CONTAINS(text, "| `exporters.splunk.hec_token` | secret string "
	                     "| `\"\"` | yes |");
	CHECK_CONTAINS(text, "| `exporters.splunk.routing[].condition` |");
	CHECK_CONTAINS(text, "| `exporters.splunk.retry.max_retries` | "
	                     "rejected |");
	/* Every row has five cells. */
	for (char *line = text; line && *line;) {
		char *nl = strchr(line, '\n');
		int bars = 0;

		for (char *p = line; p < nl; p++)
			bars += *p == '|';
		CHECK_INT(bars, 6);
		line = nl ? nl + 1 : NULL;
	}
	free(text);
}

int main(void)
{
	UNIT_RUN(test_config__defaults);
	UNIT_RUN(test_config__spec_example);
	UNIT_RUN(test_config__seed_examples);
	UNIT_RUN(test_config__type_errors);
	UNIT_RUN(test_config__booleans_and_nulls);
	UNIT_RUN(test_config__env_expansion);
	UNIT_RUN(test_config__unknown_keys);
	UNIT_RUN(test_config__duplicate_keys);
	UNIT_RUN(test_config__yaml_errors);
	UNIT_RUN(test_config__hec_url);
	UNIT_RUN(test_config__token_sources);
	UNIT_RUN(test_config__secrets_never_shown);
	UNIT_RUN(test_config__warnings);
	UNIT_RUN(test_config__cross_checks);
	UNIT_RUN(test_config__indexed_fields);
	UNIT_RUN(test_config__routing);
	UNIT_RUN(test_config__load_file);
	UNIT_RUN(test_config__reload_blockers);
	UNIT_RUN(test_config__table_dump);
	return unit_finish();
}
