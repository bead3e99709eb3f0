/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the commands: configuration and database access. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "db.h"
#include "util/log.h"
#include "util/xalloc.h"

int cli_load_config(const struct cli_ctx *ctx,
                    struct config **out,
                    bool delivery)
{
	int rc;

	/* Without a file at the default path the embedded defaults apply
	 * (libpq's PG* variables for the database); a path that was asked
	 * for must exist. */
	if (!ctx->config_explicit && access(ctx->config_path, F_OK) != 0)
		rc = config_load_string(out, "", ctx->config_path);
	else
		rc = config_load(out, ctx->config_path);
	if (!rc && delivery)
		rc = config_check_delivery(*out);
	if (rc) {
		fprintf(stderr, "%s: %s\n", ctx->prog, relay_error_last());
		config_free(*out);
		*out = NULL;
		return CLI_USAGE;
	}
	log_set_level((*out)->log.level);
	for (size_t i = 0; i < (*out)->warnings.n; i++)
		log_warn("configuration warning", "warning=\"%s\"",
		         (*out)->warnings.v[i]);
	return CLI_OK;
}

int cli_connect(const struct cli_ctx *ctx, struct db **out)
{
	struct config *cfg = NULL;
	int rc = cli_load_config(ctx, &cfg, false);

	if (rc)
		return rc;
	rc = db_connect(out, cfg->database.url, "clawdstrike-relay");
	config_free(cfg);
	if (rc) {
		fprintf(stderr, "%s: %s\n", ctx->prog, relay_error_last());
		return CLI_RUNTIME;
	}
	return CLI_OK;
}

int cli_put_visible(const char *s)
{
	size_t size = 4 * strlen(s) + 6; /* log_escape_controls stops 5 short */
	char *v = xmalloc(size);
	size_t n = log_escape_controls(v, size, s);

	fputs(v, stdout);
	free(v);
	return (int)n;
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

int cli_check_timestamp(const struct cli_ctx *ctx,
                        struct db *db,
                        const char *cmd,
                        const char *opt,
                        const char *val)
{
	const char *params[1] = {val};

	if (!val)
		return CLI_OK;
	/* The server decides what a timestamp is, as it will in the query. */
	if (db_query(db, NULL, "SELECT $1::timestamptz", 1, params) == 0)
		return CLI_OK;
	if (strncmp(db_last_sqlstate(db), "22", 2) != 0) {
		fprintf(stderr, "%s: %s: %s\n", ctx->prog, cmd,
		        relay_error_last());
		return CLI_RUNTIME;
	}
	fprintf(stderr, "%s: %s: %s: not a timestamp: \"%s\" (%s)\n", ctx->prog,
	        cmd, opt, val, db_last_message(db));
	return CLI_USAGE;
}
