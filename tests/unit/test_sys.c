/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

static void mode_file(char *path, size_t size, mode_t mode)
{
	secret_file(path, size, "s.abcdef\n");
	CHECK_INT(chmod(path, mode), 0);
}

/* 0600 for one's own file; a root-owned file may let its group read
 * (0640 root:clawdstrike, the relay in group clawdstrike); nothing more. */
static void test_sys__secret_file_private(void)
{
	char own[64], wide[64], rootgrp[64], rootall[64];

	mode_file(own, sizeof(own), 0600);
	mode_file(wide, sizeof(wide), 0644);
	mode_file(rootgrp, sizeof(rootgrp), 0640);
	mode_file(rootall, sizeof(rootall), 0644);
	CHECK_INT(sys_secret_private(own), 0);
	CHECK_INT(sys_secret_private(wide), RELAY_ERR);
	CHECK(strstr(relay_error_last(), "(mode 0644): chmod 600") != NULL);
	CHECK_INT(sys_secret_private("/nonexistent/token"), RELAY_ERR);
	/* As another user, the files are root's (the tests run as root). */
	if (geteuid() == 0 && seteuid(65534) == 0) {
		CHECK_INT(sys_secret_private(rootgrp), 0);
		CHECK_INT(sys_secret_private(rootall), RELAY_ERR);
		CHECK_INT(seteuid(0), 0);
	}
	unlink(own);
	unlink(wide);
	unlink(rootgrp);
	unlink(rootall);
}

int main(void)
{
	UNIT_RUN(test_sys__secret_trimmed);
	UNIT_RUN(test_sys__secret_with_crlf_refused);
	UNIT_RUN(test_sys__secret_file_private);
	return unit_finish();
}
