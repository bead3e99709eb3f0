/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `dead-letters`: list failed events from clawdstrike.dead_letter, newest
 * first, as an aligned table or (--json) one JSON object per line with the
 * event itself.  The JSON is built by PostgreSQL (json_build_object), so
 * the event comes out exactly as jsonb renders it and no escaping is done
 * here.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "db.h"
#include "util/xalloc.h"

#define DEFAULT_LIMIT "50"

static const char help[] =
        "Usage: clawdstrike-relay [-c FILE] dead-letters [--reason TEXT]\n"
        "         [--guard G] [--severity S] [--since TS] [--limit N] [--json]\n"
        "\n"
        "List failed events (clawdstrike.dead_letter), newest first: outbox\n"
        "id, event id, when it failed, attempts, HTTP status, HEC code and\n"
        "the reason.\n"
        "\n"
        "  --reason TEXT  reason contains TEXT (case-insensitive ILIKE\n"
        "                 pattern, as replay --error)\n"
        "  --guard G      decision.guard equals G\n"
        "  --severity S   decision.severity: info, low, medium, high, critical\n"
        "  --since TS     failed at or after TS (any PostgreSQL timestamptz)\n"
        "  --limit N      show at most N events (default " DEFAULT_LIMIT
        "; 0: all)\n"
        "  --json         one JSON object per line, with the event\n"
        "\n"
        "Exit status: 0 ok, 1 database failure, 2 usage error or bad value.\n";

enum { F_REASON, F_GUARD, F_SEVERITY, F_SINCE, F_LIMIT, F_COUNT };

struct dl_args {
	const char *v[F_COUNT];
	int json;
};

/* Columns of the table, in query order. */
static const char *const columns[] = {
        "outbox_id", "event_id", "failed_at", "attempts",
        "http",      "hec",      "reason",
};
#define NCOLS (sizeof(columns) / sizeof(columns[0]))

static int check_values(const struct cli_ctx *ctx, const struct dl_args *a)
{
	static const char *const sevs[] = {"info", "low",      "medium",
	                                   "high", "critical", NULL};
	const char *s = a->v[F_SEVERITY];
	char *end;
	long n;

	if (s) {
		const char *const *p = sevs;

		while (*p && strcmp(*p, s) != 0)
			p++;
		if (!*p) {
			fprintf(stderr,
			        "%s: dead-letters: --severity must be one of"
			        " info, low, medium, high, critical (got"
			        " \"%s\")\n",
			        ctx->prog, s);
			return CLI_USAGE;
		}
	}
	n = strtol(a->v[F_LIMIT], &end, 10);
	if (!*a->v[F_LIMIT] || *end || n < 0 || n > 1000000000L) {
		fprintf(stderr,
		        "%s: dead-letters: --limit must be an integer from 0"
		        " to 1000000000 (got \"%s\")\n",
		        ctx->prog, a->v[F_LIMIT]);
		return CLI_USAGE;
	}
	return CLI_OK;
}

static int
parse_args(const struct cli_ctx *ctx, int argc, char **argv, struct dl_args *a)
{
	static const struct option opts[] = {
	        {"reason", required_argument, NULL, 'r'},
	        {"guard", required_argument, NULL, 'g'},
	        {"severity", required_argument, NULL, 'v'},
	        {"since", required_argument, NULL, 'S'},
	        {"limit", required_argument, NULL, 'l'},
	        {"json", no_argument, NULL, 'j'},
	        {NULL, 0, NULL, 0},
	};
	static const char map[] = "rgvSl";
	int c;

	memset(a, 0, sizeof(*a));
	a->v[F_LIMIT] = DEFAULT_LIMIT;
	optind = 0; /* glibc: restart scanning on the command's argv */
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		const char *slot = c ? strchr(map, c) : NULL;

		if (slot)
			a->v[slot - map] = optarg;
		else if (c == 'j')
			a->json = 1;
		else
			goto usage;
	}
	if (optind < argc)
		goto usage;
	return check_values(ctx, a);
usage:
	fprintf(stderr, "%s: dead-letters: see dead-letters --help\n",
	        ctx->prog);
	return CLI_USAGE;
}

/*
 * Table mode: the seven columns as text ('-' for NULL) plus the total
 * number of matches; JSON mode: the line itself plus the total.
 */
static const char query_table[] =
        "SELECT d.outbox_id::text, d.event_id::text,"
        " coalesce(to_char(d.failed_at AT TIME ZONE 'UTC',"
        " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '-'),"
        " d.attempts::text, coalesce(d.http_status::text, '-'),"
        " coalesce(d.hec_code::text, '-'), coalesce(d.reason, '-'),"
        " count(*) OVER ()";
static const char query_json[] =
        "SELECT json_build_object('outbox_id', d.outbox_id,"
        " 'event_id', d.event_id, 'failed_at', d.failed_at,"
        " 'attempts', d.attempts, 'http_status', d.http_status,"
        " 'hec_code', d.hec_code, 'hec_text', d.hec_text,"
        " 'reason', d.reason, 'event', d.event)::text,"
        " count(*) OVER ()";
static const char query_tail[] =
        " FROM clawdstrike.dead_letter d"
        " WHERE ($1::text IS NULL OR d.reason ILIKE '%' || $1 || '%')"
        " AND ($2::text IS NULL OR d.guard = $2)"
        " AND ($3::text IS NULL OR d.severity = $3)"
        " AND ($4::timestamptz IS NULL OR d.failed_at >= $4)"
        " ORDER BY d.failed_at DESC NULLS LAST, d.outbox_id DESC"
        " LIMIT nullif($5::bigint, 0)";

/* Control characters are shown, not obeyed (cli_put_visible). */
static void put_cell(const char *s, int width)
{
	int n = cli_put_visible(s);

	if (width > n)
		printf("%*s", width - n, "");
}

static void print_table(const struct db_result *r)
{
	int width[NCOLS];
	int rows = db_result_rows(r);

	for (size_t c = 0; c < NCOLS; c++) {
		width[c] = (int)strlen(columns[c]);
		for (int i = 0; i < rows; i++) {
			int n = (int)db_result_length(r, i, (int)c);

			if (n > width[c])
				width[c] = n;
		}
	}
	for (size_t c = 0; c < NCOLS; c++) {
		/* The last column is not padded: no trailing blanks. */
		put_cell(columns[c], c + 1 < NCOLS ? width[c] + 2 : 0);
	}
	putchar('\n');
	for (int i = 0; i < rows; i++) {
		for (size_t c = 0; c < NCOLS; c++)
			put_cell(db_result_value(r, i, (int)c),
			         c + 1 < NCOLS ? width[c] + 2 : 0);
		putchar('\n');
	}
}

static int
list(const struct cli_ctx *ctx, struct db *db, const struct dl_args *a)
{
	char *sql = xasprintf("%s%s", a->json ? query_json : query_table,
	                      query_tail);
	struct db_result *r;
	int rows, total_col, rc;

	rc = db_query(db, &r, sql, F_COUNT, a->v);
	free(sql);
	if (rc) {
		/* Class 22 here: a --reason pattern ending in a backslash. */
		int usage = strncmp(db_last_sqlstate(db), "22", 2) == 0;

		fprintf(stderr, "%s: dead-letters: %s\n", ctx->prog,
		        usage ? db_last_message(db) : relay_error_last());
		return usage ? CLI_USAGE : CLI_RUNTIME;
	}
	rows = db_result_rows(r);
	total_col = db_result_cols(r) - 1;
	if (a->json) {
		for (int i = 0; i < rows; i++)
			puts(db_result_value(r, i, 0));
	} else if (!rows) {
		printf("no dead letters match\n");
	} else {
		long total = strtol(db_result_value(r, 0, total_col), NULL, 10);

		print_table(r);
		if (total > rows)
			printf("(%d of %ld shown; use --limit)\n", rows, total);
	}
	db_result_free(r);
	return CLI_OK;
}

int cmd_dead_letters(const struct cli_ctx *ctx, int argc, char **argv)
{
	struct dl_args a;
	struct db *db = NULL;
	int rc;

	if (cli_wants_help(argc, argv, help))
		return CLI_OK;
	rc = parse_args(ctx, argc, argv, &a);
	if (!rc)
		rc = cli_connect(ctx, &db);
	if (!rc)
		rc = cli_check_timestamp(ctx, db, "dead-letters", "--since",
		                         a.v[F_SINCE]);
	if (!rc)
		rc = list(ctx, db, &a);
	db_free(db);
	return rc;
}
