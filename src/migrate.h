/* SPDX-License-Identifier: Apache-2.0 */
/*
 * migrate: bring a database to the schema embedded in this binary.
 *
 * Versioned files (migrations/NNNN_name.sql) are applied once each, in
 * order, and recorded in clawdstrike.schema_migrations.  The repeatable
 * files (the .sql files of sql/: functions, views, grants) are re-applied
 * together whenever their combined checksum differs from the recorded one,
 * or a migration ran.  Both happen in one transaction: a failure anywhere
 * leaves the database as it was.  A session advisory lock serialises
 * concurrent runs.  Running it twice is a no-op the second time.
 */
#ifndef RELAY_MIGRATE_H
#define RELAY_MIGRATE_H

#include <stdio.h>

#include "db.h"

struct migrate_report {
	int from_version;       /* schema version before the run (0: none) */
	int to_version;         /* after */
	int migrations_applied; /* versioned files applied now */
	int repeatable_applied; /* sql/ files re-applied (0 if unchanged) */
};

/*
 * Apply what is missing; `log` (may be NULL) gets one line per file
 * applied.  Fails (RELAY_ERR) if the database is newer than the binary.
 */
int migrate_run(struct db *db,
                struct migrate_report *out,
                FILE *log) RELAY_MUSTCHECK;

/*
 * Read the database's schema version into *out (0 when the schema is not
 * installed) and whether the repeatable SQL matches this binary's.
 */
int migrate_schema_version(struct db *db,
                           int *out,
                           int *sql_current) RELAY_MUSTCHECK;

#endif
