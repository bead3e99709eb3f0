/* SPDX-License-Identifier: Apache-2.0 */
#include "acks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

/*
 * Answers to concurrent requests on one channel complete in any order, so
 * an ack id below the highest one seen is normal: id x can arrive after
 * id y > x only if x's request was in flight while y was issued, and at
 * most relay.max_in_flight (<= 256) requests are in flight.  Each channel
 * remembers which of the last ACK_WINDOW ids it was given; an id given
 * twice, or one further below than that, means HEC reset the channel.
 */
#define ACK_WINDOW 256
#define ACK_WINDOW_WORDS (ACK_WINDOW / 64)

struct pending {
	uint64_t ack_id;
	int64_t batch_id;
	int n_events;
	int64_t sent_ms;
	bool acked;       /* polled true, waiting for its barrier */
	uint64_t barrier; /* requests up to this seq must be answered first */
};

struct channel {
	char guid[40];
	size_t endpoint;
	struct pending *v;
	size_t n, cap;
	bool polling;
	bool dead;    /* slot reusable (acks_gc) */
	bool retired; /* credits no ack id any more (acks_retire) */
	bool issued_any;
	uint64_t max_issued; /* highest ack id seen on this channel */
	/* bit i: id max_issued - i was given to us (i < ACK_WINDOW) */
	uint64_t seen[ACK_WINDOW_WORDS];
	uint64_t epoch;
	int delay_ms; /* current poll back-off */
	int64_t next_poll_ms;
	uint64_t next_seq; /* requests started on the channel, numbered */
	uint64_t *open;    /* seqs of requests not answered yet */
	size_t n_open, cap_open;
};

struct acks {
	struct channel *ch;
	size_t n_ch;
	int min_poll_ms, max_poll_ms, timeout_ms;
};

struct acks *acks_new(int min_poll_ms, int max_poll_ms, int timeout_ms)
{
	struct acks *a = xcalloc(1, sizeof(*a));

	a->min_poll_ms = min_poll_ms > 0 ? min_poll_ms : 1;
	a->max_poll_ms =
	        max_poll_ms > a->min_poll_ms ? max_poll_ms : a->min_poll_ms;
	a->timeout_ms = timeout_ms;
	return a;
}

void acks_free(struct acks *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n_ch; i++) {
		free(a->ch[i].v);
		free(a->ch[i].open);
	}
	free(a->ch);
	free(a);
}

int acks_channel(struct acks *a, size_t endpoint, const char *guid)
{
	struct channel *c;

	size_t slot = a->n_ch;

	for (size_t i = 0; i < a->n_ch; i++) {
		if (a->ch[i].dead) {
			slot = slot < a->n_ch ? slot : i;
			continue;
		}
		if (a->ch[i].endpoint == endpoint &&
		    strcmp(a->ch[i].guid, guid) == 0)
			return (int)i;
	}
	if (slot == a->n_ch) {
		a->ch = xrealloc(a->ch, (a->n_ch + 1) * sizeof(*a->ch));
		a->n_ch++;
	} else {
		free(a->ch[slot].v);
		free(a->ch[slot].open);
	}
	c = &a->ch[slot];
	memset(c, 0, sizeof(*c));
	snprintf(c->guid, sizeof(c->guid), "%s", guid);
	c->endpoint = endpoint;
	c->delay_ms = a->min_poll_ms;
	return (int)slot;
}

void acks_gc(struct acks *a, const bool *keep)
{
	for (size_t i = 0; i < a->n_ch; i++) {
		struct channel *c = &a->ch[i];

		if (!keep[i] && !c->n && !c->n_open && !c->polling)
			c->dead = true;
	}
}

size_t acks_channel_slots(const struct acks *a)
{
	return a->n_ch;
}

const char *acks_channel_guid(const struct acks *a, int ch)
{
	return a->ch[ch].guid;
}

size_t acks_channel_endpoint(const struct acks *a, int ch)
{
	return a->ch[ch].endpoint;
}

void acks_retire(struct acks *a, int ch)
{
	struct channel *c = &a->ch[ch];

	c->retired = true;
	c->n = 0;
	c->epoch++; /* answers to polls in flight prove nothing now */
}

uint64_t acks_request_started(struct acks *a, int ch)
{
	struct channel *c = &a->ch[ch];

	if (c->n_open == c->cap_open) {
		c->cap_open = c->cap_open ? c->cap_open * 2 : 8;
		c->open = xrealloc(c->open, c->cap_open * sizeof(*c->open));
	}
	c->open[c->n_open++] = c->next_seq;
	return c->next_seq++;
}

/* Move the batches whose `true` no open request can contradict any more
 * into *out and their send times into *sent (from *n on). */
static void
take_cleared(struct channel *c, int64_t **out, int64_t **sent, size_t *n)
{
	uint64_t oldest = UINT64_MAX;
	size_t keep = 0;

	for (size_t i = 0; i < c->n_open; i++)
		if (c->open[i] < oldest)
			oldest = c->open[i];
	for (size_t j = 0; j < c->n; j++) {
		const struct pending *e = &c->v[j];

		if (!e->acked || (c->n_open && e->barrier >= oldest)) {
			c->v[keep++] = c->v[j];
			continue;
		}
		*out = xrealloc(*out, (*n + 1) * sizeof(**out));
		*sent = xrealloc(*sent, (*n + 1) * sizeof(**sent));
		(*out)[*n] = e->batch_id;
		(*sent)[(*n)++] = e->sent_ms;
	}
	c->n = keep;
}

size_t acks_request_done(struct acks *a,
                         int ch,
                         uint64_t seq,
                         int64_t **batches,
                         int64_t **sent_ms)
{
	struct channel *c = &a->ch[ch];
	size_t n = 0;

	*batches = NULL;
	*sent_ms = NULL;
	for (size_t i = 0; i < c->n_open; i++)
		if (c->open[i] == seq) {
			c->open[i] = c->open[--c->n_open];
			break;
		}
	take_cleared(c, batches, sent_ms, &n);
	return n;
}

bool acks_retired(const struct acks *a, int ch)
{
	return a->ch[ch].retired;
}

void acks_batches(const struct acks *a, int ch, int64_t **out, size_t *n)
{
	for (size_t i = 0; i < a->n_ch; i++) {
		const struct channel *c = &a->ch[i];

		if (ch >= 0 && (size_t)ch != i)
			continue;
		*out = xrealloc(*out, (*n + c->n + 1) * sizeof(**out));
		for (size_t j = 0; j < c->n; j++)
			(*out)[(*n)++] = c->v[j].batch_id;
	}
}

bool acks_forget(struct acks *a, int64_t batch)
{
	for (size_t i = 0; i < a->n_ch; i++) {
		struct channel *c = &a->ch[i];

		for (size_t j = 0; j < c->n; j++) {
			if (c->v[j].batch_id != batch)
				continue;
			c->v[j] = c->v[--c->n];
			return true;
		}
	}
	return false;
}

/* Shift the seen-window up by d ids. */
static void seen_shift(uint64_t *w, uint64_t d)
{
	size_t words, bits;

	if (d >= ACK_WINDOW) {
		memset(w, 0, ACK_WINDOW_WORDS * sizeof(*w));
		return;
	}
	words = (size_t)(d / 64);
	bits = (size_t)(d % 64);
	for (size_t i = ACK_WINDOW_WORDS; i-- > 0;) {
		uint64_t v = 0;

		if (i >= words) {
			v = w[i - words] << bits;
			if (bits && i - words >= 1)
				v |= w[i - words - 1] >> (64 - bits);
		}
		w[i] = v;
	}
}

/* Record that HEC gave us ack_id on c; false when that shows a reset. */
static bool note_issued(struct channel *c, uint64_t ack_id)
{
	uint64_t back;

	if (!c->issued_any || ack_id > c->max_issued) {
		seen_shift(c->seen,
		           c->issued_any ? ack_id - c->max_issued : ACK_WINDOW);
		c->max_issued = ack_id;
		c->issued_any = true;
		c->seen[0] |= 1;
		return true;
	}
	back = c->max_issued - ack_id;
	if (back >= ACK_WINDOW || (c->seen[back / 64] >> (back % 64) & 1))
		return false;
	c->seen[back / 64] |= UINT64_C(1) << (back % 64);
	return true;
}

bool acks_add(struct acks *a,
              int ch,
              uint64_t ack_id,
              int64_t batch_id,
              int n_events,
              int64_t sent_ms,
              int64_t now_ms)
{
	struct channel *c = &a->ch[ch];

	if (c->retired || !note_issued(c, ack_id))
		return false;
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		c->v = xrealloc(c->v, c->cap * sizeof(*c->v));
	}
	c->v[c->n++] = (struct pending){.ack_id = ack_id,
	                                .batch_id = batch_id,
	                                .n_events = n_events,
	                                .sent_ms = sent_ms};
	/* A fresh send: poll soon, whatever the back-off had reached. */
	c->delay_ms = a->min_poll_ms;
	if (c->n == 1 || now_ms + a->min_poll_ms < c->next_poll_ms)
		c->next_poll_ms = now_ms + a->min_poll_ms;
	return true;
}

size_t acks_pending_batches(const struct acks *a)
{
	size_t n = 0;

	for (size_t i = 0; i < a->n_ch; i++)
		n += a->ch[i].n;
	return n;
}

size_t acks_pending_events(const struct acks *a)
{
	size_t n = 0;

	for (size_t i = 0; i < a->n_ch; i++)
		for (size_t j = 0; j < a->ch[i].n; j++)
			n += (size_t)a->ch[i].v[j].n_events;
	return n;
}

int acks_next_poll(struct acks *a,
                   int64_t now_ms,
                   uint64_t **ids,
                   size_t *n,
                   uint64_t *epoch)
{
	for (size_t i = 0; i < a->n_ch; i++) {
		struct channel *c = &a->ch[i];

		size_t k = 0;

		if (c->polling || !c->n || c->next_poll_ms > now_ms)
			continue;
		*ids = xmalloc(c->n * sizeof(**ids));
		for (size_t j = 0; j < c->n; j++)
			if (!c->v[j].acked)
				(*ids)[k++] = c->v[j].ack_id;
		if (!k) { /* all true already, waiting for their barrier */
			free(*ids);
			continue;
		}
		*n = k;
		*epoch = c->epoch;
		c->polling = true;
		return (int)i;
	}
	return -1;
}

static void
reschedule(struct acks *a, struct channel *c, int64_t now_ms, bool progress)
{
	if (progress)
		c->delay_ms = a->min_poll_ms;
	else if (c->delay_ms < a->max_poll_ms)
		c->delay_ms = c->delay_ms * 2 > a->max_poll_ms
		                      ? a->max_poll_ms
		                      : c->delay_ms * 2;
	c->next_poll_ms = now_ms + c->delay_ms;
}

size_t acks_poll_done(struct acks *a,
                      int ch,
                      uint64_t epoch,
                      const uint64_t *ids,
                      const bool *acked,
                      size_t n,
                      int64_t now_ms,
                      int64_t **batches,
                      int64_t **sent_ms)
{
	struct channel *c = &a->ch[ch];
	size_t hits = 0, found = 0;

	*batches = NULL;
	*sent_ms = NULL;
	c->polling = false;
	if (epoch != c->epoch) {
		reschedule(a, c, now_ms, true);
		return 0;
	}
	for (size_t j = 0; j < c->n; j++) {
		struct pending *e = &c->v[j];

		for (size_t k = 0; k < n && !e->acked; k++)
			if (acked[k] && ids[k] == e->ack_id) {
				/* A request still unanswered may have taken
				 * this id too (a reset, another indexer): the
				 * true counts once those answers are in. */
				e->acked = true;
				e->barrier = c->next_seq ? c->next_seq - 1 : 0;
				hits++;
			}
	}
	take_cleared(c, batches, sent_ms, &found);
	reschedule(a, c, now_ms, hits > 0);
	return found;
}

void acks_poll_failed(struct acks *a, int ch, int64_t now_ms)
{
	struct channel *c = &a->ch[ch];

	c->polling = false;
	reschedule(a, c, now_ms, false);
}

size_t acks_take_expired(struct acks *a, int64_t now_ms, int64_t **batches)
{
	size_t found = 0, cap = 0;

	*batches = NULL;
	for (size_t i = 0; i < a->n_ch; i++) {
		struct channel *c = &a->ch[i];
		size_t keep = 0;

		for (size_t j = 0; j < c->n; j++) {
			if (c->v[j].sent_ms + a->timeout_ms > now_ms) {
				c->v[keep++] = c->v[j];
				continue;
			}
			if (found == cap) {
				cap = cap ? cap * 2 : 8;
				*batches = xrealloc(*batches,
				                    cap * sizeof(**batches));
			}
			(*batches)[found++] = c->v[j].batch_id;
		}
		c->n = keep;
	}
	return found;
}

int64_t acks_next_deadline(const struct acks *a)
{
	int64_t best = -1;

	for (size_t i = 0; i < a->n_ch; i++) {
		const struct channel *c = &a->ch[i];

		for (size_t j = 0; j < c->n; j++) {
			int64_t t = c->v[j].sent_ms + a->timeout_ms;

			if (best < 0 || t < best)
				best = t;
		}
		if (c->n && !c->polling && (best < 0 || c->next_poll_ms < best))
			best = c->next_poll_ms;
	}
	return best;
}
