/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the commands: configuration and database access. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "db.h"

int cli_connect(const struct cli_ctx *ctx, struct db **out)
{
	const char *url = "";
	int rc;

	/* Until the configuration loader lands, an absent default file means
	 * libpq's environment; an explicit path must exist. */
	if (ctx->config_explicit && access(ctx->config_path, R_OK) != 0) {
		fprintf(stderr, "%s: cannot read configuration %s\n", ctx->prog,
		        ctx->config_path);
		return CLI_USAGE;
	}
	rc = db_connect(out, url, "clawdstrike-relay");
	if (rc) {
		fprintf(stderr, "%s: %s\n", ctx->prog, relay_error_last());
		return CLI_RUNTIME;
	}
	return CLI_OK;
}

int cli_wants_help(int argc, char **argv, const char *help)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			fputs(help, stdout);
			return 1;
		}
	}
	return 0;
}
