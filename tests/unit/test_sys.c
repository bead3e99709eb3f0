/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "util/err.h"
#include "util/sys.h"

/* Write `content` to a new temporary file; its path goes into path. */
static void secret_file(char *path, size_t size, const char *content)
{
	int fd;

	snprintf(path, size, "/tmp/test_sys.XXXXXX");
	fd = mkstemp(path);
	CHECK(fd >= 0);
	CHECK(write(fd, content, strlen(content)) == (ssize_t)strlen(content));
	close(fd);
}

static void test_sys__secret_trimmed(void)
{
	char path[64], *s = NULL;

	secret_file(path, sizeof(path), "  s.abcdef\n");
	CHECK_INT(sys_read_secret(&s, path), 0);
	CHECK_STR(s, "s.abcdef");
	free(s);
	unlink(path);
}

/* A CR/LF inside would add a header to the request the secret goes into
 * (X-Vault-Token, Authorization): refused, and the message says where,
 * not what. */
static void test_sys__secret_with_crlf_refused(void)
{
	char path[64], *s = NULL;

	secret_file(path, sizeof(path), "s.abcdef\r\nX-Injected: 1\n");
	CHECK_INT(sys_read_secret(&s, path), RELAY_ERR);
	CHECK(s == NULL);
	CHECK(strstr(relay_error_last(), "control character at byte 9") !=
	      NULL);
	CHECK(strstr(relay_error_last(), "Injected") == NULL);
	unlink(path);
}

int main(void)
{
	UNIT_RUN(test_sys__secret_trimmed);
	UNIT_RUN(test_sys__secret_with_crlf_refused);
	return unit_finish();
}
