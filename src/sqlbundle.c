/* SPDX-License-Identifier: Apache-2.0 */
#include "sqlbundle.h"

#include <ctype.h>

int sqlbundle_version_of(const char *name)
{
	int v = 0, digits = 0;

	for (; isdigit((unsigned char)*name) && digits < 6; name++, digits++)
		v = v * 10 + (*name - '0');
	return digits && *name == '_' ? v : -1;
}

int sqlbundle_latest_version(void)
{
	int latest = 0;

	for (size_t i = 0; i < sql_migrations_count; i++) {
		int v = sqlbundle_version_of(sql_migrations[i].name);

		if (v > latest)
			latest = v;
	}
	return latest;
}
