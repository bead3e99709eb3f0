#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Every event the database accepts is delivered, whatever the defaults:
# an event of about 1,030,000 bytes (below the 1 MiB enqueue limit, above
# batch.max_bytes' default of 1,000,000) goes alone in a request of its
# own instead of being dead-lettered; the events around it are batched as
# usual.  lost=0, no dead letters, duplicates=0.
. "$(dirname "$0")/lib.sh"

setup_db
start_emulator
gen "$T/a.jsonl" 300 --seed 261
head -1 "$T/a.jsonl" | jq -c '.event_id = "0b16e7e0-0000-4000-8000-000000000001"
    | .metadata.pad = ("x" * 1030000)' >"$T/big.jsonl"
cat "$T/a.jsonl" "$T/big.jsonl" >"$T/events.jsonl"
gen "$T/b.jsonl" 300 --seed 262
cat "$T/b.jsonl" >>"$T/events.jsonl"
eq "enqueued, the big one included" "$(enqueue "$T/events.jsonl")" 601
CFG_BATCH_SIZE=500
# the defaults of batch.max_bytes and max_event_bytes, as shipped
start_relay r1
wait_until 60 "all delivered" all_delivered
stop_relay r1
eq "relay exits 0" "$STOP_RC" 0
eq "no dead letters" "$(n_dead_letters)" 0
report_figures 0 "nothing failed, so every event exactly once"
eq "the big event was sent alone" "$(sql "SELECT n_events FROM clawdstrike.batch b
    JOIN clawdstrike.outbox o ON o.batch_id = b.id
    WHERE o.event_id = '0b16e7e0-0000-4000-8000-000000000001'")" 1
stop_emulator
finish
