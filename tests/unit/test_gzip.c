/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gzip_compress: round trips through zlib's inflate (gzip framing), empty
 * and large inputs, the buf cap, bad levels.
 */
#include <stdlib.h>
#include <zlib.h>

#include "unit.h"
#include "util/buf.h"
#include "util/gzip.h"

/* Inflate a gzip stream into out (windowBits 15+16 accepts gzip only). */
static int gunzip(struct buf *out, const char *in, size_t len)
{
	z_stream zs = {0};
	unsigned char chunk[4096];
	int zrc;

	if (inflateInit2(&zs, 15 + 16) != Z_OK)
		return -1;
	zs.next_in = (unsigned char *)(size_t)in;
	zs.avail_in = (uInt)len;
	do {
		zs.next_out = chunk;
		zs.avail_out = sizeof(chunk);
		zrc = inflate(&zs, Z_NO_FLUSH);
		if (zrc != Z_OK && zrc != Z_STREAM_END)
			break;
		if (buf_append(out, chunk, sizeof(chunk) - zs.avail_out))
			break;
	} while (zrc != Z_STREAM_END);
	inflateEnd(&zs);
	/* The whole input must be one complete stream. */
	return zrc == Z_STREAM_END && zs.avail_in == 0 ? 0 : -1;
}

static void round_trip(const char *in, size_t len, int level)
{
	struct buf z, back;

	buf_init(&z, 0);
	buf_init(&back, 0);
	CHECK_INT(gzip_compress(&z, in, len, level), 0);
	CHECK(z.len >= 18); /* 10-byte header, 8-byte trailer */
	CHECK_INT((unsigned char)z.data[0], 0x1f);
	CHECK_INT((unsigned char)z.data[1], 0x8b);
	CHECK_INT(gunzip(&back, z.data, z.len), 0);
	CHECK_INT(back.len, len);
	CHECK(len == 0 || memcmp(back.data, in, len) == 0);
	buf_dispose(&z);
	buf_dispose(&back);
}

static void test_gzip__round_trip(void)
{
	const char *s = "{\"event\":{\"a\":1},\"time\":1700000000.123}";

	for (int level = -1; level <= 9; level++)
		round_trip(s, strlen(s), level);
}

static void test_gzip__empty(void)
{
	round_trip("", 0, 1);
}

/* 8 MiB of JSON-ish text with some noise: several deflate chunks. */
static void test_gzip__large(void)
{
	size_t len = 8u << 20;
	char *in = malloc(len);
	unsigned x = 12345;

	for (size_t i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		in[i] = (i % 64 < 48) ? "{\"event\":\"k\"}"[i % 13]
		                      : (char)('a' + (x >> 16) % 26);
	}
	round_trip(in, len, 1);
	free(in);
}

/* Appends after what is there; leaves the buffer alone on failure. */
static void test_gzip__append_and_cap(void)
{
	struct buf z;
	char noise[4096];
	unsigned x = 7;

	for (size_t i = 0; i < sizeof(noise); i++) {
		x = x * 1103515245u + 12345u;
		noise[i] = (char)(x >> 16);
	}
	buf_init(&z, 100);
	CHECK_INT(buf_puts(&z, "prefix"), 0);
	CHECK_INT(gzip_compress(&z, "abc", 3, 1), 0);
	CHECK(z.len > 6 && memcmp(z.data, "prefix", 6) == 0);
	buf_truncate(&z, 6);
	CHECK_INT(gzip_compress(&z, noise, sizeof(noise), 1), RELAY_EFULL);
	CHECK_INT(z.len, 6);
	CHECK_STR(z.data, "prefix");
	buf_dispose(&z);
}

static void test_gzip__bad_level(void)
{
	struct buf z;

	buf_init(&z, 0);
	CHECK_INT(gzip_compress(&z, "abc", 3, 10), RELAY_EINVAL);
	CHECK_INT(gzip_compress(&z, "abc", 3, -2), RELAY_EINVAL);
	CHECK_CONTAINS(relay_error_last(), "level");
	CHECK_INT(z.len, 0);
	buf_dispose(&z);
}

int main(void)
{
	UNIT_RUN(test_gzip__round_trip);
	UNIT_RUN(test_gzip__empty);
	UNIT_RUN(test_gzip__large);
	UNIT_RUN(test_gzip__append_and_cap);
	UNIT_RUN(test_gzip__bad_level);
	return unit_finish();
}
