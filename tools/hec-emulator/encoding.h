/* SPDX-License-Identifier: Apache-2.0 */
/*
 * encoding: the request body's Content-Encoding.
 *
 * HEC takes identity and gzip bodies; anything else (deflate, br) is
 * answered 415 (hec-protocol.md section 3).  Gzip bodies are inflated by
 * util/gzip.h's gzip_decompress into a buffer capped at
 * max_content_length, so a small body cannot expand past it.
 */
#ifndef HEC_ENCODING_H
#define HEC_ENCODING_H

#include <stddef.h>

enum encoding { ENCODING_IDENTITY = 0, ENCODING_GZIP, ENCODING_UNSUPPORTED };

/* Classify a Content-Encoding header value (NULL: identity). */
enum encoding gzip_encoding(const char *header);

#endif
