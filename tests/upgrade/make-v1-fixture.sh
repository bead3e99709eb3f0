#!/usr/bin/env bash
# Make tests/upgrade/v1-schema.sql.gz: the schema a v1 relay's `migrate`
# created (migrations 0001-0004 and the repeatable sql/ of that release,
# with its schema_migrations/schema_repeatable rows), dumped by pg_dump.
# Run it from a checkout of the v1 release (commit e8f133c) with build/
# built, inside pg_virtualenv; test_upgrade_v1.sh loads the result into a
# fresh database and upgrades it with the current binary.  The roles are
# cluster objects pg_dump leaves out: the prelude creates them.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=tests/upgrade/v1-schema.sql.gz
dropdb --if-exists v1fixture
createdb v1fixture
PGDATABASE=v1fixture build/src/clawdstrike-relay migrate >/dev/null
{
	cat <<'SQL'
-- v1 schema of the Clawdstrike relay (made by tests/upgrade/make-v1-fixture.sh)
DO $$
DECLARE r text;
BEGIN
	FOREACH r IN ARRAY ARRAY['clawdstrike_owner', 'clawdstrike_engine', 'clawdstrike_relay',
				 'clawdstrike_analyst', 'clawdstrike_operator'] LOOP
		IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
			EXECUTE format('CREATE ROLE %I NOLOGIN', r);
		END IF;
	END LOOP;
END;
$$;
SQL
	pg_dump -d v1fixture -n clawdstrike --no-comments
} | gzip -9n >"$out"
dropdb v1fixture
echo "wrote $out"
