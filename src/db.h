/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db: the PostgreSQL connection (libpq), kept inside this module.
 *
 * Every statement is parameterised (PQexecParams) except whole SQL files
 * applied by migrate.  Errors carry the server's SQLSTATE and message in
 * the thread-local last error; connection-class failures (SQLSTATE 08xxx,
 * a dropped socket) and serialization/deadlock failures map to
 * RELAY_EAGAIN so callers can reconnect or retry.  A statement can also
 * be sent without waiting (db_send_query) and its result taken once the
 * socket says it is there (db_take_result): one at a time per connection.
 * Main-loop thread only.
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

/*
 * Whether the connection is usable (false after a connection-class
 * failure); db_reset() reconnects in place, dropping a statement sent
 * with db_send_query whose result was not taken.
 */
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

/*
 * Asynchronous statements.  db_send_query() sends one parameterised
 * statement and returns without waiting for it; db_socket() is the socket
 * to poll for POLLIN meanwhile; db_consume_ready() reads what arrived
 * (never blocks) and db_take_result() then returns RELAY_EAGAIN while the
 * result is incomplete, or the statement's outcome: 0 with the rows in
 * *out (free with db_result_free) or, on any failure, RELAY_ERR (a lost
 * connection then shows in db_ok()).  db_send_query and db_consume_ready
 * fail as db_query does.
 */
int db_send_query(struct db *db,
                  const char *sql,
                  int nparams,
                  const char *const *params) RELAY_MUSTCHECK;
int db_socket(const struct db *db);
int db_consume_ready(struct db *db) RELAY_MUSTCHECK;
int db_take_result(struct db *db, struct db_result **out) RELAY_MUSTCHECK;

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

/*
 * The server's primary message of the last failed statement (no "ERROR:"
 * prefix, detail or hint), or libpq's text for a client-side failure.
 * Meaningful only right after a failure; for messages shown to users.
 */
const char *db_last_message(const struct db *db);

/*
 * COPY ... FROM STDIN.  db_copy_begin() runs the COPY statement;
 * db_copy_put() sends data in the statement's format (any number of calls,
 * any split); db_copy_end() finishes the COPY, or aborts it when
 * abort_reason is non-NULL (the statement then fails with that text), and
 * returns the statement's outcome: a server error about the data shows
 * only here.  Errors map as for db_query().  After a failed db_copy_put()
 * still call db_copy_end() (with a reason) to leave COPY mode.
 */
int db_copy_begin(struct db *db, const char *sql) RELAY_MUSTCHECK;
int db_copy_put(struct db *db, const char *data, size_t len) RELAY_MUSTCHECK;
int db_copy_end(struct db *db, const char *abort_reason) RELAY_MUSTCHECK;

#endif
