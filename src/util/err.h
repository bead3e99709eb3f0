/* SPDX-License-Identifier: Apache-2.0 */
/*
 * err: return codes and the thread-local last error.
 *
 * Fallible functions return int: 0 on success, a negative RELAY_E* code on
 * failure, after recording one line of detail with relay_error_set().  Lower
 * layers propagate codes unchanged; only the layer that decides what to do
 * logs the message, so one failure is one log line.
 */
#ifndef RELAY_ERR_H
#define RELAY_ERR_H

#define RELAY_MUSTCHECK __attribute__((warn_unused_result))
#define RELAY_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))

enum relay_err {
	RELAY_OK = 0,
	RELAY_ERR = -1,    /* generic failure */
	RELAY_EAGAIN = -2, /* transient: back off and retry */
	RELAY_EFULL = -3,  /* limit reached: flush first */
	RELAY_EINVAL = -4, /* bad input or configuration */
};

/* Record the detail of the current failure; returns RELAY_ERR for brevity. */
int relay_error_set(const char *fmt, ...) RELAY_PRINTF(1, 2);

/* Borrowed pointer to the last message of this thread ("" when none). */
const char *relay_error_last(void);

void relay_error_clear(void);

#endif
