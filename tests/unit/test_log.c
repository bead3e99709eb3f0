/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "util/log.h"

/* What one log_write() puts on stderr. */
static void capture(char *out, size_t size, const char *value)
{
	FILE *f = tmpfile();
	int saved = dup(2);
	size_t n;

	CHECK(f != NULL && saved >= 0);
	fflush(stderr);
	dup2(fileno(f), 2);
	log_write(LOG_WARN, "hec answered", "batch=7 reason=\"%s\"", value);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(f);
	n = fread(out, 1, size - 1, f);
	out[n] = '\0';
	fclose(f);
}

/* A value from outside cannot end the line and forge another, nor carry
 * a terminal escape. */
static void test_log__controls_escaped(void)
{
	char line[4096];

	capture(line, sizeof(line),
	        "bad\nts=2026-01-01T00:00:00.000Z level=error msg=\"forged\"\r\x1b[2J\t!");
	CHECK(strchr(line, '\n') == line + strlen(line) - 1);
	CHECK(strchr(line, '\r') == NULL);
	CHECK(strchr(line, '\x1b') == NULL);
	CHECK(strstr(line, "reason=\"bad\\nts=2026") != NULL);
	CHECK(strstr(line, "\\r\\x1b[2J\\t!\"") != NULL);
}

static void test_log__plain_values_untouched(void)
{
	char line[4096];

	capture(line, sizeof(line), "HEC said: Invalid data format (6)");
	CHECK(strstr(line, " level=warn msg=\"hec answered\" batch=7"
	                   " reason=\"HEC said: Invalid data format (6)\"\n") !=
	      NULL);
}

int main(void)
{
	UNIT_RUN(test_log__controls_escaped);
	UNIT_RUN(test_log__plain_values_untouched);
	return unit_finish();
}
