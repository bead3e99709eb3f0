/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tokens: token table and authentication.  See tokens.h.
 */
#include "tokens.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "reply.h"
#include "util/xalloc.h"

static const char *const state_names[] = {"enabled", "disabled", "revoked"};

void tokens_init(struct tokens *t)
{
	memset(t, 0, sizeof(*t));
}

static void token_dispose(struct token *tok)
{
	free(tok->value);
	free(tok->name);
	free(tok->index);
	free(tok->sourcetype);
	free(tok->source);
	for (size_t i = 0; i < tok->n_indexes; i++)
		free(tok->indexes[i]);
	free(tok->indexes);
	free(tok->json_name);
	free(tok->json_index);
	free(tok->json_sourcetype);
	free(tok->json_source);
}

void tokens_dispose(struct tokens *t)
{
	for (size_t i = 0; i < t->n; i++)
		token_dispose(&t->v[i]);
	free(t->v);
	tokens_init(t);
}

/* A JSON string literal for s (jansson does the escaping). */
static char *json_literal(const char *s)
{
	json_t *j = json_string(s);
	char *out;

	if (!j)
		return xstrdup("\"\"");
	out = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
	json_decref(j);
	return out ? out : xstrdup("\"\"");
}

static int parse_bool(const char *v, int *out)
{
	if (!strcmp(v, "on") || !strcmp(v, "true") || !strcmp(v, "1")) {
		*out = 1;
		return 0;
	}
	if (!strcmp(v, "off") || !strcmp(v, "false") || !strcmp(v, "0")) {
		*out = 0;
		return 0;
	}
	return relay_error_set("expected on or off, got \"%s\"", v);
}

static void set_indexes(struct token *tok, const char *list)
{
	char *copy = xstrdup(list), *save = NULL;

	for (char *s = strtok_r(copy, ":", &save); s;
	     s = strtok_r(NULL, ":", &save)) {
		tok->indexes = xrealloc(tok->indexes,
		                        (tok->n_indexes + 1) * sizeof(char *));
		tok->indexes[tok->n_indexes++] = xstrdup(s);
	}
	free(copy);
}

static void set_str(char **slot, const char *v)
{
	free(*slot);
	*slot = xstrdup(v);
}

/* One key=value (or bare flag) of a token spec. */
static int apply_option(struct token *tok, char *opt)
{
	char *eq = strchr(opt, '=');
	const char *v = eq ? eq + 1 : "";
	int b = 1;

	if (eq)
		*eq = '\0';
	if (!strcmp(opt, "name") && *v)
		set_str(&tok->name, v);
	else if (!strcmp(opt, "index") && *v)
		set_str(&tok->index, v);
	else if (!strcmp(opt, "sourcetype") && *v)
		set_str(&tok->sourcetype, v);
	else if (!strcmp(opt, "source") && *v)
		set_str(&tok->source, v);
	else if (!strcmp(opt, "indexes"))
		set_indexes(tok, v);
	else if (!strcmp(opt, "ack") && eq)
		return parse_bool(v, &tok->ack);
	else if (!strcmp(opt, "disabled") && (!eq || !parse_bool(v, &b)))
		atomic_store(&tok->state, b ? TOKEN_DISABLED : TOKEN_ENABLED);
	else if (!strcmp(opt, "query-auth") && (!eq || !parse_bool(v, &b)))
		tok->query_auth = b;
	else
		return relay_error_set("unknown token option \"%s\"", opt);
	return 0;
}

static void fill_defaults(struct token *tok, size_t ordinal)
{
	char *src;

	if (!tok->name)
		tok->name = xasprintf("token%zu", ordinal);
	if (!tok->index)
		tok->index = xstrdup("main");
	if (!tok->sourcetype)
		tok->sourcetype = xstrdup("httpevent");
	/* Splunk's source for HEC data is the input's stanza name. */
	src = tok->source ? tok->source : xasprintf("http:%s", tok->name);
	tok->source = src;
	tok->json_name = json_literal(tok->name);
	tok->json_index = json_literal(tok->index);
	tok->json_sourcetype = json_literal(tok->sourcetype);
	tok->json_source = json_literal(tok->source);
}

int tokens_add(struct tokens *t, const char *spec)
{
	char *copy = xstrdup(spec), *save = NULL, *s;
	struct token tok;
	int rc = 0;

	memset(&tok, 0, sizeof(tok));
	tok.ack = -1;
	s = strtok_r(copy, ",", &save);
	if (!s || !*s || spec[0] == ',') {
		rc = relay_error_set("empty token in \"%s\"", spec);
		goto done;
	}
	tok.value = xstrdup(s);
	while ((s = strtok_r(NULL, ",", &save)) != NULL) {
		rc = apply_option(&tok, s);
		if (rc)
			goto done;
	}
	if (tokens_find(t, tok.value)) {
		rc = relay_error_set("token given twice");
		goto done;
	}
	fill_defaults(&tok, t->n + 1);
	t->v = xrealloc(t->v, (t->n + 1) * sizeof(*t->v));
	t->v[t->n++] = tok;
	memset(&tok, 0, sizeof(tok));
done:
	token_dispose(&tok);
	free(copy);
	return rc ? RELAY_EINVAL : 0;
}

struct token *tokens_find(const struct tokens *t, const char *key)
{
	for (size_t i = 0; i < t->n; i++) {
		if (!strcmp(t->v[i].value, key))
			return &t->v[i];
	}
	for (size_t i = 0; i < t->n; i++) {
		if (t->v[i].name && !strcmp(t->v[i].name, key))
			return &t->v[i];
	}
	return NULL;
}

static struct token *find_value(const struct tokens *t, const char *value)
{
	for (size_t i = 0; i < t->n; i++) {
		if (!strcmp(t->v[i].value, value))
			return &t->v[i];
	}
	return NULL;
}

bool tokens_ack(const struct tokens *t, const struct token *tok)
{
	return tok->ack < 0 ? t->ack_all : tok->ack == 1;
}

bool token_index_allowed(const struct token *tok, const char *index)
{
	if (tok->n_indexes == 0)
		return true;
	for (size_t i = 0; i < tok->n_indexes; i++) {
		if (!strcmp(tok->indexes[i], index))
			return true;
	}
	return false;
}

/* The state check shared by every way of presenting a token. */
static int
resolve(const struct tokens *t, const char *value, struct token **out)
{
	struct token *tok = find_value(t, value);
	int state;

	if (!tok)
		return HEC_INVALID_TOKEN;
	state = atomic_load(&tok->state);
	if (state == TOKEN_REVOKED)
		return HEC_INVALID_TOKEN;
	if (state == TOKEN_DISABLED)
		return HEC_TOKEN_DISABLED;
	*out = tok;
	return 0;
}

int tokens_auth(const struct tokens *t,
                const struct auth_request *req,
                struct token **out)
{
	const char *h = req->authorization;
	int rc;

	*out = NULL;
	/* A query-string token wins over the header even when the token
	 * does not allow query-string auth (inputs.conf.spec). */
	if (req->query_token) {
		rc = resolve(t, req->query_token, out);
		if (rc == 0 && !(*out)->query_auth) {
			*out = NULL;
			return HEC_QUERY_AUTH_DISABLED;
		}
		return rc;
	}
	if (!h || !*h)
		return HEC_TOKEN_REQUIRED;
	if (!strncasecmp(h, "Splunk ", 7)) {
		h += 7;
		while (*h == ' ')
			h++;
		return *h ? resolve(t, h, out) : HEC_INVALID_AUTH;
	}
	if (!strncasecmp(h, "Basic ", 6) && req->basic_password)
		return resolve(t, req->basic_password, out);
	return HEC_INVALID_AUTH;
}

int token_state_parse(const char *s)
{
	for (int i = 0; i < 3; i++) {
		if (!strcmp(s, state_names[i]))
			return i;
	}
	return -1;
}

const char *token_state_name(int state)
{
	return state >= 0 && state < 3 ? state_names[state] : "unknown";
}
