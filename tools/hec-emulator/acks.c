/* SPDX-License-Identifier: Apache-2.0 */
/*
 * acks: channel table.  See acks.h.
 *
 * Channels live in a chained hash table keyed by the binary GUID.  A
 * channel's pending ids sit in an array in issue order (ids only grow), so
 * a poll finds an id by binary search; reported ids become holes that are
 * skipped at the head and squeezed out when they pile up.  Held events
 * (lossy mode) hang off their entry; next_due_ms is a lower bound on when
 * the first of them turns true, so sweeps walk only when one may be due.
 */
#include "acks.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

/* ready_ms of an id whose request is still being indexed. */
#define NOT_READY UINT64_MAX
/* ready_ms of an id already reported true (a hole). */
#define GONE (UINT64_MAX - 1)
/* How often acks_sweep() really walks the table for idle channels... */
#define SWEEP_EVERY_MS 1000
/* ... and for held events that are due. */
#define FLUSH_EVERY_MS 200

/* A request's formatted events, waiting for its id (lossy mode). */
struct held {
	size_t n_events, len;
	char lines[];
};

struct pending {
	uint64_t id;
	uint64_t ready_ms;
	struct held *held; /* NULL unless lossy */
};

struct channel {
	struct channel_id key;
	uint64_t next_id;
	uint64_t last_used_ms;
	struct pending *p;
	size_t head, len, cap; /* live entries are p[head..len) */
	size_t live;           /* entries that are not holes */
	struct channel *next;  /* hash chain */
};

struct acks {
	pthread_mutex_t lock;
	struct acks_limits limits;
	struct channel **buckets;
	size_t n_buckets; /* a power of two */
	size_t n_channels;
	size_t n_pending;
	uint64_t epoch;
	uint64_t last_sweep_ms;
	struct acks_sink sink;
	size_t n_held;      /* entries with held events */
	size_t held_events; /* events in them */
	uint64_t next_due_ms, last_flush_ms;
	uint64_t lost_idle;
};

static size_t hash_of(const struct channel_id *id, size_t n_buckets)
{
	uint64_t h;

	memcpy(&h, id->b, sizeof(h));
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 32;
	return (size_t)h & (n_buckets - 1);
}

struct acks *acks_new(const struct acks_limits *limits,
                      const struct acks_sink *sink)
{
	struct acks *a = xcalloc(1, sizeof(*a));

	pthread_mutex_init(&a->lock, NULL);
	a->limits = *limits;
	if (sink)
		a->sink = *sink;
	a->next_due_ms = UINT64_MAX;
	a->n_buckets = 1024;
	a->buckets = xcalloc(a->n_buckets, sizeof(*a->buckets));
	return a;
}

/* Hand an entry's held events to the sink. */
static void make_durable(struct acks *a, struct pending *p)
{
	struct held *h = p->held;

	if (!h)
		return;
	a->sink.durable(a->sink.arg, h->lines, h->len, h->n_events);
	a->n_held--;
	a->held_events -= h->n_events;
	free(h);
	p->held = NULL;
}

/* Free a channel that is already unlinked; returns the held events lost. */
static size_t channel_drop(struct acks *a, struct channel *c)
{
	size_t lost = 0;

	for (size_t i = c->head; i < c->len; i++) {
		struct held *h = c->p[i].held;

		if (!h)
			continue;
		lost += h->n_events;
		a->n_held--;
		free(h);
	}
	a->held_events -= lost;
	a->n_pending -= c->live;
	a->n_channels--;
	free(c->p);
	free(c);
	return lost;
}

/* Returns the held events lost. */
static size_t drop_all(struct acks *a)
{
	size_t lost = 0;

	for (size_t i = 0; i < a->n_buckets; i++) {
		struct channel *c = a->buckets[i], *next;

		for (; c; c = next) {
			next = c->next;
			lost += channel_drop(a, c);
		}
		a->buckets[i] = NULL;
	}
	a->next_due_ms = UINT64_MAX;
	return lost;
}

void acks_free(struct acks *a)
{
	if (!a)
		return;
	(void)drop_all(a);
	free(a->buckets);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int acks_parse_channel(const char *s, struct channel_id *out)
{
	size_t n = 0;

	if (!s || strlen(s) != 36)
		return -1;
	for (size_t i = 0; i < 36; i++) {
		int hi, lo;

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return -1;
			continue;
		}
		hi = hexval(s[i]);
		lo = hexval(s[i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out->b[n++] = (uint8_t)(hi << 4 | lo);
		i++;
	}
	return 0;
}

static struct channel *find(struct acks *a, const struct channel_id *id)
{
	struct channel *c = a->buckets[hash_of(id, a->n_buckets)];

	while (c && memcmp(c->key.b, id->b, sizeof(id->b)) != 0)
		c = c->next;
	return c;
}

static void grow_table(struct acks *a)
{
	size_t n = a->n_buckets * 2;
	struct channel **b = xcalloc(n, sizeof(*b));

	for (size_t i = 0; i < a->n_buckets; i++) {
		struct channel *c = a->buckets[i], *next;

		for (; c; c = next) {
			size_t h = hash_of(&c->key, n);

			next = c->next;
			c->next = b[h];
			b[h] = c;
		}
	}
	free(a->buckets);
	a->buckets = b;
	a->n_buckets = n;
}

static struct channel *find_or_add(struct acks *a, const struct channel_id *id)
{
	struct channel *c = find(a, id);
	size_t h;

	if (c)
		return c;
	if (a->n_channels >= a->limits.max_channels)
		return NULL;
	if (a->n_channels >= a->n_buckets)
		grow_table(a);
	c = xcalloc(1, sizeof(*c));
	c->key = *id;
	h = hash_of(id, a->n_buckets);
	c->next = a->buckets[h];
	a->buckets[h] = c;
	a->n_channels++;
	return c;
}

/* Skip holes at the head; squeeze them out when they are most of it. */
static void compact(struct channel *c)
{
	while (c->head < c->len && c->p[c->head].ready_ms == GONE)
		c->head++;
	if (c->head == c->len) {
		c->head = c->len = 0;
		return;
	}
	if (c->head > c->cap / 2) {
		memmove(c->p, c->p + c->head,
		        (c->len - c->head) * sizeof(*c->p));
		c->len -= c->head;
		c->head = 0;
	}
}

int acks_issue(struct acks *a,
               const struct channel_id *ch,
               uint64_t now_ms,
               struct ack_ticket *out)
{
	struct channel *c;
	int rc = ACKS_OK;

	pthread_mutex_lock(&a->lock);
	c = find_or_add(a, ch);
	if (!c) {
		rc = ACKS_TOO_MANY_CHANNELS;
		goto done;
	}
	c->last_used_ms = now_ms;
	if (c->live >= a->limits.max_pending_per_channel) {
		rc = ACKS_CHANNEL_FULL;
		goto done;
	}
	if (c->len == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		c->p = xrealloc(c->p, c->cap * sizeof(*c->p));
	}
	c->p[c->len].id = c->next_id;
	c->p[c->len].ready_ms = NOT_READY;
	c->p[c->len].held = NULL;
	c->len++;
	c->live++;
	a->n_pending++;
	out->ch = *ch;
	out->id = c->next_id++;
	out->epoch = a->epoch;
done:
	pthread_mutex_unlock(&a->lock);
	return rc;
}

/* The live entry for id, or NULL. */
static struct pending *lookup(struct channel *c, uint64_t id)
{
	size_t lo = c->head, hi = c->len;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->p[mid].id == id)
			return c->p[mid].ready_ms == GONE ? NULL : &c->p[mid];
		if (c->p[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static void hold(struct acks *a, struct pending *p, const struct acks_held *h)
{
	p->held = xmalloc(sizeof(*p->held) + h->len);
	p->held->n_events = h->n_events;
	p->held->len = h->len;
	if (h->len)
		memcpy(p->held->lines, h->lines, h->len);
	a->n_held++;
	a->held_events += h->n_events;
	if (p->ready_ms < a->next_due_ms)
		a->next_due_ms = p->ready_ms;
}

bool acks_mark_indexed(struct acks *a,
                       const struct ack_ticket *t,
                       uint64_t ready_ms,
                       const struct acks_held *held)
{
	struct channel *c;
	struct pending *p = NULL;

	pthread_mutex_lock(&a->lock);
	/* A restart in between forgot the id: it stays false forever. */
	if (t->epoch == a->epoch) {
		c = find(a, &t->ch);
		p = c ? lookup(c, t->id) : NULL;
	}
	if (p && p->ready_ms == NOT_READY) {
		p->ready_ms = ready_ms > ACKS_NEVER ? ACKS_NEVER : ready_ms;
		if (held)
			hold(a, p, held);
	}
	pthread_mutex_unlock(&a->lock);
	return p != NULL;
}

void acks_query(struct acks *a,
                const struct channel_id *ch,
                const uint64_t *ids,
                size_t n,
                bool *out,
                uint64_t now_ms)
{
	struct channel *c;

	pthread_mutex_lock(&a->lock);
	c = find(a, ch);
	if (c)
		c->last_used_ms = now_ms;
	for (size_t i = 0; i < n; i++) {
		struct pending *p = c ? lookup(c, ids[i]) : NULL;

		out[i] = p && p->ready_ms <= now_ms;
		if (out[i]) {
			make_durable(a, p);
			p->ready_ms = GONE;
			c->live--;
			a->n_pending--;
		}
	}
	if (c)
		compact(c);
	pthread_mutex_unlock(&a->lock);
}

void acks_restart(struct acks *a, struct acks_lost *out)
{
	pthread_mutex_lock(&a->lock);
	out->acks = a->n_pending;
	out->events = drop_all(a);
	a->epoch++;
	pthread_mutex_unlock(&a->lock);
}

/* Write the held events of a channel's ids that are true by now; returns
 * the earliest ready time of what stays held. */
static uint64_t flush_channel(struct acks *a, struct channel *c, uint64_t now)
{
	uint64_t due = UINT64_MAX;

	for (size_t i = c->head; i < c->len; i++) {
		struct pending *p = &c->p[i];

		if (!p->held)
			continue;
		if (p->ready_ms <= now)
			make_durable(a, p);
		else if (p->ready_ms < due && p->ready_ms != ACKS_NEVER)
			due = p->ready_ms;
	}
	return due;
}

static void flush_due(struct acks *a, uint64_t now_ms)
{
	uint64_t due = UINT64_MAX;

	a->last_flush_ms = now_ms;
	for (size_t i = 0; i < a->n_buckets; i++) {
		for (struct channel *c = a->buckets[i]; c; c = c->next) {
			uint64_t d = flush_channel(a, c, now_ms);

			if (d < due)
				due = d;
		}
	}
	a->next_due_ms = due;
}

/* An idle channel goes with its ids; events of ids that were true by
 * then are written first (the index keeps them), the rest are lost. */
static void expire_idle(struct acks *a, uint64_t now_ms)
{
	a->last_sweep_ms = now_ms;
	for (size_t i = 0; i < a->n_buckets; i++) {
		struct channel **pp = &a->buckets[i];

		while (*pp) {
			struct channel *c = *pp;

			if (c->last_used_ms + a->limits.idle_ms > now_ms) {
				pp = &c->next;
				continue;
			}
			*pp = c->next;
			(void)flush_channel(a, c, now_ms);
			a->lost_idle += channel_drop(a, c);
		}
	}
}

void acks_sweep(struct acks *a, uint64_t now_ms)
{
	pthread_mutex_lock(&a->lock);
	if (a->n_held && now_ms >= a->next_due_ms &&
	    now_ms >= a->last_flush_ms + FLUSH_EVERY_MS)
		flush_due(a, now_ms);
	if (a->limits.idle_ms && now_ms >= a->last_sweep_ms + SWEEP_EVERY_MS)
		expire_idle(a, now_ms);
	pthread_mutex_unlock(&a->lock);
}

void acks_get_stats(struct acks *a, struct acks_stats *out)
{
	pthread_mutex_lock(&a->lock);
	out->channels = a->n_channels;
	out->pending = a->n_pending;
	out->epoch = a->epoch;
	out->held_events = a->held_events;
	out->lost_idle = a->lost_idle;
	pthread_mutex_unlock(&a->lock);
}
