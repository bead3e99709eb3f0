/* SPDX-License-Identifier: Apache-2.0 */
/*
 * token: where the HEC token comes from (SPEC section 7), shared by `run`
 * and `check`:
 *
 *   vault   exporters.splunk.vault.address set: a Vault KV v2 secret
 *   file    exporters.splunk.hec_token_file (e.g. a Kubernetes secret
 *           mount), re-read on every load
 *   inline  exporters.splunk.hec_token (usually ${SPLUNK_HEC_TOKEN})
 *
 * The config loader allows exactly one of them.  The token itself is never
 * logged or put into an error message.
 */
#ifndef RELAY_TOKEN_H
#define RELAY_TOKEN_H

#include <stddef.h>

#include "util/err.h"

struct config;

enum token_source { TOKEN_INLINE, TOKEN_FILE, TOKEN_VAULT };

enum token_source token_source_of(const struct config *cfg);
/* "inline", "file" or "vault". */
const char *token_source_name(enum token_source s);

/*
 * Load the current token from its source into *out (free it with
 * token_free).  *version: the Vault secret's version, else -1 (may be
 * NULL).  RELAY_ERR with a message that names the source, not the token.
 */
int token_load(const struct config *cfg,
               char **out,
               long *version) RELAY_MUSTCHECK;

/*
 * The files the token is read through (exporters.splunk.hec_token_file,
 * exporters.splunk.vault.token_file): their config keys and paths into
 * keys[]/paths[]; returns how many (0..2).  `check` fails and `run` warns
 * when one is not private (sys_secret_private).
 */
size_t token_files(const struct config *cfg,
                   const char *keys[2],
                   const char *paths[2]);

/* Wipe and free a token (NULL-safe). */
void token_free(char *tok);

#endif
