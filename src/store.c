/* SPDX-License-Identifier: Apache-2.0 */
#include "store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/sys.h"
#include "util/xalloc.h"

/* Reconnect backoff: 100 ms doubling to 5 s. */
#define RECONNECT_MIN_MS 100
#define RECONNECT_MAX_MS 5000
/* After a reconnect, ask for instance_id this often before giving up. */
#define RECLAIM_TRIES 20
#define RECLAIM_WAIT_MS 500

struct store {
	struct db *db;
	struct db *claim_db; /* claims only (store_claim_start); no lock */
	bool claiming;       /* a claim was sent and its result not taken */
	char *conninfo;
	char *instance_id;
	char run[37]; /* this process's run token (owner of its batches) */
	bool fenced;  /* another process took instance_id: stop */
	const volatile sig_atomic_t *stop;
	uint64_t reconnects;
	void (*health_fn)(bool up, void *arg);
	void *health_arg;
};

void store_on_health(struct store *s, void (*fn)(bool up, void *arg), void *arg)
{
	s->health_fn = fn;
	s->health_arg = arg;
}

static void health(struct store *s, bool up)
{
	if (s->health_fn)
		s->health_fn(up, s->health_arg);
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/*
 * Take instance_id for this session (clawdstrike.register): refused while
 * another live process holds it.  Run after every (re)connect: a process
 * that lost its connection long enough for another to start under the
 * same name must stop, not carry on beside it.
 */
static int claim_instance(struct store *s)
{
	const char *params[1] = {s->instance_id};
	struct db_result *r = NULL;
	int rc = db_query(s->db, &r, "SELECT clawdstrike.register($1)", 1,
	                  params);
	bool ok;

	if (rc)
		return rc;
	ok = db_result_rows(r) == 1 &&
	     strcmp(db_result_value(r, 0, 0), "t") == 0;
	db_result_free(r);
	if (ok)
		return 0;
	s->fenced = true;
	return relay_error_set("another relay process with instance_id %s is"
	                       " running against this database; give each"
	                       " process its own relay.instance_id",
	                       s->instance_id);
}

/*
 * After a reconnect, or a restart right after a kill -9, the old session
 * may still hold the lock for a moment (its backend exits when it notices
 * the closed socket): ask again for a while before concluding another
 * process took the name.
 */
static int reclaim_instance(struct store *s)
{
	int rc = 0;

	for (int i = 0; i < RECLAIM_TRIES; i++) {
		s->fenced = false;
		rc = claim_instance(s);
		if (rc != RELAY_ERR || !s->fenced)
			return rc;
		sleep_ms(RECLAIM_WAIT_MS);
	}
	log_error("instance_id is held by another live process; stopping",
	          "instance=%s", s->instance_id);
	return rc;
}

int store_open(struct store **out,
               const char *conninfo,
               const char *instance_id,
               const volatile sig_atomic_t *stop)
{
	struct store *s;
	int rc;

	*out = NULL;
	s = xcalloc(1, sizeof(*s));
	rc = db_connect(&s->db, conninfo, "clawdstrike-relay");
	if (!rc)
		rc = db_connect(&s->claim_db, conninfo,
		                "clawdstrike-relay-claim");
	if (rc) {
		db_free(s->db);
		free(s);
		return rc;
	}
	s->conninfo = xstrdup(conninfo ? conninfo : "");
	s->instance_id = xstrdup(instance_id);
	s->stop = stop;
	sys_uuid_v4(s->run);
	/* Right after a kill -9 the dead process's session may hold the
	 * name for a moment: reclaim_instance waits that long. */
	rc = reclaim_instance(s);
	if (rc) {
		store_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

bool store_fenced(const struct store *s)
{
	return s->fenced;
}

const char *store_run(const struct store *s)
{
	return s->run;
}

void store_free(struct store *s)
{
	if (!s)
		return;
	db_free(s->db);
	db_free(s->claim_db);
	free(s->conninfo);
	free(s->instance_id);
	free(s);
}

uint64_t store_reconnects(const struct store *s)
{
	return s->reconnects;
}

/* Every statement of a fenced store fails with this. */
static int fenced_error(const struct store *s)
{
	return relay_error_set("instance_id %s was taken by another process",
	                       s->instance_id);
}

/*
 * Reconnect db (the main or the claim connection, `which`) after it was
 * lost, backing off from *delay (doubled each try, capped), until it works
 * or the stop flag is raised (RELAY_EAGAIN).
 */
static int
reconnect(struct store *s, struct db *db, const char *which, int *delay)
{
	log_warn("database unavailable, retrying",
	         "conn=%s error=\"%s\" retry_ms=%d", which, relay_error_last(),
	         *delay);
	health(s, false);
	do {
		if (s->stop && *s->stop)
			return RELAY_EAGAIN;
		sleep_ms(*delay);
		*delay = *delay * 2 > RECONNECT_MAX_MS ? RECONNECT_MAX_MS
		                                       : *delay * 2;
	} while (db_reset(db) != 0);
	s->reconnects++;
	health(s, true);
	log_info("database reconnected", "conn=%s", which);
	return 0;
}

/*
 * Run one statement; on a lost connection reconnect and run it again,
 * backing off, until it works or the stop flag is raised.
 */
static int exec(struct store *s,
                struct db_result **out,
                const char *sql,
                int nparams,
                const char *const *params)
{
	int delay = RECONNECT_MIN_MS, rc;

	if (s->fenced)
		return fenced_error(s);
	for (;;) {
		rc = db_query(s->db, out, sql, nparams, params);
		if (rc != RELAY_EAGAIN)
			return rc;
		rc = reconnect(s, s->db, "main", &delay);
		if (rc)
			return rc;
		rc = reclaim_instance(s);
		if (rc && rc != RELAY_EAGAIN)
			return rc;
	}
}

/* "{1,2,3}": a bigint[] literal for a text parameter. */
static char *id_array(const int64_t *ids, size_t n)
{
	struct buf b;

	buf_init(&b, 0);
	if (buf_puts(&b, "{") != 0)
		abort();
	for (size_t i = 0; i < n; i++)
		if (buf_printf(&b, "%s%" PRId64, i ? "," : "", ids[i]) != 0)
			abort();
	if (buf_puts(&b, "}") != 0)
		abort();
	return buf_take(&b, NULL);
}

static int64_t to_i64(const char *s)
{
	return (int64_t)strtoll(s, NULL, 10);
}

/* Run a statement that returns one integer in its first column. */
static int exec_int(struct store *s,
                    const char *sql,
                    int nparams,
                    const char *const *params,
                    int64_t *out)
{
	struct db_result *r = NULL;
	int rc = exec(s, &r, sql, nparams, params);

	if (rc)
		return rc;
	if (out)
		*out = db_result_rows(r) && !db_result_isnull(r, 0, 0)
		               ? to_i64(db_result_value(r, 0, 0))
		               : 0;
	db_result_free(r);
	return 0;
}

/* A statement returning a row count; rows_out may be NULL. */
static int exec_rows(struct store *s,
                     const char *sql,
                     int nparams,
                     const char *const *params,
                     int *rows_out)
{
	int64_t n = 0;
	int rc = exec_int(s, sql, nparams, params, &n);

	if (rows_out)
		*rows_out = (int)n;
	return rc;
}

int store_claim_start(struct store *s,
                      int max_events,
                      int lease_s,
                      const char *channel)
{
	char nbuf[16], lbuf[16];
	const char *params[5] = {s->instance_id, nbuf, lbuf, s->run, channel};
	int delay = RECONNECT_MIN_MS, rc;

	if (s->claiming)
		return relay_error_set("a claim is in flight already");
	if (s->fenced)
		return fenced_error(s);
	snprintf(nbuf, sizeof(nbuf), "%d", max_events);
	snprintf(lbuf, sizeof(lbuf), "%d", lease_s);
	for (;;) {
		/* A claim that failed may have lost the connection: it is
		 * reconnected here, before the next claim. */
		if (db_ok(s->claim_db)) {
			rc = db_send_query(
			        s->claim_db,
			        "SELECT batch_id, id, attempts, event"
			        " FROM clawdstrike.claim($1,"
			        " $2::integer, $3::integer,"
			        " $4::uuid, $5::uuid)",
			        5, params);
			if (rc != RELAY_EAGAIN)
				break;
		}
		rc = reconnect(s, s->claim_db, "claim", &delay);
		if (rc)
			return rc;
	}
	s->claiming = rc == 0;
	return rc;
}

bool store_claim_pending(const struct store *s)
{
	return s && s->claiming;
}

int store_claim_socket(const struct store *s)
{
	return s->claiming ? db_socket(s->claim_db) : -1;
}

/* The claim's rows, in the order of the result. */
static void claim_rows(struct store_claim *out, struct db_result *r)
{
	int rows = db_result_rows(r);

	if (rows == 0) {
		db_result_free(r);
		return;
	}
	out->res = r;
	out->n = (size_t)rows;
	out->rows = xcalloc((size_t)rows, sizeof(*out->rows));
	out->batch_id = to_i64(db_result_value(r, 0, 0));
	for (int i = 0; i < rows; i++) {
		struct store_row *row = &out->rows[i];

		row->id = to_i64(db_result_value(r, i, 1));
		row->attempts = (int)to_i64(db_result_value(r, i, 2));
		row->event = db_result_value(r, i, 3);
		row->event_len = db_result_length(r, i, 3);
	}
}

int store_claim_finish(struct store *s, struct store_claim *out)
{
	struct db_result *r = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!s->claiming)
		return relay_error_set("no claim in flight");
	rc = db_consume_ready(s->claim_db);
	if (rc)
		goto done;
	rc = db_take_result(s->claim_db, &r);
	if (rc == RELAY_EAGAIN)
		return rc;
done:
	s->claiming = false;
	if (rc)
		return rc == RELAY_EAGAIN ? RELAY_ERR : rc;
	claim_rows(out, r);
	return 0;
}

void store_claim_dispose(struct store_claim *c)
{
	free(c->rows);
	db_result_free(c->res);
	memset(c, 0, sizeof(*c));
}

int store_mark_sent(struct store *s,
                    int64_t batch,
                    const int64_t *ids,
                    size_t n_ids,
                    const char *endpoint,
                    const char *channel,
                    int64_t ack_id,
                    int lease_s,
                    int *rows_out)
{
	char bbuf[24], abuf[24], lbuf[16], *arr = id_array(ids, n_ids);
	const char *params[6] = {bbuf, arr, endpoint, channel, abuf, lbuf};
	int rc;

	snprintf(bbuf, sizeof(bbuf), "%" PRId64, batch);
	snprintf(abuf, sizeof(abuf), "%" PRId64, ack_id);
	snprintf(lbuf, sizeof(lbuf), "%d", lease_s);
	rc = exec_rows(s,
	               "SELECT clawdstrike.mark_sent($1::bigint, $2::bigint[],"
	               " $3, $4::uuid, $5::bigint, $6::integer)",
	               6, params, rows_out);
	free(arr);
	return rc;
}

int store_set_channel(struct store *s,
                      int64_t batch,
                      const char *channel,
                      bool *ours)
{
	char bbuf[24];
	const char *params[2] = {bbuf, channel};
	int64_t n = 0;
	int rc;

	snprintf(bbuf, sizeof(bbuf), "%" PRId64, batch);
	rc = exec_int(s,
	              "SELECT clawdstrike.set_channel($1::bigint,"
	              " $2::uuid)::integer",
	              2, params, &n);
	*ours = n == 1;
	return rc;
}

int store_retire_channel(struct store *s,
                         const char *channel,
                         int64_t batch,
                         const char *outcome,
                         const char *reason,
                         int *rows_out)
{
	char bbuf[24];
	const char *params[4] = {channel, batch > 0 ? bbuf : NULL, outcome,
	                         reason};

	snprintf(bbuf, sizeof(bbuf), "%" PRId64, batch);
	return exec_rows(s,
	                 "SELECT clawdstrike.retire_channel($1::uuid,"
	                 " $2::bigint, $3, $4)",
	                 4, params, rows_out);
}

int store_risk_duplicates(struct store *s, int64_t batch, int events)
{
	char bbuf[24], nbuf[16];
	const char *params[2] = {bbuf, nbuf};

	snprintf(bbuf, sizeof(bbuf), "%" PRId64, batch);
	snprintf(nbuf, sizeof(nbuf), "%d", events);
	return exec_int(s,
	                "SELECT 0 FROM clawdstrike.risk_duplicates($1::bigint,"
	                " $2::integer)",
	                2, params, NULL);
}

int store_mark_delivered(struct store *s,
                         const int64_t *batches,
                         size_t n,
                         int *rows_out)
{
	char *arr = id_array(batches, n);
	const char *params[1] = {arr};
	int rc;

	rc = exec_rows(s, "SELECT clawdstrike.mark_delivered($1::bigint[])", 1,
	               params, rows_out);
	free(arr);
	return rc;
}

int store_mark_rows_delivered(struct store *s,
                              int64_t batch,
                              const int64_t *ids,
                              size_t n,
                              bool no_ack,
                              int *rows_out)
{
	char bbuf[24], *arr = id_array(ids, n);
	const char *params[3] = {bbuf, arr,
	                         no_ack ? "no_ack" : "prefix_commit"};
	int rc;

	snprintf(bbuf, sizeof(bbuf), "%" PRId64, batch);
	rc = exec_rows(s,
	               "SELECT clawdstrike.mark_rows_delivered($1::bigint,"
	               " $2::bigint[], $3)",
	               3, params, rows_out);
	free(arr);
	return rc;
}

/* Decimal text of v, or NULL (SQL NULL) when v < 0. */
static const char *opt_int(char *buf, size_t size, int v)
{
	if (v < 0)
		return NULL;
	snprintf(buf, size, "%d", v);
	return buf;
}

int store_fail_rows(struct store *s,
                    int64_t batch,
                    const int64_t *ids,
                    size_t n,
                    const char *reason,
                    int http_status,
                    int hec_code,
                    const char *hec_text)
{
	char bbuf[24], hbuf[16], cbuf[16], *arr = id_array(ids, n);
	const char *params[6] = {bbuf,
	                         arr,
	                         reason,
	                         opt_int(hbuf, sizeof(hbuf), http_status),
	                         opt_int(cbuf, sizeof(cbuf), hec_code),
	                         hec_text};
	int rc;

	snprintf(bbuf, sizeof(bbuf), "%" PRId64, batch);
	rc = exec_int(s,
	              "SELECT clawdstrike.fail_rows($1::bigint, $2::bigint[],"
	              " $3, $4::integer, $5::integer, $6)",
	              6, params, NULL);
	free(arr);
	return rc;
}

int store_release(struct store *s,
                  int64_t batch,
                  const char *outcome,
                  const char *reason,
                  bool duplicates_risked,
                  int http_status,
                  int hec_code,
                  int *rows_out)
{
	char bbuf[24], hbuf[16], cbuf[16];
	const char *params[6] = {bbuf,
	                         outcome,
	                         reason,
	                         duplicates_risked ? "true" : "false",
	                         opt_int(hbuf, sizeof(hbuf), http_status),
	                         opt_int(cbuf, sizeof(cbuf), hec_code)};
	int rc;

	snprintf(bbuf, sizeof(bbuf), "%" PRId64, batch);
	rc = exec_rows(s,
	               "SELECT clawdstrike.release($1::bigint, $2, $3,"
	               " $4::boolean, $5::integer, $6::integer)",
	               6, params, rows_out);
	return rc;
}

int store_split(struct store *s,
                int64_t batch,
                const int64_t *ids,
                size_t n,
                int64_t *new_batch)
{
	char bbuf[24], *arr = id_array(ids, n);
	const char *params[2] = {bbuf, arr};
	int rc;

	snprintf(bbuf, sizeof(bbuf), "%" PRId64, batch);
	rc = exec_int(s, "SELECT clawdstrike.split($1::bigint, $2::bigint[])",
	              2, params, new_batch);
	free(arr);
	return rc;
}

int store_heartbeat(struct store *s,
                    const int64_t *ids,
                    size_t n,
                    int lease_s,
                    int64_t **renewed,
                    size_t *n_renewed)
{
	char lbuf[16], *arr = id_array(ids, n);
	const char *params[3] = {s->run, arr, lbuf};
	struct db_result *r = NULL;
	int rc, rows;

	*renewed = NULL;
	*n_renewed = 0;
	snprintf(lbuf, sizeof(lbuf), "%d", lease_s);
	rc = exec(s, &r,
	          "SELECT * FROM clawdstrike.heartbeat($1::uuid, $2::bigint[],"
	          " $3::integer)",
	          3, params);
	free(arr);
	if (rc)
		return rc;
	rows = db_result_rows(r);
	*renewed = xmalloc(((size_t)rows + 1) * sizeof(**renewed));
	for (int i = 0; i < rows; i++)
		(*renewed)[i] = to_i64(db_result_value(r, i, 0));
	*n_renewed = (size_t)rows;
	db_result_free(r);
	return 0;
}

int store_recover(struct store *s,
                  int lease_s,
                  bool startup,
                  struct store_adopted **out,
                  size_t *n_out)
{
	char lbuf[16];
	const char *params[4] = {s->instance_id, lbuf,
	                         startup ? "true" : "false", s->run};
	struct db_result *r = NULL;
	int rc, rows;

	*out = NULL;
	*n_out = 0;
	snprintf(lbuf, sizeof(lbuf), "%d", lease_s);
	rc = exec(s, &r,
	          "SELECT batch_id, endpoint, channel, coalesce(ack_id, -1),"
	          " n_events, extract(epoch FROM now() - sent_at)"
	          " FROM clawdstrike.recover($1, $2::integer, $3::boolean,"
	          " $4::uuid)"
	          /* ack ids in issue order per channel (acks_add): the order
	           * their sends were recorded, never by id value (a reset
	           * reissues small ids) */
	          " ORDER BY channel, sent_at, batch_id",
	          4, params);
	if (rc)
		return rc;
	rows = db_result_rows(r);
	if (rows > 0)
		*out = xcalloc((size_t)rows, sizeof(**out));
	for (int i = 0; i < rows; i++) {
		struct store_adopted *a = &(*out)[i];

		a->batch_id = to_i64(db_result_value(r, i, 0));
		snprintf(a->endpoint, sizeof(a->endpoint), "%s",
		         db_result_value(r, i, 1));
		snprintf(a->channel, sizeof(a->channel), "%s",
		         db_result_value(r, i, 2));
		a->ack_id = to_i64(db_result_value(r, i, 3));
		a->n_events = (int)to_i64(db_result_value(r, i, 4));
		a->sent_age_s = strtod(db_result_value(r, i, 5), NULL);
	}
	*n_out = (size_t)rows;
	db_result_free(r);
	return 0;
}

int store_purge(struct store *s, int days, int max_rows, long *rows_out)
{
	char ibuf[32], mbuf[16];
	const char *params[2] = {ibuf, mbuf};
	int64_t n = 0;
	int rc;

	snprintf(ibuf, sizeof(ibuf), "%d days", days);
	snprintf(mbuf, sizeof(mbuf), "%d", max_rows);
	rc = exec_int(s,
	              "SELECT outbox_rows FROM clawdstrike.purge($1::interval,"
	              " $2::integer)",
	              2, params, &n);
	*rows_out = (long)n;
	return rc;
}

int store_backlog(struct store *s, long *pending, double *oldest_age_s)
{
	struct db_result *r = NULL;
	int rc = exec(s, &r,
	              "SELECT pending, oldest_pending_age_s"
	              " FROM clawdstrike.backlog",
	              0, NULL);

	if (rc)
		return rc;
	*pending = (long)to_i64(db_result_value(r, 0, 0));
	*oldest_age_s = strtod(db_result_value(r, 0, 1), NULL);
	db_result_free(r);
	return 0;
}
