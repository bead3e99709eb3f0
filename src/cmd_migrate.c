/* SPDX-License-Identifier: Apache-2.0 */
/* `migrate`: bring the database to the embedded schema and say what changed. */
#include <stdio.h>

#include "cli.h"
#include "db.h"
#include "migrate.h"
#include "sqlbundle.h"

static const char help[] =
        "Usage: clawdstrike-relay [-c FILE] migrate\n"
        "\n"
        "Apply the migrations and SQL embedded in this binary to the configured\n"
        "database: versioned migrations once each, then the functions, views\n"
        "and grants of sql/ when they changed.  Idempotent: a second run does\n"
        "nothing.  Needs a role that may create schemas and roles.\n";

int cmd_migrate(const struct cli_ctx *ctx, int argc, char **argv)
{
	struct migrate_report rep;
	struct db *db = NULL;
	int rc;

	if (cli_wants_help(argc, argv, help))
		return CLI_OK;
	if (argc > 1) {
		fprintf(stderr, "%s: migrate takes no arguments\n", ctx->prog);
		return CLI_USAGE;
	}
	rc = cli_connect(ctx, &db);
	if (rc)
		return rc;
	if (migrate_run(db, &rep, stdout) != 0) {
		fprintf(stderr, "%s: migrate: %s\n", ctx->prog,
		        relay_error_last());
		db_free(db);
		return CLI_RUNTIME;
	}
	if (rep.migrations_applied == 0 && rep.repeatable_applied == 0)
		printf("schema is up to date (version %d): nothing to do\n",
		       rep.to_version);
	else
		printf("schema version %d -> %d: %d migration(s), %d sql file(s)"
		       " applied\n",
		       rep.from_version, rep.to_version, rep.migrations_applied,
		       rep.repeatable_applied);
	db_free(db);
	return CLI_OK;
}
