/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gzip_compress and gzip_decompress: round trips (the gzip trailer's CRC-32
 * and size checked with zlib's crc32, independently of our inflate), empty
 * and large inputs, the buf cap, bad levels; concatenated members,
 * truncated and corrupt input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "unit.h"
#include "util/buf.h"
#include "util/gzip.h"

/* Little-endian 32-bit word of the 8-byte gzip trailer (RFC 1952). */
static uint32_t trailer(const struct buf *z, size_t at)
{
	const unsigned char *t =
	        (const unsigned char *)z->data + z->len - 8 + at;

	return (uint32_t)t[0] | (uint32_t)t[1] << 8 | (uint32_t)t[2] << 16 |
	       (uint32_t)t[3] << 24;
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
	CHECK_INT(trailer(&z, 0), crc32(0, (const Bytef *)in, (uInt)len));
	CHECK_INT(trailer(&z, 4), (uint32_t)len);
	CHECK_INT(gzip_decompress(&back, z.data, z.len), 0);
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

static void test_gzip__decompress_members_and_errors(void)
{
	struct buf z, back;
	size_t one;

	buf_init(&z, 0);
	buf_init(&back, 0);
	CHECK_INT(gzip_compress(&z, "abc", 3, 1), 0);
	one = z.len;
	CHECK_INT(gzip_compress(&z, "def", 3, 9), 0);
	/* Two members read as one body, as gunzip does. */
	CHECK_INT(gzip_decompress(&back, z.data, z.len), 0);
	CHECK_STR(back.data, "abcdef");
	/* Truncated: an error, and out is left as it was. */
	buf_reset(&back);
	CHECK_INT(buf_puts(&back, "kept"), 0);
	CHECK_INT(gzip_decompress(&back, z.data, one - 4), RELAY_EINVAL);
	CHECK_STR(back.data, "kept");
	CHECK_CONTAINS(relay_error_last(), "gzip:");
	/* Not gzip at all. */
	CHECK_INT(gzip_decompress(&back, "not gzip data", 13), RELAY_EINVAL);
	/* A corrupted body. */
	z.data[one / 2] ^= 0x55;
	CHECK_INT(gzip_decompress(&back, z.data, one), RELAY_EINVAL);
	CHECK_STR(back.data, "kept");
	buf_dispose(&z);
	buf_dispose(&back);
}

static void test_gzip__decompress_cap(void)
{
	static char zeros[100000];
	struct buf z, back;

	buf_init(&z, 0);
	buf_init(&back, 1000);
	CHECK_INT(gzip_compress(&z, zeros, sizeof(zeros), 6), 0);
	CHECK(z.len < 1000); /* small on the wire, large inflated */
	CHECK_INT(gzip_decompress(&back, z.data, z.len), RELAY_EFULL);
	CHECK_INT(back.len, 0);
	buf_dispose(&z);
	buf_dispose(&back);
}

int main(void)
{
	UNIT_RUN(test_gzip__round_trip);
	UNIT_RUN(test_gzip__empty);
	UNIT_RUN(test_gzip__large);
	UNIT_RUN(test_gzip__append_and_cap);
	UNIT_RUN(test_gzip__bad_level);
	UNIT_RUN(test_gzip__decompress_members_and_errors);
	UNIT_RUN(test_gzip__decompress_cap);
	return unit_finish();
}
