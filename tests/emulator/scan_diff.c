/* SPDX-License-Identifier: Apache-2.0 */
/*
 * scan_diff: the emulator's JSON scanner (jscan) must accept exactly what
 * jansson accepts.  Seed documents are mutated at random (byte flips,
 * inserts, deletes, truncations) and both parsers judge every variant;
 * any disagreement is printed and fails the test.  The only tolerated
 * differences are the documented ones (numbers jansson rejects as too
 * big), which are skipped.
 *
 * Usage: hec-scan-diff [ITERATIONS] [SEED]
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jscan.h"

static const char *const seeds[] = {
        "{\"event\":\"hello\"}",
        "{\"time\":1433188255.500,\"host\":\"h\",\"event\":{\"a\":[1,2,{\"b\""
        ":null}],\"c\":true,\"d\":false}}",
        "{\"fields\":{\"wins\":[\"regionals\",\"nationals\"],\"n\":-0.5e+3},"
        "\"event\":\"x\"}",
        "[1, 2.5, -3e-2, \"s\\u00e9\\n\\t\\\"\", {}, [], [[]], null]",
        "\"\\ud83d\\ude00 caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"",
        "  {\"k\" : [ true , false , null ] }  \n",
        "{\"a\":{\"b\":{\"c\":{\"d\":[0,-0,0.0,1E5,2e-5]}}}}",
        "\"\\/\\b\\f\\r\\u0041\\u00ff\\uFFFF\"",
        "-12345678901234",
        "{\"event\":\"\",\"index\":\"main\",\"sourcetype\":\"_json\"}",
};

/* Bytes that make mutations interesting for a JSON lexer. */
static const char alphabet[] = "{}[]\",:\\/u0123456789abcdefABCDEF-+.eE "
                               "\t\n\rtrunlsf\x80\xbf\xc0\xc3\xe2\xed\xf0\xf4"
                               "\xff\x01";

static bool jansson_ok(const char *p, size_t n, bool *skip)
{
	json_error_t err;
	json_t *j = json_loadb(p, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);

	*skip = !j &&
	        (strstr(err.text, "too big") || strstr(err.text, "overflow"));
	json_decref(j);
	return j != NULL;
}

static bool jscan_ok(const char *p, size_t n)
{
	const char *end = p + n, *s = jscan_ws(p, end);
	struct jval v;

	if (jscan_value(s, end, &v) != 0)
		return false;
	return jscan_ws(s + v.len, end) == end;
}

static size_t mutate(char *buf, size_t n, size_t cap, unsigned *rs)
{
	int k = 1 + rand_r(rs) % 3;

	for (int i = 0; i < k; i++) {
		size_t at = n ? (size_t)rand_r(rs) % n : 0;
		char c = alphabet[rand_r(rs) % (int)(sizeof(alphabet) - 1)];

		switch (rand_r(rs) % 4) {
		case 0:
			if (n)
				buf[at] = c;
			break;
		case 1:
			if (n + 1 < cap) {
				memmove(buf + at + 1, buf + at, n - at);
				buf[at] = c;
				n++;
			}
			break;
		case 2:
			if (n) {
				memmove(buf + at, buf + at + 1, n - at - 1);
				n--;
			}
			break;
		default:
			n = at;
			break;
		}
	}
	return n;
}

static void dump(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c >= 0x20 && c < 0x7f)
			putc(c, stderr);
		else
			fprintf(stderr, "\\x%02x", c);
	}
	putc('\n', stderr);
}

int main(int argc, char **argv)
{
	long iters = argc > 1 ? strtol(argv[1], NULL, 10) : 300000;
	unsigned rs = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 1;
	size_t nseeds = sizeof(seeds) / sizeof(seeds[0]);
	long passed = 0, failed = 0, skipped = 0, valid = 0;
	char buf[512];

	for (long i = 0; i < iters; i++) {
		const char *seed = seeds[(size_t)i % nseeds];
		size_t n = strlen(seed);
		bool skip, a, b;

		memcpy(buf, seed, n);
		if (i >= (long)nseeds)
			n = mutate(buf, n, sizeof(buf), &rs);
		a = jansson_ok(buf, n, &skip);
		if (skip) {
			skipped++;
			continue;
		}
		b = jscan_ok(buf, n);
		valid += a;
		if (a == b) {
			passed++;
			continue;
		}
		failed++;
		if (failed <= 10) {
			fprintf(stderr, "disagree: jansson=%d jscan=%d: ", a,
			        b);
			dump(buf, n);
		}
	}
	printf("%ld valid variants, %ld skipped\n", valid, skipped);
	printf("%ld passed, %ld failed\n", passed, failed);
	return failed ? 1 : 0;
}
