/* SPDX-License-Identifier: Apache-2.0 */
/*
 * buf: a growable byte buffer with a hard cap (curl's dynbuf "toobig").
 *
 * The cap lets the batcher build HEC bodies that can never exceed the
 * server's limit: an append that would pass it fails with RELAY_EFULL and
 * leaves the buffer as it was.  The data is always NUL-terminated (the NUL
 * is not counted in len).  Caller-held: buf_init/buf_dispose.
 */
#ifndef RELAY_BUF_H
#define RELAY_BUF_H

#include <stddef.h>

#include "util/err.h"

struct buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max; /* 0: no cap */
};

void buf_init(struct buf *b, size_t max);
void buf_dispose(struct buf *b);
/* Empty the buffer, keeping its allocation. */
void buf_reset(struct buf *b);

/* Append n bytes; RELAY_EFULL (buffer unchanged) when the cap would pass. */
int buf_append(struct buf *b, const void *p, size_t n) RELAY_MUSTCHECK;
int buf_puts(struct buf *b, const char *s) RELAY_MUSTCHECK;
int buf_printf(struct buf *b, const char *fmt, ...) RELAY_MUSTCHECK
        RELAY_PRINTF(2, 3);
/* Cut the buffer back to len bytes (len <= b->len), e.g. to undo a step. */
void buf_truncate(struct buf *b, size_t len);

/* Hand the data to the caller (who frees it); the buffer becomes empty. */
char *buf_take(struct buf *b, size_t *len_out);

#endif
