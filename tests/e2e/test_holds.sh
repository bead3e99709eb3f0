#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Holds never stop delivery for good, and one instance_id is one process.
#
# 1. A proxy answers 503 with Retry-After: 31536000 (a year): the relay
#    honours it only up to retry.max_backoff_ms (1 s here) and delivers.
# 2. A second process started with the same instance_id is refused with a
#    clear error (it would renew and release the first one's batches); a
#    restart after the first one is gone (kill -9 included) is not.
. "$(dirname "$0")/lib.sh"

N=3000
setup_db
start_emulator
gen "$T/events.jsonl" "$N" --seed 221
eq "enqueued" "$(enqueue_fast "$T/events.jsonl")" "$N"
CFG_BATCH_SIZE=100

# --- 1: Retry-After of a year
faults '{"busy_next":2,"retry_after_s":31536000}'
start_relay r1
wait_until 30 "all delivered despite Retry-After: 31536000" all_delivered
eq "the 503s were answered" "$(counter '.hec_code["9"] // 0')" 2

# --- 2: the same instance_id twice
"$RELAY" -c "${RELAY_CFG[r1]}" run >"$T/second.log" 2>&1 &
second=$!
rc=0
if wait_until 30 "the second process exits" bash -c "! kill -0 $second 2>/dev/null"; then
	wait "$second" || rc=$?
else
	kill -KILL "$second" 2>/dev/null
	wait "$second" 2>/dev/null
	rc=running
fi
eq "second process with the same instance_id exits 1" "$rc" 1
check "it says why" grep -q "another relay process with instance_id r1" "$T/second.log"
check "the first one still runs" relay_alive r1
gen "$T/more.jsonl" 500 --seed 222
eq "more enqueued" "$(enqueue "$T/more.jsonl")" 500
wait_until 30 "the first one delivers on" all_delivered
kill_relay r1
start_relay r1
gen "$T/last.jsonl" 500 --seed 223
eq "last enqueued" "$(enqueue "$T/last.jsonl")" 500
wait_until 30 "a restart after kill -9 is not refused" all_delivered
stop_relay r1
eq "relay exits 0" "$STOP_RC" 0
report_figures "$(batch_dups_risked)" "every duplicate counted in the batch audit"
stop_emulator
finish
