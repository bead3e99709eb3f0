/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gzip: Content-Encoding handling with zlib.  See gzip.h.
 *
 * All zlib errors are mapped in one place (libgit2's zstream shape).
 */
#include "gzip.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#define CHUNK (64 * 1024)

enum encoding gzip_encoding(const char *header)
{
	if (!header || !*header || !strcasecmp(header, "identity"))
		return ENCODING_IDENTITY;
	if (!strcasecmp(header, "gzip") || !strcasecmp(header, "x-gzip"))
		return ENCODING_GZIP;
	return ENCODING_UNSUPPORTED;
}

static int zerr(int zrc, const z_stream *zs)
{
	return relay_error_set("gzip: %s (%d)", zs->msg ? zs->msg : "bad data",
	                       zrc);
}

int gzip_inflate(struct buf *dst, const char *in, size_t len)
{
	unsigned char out[CHUNK];
	z_stream zs;
	int zrc, rc = 0;

	memset(&zs, 0, sizeof(zs));
	/* 16 + MAX_WBITS: gzip framing only. */
	if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
		return relay_error_set("gzip: inflateInit2 failed");
	zs.next_in = (unsigned char *)(uintptr_t)in;
	zs.avail_in = (uInt)len;
	for (;;) {
		zs.next_out = out;
		zs.avail_out = sizeof(out);
		zrc = inflate(&zs, Z_NO_FLUSH);
		if (zrc != Z_OK && zrc != Z_STREAM_END) {
			rc = zerr(zrc == Z_BUF_ERROR ? Z_DATA_ERROR : zrc, &zs);
			rc = RELAY_EINVAL;
			goto done;
		}
		rc = buf_append(dst, out, sizeof(out) - zs.avail_out);
		if (rc)
			goto done;
		if (zrc == Z_STREAM_END) {
			if (zs.avail_in == 0)
				break;
			/* Another gzip member follows (as gunzip takes). */
			inflateReset(&zs);
		} else if (zs.avail_in == 0 && zs.avail_out != 0) {
			rc = relay_error_set("gzip: truncated data");
			rc = RELAY_EINVAL;
			goto done;
		}
	}
done:
	inflateEnd(&zs);
	return rc;
}
