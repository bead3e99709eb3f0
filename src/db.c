/* SPDX-License-Identifier: Apache-2.0 */
#include "db.h"

#include <libpq-fe.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

struct db {
	PGconn *conn;
	char sqlstate[6];
	char message[512]; /* primary message of the last failure */
	bool broken;       /* a connection-class failure: reset before use */
	PGresult *pending; /* db_send_query's first result, until its end */
};

struct db_result {
	PGresult *res;
};

/* libpq's default notice processor prints to stderr; route it nowhere. */
static void notice_ignore(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

int db_connect(struct db **out, const char *conninfo, const char *app)
{
	const char *keys[] = {"dbname", "application_name", NULL};
	const char *vals[] = {conninfo && *conninfo ? conninfo : NULL, app,
	                      NULL};
	struct db *db;

	*out = NULL;
	db = xcalloc(1, sizeof(*db));
	/* expand_dbname=1: dbname may be a full URL or conninfo string. */
	db->conn = PQconnectdbParams(keys, vals, 1);
	if (!db->conn || PQstatus(db->conn) != CONNECTION_OK) {
		relay_error_set("database connection failed: %s",
		                db->conn ? PQerrorMessage(db->conn)
		                         : "out of memory");
		db_free(db);
		return RELAY_EAGAIN;
	}
	PQsetNoticeProcessor(db->conn, notice_ignore, NULL);
	*out = db;
	return 0;
}

void db_free(struct db *db)
{
	if (!db)
		return;
	PQclear(db->pending);
	PQfinish(db->conn);
	free(db);
}

bool db_ok(const struct db *db)
{
	return db && !db->broken && PQstatus(db->conn) == CONNECTION_OK;
}

int db_reset(struct db *db)
{
	PQclear(db->pending);
	db->pending = NULL;
	db->broken = false;
	PQreset(db->conn);
	if (PQstatus(db->conn) != CONNECTION_OK) {
		relay_error_set("database reconnect failed: %s",
		                PQerrorMessage(db->conn));
		return RELAY_EAGAIN;
	}
	return 0;
}

/* Copy src into dst, cut to fit (an error text may be long). */
static void copy_trunc(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* One place maps every libpq failure to a return code and a message. */
static int fail(struct db *db, PGresult *res)
{
	const char *state =
	        res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? PQresultErrorMessage(res) : "";
	const char *primary;
	char clean[1024];
	size_t n;

	if (!msg || !*msg)
		msg = PQerrorMessage(db->conn);
	snprintf(clean, sizeof(clean), "%s", msg);
	n = strlen(clean);
	while (n && (clean[n - 1] == '\n' || clean[n - 1] == ' '))
		clean[--n] = '\0';
	snprintf(db->sqlstate, sizeof(db->sqlstate), "%s", state ? state : "");
	primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	copy_trunc(db->message, sizeof(db->message), primary ? primary : clean);
	if (state)
		relay_error_set("%s (SQLSTATE %s)", clean, state);
	else
		relay_error_set("%s", clean);
	PQclear(res);
	/* state pointed into res: from here on only the copy is valid. */
	state = db->sqlstate;
	db->broken = PQstatus(db->conn) != CONNECTION_OK ||
	             strncmp(state, "08", 2) == 0 ||
	             strcmp(state, "57P01") == 0;
	if (db->broken || strcmp(state, "40001") == 0 ||
	    strcmp(state, "40P01") == 0)
		return RELAY_EAGAIN;
	return RELAY_ERR;
}

int db_exec(struct db *db, const char *sql)
{
	PGresult *res = PQexec(db->conn, sql);
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		return fail(db, res);
	PQclear(res);
	db->sqlstate[0] = '\0';
	return 0;
}

void db_exec_cleanup(struct db *db, const char *sql)
{
	char saved[1024];

	snprintf(saved, sizeof(saved), "%s", relay_error_last());
	PQclear(PQexec(db->conn, sql));
	relay_error_set("%s", saved);
}

/* A statement's result: its rows in *out (if out is non-NULL), or fail(). */
static int take(struct db *db, PGresult *res, struct db_result **out)
{
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		return fail(db, res);
	db->sqlstate[0] = '\0';
	if (!out) {
		PQclear(res);
		return 0;
	}
	*out = xmalloc(sizeof(**out));
	(*out)->res = res;
	return 0;
}

int db_query(struct db *db,
             struct db_result **out,
             const char *sql,
             int nparams,
             const char *const *params)
{
	if (out)
		*out = NULL;
	return take(db,
	            PQexecParams(db->conn, sql, nparams, NULL, params, NULL,
	                         NULL, 0),
	            out);
}

int db_send_query(struct db *db,
                  const char *sql,
                  int nparams,
                  const char *const *params)
{
	if (PQsendQueryParams(db->conn, sql, nparams, NULL, params, NULL, NULL,
	                      0) != 1)
		return fail(db, NULL);
	return 0;
}

int db_socket(const struct db *db)
{
	return PQsocket(db->conn);
}

int db_consume_ready(struct db *db)
{
	if (PQconsumeInput(db->conn) != 1)
		return fail(db, NULL);
	return 0;
}

int db_take_result(struct db *db, struct db_result **out)
{
	PGresult *res;
	int rc;

	*out = NULL;
	for (;;) {
		if (PQisBusy(db->conn))
			return RELAY_EAGAIN;
		res = PQgetResult(db->conn);
		if (!res)
			break;
		/* Keep the first result (rows or the error); the statement
		 * ends with NULL, which may come in a later packet. */
		if (db->pending)
			PQclear(res);
		else
			db->pending = res;
	}
	res = db->pending;
	db->pending = NULL;
	rc = take(db, res, out);
	/* RELAY_EAGAIN means "not yet" here: a lost connection shows in
	 * db_ok() instead. */
	return rc == RELAY_EAGAIN ? RELAY_ERR : rc;
}

int db_result_rows(const struct db_result *r)
{
	return PQntuples(r->res);
}

int db_result_cols(const struct db_result *r)
{
	return PQnfields(r->res);
}

const char *db_result_value(const struct db_result *r, int row, int col)
{
	return PQgetvalue(r->res, row, col);
}

size_t db_result_length(const struct db_result *r, int row, int col)
{
	return (size_t)PQgetlength(r->res, row, col);
}

bool db_result_isnull(const struct db_result *r, int row, int col)
{
	return PQgetisnull(r->res, row, col) != 0;
}

const char *db_result_colname(const struct db_result *r, int col)
{
	return PQfname(r->res, col);
}

void db_result_free(struct db_result *r)
{
	if (!r)
		return;
	PQclear(r->res);
	free(r);
}

const char *db_last_sqlstate(const struct db *db)
{
	return db->sqlstate;
}

const char *db_last_message(const struct db *db)
{
	return db->message;
}

int db_copy_begin(struct db *db, const char *sql)
{
	PGresult *res = PQexec(db->conn, sql);

	if (!res || PQresultStatus(res) != PGRES_COPY_IN)
		return fail(db, res);
	PQclear(res);
	db->sqlstate[0] = '\0';
	return 0;
}

int db_copy_put(struct db *db, const char *data, size_t len)
{
	/* Blocking connection: 1 (queued or sent) or -1, never 0.  A server
	 * error about the data only shows at db_copy_end. */
	while (len) {
		int n = len > INT_MAX ? INT_MAX : (int)len;

		if (PQputCopyData(db->conn, data, n) != 1)
			return fail(db, NULL);
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read what is left of a statement's results so the connection is idle. */
static void drain(struct db *db)
{
	PGresult *res;

	while ((res = PQgetResult(db->conn)) != NULL) {
		ExecStatusType st = PQresultStatus(res);

		PQclear(res);
		/* Still in COPY (cannot happen after PQputCopyEnd): stop
		 * rather than spin; the next statement reports the state. */
		if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT)
			break;
	}
}

int db_copy_end(struct db *db, const char *abort_reason)
{
	PGresult *res;
	ExecStatusType st;

	if (PQputCopyEnd(db->conn, abort_reason) != 1) {
		int rc = fail(db, NULL);

		drain(db);
		return rc;
	}
	res = PQgetResult(db->conn);
	st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	drain(db);
	if (st != PGRES_COMMAND_OK)
		return fail(db, res);
	PQclear(res);
	db->sqlstate[0] = '\0';
	return 0;
}
