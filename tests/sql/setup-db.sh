#!/usr/bin/env bash
# Create a fresh test database, install pgTAP, and migrate it with the real
# relay binary (twice: the second run must be a no-op).
set -euo pipefail
relay=$1 db=$2
dropdb --if-exists "$db"
createdb "$db"
psql -q -v ON_ERROR_STOP=1 -d "$db" -c 'CREATE EXTENSION IF NOT EXISTS pgtap'
PGDATABASE=$db "$relay" migrate
out=$(PGDATABASE=$db "$relay" migrate)
echo "$out"
grep -q 'nothing to do' <<<"$out" || { echo "second migrate was not a no-op" >&2; exit 1; }
