/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for routing conditions: arbitrary bytes as a condition.
 * A compiled condition is evaluated against an event derived from the
 * input, so both the parser and the evaluator are exercised.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *values[] = {"critical", "high", "true", "false",
                               "443",      "x",    "",     NULL};

static const char *get(const char *field, void *arg)
{
	unsigned seed = *(const unsigned *)arg;

	return values[(seed + strlen(field)) % 8];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct route_expr *e = NULL;
	char *text = malloc(size + 1);
	unsigned seed = size ? data[0] : 0;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (route_compile(&e, text) == 0) {
		(void)route_eval(e, get, &seed);
		(void)route_is_default(e);
		route_free(e);
	}
	free(text);
	return 0;
}
