#!/bin/sh
# First start of the postgres container (docker-entrypoint-initdb.d): login
# roles `relay` and `engine`, members of the least-privilege group roles
# that `clawdstrike-relay migrate` grants to (sql/90_roles.sql creates the
# group roles only when missing, so creating them here first is safe).
# Passwords come from .env through docker-compose.yml.  Idempotent.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
	-v relay_pw="$RELAY_DB_PASSWORD" -v engine_pw="$ENGINE_DB_PASSWORD" <<'SQL'
SELECT format('CREATE ROLE %I NOLOGIN', r)
  FROM unnest(ARRAY['clawdstrike_engine', 'clawdstrike_relay',
		    'clawdstrike_analyst', 'clawdstrike_operator']) r
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) \gexec
SELECT format('CREATE ROLE %I LOGIN', r)
  FROM unnest(ARRAY['relay', 'engine']) r
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) \gexec
ALTER ROLE relay LOGIN PASSWORD :'relay_pw';
ALTER ROLE engine LOGIN PASSWORD :'engine_pw';
GRANT clawdstrike_relay TO relay;
GRANT clawdstrike_engine TO engine;
SQL
