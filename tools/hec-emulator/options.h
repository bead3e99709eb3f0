/* SPDX-License-Identifier: Apache-2.0 */
/*
 * options: the command line, parsed once into struct emu_options.
 *
 * Pinned flags (tests and users rely on them): --listen, --token
 * (repeatable), --ack, --ack-delay-ms, --output, --help.  Everything else
 * has a default taken from Splunk's own (inputs.conf / limits.conf).
 */
#ifndef HEC_OPTIONS_H
#define HEC_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "body.h"
#include "faults.h"
#include "tokens.h"
#include "util/err.h"

struct emu_options {
	char *listen;    /* ADDR:PORT */
	char *output;    /* NULL: off */
	char *port_file; /* where to write the bound port */
	char *tls_cert;  /* PEM files; both set: HTTPS */
	char *tls_key;
	char *tls_client_ca;  /* set: a client certificate signed by it is
	                         required (mTLS) */
	char *channel_cookie; /* inputs.conf channel_cookie; NULL: off */
	bool require_channel_cookie; /* /ack without it: another indexer */
	struct tokens tokens;
	size_t max_content_length; /* limits.conf max_content_length */
	size_t max_event_size;     /* inputs.conf maxEventSize */
	uint64_t ack_idle_s;       /* maxIdleTime; 0: ackIdleCleanup off */
	size_t max_channels;
	size_t max_acks_per_channel;
	unsigned threads;         /* 0: a thread per connection */
	unsigned nodes;           /* ack tables behind the port (cluster.h) */
	bool health_checks_token; /* docs: codes 21/22; 8.2.4 ignores */
	enum unknown_keys unknown;
	bool raw_requires_channel;    /* Vector's emulation; not Splunk 10.4 */
	bool control;                 /* /emulator/... on loopback */
	struct fault_settings faults; /* also --code7-exact, --lossy ... */
	uint64_t seed;
	int log_level;
};

enum options_result { OPTIONS_RUN = 0, OPTIONS_EXIT_OK = 1 };

/*
 * Parse argv.  Returns OPTIONS_RUN, OPTIONS_EXIT_OK (--help printed), or
 * RELAY_EINVAL with a message (usage error: exit 2).
 */
int options_parse(struct emu_options *o, int argc, char **argv) RELAY_MUSTCHECK;
void options_dispose(struct emu_options *o);

#endif
