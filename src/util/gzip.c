/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gzip: see gzip.h.  Deflates into a stack chunk and appends each chunk to
 * the caller's buf, so the buf's hard cap is honoured and nothing outside
 * buf.c touches its allocation.  The compressed body of a HEC batch is a
 * tenth of the input, so the extra copy costs nothing measurable.  All zlib
 * return codes are turned into relay errors by zerr() alone (libgit2
 * zstream_seterr).
 */
#include "util/gzip.h"

#include <limits.h>

/* next_in becomes const: no cast needed to feed the caller's input. */
#define ZLIB_CONST
#include <zlib.h>

#define GZIP_WINDOW_BITS (15 + 16) /* 32 KiB window, gzip framing */
#define GZIP_MEM_LEVEL 8
#define GZIP_CHUNK 32768

/* Map a zlib return code to a relay error with one line of detail. */
static int zerr(int zrc, const z_stream *zs)
{
	const char *msg = zs && zs->msg ? zs->msg : zError(zrc);

	switch (zrc) {
	case Z_OK:
	case Z_STREAM_END:
		return 0;
	case Z_STREAM_ERROR:
		relay_error_set("gzip: bad parameter: %s", msg);
		return RELAY_EINVAL;
	case Z_MEM_ERROR:
		return relay_error_set("gzip: out of memory");
	default:
		return relay_error_set("gzip: zlib error %d: %s", zrc, msg);
	}
}

/* Feed the next slice of input; avail_in is a uInt, len may be larger. */
static void refill(z_stream *zs, const unsigned char **in, size_t *left)
{
	size_t n = *left < UINT_MAX ? *left : UINT_MAX;

	if (zs->avail_in || !*left)
		return;
	zs->next_in = *in;
	zs->avail_in = (uInt)n;
	*in += n;
	*left -= n;
}

static int
deflate_all(z_stream *zs, struct buf *out, const void *in, size_t len)
{
	const unsigned char *p = in;
	unsigned char chunk[GZIP_CHUNK];
	size_t left = len;
	int zrc, rc;

	do {
		refill(zs, &p, &left);
		zs->next_out = chunk;
		zs->avail_out = sizeof(chunk);
		zrc = deflate(zs, left || zs->avail_in ? Z_NO_FLUSH : Z_FINISH);
		if (zrc != Z_OK && zrc != Z_STREAM_END && zrc != Z_BUF_ERROR)
			return zerr(zrc, zs);
		rc = buf_append(out, chunk, sizeof(chunk) - zs->avail_out);
		if (rc)
			return rc;
	} while (zrc != Z_STREAM_END);
	return 0;
}

int gzip_compress(struct buf *out, const void *in, size_t len, int level)
{
	size_t start = out->len;
	z_stream zs = {0};
	int rc;

	if (level < Z_DEFAULT_COMPRESSION || level > Z_BEST_COMPRESSION) {
		relay_error_set("gzip: level %d out of range -1..9", level);
		return RELAY_EINVAL;
	}
	rc = zerr(deflateInit2(&zs, level, Z_DEFLATED, GZIP_WINDOW_BITS,
	                       GZIP_MEM_LEVEL, Z_DEFAULT_STRATEGY),
	          NULL);
	if (rc)
		return rc;
	rc = deflate_all(&zs, out, in, len);
	deflateEnd(&zs);
	if (rc)
		buf_truncate(out, start);
	return rc;
}

/* A data error: the input is not what it claims to be. */
static int bad_data(const z_stream *zs, const char *what)
{
	relay_error_set("gzip: %s", zs->msg ? zs->msg : what);
	return RELAY_EINVAL;
}

static int
inflate_all(z_stream *zs, struct buf *out, const unsigned char *in, size_t len)
{
	unsigned char chunk[GZIP_CHUNK];
	size_t left = len;
	int zrc, rc;

	refill(zs, &in, &left);
	for (;;) {
		zs->next_out = chunk;
		zs->avail_out = sizeof(chunk);
		zrc = inflate(zs, Z_NO_FLUSH);
		if (zrc == Z_DATA_ERROR || zrc == Z_NEED_DICT)
			return bad_data(zs, "not valid gzip data");
		if (zrc != Z_OK && zrc != Z_STREAM_END && zrc != Z_BUF_ERROR)
			return zerr(zrc, zs);
		rc = buf_append(out, chunk, sizeof(chunk) - zs->avail_out);
		if (rc)
			return rc;
		if (zs->avail_in == 0)
			refill(zs, &in, &left);
		if (zrc == Z_STREAM_END) {
			if (zs->avail_in == 0)
				return 0;
			/* Another gzip member follows. */
			if (inflateReset(zs) != Z_OK)
				return zerr(Z_STREAM_ERROR, zs);
		} else if (zrc == Z_BUF_ERROR && zs->avail_in == 0) {
			return bad_data(zs, "truncated data");
		}
	}
}

int gzip_decompress(struct buf *out, const void *in, size_t len)
{
	size_t start = out->len;
	z_stream zs = {0};
	int rc;

	rc = zerr(inflateInit2(&zs, GZIP_WINDOW_BITS), NULL);
	if (rc)
		return rc;
	rc = inflate_all(&zs, out, in, len);
	inflateEnd(&zs);
	if (rc)
		buf_truncate(out, start);
	return rc;
}
