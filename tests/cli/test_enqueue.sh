#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `enqueue`: bad lines reported by number and never loaded, the rest loaded;
# duplicates counted; COPY escaping round-trips; stdin, empty and missing
# input; rows only the server rejects fall back to row-by-row loading.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
setup_db enqueue

# --- 10,000 generated lines, every 100th bad
python3 "$GEN_EVENTS" 10000 --bad 100 --seed 7 >"$TMP/ev.jsonl"
run enqueue "$TMP/ev.jsonl"
expect_rc "enqueue with bad lines" 1
expect_eq "summary" "$OUT" "loaded=9900 duplicates=0 rejected=100"
got=$(grep -Eo "^$TMP/ev.jsonl:[0-9]+: invalid event: " <<<"$ERR" |
	cut -d: -f2 | tr '\n' ' ')
want=$(seq 100 100 10000 | tr '\n' ' ')
expect_eq "bad line numbers, exactly" "$got" "$want"
expect_eq "one stderr line per bad line" "$(wc -l <<<"$ERR")" 100
expect_match "message names path and problem" "$ERR" \
	":200: invalid event: timestamp: must be an RFC 3339 date-time"
expect_no_match "no progress line on a pipe" "$ERR" "lines/s|"$'\r'
expect_eq "rows in the outbox" "$(sql 'SELECT count(*) FROM clawdstrike.outbox')" 9900
# The good lines, in file order, are what the outbox holds.
awk 'NR % 100 != 0' "$TMP/ev.jsonl" | jq -S -c . >"$TMP/want.jsonl"
sql 'SELECT event::text FROM clawdstrike.outbox ORDER BY id' |
	jq -S -c . >"$TMP/got.jsonl"
if cmp -s "$TMP/want.jsonl" "$TMP/got.jsonl"; then
	pass "loaded events equal the good lines, in order"
else
	fail "loaded events differ from the good lines"
fi

# --- again: all duplicates (and the same rejections)
run enqueue "$TMP/ev.jsonl"
expect_rc "re-enqueue" 1
expect_eq "re-enqueue summary" "$OUT" "loaded=0 duplicates=9900 rejected=100"
expect_eq "no new rows" "$(sql 'SELECT count(*) FROM clawdstrike.outbox')" 9900
awk 'NR % 100 != 0' "$TMP/ev.jsonl" | head -500 >"$TMP/clean.jsonl"
run enqueue "$TMP/clean.jsonl"
expect_rc "all duplicates is success" 0
expect_eq "all duplicates summary" "$OUT" "loaded=0 duplicates=500 rejected=0"

# --- escaping edge cases round-trip
n=0
edge() {
	n=$((n + 1))
	printf '{"event_id":"00000000-0000-4000-8000-%012d","timestamp":"2026-05-01T12:00:00.5+02:00","event_type":"edge","decision":{"allowed":false,"guard":"g","severity":"low"},"metadata":{"v":%s}}\n' "$n" "$1"
}
{
	edge '"back\\slash and \\\\ double"'
	edge '"tab\there\tand\\tliteral"'
	edge '"newline\nand\r\ncrlf"'
	edge '"quote\" slash\/ bs\b ff\f"'
	edge '"\u00e9\u4e2d\ud83d\ude00 escaped unicode"'
	edge '"é 漢字 😀 raw utf-8"'
	edge '"\\N copy null marker"'
	edge '"\\."'
	edge '"\\\\t not a tab"'
	edge '"\u0001 control \u001f"'
	edge '[1.5e300, -1.25, 0.1, 12345678901234567890, true, null, {}]'
	# JSON white space the COPY format must carry: tab and CR between tokens
	printf '{"event_id":\t"00000000-0000-4000-8000-000000000100",\r"timestamp":"2026-05-01T12:00:00Z","event_type":"ws","decision":{"allowed":true,"guard":"g","severity":"info"}}\n'
	# a CRLF line ending
	printf '{"event_id":"00000000-0000-4000-8000-000000000101","timestamp":"2026-05-01T12:00:00Z","event_type":"crlf","decision":{"allowed":true,"guard":"g","severity":"info"}}\r\n'
} >"$TMP/edge.jsonl"
before=$(sql 'SELECT max(id) FROM clawdstrike.outbox')
run enqueue "$TMP/edge.jsonl"
expect_rc "edge cases load" 0
expect_eq "edge summary" "$OUT" "loaded=13 duplicates=0 rejected=0"
tr -d '\r' <"$TMP/edge.jsonl" | jq -S -c . >"$TMP/want.jsonl"
sql "SELECT event::text FROM clawdstrike.outbox WHERE id > $before ORDER BY id" |
	jq -S -c . >"$TMP/got.jsonl"
if cmp -s "$TMP/want.jsonl" "$TMP/got.jsonl"; then
	pass "escaping edge cases round-trip (jq -S)"
else
	fail "escaping edge cases differ" "$(diff "$TMP/want.jsonl" "$TMP/got.jsonl")"
fi
expect_eq "backslash-t stays two characters" \
	"$(sql "SELECT event->'metadata'->>'v' FROM clawdstrike.outbox WHERE event_id = '00000000-0000-4000-8000-000000000009'")" \
	'\\t not a tab'
expect_eq "raw utf-8 intact" \
	"$(sql "SELECT event->'metadata'->>'v' FROM clawdstrike.outbox WHERE event_id = '00000000-0000-4000-8000-000000000006'")" \
	'é 漢字 😀 raw utf-8'

# --- standard input, as - and as no argument
python3 "$GEN_EVENTS" 50 --seed 11 >"$TMP/in.jsonl"
run_stdin "$TMP/in.jsonl" enqueue -
expect_rc "stdin (-)" 0
expect_eq "stdin summary" "$OUT" "loaded=50 duplicates=0 rejected=0"
python3 "$GEN_EVENTS" 20 --seed 12 --bad 10 >"$TMP/in2.jsonl"
run_stdin "$TMP/in2.jsonl" enqueue
expect_rc "stdin (no argument)" 1
expect_match "stdin lines named <stdin>" "$ERR" "^<stdin>:10: invalid event: "

# --- empty input, blank lines, missing file, usage
: >"$TMP/empty.jsonl"
run enqueue "$TMP/empty.jsonl"
expect_rc "empty file" 0
expect_eq "empty summary" "$OUT" "loaded=0 duplicates=0 rejected=0"
{
	echo
	python3 "$GEN_EVENTS" 1 --seed 13
	printf '   \t\n'
	echo '{"event_id":"00000000-0000-4000-8000-000000000200"}'
} >"$TMP/blank.jsonl"
run enqueue "$TMP/blank.jsonl"
expect_rc "blank lines skipped" 1
expect_eq "blank summary" "$OUT" "loaded=1 duplicates=0 rejected=1"
expect_eq "line numbers count blank lines" "$ERR" \
	"$TMP/blank.jsonl:4: invalid event: timestamp: required"
run enqueue "$TMP/does-not-exist.jsonl"
expect_rc "missing file is a usage error" 2
expect_match "missing file named" "$ERR" "does-not-exist.jsonl: No such file"
createdb "${DB}_empty"
PGDATABASE=${DB}_empty run enqueue "$TMP/empty.jsonl"
dropdb "${DB}_empty"
expect_rc "schema not installed" 1
expect_match "says to migrate" "$ERR" "schema is not installed; run .clawdstrike-relay migrate."
run enqueue a b
expect_rc "two files" 2
run enqueue --help
expect_rc "--help" 0
expect_match "--help documents exit 1" "$OUT" "1 some lines"

# --- rows only the server rejects: the chunk falls back to row by row
sql "UPDATE clawdstrike.settings SET value = '3000' WHERE key = 'max_event_bytes'" >/dev/null
python3 "$GEN_EVENTS" 30 --seed 14 >"$TMP/srv.jsonl"
# line 10: bigger than the server's limit (3000) but not the config's
big=$(printf 'x%.0s' $(seq 1 4000))
sed -i "10s/\"metadata\":{/\"metadata\":{\"pad\":\"$big\",/" "$TMP/srv.jsonl"
# line 20: a number jsonb cannot hold (numeric overflow)
sed -i '20s/"metadata":{/"metadata":{"huge":1e200000,/' "$TMP/srv.jsonl"
run enqueue "$TMP/srv.jsonl"
expect_rc "server-side rejections" 1
expect_eq "server-side summary" "$OUT" "loaded=28 duplicates=0 rejected=2"
expect_match "size limit reported with its line" "$ERR" \
	"srv.jsonl:10: invalid event: \(event\): [0-9]+ bytes exceeds the 3000 byte limit"
expect_match "numeric overflow reported with its line" "$ERR" \
	"srv.jsonl:20: invalid event: \(event\): value overflows numeric format"
ids=$(jq -r .event_id "$TMP/srv.jsonl" | sed "s/.*/'&'/" | paste -sd, -)
expect_eq "the other rows of the chunk loaded" \
	"$(sql "SELECT count(*) FROM clawdstrike.outbox WHERE event_id IN ($ids)")" 28
sql "UPDATE clawdstrike.settings SET value = '1048576' WHERE key = 'max_event_bytes'" >/dev/null

# --- a terminal gets a progress line
python3 "$GEN_EVENTS" 3000 --seed 15 >"$TMP/tty.jsonl"
if command -v script >/dev/null; then
	script -qec "'$RELAY' -c '$TMP/relay.yaml' enqueue '$TMP/tty.jsonl'" \
		/dev/null >"$TMP/tty.out" 2>&1 </dev/null
	expect_match "progress line on a terminal" "$(cat "$TMP/tty.out")" \
		"lines read, [0-9]+ loaded, .* lines/s"
	expect_match "summary after the progress line" "$(cat "$TMP/tty.out")" \
		"loaded=3000 duplicates=0 rejected=0"
fi

finish
