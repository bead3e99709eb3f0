/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cluster: the indexers behind the emulator's one port (--nodes N).
 *
 * Each node is an independent ack table (acks.h), as each Splunk indexer
 * keeps its own channels in memory.  With one node (the default) every
 * request meets the same state.  With more, the emulator plays a
 * non-sticky load balancer: the Nth event, raw or ack request (counting
 * every one that reaches the collector) lands on node N mod nodes, so two
 * nodes issue ids from 0 on the same channel and a poll is answered only
 * from the node it lands on.  The index (the output) is shared.
 */
#ifndef HEC_CLUSTER_H
#define HEC_CLUSTER_H

#include <stdatomic.h>
#include <stdint.h>

#include "acks.h"

#define CLUSTER_MAX_NODES 8

struct cluster {
	struct acks *node[CLUSTER_MAX_NODES];
	unsigned n;
	_Atomic uint64_t routed;
};

/* n in 1..CLUSTER_MAX_NODES. */
void cluster_init(struct cluster *c,
                  unsigned n,
                  const struct acks_limits *limits,
                  const struct acks_sink *sink);
void cluster_dispose(struct cluster *c);

/* The node the next event, raw or ack request lands on. */
unsigned cluster_route(struct cluster *c);
struct acks *cluster_node(struct cluster *c, unsigned i);

/* Restart every node; out sums what they forgot. */
void cluster_restart(struct cluster *c, struct acks_lost *out);
void cluster_sweep(struct cluster *c, uint64_t now_ms);

/* Per-node stats (per_node has n entries) and their sum. */
void cluster_stats(struct cluster *c,
                   struct acks_stats *total,
                   struct acks_stats *per_node);

#endif
