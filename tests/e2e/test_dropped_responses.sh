#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Responses dropped after indexing (emulator drop_rate: HEC indexes the
# batch, then closes the connection without answering): the relay cannot
# know, and the request's ack id is unknown, so its ack channel proves
# nothing any more: the batch and every batch waiting for an ack on that
# channel are re-sent, counted as possible duplicates.  lost=0; the bound
# asserted is the batch audit (clawdstrike.batch.duplicates_risked), which
# must account for every duplicate HEC holds.
. "$(dirname "$0")/lib.sh"

N=10000
setup_db
start_emulator --seed 3
gen "$T/events.jsonl" "$N" --seed 131
eq "enqueued" "$(enqueue_fast "$T/events.jsonl")" "$N"
CFG_BATCH_SIZE=200
faults '{"drop_rate":0.2}'
start_relay r1
wait_until 60 "half delivered under drops" sql_ge $((N / 2)) \
	"SELECT count(*) FROM clawdstrike.outbox WHERE status = 'delivered'"
faults '{"drop_rate":0}'
wait_until 60 "all delivered" all_delivered
stop_relay r1
eq "relay exits 0" "$STOP_RC" 0
DROPPED=$(counter .faults_dropped)
say "emulator dropped $DROPPED responses"
check "responses were dropped ($DROPPED)" test "$DROPPED" -gt 0
# Every duplicate must be in the batch audit, including those libcurl makes
# by re-sending a request on a fresh connection after a reused one died
# without an answer (hec.c sees the body rewind and reports `resent`).
RISKED=$(batch_dups_risked)
report_figures "$RISKED" "$DROPPED dropped responses, each retiring its channel; all counted"
echo "batch audit: duplicates_risked=$RISKED in $(sql "SELECT count(*) FROM clawdstrike.batch WHERE duplicates_risked > 0") batches"
le "duplicates accounted in the batch audit" "$DUPS" "$RISKED"
check "duplicates happened and were counted" test "$DUPS" -gt 0
eq "no dead letters" "$(n_dead_letters)" 0
stop_emulator
finish
