/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `replay`: set failed (or delivered) rows back to pending through
 * clawdstrike.replay(), which applies the filters, audits each row in
 * clawdstrike.replay_log and wakes the relays.  Without a filter every
 * failed event would be re-sent, so that takes an explicit --all.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "db.h"

static const char help[] =
        "Usage: clawdstrike-relay [-c FILE] replay [--status failed|delivered]\n"
        "         [--since TS] [--until TS] [--guard G] [--severity S]\n"
        "         [--error TEXT] [--all] [--dry-run]\n"
        "\n"
        "Reset matching rows to pending so a relay sends them (again), via\n"
        "clawdstrike.replay().  Rows being sent are never touched.\n"
        "\n"
        "  --status S     which rows: failed (default) or delivered (re-send\n"
        "                 on purpose)\n"
        "  --since TS     enqueued at or after TS (any PostgreSQL timestamptz,\n"
        "                 e.g. 2026-05-01T00:00:00Z)\n"
        "  --until TS     enqueued before TS\n"
        "  --guard G      decision.guard equals G\n"
        "  --severity S   decision.severity: info, low, medium, high, critical\n"
        "  --error TEXT   last error contains TEXT (case-insensitive ILIKE\n"
        "                 pattern, as dead-letters --reason)\n"
        "  --all          confirm a replay with no filter besides --status\n"
        "  --dry-run      only count what would be replayed (needs no --all)\n"
        "\n"
        "Prints `replayed N events` or `would replay N events (dry run)`.\n"
        "Exit status: 0 ok, 1 database failure, 2 usage error or a bad value\n"
        "(no filter without --all, an unknown status or severity, a bad\n"
        "timestamp).\n";

enum { F_STATUS, F_SINCE, F_UNTIL, F_GUARD, F_SEVERITY, F_ERROR, F_COUNT };

struct replay_args {
	const char *v[F_COUNT]; /* NULL: not given (SQL NULL) */
	int all;
	int dry_run;
};

static int one_of(const char *s, const char *const *set)
{
	for (; *set; set++)
		if (strcmp(s, *set) == 0)
			return 1;
	return 0;
}

static int bad_value(const struct cli_ctx *ctx,
                     const char *opt,
                     const char *val,
                     const char *want)
{
	fprintf(stderr, "%s: replay: %s must be %s (got \"%s\")\n", ctx->prog,
	        opt, want, val);
	return CLI_USAGE;
}

/* Values SQL would refuse are refused here first, naming the option. */
static int check_values(const struct cli_ctx *ctx, const struct replay_args *a)
{
	static const char *const statuses[] = {"failed", "delivered", NULL};
	static const char *const sevs[] = {"info", "low",      "medium",
	                                   "high", "critical", NULL};

	if (a->v[F_STATUS] && !one_of(a->v[F_STATUS], statuses))
		return bad_value(ctx, "--status", a->v[F_STATUS],
		                 "failed or delivered");
	if (a->v[F_SEVERITY] && !one_of(a->v[F_SEVERITY], sevs))
		return bad_value(ctx, "--severity", a->v[F_SEVERITY],
		                 "one of info, low, medium, high, critical");
	for (int i = F_SINCE; i < F_COUNT; i++) {
		if (a->v[i])
			return CLI_OK;
	}
	if (!a->all && !a->dry_run) {
		fprintf(stderr,
		        "%s: replay: no filter given: this would replay every"
		        " %s event; add --all to confirm (or --dry-run to"
		        " count them)\n",
		        ctx->prog, a->v[F_STATUS] ? a->v[F_STATUS] : "failed");
		return CLI_USAGE;
	}
	return CLI_OK;
}

static int parse_args(const struct cli_ctx *ctx,
                      int argc,
                      char **argv,
                      struct replay_args *a)
{
	static const struct option opts[] = {
	        {"status", required_argument, NULL, 's'},
	        {"since", required_argument, NULL, 'S'},
	        {"until", required_argument, NULL, 'U'},
	        {"guard", required_argument, NULL, 'g'},
	        {"severity", required_argument, NULL, 'v'},
	        {"error", required_argument, NULL, 'e'},
	        {"all", no_argument, NULL, 'a'},
	        {"dry-run", no_argument, NULL, 'n'},
	        {NULL, 0, NULL, 0},
	};
	static const char map[] = "sSUgve";
	int c;

	memset(a, 0, sizeof(*a));
	optind = 0; /* glibc: restart scanning on the command's argv */
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		const char *slot = c ? strchr(map, c) : NULL;

		if (slot)
			a->v[slot - map] = optarg;
		else if (c == 'a')
			a->all = 1;
		else if (c == 'n')
			a->dry_run = 1;
		else
			goto usage;
	}
	if (optind < argc)
		goto usage;
	return check_values(ctx, a);
usage:
	fprintf(stderr, "%s: replay: see replay --help\n", ctx->prog);
	return CLI_USAGE;
}

static int
do_replay(const struct cli_ctx *ctx, struct db *db, const struct replay_args *a)
{
	const char *params[F_COUNT + 1];
	struct db_result *r;
	int rc;

	for (int i = 0; i < F_COUNT; i++)
		params[i] = a->v[i];
	params[F_STATUS] = a->v[F_STATUS] ? a->v[F_STATUS] : "failed";
	params[F_COUNT] = a->dry_run ? "true" : "false";
	rc = db_query(db, &r,
	              "SELECT clawdstrike.replay(status => $1,"
	              " since => $2::timestamptz, until => $3::timestamptz,"
	              " guard => $4, severity => $5, error => $6,"
	              " dry_run => $7::boolean)",
	              F_COUNT + 1, params);
	if (rc) {
		/* 22023: replay() refused a value. */
		int usage = strcmp(db_last_sqlstate(db), "22023") == 0;

		fprintf(stderr, "%s: replay: %s\n", ctx->prog,
		        usage ? db_last_message(db) : relay_error_last());
		return usage ? CLI_USAGE : CLI_RUNTIME;
	}
	if (a->dry_run)
		printf("would replay %s events (dry run)\n",
		       db_result_value(r, 0, 0));
	else
		printf("replayed %s events\n", db_result_value(r, 0, 0));
	db_result_free(r);
	return CLI_OK;
}

int cmd_replay(const struct cli_ctx *ctx, int argc, char **argv)
{
	struct replay_args a;
	struct db *db = NULL;
	int rc;

	if (cli_wants_help(argc, argv, help))
		return CLI_OK;
	rc = parse_args(ctx, argc, argv, &a);
	if (!rc)
		rc = cli_connect(ctx, &db);
	if (!rc)
		rc = cli_check_timestamp(ctx, db, "replay", "--since",
		                         a.v[F_SINCE]);
	if (!rc)
		rc = cli_check_timestamp(ctx, db, "replay", "--until",
		                         a.v[F_UNTIL]);
	if (!rc)
		rc = do_replay(ctx, db, &a);
	db_free(db);
	return rc;
}
