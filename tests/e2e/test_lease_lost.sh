#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A post whose lease is gone is dropped, never re-posted, and holds never
# stop claiming: while HEC takes 2 s to answer 413 (the batch is too large
# for it), the batch's lease expires and another relay takes it back.  The
# relay must drop that post when the split finds the batch is no longer
# ours (the old relay re-posted it forever, and a queued post stopped all
# claiming), then claim the rows again and deliver them.
. "$(dirname "$0")/lib.sh"

setup_db
start_emulator --max-content-length 100000 --latency-ms 2000
gen "$T/events.jsonl" 200 --seed 241
eq "enqueued" "$(enqueue "$T/events.jsonl")" 200
CFG_BATCH_SIZE=200
start_relay r1
wait_until 30 "the batch is in flight" sql_is 1 \
	"SELECT count(*) FROM clawdstrike.batch WHERE state = 'claimed'"
# Its lease runs out (as if r1 had stalled) and a relay "thief" recovers.
sql "UPDATE clawdstrike.batch SET lease_until = now() - interval '1 second'
      WHERE state = 'claimed'" >/dev/null
sql "SELECT count(*) FROM clawdstrike.recover('thief', 30, false)" >/dev/null
eq "the thief took the batch back" "$(sql "SELECT count(*) FROM clawdstrike.batch WHERE outcome = 'lease_expired'")" 1
faults '{"latency_ms":0}'
wait_until 30 "r1 dropped the post it no longer holds" grep -q "lease lost" "${RELAY_LOG[r1]}"
wait_until 30 "all delivered (claiming went on)" all_delivered
sleep 1
N413=$(counter '.http_status["413"] // 0')
say "HEC answered 413 $N413 times"
# One for the stolen batch, then three while the re-claimed 200 rows are
# split down to what fits (200, then 2 x 100; 50 fit).  A relay re-posting
# what it no longer holds never stops (the old one: thousands a minute).
le "the taken-back batch was never posted again" "$N413" 4
stop_relay r1
eq "relay exits 0" "$STOP_RC" 0
report_figures "$(batch_dups_risked)" "every duplicate counted in the batch audit"
stop_emulator
finish
