/* SPDX-License-Identifier: Apache-2.0 */
/*
 * options: getopt_long table and range-checked values.  See options.h.
 */
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "util/log.h"
#include "util/xalloc.h"

enum {
	OPT_LISTEN = 256,
	OPT_TOKEN,
	OPT_ACK,
	OPT_ACK_DELAY,
	OPT_OUTPUT,
	OPT_PORT_FILE,
	OPT_MAX_CONTENT,
	OPT_MAX_EVENT,
	OPT_ACK_IDLE,
	OPT_MAX_CHANNELS,
	OPT_MAX_ACKS,
	OPT_THREADS,
	OPT_HEALTH_TOKEN,
	OPT_CODE7_EXACT,
	OPT_UNKNOWN_KEYS,
	OPT_RAW_CHANNEL,
	OPT_NO_CONTROL,
	OPT_BUSY,
	OPT_THROTTLE,
	OPT_DROP,
	OPT_LATENCY,
	OPT_RETRY_AFTER,
	OPT_HEALTH,
	OPT_SEED,
	OPT_LOG_LEVEL,
	OPT_TLS_CERT,
	OPT_TLS_KEY,
	OPT_TLS_CLIENT_CA,
	OPT_CHANNEL_COOKIE,
	OPT_REQUIRE_COOKIE,
	OPT_LOSSY,
	OPT_DROP_ACK,
	OPT_HTML_200,
	OPT_NO_ACK_ID,
	OPT_ACK_JITTER,
	OPT_ACK_NEVER,
	OPT_WARN,
	OPT_WARN_CODE,
	OPT_NODES,
	OPT_HELP
};

static const struct option longopts[] = {
        {"listen", required_argument, NULL, OPT_LISTEN},
        {"token", required_argument, NULL, OPT_TOKEN},
        {"ack", no_argument, NULL, OPT_ACK},
        {"ack-delay-ms", required_argument, NULL, OPT_ACK_DELAY},
        {"output", required_argument, NULL, OPT_OUTPUT},
        {"port-file", required_argument, NULL, OPT_PORT_FILE},
        {"max-content-length", required_argument, NULL, OPT_MAX_CONTENT},
        {"max-event-size", required_argument, NULL, OPT_MAX_EVENT},
        {"ack-idle-timeout-s", required_argument, NULL, OPT_ACK_IDLE},
        {"max-channels", required_argument, NULL, OPT_MAX_CHANNELS},
        {"max-acks-per-channel", required_argument, NULL, OPT_MAX_ACKS},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"health-checks-token", no_argument, NULL, OPT_HEALTH_TOKEN},
        {"code7-exact", no_argument, NULL, OPT_CODE7_EXACT},
        {"unknown-keys", required_argument, NULL, OPT_UNKNOWN_KEYS},
        {"raw-requires-channel", no_argument, NULL, OPT_RAW_CHANNEL},
        {"no-control", no_argument, NULL, OPT_NO_CONTROL},
        {"busy-rate", required_argument, NULL, OPT_BUSY},
        {"throttle-rate", required_argument, NULL, OPT_THROTTLE},
        {"drop-rate", required_argument, NULL, OPT_DROP},
        {"latency-ms", required_argument, NULL, OPT_LATENCY},
        {"retry-after-s", required_argument, NULL, OPT_RETRY_AFTER},
        {"health", required_argument, NULL, OPT_HEALTH},
        {"seed", required_argument, NULL, OPT_SEED},
        {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
        {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
        {"tls-key", required_argument, NULL, OPT_TLS_KEY},
        {"tls-client-ca", required_argument, NULL, OPT_TLS_CLIENT_CA},
        {"channel-cookie", required_argument, NULL, OPT_CHANNEL_COOKIE},
        {"require-channel-cookie", no_argument, NULL, OPT_REQUIRE_COOKIE},
        {"lossy", no_argument, NULL, OPT_LOSSY},
        {"drop-ack-rate", required_argument, NULL, OPT_DROP_ACK},
        {"html-200", no_argument, NULL, OPT_HTML_200},
        {"no-ack-id", no_argument, NULL, OPT_NO_ACK_ID},
        {"ack-jitter-ms", required_argument, NULL, OPT_ACK_JITTER},
        {"ack-never-rate", required_argument, NULL, OPT_ACK_NEVER},
        {"warn-rate", required_argument, NULL, OPT_WARN},
        {"warn-code", required_argument, NULL, OPT_WARN_CODE},
        {"nodes", required_argument, NULL, OPT_NODES},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0}};

static const char usage_text[] =
        "Usage: hec-emulator --token TOKEN[,OPT...] [options]\n"
        "\n"
        "A Splunk HTTP Event Collector (HEC) emulator.\n"
        "\n"
        "  --listen ADDR:PORT        listen address (default 127.0.0.1:8088;\n"
        "                            port 0 picks a free port)\n"
        "  --token SPEC              a valid token, repeatable. SPEC is\n"
        "                            TOKEN[,name=N][,ack=on|off][,index=I]\n"
        "                            [,indexes=A:B][,sourcetype=S][,source=S]\n"
        "                            [,disabled][,query-auth]\n"
        "  --ack                     indexer acknowledgement on for every\n"
        "                            token (unless the token says ack=off)\n"
        "  --ack-delay-ms N          an ack reads true N ms after indexing\n"
        "                            (default 0)\n"
        "  --output FILE             append what was indexed as JSON Lines\n"
        "                            (\"-\": stdout)\n"
        "  --port-file FILE          write the bound port here once listening\n"
        "  --max-content-length N    request body limit in bytes, checked on\n"
        "                            the wire and after gunzip: 413\n"
        "                            (default 838860800)\n"
        "  --max-event-size N        one envelope's limit in bytes: 400 code 6\n"
        "                            (default 5242880)\n"
        "  --ack-idle-timeout-s N    drop channels idle this long (default\n"
        "                            600; 0: never)\n"
        "  --max-channels N          ack channels before 503 code 9\n"
        "                            (default 1000000)\n"
        "  --max-acks-per-channel N  pending ack ids per channel before 503\n"
        "                            code 9 (default 1000000)\n"
        "  --threads N               worker threads (default 0: one thread\n"
        "                            per connection)\n"
        "  --health-checks-token     health answers 400 code 21/22 for a bad\n"
        "                            or disabled token (the docs); default\n"
        "                            ignores the token (Splunk 8.2.4)\n"
        "  --code7-exact             report code 7 at the bad envelope, not\n"
        "                            one past it as Splunk 10.4 does\n"
        "  --unknown-keys MODE       stop (Splunk 10.4, default), ignore or\n"
        "                            reject (400 code 6)\n"
        "  --raw-requires-channel    raw needs a channel even on non-ack\n"
        "                            tokens (Vector's emulation)\n"
        "  --no-control              disable /emulator/... (control API)\n"
        "  --busy-rate R             answer 503 code 9 to this share of\n"
        "                            event/raw requests (0..1)\n"
        "  --throttle-rate R         answer 429 code 26 to this share\n"
        "  --drop-rate R             index, then close without answering\n"
        "  --latency-ms N            delay every collector answer by N ms\n"
        "  --retry-after-s N         send Retry-After on injected 503/429\n"
        "  --health STATE            ok, queues_full, ack_unavailable,\n"
        "                            shutting_down\n"
        "  --seed N                  seed for the fault draws\n"
        "  --log-level LEVEL         error, warn, info (default), debug\n"
        "  --tls-cert FILE           serve HTTPS with this PEM certificate\n"
        "                            (chain) ...\n"
        "  --tls-key FILE            ... and this PEM private key\n"
        "  --tls-client-ca FILE      require a client certificate signed by\n"
        "                            this PEM CA (mTLS); needs --tls-cert\n"
        "  --channel-cookie NAME     inputs.conf channel_cookie: answer\n"
        "                            Set-Cookie: NAME=<channel>\n"
        "  --require-channel-cookie  /ack without the cookie reads like\n"
        "                            another indexer: every id false\n"
        "  --lossy                   events of ack requests become durable\n"
        "                            (written) only when their id reads\n"
        "                            true; a restart drops the rest\n"
        "  --drop-ack-rate R         answer this share of ack polls, then\n"
        "                            close without sending the answer\n"
        "  --html-200                answer every collector request 200\n"
        "                            with an HTML maintenance page\n"
        "  --no-ack-id               index and answer Success without an\n"
        "                            ackId, even on ack tokens\n"
        "  --ack-jitter-ms N         each ack id reads true after the delay\n"
        "                            plus a seeded draw from 0..N ms\n"
        "  --ack-never-rate R        this share of ack ids never reads true\n"
        "  --warn-rate R             answer this share of indexed requests\n"
        "                            200 with --warn-code\n"
        "  --warn-code C             24 (queue) or 25 (ack) (default 24)\n"
        "  --nodes N                 N indexers behind a non-sticky load\n"
        "                            balancer, each with its own acks\n"
        "                            (default 1, at most 8)\n"
        "  --help                    this text\n"
        "\n"
        "Control API (loopback clients only): GET /emulator/counters,\n"
        "GET|POST /emulator/faults, POST /emulator/restart,\n"
        "GET|POST /emulator/tokens. See tools/hec-emulator/README.md.\n";

static int
parse_u64(const char *name, const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v > max)
		return relay_error_set("--%s: expected an integer 0..%llu, "
		                       "got \"%s\"",
		                       name, (unsigned long long)max, s);
	*out = v;
	return 0;
}

static int parse_rate(const char *name, const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	if (errno || end == s || *end || *out < 0 || *out > 1)
		return relay_error_set("--%s: expected a number 0..1, got "
		                       "\"%s\"",
		                       name, s);
	return 0;
}

static int parse_unknown(const char *s, enum unknown_keys *out)
{
	if (!strcmp(s, "stop"))
		*out = UNKNOWN_KEYS_STOP;
	else if (!strcmp(s, "ignore"))
		*out = UNKNOWN_KEYS_IGNORE;
	else if (!strcmp(s, "reject"))
		*out = UNKNOWN_KEYS_REJECT;
	else
		return relay_error_set(
		        "--unknown-keys: stop, ignore or reject");
	return 0;
}

/* The long name of an option, for messages. */
static const char *opt_name(int opt)
{
	for (const struct option *lo = longopts; lo->name; lo++) {
		if (lo->val == opt)
			return lo->name;
	}
	return "";
}

/* Options that set a fault's rate. */
static const struct {
	int opt;
	enum fault fault;
} rate_opts[] = {
        {OPT_BUSY, FAULT_BUSY}, {OPT_THROTTLE, FAULT_THROTTLE},
        {OPT_DROP, FAULT_DROP}, {OPT_DROP_ACK, FAULT_DROP_ACK},
        {OPT_WARN, FAULT_WARN}, {OPT_ACK_NEVER, FAULT_ACK_NEVER},
};

/* 1 when opt is a rate option (parsed into *rc), else 0. */
static int apply_rate(struct emu_options *o, int opt, const char *arg, int *rc)
{
	for (size_t i = 0; i < sizeof(rate_opts) / sizeof(rate_opts[0]); i++) {
		if (rate_opts[i].opt != opt)
			continue;
		*rc = parse_rate(opt_name(opt), arg,
		                 &o->faults.rate[rate_opts[i].fault]);
		return 1;
	}
	return 0;
}

/* Options without a value: each sets a bool. */
#define SWITCH(opt, field, value)                                              \
	{                                                                      \
		opt, offsetof(struct emu_options, field), value                \
	}
static const struct {
	int opt;
	size_t off;
	bool value;
} switch_opts[] = {
        SWITCH(OPT_ACK, tokens.ack_all, true),
        SWITCH(OPT_HEALTH_TOKEN, health_checks_token, true),
        SWITCH(OPT_CODE7_EXACT, faults.code7_exact, true),
        SWITCH(OPT_LOSSY, faults.lossy, true),
        SWITCH(OPT_HTML_200, faults.html_200, true),
        SWITCH(OPT_NO_ACK_ID, faults.no_ack_id, true),
        SWITCH(OPT_RAW_CHANNEL, raw_requires_channel, true),
        SWITCH(OPT_NO_CONTROL, control, false),
        SWITCH(OPT_REQUIRE_COOKIE, require_channel_cookie, true),
};
#undef SWITCH

/* true when opt is a switch (and it was set). */
static bool apply_switch(struct emu_options *o, int opt)
{
	for (size_t i = 0; i < sizeof(switch_opts) / sizeof(switch_opts[0]);
	     i++) {
		if (switch_opts[i].opt == opt) {
			*(bool *)(void *)((char *)o + switch_opts[i].off) =
			        switch_opts[i].value;
			return true;
		}
	}
	return false;
}

static void set_defaults(struct emu_options *o)
{
	memset(o, 0, sizeof(*o));
	tokens_init(&o->tokens);
	o->listen = xstrdup("127.0.0.1:8088");
	o->max_content_length = 838860800;
	o->max_event_size = 5242880;
	o->ack_idle_s = 600;
	o->max_channels = 1000000;
	o->max_acks_per_channel = 1000000;
	o->control = true;
	o->nodes = 1;
	o->faults.warn_code = 24;
	o->seed = 1;
	o->log_level = LOG_INFO;
}

static void set_str(char **slot, const char *v)
{
	free(*slot);
	*slot = xstrdup(v);
}

/* Options that take a number. */
static int apply_number(struct emu_options *o, int opt, const char *arg)
{
	uint64_t v = 0;
	int rc;

	rc = parse_u64(opt_name(opt), arg,
	               opt == OPT_SEED ? UINT64_MAX : 1ULL << 40, &v);
	if (rc)
		return rc;
	switch (opt) {
	case OPT_ACK_DELAY:
		o->faults.ack_delay_ms =
		        (unsigned)(v > 86400000 ? 86400000 : v);
		break;
	case OPT_MAX_CONTENT:
		o->max_content_length = (size_t)v;
		break;
	case OPT_MAX_EVENT:
		o->max_event_size = (size_t)v;
		break;
	case OPT_ACK_IDLE:
		o->ack_idle_s = v;
		break;
	case OPT_MAX_CHANNELS:
		o->max_channels = (size_t)v;
		break;
	case OPT_MAX_ACKS:
		o->max_acks_per_channel = (size_t)v;
		break;
	case OPT_THREADS:
		o->threads = (unsigned)(v > 256 ? 256 : v);
		break;
	case OPT_LATENCY:
		o->faults.latency_ms = (unsigned)(v > 86400000 ? 86400000 : v);
		break;
	case OPT_ACK_JITTER:
		o->faults.ack_jitter_ms =
		        (unsigned)(v > 86400000 ? 86400000 : v);
		break;
	case OPT_NODES:
		if (v < 1 || v > CLUSTER_MAX_NODES)
			return relay_error_set("--nodes: 1..%d",
			                       CLUSTER_MAX_NODES);
		o->nodes = (unsigned)v;
		break;
	case OPT_WARN_CODE:
		if (v != 24 && v != 25)
			return relay_error_set("--warn-code: 24 or 25");
		o->faults.warn_code = (int)v;
		break;
	case OPT_RETRY_AFTER:
		o->faults.retry_after_s = (unsigned)(v > 86400 ? 86400 : v);
		break;
	default:
		o->seed = v;
		break;
	}
	return 0;
}

static int apply_other(struct emu_options *o, int opt, const char *arg)
{
	enum log_level lvl;
	int rc;

	if (apply_rate(o, opt, arg, &rc))
		return rc;
	switch (opt) {
	case OPT_HEALTH:
		o->faults.health = health_parse(arg);
		if (o->faults.health < 0)
			return relay_error_set("--health: ok, queues_full, "
			                       "ack_unavailable or "
			                       "shutting_down");
		return 0;
	case OPT_UNKNOWN_KEYS:
		return parse_unknown(arg, &o->unknown);
	case OPT_LOG_LEVEL:
		if (log_level_parse(arg, &lvl) != 0)
			return relay_error_set("--log-level: error, warn, "
			                       "info or debug");
		o->log_level = (int)lvl;
		return 0;
	default:
		return apply_number(o, opt, arg);
	}
}

/* A cookie name is an RFC 6265 token. */
static int set_cookie_name(struct emu_options *o, const char *arg)
{
	if (!*arg || arg[strspn(arg, "abcdefghijklmnopqrstuvwxyz"
	                             "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                             "0123456789!#$%&'*+-.^_`|~")])
		return relay_error_set("--channel-cookie: a cookie name "
		                       "(letters, digits, -_. ...), got "
		                       "\"%s\"",
		                       arg);
	set_str(&o->channel_cookie, arg);
	return 0;
}

/* Option combinations. */
static int check_combinations(const struct emu_options *o)
{
	if (!o->tls_cert != !o->tls_key)
		return relay_error_set("--tls-cert and --tls-key go together");
	if (o->tls_client_ca && !o->tls_cert)
		return relay_error_set("--tls-client-ca needs --tls-cert and "
		                       "--tls-key");
	if (o->require_channel_cookie && !o->channel_cookie)
		return relay_error_set("--require-channel-cookie needs "
		                       "--channel-cookie NAME");
	return 0;
}

static int apply(struct emu_options *o, int opt, const char *arg)
{
	if (apply_switch(o, opt))
		return 0;
	switch (opt) {
	case OPT_LISTEN:
		set_str(&o->listen, arg);
		return 0;
	case OPT_TOKEN:
		return tokens_add(&o->tokens, arg);
	case OPT_OUTPUT:
		set_str(&o->output, arg);
		return 0;
	case OPT_PORT_FILE:
		set_str(&o->port_file, arg);
		return 0;
	case OPT_TLS_CERT:
		set_str(&o->tls_cert, arg);
		return 0;
	case OPT_TLS_KEY:
		set_str(&o->tls_key, arg);
		return 0;
	case OPT_TLS_CLIENT_CA:
		set_str(&o->tls_client_ca, arg);
		return 0;
	case OPT_CHANNEL_COOKIE:
		return set_cookie_name(o, arg);
	default:
		return apply_other(o, opt, arg);
	}
}

int options_parse(struct emu_options *o, int argc, char **argv)
{
	int opt;

	set_defaults(o);
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (opt == OPT_HELP) {
			fputs(usage_text, stdout);
			return OPTIONS_EXIT_OK;
		}
		if (opt == '?' || opt == ':') {
			relay_error_set("unknown option or missing value: %s "
			                "(see --help)",
			                argv[optind - 1]);
			return RELAY_EINVAL;
		}
		if (apply(o, opt, optarg) != 0)
			return RELAY_EINVAL;
	}
	if (optind < argc) {
		relay_error_set("unexpected argument \"%s\"", argv[optind]);
		return RELAY_EINVAL;
	}
	if (o->tokens.n == 0) {
		relay_error_set("at least one --token is required");
		return RELAY_EINVAL;
	}
	if (check_combinations(o) != 0)
		return RELAY_EINVAL;
	return OPTIONS_RUN;
}

void options_dispose(struct emu_options *o)
{
	free(o->listen);
	free(o->output);
	free(o->port_file);
	free(o->tls_cert);
	free(o->tls_key);
	free(o->tls_client_ca);
	free(o->channel_cookie);
	tokens_dispose(&o->tokens);
}
