#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `dead-letters`: the table, filters, --limit and --json.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
setup_db dead_letters

run dead-letters
expect_rc "empty outbox" 0
expect_eq "nothing to list" "$OUT" "no dead letters match"

make_states

run dead-letters
expect_rc "list" 0
expect_match "header" "$(head -1 <<<"$OUT")" \
	"^outbox_id +event_id +failed_at +attempts +http +hec +reason$"
expect_eq "15 rows and the header" "$(wc -l <<<"$OUT")" 16
id=$(sql "SELECT id || ' +' || event_id FROM clawdstrike.outbox WHERE status = 'failed' ORDER BY id LIMIT 1")
expect_match "a row: outbox id, event id, time, attempts, codes, reason" \
	"$OUT" "^$id +[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z +1 +400 +6 +HEC rejected the event: Invalid data format$"
expect_match "413 row, no HEC code" "$OUT" " +1 +413 +- +event too large for HEC$"
# aligned: everything before the reason has one width
# shellcheck disable=SC2001  # a pattern over many lines
cols=$(sed 's/\(reason\|HEC rejected.*\|event too large.*\)$//' <<<"$OUT" |
	awk '{ print length($0) }' | sort -u | wc -l)
expect_eq "one width for everything before the reason" "$cols" 1

run dead-letters --reason 'TOO LARGE'
expect_eq "--reason filters (case-insensitive)" "$(($(wc -l <<<"$OUT") - 1))" 5
guard=$(sql "SELECT guard FROM clawdstrike.dead_letter ORDER BY outbox_id LIMIT 1")
want=$(sql "SELECT count(*) FROM clawdstrike.dead_letter WHERE guard = '$guard'")
run dead-letters --guard "$guard"
expect_eq "--guard filters" "$(($(wc -l <<<"$OUT") - 1))" "$want"
sev=$(sql "SELECT severity FROM clawdstrike.dead_letter ORDER BY outbox_id LIMIT 1")
want=$(sql "SELECT count(*) FROM clawdstrike.dead_letter WHERE severity = '$sev'")
run dead-letters --severity "$sev"
expect_eq "--severity filters" "$(($(wc -l <<<"$OUT") - 1))" "$want"
run dead-letters --since 2100-01-01
expect_eq "--since in the future" "$OUT" "no dead letters match"
run dead-letters --since 2000-01-01
expect_eq "--since in the past" "$(wc -l <<<"$OUT")" 16
run dead-letters --limit 3
expect_eq "--limit 3" "$(wc -l <<<"$OUT")" 5
expect_match "says more exist" "$OUT" "^\(3 of 15 shown; use --limit\)$"
run dead-letters --limit 0
expect_eq "--limit 0 is all" "$(wc -l <<<"$OUT")" 16

# --- JSON Lines with the event
run dead-letters --json
expect_rc "--json" 0
expect_eq "15 JSON lines" "$(wc -l <<<"$OUT")" 15
if jq -e 'has("outbox_id") and has("event_id") and has("failed_at") and
	has("attempts") and has("http_status") and has("hec_code") and
	has("reason") and has("event")' <<<"$OUT" >/dev/null; then
	pass "every line has the columns and the event"
else
	fail "a JSON line lacks a column" "$OUT"
fi
expect_eq "null where not applicable" \
	"$(jq -c 'select(.http_status == 413) | .hec_code' <<<"$OUT" | sort -u)" null
jq -S -c .event <<<"$OUT" | sort >"$TMP/got"
head -15 "$TMP/states.jsonl" | jq -S -c . | sort >"$TMP/want"
if cmp -s "$TMP/got" "$TMP/want"; then
	pass "events in --json equal what was enqueued"
else
	fail "events in --json differ" "$(diff "$TMP/want" "$TMP/got" | head)"
fi
run dead-letters --json --reason 'too large' --limit 2
expect_eq "--json honours filters and limit" "$(wc -l <<<"$OUT")" 2

# --- bad values
run dead-letters --severity urgent
expect_rc "bad --severity" 2
run dead-letters --limit -1
expect_rc "bad --limit" 2
expect_match "bad --limit named" "$ERR" "--limit must be an integer"
run dead-letters --limit ten
expect_rc "non-numeric --limit" 2
run dead-letters --since notatime
expect_rc "bad --since" 2
expect_match "bad --since named" "$ERR" "--since: not a timestamp"
run dead-letters stray
expect_rc "stray argument" 2
run dead-letters --help
expect_rc "--help" 0

# A reason from outside carrying a terminal escape and a newline: shown,
# not obeyed, in the table and in `status`.
sql "UPDATE clawdstrike.outbox SET last_error = E'evil \\x1b[2J\\nforged line'
     WHERE id = (SELECT min(id) FROM clawdstrike.outbox WHERE status = 'failed')" >/dev/null
for cmd in dead-letters status; do
	run $cmd
	expect_rc "$cmd with a hostile reason" 0
	expect_eq "$cmd: no escape byte reaches the terminal" \
		"$(tr -cd '\033' <"$TMP/out" | wc -c)" 0
	expect_match "$cmd: the reason is shown escaped on its own line" "$OUT" \
		'evil \\x1b\[2J\\nforged line'
	expect_no_match "$cmd: no forged line" "$OUT" '^forged line'
done

finish
