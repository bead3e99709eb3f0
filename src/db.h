/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db: the PostgreSQL connection (libpq), kept inside this module.
 *
 * Every statement is parameterised (PQexecParams) except whole SQL files
 * applied by migrate.  Errors carry the server's SQLSTATE and message in
 * the thread-local last error; connection-class failures (SQLSTATE 08xxx,
 * a dropped socket) and serialization/deadlock failures map to
 * RELAY_EAGAIN so callers can reconnect or retry.  Main-loop thread only.
 */
#ifndef RELAY_DB_H
#define RELAY_DB_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

struct db;
struct db_result;

/*
 * Connect with a libpq URL or conninfo string; NULL or "" uses libpq's
 * defaults (PGHOST, PGDATABASE, ... environment variables).
 * application_name is set to `app` for pg_stat_activity.
 */
int db_connect(struct db **out,
               const char *conninfo,
               const char *app) RELAY_MUSTCHECK;
void db_free(struct db *db);

/* Whether the connection is usable; db_reset() reconnects in place. */
bool db_ok(const struct db *db);
int db_reset(struct db *db) RELAY_MUSTCHECK;

/* Run SQL text without parameters (may hold several statements). */
int db_exec(struct db *db, const char *sql) RELAY_MUSTCHECK;

/*
 * Run cleanup SQL (ROLLBACK, an unlock) on a failure path: its own outcome
 * is ignored and the last error message is kept as it was.
 */
void db_exec_cleanup(struct db *db, const char *sql);

/*
 * Run one parameterised statement; params are text (NULL entries are SQL
 * NULL).  On success *out (if out is non-NULL) holds the rows; free it
 * with db_result_free().
 */
int db_query(struct db *db,
             struct db_result **out,
             const char *sql,
             int nparams,
             const char *const *params) RELAY_MUSTCHECK;

int db_result_rows(const struct db_result *r);
int db_result_cols(const struct db_result *r);
/* Borrowed text of a value ("" for NULL); valid until db_result_free. */
const char *db_result_value(const struct db_result *r, int row, int col);
size_t db_result_length(const struct db_result *r, int row, int col);
bool db_result_isnull(const struct db_result *r, int row, int col);
const char *db_result_colname(const struct db_result *r, int col);
void db_result_free(struct db_result *r);

/* SQLSTATE of the last failed statement on this connection ("" if none). */
const char *db_last_sqlstate(const struct db *db);

#endif
