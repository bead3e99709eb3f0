/* SPDX-License-Identifier: Apache-2.0 */
#include <stdint.h>
#include <stdlib.h>

#include "route.h"
#include "unit.h"

/* An event as name=value pairs; NULL-terminated. */
struct ev {
	const char *kv[16][2];
};

static const char *get(const char *field, void *arg)
{
	const struct ev *e = arg;

	for (int i = 0; e->kv[i][0]; i++)
		if (strcmp(e->kv[i][0], field) == 0)
			return e->kv[i][1];
	return NULL;
}

/* Compile text and evaluate it on e; -1 if it does not compile. */
static int run(const char *text, const struct ev *e)
{
	struct route_expr *x = NULL;
	int r;

	if (route_compile(&x, text) != 0) {
		fprintf(stderr, "unexpected compile error for <%s>: %s\n", text,
		        relay_error_last());
		return -1;
	}
	r = route_eval(x, get, (void *)(uintptr_t)e) ? 1 : 0;
	route_free(x);
	return r;
}

/* The compile error of text ("" if it compiled). */
static const char *error_of(const char *text)
{
	static char msg[1024];
	struct route_expr *x = NULL;

	msg[0] = '\0';
	if (route_compile(&x, text) == RELAY_EINVAL) {
		snprintf(msg, sizeof(msg), "%s", relay_error_last());
		CHECK(x == NULL);
	} else {
		route_free(x);
	}
	return msg;
}

static const struct ev crit = {{{"severity", "critical"},
                                {"guard", "egress"},
                                {"decision_allowed", "false"},
                                {"dest_port", "443"},
                                {"tenant_id", "acme"},
                                {NULL, NULL}}};
static const struct ev info = {{{"severity", "info"},
                                {"guard", "shell"},
                                {"decision_allowed", "true"},
                                {NULL, NULL}}};
static const struct ev empty = {{{NULL, NULL}}};

static void test_route__equality(void)
{
	CHECK_INT(run("severity == 'critical'", &crit), 1);
	CHECK_INT(run("severity == 'critical'", &info), 0);
	CHECK_INT(run("severity != 'critical'", &crit), 0);
	CHECK_INT(run("severity != 'critical'", &info), 1);
	CHECK_INT(run("severity == \"critical\"", &crit), 1);
	CHECK_INT(run("decision_allowed == false", &crit), 1);
	CHECK_INT(run("decision_allowed == true", &crit), 0);
	CHECK_INT(run("decision_allowed != true", &info), 0);
	CHECK_INT(run("dest_port == 443", &crit), 1);
	CHECK_INT(run("dest_port == 0443", &crit), 1);
	CHECK_INT(run("dest_port != 80", &crit), 1);
	/* Exact and case-sensitive. */
	CHECK_INT(run("guard == 'Egress'", &crit), 0);
}

static void test_route__absent_field(void)
{
	CHECK_INT(run("tenant_id == 'acme'", &empty), 0);
	CHECK_INT(run("tenant_id != 'acme'", &empty), 1);
	CHECK_INT(run("tenant_id in ['acme']", &empty), 0);
	CHECK_INT(run("tenant_id not in ['acme']", &empty), 1);
	CHECK_INT(run("not tenant_id == 'acme'", &empty), 1);
}

static void test_route__in_lists(void)
{
	CHECK_INT(run("severity in ['critical', 'high']", &crit), 1);
	CHECK_INT(run("severity in ['critical', 'high']", &info), 0);
	CHECK_INT(run("severity in ['high', 'critical',]", &crit), 1);
	CHECK_INT(run("severity not in ['critical', 'high']", &info), 1);
	CHECK_INT(run("severity not in ['critical']", &crit), 0);
	CHECK_INT(run("dest_port in [80, 443]", &crit), 1);
	CHECK_INT(run("decision_allowed in [true]", &info), 1);
}

/* Truth tables of and/or/not over two comparisons a and b. */
static void test_route__connectives(void)
{
	static const struct ev evs[4] = {
	        {{{"guard", "x"}, {"user", "x"}, {NULL, NULL}}}, /* a b */
	        {{{"guard", "x"}, {"user", "y"}, {NULL, NULL}}}, /* a !b */
	        {{{"guard", "y"}, {"user", "x"}, {NULL, NULL}}}, /* !a b */
	        {{{"guard", "y"}, {"user", "y"}, {NULL, NULL}}}, /* !a !b */
	};
	static const int and_t[4] = {1, 0, 0, 0}, or_t[4] = {1, 1, 1, 0};

	for (int i = 0; i < 4; i++) {
		int a = i < 2, b = i % 2 == 0;

		CHECK_INT(run("guard == 'x' and user == 'x'", &evs[i]),
		          and_t[i]);
		CHECK_INT(run("guard == 'x' or user == 'x'", &evs[i]), or_t[i]);
		CHECK_INT(run("not guard == 'x'", &evs[i]), !a);
		CHECK_INT(run("not (guard == 'x' and user == 'x')", &evs[i]),
		          !(a && b));
		CHECK_INT(run("not not user == 'x'", &evs[i]), b);
	}
}

static void test_route__precedence(void)
{
	/* and binds tighter than or: true or (false and false). */
	CHECK_INT(run("true or false and false", &empty), 1);
	CHECK_INT(run("(true or false) and false", &empty), 0);
	/* not binds tighter than and. */
	CHECK_INT(run("not false and false", &empty), 0);
	CHECK_INT(run("not (false and false)", &empty), 1);
	CHECK_INT(run("severity == 'info' or severity == 'critical' and "
	              "guard == 'shell'",
	              &crit),
	          0);
	CHECK_INT(run("(severity == 'info' or severity == 'critical') and "
	              "guard == 'egress'",
	              &crit),
	          1);
	CHECK_INT(run("true", &empty), 1);
	CHECK_INT(run("false", &empty), 0);
	CHECK_INT(run("  ( ( true ) )  ", &empty), 1);
}

static void test_route__default(void)
{
	struct route_expr *x = NULL;

	CHECK_INT(route_compile(&x, "default"), 0);
	CHECK(x && route_is_default(x));
	CHECK(x && route_eval(x, get, (void *)(uintptr_t)&empty));
	route_free(x);
	CHECK_INT(route_compile(&x, "true"), 0);
	CHECK(x && !route_is_default(x));
	route_free(x);
	CHECK_CONTAINS(error_of("default or true"),
	               "column 9: 'default' must be the whole condition");
	CHECK_CONTAINS(error_of("true or default"),
	               "column 9: 'default' must be the whole condition");
}

static void test_route__escapes(void)
{
	static const struct ev q = {
	        {{"resource_path", "it's \\here"}, {NULL, NULL}}};

	CHECK_INT(run("resource_path == 'it\\'s \\\\here'", &q), 1);
	CHECK_INT(run("resource_path == \"it's \\\\here\"", &q), 1);
}

static void test_route__parse_errors(void)
{
	CHECK_STR(error_of("severity == critical"),
	          "column 13: expected a quoted string after '==' (got "
	          "'critical'; quote it: 'critical')");
	CHECK_STR(error_of("severity =="),
	          "column 12: expected a quoted string after '==' (got end of "
	          "condition)");
	CHECK_STR(error_of(""), "column 1: empty condition");
	CHECK_STR(error_of("   "), "column 4: empty condition");
	CHECK_CONTAINS(error_of("severity = 'high'"),
	               "column 10: '=' is not an operator; use '=='");
	CHECK_CONTAINS(error_of("severity == 'high' && guard == 'x'"),
	               "column 20: unexpected '&'; use 'and'");
	CHECK_CONTAINS(error_of("!(true)"), "column 1: '!' is not an operator");
	CHECK_CONTAINS(error_of("severity == 'high"),
	               "column 13: unterminated string");
	CHECK_CONTAINS(error_of("(severity == 'high'"),
	               "column 20: expected ')' to close the '(' at column 1");
	CHECK_CONTAINS(error_of("severity == 'high')"),
	               "column 19: expected 'and', 'or' or end of condition "
	               "(got ')')");
	CHECK_CONTAINS(error_of("severity 'high'"),
	               "column 10: expected '==', '!=', 'in' or 'not in' after "
	               "'severity'");
	CHECK_CONTAINS(error_of("severity in 'high'"),
	               "column 13: expected '[' after 'in'");
	CHECK_CONTAINS(error_of("severity in []"),
	               "column 14: expected a quoted string after '['");
	CHECK_CONTAINS(error_of("severity in ['high' 'low']"),
	               "column 21: expected ',' or ']' in the list");
	CHECK_CONTAINS(error_of("severity not 'high'"),
	               "column 14: expected 'in' after 'severity not'");
	CHECK_CONTAINS(error_of("severity == 'high' guard == 'x'"),
	               "column 20: expected 'and', 'or' or end of condition");
	CHECK_CONTAINS(error_of("and true"), "column 1: expected a field name");
	CHECK_CONTAINS(error_of("true and"),
	               "column 9: expected a field name, 'not', '(', true or "
	               "false (got end of condition)");
	CHECK_CONTAINS(error_of("severity == 'high' @"),
	               "column 20: unexpected character '@'");
	CHECK_CONTAINS(error_of("dest_port == 12ab"),
	               "column 14: malformed number");
	/* Lexing errors right after a finished node (fuzzer find: leak). */
	CHECK_CONTAINS(error_of("(true) 'e"), "column 8: unterminated string");
	CHECK_CONTAINS(error_of("true 'e"), "column 6: unterminated string");
	CHECK_CONTAINS(error_of("guard in ['a'] 'e"),
	               "column 16: unterminated string");
	CHECK_CONTAINS(error_of("severity == 'high'\x01"),
	               "unexpected byte 0x01");
}

static void test_route__type_errors(void)
{
	CHECK_CONTAINS(error_of("decision_allowed == 'true'"),
	               "column 21: expected true or false after '==' "
	               "(decision_allowed is a boolean");
	CHECK_CONTAINS(error_of("dest_port == '443'"),
	               "column 14: expected an integer after '==' (dest_port "
	               "is a number");
	CHECK_CONTAINS(error_of("guard == true"),
	               "expected a quoted string after '=='");
	CHECK_CONTAINS(error_of("severity == 'critcal'"),
	               "column 13: unknown severity 'critcal' (expected one of "
	               "info, low, medium, high, critical)");
	CHECK_CONTAINS(error_of("severity in ['high', 'hgih']"),
	               "unknown severity 'hgih'");
	CHECK_CONTAINS(error_of("dest_port == 99999999999999999999"),
	               "number out of range");
}

static void test_route__unknown_field(void)
{
	const char *e = error_of("sevrity == 'high'");

	CHECK_CONTAINS(e, "column 1: unknown field 'sevrity' (did you mean "
	                  "'severity'?)");
	CHECK_CONTAINS(e, "fields: event_id, event_type");
	CHECK_CONTAINS(e, "environment");
	CHECK_CONTAINS(e, "mitre_technique");
	e = error_of("true and zzzzzzzzzzzz == 'x'");
	CHECK_CONTAINS(e, "column 10: unknown field 'zzzzzzzzzzzz'; fields:");
}

static void test_route__limits(void)
{
	char deep[256], *big;
	size_t n = 0;

	for (int i = 0; i < ROUTE_MAX_DEPTH; i++)
		deep[n++] = '(';
	memcpy(deep + n, "true", 4);
	n += 4;
	for (int i = 0; i < ROUTE_MAX_DEPTH; i++)
		deep[n++] = ')';
	deep[n] = '\0';
	CHECK_INT(run(deep, &empty), 1);
	memmove(deep + 1, deep, n + 1);
	deep[0] = '(';
	strcat(deep, ")");
	CHECK_CONTAINS(error_of(deep), "nested too deeply");

	/* A long flat chain is fine: and/or chains do not deepen the tree. */
	big = calloc(1, ROUTE_MAX_TEXT + 2);
	n = 0;
	while (n + 9 + 4 <= ROUTE_MAX_TEXT) {
		memcpy(big + n, "true and ", 9);
		n += 9;
	}
	memcpy(big + n, "true", 5);
	CHECK_INT(run(big, &empty), 1);
	memset(big, ' ', ROUTE_MAX_TEXT + 1);
	big[ROUTE_MAX_TEXT + 1] = '\0';
	CHECK_CONTAINS(error_of(big), "longer than");
	free(big);
}

static void test_route__fields(void)
{
	CHECK(route_field_find("severity") != NULL);
	CHECK_STR(route_field_find("severity")->path, "decision.severity");
	CHECK_STR(route_field_find("user")->path, "session.user_id");
	CHECK_STR(route_field_find("dest_host")->path, "resource.host");
	CHECK_STR(route_field_find("environment")->path, "session.environment");
	CHECK(route_field_find("event_id")->top_level);
	CHECK(!route_field_find("guard")->top_level);
	CHECK(route_field_find("_time") == NULL);
	CHECK_INT(route_nfields, 20);
}

int main(void)
{
	UNIT_RUN(test_route__equality);
	UNIT_RUN(test_route__absent_field);
	UNIT_RUN(test_route__in_lists);
	UNIT_RUN(test_route__connectives);
	UNIT_RUN(test_route__precedence);
	UNIT_RUN(test_route__default);
	UNIT_RUN(test_route__escapes);
	UNIT_RUN(test_route__parse_errors);
	UNIT_RUN(test_route__type_errors);
	UNIT_RUN(test_route__unknown_field);
	UNIT_RUN(test_route__limits);
	UNIT_RUN(test_route__fields);
	return unit_finish();
}
