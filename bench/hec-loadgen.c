/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hec-loadgen: drive a HEC endpoint as hard as possible, the way the relay
 * does: batches of ~800-byte envelopes, gzip, one ack channel per
 * connection, one poll per channel for all of its pending ack ids.
 *
 * Bodies are built and compressed once at start, so the generator spends
 * its CPU on HTTP only and the emulator is what gets measured.  Prints
 * events/s accepted (HTTP 200) and events/s acknowledged (ack true), plus
 * a JSON line for scripts.
 *
 *   hec-loadgen --url http://127.0.0.1:8088 --token T [--connections 8]
 *               [--batch 500] [--duration 10] [--no-gzip] [--no-ack]
 */
#include <curl/curl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#define N_BODIES 16
#define MAX_PENDING 4096

struct body {
	char *data;
	size_t len;
	size_t raw_len;
};

struct config {
	const char *url;
	const char *token;
	int connections;
	int batch;
	double duration;
	bool gzip;
	bool ack;
	int poll_ms;
};

struct stats {
	uint64_t requests, events_ok, events_acked, polls, errors;
	uint64_t wire_bytes, raw_bytes;
};

enum phase { SENDING, POLLING, IDLE };

struct worker {
	CURL *easy;
	struct curl_slist *send_hdrs, *poll_hdrs;
	char channel[40];
	char resp[65536];
	size_t resp_len;
	uint64_t pending[MAX_PENDING];
	size_t n_pending;
	char poll_body[MAX_PENDING * 12 + 32];
	double last_poll;
	enum phase phase;
	int next_body;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng(uint64_t *s)
{
	uint64_t x = (*s += 0x9e3779b97f4a7c15ULL);

	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static void uuid(char *out, uint64_t *s)
{
	uint64_t a = rng(s), b = rng(s);

	snprintf(out, 37, "%08x-%04x-4%03x-a%03x-%012llx", (unsigned)(a >> 32),
	         (unsigned)(a >> 16) & 0xffff, (unsigned)a & 0xfff,
	         (unsigned)(b >> 48) & 0xfff,
	         (unsigned long long)(b & 0xffffffffffffULL));
}

/* One envelope shaped like a Clawdstrike policy event (~800 bytes). */
static int envelope(char *out, size_t size, uint64_t *s, long seq)
{
	static const char *const sev[] = {"info", "low", "medium", "high",
	                                  "critical"};
	static const char *const guards[] = {"egress_allowlist", "secret_leak",
	                                     "shell_command", "file_write",
	                                     "prompt_injection"};
	char id[40], sess[40];
	uint64_t r = rng(s);

	uuid(id, s);
	uuid(sess, s);
	return snprintf(
	        out, size,
	        "{\"time\":%ld.%03ld,\"host\":\"agent-host-%02u\","
	        "\"source\":\"clawdstrike\",\"sourcetype\":"
	        "\"clawdstrike:security\",\"index\":\"security\","
	        "\"fields\":{\"event_id\":\"%s\",\"severity\":\"%s\","
	        "\"guard\":\"%s\"},\"event\":{\"event_id\":\"%s\","
	        "\"timestamp\":\"2026-11-27T02:05:%02ld.%03ldZ\","
	        "\"event_type\":\"policy_violation\",\"event_category\":"
	        "\"network\",\"outcome\":\"%s\",\"action\":\"deny\","
	        "\"decision\":{\"allowed\":%s,\"guard\":\"%s\",\"severity\":"
	        "\"%s\",\"reason\":\"destination not in allowlist\"},"
	        "\"agent\":{\"id\":\"agent-%u\",\"name\":\"build-bot\","
	        "\"version\":\"1.4.2\"},\"session\":{\"id\":\"%s\",\"user\":"
	        "\"user%u@example.com\"},\"resource\":{\"type\":\"url\","
	        "\"value\":\"https://exfil-%u.example.net/upload?x=%lu\"},"
	        "\"threat\":{\"mitre\":[\"T1041\",\"T1567\"]},\"metadata\":"
	        "{\"relay\":\"relay-1\",\"seq\":%ld}}}\n",
	        1795745000L + seq / 1000, seq % 1000, (unsigned)(r % 50), id,
	        sev[r % 5], guards[(r >> 8) % 5], id, (seq / 1000) % 60,
	        seq % 1000, (r >> 16) % 2 ? "blocked" : "allowed",
	        (r >> 17) % 2 ? "false" : "true", guards[(r >> 8) % 5],
	        sev[r % 5], (unsigned)((r >> 20) % 1000), sess,
	        (unsigned)((r >> 30) % 10000), (unsigned)((r >> 40) % 100),
	        (unsigned long)(r >> 44), seq);
}

static void
make_body(struct body *b, const struct config *c, uint64_t *s, long *seq)
{
	size_t cap = (size_t)c->batch * 1200, len = 0;
	char *raw = malloc(cap);
	uLongf zlen;

	for (int i = 0; i < c->batch; i++)
		len += (size_t)envelope(raw + len, cap - len, s, (*seq)++);
	b->raw_len = len;
	if (!c->gzip) {
		b->data = raw;
		b->len = len;
		return;
	}
	/* compress2 writes zlib framing; HEC wants gzip, so deflate with
	 * gzip framing by hand. */
	z_stream zs;
	memset(&zs, 0, sizeof(zs));
	deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
	zlen = deflateBound(&zs, len);
	b->data = malloc(zlen);
	zs.next_in = (unsigned char *)raw;
	zs.avail_in = (uInt)len;
	zs.next_out = (unsigned char *)b->data;
	zs.avail_out = (uInt)zlen;
	deflate(&zs, Z_FINISH);
	b->len = zs.total_out;
	deflateEnd(&zs);
	free(raw);
}

static size_t on_data(char *p, size_t sz, size_t n, void *arg)
{
	struct worker *w = arg;
	size_t len = sz * n, room = sizeof(w->resp) - 1 - w->resp_len;

	if (len > room)
		len = room;
	memcpy(w->resp + w->resp_len, p, len);
	w->resp_len += len;
	w->resp[w->resp_len] = '\0';
	return sz * n;
}

static void
start_send(struct worker *w, const struct config *c, struct body *bodies)
{
	struct body *b = &bodies[w->next_body++ % N_BODIES];
	char url[512];

	snprintf(url, sizeof(url), "%s/services/collector/event", c->url);
	w->resp_len = 0;
	curl_easy_setopt(w->easy, CURLOPT_URL, url);
	curl_easy_setopt(w->easy, CURLOPT_HTTPHEADER, w->send_hdrs);
	curl_easy_setopt(w->easy, CURLOPT_POSTFIELDS, b->data);
	curl_easy_setopt(w->easy, CURLOPT_POSTFIELDSIZE, (long)b->len);
	w->phase = SENDING;
}

static void start_poll(struct worker *w, const struct config *c)
{
	char url[512];
	size_t o;

	snprintf(url, sizeof(url), "%s/services/collector/ack", c->url);
	o = (size_t)snprintf(w->poll_body, sizeof(w->poll_body), "{\"acks\":[");
	for (size_t i = 0; i < w->n_pending; i++)
		o += (size_t)snprintf(
		        w->poll_body + o, sizeof(w->poll_body) - o, "%s%llu",
		        i ? "," : "", (unsigned long long)w->pending[i]);
	snprintf(w->poll_body + o, sizeof(w->poll_body) - o, "]}");
	w->resp_len = 0;
	curl_easy_setopt(w->easy, CURLOPT_URL, url);
	curl_easy_setopt(w->easy, CURLOPT_HTTPHEADER, w->poll_hdrs);
	curl_easy_setopt(w->easy, CURLOPT_POSTFIELDS, w->poll_body);
	curl_easy_setopt(w->easy, CURLOPT_POSTFIELDSIZE,
	                 (long)strlen(w->poll_body));
	w->phase = POLLING;
}

static void on_sent(struct worker *w,
                    const struct config *c,
                    long status,
                    struct stats *st,
                    const struct body *b)
{
	const char *p = strstr(w->resp, "\"ackId\":");

	st->requests++;
	if (status != 200) {
		st->errors++;
		return;
	}
	st->events_ok += (uint64_t)c->batch;
	st->wire_bytes += b->len;
	st->raw_bytes += b->raw_len;
	if (p && w->n_pending < MAX_PENDING)
		w->pending[w->n_pending++] = strtoull(p + 8, NULL, 10);
}

static void
on_polled(struct worker *w, const struct config *c, struct stats *st)
{
	char key[32];
	size_t keep = 0;

	st->polls++;
	for (size_t i = 0; i < w->n_pending; i++) {
		snprintf(key, sizeof(key), "\"%llu\":true",
		         (unsigned long long)w->pending[i]);
		if (strstr(w->resp, key))
			st->events_acked += (uint64_t)c->batch;
		else
			w->pending[keep++] = w->pending[i];
	}
	w->n_pending = keep;
}

static void usage(void)
{
	fputs("usage: hec-loadgen --url URL --token TOKEN [--connections N]"
	      " [--batch N] [--duration S] [--poll-ms N] [--no-gzip]"
	      " [--no-ack]\n",
	      stderr);
	exit(2);
}

static void parse(struct config *c, int argc, char **argv)
{
	static const struct option lo[] = {{"url", 1, NULL, 'u'},
	                                   {"token", 1, NULL, 't'},
	                                   {"connections", 1, NULL, 'c'},
	                                   {"batch", 1, NULL, 'b'},
	                                   {"duration", 1, NULL, 'd'},
	                                   {"poll-ms", 1, NULL, 'p'},
	                                   {"no-gzip", 0, NULL, 'G'},
	                                   {"no-ack", 0, NULL, 'A'},
	                                   {NULL, 0, NULL, 0}};
	int o;

	*c = (struct config){NULL, NULL, 8, 500, 10, true, true, 100};
	while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (o) {
		case 'u':
			c->url = optarg;
			break;
		case 't':
			c->token = optarg;
			break;
		case 'c':
			c->connections = atoi(optarg);
			break;
		case 'b':
			c->batch = atoi(optarg);
			break;
		case 'd':
			c->duration = atof(optarg);
			break;
		case 'p':
			c->poll_ms = atoi(optarg);
			break;
		case 'G':
			c->gzip = false;
			break;
		case 'A':
			c->ack = false;
			break;
		default:
			usage();
		}
	}
	if (!c->url || !c->token || c->connections < 1 || c->batch < 1)
		usage();
}

static void worker_init(struct worker *w, const struct config *c, uint64_t *s)
{
	char h[512];

	memset(w, 0, sizeof(*w));
	uuid(w->channel, s);
	w->easy = curl_easy_init();
	snprintf(h, sizeof(h), "Authorization: Splunk %s", c->token);
	w->send_hdrs = curl_slist_append(NULL, h);
	w->poll_hdrs = curl_slist_append(NULL, h);
	snprintf(h, sizeof(h), "X-Splunk-Request-Channel: %s", w->channel);
	w->send_hdrs = curl_slist_append(w->send_hdrs, h);
	w->poll_hdrs = curl_slist_append(w->poll_hdrs, h);
	w->send_hdrs = curl_slist_append(w->send_hdrs, "Expect:");
	w->poll_hdrs = curl_slist_append(w->poll_hdrs, "Expect:");
	if (c->gzip)
		w->send_hdrs = curl_slist_append(w->send_hdrs,
		                                 "Content-Encoding: gzip");
	curl_easy_setopt(w->easy, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(w->easy, CURLOPT_WRITEDATA, w);
	curl_easy_setopt(w->easy, CURLOPT_PRIVATE, w);
	curl_easy_setopt(w->easy, CURLOPT_USERAGENT, "hec-loadgen/1");
	curl_easy_setopt(w->easy, CURLOPT_TCP_NODELAY, 1L);
}

/* What a worker does next after finishing a request. */
static void next_step(struct worker *w,
                      const struct config *c,
                      struct body *bodies,
                      bool sending,
                      double t)
{
	bool poll_due =
	        w->n_pending && (t - w->last_poll >= c->poll_ms / 1000.0 ||
	                         w->n_pending >= MAX_PENDING / 2 || !sending);

	if (c->ack && poll_due) {
		w->last_poll = t;
		start_poll(w, c);
	} else if (sending) {
		start_send(w, c, bodies);
	} else {
		w->phase = IDLE;
	}
}

/* Drive every worker until sending time is over and acks are drained. */
static void run(CURLM *multi,
                const struct config *c,
                struct body *bodies,
                struct stats *st,
                double t_send_end,
                double t_end)
{
	int running = 0, busy = c->connections;

	while (busy > 0 && now_s() < t_end) {
		CURLMsg *m;
		int left;

		curl_multi_perform(multi, &running);
		curl_multi_poll(multi, NULL, 0, 10, NULL);
		while ((m = curl_multi_info_read(multi, &left)) != NULL) {
			struct worker *x;
			long status = 0;
			double t = now_s();

			if (m->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE,
			                  (char **)&x);
			curl_easy_getinfo(m->easy_handle,
			                  CURLINFO_RESPONSE_CODE, &status);
			curl_multi_remove_handle(multi, x->easy);
			if (m->data.result != CURLE_OK)
				st->errors++;
			else if (x->phase == SENDING)
				on_sent(x, c, status, st,
				        &bodies[(x->next_body - 1) % N_BODIES]);
			else
				on_polled(x, c, st);
			next_step(x, c, bodies, t < t_send_end, t);
			if (x->phase == IDLE)
				busy--;
			else
				curl_multi_add_handle(multi, x->easy);
		}
	}
}

int main(int argc, char **argv)
{
	struct config c;
	struct body bodies[N_BODIES];
	struct stats st = {0};
	uint64_t seed = 42;
	long seq = 0;
	CURLM *multi;
	struct worker *w;
	double t0, t_end, t_send_end, elapsed;

	parse(&c, argc, argv);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	for (int i = 0; i < N_BODIES; i++)
		make_body(&bodies[i], &c, &seed, &seq);
	multi = curl_multi_init();
	w = calloc((size_t)c.connections, sizeof(*w));
	for (int i = 0; i < c.connections; i++) {
		worker_init(&w[i], &c, &seed);
		start_send(&w[i], &c, bodies);
		curl_multi_add_handle(multi, w[i].easy);
	}
	t0 = now_s();
	t_send_end = t0 + c.duration;
	t_end = t_send_end + 10; /* drain acks for up to 10 s more */
	run(multi, &c, bodies, &st, t_send_end, t_end);
	elapsed = now_s() - t0;
	if (elapsed > c.duration)
		elapsed = c.duration; /* rates over the sending window */
	printf("connections=%d batch=%d gzip=%d ack=%d duration=%.1fs\n",
	       c.connections, c.batch, c.gzip, c.ack, elapsed);
	printf("requests=%llu errors=%llu polls=%llu\n",
	       (unsigned long long)st.requests, (unsigned long long)st.errors,
	       (unsigned long long)st.polls);
	printf("accepted: %.0f events/s (%.1f MB/s JSON, %.1f MB/s wire)\n",
	       st.events_ok / elapsed, st.raw_bytes / elapsed / 1e6,
	       st.wire_bytes / elapsed / 1e6);
	printf("acknowledged: %llu of %llu events\n",
	       (unsigned long long)st.events_acked,
	       (unsigned long long)st.events_ok);
	printf("{\"events_per_s\":%.0f,\"mb_per_s\":%.2f,\"events\":%llu,"
	       "\"acked\":%llu,\"errors\":%llu,\"avg_event_bytes\":%.0f}\n",
	       st.events_ok / elapsed, st.raw_bytes / elapsed / 1e6,
	       (unsigned long long)st.events_ok,
	       (unsigned long long)st.events_acked,
	       (unsigned long long)st.errors,
	       st.events_ok ? (double)st.raw_bytes / st.events_ok : 0.0);
	for (int i = 0; i < c.connections; i++) {
		curl_multi_remove_handle(multi, w[i].easy);
		curl_easy_cleanup(w[i].easy);
		curl_slist_free_all(w[i].send_hdrs);
		curl_slist_free_all(w[i].poll_hdrs);
	}
	free(w);
	for (int i = 0; i < N_BODIES; i++)
		free(bodies[i].data);
	curl_multi_cleanup(multi);
	curl_global_cleanup();
	return st.errors || st.events_acked < (c.ack ? st.events_ok : 0);
}
