/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vault: KV v2 read over libcurl easy.  See vault.h.
 */
#include "vault.h"

#include <ctype.h>
#include <curl/curl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/sys.h"
#include "util/xalloc.h"

#define VAULT_TIMEOUT_MS 3000L
#define VAULT_CONNECT_TIMEOUT_MS 1000L
/* A KV secret is small; anything bigger is not what we asked for. */
#define VAULT_MAX_ANSWER (1024 * 1024)

static size_t on_body(char *p, size_t sz, size_t n, void *arg)
{
	struct buf *b = arg;

	return buf_append(b, p, sz * n) == 0 ? sz * n : 0;
}

static void wipe(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/* Vault's {"errors":["..."]}: the first string, clipped, or "". */
static void first_error(const struct buf *b, char *out, size_t n)
{
	json_t *root = b->data ? json_loadb(b->data, b->len, 0, NULL) : NULL;
	const char *e = json_string_value(
	        json_array_get(json_object_get(root, "errors"), 0));
	size_t o = 0;

	out[0] = '\0';
	for (; e && *e && o + 1 < n; e++)
		out[o++] = (*e >= 0x20 && *e < 0x7f && *e != '"') ? *e : ' ';
	out[o] = '\0';
	json_decref(root);
}

/* data.data.<key> of a KV v2 answer. */
static int parse_answer(const struct vault_source *src,
                        const struct buf *b,
                        char **out,
                        long *version)
{
	json_error_t err;
	json_t *root = json_loadb(b->data ? b->data : "", b->len, 0, &err);
	json_t *data = json_object_get(json_object_get(root, "data"), "data");
	json_t *meta =
	        json_object_get(json_object_get(root, "data"), "metadata");
	const char *v = json_string_value(json_object_get(data, src->key));
	int rc = 0;

	if (!root)
		rc = relay_error_set("vault %s/v1/%s: the answer is not JSON",
		                     src->address, src->path);
	else if (!json_is_object(data))
		rc = relay_error_set("vault %s/v1/%s: no data.data in the "
		                     "answer (is it a KV v2 path "
		                     "<mount>/data/<name>?)",
		                     src->address, src->path);
	else if (!v || !*v)
		rc = relay_error_set("vault %s/v1/%s: the secret has no "
		                     "non-empty string key \"%s\"",
		                     src->address, src->path, src->key);
	if (!rc) {
		*out = xstrdup(v);
		if (version)
			*version = json_is_integer(
			                   json_object_get(meta, "version"))
			                   ? (long)json_integer_value(
			                             json_object_get(meta,
			                                             "version"))
			                   : -1;
	}
	json_decref(root);
	return rc;
}

static int vault_token(const struct vault_source *src, char **out)
{
	if (src->token_file && *src->token_file)
		return sys_read_secret(out, src->token_file);
	if (!src->token || !*src->token)
		return relay_error_set("vault: no Vault token (vault.token "
		                       "or vault.token_file)");
	for (const char *p = src->token; *p; p++)
		if (iscntrl((unsigned char)*p))
			return relay_error_set(
			        "vault.token: a control character"
			        " (CR/LF would add request"
			        " headers)");
	*out = xstrdup(src->token);
	return 0;
}

static int set_options(CURL *c,
                       const struct vault_source *src,
                       const char *url,
                       struct curl_slist *hdr,
                       struct buf *b)
{
	long t = src->timeout_ms > 0 ? src->timeout_ms : VAULT_TIMEOUT_MS;
	const char *ca = getenv("VAULT_CACERT");
	CURLcode cc = CURLE_OK;

#define SET(opt, val)                                                          \
	do {                                                                   \
		if (cc == CURLE_OK)                                            \
			cc = curl_easy_setopt(c, opt, val);                    \
	} while (0)
	SET(CURLOPT_URL, url);
	SET(CURLOPT_HTTPHEADER, hdr);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, (void *)b);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_TIMEOUT_MS, t);
	SET(CURLOPT_CONNECTTIMEOUT_MS,
	    t < VAULT_CONNECT_TIMEOUT_MS ? t : VAULT_CONNECT_TIMEOUT_MS);
	SET(CURLOPT_USERAGENT, "clawdstrike-relay/" RELAY_VERSION_STRING);
	if (ca && *ca)
		SET(CURLOPT_CAINFO, ca);
#undef SET
	if (cc != CURLE_OK)
		return relay_error_set("vault: curl set-up: %s",
		                       curl_easy_strerror(cc));
	return 0;
}

int vault_read_token(const struct vault_source *src, char **out, long *version)
{
	char *vtok = NULL, *auth = NULL, *url = NULL, why[160];
	struct curl_slist *hdr = NULL;
	struct buf b;
	CURL *c = NULL;
	CURLcode cc;
	long status = 0;
	size_t al;
	int rc;

	*out = NULL;
	buf_init(&b, VAULT_MAX_ANSWER);
	rc = vault_token(src, &vtok);
	if (rc)
		goto done;
	/* "https://vault:8200/" and "https://vault:8200" alike. */
	al = strlen(src->address);
	while (al && src->address[al - 1] == '/')
		al--;
	url = xasprintf("%.*s/v1/%s", (int)al, src->address, src->path);
	auth = xasprintf("X-Vault-Token: %s", vtok);
	hdr = curl_slist_append(NULL, auth);
	c = curl_easy_init();
	if (!hdr || !c) {
		rc = relay_error_set("vault: out of memory");
		goto done;
	}
	rc = set_options(c, src, url, hdr, &b);
	if (rc)
		goto done;
	cc = curl_easy_perform(c);
	if (cc != CURLE_OK) {
		rc = relay_error_set("vault %s: %s", url,
		                     curl_easy_strerror(cc));
		goto done;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		first_error(&b, why, sizeof(why));
		rc = relay_error_set("vault %s: HTTP %ld%s%s%s", url, status,
		                     why[0] ? " (" : "", why,
		                     why[0] ? ")" : "");
		goto done;
	}
	rc = parse_answer(src, &b, out, version);
done:
	if (c)
		curl_easy_cleanup(c);
	curl_slist_free_all(hdr);
	wipe(auth);
	wipe(vtok);
	free(url);
	if (b.data)
		explicit_bzero(b.data, b.len);
	buf_dispose(&b);
	return rc;
}
