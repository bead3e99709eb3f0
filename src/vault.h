/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vault: read the HEC token from a HashiCorp Vault KV v2 secret.
 *
 *   GET {address}/v1/{path}          X-Vault-Token: <vault token>
 *   {"data":{"data":{"<key>":"<HEC token>",...},"metadata":{"version":N}}}
 *
 * One blocking libcurl easy request with short timeouts (connect 1 s,
 * whole request 3 s): the relay calls it from its main loop every
 * vault.refresh_s (>= 10 s) and after a 401/403, so a Vault that is down
 * costs at most a few seconds of delay per refresh, never lost events
 * (transfers already handed to the HEC multi handle are resumed by the
 * next hec_wait; leases are far longer).  That is simpler and easier to
 * reason about than a second multi handle for one small request.
 *
 * The Vault token comes from vault.token or is re-read from
 * vault.token_file on every call (a Vault agent rewrites it).  The server
 * is verified with the system CAs, or $VAULT_CACERT as the Vault CLI does.
 * Neither token, nor the secret, nor the answer body is ever put into an
 * error message: errors carry the HTTP status and Vault's own "errors"
 * strings only.
 */
#ifndef RELAY_VAULT_H
#define RELAY_VAULT_H

#include "util/err.h"

struct vault_source {
	const char *address;    /* e.g. https://vault:8200 */
	const char *path;       /* KV v2 read path, <mount>/data/<name> */
	const char *key;        /* key inside data.data */
	const char *token;      /* Vault token, or NULL/"" ... */
	const char *token_file; /* ... read from this file */
	long timeout_ms;        /* 0: the default (3000) */
};

/*
 * Read the secret and return data.data.<key> in *out (free it; wipe it
 * first if you care).  *version gets metadata.version (-1 when absent),
 * may be NULL.  RELAY_ERR with a message naming the address and path,
 * never a secret.
 */
int vault_read_token(const struct vault_source *src,
                     char **out,
                     long *version) RELAY_MUSTCHECK;

#endif
