#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The HEC token is revoked mid-run, then restored (control API): the relay
# holds (401/403 never dead-letter anything), keeps its rows, and resumes
# once the token works again.  A refused request indexed nothing:
# lost=0, duplicates=0, no dead letters.
. "$(dirname "$0")/lib.sh"

N=20000
setup_db
start_emulator --latency-ms 10
gen "$T/events.jsonl" "$N" --seed 151
eq "enqueued" "$(enqueue_fast "$T/events.jsonl")" "$N"
CFG_BATCH_SIZE=200
CFG_MAX_IN_FLIGHT=2
start_relay r1
wait_until 60 "relay busy" sql_ge 3000 \
	"SELECT count(*) FROM clawdstrike.outbox WHERE status = 'delivered'"
control POST tokens "{\"token\":\"$TOKEN\",\"state\":\"revoked\"}" >/dev/null || die "revoke"
say "token revoked at: $(status_counts)"
sleep 1
D1=$(count_status delivered)
sleep 3
D2=$(count_status delivered)
say "after 4 s revoked: $(status_counts)"
eq "nothing delivered while revoked" "$D2" "$D1"
REFUSED=$(counter '[.http_status["401"], .http_status["403"]] | map(. // 0) | add')
check "HEC refused requests ($REFUSED)" test "$REFUSED" -gt 0
eq "no dead letters while revoked" "$(n_dead_letters)" 0
check "relay still running" relay_alive r1
control POST tokens "{\"token\":\"$TOKEN\",\"state\":\"enabled\"}" >/dev/null || die "restore"
say "token restored"
wait_until 60 "all delivered after the token came back" all_delivered
stop_relay r1
eq "relay exits 0" "$STOP_RC" 0
check "relay reported the refused token" grep -q 'HEC refused the token' "$T/relay-r1.log"
report_figures 0 "a 401/403 answer means HEC indexed nothing"
eq "no dead letters" "$(n_dead_letters)" 0
stop_emulator
finish
