/* SPDX-License-Identifier: Apache-2.0 */
#include "util/sys.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/xalloc.h"

/* Secrets are short; anything bigger is a wrong path. */
#define SECRET_MAX 8192

int64_t sys_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void random_bytes(void *p, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = getrandom((char *)p + got, n - got, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			abort(); /* no entropy source: nothing sane to do */
		got += (size_t)r;
	}
}

uint32_t sys_random_u32(void)
{
	uint32_t v;

	random_bytes(&v, sizeof(v));
	return v;
}

void sys_uuid_v4(char out[37])
{
	unsigned char b[16];

	random_bytes(b, sizeof(b));
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37,
	         "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	         "%02x%02x%02x%02x%02x%02x",
	         b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
	         b[10], b[11], b[12], b[13], b[14], b[15]);
}

int sys_secret_private(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return relay_error_set("cannot stat %s: %s", path,
		                       strerror(errno));
	if (!S_ISREG(st.st_mode))
		return relay_error_set("%s is not a regular file", path);
	if (st.st_uid != geteuid() && st.st_uid != 0)
		return relay_error_set("%s belongs to uid %ld, not to this user"
		                       " (uid %ld) or root: chown it",
		                       path, (long)st.st_uid, (long)geteuid());
	/* As PostgreSQL's rule for its key file: 0600 for our own file; a
	 * root-owned one may let its group read (0640 root:clawdstrike). */
	if (st.st_mode & (st.st_uid == 0 && st.st_uid != geteuid()
	                          ? (mode_t)(S_IWGRP | S_IXGRP | S_IRWXO)
	                          : (mode_t)(S_IRWXG | S_IRWXO)))
		return relay_error_set("%s is readable or writable by group or"
		                       " others (mode %04o): chmod 600 %s (or"
		                       " 640 if root owns it)",
		                       path, (unsigned)(st.st_mode & 07777),
		                       path);
	return 0;
}

int sys_read_secret(char **out, const char *path)
{
	char buf[SECRET_MAX + 1];
	size_t n, start = 0;
	FILE *f;

	*out = NULL;
	f = fopen(path, "r");
	if (!f)
		return relay_error_set("cannot read %s: %s", path,
		                       strerror(errno));
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if (n > SECRET_MAX)
		return relay_error_set("%s: larger than %d bytes", path,
		                       SECRET_MAX);
	while (n && isspace((unsigned char)buf[n - 1]))
		n--;
	while (start < n && isspace((unsigned char)buf[start]))
		start++;
	if (start == n)
		return relay_error_set("%s is empty", path);
	/* A secret goes into a request header: a CR or LF inside it would
	 * add headers of its own (a Vault request, an HEC request). */
	for (size_t i = start; i < n; i++)
		if (iscntrl((unsigned char)buf[i]))
			return relay_error_set(
			        "%s: the secret has a control character at byte"
			        " %zu (one line, no CR/LF inside)",
			        path, i - start + 1);
	*out = xstrndup(buf + start, n - start);
	return 0;
}
