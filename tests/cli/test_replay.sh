#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `replay`: filters, dry run, the --all guard and bad values (exit 2).
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
setup_db replay
make_states
count() { sql "SELECT count(*) FROM clawdstrike.outbox WHERE $1"; }

# --- the guard against replaying everything by accident
run replay
expect_rc "no filter without --all" 2
expect_match "the guard explains itself" "$ERR" "add --all to confirm"
run replay --status delivered
expect_rc "status alone is no filter" 2
expect_eq "nothing replayed by the refusals" "$(count "status = 'pending'")" 0

# --- dry runs count without changing anything
run replay --dry-run
expect_rc "dry run needs no --all" 0
expect_eq "dry run, all failed" "$OUT" "would replay 15 events (dry run)"
run replay --status delivered --dry-run
expect_eq "dry run, delivered" "$OUT" "would replay 15 events (dry run)"
run replay --error 'TOO LARGE' --dry-run
expect_eq "--error is a case-insensitive substring" "$OUT" \
	"would replay 5 events (dry run)"
run replay --since 2000-01-01 --until 2100-01-01T00:00:00Z --dry-run
expect_eq "--since/--until around now" "$OUT" "would replay 15 events (dry run)"
run replay --since 2100-01-01 --dry-run
expect_eq "--since in the future" "$OUT" "would replay 0 events (dry run)"
guard=$(sql "SELECT event#>>'{decision,guard}' FROM clawdstrike.outbox WHERE status = 'failed' ORDER BY id LIMIT 1")
want=$(count "status = 'failed' AND event#>>'{decision,guard}' = '$guard'")
run replay --guard "$guard" --dry-run
expect_eq "--guard $guard" "$OUT" "would replay $want events (dry run)"
sev=$(sql "SELECT event#>>'{decision,severity}' FROM clawdstrike.outbox WHERE status = 'failed' ORDER BY id LIMIT 1")
want=$(count "status = 'failed' AND event#>>'{decision,severity}' = '$sev'")
run replay --severity "$sev" --dry-run
expect_eq "--severity $sev" "$OUT" "would replay $want events (dry run)"
expect_eq "dry runs changed nothing" "$(count "status = 'pending'")" 0

# --- bad values name the option, exit 2
run replay --severity urgent --all
expect_rc "bad severity" 2
expect_match "bad severity named" "$ERR" "--severity must be one of"
run replay --status pending --all
expect_rc "bad status" 2
expect_match "bad status named" "$ERR" "--status must be failed or delivered"
run replay --since yesterdayish
expect_rc "bad --since" 2
expect_match "bad --since named" "$ERR" "--since: not a timestamp: \"yesterdayish\""
run replay --until 2026-13-45
expect_rc "bad --until" 2
expect_match "bad --until named" "$ERR" "--until: not a timestamp"
run replay --bogus
expect_rc "unknown option" 2
run replay extra --all
expect_rc "stray argument" 2

# --- real replays
run replay --error 'too large'
expect_rc "replay by error" 0
expect_eq "replayed 5" "$OUT" "replayed 5 events"
expect_eq "5 rows pending" "$(count "status = 'pending'")" 5
expect_eq "errors reset" "$(count "status = 'pending' AND last_error IS NULL AND attempts = 0")" 5
expect_eq "audited" "$(sql 'SELECT count(*) FROM clawdstrike.replay_log')" 5
run replay --all
expect_eq "replay --all: the other failed rows" "$OUT" "replayed 10 events"
run replay --status delivered --all
expect_eq "replay delivered on purpose" "$OUT" "replayed 15 events"
expect_eq "everything pending now" "$(count "status = 'pending'")" 30
run replay --all
expect_eq "nothing left to replay" "$OUT" "replayed 0 events"

run replay --help
expect_rc "--help" 0
expect_match "--help mentions --all" "$OUT" "--all"

finish
