#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A relay killed (-9) while its batches wait for indexer acks resumes
# polling the persisted channel/ack ids instead of resending:
#  1. restart with the same instance_id: resumed at start-up, before any
#     new claim;
#  2. a different instance takes the dead relay's `sent` batches over once
#     their lease expires, polling the dead relay's channel.
# Each kill happens when every claimed batch is `sent` (no request in
# flight), so the bound is strict: lost=0, duplicates=0.
. "$(dirname "$0")/lib.sh"

N=1000
setup_db
start_emulator --ack-delay-ms 4000
gen "$T/a.jsonl" "$N" --seed 71
gen "$T/b.jsonl" "$N" --seed 72
gen "$T/c.jsonl" "$N" --seed 73
CFG_BATCH_SIZE=200
CFG_LEASE_S=5
CFG_TIMEOUT_MS=4000
sent_rows() {
	sql_is "$1" "SELECT count(*) FROM clawdstrike.outbox WHERE status = 'sent'"
}

# --- 1. same instance_id
eq "enqueued" "$(enqueue "$T/a.jsonl")" "$N"
start_relay r1
wait_until 20 "all $N rows sent, acks pending" sent_rows "$N"
kill_relay r1
eq "batches waiting for acks" "$(sql "SELECT count(*) FROM clawdstrike.batch WHERE state = 'sent'")" 5
eq "nothing claimed unsent" "$(sql "SELECT count(*) FROM clawdstrike.batch WHERE state = 'claimed'")" 0
CH1=$(sql "SELECT string_agg(DISTINCT channel::text, ',') FROM clawdstrike.batch")
# New events wait behind the resumed acks.
eq "more enqueued" "$(enqueue "$T/b.jsonl")" "$N"
start_relay r1
wait_until 30 "all delivered after restart" all_delivered
eq "emulator indexed each event once" "$(counter .events_indexed)" $((2 * N))
eq "resumed batches delivered by polling their old channel" "$(sql "SELECT count(*) FROM clawdstrike.batch
    WHERE channel = '$CH1' AND outcome = 'acked' AND relay_instance = 'r1'")" 5
check "relay logged the resumption" grep -q 'resuming ack polling for persisted batches.*batches=5' "$T/relay-r1.log"
FIRST_NEW=$(sql "SELECT min(claimed_at) FROM clawdstrike.batch WHERE channel IS DISTINCT FROM '$CH1'")
eq "no new claim before the resumed acks were polled" "$(sql "SELECT count(*) FROM clawdstrike.batch
    WHERE channel IS DISTINCT FROM '$CH1' AND claimed_at < (SELECT min(claimed_at) FROM clawdstrike.batch WHERE channel = '$CH1') + interval '0 s'
      AND claimed_at < '$FIRST_NEW'::timestamptz - interval '1 s'")" 0
report_figures 0 "restart with the same instance_id resumes acks: no resend"

# --- 2. another instance takes over after the lease expires
eq "third set enqueued" "$(enqueue "$T/c.jsonl")" "$N"
wait_until 20 "third set sent, acks pending" sent_rows "$N"
kill_relay r1
CH2=$(sql "SELECT string_agg(DISTINCT channel::text, ',') FROM clawdstrike.batch WHERE state = 'sent'")
start_relay r2
wait_until 40 "dead relay's batches delivered by r2" all_delivered
eq "emulator indexed each event once" "$(counter .events_indexed)" $((3 * N))
eq "r2 adopted r1's batches and polled r1's channel" "$(sql "SELECT count(*) FROM clawdstrike.batch
    WHERE channel = '$CH2' AND outcome = 'acked' AND relay_instance = 'r2'")" 5
stop_relay r2
eq "relay r2 exits 0" "$STOP_RC" 0
report_figures 0 "a sent batch is resumed by polling its persisted ack id, never resent"
eq "no duplicates risked in the batch audit" "$(batch_dups_risked)" 0
stop_emulator
finish
