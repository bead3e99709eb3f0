/* SPDX-License-Identifier: Apache-2.0 */
/*
 * route: compile and evaluate routing conditions (grammar in route.h).
 *
 * A hand-written lexer and recursive-descent parser build a small tree;
 * `and`/`or` chains become one n-ary node, so only parentheses and `not`
 * deepen the tree and both are capped, which bounds the recursion of the
 * parser and the evaluator whatever the input (the fuzzer relies on it).
 * Values are checked against the field's type at compile time.
 */
#include "route.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/strdist.h"
#include "util/xalloc.h"

/* Table order is the seed's "Splunk Field Mappings" order. */
const struct route_field route_fields[] = {
        {"event_id", "event_id", ROUTE_STRING, true},
        {"event_type", "event_type", ROUTE_STRING, true},
        {"event_category", "event_category", ROUTE_STRING, true},
        {"outcome", "outcome", ROUTE_STRING, true},
        {"agent_id", "agent.id", ROUTE_STRING, false},
        {"session_id", "session.id", ROUTE_STRING, false},
        {"user", "session.user_id", ROUTE_STRING, false},
        {"tenant_id", "session.tenant_id", ROUTE_STRING, false},
        {"environment", "session.environment", ROUTE_STRING, false},
        {"decision_allowed", "decision.allowed", ROUTE_BOOL, false},
        {"guard", "decision.guard", ROUTE_STRING, false},
        {"severity", "decision.severity", ROUTE_STRING, false},
        {"reason", "decision.reason", ROUTE_STRING, false},
        {"resource_type", "resource.type", ROUTE_STRING, false},
        {"resource_name", "resource.name", ROUTE_STRING, false},
        {"resource_path", "resource.path", ROUTE_STRING, false},
        {"dest_host", "resource.host", ROUTE_STRING, false},
        {"dest_port", "resource.port", ROUTE_NUMBER, false},
        {"mitre_tactic", "threat.tactic", ROUTE_STRING, false},
        {"mitre_technique", "threat.technique", ROUTE_STRING, false},
};
const size_t route_nfields = sizeof(route_fields) / sizeof(route_fields[0]);

static const char *const severities[] = {"info", "low", "medium", "high",
                                         "critical"};

enum tok {
	T_END,
	T_IDENT,
	T_STRING,
	T_INT,
	T_LPAREN,
	T_RPAREN,
	T_LBRACK,
	T_RBRACK,
	T_COMMA,
	T_EQ,
	T_NE,
};

enum op { N_CONST, N_AND, N_OR, N_NOT, N_EQ, N_IN };

struct node {
	enum op op;
	bool negate; /* N_EQ: '!=', N_IN: 'not in' */
	bool value;  /* N_CONST */
	const struct route_field *field;
	char **vals; /* N_EQ (one), N_IN */
	size_t nvals;
	struct node **kids; /* N_AND, N_OR, N_NOT (one) */
	size_t nkids;
};

struct route_expr {
	struct node *root;
	bool is_default;
};

struct parser {
	const char *text;
	size_t pos;   /* next byte to lex */
	enum tok tok; /* current token */
	size_t start; /* its offset */
	size_t len;   /* its length in the text */
	char *str;    /* T_STRING: decoded value (owned) */
	int depth;
};

static int perr(const struct parser *p, size_t off, const char *fmt, ...)
        RELAY_PRINTF(3, 4);

static int perr(const struct parser *p, size_t off, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	(void)p;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	relay_error_set("column %zu: %s", off + 1, msg);
	return RELAY_EINVAL;
}

/* ---- fields ----------------------------------------------------------- */

const struct route_field *route_field_find(const char *name)
{
	for (size_t i = 0; i < route_nfields; i++)
		if (strcmp(route_fields[i].name, name) == 0)
			return &route_fields[i];
	return NULL;
}

static int unknown_field(const struct parser *p)
{
	const char *name = p->text + p->start, *best = NULL;
	size_t best_d = 3;
	struct buf list;
	int rc;

	buf_init(&list, 0);
	for (size_t i = 0; i < route_nfields; i++) {
		size_t d = strdist(name, p->len, route_fields[i].name);

		if (d < best_d) {
			best_d = d;
			best = route_fields[i].name;
		}
		if (buf_printf(&list, "%s%s", i ? ", " : "",
		               route_fields[i].name) != 0)
			break;
	}
	if (best)
		rc = perr(
		        p, p->start,
		        "unknown field '%.*s' (did you mean '%s'?); fields: %s",
		        (int)p->len, name, best, list.data);
	else
		rc = perr(p, p->start, "unknown field '%.*s'; fields: %s",
		          (int)p->len, name, list.data);
	buf_dispose(&list);
	return rc;
}

/* ---- lexer ------------------------------------------------------------ */

static bool is_word(const struct parser *p, const char *w)
{
	return p->tok == T_IDENT && strlen(w) == p->len &&
	       memcmp(p->text + p->start, w, p->len) == 0;
}

static int lex_string(struct parser *p)
{
	const char *t = p->text;
	char q = t[p->pos];
	struct buf out;
	size_t i = p->pos + 1;

	buf_init(&out, 0);
	for (;;) {
		char c = t[i];

		if (c == '\0') {
			buf_dispose(&out);
			return perr(p, p->pos, "unterminated string");
		}
		if (c == q)
			break;
		if (c == '\\' && (t[i + 1] == q || t[i + 1] == '\\'))
			c = t[++i];
		if (buf_append(&out, &c, 1) != 0)
			break; /* uncapped buffer: cannot happen */
		i++;
	}
	p->tok = T_STRING;
	p->len = i + 1 - p->pos;
	p->pos = i + 1;
	p->str = buf_take(&out, NULL);
	if (!p->str)
		p->str = xstrdup("");
	return 0;
}

static int lex_punct(struct parser *p)
{
	const char *t = p->text + p->pos;
	unsigned char c = (unsigned char)*t;

	p->len = 1;
	switch (c) {
	case '(':
		p->tok = T_LPAREN;
		break;
	case ')':
		p->tok = T_RPAREN;
		break;
	case '[':
		p->tok = T_LBRACK;
		break;
	case ']':
		p->tok = T_RBRACK;
		break;
	case ',':
		p->tok = T_COMMA;
		break;
	case '=':
		if (t[1] != '=')
			return perr(p, p->pos,
			            "'=' is not an operator; use '=='");
		p->tok = T_EQ;
		p->len = 2;
		break;
	case '!':
		if (t[1] != '=')
			return perr(
			        p, p->pos,
			        "'!' is not an operator; use 'not' or '!='");
		p->tok = T_NE;
		p->len = 2;
		break;
	case '&':
		return perr(p, p->pos, "unexpected '&'; use 'and'");
	case '|':
		return perr(p, p->pos, "unexpected '|'; use 'or'");
	default:
		if (isprint(c))
			return perr(p, p->pos, "unexpected character '%c'", c);
		return perr(p, p->pos, "unexpected byte 0x%02x", c);
	}
	p->pos += p->len;
	return 0;
}

/* Advance to the next token. */
static int next(struct parser *p)
{
	const char *t = p->text;
	unsigned char c;

	free(p->str);
	p->str = NULL;
	while (t[p->pos] == ' ' || t[p->pos] == '\t' || t[p->pos] == '\n' ||
	       t[p->pos] == '\r')
		p->pos++;
	p->start = p->pos;
	c = (unsigned char)t[p->pos];
	if (c == '\0') {
		p->tok = T_END;
		p->len = 0;
		return 0;
	}
	if (isalpha(c) || c == '_') {
		while (isalnum((unsigned char)t[p->pos]) || t[p->pos] == '_')
			p->pos++;
		p->tok = T_IDENT;
		p->len = p->pos - p->start;
		return 0;
	}
	if (isdigit(c)) {
		while (isdigit((unsigned char)t[p->pos]))
			p->pos++;
		if (isalpha((unsigned char)t[p->pos]) || t[p->pos] == '_')
			return perr(p, p->start, "malformed number");
		p->tok = T_INT;
		p->len = p->pos - p->start;
		return 0;
	}
	if (c == '\'' || c == '"')
		return lex_string(p);
	return lex_punct(p);
}

/* A short description of the current token for "expected X (got Y)". */
static const char *got(const struct parser *p, char *buf, size_t size)
{
	if (p->tok == T_END)
		return "end of condition";
	snprintf(buf, size, "'%.*s'", p->len > 40 ? 40 : (int)p->len,
	         p->text + p->start);
	return buf;
}

/* ---- tree ------------------------------------------------------------- */

static void node_free(struct node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->nkids; i++)
		node_free(n->kids[i]);
	for (size_t i = 0; i < n->nvals; i++)
		free(n->vals[i]);
	free(n->kids);
	free(n->vals);
	free(n);
}

static struct node *node_new(enum op op)
{
	struct node *n = xcalloc(1, sizeof(*n));

	n->op = op;
	return n;
}

static void node_add_kid(struct node *n, struct node *kid)
{
	n->kids = xrealloc(n->kids, (n->nkids + 1) * sizeof(*n->kids));
	n->kids[n->nkids++] = kid;
}

static void node_add_val(struct node *n, char *v)
{
	n->vals = xrealloc(n->vals, (n->nvals + 1) * sizeof(*n->vals));
	n->vals[n->nvals++] = v;
}

/* ---- parser ----------------------------------------------------------- */

static int parse_or(struct parser *p, struct node **out);

static int check_severity(const struct parser *p, const char *v)
{
	for (size_t i = 0; i < sizeof(severities) / sizeof(severities[0]); i++)
		if (strcmp(v, severities[i]) == 0)
			return 0;
	return perr(
	        p, p->start,
	        "unknown severity '%s' (expected one of info, low, medium, high, critical)",
	        v);
}

/* Parse one value for field f (current token); *out is owned text. */
static int parse_value(struct parser *p,
                       const struct route_field *f,
                       const char *after,
                       char **out)
{
	char gb[64], *v = NULL;
	int rc;

	switch (f->type) {
	case ROUTE_STRING:
		if (p->tok != T_STRING) {
			if (p->tok == T_IDENT || p->tok == T_INT)
				return perr(
				        p, p->start,
				        "expected a quoted string after %s (got %s; quote it: '%.*s')",
				        after, got(p, gb, sizeof(gb)),
				        (int)p->len, p->text + p->start);
			return perr(
			        p, p->start,
			        "expected a quoted string after %s (got %s)",
			        after, got(p, gb, sizeof(gb)));
		}
		if (strcmp(f->name, "severity") == 0) {
			rc = check_severity(p, p->str);
			if (rc)
				return rc;
		}
		v = p->str;
		p->str = NULL;
		break;
	case ROUTE_BOOL:
		if (!is_word(p, "true") && !is_word(p, "false"))
			return perr(
			        p, p->start,
			        "expected true or false after %s (%s is a boolean; got %s)",
			        after, f->name, got(p, gb, sizeof(gb)));
		v = xstrndup(p->text + p->start, p->len);
		break;
	case ROUTE_NUMBER: {
		long long num;

		if (p->tok != T_INT)
			return perr(
			        p, p->start,
			        "expected an integer after %s (%s is a number; got %s)",
			        after, f->name, got(p, gb, sizeof(gb)));
		errno = 0;
		num = strtoll(p->text + p->start, NULL, 10);
		if (errno || num > 999999999999LL)
			return perr(p, p->start, "number out of range");
		v = xasprintf("%lld", num);
		break;
	}
	}
	rc = next(p);
	if (rc) {
		free(v);
		return rc;
	}
	*out = v;
	return 0;
}

static int parse_in_list(struct parser *p, struct node *n)
{
	char gb[64];
	int rc;

	if (p->tok != T_LBRACK)
		return perr(p, p->start, "expected '[' after 'in' (got %s)",
		            got(p, gb, sizeof(gb)));
	rc = next(p);
	while (!rc) {
		char *v = NULL;

		if (p->tok == T_RBRACK && n->nvals > 0)
			break;
		rc = parse_value(p, n->field, n->nvals ? "','" : "'['", &v);
		if (rc)
			return rc;
		node_add_val(n, v);
		if (p->tok == T_COMMA) {
			rc = next(p);
		} else if (p->tok != T_RBRACK) {
			return perr(p, p->start,
			            "expected ',' or ']' in the list (got %s)",
			            got(p, gb, sizeof(gb)));
		}
	}
	if (rc)
		return rc;
	return next(p); /* past ']' */
}

static int parse_comparison(struct parser *p, struct node **out)
{
	const struct route_field *f;
	struct node *n;
	char name[64], gb[64];
	int rc;

	if (p->len >= sizeof(name))
		return unknown_field(p);
	memcpy(name, p->text + p->start, p->len);
	name[p->len] = '\0';
	f = route_field_find(name);
	if (!f)
		return unknown_field(p);
	rc = next(p);
	if (rc)
		return rc;

	n = node_new(N_EQ);
	n->field = f;
	if (p->tok == T_EQ || p->tok == T_NE) {
		char *v = NULL;

		n->negate = p->tok == T_NE;
		rc = next(p);
		if (!rc)
			rc = parse_value(p, f, n->negate ? "'!='" : "'=='", &v);
		if (!rc)
			node_add_val(n, v);
	} else if (is_word(p, "in") || is_word(p, "not")) {
		n->op = N_IN;
		if (is_word(p, "not")) {
			n->negate = true;
			rc = next(p);
			if (!rc && !is_word(p, "in"))
				rc = perr(
				        p, p->start,
				        "expected 'in' after '%s not' (got %s)",
				        f->name, got(p, gb, sizeof(gb)));
		}
		if (!rc)
			rc = next(p);
		if (!rc)
			rc = parse_in_list(p, n);
	} else {
		rc = perr(
		        p, p->start,
		        "expected '==', '!=', 'in' or 'not in' after '%s' (got %s)",
		        f->name, got(p, gb, sizeof(gb)));
	}
	if (rc) {
		node_free(n);
		return rc;
	}
	*out = n;
	return 0;
}

/* Move past the last token of *out; on a lexing error drop *out. */
static int advance_or_drop(struct parser *p, struct node **out)
{
	int rc = next(p);

	if (rc) {
		node_free(*out);
		*out = NULL;
	}
	return rc;
}

static int parse_primary(struct parser *p, struct node **out)
{
	char gb[64];
	int rc;

	if (p->tok == T_LPAREN) {
		size_t open = p->start;

		if (++p->depth > ROUTE_MAX_DEPTH)
			return perr(p, p->start, "nested too deeply (limit %d)",
			            ROUTE_MAX_DEPTH);
		rc = next(p);
		if (!rc)
			rc = parse_or(p, out);
		if (rc)
			return rc;
		if (p->tok != T_RPAREN) {
			node_free(*out);
			*out = NULL;
			return perr(
			        p, p->start,
			        "expected ')' to close the '(' at column %zu (got %s)",
			        open + 1, got(p, gb, sizeof(gb)));
		}
		p->depth--;
		return advance_or_drop(p, out);
	}
	if (is_word(p, "true") || is_word(p, "false")) {
		*out = node_new(N_CONST);
		(*out)->value = is_word(p, "true");
		return advance_or_drop(p, out);
	}
	if (is_word(p, "default"))
		return perr(p, p->start,
		            "'default' must be the whole condition");
	if (is_word(p, "and") || is_word(p, "or") || is_word(p, "in"))
		return perr(p, p->start,
		            "expected a field name, 'not' or '(' (got %s)",
		            got(p, gb, sizeof(gb)));
	if (p->tok == T_IDENT)
		return parse_comparison(p, out);
	return perr(p, p->start,
	            "expected a field name, 'not', '(', true or false (got %s)",
	            got(p, gb, sizeof(gb)));
}

static int parse_not(struct parser *p, struct node **out)
{
	struct node *n, *kid = NULL;
	int rc;

	if (!is_word(p, "not"))
		return parse_primary(p, out);
	if (++p->depth > ROUTE_MAX_DEPTH)
		return perr(p, p->start, "nested too deeply (limit %d)",
		            ROUTE_MAX_DEPTH);
	rc = next(p);
	if (!rc)
		rc = parse_not(p, &kid);
	if (rc)
		return rc;
	p->depth--;
	n = node_new(N_NOT);
	node_add_kid(n, kid);
	*out = n;
	return 0;
}

/* One n-ary chain: kid { word kid }. */
static int parse_chain(struct parser *p,
                       struct node **out,
                       const char *word,
                       enum op op,
                       int (*sub)(struct parser *, struct node **))
{
	struct node *first = NULL, *n = NULL;
	int rc;

	rc = sub(p, &first);
	if (rc)
		return rc;
	while (is_word(p, word)) {
		struct node *kid = NULL;

		if (!n) {
			n = node_new(op);
			node_add_kid(n, first);
		}
		rc = next(p);
		if (!rc)
			rc = sub(p, &kid);
		if (rc) {
			node_free(n);
			return rc;
		}
		node_add_kid(n, kid);
	}
	*out = n ? n : first;
	return 0;
}

static int parse_and(struct parser *p, struct node **out)
{
	return parse_chain(p, out, "and", N_AND, parse_not);
}

static int parse_or(struct parser *p, struct node **out)
{
	return parse_chain(p, out, "or", N_OR, parse_and);
}

static int compile(struct parser *p, struct route_expr *e)
{
	char gb[64];
	int rc;

	rc = next(p);
	if (rc)
		return rc;
	if (p->tok == T_END)
		return perr(p, p->start, "empty condition");
	if (is_word(p, "default")) {
		rc = next(p);
		if (rc)
			return rc;
		if (p->tok != T_END)
			return perr(
			        p, p->start,
			        "'default' must be the whole condition (got %s after it)",
			        got(p, gb, sizeof(gb)));
		e->is_default = true;
		e->root = node_new(N_CONST);
		e->root->value = true;
		return 0;
	}
	rc = parse_or(p, &e->root);
	if (rc)
		return rc;
	if (p->tok != T_END)
		return perr(p, p->start,
		            "expected 'and', 'or' or end of condition (got %s)",
		            got(p, gb, sizeof(gb)));
	return 0;
}

int route_compile(struct route_expr **out, const char *text)
{
	struct parser p = {.text = text};
	struct route_expr *e;
	int rc;

	*out = NULL;
	if (!text) {
		relay_error_set("empty condition");
		return RELAY_EINVAL;
	}
	if (strlen(text) > ROUTE_MAX_TEXT) {
		relay_error_set("condition longer than %d bytes",
		                ROUTE_MAX_TEXT);
		return RELAY_EINVAL;
	}
	e = xcalloc(1, sizeof(*e));
	rc = compile(&p, e);
	free(p.str);
	if (rc) {
		route_free(e);
		return RELAY_EINVAL;
	}
	*out = e;
	return 0;
}

/* ---- evaluation ------------------------------------------------------- */

static bool eval(const struct node *n, route_get_fn get, void *arg)
{
	const char *v;

	switch (n->op) {
	case N_CONST:
		return n->value;
	case N_AND:
		for (size_t i = 0; i < n->nkids; i++)
			if (!eval(n->kids[i], get, arg))
				return false;
		return true;
	case N_OR:
		for (size_t i = 0; i < n->nkids; i++)
			if (eval(n->kids[i], get, arg))
				return true;
		return false;
	case N_NOT:
		return !eval(n->kids[0], get, arg);
	case N_EQ:
	case N_IN:
		v = get(n->field->name, arg);
		if (v)
			for (size_t i = 0; i < n->nvals; i++)
				if (strcmp(v, n->vals[i]) == 0)
					return !n->negate;
		return n->negate;
	}
	return false;
}

bool route_eval(const struct route_expr *e, route_get_fn get, void *arg)
{
	return eval(e->root, get, arg);
}

bool route_is_default(const struct route_expr *e)
{
	return e->is_default;
}

void route_free(struct route_expr *e)
{
	if (!e)
		return;
	node_free(e->root);
	free(e);
}
