#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A 503 storm, then a 429 storm (half of all event requests refused for a
# few seconds each; Retry-After on the 429s): the relay backs off and
# retries; a 503/429 means nothing was indexed, so lost=0 and
# duplicates=0; nothing is dead-lettered.
. "$(dirname "$0")/lib.sh"

N=20000
setup_db
start_emulator --seed 7
gen "$T/events.jsonl" "$N" --seed 121
eq "enqueued" "$(enqueue_fast "$T/events.jsonl")" "$N"
CFG_BATCH_SIZE=200
faults '{"busy_rate":0.5}'
start_relay r1
sleep 4
say "503 storm over: $(status_counts)"
faults '{"busy_rate":0,"throttle_rate":0.5,"retry_after_s":1}'
sleep 4
say "429 storm over: $(status_counts)"
faults '{"throttle_rate":0,"retry_after_s":0}'
wait_until 90 "all delivered" all_delivered
stop_relay r1
eq "relay exits 0" "$STOP_RC" 0
B=$(counter .faults_busy)
TH=$(counter .faults_throttled)
say "emulator refused $B requests with 503 and $TH with 429"
check "503 storm happened ($B)" test "$B" -ge 3
check "429 storm happened ($TH)" test "$TH" -ge 3
report_figures 0 "a 503/429 answer means HEC indexed nothing"
eq "no dead letters" "$(n_dead_letters)" 0
eq "no duplicates risked in the batch audit" "$(batch_dups_risked)" 0
stop_emulator
finish
