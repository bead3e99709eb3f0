/* SPDX-License-Identifier: Apache-2.0 */
/*
 * xalloc: allocation that aborts on exhaustion.
 *
 * The relay keeps no state that only lives in memory: unacknowledged rows
 * stay claimable in PostgreSQL, so dying on OOM and being restarted by the
 * supervisor loses nothing, and no code path needs an OOM branch.
 */
#ifndef RELAY_XALLOC_H
#define RELAY_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a fresh allocation; the caller frees it. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
