/* SPDX-License-Identifier: Apache-2.0 */
#include "util/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char last_error[1024];

int relay_error_set(const char *fmt, ...)
{
	/* Formatted aside first: callers prefix the last error with
	 * relay_error_set("...: %s", relay_error_last()), and vsnprintf into
	 * the buffer it reads from is undefined. */
	char msg[sizeof(last_error)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	memcpy(last_error, msg, sizeof(last_error));
	return RELAY_ERR;
}

const char *relay_error_last(void)
{
	return last_error;
}

void relay_error_clear(void)
{
	last_error[0] = '\0';
}
