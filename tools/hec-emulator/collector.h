/* SPDX-License-Identifier: Apache-2.0 */
/*
 * collector: the HEC endpoints proper (event, raw, ack, health).
 *
 * Called by httpd.c with a complete request on an allowed method; fills
 * the reply.  Order of checks on event and raw (Splunk does not document
 * it): auth, channel, injected busy/throttle, Content-Encoding, size,
 * body.  Latency is added before any answer; a dropped response is
 * decided after indexing.
 */
#ifndef HEC_COLLECTOR_H
#define HEC_COLLECTOR_H

#include "emulator.h"
#include "httpd.h"
#include "reply.h"

void collector_handle(struct emu *emu, struct request *rq, struct reply *r);

#endif
