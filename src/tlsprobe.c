/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tlsprobe: a TLS handshake with certificate details.  See tlsprobe.h.
 */
#include "tlsprobe.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/xalloc.h"

static size_t discard(char *p, size_t sz, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return sz * n;
}

time_t tlsprobe_parse_time(const char *s)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%b %d %H:%M:%S %Y", &tm);
	if (!end)
		return 0;
	return timegm(&tm);
}

/* "Label:value" entries of the leaf certificate. */
static void read_certinfo(CURL *c, struct tlsprobe_result *out)
{
	struct curl_certinfo *ci = NULL;

	if (curl_easy_getinfo(c, CURLINFO_CERTINFO, &ci) != CURLE_OK || !ci ||
	    ci->num_of_certs < 1)
		return;
	for (struct curl_slist *s = ci->certinfo[0]; s; s = s->next) {
		const char *d = s->data;

		if (!strncasecmp(d, "Subject:", 8))
			snprintf(out->subject, sizeof(out->subject), "%s",
			         d + 8);
		else if (!strncasecmp(d, "Issuer:", 7))
			snprintf(out->issuer, sizeof(out->issuer), "%s", d + 7);
		else if (!strncasecmp(d, "Expire date:", 12))
			out->not_after = tlsprobe_parse_time(d + 12);
	}
}

int tlsprobe_run(const char *url,
                 const struct tlsprobe_opts *o,
                 struct tlsprobe_result *out)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	char *target;
	CURL *c;
	CURLcode cc = CURLE_OK;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (strncasecmp(url, "https://", 8) != 0)
		return relay_error_set("not an https URL");
	c = curl_easy_init();
	if (!c)
		return relay_error_set("curl_easy_init failed");
	target = xasprintf("%s/services/collector/health", url);
#define SET(opt, val)                                                          \
	do {                                                                   \
		if (cc == CURLE_OK)                                            \
			cc = curl_easy_setopt(c, opt, val);                    \
	} while (0)
	SET(CURLOPT_URL, target);
	SET(CURLOPT_ERRORBUFFER, errbuf);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_CERTINFO, 1L);
	SET(CURLOPT_WRITEFUNCTION, discard);
	SET(CURLOPT_TIMEOUT_MS, o->timeout_ms > 0 ? o->timeout_ms : 10000L);
	SET(CURLOPT_USERAGENT, "clawdstrike-relay/" RELAY_VERSION_STRING);
	SET(CURLOPT_SSL_VERIFYPEER, o->insecure_skip_verify ? 0L : 1L);
	SET(CURLOPT_SSL_VERIFYHOST, o->insecure_skip_verify ? 0L : 2L);
	if (o->ca_cert_path)
		SET(CURLOPT_CAINFO, o->ca_cert_path);
	if (o->client_cert_path)
		SET(CURLOPT_SSLCERT, o->client_cert_path);
	if (o->client_key_path)
		SET(CURLOPT_SSLKEY, o->client_key_path);
#undef SET
	if (cc == CURLE_OK)
		cc = curl_easy_perform(c);
	if (cc != CURLE_OK) {
		rc = relay_error_set("%s%s%s", curl_easy_strerror(cc),
		                     errbuf[0] ? ": " : "", errbuf);
	} else {
		out->verified = !o->insecure_skip_verify;
		read_certinfo(c, out);
		if (out->not_after) {
			double d = difftime(out->not_after, time(NULL));

			out->days_left = (long)(d / 86400.0);
			if (d < 0 && (double)out->days_left * 86400.0 != d)
				out->days_left--;
		}
	}
	curl_easy_cleanup(c);
	free(target);
	return rc;
}
