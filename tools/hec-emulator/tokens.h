/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tokens: the HEC token table and request authentication.
 *
 * Tokens are configured once at start (--token SPEC, repeatable); only
 * their state (enabled / disabled / revoked) changes at run time, through
 * the control API, so it is atomic and the table itself needs no lock.
 * tokens_auth() maps a request's credentials to a token or to the HEC
 * code Splunk answers with (hec-protocol.md section 2).
 */
#ifndef HEC_TOKENS_H
#define HEC_TOKENS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

enum token_state {
	TOKEN_ENABLED = 0,
	TOKEN_DISABLED, /* 403 code 1 "Token disabled" */
	TOKEN_REVOKED   /* deleted: 403 code 4 "Invalid token" */
};

struct token {
	char *value;
	char *name;
	int ack;          /* 1 on, 0 off, -1: as --ack says */
	char *index;      /* default index */
	char *sourcetype; /* default sourcetype */
	char *source;     /* default source */
	char **indexes;   /* allowlist; empty: any index */
	size_t n_indexes;
	bool query_auth; /* allowQueryStringAuth */
	_Atomic int state;
	/* The defaults as JSON string literals, for the output writer. */
	char *json_name, *json_index, *json_sourcetype, *json_source;
};

struct tokens {
	struct token *v;
	size_t n;
	bool ack_all; /* --ack */
};

/* What a request presents; any member may be NULL. */
struct auth_request {
	const char *authorization;  /* the Authorization header */
	const char *basic_password; /* password of a decodable Basic header */
	const char *query_token;    /* ?token= (present even when empty) */
};

void tokens_init(struct tokens *t);
void tokens_dispose(struct tokens *t);

/*
 * Add a token from "TOKEN[,key=value...]" with keys name, ack (on|off),
 * index, indexes (a:b:c), sourcetype, source, disabled, query-auth.
 * RELAY_EINVAL with a message for a bad spec.
 */
int tokens_add(struct tokens *t, const char *spec) RELAY_MUSTCHECK;

/* The token with this value or name, or NULL. */
struct token *tokens_find(const struct tokens *t, const char *key);

/* Whether indexer acknowledgement is on for this token. */
bool tokens_ack(const struct tokens *t, const struct token *tok);

/* Whether an event may name this index (code 7 otherwise). */
bool token_index_allowed(const struct token *tok, const char *index);

/*
 * Authenticate: returns 0 and sets *out, or the HEC code to answer with
 * (1, 2, 3, 4 or 16).
 */
int tokens_auth(const struct tokens *t,
                const struct auth_request *req,
                struct token **out);

/* "enabled", "disabled", "revoked" <-> enum; -1 for an unknown name. */
int token_state_parse(const char *s);
const char *token_state_name(int state);

#endif
