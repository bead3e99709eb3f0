/* SPDX-License-Identifier: Apache-2.0 */
/*
 * clawdstrike-relay: argument parsing and dispatch only.  Each command is
 * in its own cmd_*.c; exit codes are 0 ok, 1 runtime failure, 2 usage or
 * configuration error.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"

#define DEFAULT_CONFIG "/etc/clawdstrike/relay.yaml"

struct command {
	const char *name;
	int (*fn)(const struct cli_ctx *ctx, int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
        {"run", cmd_run,
         "deliver events from the outbox to Splunk HEC (the daemon)"},
        {"migrate", cmd_migrate,
         "apply the embedded migrations/ and sql/ (idempotent)"},
        {"check", cmd_check,
         "validate config; check database schema, HEC health and token"},
        {"enqueue", cmd_enqueue,
         "bulk-load JSON Lines events from FILE or - (stdin), validated"},
        {"status", cmd_status,
         "counts by status, oldest pending age, in-flight batches, dead letters"},
        {"replay", cmd_replay,
         "reset failed (or delivered) events to pending, with filters"},
        {"dead-letters", cmd_dead_letters,
         "list failed events with their reasons"},
};

static void usage(FILE *out)
{
	fprintf(out,
	        "Usage: clawdstrike-relay [-c FILE] COMMAND [ARGS]\n"
	        "       clawdstrike-relay COMMAND [ARGS] [-c FILE]\n"
	        "\n"
	        "Delivers Clawdstrike security events from the PostgreSQL outbox\n"
	        "to Splunk HEC with indexer acknowledgement.\n"
	        "\n"
	        "Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-14s %s\n", commands[i].name,
		        commands[i].summary);
	fprintf(out,
	        "\n"
	        "Options:\n"
	        "  -c, --config FILE  configuration file (default: $CLAWDSTRIKE_RELAY_CONFIG,\n"
	        "                     else " DEFAULT_CONFIG
	        "); before or after\n"
	        "                     the command\n"
	        "  -h, --help         show this help (COMMAND --help for a command)\n"
	        "  -V, --version      print the version\n"
	        "      --config-reference\n"
	        "                     print every configuration key (type, default,\n"
	        "                     reloadable, meaning) as a Markdown table\n"
	        "\n"
	        "The database is database.url from the configuration; without a\n"
	        "configuration file libpq's PG* environment variables apply.\n"
	        "\n"
	        "Exit status: 0 ok, 1 runtime failure, 2 usage or configuration error.\n");
}

/*
 * People type `clawdstrike-relay run -c relay.yaml` as often as the other
 * way round: take -c/--config out of the command's arguments (up to a
 * "--"), so every command accepts the global option after its name too.
 * No command has a -c of its own.  Returns the new argc, or -1 when -c
 * has no value.
 */
static int take_global_config(struct cli_ctx *ctx, int argc, char **argv)
{
	int out = 1;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = NULL;

		if (strcmp(a, "--") == 0) {
			while (i < argc)
				argv[out++] = argv[i++];
			break;
		}
		if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
			if (i + 1 >= argc)
				return -1;
			val = argv[++i];
		} else if (strncmp(a, "--config=", 9) == 0) {
			val = a + 9;
		} else if (strncmp(a, "-c", 2) == 0) {
			val = a + 2;
		}
		if (!val) {
			argv[out++] = argv[i];
			continue;
		}
		ctx->config_path = val;
		ctx->config_explicit = 1;
	}
	argv[out] = NULL;
	return out;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"config", required_argument, NULL, 'c'},
	        {"help", no_argument, NULL, 'h'},
	        {"version", no_argument, NULL, 'V'},
	        {"config-reference", no_argument, NULL, 'R'},
	        {NULL, 0, NULL, 0},
	};
	struct cli_ctx ctx = {NULL, 0, argv[0]};
	const char *env = getenv("CLAWDSTRIKE_RELAY_CONFIG");
	int c;

	/* '+': stop at the command name; its options are its own. */
	while ((c = getopt_long(argc, argv, "+c:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			ctx.config_path = optarg;
			ctx.config_explicit = 1;
			break;
		case 'h':
			usage(stdout);
			return CLI_OK;
		case 'R': /* docs/configuration.md is generated from this */
			config_table_dump(stdout);
			return CLI_OK;
		case 'V':
			printf("clawdstrike-relay %s\n", RELAY_VERSION_STRING);
			return CLI_OK;
		default:
			usage(stderr);
			return CLI_USAGE;
		}
	}
	if (!ctx.config_path && env && *env) {
		ctx.config_path = env;
		ctx.config_explicit = 1;
	}
	if (!ctx.config_path)
		ctx.config_path = DEFAULT_CONFIG;
	if (optind >= argc) {
		usage(stderr);
		return CLI_USAGE;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[optind], commands[i].name) == 0) {
			/* The command sees argv starting at its own name. */
			int n = take_global_config(&ctx, argc - optind,
			                           argv + optind);

			if (n < 0) {
				fprintf(stderr,
				        "%s: option '-c' needs a file name\n",
				        argv[0]);
				return CLI_USAGE;
			}
			return commands[i].fn(&ctx, n, argv + optind);
		}
	}
	fprintf(stderr, "%s: unknown command '%s' (see --help)\n", argv[0],
	        argv[optind]);
	return CLI_USAGE;
}
