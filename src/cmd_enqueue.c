/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `enqueue [FILE|-]`: bulk-load JSON Lines events into the outbox.
 *
 * Every line is validated here with event_parse() (the rules and messages
 * of sql/10_validate.sql), so a bad line is reported with its number and
 * never sent to the server.  Good lines are gathered into chunks (at most
 * CHUNK_LINES lines or CHUNK_BYTES bytes); each chunk is one transaction:
 * COPY into a temporary table (COPY text format, escaped here), then one
 * call of clawdstrike.enqueue_many() with the chunk's events, which adds
 * them set at a time and skips an event_id it knows, so an event already
 * present counts as a duplicate, not an error.  So does one delivered and
 * purged within the dedup horizon (its event_id has a tombstone).  Chunks
 * keep a huge file out of one giant transaction and make progress durable as it
 * goes.
 *
 * enqueue_many() (like the outbox's INSERT) validates again.  Should it (or the
 * jsonb parser: a number too large for numeric, a database encoding that
 * cannot hold a character) reject a row the C validator accepted, the
 * chunk is rolled back and retried row by row under savepoints, so one
 * such row is reported with its line number and the others still load.
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "db.h"
#include "event.h"
#include "migrate.h"
#include "util/buf.h"
#include "util/sys.h"
#include "util/xalloc.h"

#define CHUNK_LINES 10000
#define CHUNK_BYTES (32u * 1024 * 1024)
/* COPY data is sent in pieces of about this size. */
#define COPY_PIECE (256u * 1024)
#define PROGRESS_EVERY_MS 100

static const char help[] =
        "Usage: clawdstrike-relay [-c FILE] enqueue [FILE|-]\n"
        "\n"
        "Bulk-load JSON Lines events (one event object per line) from FILE,\n"
        "or from standard input when FILE is - or absent.  Each line is\n"
        "validated like clawdstrike.enqueue() (SPEC section 6, size limit\n"
        "exporters.splunk.max_event_bytes); a bad line is reported on stderr\n"
        "as FILE:LINE: invalid event: <path>: <problem> and skipped, and the\n"
        "good lines still load (FILE is <stdin> for standard input).  Blank\n"
        "lines are skipped; line numbers count them.  An event whose\n"
        "event_id is already in the outbox, or was delivered and purged\n"
        "less than retention_tombstones ago (default 30 days), is a\n"
        "duplicate: counted, not loaded again.  Lines load in chunks of\n"
        "10,000, one transaction each, in file order.  On a terminal a\n"
        "progress line is shown on stderr.\n"
        "\n"
        "Prints loaded=N duplicates=N rejected=N on stdout at the end.\n"
        "\n"
        "Exit status: 0 every line loaded or was a duplicate; 1 some lines\n"
        "were rejected (the others are loaded) or the database failed part\n"
        "way (the chunks committed before stay loaded); 2 usage or\n"
        "configuration error, or FILE cannot be opened.\n";

/* One good line of the current chunk: where its text is in l->raw. */
struct line_ref {
	uint64_t line;
	size_t off, len;
};

struct loader {
	struct db *db;
	const char *name; /* for messages: the path or "<stdin>" */
	size_t max_bytes;

	struct buf raw; /* the chunk's good lines, back to back */
	struct line_ref *refs;
	size_t n_refs;
	struct buf copy; /* COPY text under construction */

	uint64_t read, loaded, duplicates, rejected;

	int progress; /* stderr is a terminal */
	int drawn;    /* a progress line is on screen */
	int64_t t0_ms, drawn_ms;
};

/* ------------------------------------------------------------ progress */

static void progress_clear(struct loader *l)
{
	if (l->drawn) {
		fputs("\r\033[K", stderr);
		l->drawn = 0;
	}
}

static void progress_draw(struct loader *l, int force)
{
	int64_t now;
	double s;

	if (!l->progress)
		return;
	now = sys_now_ms();
	if (!force && now - l->drawn_ms < PROGRESS_EVERY_MS)
		return;
	l->drawn_ms = now;
	s = (double)(now - l->t0_ms) / 1000.0;
	fprintf(stderr,
	        "\r\033[K%llu lines read, %llu loaded, %llu duplicates,"
	        " %llu rejected, %.0f lines/s",
	        (unsigned long long)l->read, (unsigned long long)l->loaded,
	        (unsigned long long)l->duplicates,
	        (unsigned long long)l->rejected,
	        s > 0 ? (double)l->read / s : 0.0);
	fflush(stderr);
	l->drawn = 1;
}

/* One rejected line: FILE:LINE: invalid event: <path>: <problem>. */
static void report_bad(struct loader *l, uint64_t line, const char *msg)
{
	static const char prefix[] = "invalid event: ";

	progress_clear(l);
	l->rejected++;
	/* Server-side rejections that are not the validator's own (jsonb
	 * parse errors) get the validator's shape too. */
	if (strncmp(msg, prefix, sizeof(prefix) - 1) == 0)
		fprintf(stderr, "%s:%llu: %s\n", l->name,
		        (unsigned long long)line, msg);
	else
		fprintf(stderr, "%s:%llu: invalid event: (event): %s\n",
		        l->name, (unsigned long long)line, msg);
}

/* ---------------------------------------------------------------- COPY */

/*
 * COPY text format: backslash, tab, newline and carriage return are the
 * only bytes that need escaping (tab is the delimiter).  A validated line
 * holds no NUL and no raw newline, but may hold JSON white space (tab, CR)
 * and backslash escapes, which must reach the server unchanged.
 */
static int copy_escaped(struct buf *b, const char *s, size_t n)
{
	size_t start = 0;
	int rc = 0;

	for (size_t i = 0; i < n && !rc; i++) {
		const char *esc = NULL;

		switch (s[i]) {
		case '\\':
			esc = "\\\\";
			break;
		case '\t':
			esc = "\\t";
			break;
		case '\n':
			esc = "\\n";
			break;
		case '\r':
			esc = "\\r";
			break;
		default:
			continue;
		}
		rc = buf_append(b, s + start, i - start);
		if (!rc)
			rc = buf_append(b, esc, 2);
		start = i + 1;
	}
	return rc ? rc : buf_append(b, s + start, n - start);
}

/* Send the chunk's lines as "<line>\t<event>\n" rows. */
static int copy_chunk(struct loader *l)
{
	int rc = db_copy_begin(l->db, "COPY pg_temp.clawdstrike_enqueue"
	                              " (line, event) FROM STDIN");

	if (rc)
		return rc;
	buf_reset(&l->copy);
	for (size_t i = 0; i < l->n_refs && !rc; i++) {
		const struct line_ref *r = &l->refs[i];

		rc = buf_printf(&l->copy, "%llu\t",
		                (unsigned long long)r->line);
		if (!rc)
			rc = copy_escaped(&l->copy, l->raw.data + r->off,
			                  r->len);
		if (!rc)
			rc = buf_append(&l->copy, "\n", 1);
		if (!rc && (l->copy.len >= COPY_PIECE || i + 1 == l->n_refs)) {
			rc = db_copy_put(l->db, l->copy.data, l->copy.len);
			buf_reset(&l->copy);
		}
	}
	if (rc) {
		/* Leave COPY mode; the first error is the one to report. */
		char saved[512];

		snprintf(saved, sizeof(saved), "%s", relay_error_last());
		if (db_copy_end(l->db, "enqueue aborted") == 0) {
			/* Cannot succeed with an abort reason. */
		}
		relay_error_set("%s", saved);
		return rc;
	}
	return db_copy_end(l->db, NULL);
}

/* ------------------------------------------------------------- loading */

static int query_count(struct db *db,
                       const char *sql,
                       int nparams,
                       const char *const *params,
                       uint64_t *out)
{
	struct db_result *r;
	int rc = db_query(db, &r, sql, nparams, params);

	if (rc)
		return rc;
	*out = db_result_rows(r) ? strtoull(db_result_value(r, 0, 0), NULL, 10)
	                         : 0;
	db_result_free(r);
	return 0;
}

/* The fast path: one transaction, COPY then one enqueue_many(). */
static int load_chunk_copy(struct loader *l)
{
	static const char insert[] =
	        "SELECT clawdstrike.enqueue_many(array_agg(e.event::jsonb"
	        " ORDER BY e.line)) FROM pg_temp.clawdstrike_enqueue e";
	uint64_t n = 0;
	int rc = db_exec(l->db, "BEGIN");

	if (!rc)
		rc = copy_chunk(l);
	if (!rc)
		rc = query_count(l->db, insert, 0, NULL, &n);
	if (!rc)
		rc = db_exec(l->db, "COMMIT");
	if (rc) {
		db_exec_cleanup(l->db, "ROLLBACK");
		return rc;
	}
	l->loaded += n;
	l->duplicates += l->n_refs - n;
	return 0;
}

/*
 * A row the server rejects for its data (not for the connection, a missing
 * table or a privilege): data exceptions (22), integrity constraints (23),
 * program limits such as a too-large jsonb (54).
 */
static int is_row_error(struct db *db)
{
	const char *st = db_last_sqlstate(db);

	return strncmp(st, "22", 2) == 0 || strncmp(st, "23", 2) == 0 ||
	       strncmp(st, "54", 2) == 0;
}

/* One line under its own savepoint; a row error is reported, not fatal. */
static int load_one(struct loader *l, const struct line_ref *r)
{
	static const char insert[] =
	        "WITH ins AS (INSERT INTO clawdstrike.outbox (event)"
	        " VALUES ($1::jsonb)"
	        " RETURNING 1) SELECT count(*) FROM ins";
	char *text = xstrndup(l->raw.data + r->off, r->len);
	const char *params[1] = {text};
	uint64_t n = 0;
	int rc = db_exec(l->db, "SAVEPOINT enqueue_row");

	if (!rc)
		rc = query_count(l->db, insert, 1, params, &n);
	free(text);
	if (rc && rc != RELAY_EAGAIN && is_row_error(l->db)) {
		report_bad(l, r->line, db_last_message(l->db));
		return db_exec(l->db, "ROLLBACK TO SAVEPOINT enqueue_row");
	}
	if (rc)
		return rc;
	if (n)
		l->loaded++;
	else
		l->duplicates++;
	return db_exec(l->db, "RELEASE SAVEPOINT enqueue_row");
}

/* The slow path, for a chunk the server refused as a whole. */
static int load_chunk_rows(struct loader *l)
{
	uint64_t loaded = l->loaded, dups = l->duplicates, bad = l->rejected;
	int rc = db_exec(l->db, "BEGIN");

	for (size_t i = 0; i < l->n_refs && !rc; i++)
		rc = load_one(l, &l->refs[i]);
	if (!rc)
		rc = db_exec(l->db, "COMMIT");
	if (rc) {
		db_exec_cleanup(l->db, "ROLLBACK");
		/* Nothing of this chunk was committed. */
		l->loaded = loaded;
		l->duplicates = dups;
		l->rejected = bad;
	}
	return rc;
}

static int flush_chunk(struct loader *l)
{
	int rc;

	if (!l->n_refs)
		return 0;
	rc = load_chunk_copy(l);
	if (rc && rc != RELAY_EAGAIN && is_row_error(l->db))
		rc = load_chunk_rows(l);
	l->n_refs = 0;
	buf_reset(&l->raw);
	progress_draw(l, 1);
	return rc;
}

/* ------------------------------------------------------------- reading */

static int is_blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return 0;
	return 1;
}

static int add_line(struct loader *l, const char *s, size_t n)
{
	struct event *ev = NULL;
	struct line_ref *r;
	int rc;

	l->read++;
	if (n && s[n - 1] == '\r') /* CRLF files */
		n--;
	if (is_blank(s, n))
		return 0;
	if (event_parse(&ev, s, n, l->max_bytes) != 0) {
		report_bad(l, l->read, relay_error_last());
		return 0;
	}
	event_free(ev);
	if (l->n_refs == CHUNK_LINES ||
	    (l->n_refs && l->raw.len + n > CHUNK_BYTES)) {
		rc = flush_chunk(l);
		if (rc)
			return rc;
	}
	r = &l->refs[l->n_refs++];
	r->line = l->read;
	r->off = l->raw.len;
	r->len = n;
	return buf_append(&l->raw, s, n);
}

static int read_all(struct loader *l, FILE *in)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;

	while (!rc && (n = getline(&line, &cap, in)) >= 0) {
		if (n && line[n - 1] == '\n')
			n--;
		rc = add_line(l, line, (size_t)n);
		if (!rc && (l->read & 255) == 0)
			progress_draw(l, 0);
	}
	free(line);
	if (!rc && ferror(in))
		rc = relay_error_set("%s: read error: %s", l->name,
		                     strerror(errno));
	if (!rc)
		rc = flush_chunk(l);
	return rc;
}

/* ------------------------------------------------------------- command */

static int
parse_args(const struct cli_ctx *ctx, int argc, char **argv, const char **path)
{
	static const struct option opts[] = {{NULL, 0, NULL, 0}};
	int c;

	optind = 0; /* glibc: restart scanning on the command's argv */
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		(void)c;
		fprintf(stderr, "%s: enqueue: see enqueue --help\n", ctx->prog);
		return CLI_USAGE;
	}
	if (argc - optind > 1) {
		fprintf(stderr, "%s: enqueue: one FILE at most\n", ctx->prog);
		return CLI_USAGE;
	}
	*path = optind < argc ? argv[optind] : "-";
	return CLI_OK;
}

/* The schema must be there, and the session ready for the load. */
static int prepare_session(struct db *db)
{
	int version = 0, rc = migrate_schema_version(db, &version, NULL);
	const char *st = db_last_sqlstate(db);

	/* Without the schema the version query itself fails to parse. */
	if (rc && (strcmp(st, "42P01") == 0 || strcmp(st, "3F000") == 0))
		rc = 0;
	if (!rc && version == 0)
		rc = relay_error_set("the clawdstrike schema is not installed;"
		                     " run `clawdstrike-relay migrate`");
	/* The bytes are UTF-8 JSON: no client-side transcoding (a
	 * PGCLIENTENCODING would garble them). */
	if (!rc)
		rc = db_exec(db, "SET client_encoding = 'UTF8'");
	if (!rc)
		rc = db_exec(db, "CREATE TEMP TABLE clawdstrike_enqueue"
		                 " (line bigint, event text)"
		                 " ON COMMIT DELETE ROWS");
	return rc;
}

static int open_input(const struct cli_ctx *ctx,
                      const char *path,
                      FILE **in,
                      const char **name)
{
	if (strcmp(path, "-") == 0) {
		*in = stdin;
		*name = "<stdin>";
		return CLI_OK;
	}
	*in = fopen(path, "r");
	*name = path;
	if (!*in) {
		fprintf(stderr, "%s: enqueue: %s: %s\n", ctx->prog, path,
		        strerror(errno));
		return CLI_USAGE;
	}
	return CLI_OK;
}

static void loader_init(struct loader *l, struct db *db, size_t max_bytes)
{
	memset(l, 0, sizeof(*l));
	l->db = db;
	l->max_bytes = max_bytes;
	buf_init(&l->raw, 0);
	buf_init(&l->copy, 0);
	l->refs = xcalloc(CHUNK_LINES, sizeof(*l->refs));
	l->progress = isatty(STDERR_FILENO);
	l->t0_ms = sys_now_ms();
}

static void loader_dispose(struct loader *l)
{
	buf_dispose(&l->raw);
	buf_dispose(&l->copy);
	free(l->refs);
}

static int run_load(const struct cli_ctx *ctx,
                    struct db *db,
                    const struct config *cfg,
                    FILE *in,
                    const char *name)
{
	struct loader l;
	int rc;

	loader_init(&l, db, (size_t)cfg->splunk.max_event_bytes);
	l.name = name;
	rc = prepare_session(db);
	if (!rc)
		rc = read_all(&l, in);
	progress_clear(&l);
	if (rc)
		fprintf(stderr, "%s: enqueue: %s\n", ctx->prog,
		        relay_error_last());
	printf("loaded=%llu duplicates=%llu rejected=%llu\n",
	       (unsigned long long)l.loaded, (unsigned long long)l.duplicates,
	       (unsigned long long)l.rejected);
	loader_dispose(&l);
	return rc || l.rejected ? CLI_RUNTIME : CLI_OK;
}

int cmd_enqueue(const struct cli_ctx *ctx, int argc, char **argv)
{
	struct config *cfg = NULL;
	struct db *db = NULL;
	const char *path = NULL, *name = NULL;
	FILE *in = NULL;
	int rc;

	if (cli_wants_help(argc, argv, help))
		return CLI_OK;
	rc = parse_args(ctx, argc, argv, &path);
	if (!rc)
		rc = cli_load_config(ctx, &cfg, false);
	if (!rc)
		rc = open_input(ctx, path, &in, &name);
	if (rc) {
		config_free(cfg);
		return rc;
	}
	if (db_connect(&db, cfg->database.url, "clawdstrike-relay") != 0) {
		fprintf(stderr, "%s: enqueue: %s\n", ctx->prog,
		        relay_error_last());
		rc = CLI_RUNTIME;
	} else {
		rc = run_load(ctx, db, cfg, in, name);
	}
	if (in != stdin)
		fclose(in);
	db_free(db);
	config_free(cfg);
	return rc;
}
