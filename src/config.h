/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config: relay.yaml -> const struct config.
 *
 * One static table in config.c describes every key (dotted path, type,
 * where it lives in struct config, default, flags, one line of doc); the
 * loader applies defaults, parses and range-checks values from it, and
 * config_table_dump() prints it for the docs.  Loading is all-or-nothing:
 * the first problem fails the load with a message naming the file, line and
 * key, e.g.
 *
 *   relay.yaml:12: exporters.splunk.batch.size: must be an integer between
 *   1 and 100000 (got "abc")
 *
 * Scalars support ${VAR}, ${VAR:-default} and $$ (a literal '$'); expanded
 * text is not expanded again.  Unknown keys, duplicate keys and wrong YAML
 * node kinds are errors.  A YAML null (`key:`, `~`) leaves the default.
 *
 * The HEC token (and the Vault token, and a password in database.url) is
 * stored but never printed: error messages omit secret values and
 * config_redacted_summary() shows `<redacted>`.  This module never logs; it
 * collects advisory warnings (config->warnings) for the caller to log.
 *
 * config_load() checks everything a command needs except the HEC keys, so
 * `migrate` and `status` work with only database.url; commands that deliver
 * call config_check_delivery() as well.
 */
#ifndef RELAY_CONFIG_H
#define RELAY_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "route.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/log.h"

#define CONFIG_DEFAULT_PATH "/etc/clawdstrike/relay.yaml"
#define CONFIG_PATH_ENV "CLAWDSTRIKE_RELAY_CONFIG"

/* A list of owned strings; v is NULL-terminated (or NULL when empty). */
struct config_strlist {
	char **v;
	size_t n;
};

/* One `exporters.splunk.routing` rule; empty index/sourcetype: the default. */
struct config_route {
	char *condition; /* as written (after ${VAR} expansion) */
	struct route_expr *expr;
	char *index;
	char *sourcetype;
	int line;
};

struct config_routes {
	struct config_route *v;
	size_t n;
};

struct config {
	char *path; /* the name used in messages */

	struct {
		char *url; /* "": libpq defaults (PG* environment variables) */
	} database;
	struct {
		char *instance_id; /* default: hostname */
		int lease_s;
		int max_in_flight;
	} relay;
	struct {
		char *listen; /* host:port; "" disables the listener */
	} metrics;
	struct {
		enum log_level level;
	} log;
	struct {
		int delivered_days; /* 0: keep delivered rows forever */
	} retention;

	struct {
		bool enabled;
		struct config_strlist
		        hec_url; /* at least one when delivering */
		char *hec_token; /* secret */
		char *hec_token_file;
		char *index; /* "": the token's default index */
		char *sourcetype;
		char *source;
		char *host; /* default: hostname */
		bool use_ack;
		bool compression;
		struct config_strlist indexed_fields;
		int max_content_length;
		int max_event_bytes;
		struct {
			int size;
			int flush_interval_ms;
			int max_bytes;
		} batch;
		struct {
			int poll_interval_ms;
			int timeout_s;
		} ack;
		struct {
			char *ca_cert_path;
			char *client_cert_path;
			char *client_key_path;
			bool insecure_skip_verify;
			bool http2;
		} tls;
		struct {
			int initial_backoff_ms;
			int max_backoff_ms;
			double backoff_multiplier;
		} retry;
		struct {
			int requests_per_second; /* 0: no static limit */
			int burst_size;          /* 0: requests_per_second */
		} rate_limit;
		struct {
			int timeout_ms;
			int keepalive_ms;
		} connection;
		struct {
			char *address; /* "": Vault not used */
			char *path; /* KV v2 read path, <mount>/data/<name> */
			char *key;
			char *token; /* secret */
			char *token_file;
			int refresh_s;
		} vault;
		struct config_routes routing;
	} splunk;

	/* Advisory messages (insecure TLS, plain-http HEC, literal token). */
	struct config_strlist warnings;
};

/*
 * Load and validate path (NULL: $CLAWDSTRIKE_RELAY_CONFIG, else
 * CONFIG_DEFAULT_PATH).  On success *out is a new config (config_free);
 * on failure *out is NULL and RELAY_EINVAL is returned with the message.
 */
int config_load(struct config **out, const char *path) RELAY_MUSTCHECK;

/* The same from YAML text; name is used in messages ("relay.yaml"). */
int config_load_string(struct config **out,
                       const char *yaml_text,
                       const char *name) RELAY_MUSTCHECK;

/*
 * Check what delivery needs (`run`, `check`): when exporters.splunk.enabled,
 * at least one hec_url and a token source.  RELAY_EINVAL with the message.
 */
int config_check_delivery(const struct config *cfg) RELAY_MUSTCHECK;

/* NULL-safe. */
void config_free(struct config *cfg);

/*
 * Append the effective configuration as "key: value" lines, secrets shown
 * as <redacted> (or <unset>).  RELAY_EFULL if b's cap is reached.
 */
int config_redacted_summary(const struct config *cfg,
                            struct buf *b) RELAY_MUSTCHECK;

/*
 * For SIGHUP: append to b the keys whose value differs between old and new
 * but cannot be changed without a restart, one per line; returns how many.
 */
int config_reload_blockers(const struct config *old,
                           const struct config *new_cfg,
                           struct buf *b);

/*
 * Choose index and sourcetype for one event: the first routing rule whose
 * condition matches, falling back to exporters.splunk.index/sourcetype for
 * whatever the rule leaves empty (or when no rule matches).  Borrowed
 * pointers into cfg.
 */
void config_route_event(const struct config *cfg,
                        route_get_fn get,
                        void *arg,
                        const char **index,
                        const char **sourcetype);

/* Print the key table as a Markdown table (header and one row per key). */
void config_table_dump(FILE *f);

#endif
