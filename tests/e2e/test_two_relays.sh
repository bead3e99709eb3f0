#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Two relays (different instance_id) on one database: SKIP LOCKED claims
# never hand a row to both, so nothing is sent twice, and both work.
. "$(dirname "$0")/lib.sh"

N=20000
setup_db
start_emulator --latency-ms 5
gen "$T/events.jsonl" "$N" --seed 51
eq "enqueued" "$(enqueue_fast "$T/events.jsonl")" "$N"
CFG_BATCH_SIZE=100
CFG_MAX_IN_FLIGHT=2
write_config ra
write_config rb
start_relay ra
start_relay rb
wait_until 90 "all delivered" all_delivered || true
stop_relay ra
eq "relay ra exits 0" "$STOP_RC" 0
stop_relay rb
eq "relay rb exits 0" "$STOP_RC" 0
eq "statuses" "$(status_counts)" "pending=0 sending=0 sent=0 delivered=$N failed=0"
report_figures 0 "leases hold throughout: no row is ever sent by both relays"
eq "emulator indexed each event once" "$(counter .events_indexed)" "$N"
eq "no batch released or shared" "$(sql "SELECT count(*) FROM clawdstrike.batch WHERE outcome <> 'acked'")" 0
eq "no row in two batches" "$(sql "SELECT count(*) FROM (SELECT unnest(outbox_ids) id FROM clawdstrike.batch) x
    GROUP BY id HAVING count(*) > 1")" ""
A=$(sql "SELECT coalesce(sum(n_events), 0) FROM clawdstrike.batch WHERE relay_instance = 'ra'")
B=$(sql "SELECT coalesce(sum(n_events), 0) FROM clawdstrike.batch WHERE relay_instance = 'rb'")
say "events sent by ra=$A rb=$B"
eq "the two relays' batches cover every row once" "$((A + B))" "$N"
ge "ra did a fair share (>= 10%)" "$A" $((N / 10))
ge "rb did a fair share (>= 10%)" "$B" $((N / 10))
stop_emulator
finish
