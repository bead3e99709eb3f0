#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# SIGTERM during heavy load: the relay stops claiming, finishes its
# requests, polls acks, gives unsent rows back and exits 0 quickly; no row
# is left `sending`.  A restart finishes the job without duplicates.
. "$(dirname "$0")/lib.sh"

N=30000
setup_db
start_emulator --ack-delay-ms 300 --latency-ms 20
gen "$T/events.jsonl" "$N" --seed 81
eq "enqueued" "$(enqueue_fast "$T/events.jsonl")" "$N"
CFG_BATCH_SIZE=250
CFG_MAX_IN_FLIGHT=8
start_relay r1
wait_until 60 "relay busy" sql_ge 3000 \
	"SELECT count(*) FROM clawdstrike.outbox WHERE status = 'delivered'"
say "SIGTERM at: $(status_counts)"
stop_relay r1 40
say "stopped in ${STOP_SECS}s: $(status_counts)"
eq "exit status 0" "$STOP_RC" 0
check "stopped within 5 s (${STOP_SECS}s)" is "$STOP_SECS < 5"
eq "no row left sending" "$(count_status sending)" 0
eq "no batch left claimed" "$(sql "SELECT count(*) FROM clawdstrike.batch WHERE state = 'claimed'")" 0
check "work was left for the restart" test "$(count_status pending)" -gt 0
check "relay logged the graceful shutdown" grep -q 'shutting down: no new claims' "$T/relay-r1.log"
start_relay r1
wait_until 60 "all delivered after restart" all_delivered
stop_relay r1
eq "second exit status 0" "$STOP_RC" 0
report_figures 0 "a graceful stop finishes or gives back every request: nothing resent"
stop_emulator
finish
