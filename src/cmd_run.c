/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `run`: the daemon.  Loads and checks the configuration, turns signals
 * into loop events (flags plus a self-pipe byte, so the loop wakes at
 * once), and runs the relay until SIGTERM/SIGINT completes a graceful
 * shutdown.  SIGHUP reloads the configuration.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "relay.h"
#include "util/log.h"

static const char help[] =
        "Usage: clawdstrike-relay [-c FILE] run\n"
        "\n"
        "Deliver events from the outbox to Splunk HEC until stopped.\n"
        "SIGTERM/SIGINT: stop claiming, finish requests, poll acks (up to 30 s),\n"
        "give unsent rows back, exit 0.  SIGHUP: re-read the configuration\n"
        "file and apply what may change without a restart (token, log level,\n"
        "routing, retry, rate limit, index/sourcetype/source/host); keys that\n"
        "need a restart are reported and then only the token is reloaded.\n"
        "The token file (exporters.splunk.hec_token_file) is also re-read\n"
        "when it changes, and after HEC refuses the token (401/403).\n";

/* The only process-wide mutable state: what the signal handler touches. */
static struct relay_signals *signals_target;
static int signal_pipe_w = -1;

static void on_signal(int signo)
{
	int saved = errno;
	char b = 0;

	if (signo == SIGHUP)
		signals_target->reload = 1;
	else
		signals_target->stop = 1;
	if (signal_pipe_w >= 0 && write(signal_pipe_w, &b, 1) < 0) {
		/* A full pipe already holds a wake-up byte. */
	}
	errno = saved;
}

static int install_signals(struct relay_signals *sig)
{
	struct sigaction sa;
	int fds[2];

	if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0)
		return -1;
	sig->wake_fd = fds[0];
	signal_pipe_w = fds[1];
	signals_target = sig;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) || sigaction(SIGINT, &sa, NULL) ||
	    sigaction(SIGHUP, &sa, NULL))
		return -1;
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

int cmd_run(const struct cli_ctx *ctx, int argc, char **argv)
{
	struct relay_signals sig = {0, 0, -1};
	struct config *cfg = NULL;
	int rc;

	if (cli_wants_help(argc, argv, help))
		return CLI_OK;
	if (argc > 1) {
		fprintf(stderr, "%s: run takes no arguments\n", ctx->prog);
		return CLI_USAGE;
	}
	rc = cli_load_config(ctx, &cfg, true);
	if (rc)
		return rc;
	if (install_signals(&sig) != 0) {
		fprintf(stderr, "%s: cannot install signal handlers: %s\n",
		        ctx->prog, strerror(errno));
		config_free(cfg);
		return CLI_RUNTIME;
	}
	rc = relay_run(cfg, &sig);
	if (rc)
		log_error("relay failed", "error=\"%s\"", relay_error_last());
	config_free(cfg);
	return rc ? CLI_RUNTIME : CLI_OK;
}
