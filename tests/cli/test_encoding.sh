#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A database that is not UTF-8 (what initdb makes on a machine with no
# locale: SQL_ASCII) is refused by migrate, check, status and enqueue with
# one clear message saying what to do, never a libpq conversion error.
. "$(dirname "$0")/lib.sh"

DB=clawdstrike_clitest_ascii
dropdb --if-exists "$DB" 2>/dev/null
createdb -E SQL_ASCII -T template0 --locale=C "$DB" || exit 1
export PGDATABASE=$DB
cat >"$TMP/relay.yaml" <<YAML
database:
  url: ""
exporters:
  splunk:
    hec_url: http://127.0.0.1:9
    hec_token: 00000000-0000-0000-0000-000000000001
YAML
"$GEN_EVENTS" 5 --seed 1 >"$TMP/events.jsonl"
for cmd in migrate status check "enqueue $TMP/events.jsonl"; do
	# shellcheck disable=SC2086  # the command's words
	run $cmd
	expect_match "$cmd: refused" "$RC" "^[12]$"
	expect_match "$cmd: says the encoding and the fix" "$OUT$ERR" \
		"encoding SQL_ASCII; the outbox needs UTF8: create it with .createdb -E UTF8 -T template0 $DB."
	expect_no_match "$cmd: no conversion error" "$OUT$ERR" "conversion between"
done
expect_eq "nothing was installed" "$(sql "SELECT count(*) FROM pg_namespace WHERE nspname = 'clawdstrike'")" 0
finish
