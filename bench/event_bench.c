/* SPDX-License-Identifier: Apache-2.0 */
/*
 * event_bench: CPU cost of event_parse + event_format_envelope (+ free) on
 * a realistic event carrying every seed field, as PostgreSQL's jsonb prints
 * it (spaces after ':' and ',', keys in jsonb order, metadata not last).
 * Also shows the jansson reference path for comparison.
 *
 *   cmake --build build --target event_bench && build/bench/event_bench [N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "event.h"

static const char event_json[] =
        "{\"agent\": {\"id\": \"agent-7f3c2a10\", \"name\": "
        "\"claude-code-prod-runner-12\"}, \"action\": \"egress_blocked\", "
        "\"threat\": {\"tactic\": \"TA0010\", \"technique\": \"T1041\"}, "
        "\"outcome\": \"failure\", \"session\": {\"id\": "
        "\"sess-4d2f-a1c3-5e6f7a8b\", \"user_id\": \"alice@example.com\", "
        "\"tenant_id\": \"tenant-acme-prod\", \"environment\": "
        "\"production\"}, \"decision\": {\"guard\": \"egress_allowlist\", "
        "\"reason\": \"Destination host not in egress allowlist for this "
        "policy\", \"allowed\": false, \"severity\": \"high\"}, \"event_id\": "
        "\"7f3c2a10-9b4e-4d2f-a1c3-5e6f7a8b9c0d\", \"metadata\": {\"rule\": "
        "\"deny-unlisted-hosts\", \"tags\": [\"egress\", \"prod\"], "
        "\"policy_id\": \"pol-egress-default\", \"latency_ms\": 0.42, "
        "\"policy_version\": 17}, \"resource\": {\"host\": "
        "\"paste.example.net\", \"name\": \"exfil-endpoint\", \"path\": "
        "\"/upload/v2/blob\", \"port\": 443, \"type\": \"network\"}, "
        "\"timestamp\": \"2026-03-14T09:26:53.589+01:00\", \"event_type\": "
        "\"policy_violation\", \"event_category\": \"network\"}";

static const char *const indexed[] = {
        "event_id",
        "event_type",
        "event_category",
        "outcome",
        "agent_id",
        "session_id",
        "user",
        "tenant_id",
        "decision_allowed",
        "guard",
        "severity",
        "resource_type",
        "resource_name",
        "resource_path",
        "dest_host",
        "dest_port",
        "mitre_tactic",
        "mitre_technique",
        "environment",
        NULL,
};

typedef int (*parse_fn)(struct event **, const char *, size_t, size_t);

static double cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Mean CPU microseconds per event; parse and/or format. */
static double run(parse_fn parse, long n, int do_format, size_t *bytes)
{
	struct envelope_opts opts = {
	        .host = "relay-1.example.com",
	        .source = "clawdstrike",
	        .sourcetype = "clawdstrike:security",
	        .index = "security",
	        .indexed_fields = indexed,
	};
	struct event *ev;
	struct buf b;
	double t0;

	buf_init(&b, 0);
	t0 = cpu_ns();
	for (long i = 0; i < n; i++) {
		if (parse(&ev, event_json, sizeof(event_json) - 1,
		          EVENT_MAX_BYTES_DEFAULT)) {
			fprintf(stderr, "parse: %s\n", relay_error_last());
			exit(1);
		}
		if (do_format) {
			buf_reset(&b);
			if (event_format_envelope(ev, &opts, &b))
				exit(1);
		}
		event_free(ev);
	}
	t0 = (cpu_ns() - t0) / (double)n / 1000.0;
	*bytes = b.len;
	buf_dispose(&b);
	return t0;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 200000;
	size_t out = 0;
	double parse, full, ref;

	if (n <= 0)
		n = 200000;
	/* Best of five rounds: the machine is shared, noise only adds. */
	run(event_parse, n / 10 + 1, 1, &out); /* warm up */
	parse = full = ref = 1e9;
	for (int r = 0; r < 5; r++) {
		double t = run(event_parse, n / 5 + 1, 0, &out);

		parse = t < parse ? t : parse;
		t = run(event_parse, n / 5 + 1, 1, &out);
		full = t < full ? t : full;
		t = run(event__parse_reference, n / 100 + 1, 1, &out);
		ref = t < ref ? t : ref;
	}
	printf("event: %zu bytes in, envelope %zu bytes out, %ld iterations (best of 5 rounds)\n",
	       sizeof(event_json) - 1, out, n);
	printf("parse+validate+free:          %.3f us/event\n", parse);
	printf("parse+validate+format+free:   %.3f us/event (%.0f events/s)\n",
	       full, 1e6 / full);
	printf("jansson reference path, same: %.3f us/event\n", ref);
	return 0;
}
