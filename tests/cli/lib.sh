# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash disable=SC2034  # variables are for the test scripts
# Shared helpers for the CLI tests (sourced, not run).
#
# Each script runs the real clawdstrike-relay binary against a real
# PostgreSQL (PG* variables from pg_virtualenv) in a database of its own,
# clawdstrike_clitest_<name>, created and migrated here with the binary.
# The relay gets an explicit config file, so a file at the default path
# cannot leak in.  The last line printed is "N passed, M failed"; the exit
# status is non-zero when anything failed.
set -u

RELAY=${RELAY:-}
GEN_EVENTS=${GEN_EVENTS:-}
if [ -z "$RELAY" ] || [ -z "$GEN_EVENTS" ]; then
	echo "RELAY and GEN_EVENTS must point at the relay and gen-events.py" >&2
	exit 2
fi
unset CLAWDSTRIKE_RELAY_CONFIG
TMP=$(mktemp -d)
PASS=0
FAIL=0
DB=
EMU_PID=
OUT=
ERR=
RC=0

cleanup() {
	if [ -n "$EMU_PID" ] && kill -0 "$EMU_PID" 2>/dev/null; then
		kill -TERM "$EMU_PID" 2>/dev/null
		wait "$EMU_PID" 2>/dev/null
	fi
	[ -n "$DB" ] && dropdb --if-exists "$DB" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

# setup_db NAME: a fresh, migrated clawdstrike_clitest_NAME; exports
# PGDATABASE so psql and the relay (database.url "") use it.
setup_db() {
	DB=clawdstrike_clitest_$1
	dropdb --if-exists "$DB" 2>/dev/null
	createdb "$DB" || exit 1
	export PGDATABASE=$DB
	printf 'database:\n  url: ""\n' >"$TMP/relay.yaml"
	"$RELAY" -c "$TMP/relay.yaml" migrate >/dev/null || exit 1
}

# run ARGS...: the relay with the test config; sets OUT, ERR, RC.
run() {
	RC=0
	"$RELAY" -c "$TMP/relay.yaml" "$@" >"$TMP/out" 2>"$TMP/err" || RC=$?
	OUT=$(cat "$TMP/out")
	ERR=$(cat "$TMP/err")
}

# run_stdin FILE ARGS...: run with FILE on standard input.
run_stdin() {
	local in=$1
	shift
	RC=0
	"$RELAY" -c "$TMP/relay.yaml" "$@" <"$in" >"$TMP/out" 2>"$TMP/err" ||
		RC=$?
	OUT=$(cat "$TMP/out")
	ERR=$(cat "$TMP/err")
}

pass() {
	PASS=$((PASS + 1))
	echo "ok: $1"
}

fail() {
	FAIL=$((FAIL + 1))
	echo "FAIL: $1" >&2
	[ -n "${2:-}" ] && printf '%s\n' "$2" | head -20 >&2
}

# expect_eq NAME GOT WANT
expect_eq() {
	if [ "$2" == "$3" ]; then
		pass "$1"
	else
		fail "$1" "got:  $2
want: $3"
	fi
}

# expect_match NAME TEXT EXTENDED-REGEX
expect_match() {
	if grep -Eq -- "$3" <<<"$2"; then
		pass "$1"
	else
		fail "$1" "no match for /$3/ in:
$2"
	fi
}

# expect_no_match NAME TEXT EXTENDED-REGEX
expect_no_match() {
	if grep -Eq -- "$3" <<<"$2"; then
		fail "$1" "unexpected /$3/ in:
$2"
	else
		pass "$1"
	fi
}

# expect_rc NAME WANT: the last run's exit status.
expect_rc() {
	if [ "$RC" -eq "$2" ]; then
		pass "$1 (exit $2)"
	else
		fail "$1: exit $RC, want $2" "stdout: $OUT
stderr: $ERR"
	fi
}

# sql QUERY: one value, unaligned.
sql() {
	psql -X -q -At -v ON_ERROR_STOP=1 -c "$1"
}

finish() {
	echo "$PASS passed, $FAIL failed"
	exit $((FAIL > 0 ? 1 : 0))
}

# make_states: 30 events through the relay's own SQL functions: rows 1-10
# failed with HEC's 400 code 6, rows 11-15 failed as too large (413), rows
# 16-30 delivered.  Needs setup_db first.
make_states() {
	python3 "$GEN_EVENTS" 30 --seed 21 >"$TMP/states.jsonl"
	"$RELAY" -c "$TMP/relay.yaml" enqueue "$TMP/states.jsonl" >/dev/null ||
		exit 1
	sql "
	SELECT count(*) FROM clawdstrike.claim('clitest', 30, 60);
	SELECT clawdstrike.fail_rows(b.id, (SELECT array_agg(id) FROM
	  (SELECT id FROM clawdstrike.outbox ORDER BY id LIMIT 10) x),
	  'HEC rejected the event: Invalid data format', 400, 6,
	  'Invalid data format') FROM clawdstrike.batch b;
	SELECT clawdstrike.fail_rows(b.id, (SELECT array_agg(id) FROM
	  (SELECT id FROM clawdstrike.outbox ORDER BY id OFFSET 10 LIMIT 5) x),
	  'event too large for HEC', 413) FROM clawdstrike.batch b;
	SELECT clawdstrike.mark_rows_delivered(b.id, (SELECT array_agg(id)
	  FROM clawdstrike.outbox WHERE batch_id = b.id AND status = 'sending'), 'no_ack')
	  FROM clawdstrike.batch b;" >/dev/null || exit 1
}
