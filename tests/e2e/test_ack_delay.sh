#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Delayed indexer acks (emulator --ack-delay-ms 1500): a row is `sent`
# while its ack is false and becomes `delivered` only once the ack poll
# answers true; in the end everything is delivered exactly once.
. "$(dirname "$0")/lib.sh"

N=3000
DELAY_MS=1500
setup_db
start_emulator --ack-delay-ms "$DELAY_MS"
gen "$T/events.jsonl" "$N" --seed 21
eq "enqueued" "$(enqueue "$T/events.jsonl")" "$N"
CFG_BATCH_SIZE=200
CFG_ACK_POLL_MS=300
start_relay r1
wait_until 30 "every row sent" sql_is "$N" \
	"SELECT count(*) FROM clawdstrike.outbox WHERE status IN ('sent','delivered')"
# Everything went out within a fraction of the delay: nothing may be
# delivered yet, every batch is waiting for its ack.
EARLY=$(sql "SELECT count(*) FROM clawdstrike.outbox o JOIN clawdstrike.batch b ON b.id = o.batch_id
              WHERE o.status = 'delivered' AND b.sent_at > now() - interval '1 s'")
eq "nothing delivered within 1 s of its send" "$EARLY" 0
say "after sending: $(status_counts)"
check "polls went out while acks were false" \
	test "$(counter .ack_polls)" -gt 0
wait_until 60 "all delivered" all_delivered || true
eq "statuses" "$(status_counts)" "pending=0 sending=0 sent=0 delivered=$N failed=0"
# The emulator reports an ack true DELAY_MS after it indexed the batch,
# and it indexed it after the batch was claimed (claimed_at, before the
# POST): delivered_at - claimed_at >= the delay (10 ms of slack).
eq "no row delivered before its ack could be true" "$(sql "SELECT count(*) FROM clawdstrike.outbox o
    JOIN clawdstrike.batch b ON b.id = o.batch_id
    WHERE o.delivered_at < b.claimed_at + make_interval(secs => ($DELAY_MS - 10) / 1000.0)
       OR b.acked_at < b.claimed_at + make_interval(secs => ($DELAY_MS - 10) / 1000.0)")" 0
eq "delivery = acked" "$(sql "SELECT count(*) FROM clawdstrike.outbox WHERE delivery = 'acked'")" "$N"
eq "every issued ack was seen true once" "$(counter '.acks_issued == .acks_true')" true
stop_relay r1
eq "relay exits 0" "$STOP_RC" 0
report_figures 0 "no fault: exactly once"
stop_emulator
finish
