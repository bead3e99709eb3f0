/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sqlbundle: the schema SQL embedded at build time.
 *
 * migrations/ are versioned, forward-only files applied once each and
 * recorded; sql/ files (functions, views, grants) are re-applied as a whole
 * whenever their combined text changes.  Both lists are sorted by name.
 */
#ifndef RELAY_SQLBUNDLE_H
#define RELAY_SQLBUNDLE_H

#include <stddef.h>

struct sql_file {
	const char *name; /* file name, e.g. "0001_outbox.sql" */
	const char *text; /* NUL-terminated SQL */
};

extern const struct sql_file *const sql_migrations;
extern const size_t sql_migrations_count;
extern const struct sql_file *const sql_repeatable;
extern const size_t sql_repeatable_count;

/* The highest migration version embedded (from the leading digits). */
int sqlbundle_latest_version(void);

/* Version number from a migration file name ("0003_x.sql" -> 3), or -1. */
int sqlbundle_version_of(const char *name);

#endif
