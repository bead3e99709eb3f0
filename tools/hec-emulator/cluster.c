/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cluster: nodes and the round-robin "load balancer".  See cluster.h.
 */
#include "cluster.h"

#include <string.h>

void cluster_init(struct cluster *c,
                  unsigned n,
                  const struct acks_limits *limits,
                  const struct acks_sink *sink)
{
	memset(c, 0, sizeof(*c));
	c->n = n < 1 ? 1 : n > CLUSTER_MAX_NODES ? CLUSTER_MAX_NODES : n;
	for (unsigned i = 0; i < c->n; i++)
		c->node[i] = acks_new(limits, sink);
}

void cluster_dispose(struct cluster *c)
{
	for (unsigned i = 0; i < c->n; i++)
		acks_free(c->node[i]);
	memset(c, 0, sizeof(*c));
}

unsigned cluster_route(struct cluster *c)
{
	if (c->n == 1)
		return 0;
	return (unsigned)(atomic_fetch_add(&c->routed, 1) % c->n);
}

struct acks *cluster_node(struct cluster *c, unsigned i)
{
	return c->node[i < c->n ? i : 0];
}

void cluster_restart(struct cluster *c, struct acks_lost *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < c->n; i++) {
		struct acks_lost l;

		acks_restart(c->node[i], &l);
		out->acks += l.acks;
		out->events += l.events;
	}
}

void cluster_sweep(struct cluster *c, uint64_t now_ms)
{
	for (unsigned i = 0; i < c->n; i++)
		acks_sweep(c->node[i], now_ms);
}

void cluster_stats(struct cluster *c,
                   struct acks_stats *total,
                   struct acks_stats *per_node)
{
	memset(total, 0, sizeof(*total));
	for (unsigned i = 0; i < c->n; i++) {
		struct acks_stats *s = &per_node[i];

		acks_get_stats(c->node[i], s);
		total->channels += s->channels;
		total->pending += s->pending;
		total->held_events += s->held_events;
		total->lost_idle += s->lost_idle;
		if (s->epoch > total->epoch)
			total->epoch = s->epoch;
	}
}
