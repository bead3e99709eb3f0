/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli: the commands of clawdstrike-relay.  main.c parses the global
 * options and dispatches; each command lives in its own cmd_*.c file and
 * returns the process exit code (CLI_OK, CLI_RUNTIME, CLI_USAGE).
 */
#ifndef RELAY_CLI_H
#define RELAY_CLI_H

enum cli_exit {
	CLI_OK = 0,      /* success */
	CLI_RUNTIME = 1, /* runtime failure (database, HEC, ...) */
	CLI_USAGE = 2,   /* usage or configuration error */
};

struct cli_ctx {
	const char *config_path; /* -c/--config or the default */
	int config_explicit;     /* the path was given, so it must exist */
	const char *prog;        /* argv[0] for messages */
};

#include <stdbool.h>

struct config;
struct db;

/*
 * Load the configuration (ctx->config_path; the embedded defaults when the
 * default path has no file), set the log level and log its warnings.
 * `delivery` also checks what delivering needs (HEC URL, token source).
 * On failure prints the message and returns CLI_USAGE.
 */
int cli_load_config(const struct cli_ctx *ctx,
                    struct config **out,
                    bool delivery);

/*
 * Connect to the configured database; on failure print the reason to
 * stderr and return the exit code to use (CLI_USAGE for a bad
 * configuration, CLI_RUNTIME for an unreachable database).
 */
int cli_connect(const struct cli_ctx *ctx, struct db **out);

/*
 * Print s to stdout with control characters shown, not obeyed (\n, \r,
 * \t, \xNN): text from outside (HEC's reasons, events) reaches an
 * operator's terminal without its escape sequences.  Returns the columns
 * printed.
 */
int cli_put_visible(const char *s);

/* True (and prints `help`) when argv asks for a command's --help. */
int cli_wants_help(int argc, char **argv, const char *help);

/*
 * Check that `val` (may be NULL: nothing to check) is a PostgreSQL
 * timestamptz, for the option `opt` of command `cmd`.  Prints the problem
 * and returns CLI_USAGE for a bad value, CLI_RUNTIME when the database
 * failed, CLI_OK otherwise.
 */
int cli_check_timestamp(const struct cli_ctx *ctx,
                        struct db *db,
                        const char *cmd,
                        const char *opt,
                        const char *val);

int cmd_run(const struct cli_ctx *ctx, int argc, char **argv);
int cmd_migrate(const struct cli_ctx *ctx, int argc, char **argv);
int cmd_status(const struct cli_ctx *ctx, int argc, char **argv);
int cmd_check(const struct cli_ctx *ctx, int argc, char **argv);
int cmd_enqueue(const struct cli_ctx *ctx, int argc, char **argv);
int cmd_replay(const struct cli_ctx *ctx, int argc, char **argv);
int cmd_dead_letters(const struct cli_ctx *ctx, int argc, char **argv);

#endif
