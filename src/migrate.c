/* SPDX-License-Identifier: Apache-2.0 */
#include "migrate.h"

#include <stdlib.h>
#include <string.h>

#include "sqlbundle.h"
#include "util/buf.h"
#include "util/xalloc.h"

/* Arbitrary constant naming our advisory lock ("clawdmig" in ASCII). */
#define MIGRATE_LOCK_KEY "7164767188935559527"

static const char bootstrap_sql[] =
        "CREATE SCHEMA IF NOT EXISTS clawdstrike;"
        "CREATE TABLE IF NOT EXISTS clawdstrike.schema_migrations ("
        " version integer PRIMARY KEY, name text NOT NULL,"
        " applied_at timestamptz NOT NULL DEFAULT now());"
        "CREATE TABLE IF NOT EXISTS clawdstrike.schema_repeatable ("
        " only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),"
        " checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());";

/* The repeatable files as one text, in name order: what the checksum covers. */
static char *repeatable_text(void)
{
	struct buf b;

	buf_init(&b, 0);
	for (size_t i = 0; i < sql_repeatable_count; i++) {
		if (buf_printf(&b, "-- %s\n%s\n", sql_repeatable[i].name,
		               sql_repeatable[i].text) != 0)
			abort(); /* unreachable: the buffer has no cap */
	}
	return buf_take(&b, NULL);
}

static int query_int(struct db *db,
                     const char *sql,
                     int nparams,
                     const char *const *params,
                     int *out)
{
	struct db_result *r;
	int rc = db_query(db, &r, sql, nparams, params);

	if (rc)
		return rc;
	*out = db_result_rows(r) && !db_result_isnull(r, 0, 0)
	               ? (int)strtol(db_result_value(r, 0, 0), NULL, 10)
	               : 0;
	db_result_free(r);
	return 0;
}

/*
 * The outbox needs a UTF-8 database: events are JSON (jsonb Unicode
 * escapes) and Splunk takes UTF-8.  A cluster made without a locale is
 * SQL_ASCII, where libpq's UTF-8 client cannot even convert: refuse it
 * here, once, with what to do.
 */
static int check_encoding(struct db *db)
{
	struct db_result *r;
	int rc = db_query(db, &r,
	                  "SELECT current_database(),"
	                  " pg_encoding_to_char(encoding) FROM pg_database"
	                  " WHERE datname = current_database()",
	                  0, NULL);

	if (rc)
		return rc;
	if (db_result_rows(r) == 1 &&
	    strcmp(db_result_value(r, 0, 1), "UTF8") != 0)
		rc = relay_error_set(
		        "database %s has encoding %s; the outbox needs UTF8:"
		        " create it with `createdb -E UTF8 -T template0 %s`"
		        " (or a cluster initialised with a UTF-8 locale, e.g."
		        " LANG=C.UTF-8)",
		        db_result_value(r, 0, 0), db_result_value(r, 0, 1),
		        db_result_value(r, 0, 0));
	db_result_free(r);
	return rc;
}

int migrate_schema_version(struct db *db, int *out, int *sql_current)
{
	/* Two steps: a query naming a missing table fails at parse time,
	 * whatever a CASE around it says. */
	static const char sql_exists[] =
	        "SELECT (to_regclass('clawdstrike.schema_migrations') IS NOT"
	        " NULL)::int + (to_regclass('clawdstrike.schema_repeatable') IS"
	        " NOT NULL)::int";
	static const char sql_version[] = "SELECT coalesce(max(version), 0)"
	                                  " FROM clawdstrike.schema_migrations";
	static const char sql_sum[] =
	        "SELECT count(*) FROM clawdstrike.schema_repeatable"
	        " WHERE checksum = md5($1)";
	const char *params[1];
	int rc, tables = 0;
	char *text;

	*out = 0;
	if (sql_current)
		*sql_current = 0;
	rc = check_encoding(db);
	if (!rc)
		rc = query_int(db, sql_exists, 0, NULL, &tables);
	if (rc || tables < 1)
		return rc;
	rc = query_int(db, sql_version, 0, NULL, out);
	if (rc || !sql_current || tables < 2)
		return rc;
	text = repeatable_text();
	params[0] = text;
	rc = query_int(db, sql_sum, 1, params, sql_current);
	free(text);
	return rc;
}

static bool is_applied(struct db_result *applied, int version)
{
	for (int i = 0; i < db_result_rows(applied); i++)
		if (strtol(db_result_value(applied, i, 0), NULL, 10) == version)
			return true;
	return false;
}

/* Run `sql`, then `record` (which notes it as applied), in the caller's
 * transaction. */
static int apply_one(struct db *db,
                     const char *sql,
                     const char *record,
                     const char *const *params,
                     int nparams)
{
	int rc = db_exec(db, sql);

	return rc ? rc : db_query(db, NULL, record, nparams, params);
}

static int
apply_migrations(struct db *db, struct migrate_report *rep, FILE *log)
{
	static const char record[] =
	        "INSERT INTO clawdstrike.schema_migrations (version, name)"
	        " VALUES ($1::integer, $2)";
	struct db_result *applied = NULL;
	int rc;

	rc = db_query(db, &applied,
	              "SELECT version FROM clawdstrike.schema_migrations", 0,
	              NULL);
	if (rc)
		return rc;
	for (size_t i = 0; i < sql_migrations_count; i++) {
		const struct sql_file *f = &sql_migrations[i];
		int v = sqlbundle_version_of(f->name);
		char vbuf[16];
		const char *params[2] = {vbuf, f->name};

		if (is_applied(applied, v))
			continue;
		snprintf(vbuf, sizeof(vbuf), "%d", v);
		rc = apply_one(db, f->text, record, params, 2);
		if (rc) {
			relay_error_set("migration %s failed: %s", f->name,
			                relay_error_last());
			goto done;
		}
		rep->migrations_applied++;
		if (log)
			fprintf(log, "applied migration %s\n", f->name);
	}
done:
	db_result_free(applied);
	return rc;
}

static int apply_repeatable(struct db *db,
                            struct migrate_report *rep,
                            FILE *log,
                            bool force)
{
	static const char record[] =
	        "INSERT INTO clawdstrike.schema_repeatable (checksum)"
	        " VALUES (md5($1)) ON CONFLICT (only_row) DO UPDATE"
	        " SET checksum = excluded.checksum, applied_at = now()";
	char *text = repeatable_text();
	const char *params[1] = {text};
	int current = 0, rc;

	rc = query_int(db,
	               "SELECT count(*) FROM clawdstrike.schema_repeatable"
	               " WHERE checksum = md5($1)",
	               1, params, &current);
	if (rc || (current && !force))
		goto done;
	rc = apply_one(db, text, record, params, 1);
	if (rc) {
		relay_error_set("applying sql/ failed: %s", relay_error_last());
		goto done;
	}
	rep->repeatable_applied = (int)sql_repeatable_count;
	if (log)
		for (size_t i = 0; i < sql_repeatable_count; i++)
			fprintf(log, "applied %s\n", sql_repeatable[i].name);
done:
	free(text);
	return rc;
}

int migrate_run(struct db *db, struct migrate_report *out, FILE *log)
{
	int rc, latest = sqlbundle_latest_version();

	memset(out, 0, sizeof(*out));
	rc = check_encoding(db);
	if (rc)
		return rc;
	rc = db_exec(db, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")");
	if (rc)
		return rc;
	rc = db_exec(db, bootstrap_sql);
	if (!rc)
		rc = migrate_schema_version(db, &out->from_version, NULL);
	if (rc)
		goto done;
	if (out->from_version > latest) {
		rc = relay_error_set("database schema version %d is newer than"
		                     " this binary's %d: upgrade the relay",
		                     out->from_version, latest);
		goto done;
	}
	/*
	 * One transaction for the migrations and sql/: a database is at the
	 * old version or at the new one, never between (a migration that
	 * replaces a table the old functions use, like 0005, would otherwise
	 * leave the engine's enqueue() broken when sql/ fails).
	 */
	rc = db_exec(db, "BEGIN");
	if (rc)
		goto done;
	rc = apply_migrations(db, out, log);
	if (!rc)
		rc = apply_repeatable(db, out, log,
		                      out->migrations_applied > 0);
	if (!rc)
		rc = db_exec(db, "COMMIT");
	if (rc) {
		db_exec_cleanup(db, "ROLLBACK");
		out->migrations_applied = 0;
		out->repeatable_applied = 0;
		goto done;
	}
	rc = migrate_schema_version(db, &out->to_version, NULL);
done:
	/* The lock is released explicitly; the session may live on. */
	if (db_ok(db))
		db_exec_cleanup(
		        db, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")");
	return rc;
}
