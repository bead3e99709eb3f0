/* SPDX-License-Identifier: Apache-2.0 */
/*
 * route: the condition language of `exporters.splunk.routing` rules.
 *
 * A rule's condition chooses the index/sourcetype of an event.  The language
 * is deliberately small, so a typo is a load-time error rather than a rule
 * that silently never matches:
 *
 *   condition  := 'default' | expr
 *   expr       := and_expr { 'or' and_expr }
 *   and_expr   := not_expr { 'and' not_expr }
 *   not_expr   := 'not' not_expr | primary
 *   primary    := '(' expr ')' | 'true' | 'false' | comparison
 *   comparison := FIELD ( '==' | '!=' ) value
 *               | FIELD [ 'not' ] 'in' '[' value { ',' value } [ ',' ] ']'
 *   value      := 'single quoted' | "double quoted" | true | false | INTEGER
 *
 * FIELD is a Splunk field name from route_fields[] (the seed's "Splunk Field
 * Mappings" plus `environment`).  String fields compare with quoted strings
 * (a backslash escapes the quote character or a backslash), boolean fields
 * (decision_allowed) with true/false, number fields (dest_port) with
 * integers.  `severity` values must be one of info|low|medium|high|critical.
 * Comparison is exact and case-sensitive.  An absent field (getter returns
 * NULL) equals nothing: `==` and `in` are false, `!=` and `not in` are true.
 * `and` binds tighter than `or`; `not` tighter than both.  `default` matches
 * everything and may only stand alone (the config allows it only in the last
 * rule).  Nesting is limited to ROUTE_MAX_DEPTH and the text to
 * ROUTE_MAX_TEXT bytes.
 *
 * Pure: no I/O, no clock, no globals; evaluation reads fields through the
 * caller's getter.
 */
#ifndef RELAY_ROUTE_H
#define RELAY_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

#define ROUTE_MAX_DEPTH 32
#define ROUTE_MAX_TEXT 4096

enum route_type { ROUTE_STRING, ROUTE_BOOL, ROUTE_NUMBER };

/* One Splunk field: its name, where it comes from in the event, its type. */
struct route_field {
	const char *name; /* Splunk field name, e.g. "severity" */
	const char *path; /* dotted path in the event, "decision.severity" */
	enum route_type type;
	bool top_level; /* also a top-level key of the event JSON */
};

/*
 * The Splunk field catalogue (seed "Splunk Field Mappings", minus `_time`,
 * plus `environment` = session.environment), in table order.
 */
extern const struct route_field route_fields[];
extern const size_t route_nfields;

/* The catalogue entry named name, or NULL. */
const struct route_field *route_field_find(const char *name);

/*
 * Getter: the string value of Splunk field `field` in the event at hand, or
 * NULL when the event has no such field.  Booleans are "true"/"false",
 * numbers their decimal text.
 */
typedef const char *(*route_get_fn)(const char *field, void *arg);

struct route_expr;

/*
 * Compile text into *out (caller frees with route_free).  On error returns
 * RELAY_EINVAL with a message such as
 * "column 12: expected a quoted string after '=='".
 */
int route_compile(struct route_expr **out, const char *text) RELAY_MUSTCHECK;

/* Evaluate e for one event; never fails. */
bool route_eval(const struct route_expr *e, route_get_fn get, void *arg);

/* True when e is the `default` condition. */
bool route_is_default(const struct route_expr *e);

/* NULL-safe. */
void route_free(struct route_expr *e);

#endif
