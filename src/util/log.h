/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log: structured logfmt lines on stderr.
 *
 *   ts=2026-11-27T02:05:28.123Z level=info msg="batch sent" batch=12 ack=3
 *
 * The message is a fixed string; context travels as key=value pairs given
 * in the format argument, so lines stay greppable.  Values that may carry
 * spaces or quotes go through log_quote().  Control characters in the
 * formatted pairs are written escaped (\n, \xNN), so no value from outside
 * can end a line, forge the next one, or reach a terminal as an escape
 * sequence.  Nothing here ever sees the HEC token: callers log redacted
 * values only.
 */
#ifndef RELAY_LOG_H
#define RELAY_LOG_H

#include <stddef.h>

enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Set the verbosity gate (default LOG_INFO). Main thread, before logging. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parse "error|warn|info|debug"; returns 0 and sets *out, or -1. */
int log_level_parse(const char *s, enum log_level *out);

/*
 * Write one line: ts, level, msg="<msg>", then the formatted key=value
 * pairs (may be NULL).
 */
void log_write(enum log_level level, const char *msg, const char *kv_fmt, ...)
        __attribute__((format(printf, 3, 4)));

/*
 * Quote a value for logfmt into buf (always NUL-terminated, truncated to
 * fit): wraps in double quotes and escapes quotes, backslashes and control
 * characters.  Returns buf so it can be used inline.
 */
const char *log_quote(char *buf, size_t size, const char *value);

/*
 * Copy src to dst (size bytes, NUL-terminated, truncated to fit) with every
 * control character written as \n, \r, \t or \xNN: text from outside
 * (an HEC answer, an error text) can then neither end a line and forge the
 * next one nor reach a terminal as an escape sequence.  4 * strlen(src) + 1
 * bytes always suffice.  Returns the length written.
 */
size_t log_escape_controls(char *dst, size_t size, const char *src);

#define log_error(msg, ...) log_write(LOG_ERROR, msg, __VA_ARGS__)
#define log_warn(msg, ...) log_write(LOG_WARN, msg, __VA_ARGS__)
#define log_info(msg, ...) log_write(LOG_INFO, msg, __VA_ARGS__)
#define log_debug(msg, ...)                                                    \
	do {                                                                   \
		if (log_get_level() >= LOG_DEBUG)                              \
			log_write(LOG_DEBUG, msg, __VA_ARGS__);                \
	} while (0)

#endif
