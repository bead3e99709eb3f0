/* SPDX-License-Identifier: Apache-2.0 */
/*
 * acks: indexer-acknowledgement channels (hec-protocol.md section 5).
 *
 * A channel is a client GUID.  Each request accepted on an ack token gets
 * the channel's next ack id (from 0).  The id reads true once it has been
 * indexed and its ack delay has passed, and it reads true exactly once:
 * reporting it forgets it.  Anything else (unknown channel, id never
 * issued, already reported, forgotten by a restart or idle cleanup) reads
 * false, as on Splunk.  Idle channels and their ids are removed after
 * maxIdleTime.
 *
 * Thread safety: one mutex guards the table; every function may be called
 * from any thread.  Time is always passed in (milliseconds, monotonic).
 */
#ifndef HEC_ACKS_H
#define HEC_ACKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A channel GUID in binary form. */
struct channel_id {
	uint8_t b[16];
};

struct acks_limits {
	size_t max_channels;            /* max_number_of_ack_channel */
	size_t max_pending_per_channel; /* ..._per_ack_channel */
	uint64_t idle_ms;               /* maxIdleTime; 0: ackIdleCleanup off */
};

struct acks_stats {
	size_t channels;
	size_t pending; /* issued and not yet reported */
	uint64_t epoch; /* restarts so far */
};

enum acks_issue_result {
	ACKS_OK = 0,
	ACKS_TOO_MANY_CHANNELS = -1,
	ACKS_CHANNEL_FULL = -2
};

/* A ticket for an issued id, used to mark it indexed. */
struct ack_ticket {
	struct channel_id ch;
	uint64_t id;
	uint64_t epoch;
};

struct acks;

struct acks *acks_new(const struct acks_limits *limits);
void acks_free(struct acks *a);

/*
 * Parse a channel GUID (8-4-4-4-12 hex digits, either case).  Returns 0,
 * or -1 when s is not a GUID (400 code 11).
 */
int acks_parse_channel(const char *s, struct channel_id *out);

/*
 * Take the channel's next ack id for a request being indexed.  The id
 * reads false until acks_mark_indexed().  Returns ACKS_OK or a limit.
 */
int acks_issue(struct acks *a,
               const struct channel_id *ch,
               uint64_t now_ms,
               struct ack_ticket *out);

/* The request's events are indexed: the id reads true from ready_ms on. */
void acks_mark_indexed(struct acks *a,
                       const struct ack_ticket *t,
                       uint64_t ready_ms);

/*
 * Answer a poll: out[i] says whether ids[i] is indexed; every id reported
 * true is forgotten.  Touches the channel (it is not idle).
 */
void acks_query(struct acks *a,
                const struct channel_id *ch,
                const uint64_t *ids,
                size_t n,
                bool *out,
                uint64_t now_ms);

/* Forget every channel and pending id (a restart); returns ids lost. */
size_t acks_restart(struct acks *a);

/* Drop channels idle past the limit; cheap when called often. */
void acks_sweep(struct acks *a, uint64_t now_ms);

void acks_get_stats(struct acks *a, struct acks_stats *out);

#endif
