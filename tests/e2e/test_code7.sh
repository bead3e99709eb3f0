#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Code 7 ("Incorrect index") never dead-letters an indexed event, whichever
# way Splunk numbers it: at the culprit (--code7-exact) or one past it
# (Splunk 10.4).  The relay delivers the rows before N-1 (indexed in both
# readings), resends the two suspects N-1 and N one by one (HEC names the
# bad one alone) and the rest as a batch.  Checked in both modes: exactly
# the poison events fail, every good event is indexed, every duplicate
# (the good suspect indexed twice in the exact reading) is counted.
. "$(dirname "$0")/lib.sh"

N=2000
setup_db
start_emulator --token "$TOKEN,indexes=security:alerts"
poison_routing
CFG_BATCH_SIZE=100
start_relay r1
settled() {
	sql_is 0 "SELECT count(*) FROM clawdstrike.outbox WHERE status NOT IN ('delivered', 'failed')"
}
seed=231
for exact in false true; do
	faults "{\"code7_exact\":$exact}"
	gen "$T/events-$exact.jsonl" "$N" --seed $((seed++))
	eq "code7_exact=$exact: enqueued" "$(enqueue "$T/events-$exact.jsonl")" "$N"
	wait_until 90 "code7_exact=$exact: every row delivered or failed" settled
	eq "code7_exact=$exact: exactly the poison events failed" "$(sql "SELECT count(*) FROM clawdstrike.outbox
	    WHERE (status = 'failed') IS DISTINCT FROM ($POISON)")" 0
	report_figures "$(batch_dups_risked)" "the good suspect, counted" "NOT ($POISON)"
done
NP=$(sql "SELECT count(*) FROM clawdstrike.outbox WHERE $POISON")
check "there were poison events ($NP)" test "$NP" -gt 6
eq "dead letters carry HEC's answer" "$(sql "SELECT count(*) FROM clawdstrike.dead_letter
    WHERE http_status = 400 AND hec_code = 7 AND reason LIKE '%code 7%'")" "$NP"
eq "no poison event indexed" "$(jq -r 'select(.index == "forbidden") | 1' "$OUT" | wc -l)" 0
stop_relay r1
eq "relay exits 0" "$STOP_RC" 0
stop_emulator
finish
