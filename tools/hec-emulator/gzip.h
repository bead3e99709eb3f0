/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gzip: the request body's Content-Encoding.
 *
 * HEC takes identity and gzip bodies; anything else (deflate, br) is
 * answered 415 (hec-protocol.md section 3).  Inflation is capped so a
 * small compressed body cannot expand past max_content_length.
 */
#ifndef HEC_GZIP_H
#define HEC_GZIP_H

#include <stddef.h>

#include "util/buf.h"
#include "util/err.h"

enum encoding { ENCODING_IDENTITY = 0, ENCODING_GZIP, ENCODING_UNSUPPORTED };

/* Classify a Content-Encoding header value (NULL: identity). */
enum encoding gzip_encoding(const char *header);

/*
 * Inflate a gzip body (one or more members) into dst, whose cap is the
 * limit.  Returns 0, RELAY_EFULL past the cap, or RELAY_EINVAL for data
 * that is not valid gzip (with a message).
 */
int gzip_inflate(struct buf *dst, const char *in, size_t len) RELAY_MUSTCHECK;

#endif
