/* SPDX-License-Identifier: Apache-2.0 */
/*
 * relay: the delivery loop (see relay.h for the pipeline) — upkeep
 * (timeouts, heartbeats, recovery, retention, gauges), token and
 * configuration reloads, the loop itself, and set-up and teardown.  Claims
 * and posts are in relay_send.c, their answers in relay_answer.c, ack
 * polling in relay_ack.c.
 */
#include "relay.h"
#include "relay_int.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "acks.h"
#include "config.h"
#include "hec.h"
#include "httpd.h"
#include "metrics.h"
#include "pace.h"
#include "ratelimit.h"
#include "store.h"
#include "token.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/sys.h"
#include "util/xalloc.h"

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Every batch this process holds (relay_int.h); caller frees. */
static size_t held_batches(const struct relay *r, int64_t **out)
{
	size_t n = 0;

	*out = NULL;
	acks_batches(r->acks, -1, out, &n);
	*out = xrealloc(*out, (n + r->n_undelivered + 1) * sizeof(**out));
	for (size_t i = 0; i < r->n_undelivered; i++)
		(*out)[n++] = r->undelivered[i];
	for (const struct post *p = r->posts; p; p = p->next) {
		*out = xrealloc(*out, (n + 1) * sizeof(**out));
		(*out)[n++] = p->batch_id;
	}
	return n;
}

/* Forget a held batch that was taken back; posts in flight meet their
 * fenced statements when their answers come. */
static void forget_batch(struct relay *r, int64_t batch)
{
	bool dropped = relay_drop_post(r, batch) || acks_forget(r->acks, batch);

	for (size_t i = 0; i < r->n_undelivered; i++)
		if (r->undelivered[i] == batch) {
			r->undelivered[i] = r->undelivered[--r->n_undelivered];
			dropped = true;
			break;
		}
	if (dropped)
		log_warn("lease lost: the batch was taken back by a relay;"
		         " dropping it",
		         "batch=%" PRId64, batch);
}

/* Renew what we hold and nothing else; drop what was taken back. */
static void heartbeat(struct relay *r)
{
	int64_t *held, *renewed = NULL;
	size_t n = held_batches(r, &held), n_renewed = 0;

	if (n && store_heartbeat(r->store, held, n, r->cfg->relay.lease_s,
	                         &renewed, &n_renewed) != 0) {
		relay_store_failed(RELAY_ERR, "heartbeat", 0);
	} else if (n) {
		qsort(renewed, n_renewed, sizeof(*renewed), cmp_i64);
		for (size_t i = 0; i < n; i++)
			if (!bsearch(&held[i], renewed, n_renewed,
			             sizeof(*renewed), cmp_i64))
				forget_batch(r, held[i]);
	}
	free(held);
	free(renewed);
}

/* Acked batches whose mark_delivered failed: try again. */
static void retry_undelivered(struct relay *r)
{
	int64_t *b = r->undelivered;
	size_t n = r->n_undelivered;

	if (!n)
		return;
	r->undelivered = NULL;
	r->n_undelivered = 0;
	relay_deliver(r, b, NULL, n, sys_now_ms());
	free(b);
}

/* Free dead ack channels: all but the current ones and those posts (and
 * the claim in flight) wait on. */
static void channel_gc(struct relay *r)
{
	size_t n = acks_channel_slots(r->acks);
	bool *keep = xcalloc(n + 1, sizeof(*keep));

	for (size_t i = 0; i < r->n_endpoints; i++)
		keep[r->ep_channel[i]] = true;
	for (const struct post *p = r->posts; p; p = p->next)
		if (p->ch >= 0)
			keep[p->ch] = true;
	if (store_claim_pending(r->store) && r->claim_ch >= 0)
		keep[r->claim_ch] = true; /* its posts will wait on it */
	acks_gc(r->acks, keep);
	free(keep);
}

static void purge(struct relay *r)
{
	long rows = 0;

	if (store_purge(r->store, r->cfg->retention.delivered_days, 10000,
	                &rows) == 0 &&
	    rows)
		log_info("purged delivered rows", "rows=%ld", rows);
}

static void upkeep(struct relay *r, int64_t now)
{
	const int lease_ms = r->cfg->relay.lease_s * 1000;
	int64_t *b;
	size_t n;

	n = acks_take_expired(r->acks, now, &b);
	(void)relay_release_batches(r, b, n, "ack_timeout",
	                            "no indexer acknowledgement within"
	                            " ack.timeout_s");
	if ((r->n_undelivered || r->n_risks) && now >= r->next_undelivered_ms) {
		retry_undelivered(r);
		relay_retry_risks(r);
		r->next_undelivered_ms = now + UNDELIVERED_RETRY_MS;
	}
	if (now >= r->next_channel_gc_ms) {
		channel_gc(r);
		r->next_channel_gc_ms = now + CHANNEL_GC_EVERY_MS;
	}
	if (now >= r->next_heartbeat_ms) {
		heartbeat(r);
		r->next_heartbeat_ms = now + lease_ms / 3;
	}
	if (now >= r->next_recover_ms && !relay_stopping(r)) {
		(void)relay_recover(r, false, now);
		r->next_recover_ms = now + lease_ms / 2;
	}
	if (now >= r->next_purge_ms && r->cfg->retention.delivered_days > 0) {
		purge(r);
		r->next_purge_ms = now + PURGE_EVERY_MS;
	}
	if (now >= r->next_health_ms) {
		/* /readyz reports HEC health even while no events flow. */
		for (size_t i = 0; i < r->n_endpoints; i++)
			if (hec_check_health(r->hec, i, NULL) == 0)
				r->polls_in_flight++;
		r->next_health_ms = now + HEALTH_EVERY_MS;
	}
	if (now >= r->next_gauge_ms) {
		long pending = 0;
		double age = 0;

		if (store_backlog(r->store, &pending, &age) == 0) {
			atomic_store(&r->m.pending_rows, pending);
			atomic_store(&r->m.oldest_pending_ms,
			             (int_fast64_t)(age * 1000));
		}
		r->next_gauge_ms = now + GAUGE_EVERY_MS;
	}
	if (now >= r->next_stats_ms) {
		log_info("relay stats",
		         "claimed=%" PRIu64 " sent=%" PRIu64
		         " delivered=%" PRIu64 " failed=%" PRIu64
		         " released=%" PRIu64 " duplicates_risked=%" PRIu64
		         " pending=%ld in_flight=%d concurrency=%d"
		         " pending_acks=%zu",
		         (uint64_t)GET(r, events_claimed),
		         (uint64_t)GET(r, events_sent),
		         (uint64_t)GET(r, events_delivered),
		         (uint64_t)GET(r, events_failed),
		         (uint64_t)GET(r, events_released),
		         (uint64_t)GET(r, duplicates_risked),
		         (long)GET(r, pending_rows), r->posts_in_flight,
		         pace_limit(&r->pace), acks_pending_batches(r->acks));
		r->next_stats_ms = now + STATS_EVERY_MS;
	}
}

/* ------------------------------------------------------------- tokens */

/* Load the current token from its source (token.h). */
static int load_token(const struct config *cfg, char **out)
{
	return token_load(cfg, out, NULL);
}

/* Tells tokens apart without keeping a second copy of the secret. */
static uint64_t token_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* Vault is read every vault.refresh_s, and after a 401/403 at most once
 * a second (several refused requests ask for one read). */
static bool vault_due(const struct relay *r, int64_t now)
{
	if (token_source_of(r->cfg) != TOKEN_VAULT)
		return false;
	if (now >= r->next_vault_ms)
		return true;
	return r->token_reload && now >= r->last_vault_ms + 1000;
}

/* Vault unreachable: keep the last good token, warn once per outage. */
static void token_source_failed(struct relay *r)
{
	if (token_source_of(r->cfg) != TOKEN_VAULT) {
		log_error("cannot reload the HEC token", "error=\"%s\"",
		          relay_error_last());
		return;
	}
	if (!r->vault_down)
		log_warn("cannot read the HEC token from Vault; keeping the"
		         " last good token until Vault answers",
		         "error=\"%s\"", relay_error_last());
	r->vault_down = true;
}

static void reload_token(struct relay *r, int64_t now)
{
	bool vault = token_source_of(r->cfg) == TOKEN_VAULT;
	char *tok = NULL;
	long version = -1;
	uint64_t h;

	if (vault && !vault_due(r, now))
		return; /* token_reload stays set: read when due */
	r->token_reload = false;
	if (vault) {
		r->last_vault_ms = now;
		r->next_vault_ms =
		        now + r->cfg->splunk.vault.refresh_s * 1000LL;
	}
	if (token_load(r->cfg, &tok, &version) != 0) {
		token_source_failed(r);
		return;
	}
	if (r->vault_down)
		log_info("Vault answers again", "version=%ld", version);
	r->vault_down = false;
	h = token_hash(tok);
	if (h == r->token_hash) {
		token_free(tok);
		return; /* unchanged: held posts keep their hold */
	}
	hec_set_token(r->hec, tok);
	token_free(tok);
	r->token_hash = h;
	COUNT(r, token_reloads, 1);
	log_info("HEC token reloaded", "source=%s version=%ld",
	         token_source_name(token_source_of(r->cfg)), version);
	/* Held posts (refused with the old token) go now with the new one. */
	for (struct post *p = r->posts; p; p = p->next)
		if (p->not_before_ms > now)
			p->not_before_ms = now;
}

/*
 * Kubernetes updates a mounted secret by swapping a symlink, so watch the
 * file's identity (inode, size, mtime through the link), every few seconds.
 */
static bool token_file_changed(struct relay *r, int64_t now)
{
	const char *path = r->cfg->splunk.hec_token_file;
	struct stat st;
	bool changed;

	if (!path || !*path || now < r->next_token_check_ms)
		return false;
	r->next_token_check_ms = now + TOKEN_CHECK_EVERY_MS;
	if (stat(path, &st) != 0)
		return false; /* mid-swap or gone: keep the token we have */
	changed = r->token_stat_known &&
	          (st.st_ino != r->token_stat.st_ino ||
	           st.st_size != r->token_stat.st_size ||
	           st.st_mtim.tv_sec != r->token_stat.st_mtim.tv_sec ||
	           st.st_mtim.tv_nsec != r->token_stat.st_mtim.tv_nsec);
	r->token_stat = st;
	r->token_stat_known = true;
	if (changed)
		log_info("HEC token file changed", "file=%s", path);
	return changed;
}

/* Apply what a new configuration may change without a restart. */
static void apply_config(struct relay *r, struct config *n, int64_t now)
{
	log_set_level(n->log.level);
	r->indexed = (const char *const *)n->splunk.indexed_fields.v;
	ratelimit_init(&r->rl, n->splunk.rate_limit.requests_per_second,
	               n->splunk.rate_limit.burst_size, now);
	r->pace.initial_ms = n->splunk.retry.initial_backoff_ms;
	r->pace.max_ms = n->splunk.retry.max_backoff_ms;
	r->pace.multiplier = n->splunk.retry.backoff_multiplier;
	config_free(r->owned_cfg); /* a previous reload's, if any */
	r->owned_cfg = n;
	r->cfg = n;
}

/*
 * SIGHUP: re-read the configuration file.  Keys that need a restart
 * (endpoints, TLS, database, ...) are reported, and then nothing but the
 * token is reloaded: a half-applied configuration would be worse.
 */
static void reload_config(struct relay *r, int64_t now)
{
	struct config *n = NULL;
	struct buf b;

	r->sig->reload = 0;
	r->token_reload = true;
	if (access(r->cfg->path, R_OK) != 0)
		return; /* running on embedded defaults: only the token */
	if (config_load(&n, r->cfg->path) != 0 ||
	    config_check_delivery(n) != 0) {
		log_error("configuration reload failed; keeping the running"
		          " configuration",
		          "error=\"%s\"", relay_error_last());
		config_free(n);
		return;
	}
	buf_init(&b, 4096);
	if (config_reload_blockers(r->cfg, n, &b) > 0) {
		for (char *c = b.data; *c; c++)
			if (*c == '\n')
				*c = c[1] ? ',' : '\0';
		log_warn("configuration reload: these keys need a restart; only"
		         " the token was reloaded",
		         "keys=%s", b.data);
		config_free(n);
	} else {
		apply_config(r, n, now);
		log_info("configuration reloaded", "file=%s", r->cfg->path);
	}
	buf_dispose(&b);
}

/* -------------------------------------------------------------- loop */

static int64_t next_wakeup(const struct relay *r, int64_t now)
{
	int64_t t = now + 1000, d;

	/* A claim in flight wakes the loop through its socket. */
	if (!relay_stopping(r) && !store_claim_pending(r->store) &&
	    r->next_claim_ms < t)
		t = r->next_claim_ms;
	for (const struct post *p = r->posts; p; p = p->next)
		if (!p->in_flight && p->not_before_ms < t)
			t = p->not_before_ms;
	for (size_t i = 0; i < r->n_endpoints; i++)
		if (r->ep_hold_ms[i] > now && r->ep_hold_ms[i] < t)
			t = r->ep_hold_ms[i];
	if ((r->n_undelivered || r->n_risks) && r->next_undelivered_ms < t)
		t = r->next_undelivered_ms;
	if (r->posts) {
		d = ratelimit_next_ms(&r->rl, now);
		if (d > now && d < t)
			t = d;
	}
	d = acks_next_deadline(r->acks);
	if (d >= 0 && d < t)
		t = d;
	if (r->pace.hold_until_ms > now && r->pace.hold_until_ms < t)
		t = r->pace.hold_until_ms;
	return t < now ? now : t;
}

static bool finished(struct relay *r, int64_t now)
{
	if (!relay_stopping(r))
		return false;
	if (!r->shutdown_deadline_ms) {
		log_info("shutting down: no new claims; finishing requests and"
		         " polling acks",
		         "pending_acks=%zu", acks_pending_batches(r->acks));
		r->shutdown_deadline_ms = now + SHUTDOWN_ACK_WAIT_MS;
	}
	relay_release_queued(r);
	/* A claim in flight: its rows go back once its result is in. */
	if (r->posts_in_flight || r->polls_in_flight ||
	    store_claim_pending(r->store))
		return false;
	if ((r->n_undelivered || r->n_risks) && now < r->shutdown_deadline_ms)
		return false;
	/* Sent batches left unacknowledged stay `sent` with their ack ids:
	 * the next start resumes polling them, so nothing is resent. */
	return acks_pending_batches(r->acks) == 0 ||
	       now >= r->shutdown_deadline_ms;
}

static void on_health_result(struct relay *r, const struct hec_result *res)
{
	r->polls_in_flight--;
	atomic_store(&r->m.hec_up, res->http_status == 200);
	if (res->http_status != 200)
		log_warn("HEC health check failed",
		         "http=%ld code=%d error=\"%s\"", res->http_status,
		         res->resp.code, res->error);
}

static int drain_results(struct relay *r, int64_t now)
{
	struct hec_result res;
	int rc = 0;

	while (hec_next_result(r->hec, &res)) {
		if (res.kind == HEC_REQ_EVENTS)
			rc = relay_on_event_result(r, &res, now);
		else if (res.kind == HEC_REQ_ACK)
			rc = relay_on_ack_result(r, &res, now);
		else
			on_health_result(r, &res);
		hec_result_dispose(&res);
		if (rc == RELAY_EAGAIN)
			return rc;
	}
	return 0;
}

static void drain_wake_fd(int fd)
{
	char sink[64];

	if (fd >= 0)
		while (read(fd, sink, sizeof(sink)) > 0)
			;
}

static void publish_gauges(struct relay *r, int64_t now)
{
	atomic_store(&r->m.last_loop_ms, now);
	atomic_store(&r->m.in_flight_requests, r->posts_in_flight);
	atomic_store(&r->m.pending_acks,
	             (int_fast64_t)acks_pending_batches(r->acks));
	atomic_store(&r->m.concurrency_limit, pace_limit(&r->pace));
	atomic_store(&r->m.db_reconnects, store_reconnects(r->store));
}

static int loop(struct relay *r)
{
	for (;;) {
		int64_t now = sys_now_ms(), wake;
		int fds[2];

		publish_gauges(r, now);
		drain_wake_fd(r->sig->wake_fd);
		if (r->sig->reload)
			reload_config(r, now);
		if (r->token_reload || token_file_changed(r, now) ||
		    vault_due(r, now))
			reload_token(r, now);
		upkeep(r, now);
		if (store_fenced(r->store)) {
			log_error(
			        "another process took this relay's instance_id;"
			        " stopping without touching its batches",
			        "instance=%s", r->cfg->relay.instance_id);
			return RELAY_ERR;
		}
		if (finished(r, now))
			return 0;
		if (relay_fill(r, now) == RELAY_EAGAIN && relay_stopping(r))
			return 0;
		relay_start_polls(r, now);
		wake = next_wakeup(r, now);
		fds[0] = r->sig->wake_fd;
		fds[1] = store_claim_socket(r->store);
		if (hec_wait(r->hec, (int)(wake - now), fds, 2) != 0)
			log_warn("HEC transfer error", "error=\"%s\"",
			         relay_error_last());
		if (drain_results(r, sys_now_ms()) == RELAY_EAGAIN &&
		    relay_stopping(r))
			return 0;
	}
}

/* Wait up to ms, or until a signal writes to the wake pipe. */
static void pause_ms(struct relay *r, int ms)
{
	struct pollfd pfd = {r->sig->wake_fd, POLLIN, 0};

	(void)poll(&pfd, r->sig->wake_fd >= 0 ? 1 : 0, ms);
	drain_wake_fd(r->sig->wake_fd);
}

/*
 * exporters.splunk.enabled: false: a relay that delivers nothing — it
 * claims nothing and holds no batch — but keeps retention and the metrics
 * listener going until it is stopped.
 */
static int loop_without_delivery(struct relay *r)
{
	log_info("delivery disabled (exporters.splunk.enabled: false):"
	         " claiming nothing; retention and metrics only",
	         NULL);
	atomic_store(&r->m.hec_up, false);
	while (!relay_stopping(r)) {
		int64_t now = sys_now_ms();

		publish_gauges(r, now);
		if (now >= r->next_purge_ms &&
		    r->cfg->retention.delivered_days > 0) {
			purge(r);
			r->next_purge_ms = now + PURGE_EVERY_MS;
		}
		if (store_fenced(r->store))
			return RELAY_ERR;
		pause_ms(r, 1000);
	}
	return 0;
}

/*
 * Startup recovery must succeed before anything is claimed, but a failing
 * statement (a timeout, a read-only primary being promoted) is no reason
 * to exit: retry with back-off until it works or a stop is requested.
 */
static int recover_at_start(struct relay *r)
{
	int delay = 250;

	while (relay_recover(r, true, sys_now_ms()) != 0) {
		if (store_fenced(r->store))
			return RELAY_ERR;
		log_warn("startup recovery failed; retrying before claiming"
		         " anything",
		         "retry_ms=%d", delay);
		pause_ms(r, delay);
		if (relay_stopping(r))
			return 0;
		delay = delay * 2 > 10000 ? 10000 : delay * 2;
	}
	return 0;
}

/* ------------------------------------------------------------ set-up */

/* Config strings are "" when unset; hec wants NULL. */
static const char *nonempty(const char *s)
{
	return s && *s ? s : NULL;
}

/* A token file others can read: said at start (check fails on it), not
 * fatal: a Kubernetes secret mounted with the default mode 0644 still
 * works until the operator fixes it. */
static void warn_token_files(const struct config *cfg)
{
	const char *keys[2], *paths[2];
	size_t n = token_files(cfg, keys, paths);

	for (size_t i = 0; i < n; i++)
		if (sys_secret_private(paths[i]) != 0)
			log_warn("token file is not private",
			         "key=%s problem=\"%s\"", keys[i],
			         relay_error_last());
}

static int open_hec(struct relay *r)
{
	const struct config *cfg = r->cfg;
	struct hec_opts o;
	char *tok = NULL;
	int rc;

	rc = load_token(cfg, &tok);
	if (rc)
		return rc;
	memset(&o, 0, sizeof(o));
	o.urls = (const char *const *)cfg->splunk.hec_url.v;
	o.n_urls = cfg->splunk.hec_url.n;
	o.token = tok;
	o.gzip = cfg->splunk.compression;
	o.gzip_level = 1;
	o.timeout_ms = cfg->splunk.connection.timeout_ms;
	o.connect_timeout_ms = cfg->splunk.connection.timeout_ms < 10000
	                               ? cfg->splunk.connection.timeout_ms
	                               : 10000;
	o.ca_cert_path = nonempty(cfg->splunk.tls.ca_cert_path);
	o.client_cert_path = nonempty(cfg->splunk.tls.client_cert_path);
	o.client_key_path = nonempty(cfg->splunk.tls.client_key_path);
	o.insecure_skip_verify = cfg->splunk.tls.insecure_skip_verify;
	o.http2 = cfg->splunk.tls.http2;
	o.user_agent = "clawdstrike-relay/" RELAY_VERSION_STRING;
	rc = hec_new(&r->hec, &o);
	r->token_hash = token_hash(tok);
	r->last_vault_ms = sys_now_ms();
	r->next_vault_ms =
	        r->last_vault_ms + cfg->splunk.vault.refresh_s * 1000LL;
	log_info("HEC token loaded", "source=%s",
	         token_source_name(token_source_of(cfg)));
	token_free(tok);
	return rc;
}

static void setup_channels(struct relay *r)
{
	r->n_endpoints = hec_endpoint_count(r->hec);
	r->ep_channel = xcalloc(r->n_endpoints, sizeof(*r->ep_channel));
	r->ep_hold_ms = xcalloc(r->n_endpoints, sizeof(*r->ep_hold_ms));
	r->ep_bad_answer = xcalloc(r->n_endpoints, sizeof(*r->ep_bad_answer));
	r->ep_single_ms = xcalloc(r->n_endpoints, sizeof(*r->ep_single_ms));
	for (size_t i = 0; i < r->n_endpoints; i++)
		relay_new_channel(r, i);
}

static void teardown(struct relay *r)
{
	relay_settle_claim(r);
	relay_release_queued(r);
	while (r->posts) { /* in flight when the loop ended */
		struct post *p = r->posts;

		r->posts = p->next;
		relay_post_free(p);
	}
	httpd_stop(r->httpd);
	hec_free(r->hec);
	acks_free(r->acks);
	store_free(r->store);
	free(r->ep_channel);
	free(r->ep_hold_ms);
	free(r->ep_bad_answer);
	free(r->ep_single_ms);
	free(r->undelivered);
	free(r->risks);
	config_free(r->owned_cfg);
}

static void on_db_health(bool up, void *arg)
{
	struct relay *r = arg;

	atomic_store(&r->m.db_up, up);
	/* Blocked on a reconnect is still alive, for /healthz. */
	atomic_store(&r->m.last_loop_ms, sys_now_ms());
}

static int start_httpd(struct relay *r)
{
	const char *listen = r->cfg->metrics.listen;
	int rc;

	if (!listen || !*listen)
		return 0;
	rc = httpd_start(&r->httpd, listen, &r->m);
	if (!rc)
		log_info("metrics listener ready", "listen=%s port=%d", listen,
		         httpd_port(r->httpd));
	return rc;
}

int relay_run(const struct config *cfg, struct relay_signals *sig)
{
	struct relay r;
	int rc;

	memset(&r, 0, sizeof(r));
	r.cfg = cfg;
	r.sig = sig;
	metrics_init(&r.m);
	atomic_store(&r.m.token_ok, true);
	atomic_store(&r.m.last_loop_ms, sys_now_ms());
	r.indexed = (const char *const *)cfg->splunk.indexed_fields.v;
	/* Back-pressure: at most this many events awaiting acks. */
	r.max_pending_events = (size_t)cfg->splunk.batch.size *
	                       (size_t)cfg->relay.max_in_flight * 64;
	ratelimit_init(&r.rl, cfg->splunk.rate_limit.requests_per_second,
	               cfg->splunk.rate_limit.burst_size, sys_now_ms());
	pace_init(&r.pace, cfg->relay.max_in_flight,
	          cfg->splunk.retry.initial_backoff_ms,
	          cfg->splunk.retry.max_backoff_ms,
	          cfg->splunk.retry.backoff_multiplier);
	r.acks = acks_new(ACK_MIN_POLL_MS, cfg->splunk.ack.poll_interval_ms,
	                  cfg->splunk.ack.timeout_s * 1000);
	rc = start_httpd(&r);
	if (rc)
		goto done;
	rc = store_open(&r.store, cfg->database.url, cfg->relay.instance_id,
	                &sig->stop);
	if (rc)
		goto done;
	atomic_store(&r.m.db_up, true);
	store_on_health(r.store, on_db_health, &r);
	if (!cfg->splunk.enabled) {
		rc = loop_without_delivery(&r);
		goto done;
	}
	rc = open_hec(&r);
	if (rc)
		goto done;
	setup_channels(&r);
	warn_token_files(cfg);
	log_info("relay starting",
	         "instance=%s endpoints=%zu use_ack=%s"
	         " batch_size=%d max_in_flight=%d",
	         cfg->relay.instance_id, r.n_endpoints,
	         cfg->splunk.use_ack ? "true" : "false", cfg->splunk.batch.size,
	         cfg->relay.max_in_flight);
	/* Resume our own persisted acks before sending anything new. */
	rc = recover_at_start(&r);
	if (rc || relay_stopping(&r))
		goto done;
	r.next_recover_ms = sys_now_ms() + cfg->relay.lease_s * 500;
	rc = loop(&r);
	log_info("relay stopped",
	         "delivered=%" PRIu64 " failed=%" PRIu64
	         " duplicates_risked=%" PRIu64 " pending_acks=%zu",
	         (uint64_t)GET(&r, events_delivered),
	         (uint64_t)GET(&r, events_failed),
	         (uint64_t)GET(&r, duplicates_risked),
	         acks_pending_batches(r.acks));
done:
	teardown(&r);
	return rc;
}
