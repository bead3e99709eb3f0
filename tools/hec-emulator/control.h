/* SPDX-License-Identifier: Apache-2.0 */
/*
 * control: the emulator's own API under /emulator/, for tests and demos.
 *
 *   GET  /emulator/counters  what happened so far (counters.h)
 *   GET  /emulator/faults    the run-time knobs
 *   POST /emulator/faults    change knobs: {"busy_rate":0.5,...}
 *   POST /emulator/restart   forget every channel and pending ack, as a
 *                            restarted Splunk node does
 *   GET  /emulator/tokens    token names, states and ack settings
 *   POST /emulator/tokens    {"token":"VALUE or NAME","state":"revoked"}
 *
 * Served only to loopback clients and only without --no-control; anyone
 * else gets Splunk's 404, as for any unknown path.
 */
#ifndef HEC_CONTROL_H
#define HEC_CONTROL_H

#include "emulator.h"
#include "httpd.h"
#include "reply.h"

void control_handle(struct emu *emu, struct request *rq, struct reply *r);

#endif
