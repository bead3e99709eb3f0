/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sys: the few things the relay asks of the operating system — a
 * monotonic clock, randomness, GUIDs, reading a secret file.  Pure modules
 * take their results as parameters instead of calling these.
 */
#ifndef RELAY_SYS_H
#define RELAY_SYS_H

#include <stdint.h>

#include "util/err.h"

/* Milliseconds on the monotonic clock. */
int64_t sys_now_ms(void);

/* A uniform random 32-bit value (getrandom). */
uint32_t sys_random_u32(void);

/* A random (version 4) GUID, lower-case, 36 characters + NUL. */
void sys_uuid_v4(char out[37]);

/*
 * Read a small secret file (a token), trimming surrounding white space.
 * A control character inside (a CR/LF would add request headers) is an
 * error.  *out is a new string (free it); RELAY_ERR names the file and the
 * byte, never the content.
 */
int sys_read_secret(char **out, const char *path) RELAY_MUSTCHECK;

/*
 * Whether the secret file at path is kept private, by PostgreSQL's rule
 * for its key file: 0 when it is a regular file of this user that only its
 * owner may read or write (0600), or a file of root's that at most its
 * group may also read (0640 root:clawdstrike); RELAY_ERR with the problem
 * and the fix in the error message otherwise (more access, another owner,
 * cannot stat).
 */
int sys_secret_private(const char *path) RELAY_MUSTCHECK;

#endif
