/* SPDX-License-Identifier: Apache-2.0 */
/*
 * output: JSON Lines writer.  See output.h.
 */
#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int output_open(struct output *o, const char *path)
{
	o->fd = -1;
	o->close_fd = false;
	pthread_mutex_init(&o->lock, NULL);
	if (!path)
		return 0;
	if (!strcmp(path, "-")) {
		o->fd = STDOUT_FILENO;
		return 0;
	}
	o->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (o->fd < 0)
		return relay_error_set("open %s: %s", path, strerror(errno));
	o->close_fd = true;
	return 0;
}

void output_close(struct output *o)
{
	if (o->close_fd)
		close(o->fd);
	o->fd = -1;
	pthread_mutex_destroy(&o->lock);
}

bool output_enabled(const struct output *o)
{
	return o->fd >= 0;
}

/* The buffers here have no cap, so appends cannot fail. */
static void put(struct buf *b, const void *p, size_t n)
{
	if (buf_append(b, p, n) != 0)
		abort();
}

static void puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

/* A JSON value as sent, on one line. */
static void put_oneline(struct buf *b, const char *p, size_t n)
{
	if (!memchr(p, '\n', n) && !memchr(p, '\r', n)) {
		put(b, p, n);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		/* Outside strings only: JSON strings cannot hold raw
		 * newlines, so every one found here is whitespace. */
		char c = p[i] == '\n' || p[i] == '\r' ? ' ' : p[i];

		put(b, &c, 1);
	}
}

static void put_time(struct buf *b, double t)
{
	char num[64];
	int n = snprintf(num, sizeof(num), "%.6f", t);

	while (n > 1 && num[n - 1] == '0')
		n--;
	if (n > 1 && num[n - 1] == '.')
		n--;
	put(b, num, (size_t)n);
}

/* An envelope string if it was given (null counts as absent). */
static void
put_meta(struct buf *b, const char *key, const struct jval *v, const char *dflt)
{
	puts_(b, key);
	if (v && v->type == JT_STRING)
		put(b, v->p, v->len);
	else
		puts_(b, dflt);
}

static void put_tail(struct buf *b, const struct line_meta *m)
{
	char num[32];

	puts_(b, ",\"channel\":");
	puts_(b, m->channel);
	puts_(b, ",\"ack_id\":");
	if (m->ack_id >= 0) {
		snprintf(num, sizeof(num), "%lld", (long long)m->ack_id);
		puts_(b, num);
	} else {
		puts_(b, "null");
	}
	puts_(b, ",\"token\":");
	puts_(b, m->token);
	puts_(b, ",\"endpoint\":\"");
	puts_(b, m->endpoint);
	puts_(b, "\"}\n");
}

void output_format_envelope(struct buf *b,
                            const struct envelope *e,
                            const struct line_meta *m)
{
	puts_(b, "{\"time\":");
	put_time(b, e->has_time ? e->time : m->received);
	put_meta(b, ",\"host\":", &e->host, m->host);
	put_meta(b, ",\"source\":", &e->source, m->source);
	put_meta(b, ",\"sourcetype\":", &e->sourcetype, m->sourcetype);
	put_meta(b, ",\"index\":", &e->index, m->index);
	if (e->fields.type == JT_OBJECT) {
		puts_(b, ",\"fields\":");
		put_oneline(b, e->fields.p, e->fields.len);
	}
	puts_(b, ",\"event\":");
	put_oneline(b, e->event.p, e->event.len);
	put_tail(b, m);
}

void output_format_raw(struct buf *b,
                       const char *event,
                       size_t len,
                       const struct line_meta *m)
{
	json_t *s = json_stringn_nocheck(event, len);
	char *lit = json_dumps(s, JSON_ENCODE_ANY | JSON_COMPACT);

	puts_(b, "{\"time\":");
	put_time(b, m->received);
	put_meta(b, ",\"host\":", NULL, m->host);
	put_meta(b, ",\"source\":", NULL, m->source);
	put_meta(b, ",\"sourcetype\":", NULL, m->sourcetype);
	put_meta(b, ",\"index\":", NULL, m->index);
	puts_(b, ",\"event\":");
	puts_(b, lit ? lit : "\"\"");
	put_tail(b, m);
	free(lit);
	json_decref(s);
}

int output_write(struct output *o, const char *data, size_t len)
{
	int rc = 0;

	if (o->fd < 0 || len == 0)
		return 0;
	pthread_mutex_lock(&o->lock);
	while (len > 0) {
		ssize_t n = write(o->fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = relay_error_set("write output: %s",
			                     strerror(errno));
			break;
		}
		data += n;
		len -= (size_t)n;
	}
	pthread_mutex_unlock(&o->lock);
	return rc;
}
