/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gzip: one-shot gzip (RFC 1952) compression of a whole buffer with zlib,
 * and the inverse (the HEC emulator's request bodies, and tests).
 *
 * HEC accepts `Content-Encoding: gzip` only (deflate gets 415), so the
 * stream carries the gzip header and trailer (zlib windowBits 15 + 16).
 * Level 1 is the relay's default: on HEC-style JSON it compresses about as
 * well as level 6 for a fraction of the CPU (see the hec report figures).
 */
#ifndef RELAY_GZIP_H
#define RELAY_GZIP_H

#include <stddef.h>

#include "util/buf.h"
#include "util/err.h"

/*
 * Compress `len` bytes at `in` and append the gzip stream to `out`.
 * `level` is a zlib level: -1 (zlib default), 0 (store) .. 9.  Returns 0;
 * RELAY_EFULL when out's cap would pass; RELAY_EINVAL for a bad level;
 * RELAY_ERR for any other zlib failure.  On failure `out` is left as it was.
 */
int gzip_compress(struct buf *out, const void *in, size_t len, int level)
        RELAY_MUSTCHECK;

/*
 * Inflate a gzip body (one or more members, as gunzip takes) and append it
 * to `out`, whose cap is the limit (so a small body cannot expand without
 * bound).  Returns 0; RELAY_EFULL past the cap; RELAY_EINVAL for data that
 * is not complete, valid gzip (message set).  On failure `out` is left as
 * it was.
 */
int gzip_decompress(struct buf *out,
                    const void *in,
                    size_t len) RELAY_MUSTCHECK;

#endif
