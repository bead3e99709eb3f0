/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `status`: what the outbox holds and what the relays are doing, from the
 * operator views (counts by status, backlog age, in-flight batches per
 * relay, dead letters by reason).
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "db.h"
#include "migrate.h"

static const char help[] =
        "Usage: clawdstrike-relay [-c FILE] status\n"
        "\n"
        "Print event counts by status, the age of the oldest pending event,\n"
        "in-flight batches per relay instance and dead letters by reason.\n";

static int print_counts(struct db *db)
{
	struct db_result *r;
	int rc = db_query(db, &r,
	                  "SELECT s.status, s.events,"
	                  " b.oldest_pending_age_s, b.pending_critical,"
	                  " b.pending_high"
	                  " FROM clawdstrike.status_counts s,"
	                  " clawdstrike.backlog b ORDER BY array_position("
	                  "'{pending,sending,sent,delivered,failed}'::text[],"
	                  " s.status)",
	                  0, NULL);

	if (rc)
		return rc;
	printf("%-10s %12s\n", "status", "events");
	for (int i = 0; i < db_result_rows(r); i++)
		printf("%-10s %12s\n", db_result_value(r, i, 0),
		       db_result_value(r, i, 1));
	if (db_result_rows(r))
		printf("\noldest pending: %.1f s (pending critical: %s,"
		       " high: %s)\n",
		       strtod(db_result_value(r, 0, 2), NULL),
		       db_result_value(r, 0, 3), db_result_value(r, 0, 4));
	db_result_free(r);
	return 0;
}

static int print_in_flight(struct db *db)
{
	struct db_result *r;
	int rc = db_query(db, &r,
	                  "SELECT relay_instance, batches_claimed,"
	                  " batches_awaiting_ack, events,"
	                  " coalesce(round(extract(epoch FROM now() -"
	                  " oldest_sent_at)::numeric, 1)::text, '-')"
	                  " FROM clawdstrike.in_flight ORDER BY 1",
	                  0, NULL);

	if (rc)
		return rc;
	printf("\nin flight:\n");
	if (!db_result_rows(r))
		printf("  (none)\n");
	for (int i = 0; i < db_result_rows(r); i++)
		printf("  %s: %s claimed, %s awaiting ack, %s events,"
		       " oldest ack wait %s s\n",
		       db_result_value(r, i, 0), db_result_value(r, i, 1),
		       db_result_value(r, i, 2), db_result_value(r, i, 3),
		       db_result_value(r, i, 4));
	db_result_free(r);
	return 0;
}

static int print_dead_letters(struct db *db)
{
	struct db_result *r;
	int rc = db_query(db, &r,
	                  "SELECT events, reason,"
	                  " coalesce(http_status::text, '-'),"
	                  " coalesce(hec_code::text, '-')"
	                  " FROM clawdstrike.dead_letter_by_reason"
	                  " ORDER BY events DESC, reason LIMIT 20",
	                  0, NULL);

	if (rc)
		return rc;
	printf("\ndead letters by reason:\n");
	if (!db_result_rows(r))
		printf("  (none)\n");
	for (int i = 0; i < db_result_rows(r); i++) {
		/* the reason is HEC's text: shown, not obeyed */
		printf("  %8s  ", db_result_value(r, i, 0));
		cli_put_visible(db_result_value(r, i, 1));
		printf(" (http %s, hec code %s)\n", db_result_value(r, i, 2),
		       db_result_value(r, i, 3));
	}
	db_result_free(r);
	return 0;
}

int cmd_status(const struct cli_ctx *ctx, int argc, char **argv)
{
	struct db *db = NULL;
	int rc, version = 0;

	if (cli_wants_help(argc, argv, help))
		return CLI_OK;
	rc = cli_connect(ctx, &db);
	if (rc)
		return rc;
	rc = migrate_schema_version(db, &version, NULL);
	if (!rc && version == 0) {
		fprintf(stderr,
		        "%s: status: the clawdstrike schema is not"
		        " installed; run `clawdstrike-relay migrate`\n",
		        ctx->prog);
		db_free(db);
		return CLI_RUNTIME;
	}
	if (!rc)
		rc = print_counts(db);
	if (!rc)
		rc = print_in_flight(db);
	if (!rc)
		rc = print_dead_letters(db);
	if (rc) {
		fprintf(stderr, "%s: status: %s\n", ctx->prog,
		        relay_error_last());
		db_free(db);
		return CLI_RUNTIME;
	}
	db_free(db);
	return CLI_OK;
}
