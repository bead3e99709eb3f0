/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tlsprobe: one TLS handshake to an https:// URL with the relay's TLS
 * settings, for `check`: did it verify, with which protocol, and when does
 * the server's certificate expire.  libcurl easy with CURLOPT_CERTINFO
 * (the leaf certificate's "Expire date", OpenSSL's ASN1_TIME text).
 * Nothing is sent but a GET of the HEC health path, without the token.
 */
#ifndef RELAY_TLSPROBE_H
#define RELAY_TLSPROBE_H

#include <stdbool.h>
#include <time.h>

#include "util/err.h"

struct tlsprobe_opts {
	const char *ca_cert_path; /* NULL: system CAs */
	const char *client_cert_path;
	const char *client_key_path;
	bool insecure_skip_verify;
	long timeout_ms;
};

struct tlsprobe_result {
	bool verified;     /* handshake done with verification on */
	char subject[256]; /* leaf certificate subject, "" when unknown */
	char issuer[256];
	time_t not_after; /* 0 when unknown */
	long days_left;   /* floor((not_after - now) / 1 day) */
};

/*
 * Handshake with url (https only).  0 and *out filled, or RELAY_ERR with
 * curl's reason ("SSL certificate problem: ...") in the message.
 */
int tlsprobe_run(const char *url,
                 const struct tlsprobe_opts *o,
                 struct tlsprobe_result *out) RELAY_MUSTCHECK;

/* Parse OpenSSL's "Nov 27 02:39:43 2026 GMT"; 0 when it cannot. */
time_t tlsprobe_parse_time(const char *s);

#endif
