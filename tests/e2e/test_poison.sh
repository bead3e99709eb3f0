#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Poison events among good ones.  Our own validation keeps invalid events
# from HEC, so HEC is made to reject instead: the token may only write to
# the `security` and `alerts` indexes, and a routing rule sends some events
# to `forbidden`.  HEC answers 400 code 7 with invalid-event-number (one
# past the culprit, as Splunk 10.4 does) and has indexed the events before
# it (prefix commit): those rows become delivered (delivery =
# 'prefix_commit'), the two suspects are resent one by one so the culprit
# is dead-lettered alone with HEC's code, the rest of the batch is resent.
# lost=0 for the good events, duplicates=0 (test_code7 covers the exact
# numbering, where the good suspect is a counted duplicate).
. "$(dirname "$0")/lib.sh"

N=4000
setup_db
start_emulator --token "$TOKEN,indexes=security:alerts"
gen "$T/events.jsonl" "$N" --seed 141
eq "enqueued" "$(enqueue "$T/events.jsonl")" "$N"
poison_routing
NP=$(sql "SELECT count(*) FROM clawdstrike.outbox WHERE $POISON")
say "$NP poison events among $N"
check "there are poison events" test "$NP" -gt 3
CFG_BATCH_SIZE=100
start_relay r1
settled() {
	sql_is 0 "SELECT count(*) FROM clawdstrike.outbox WHERE status NOT IN ('delivered', 'failed')"
}
wait_until 90 "every row delivered or failed" settled
stop_relay r1
eq "relay exits 0" "$STOP_RC" 0
eq "exactly the poison events failed" "$(sql "SELECT count(*) FROM clawdstrike.outbox
    WHERE (status = 'failed') IS DISTINCT FROM ($POISON)")" 0
eq "dead letters carry HEC's answer" "$(sql "SELECT count(*) FROM clawdstrike.dead_letter
    WHERE http_status = 400 AND hec_code = 7 AND hec_text IS NOT NULL AND reason LIKE '%code 7%'")" "$NP"
PREFIX=$(sql "SELECT count(*) FROM clawdstrike.outbox WHERE delivery = 'prefix_commit'")
say "prefix-committed rows: $PREFIX; delivered by ack: $(sql "SELECT count(*) FROM clawdstrike.outbox WHERE delivery = 'acked'")"
check "rows before a poison event were delivered by prefix commit ($PREFIX)" test "$PREFIX" -gt 0
# Each code 7 closes the batch it rejected (the two suspects go again
# one by one, so the culprit is rejected a second time, alone).
eq "every rejection closed its batch" "$(sql "SELECT count(*) FROM clawdstrike.batch
    WHERE outcome IN ('prefix_commit', 'rejected')")" "$(counter '.hec_code["7"] // 0')"
report_figures 0 "prefix rows are marked delivered, never resent" "NOT ($POISON)"
eq "no poison event indexed" "$(jq -r 'select(.index == "forbidden") | 1' "$OUT" | wc -l)" 0
eq "HEC indexed exactly the good events" "$(out_lines)" $((N - NP))
stop_emulator
finish
