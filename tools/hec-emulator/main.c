/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hec-emulator: a Splunk HTTP Event Collector that tests can look inside.
 *
 * main() only orders start-up and shut-down: parse options, open the
 * output, start the HTTP daemon, wait for SIGINT/SIGTERM (delivered with
 * sigtimedwait, so no code runs in signal context), stop and free
 * everything.  While waiting it sweeps the ack tables every 100 ms, so
 * held events (lossy mode) become durable and idle channels go even when
 * no request comes in.
 * Exit codes: 0 ok, 1 runtime failure, 2 usage error.
 */
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "collector.h"
#include "emulator.h"
#include "httpd.h"
#include "util/log.h"

uint64_t emu_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

double emu_wall_s(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	/* Millisecond precision, like Splunk's _time for HEC events. */
	return (double)tv.tv_sec + (double)(tv.tv_usec / 1000) / 1000.0;
}

static int write_port_file(const char *path, uint16_t port)
{
	char tmp[4096];
	FILE *f;

	/* Written then renamed, so a reader never sees a partial file. */
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return relay_error_set("cannot write %s", tmp);
	fprintf(f, "%u\n", (unsigned)port);
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		return relay_error_set("cannot write %s", path);
	return 0;
}

static void wait_for_stop(struct emu *emu)
{
	const struct timespec tick = {0, 100L * 1000000L};
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	do {
		cluster_sweep(&emu->cluster, emu_now_ms());
		sig = sigtimedwait(&set, NULL, &tick);
	} while (sig < 0);
	log_info("stopping", "signal=%d", sig);
}

static int run(struct emu *emu)
{
	struct acks_limits lim = {
	        .max_channels = emu->opts->max_channels,
	        .max_pending_per_channel = emu->opts->max_acks_per_channel,
	        .idle_ms = emu->opts->ack_idle_s * 1000,
	};
	struct acks_sink sink = {collector_durable, emu};
	struct httpd *h = NULL;
	uint16_t port = 0;
	int rc = 1;

	if (output_open(&emu->out, emu->opts->output) != 0) {
		log_error("cannot open output", "error=%s", relay_error_last());
		return 1;
	}
	cluster_init(&emu->cluster, emu->opts->nodes, &lim, &sink);
	faults_init(&emu->faults, &emu->opts->faults, emu->opts->seed);
	counters_init(&emu->counters);
	emu->started_ms = emu_now_ms();
	h = httpd_start(emu, &port);
	if (!h) {
		log_error("cannot listen", "error=%s", relay_error_last());
		goto done;
	}
	if (emu->opts->port_file &&
	    write_port_file(emu->opts->port_file, port) != 0) {
		log_error("port file", "error=%s", relay_error_last());
		goto done;
	}
	log_info("listening",
	         "port=%u tokens=%zu ack=%d nodes=%u output=%s tls=%s",
	         (unsigned)port, emu->opts->tokens.n,
	         (int)emu->opts->tokens.ack_all, emu->cluster.n,
	         emu->opts->output ? emu->opts->output : "off",
	         !emu->opts->tls_cert       ? "off"
	         : emu->opts->tls_client_ca ? "mtls"
	                                    : "on");
	wait_for_stop(emu);
	rc = 0;
done:
	httpd_stop(h);
	cluster_dispose(&emu->cluster);
	output_close(&emu->out);
	return rc;
}

int main(int argc, char **argv)
{
	struct emu_options opts;
	struct emu emu;
	sigset_t set;
	int rc;

	rc = options_parse(&opts, argc, argv);
	if (rc != OPTIONS_RUN) {
		if (rc < 0)
			fprintf(stderr, "hec-emulator: %s\n",
			        relay_error_last());
		options_dispose(&opts);
		return rc < 0 ? 2 : 0;
	}
	log_set_level((enum log_level)opts.log_level);
	/* Before any thread starts: jansson's hash seed, and signals
	 * blocked so that only sigwait() sees them. */
	json_object_seed(0);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	memset(&emu, 0, sizeof(emu));
	emu.opts = &opts;
	rc = run(&emu);
	options_dispose(&opts);
	return rc;
}
