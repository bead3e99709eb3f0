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
 * Lossy mode (--lossy): an id can hold its request's formatted events.
 * They are handed to the sink (made durable) when the id turns true: at
 * the poll that reports it, before the answer is built, or by
 * acks_sweep() for ids nobody polls.  A restart drops what is still held;
 * so does idle cleanup for ids that were not yet true.  The events sit
 * with their id because their fate is the id's fate.
 *
 * Thread safety: one mutex guards the table; every function may be called
 * from any thread.  The sink is called with that mutex held (so no poll
 * can report an id true before its events are written); it must not call
 * back into acks.  Time is always passed in (milliseconds, monotonic).
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

/* ready_ms of an id that never reads true (ack_never). */
#define ACKS_NEVER (UINT64_MAX - 2)

/* Where held events go when their id turns true. */
struct acks_sink {
	void (*durable)(void *arg,
	                const char *lines,
	                size_t len,
	                size_t n_events);
	void *arg;
};

/* A request's events, held until its id reads true (copied). */
struct acks_held {
	const char *lines;
	size_t len;
	size_t n_events;
};

struct acks_stats {
	size_t channels;
	size_t pending;     /* issued and not yet reported */
	uint64_t epoch;     /* restarts so far */
	size_t held_events; /* lossy: waiting for their id to read true */
	uint64_t lost_idle; /* lossy: dropped with an idle channel */
};

/* What a restart forgot. */
struct acks_lost {
	size_t acks;   /* pending ids */
	size_t events; /* held events (lossy) */
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

/* sink may be NULL when nothing is ever held. */
struct acks *acks_new(const struct acks_limits *limits,
                      const struct acks_sink *sink);
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

/*
 * The request's events are indexed: the id reads true from ready_ms on
 * (ACKS_NEVER: never).  With held (lossy mode) its events are kept until
 * then.  Returns false when a restart forgot the id in between: it stays
 * false forever and held events are not kept (the caller counts them).
 */
bool acks_mark_indexed(struct acks *a,
                       const struct ack_ticket *t,
                       uint64_t ready_ms,
                       const struct acks_held *held);

/*
 * Answer a poll: out[i] says whether ids[i] is indexed; every id reported
 * true is forgotten, its held events made durable first.  Touches the
 * channel (it is not idle).
 */
void acks_query(struct acks *a,
                const struct channel_id *ch,
                const uint64_t *ids,
                size_t n,
                bool *out,
                uint64_t now_ms);

/* Forget every channel, pending id and held event (a restart). */
void acks_restart(struct acks *a, struct acks_lost *out);

/*
 * Make held events of ids that are true by now durable (at most every
 * 200 ms, and only when one is due), and drop channels idle past the
 * limit (at most once a second).  Cheap when called often.
 */
void acks_sweep(struct acks *a, uint64_t now_ms);

void acks_get_stats(struct acks *a, struct acks_stats *out);

#endif
