/* SPDX-License-Identifier: Apache-2.0 */
/*
 * emulator: the state of one running HEC emulator.
 *
 * Everything lives in this struct and is passed to the handlers: the
 * configuration (immutable once listening, except token states), the ack
 * channels of each node (mutex inside), the run-time knobs (atomics), the
 * output file (mutex inside) and the counters (atomics).  libmicrohttpd calls
 * the handlers from several threads at once.
 */
#ifndef HEC_EMULATOR_H
#define HEC_EMULATOR_H

#include <stdint.h>

#include "acks.h"
#include "cluster.h"
#include "counters.h"
#include "faults.h"
#include "options.h"
#include "output.h"

struct emu {
	struct emu_options *opts;
	struct cluster cluster;
	struct faults faults;
	struct output out;
	struct counters counters;
	uint64_t started_ms;
};

/* Monotonic milliseconds (ack delays, idle cleanup). */
uint64_t emu_now_ms(void);
/* Wall-clock epoch seconds (the time of events that carry none). */
double emu_wall_s(void);

#endif
