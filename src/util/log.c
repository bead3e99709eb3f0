/* SPDX-License-Identifier: Apache-2.0 */
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

/* The verbosity gate is set once from the loaded config (and on reload). */
static enum log_level current_level = LOG_INFO;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void log_set_level(enum log_level level)
{
	current_level = level;
}

enum log_level log_get_level(void)
{
	return current_level;
}

int log_level_parse(const char *s, enum log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]);
	     i++) {
		if (strcasecmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

const char *log_quote(char *buf, size_t size, const char *value)
{
	size_t o = 0;

	if (size < 3) {
		if (size)
			buf[0] = '\0';
		return buf;
	}
	buf[o++] = '"';
	for (const char *p = value ? value : ""; *p && o + 3 < size; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (c < 0x20) {
			buf[o++] = ' ';
		} else {
			buf[o++] = (char)c;
		}
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

size_t log_escape_controls(char *dst, size_t size, const char *src)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)src;
	     *p && o + 5 < size; p++) {
		if (*p >= 0x20 && *p != 0x7f) {
			dst[o++] = (char)*p;
			continue;
		}
		dst[o++] = '\\';
		if (*p == '\n' || *p == '\r' || *p == '\t') {
			dst[o++] = *p == '\n' ? 'n' : *p == '\r' ? 'r' : 't';
		} else {
			dst[o++] = 'x';
			dst[o++] = hex[*p >> 4];
			dst[o++] = hex[*p & 15];
		}
	}
	dst[o] = '\0';
	return o;
}

void log_write(enum log_level level, const char *msg, const char *kv_fmt, ...)
{
	char line[4096], kv[4096], ts[32], qmsg[512];
	struct timeval tv;
	struct tm tm;
	size_t n;
	va_list ap;

	if (level > current_level)
		return;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	n = (size_t)snprintf(line, sizeof(line), "ts=%s.%03ldZ level=%s msg=%s",
	                     ts, (long)(tv.tv_usec / 1000), level_names[level],
	                     log_quote(qmsg, sizeof(qmsg), msg));
	if (kv_fmt && *kv_fmt && n < sizeof(line) - 2) {
		line[n++] = ' ';
		va_start(ap, kv_fmt);
		vsnprintf(kv, sizeof(kv), kv_fmt, ap);
		va_end(ap);
		log_escape_controls(line + n, sizeof(line) - n, kv);
	}
	/* One write per line so concurrent processes do not interleave. */
	n = strlen(line);
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	fwrite(line, 1, n, stderr);
}
