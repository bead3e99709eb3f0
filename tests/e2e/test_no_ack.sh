#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# use_ack: false against a token without indexer acknowledgement: a 200
# delivers the batch (delivery = 'no_ack'), no channel, no ack polls.
. "$(dirname "$0")/lib.sh"

N=5000
setup_db
start_emulator --token "$TOKEN,ack=off"
gen "$T/events.jsonl" "$N" --seed 41
eq "enqueued" "$(enqueue "$T/events.jsonl")" "$N"
CFG_USE_ACK=false
start_relay r1
wait_until 60 "all delivered" all_delivered || true
eq "statuses" "$(status_counts)" "pending=0 sending=0 sent=0 delivered=$N failed=0"
eq "delivery = no_ack" "$(sql "SELECT count(*) FROM clawdstrike.outbox WHERE delivery = 'no_ack'")" "$N"
eq "batches closed no_ack, without ack id" "$(sql "SELECT count(*) FROM clawdstrike.batch
    WHERE NOT (state = 'closed' AND outcome = 'no_ack' AND ack_id IS NULL AND http_status = 200)")" 0
eq "no ack polls, no ack ids" "$(counter '[.ack_polls, .acks_issued] | map(tostring) | join(",")')" "0,0"
eq "no request refused" "$(counter '.http_status | keys | join(",")')" 200
stop_relay r1
eq "relay exits 0" "$STOP_RC" 0
report_figures 0 "no fault: exactly once"
eq "sent without a channel" "$(jq -r '.channel' "$OUT" | sort -u)" null
stop_emulator
finish
