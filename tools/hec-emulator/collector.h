/* SPDX-License-Identifier: Apache-2.0 */
/*
 * collector: the HEC endpoints proper (event, raw, ack, health).
 *
 * Called by httpd.c with a complete request on an allowed method; fills
 * the reply.  An injected HTML 200 comes first (a page in front of HEC);
 * then event, raw and ack requests are routed to a node (cluster.h).
 * Order of checks on event and raw (Splunk does not document it): auth,
 * channel, injected busy/throttle, Content-Encoding, size, body.  Latency
 * is added before any answer; a dropped response, a 2xx warning and when
 * the ack id reads true are decided after indexing; in lossy mode the
 * events wait for that moment (acks.h).
 */
#ifndef HEC_COLLECTOR_H
#define HEC_COLLECTOR_H

#include "emulator.h"
#include "httpd.h"
#include "reply.h"

void collector_handle(struct emu *emu, struct request *rq, struct reply *r);

/*
 * Write a request's formatted lines to the index and count them durable
 * (struct acks_sink: lossy mode calls it when an id turns true).  arg is
 * the struct emu.
 */
void collector_durable(void *emu,
                       const char *lines,
                       size_t len,
                       size_t n_events);

#endif
