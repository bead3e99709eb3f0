/* SPDX-License-Identifier: Apache-2.0 */
/*
 * token: the HEC token's source.  See token.h.
 */
#include "token.h"

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "util/sys.h"
#include "util/xalloc.h"
#include "vault.h"

enum token_source token_source_of(const struct config *cfg)
{
	if (cfg->splunk.vault.address && *cfg->splunk.vault.address)
		return TOKEN_VAULT;
	if (cfg->splunk.hec_token_file && *cfg->splunk.hec_token_file)
		return TOKEN_FILE;
	return TOKEN_INLINE;
}

const char *token_source_name(enum token_source s)
{
	switch (s) {
	case TOKEN_VAULT:
		return "vault";
	case TOKEN_FILE:
		return "file";
	default:
		return "inline";
	}
}

int token_load(const struct config *cfg, char **out, long *version)
{
	struct vault_source v;

	if (version)
		*version = -1;
	switch (token_source_of(cfg)) {
	case TOKEN_VAULT:
		memset(&v, 0, sizeof(v));
		v.address = cfg->splunk.vault.address;
		v.path = cfg->splunk.vault.path;
		v.key = cfg->splunk.vault.key;
		v.token = cfg->splunk.vault.token;
		v.token_file = cfg->splunk.vault.token_file;
		return vault_read_token(&v, out, version);
	case TOKEN_FILE:
		return sys_read_secret(out, cfg->splunk.hec_token_file);
	default:
		*out = xstrdup(cfg->splunk.hec_token ? cfg->splunk.hec_token
		                                     : "");
		return 0;
	}
}

size_t
token_files(const struct config *cfg, const char *keys[2], const char *paths[2])
{
	enum token_source s = token_source_of(cfg);
	const char *vf = cfg->splunk.vault.token_file;
	size_t n = 0;

	if (s == TOKEN_FILE) {
		keys[n] = "exporters.splunk.hec_token_file";
		paths[n++] = cfg->splunk.hec_token_file;
	}
	if (s == TOKEN_VAULT && vf && *vf) {
		keys[n] = "exporters.splunk.vault.token_file";
		paths[n++] = vf;
	}
	return n;
}

void token_free(char *tok)
{
	if (tok) {
		explicit_bzero(tok, strlen(tok));
		free(tok);
	}
}
