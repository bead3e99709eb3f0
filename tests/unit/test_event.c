/* SPDX-License-Identifier: Apache-2.0 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

#include "event.h"
#include "unit.h"

/* A realistic event as PostgreSQL's jsonb prints it (spaces, keys sorted
 * by length), metadata not last, plus an unknown key. */
static const char good[] =
        "{\"agent\": {\"id\": \"agent-7f3c2a10\", \"name\": \"runner-12\"}, "
        "\"action\": \"egress_blocked\", \"threat\": {\"tactic\": \"TA0010\", "
        "\"technique\": \"T1041\"}, \"outcome\": \"failure\", "
        "\"session\": {\"id\": \"sess-1\", \"user_id\": \"alice@example.com\", "
        "\"tenant_id\": \"acme\", \"environment\": \"production\"}, "
        "\"decision\": {\"guard\": \"egress_allowlist\", \"reason\": "
        "\"not in \\\"allowlist\\\"\\n\", \"allowed\": false, \"severity\": "
        "\"high\"}, \"event_id\": \"7F3C2A10-9b4e-4d2f-a1c3-5e6f7a8b9c0d\", "
        "\"metadata\": {\"rule\": \"deny\", \"tags\": [\"egress\", \"prod\"], "
        "\"latency_ms\": 0.42, \"big\": 123456789012345678901234567890}, "
        "\"resource\": {\"host\": \"paste.example.net\", \"name\": \"x\", "
        "\"path\": \"/up\", \"port\": 443, \"type\": \"network\"}, "
        "\"x_custom\": {\"a\": [1, {\"b\": null}]}, "
        "\"timestamp\": \"2026-03-14T09:26:53.589123+01:00\", "
        "\"event_type\": \"policy_violation\", "
        "\"event_category\": \"network\"}";

static const char minimal[] =
        "{\"event_id\":\"7f3c2a10-9b4e-4d2f-a1c3-5e6f7a8b9c0d\","
        "\"timestamp\":\"2026-03-14T08:26:53Z\",\"event_type\":\"t\","
        "\"decision\":{\"allowed\":true,\"guard\":\"g\",\"severity\":\"info\"}}";

static const char *const all_fields[] = {
        "event_id",  "severity",      "guard",       "decision_allowed",
        "dest_port", "user",          "environment", "mitre_technique",
        "reason",    "resource_type", NULL};

/* Parse text, expecting failure with exactly msg. */
static void expect_bad(const char *text, size_t len, const char *msg)
{
	struct event *ev = (struct event *)1;
	int rc = event_parse(&ev, text, len, EVENT_MAX_BYTES_DEFAULT);

	CHECK_INT(rc, RELAY_EINVAL);
	CHECK(ev == NULL);
	CHECK_STR(relay_error_last(), msg);
	if (rc == 0)
		fprintf(stderr, "  accepted: %.*s\n", (int)len, text);
	event_free(rc == 0 ? ev : NULL);
	/* The jansson path must say the same. */
	rc = event__parse_reference(&ev, text, len, EVENT_MAX_BYTES_DEFAULT);
	CHECK_INT(rc, RELAY_EINVAL);
	CHECK_STR(relay_error_last(), msg);
	if (rc == 0)
		event_free(ev);
}

/*
 * The minimal event with one change: path ("a" or "a.b") set to the JSON
 * text value, or deleted when value is NULL.
 */
static char *variant(const char *path, const char *value)
{
	json_t *root = json_loads(minimal, 0, NULL), *obj = root, *v;
	char key[64];
	const char *dot = strchr(path, '.');
	char *text;

	if (dot) {
		snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
		obj = json_object_get(root, key);
		if (!obj) {
			obj = json_object();
			json_object_set_new(root, key, obj);
		}
		path = dot + 1;
	}
	if (value) {
		v = json_loads(value, JSON_DECODE_ANY, NULL);
		CHECK(v != NULL);
		json_object_set_new(obj, path, v);
	} else {
		json_object_del(obj, path);
	}
	text = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	return text;
}

static void test_event__bad_inputs(void)
{
	static const struct {
		const char *path, *value, *msg;
	} cases[] = {
	        {"event_id", NULL, "event_id: required"},
	        {"event_id", "5", "event_id: must be a UUID string"},
	        {"event_id", "null", "event_id: must be a UUID string"},
	        {"event_id", "\"7f3c2a10-9b4e-4d2f-a1c3-5e6f7a8b9c0\"",
	         "event_id: must be a UUID string"},
	        {"event_id", "\"7f3c2a10-9b4e-4d2f-a1c3-5e6f7a8b9c0g\"",
	         "event_id: must be a UUID string"},
	        {"event_id", "\"7f3c2a10x9b4e-4d2f-a1c3-5e6f7a8b9c0d\"",
	         "event_id: must be a UUID string"},
	        {"event_id", "\"{7f3c2a10-9b4e-4d2f-a1c3-5e6f7a8b9c0d}\"",
	         "event_id: must be a UUID string"},
	        {"timestamp", NULL, "timestamp: required"},
	        {"timestamp", "1710000000",
	         "timestamp: must be an RFC 3339 date-time with a zone offset"},
	        {"timestamp", "\"2026-03-14T08:26:53\"",
	         "timestamp: must be an RFC 3339 date-time with a zone offset"},
	        {"event_type", NULL, "event_type: required"},
	        {"event_type", "\"\"",
	         "event_type: must be a non-empty string"},
	        {"event_type", "7", "event_type: must be a non-empty string"},
	        {"decision", NULL, "decision: required"},
	        {"decision", "[]", "decision: must be an object"},
	        {"decision", "null", "decision: must be an object"},
	        {"decision.allowed", NULL, "decision.allowed: required"},
	        {"decision.allowed", "\"true\"",
	         "decision.allowed: must be a boolean"},
	        {"decision.allowed", "1",
	         "decision.allowed: must be a boolean"},
	        {"decision.guard", NULL, "decision.guard: required"},
	        {"decision.guard", "null", "decision.guard: must be a string"},
	        {"decision.severity", NULL, "decision.severity: required"},
	        {"decision.severity", "\"High\"",
	         "decision.severity: must be one of info, low, medium, high, "
	         "critical"},
	        {"decision.severity", "3",
	         "decision.severity: must be one of info, low, medium, high, "
	         "critical"},
	        {"event_category", "1", "event_category: must be a string"},
	        {"outcome", "null", "outcome: must be a string"},
	        {"action", "{}", "action: must be a string"},
	        {"agent", "\"a\"", "agent: must be an object"},
	        {"session", "[]", "session: must be an object"},
	        {"threat", "null", "threat: must be an object"},
	        {"resource", "1", "resource: must be an object"},
	        {"metadata", "\"m\"", "metadata: must be an object"},
	        {"decision.reason", "1", "decision.reason: must be a string"},
	        {"agent.id", "1", "agent.id: must be a string"},
	        {"agent.name", "null", "agent.name: must be a string"},
	        {"session.id", "{}", "session.id: must be a string"},
	        {"session.user_id", "[]", "session.user_id: must be a string"},
	        {"session.tenant_id", "true",
	         "session.tenant_id: must be a string"},
	        {"session.environment", "1",
	         "session.environment: must be a string"},
	        {"threat.tactic", "1", "threat.tactic: must be a string"},
	        {"threat.technique", "1", "threat.technique: must be a string"},
	        {"resource.type", "1", "resource.type: must be a string"},
	        {"resource.name", "1", "resource.name: must be a string"},
	        {"resource.path", "1", "resource.path: must be a string"},
	        {"resource.host", "1", "resource.host: must be a string"},
	        {"resource.port", "\"443\"",
	         "resource.port: must be an integer from 0 to 65535"},
	        {"resource.port", "65536",
	         "resource.port: must be an integer from 0 to 65535"},
	        {"resource.port", "-1",
	         "resource.port: must be an integer from 0 to 65535"},
	        {"resource.port", "443.0",
	         "resource.port: must be an integer from 0 to 65535"},
	        {"resource.port", "null",
	         "resource.port: must be an integer from 0 to 65535"},
	};
	char msg[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text = variant(cases[i].path, cases[i].value);

		snprintf(msg, sizeof(msg), "invalid event: %s", cases[i].msg);
		expect_bad(text, strlen(text), msg);
		free(text);
	}
}

static void test_event__order_of_checks(void)
{
	/* Several problems: the first in the documented order wins. */
	static const char t1[] = "{\"decision\":1,\"event_type\":\"\","
	                         "\"timestamp\":\"x\",\"event_id\":\"y\"}";
	static const char t2[] =
	        "{\"event_id\":\"7f3c2a10-9b4e-4d2f-a1c3-5e6f7a8b9c0d\","
	        "\"timestamp\":\"2026-03-14T08:26:53Z\",\"event_type\":\"t\","
	        "\"resource\":{\"port\":-1},\"agent\":{\"id\":1},"
	        "\"outcome\":2,\"metadata\":[],"
	        "\"decision\":{\"allowed\":true,\"guard\":\"g\","
	        "\"severity\":\"low\"}}";

	expect_bad(t1, sizeof(t1) - 1,
	           "invalid event: event_id: must be a UUID string");
	expect_bad(t2, sizeof(t2) - 1,
	           "invalid event: outcome: must be a string");
	expect_bad("{}", 2, "invalid event: event_id: required");
}

static void test_event__not_json(void)
{
	struct event *ev;

	expect_bad("[]", 2, "invalid event: (event): must be a JSON object");
	expect_bad(" 5 ", 3, "invalid event: (event): must be a JSON object");
	expect_bad("\"x\"", 3, "invalid event: (event): must be a JSON object");
	expect_bad("null", 4, "invalid event: (event): must be a JSON object");
	expect_bad("{", 1,
	           "invalid event: (event): not valid JSON: string or '}' "
	           "expected near end of file at line 1 column 1");
	expect_bad("{\"a\":1}x", 8,
	           "invalid event: (event): not valid JSON: end of file "
	           "expected near 'x' at line 1 column 8");
	expect_bad(
	        "{\"a\":\"\\u0000\"}", 14,
	        "invalid event: (event): not valid JSON: \\u0000 is not "
	        "allowed without JSON_ALLOW_NUL near '\"\\u0000\"' at line 1 "
	        "column 13");
	CHECK_INT(event_parse(&ev, "", 0, 0), RELAY_EINVAL);
	CHECK_CONTAINS(relay_error_last(),
	               "invalid event: (event): not valid JSON: ");
	CHECK_INT(event_parse(&ev, "{\"a\":01}", 8, 0), RELAY_EINVAL);
	CHECK_CONTAINS(relay_error_last(),
	               "invalid event: (event): not valid JSON: ");
	CHECK_INT(event_parse(&ev, "{\"a\":\"\xc0\xaf\"}", 10, 0),
	          RELAY_EINVAL);
	CHECK_CONTAINS(relay_error_last(),
	               "invalid event: (event): not valid JSON: ");
	CHECK_INT(event_parse(&ev, "{\"a\":\"\\ud800\"}", 14, 0), RELAY_EINVAL);
	CHECK_CONTAINS(relay_error_last(),
	               "invalid event: (event): not valid JSON: ");
}

static void test_event__size_limit(void)
{
	struct event *ev;

	CHECK_INT(event_parse(&ev, minimal, sizeof(minimal) - 1, 50),
	          RELAY_EINVAL);
	CHECK(ev == NULL);
	CHECK_STR(relay_error_last(), "invalid event: (event): 161 bytes "
	                              "exceeds the 50 byte limit");
	CHECK_INT(sizeof(minimal) - 1, 161);
	CHECK_INT(event_parse(&ev, minimal, sizeof(minimal) - 1, 161), 0);
	event_free(ev);
}

/* Milliseconds of an event with this timestamp, or INT64_MIN if refused. */
static int64_t ts_ms(const char *ts)
{
	char value[128];
	char *text;
	struct event *ev;
	int64_t ms = INT64_MIN;

	snprintf(value, sizeof(value), "\"%s\"", ts);
	text = variant("timestamp", value);
	if (event_parse(&ev, text, strlen(text), 0) == 0) {
		ms = event_time_ms(ev);
		event_free(ev);
	} else {
		CHECK_STR(relay_error_last(),
		          "invalid event: timestamp: must be an RFC 3339 "
		          "date-time with a zone offset");
	}
	free(text);
	return ms;
}

static void test_event__timestamps(void)
{
	static const struct {
		const char *ts;
		int64_t ms;
	} ok[] = {
	        {"1970-01-01T00:00:00Z", 0},
	        {"1970-01-01T00:00:00+00:00", 0},
	        {"1970-01-01T00:00:00-00:00", 0},
	        {"1970-01-01t00:00:00z", 0},
	        {"1970-01-01 00:00:00.001Z", 1},
	        {"1970-01-01T01:00:00+01:00", 0},
	        {"2026-03-14T09:26:53.589+01:00", 1773476813589},
	        {"2026-03-14T09:26:53.5899999+01:00", 1773476813589},
	        {"2026-03-14T09:26:53.5+01:00", 1773476813500},
	        {"2026-03-14T09:26:53.05+01:00", 1773476813050},
	        {"2024-02-29T23:59:59.999-23:59", 1709337539999},
	        {"2000-02-29T00:00:00Z", 951782400000},
	        {"1969-12-31T23:59:59.5Z", -500},
	        {"9999-12-31T23:59:59.999Z", 253402300799999},
	        {"0001-01-01T00:00:00Z", -62135596800000},
	        {"2016-12-31T23:59:60Z", 1483228800000},
	};
	static const char *const bad[] = {
	        "2023-02-29T00:00:00Z", /* not a leap year */
	        "1900-02-29T00:00:00Z", /* century, not leap */
	        "2024-04-31T00:00:00Z", /* April has 30 days */
	        "2024-13-01T00:00:00Z",
	        "2024-00-01T00:00:00Z",
	        "2024-01-00T00:00:00Z",
	        "2024-01-01T24:00:00Z",
	        "2024-01-01T00:60:00Z",
	        "2024-01-01T00:00:61Z",
	        "2024-01-01T00:00:00+24:00",
	        "2024-01-01T00:00:00+01:60",
	        "2024-01-01T00:00:00",
	        "2024-01-01T00:00:00.Z",
	        "2024-01-01T00:00:00+0100",
	        "2024-01-01T00:00:00+01",
	        "2024-01-01X00:00:00Z",
	        "2024-1-01T00:00:00Z",
	        "2024-01-01T00:00:00ZZ",
	        "2024-01-01T00:00:00 Z",
	        " 2024-01-01T00:00:00Z",
	        "2024-01-01",
	        "",
	        "+2024-01-01T00:00:00Z",
	        "2024-01-01T0a:00:00Z",
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		int64_t ms = ts_ms(ok[i].ts);

		if (ms != ok[i].ms)
			fprintf(stderr, "  %s\n", ok[i].ts);
		CHECK_INT(ms, ok[i].ms);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t ms = ts_ms(bad[i]);

		if (ms != INT64_MIN)
			fprintf(stderr, "  accepted %s\n", bad[i]);
		CHECK(ms == INT64_MIN);
	}
}

static void test_event__accessors(void)
{
	const char *const *names = event_field_names();
	struct event *ev;
	size_t n = 0;

	CHECK_INT(event_parse(&ev, good, sizeof(good) - 1, 0), 0);
	CHECK_INT(event_severity(ev), EVENT_SEV_HIGH);
	CHECK_STR(event_id_str(ev), "7F3C2A10-9b4e-4d2f-a1c3-5e6f7a8b9c0d");
	CHECK_INT(event_time_ms(ev), 1773476813589);
	CHECK_STR(event_field(ev, "event_id"),
	          "7F3C2A10-9b4e-4d2f-a1c3-5e6f7a8b9c0d");
	CHECK_STR(event_field(ev, "event_type"), "policy_violation");
	CHECK_STR(event_field(ev, "event_category"), "network");
	CHECK_STR(event_field(ev, "outcome"), "failure");
	CHECK_STR(event_field(ev, "agent_id"), "agent-7f3c2a10");
	CHECK_STR(event_field(ev, "session_id"), "sess-1");
	CHECK_STR(event_field(ev, "user"), "alice@example.com");
	CHECK_STR(event_field(ev, "tenant_id"), "acme");
	CHECK_STR(event_field(ev, "environment"), "production");
	CHECK_STR(event_field(ev, "decision_allowed"), "false");
	CHECK_STR(event_field(ev, "guard"), "egress_allowlist");
	CHECK_STR(event_field(ev, "severity"), "high");
	CHECK_STR(event_field(ev, "reason"), "not in \"allowlist\"\n");
	CHECK_STR(event_field(ev, "resource_type"), "network");
	CHECK_STR(event_field(ev, "resource_name"), "x");
	CHECK_STR(event_field(ev, "resource_path"), "/up");
	CHECK_STR(event_field(ev, "dest_host"), "paste.example.net");
	CHECK_STR(event_field(ev, "dest_port"), "443");
	CHECK_STR(event_field(ev, "mitre_tactic"), "TA0010");
	CHECK_STR(event_field(ev, "mitre_technique"), "T1041");
	CHECK_STR(event_field_getter("severity", ev), "high");
	CHECK(event_field(ev, "nope") == NULL);
	CHECK(event_field(ev, "") == NULL);
	CHECK(event_field(ev, NULL) == NULL);
	for (; names[n]; n++)
		CHECK(event_field(ev, names[n]) != NULL);
	CHECK_INT(n, 20);
	event_free(ev);

	CHECK_INT(event_parse(&ev, minimal, sizeof(minimal) - 1, 0), 0);
	CHECK_INT(event_severity(ev), EVENT_SEV_INFO);
	CHECK(event_field(ev, "dest_port") == NULL);
	CHECK(event_field(ev, "user") == NULL);
	CHECK_STR(event_field(ev, "decision_allowed"), "true");
	event_free(ev);
	event_free(NULL);
}

static void test_event__envelope_round_trip(void)
{
	struct envelope_opts opts = {
	        .host = "relay-\"1\"",
	        .source = "clawdstrike",
	        .sourcetype = "clawdstrike:security",
	        .index = "security",
	        .indexed_fields = all_fields,
	};
	static const char *const order[] = {
	        "agent",    "action",    "threat",     "outcome",
	        "session",  "decision",  "event_id",   "resource",
	        "x_custom", "timestamp", "event_type", "event_category",
	        "metadata",
	};
	struct event *ev;
	struct buf b;
	json_t *env, *e, *f;
	json_error_t err;
	void *it;
	size_t i = 0;

	buf_init(&b, 0);
	CHECK_INT(event_parse(&ev, good, sizeof(good) - 1, 0), 0);
	CHECK_INT(event_format_envelope(ev, &opts, &b), 0);
	CHECK(strchr(b.data, '\n') == NULL);
	CHECK(strncmp(b.data, "{\"time\":1773476813.589,\"host\":", 30) == 0);
	/* Numbers are kept as written, even past int64. */
	CHECK_CONTAINS(b.data, "\"latency_ms\":0.42,");
	CHECK_CONTAINS(b.data, "\"big\":123456789012345678901234567890}");
	/* (jansson needs INT_AS_REAL for "big") */
	env = json_loadb(b.data, b.len, JSON_DECODE_INT_AS_REAL, &err);
	CHECK(env != NULL);
	if (!env) {
		fprintf(stderr, "  %s: %s\n", err.text, b.data);
		goto out;
	}
	CHECK(json_is_real(json_object_get(env, "time")));
	CHECK_STR(json_string_value(json_object_get(env, "host")),
	          "relay-\"1\"");
	CHECK_STR(json_string_value(json_object_get(env, "index")), "security");
	CHECK_INT(json_object_size(env), 7);
	e = json_object_get(env, "event");
	for (it = json_object_iter(e); it; it = json_object_iter_next(e, it))
		CHECK_STR(json_object_iter_key(it), order[i++]);
	CHECK_INT(i, 13);
	CHECK_STR(json_string_value(json_object_get(
	                  json_object_get(e, "decision"), "reason")),
	          "not in \"allowlist\"\n");
	CHECK(json_is_null(json_object_get(
	        json_array_get(
	                json_object_get(json_object_get(e, "x_custom"), "a"),
	                1),
	        "b")));
	f = json_object_get(env, "fields");
	CHECK_INT(json_object_size(f), 10);
	CHECK_STR(json_string_value(json_object_get(f, "dest_port")), "443");
	CHECK_STR(json_string_value(json_object_get(f, "decision_allowed")),
	          "false");
	CHECK_STR(json_string_value(json_object_get(f, "reason")),
	          "not in \"allowlist\"\n");
	CHECK_STR(json_string_value(json_object_get(f, "environment")),
	          "production");
	json_decref(env);
out:
	event_free(ev);
	buf_dispose(&b);
}

static void test_event__envelope_optional_parts(void)
{
	static const char *const absent[] = {"user", "dest_port", NULL};
	struct envelope_opts opts = {.host = "h", .sourcetype = "st"};
	struct event *ev;
	struct buf b;

	buf_init(&b, 0);
	CHECK_INT(event_parse(&ev, minimal, sizeof(minimal) - 1, 0), 0);
	/* No source, no index, no fields. */
	CHECK_INT(event_format_envelope(ev, &opts, &b), 0);
	CHECK_STR(b.data, "{\"time\":1773476813.000,\"host\":\"h\","
	                  "\"sourcetype\":\"st\",\"event\":{\"event_id\":"
	                  "\"7f3c2a10-9b4e-4d2f-a1c3-5e6f7a8b9c0d\","
	                  "\"timestamp\":\"2026-03-14T08:26:53Z\","
	                  "\"event_type\":\"t\",\"decision\":{\"allowed\":"
	                  "true,\"guard\":\"g\",\"severity\":\"info\"}}}");
	/* Empty index omitted; fields that the event lacks are skipped. */
	buf_reset(&b);
	opts.index = "";
	opts.indexed_fields = absent;
	CHECK_INT(event_format_envelope(ev, &opts, &b), 0);
	CHECK(strstr(b.data, "index") == NULL);
	CHECK(strstr(b.data, "fields") == NULL);
	event_free(ev);

	/* Control characters in metadata strings are escaped. */
	buf_reset(&b);
	opts.host = "a\x01\tb\\";
	CHECK_INT(event_parse(&ev, minimal, sizeof(minimal) - 1, 0), 0);
	CHECK_INT(event_format_envelope(ev, &opts, &b), 0);
	CHECK_CONTAINS(b.data, "\"host\":\"a\\u0001\\tb\\\\\"");
	event_free(ev);
	buf_dispose(&b);
}

static void test_event__negative_time(void)
{
	char *text = variant("timestamp", "\"1969-12-31T23:59:59.5Z\"");
	struct envelope_opts opts = {0};
	struct event *ev;
	struct buf b;

	buf_init(&b, 0);
	CHECK_INT(event_parse(&ev, text, strlen(text), 0), 0);
	CHECK_INT(event_format_envelope(ev, &opts, &b), 0);
	CHECK(strncmp(b.data, "{\"time\":-0.500,\"event\":{", 24) == 0);
	event_free(ev);
	buf_dispose(&b);
	free(text);
}

static void test_event__efull(void)
{
	struct envelope_opts opts = {
	        .host = "h",
	        .source = "s",
	        .sourcetype = "st",
	        .index = "i",
	        .indexed_fields = all_fields,
	};
	struct event *ev;
	struct buf b;
	size_t full;

	CHECK_INT(event_parse(&ev, good, sizeof(good) - 1, 0), 0);
	buf_init(&b, 0);
	CHECK_INT(event_format_envelope(ev, &opts, &b), 0);
	full = b.len;
	buf_dispose(&b);

	/* Every cap short of the whole envelope: EFULL, buffer unchanged. */
	for (size_t cap = 5; cap < 5 + full; cap++) {
		buf_init(&b, cap);
		CHECK_INT(buf_puts(&b, "prev\n"), 0);
		CHECK_INT(event_format_envelope(ev, &opts, &b), RELAY_EFULL);
		CHECK_INT(b.len, 5);
		CHECK_STR(b.data, "prev\n");
		buf_dispose(&b);
	}
	buf_init(&b, 5 + full);
	CHECK_INT(buf_puts(&b, "prev\n"), 0);
	CHECK_INT(event_format_envelope(ev, &opts, &b), 0);
	CHECK_INT(b.len, 5 + full);
	buf_dispose(&b);
	event_free(ev);
}

/* Both paths accept text and agree on everything. */
static void check_paths_agree(const char *text)
{
	struct envelope_opts opts = {.host = "h", .indexed_fields = all_fields};
	struct event *a, *b;
	struct buf ba, bb;
	json_t *ja, *jb;

	CHECK_INT(event_parse(&a, text, strlen(text), 0), 0);
	CHECK_INT(event__parse_reference(&b, text, strlen(text), 0), 0);
	if (!a || !b) {
		fprintf(stderr, "  %s: %s\n", text, relay_error_last());
		event_free(a);
		event_free(b);
		return;
	}
	buf_init(&ba, 0);
	buf_init(&bb, 0);
	CHECK_INT(event_format_envelope(a, &opts, &ba), 0);
	CHECK_INT(event_format_envelope(b, &opts, &bb), 0);
	ja = json_loads(ba.data, 0, NULL);
	jb = json_loads(bb.data, 0, NULL);
	CHECK(ja && jb && json_equal(ja, jb));
	json_decref(ja);
	json_decref(jb);
	CHECK_INT(event_time_ms(a), event_time_ms(b));
	for (const char *const *n = event_field_names(); *n; n++) {
		const char *x = event_field(a, *n), *y = event_field(b, *n);

		CHECK((!x && !y) || (x && y && strcmp(x, y) == 0));
	}
	buf_dispose(&ba);
	buf_dispose(&bb);
	event_free(a);
	event_free(b);
}

static void test_event__fast_and_reference_agree(void)
{
	static const char big[] = ", \"big\": 123456789012345678901234567890";
	char *text = strdup(good), *p = strstr(text, big);

	/* jansson refuses integers past int64: compare without it. */
	CHECK(p != NULL);
	memmove(p, p + sizeof(big) - 1, strlen(p + sizeof(big) - 1) + 1);
	check_paths_agree(text);
	free(text);
	check_paths_agree(minimal);
	/* Escapes and non-ASCII in known strings are decoded. */
	text = variant("session.user_id",
	               "\"\\u00e9l\\u00E8ve \\ud83d\\ude00 "
	               "caf\xc3\xa9 \\/ \\\\ \\b\\f\\r\\t\"");
	check_paths_agree(text);
	free(text);
	/* Duplicate known key: last wins (the jansson path), like jsonb. */
	check_paths_agree(
	        "{\"event_id\":5,\"event_id\":"
	        "\"7f3c2a10-9b4e-4d2f-a1c3-5e6f7a8b9c0d\","
	        "\"timestamp\":\"2026-03-14T08:26:53Z\",\"event_type\":\"t\","
	        "\"metadata\":{\"k\":1},\"decision\":{\"allowed\":true,"
	        "\"guard\":\"g\",\"severity\":\"info\",\"severity\":\"low\"}}");
	/* An escaped key that spells a known one. */
	check_paths_agree(
	        "{\"event_\\u0069d\":\"7f3c2a10-9b4e-4d2f-a1c3-5e6f7a8b9c0d\","
	        "\"timestamp\":\"2026-03-14T08:26:53Z\",\"event_type\":\"t\","
	        "\"decision\":{\"allowed\":true,\"guard\":\"g\","
	        "\"severity\":\"info\"}}");
	/* Whitespace of every kind. */
	check_paths_agree(
	        " \t\r\n{ \"event_id\" :\t\"7f3c2a10-9b4e-4d2f-a1c3-5e6f7a8b9c0d\""
	        " , \"timestamp\"\n:\"2026-03-14T08:26:53Z\",\"event_type\":\"t\","
	        "\"metadata\" : { } , \"x\" : [ 1 , -2.5e+3 , true , false , null"
	        " , { } ] ,"
	        "\"decision\":{\"allowed\":true,\"guard\":\"g\","
	        "\"severity\":\"info\"}} \n");
}

static void test_event__escaped_key_spelling_metadata(void)
{
	/* The fast path must not miss "metadata" spelled with an escape. */
	static const char text[] =
	        "{\"meta\\u0064ata\":{},\"event_id\":"
	        "\"7f3c2a10-9b4e-4d2f-a1c3-5e6f7a8b9c0d\","
	        "\"timestamp\":\"2026-03-14T08:26:53Z\",\"event_type\":\"t\","
	        "\"decision\":{\"allowed\":true,\"guard\":\"g\","
	        "\"severity\":\"info\"}}";
	struct envelope_opts opts = {0};
	struct event *ev;
	struct buf b;

	buf_init(&b, 0);
	CHECK_INT(event_parse(&ev, text, sizeof(text) - 1, 0), 0);
	CHECK_INT(event_format_envelope(ev, &opts, &b), 0);
	CHECK_CONTAINS(b.data, "},\"metadata\":{}}}");
	event_free(ev);
	buf_dispose(&b);
}

static void test_event__large(void)
{
	/* Past the stack scratch sizes of parse (4 KiB) and format (8 KiB). */
	static const char *const fields[] = {"reason", NULL};
	struct envelope_opts opts = {.indexed_fields = fields};
	size_t n = 20000;
	char *value = malloc(n + 3), *text;
	struct event *ev;
	struct buf b;
	json_t *env;

	/* Quotes, backslashes and control bytes, escaped by jansson. */
	for (size_t i = 0; i < n; i++)
		value[i] = "ab\"\\\001cd"[i % 7];
	env = json_stringn(value, n);
	free(value);
	value = json_dumps(env, JSON_ENCODE_ANY);
	json_decref(env);
	text = variant("decision.reason", value);
	buf_init(&b, 0);
	CHECK_INT(event_parse(&ev, text, strlen(text), 0), 0);
	CHECK_INT(event_format_envelope(ev, &opts, &b), 0);
	env = json_loads(b.data, 0, NULL);
	CHECK(env != NULL);
	CHECK_INT(strlen(json_string_value(json_object_get(
	                  json_object_get(env, "fields"), "reason"))),
	          n);
	json_decref(env);
	check_paths_agree(text);
	event_free(ev);
	buf_dispose(&b);
	free(value);
	free(text);
}

int main(void)
{
	UNIT_RUN(test_event__bad_inputs);
	UNIT_RUN(test_event__order_of_checks);
	UNIT_RUN(test_event__not_json);
	UNIT_RUN(test_event__size_limit);
	UNIT_RUN(test_event__timestamps);
	UNIT_RUN(test_event__accessors);
	UNIT_RUN(test_event__envelope_round_trip);
	UNIT_RUN(test_event__envelope_optional_parts);
	UNIT_RUN(test_event__negative_time);
	UNIT_RUN(test_event__efull);
	UNIT_RUN(test_event__fast_and_reference_agree);
	UNIT_RUN(test_event__escaped_key_spelling_metadata);
	UNIT_RUN(test_event__large);
	return unit_finish();
}
