/* SPDX-License-Identifier: Apache-2.0 */
#include "util/err.h"

#include <stdarg.h>
#include <stdio.h>

static _Thread_local char last_error[1024];

int relay_error_set(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
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
