#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# HEC "restarts" mid-run and forgets every pending ack (control API
# POST /emulator/restart): the relay notices (ack ids reissued on its
# channel, or ack.timeout_s = 5 s passing) and resends those batches.
# Nothing is lost.  Duplicates: the batches whose ack was forgotten, plus
# those on the channel when the reissued id showed up (it is retired: any
# of its ids may now answer for another request), i.e. the requests in
# flight and the acks already true but held until those answered; every
# one is counted in the batch audit, which is the bound asserted.
. "$(dirname "$0")/lib.sh"

N=20000
setup_db
start_emulator --ack-delay-ms 1000
gen "$T/events.jsonl" "$N" --seed 101
eq "enqueued" "$(enqueue_fast "$T/events.jsonl")" "$N"
CFG_BATCH_SIZE=200
CFG_ACK_TIMEOUT_S=5
start_relay r1
wait_until 60 "acks pending mid-run" sql_ge 5 \
	"SELECT count(*) FROM clawdstrike.batch WHERE state = 'sent'
	  HAVING (SELECT count(*) FROM clawdstrike.outbox WHERE status = 'delivered') >= 2000"
FORGOT=$(control POST restart | jq -r .forgotten_acks)
say "emulator restarted, forgot $FORGOT acks: $(status_counts)"
check "the restart forgot pending acks ($FORGOT)" test "$FORGOT" -gt 0
wait_until 90 "all delivered" all_delivered
stop_relay r1
eq "relay exits 0" "$STOP_RC" 0
report_figures "$(batch_dups_risked)" "$FORGOT forgotten acks x batch.size $CFG_BATCH_SIZE, plus the channel's in-flight and held batches; all counted"
RISKED=$(batch_dups_risked)
echo "batch audit: duplicates_risked=$RISKED; released batches: $(sql "SELECT string_agg(outcome || '=' || n, ' ') FROM
    (SELECT outcome, count(*) n FROM clawdstrike.batch WHERE outcome NOT IN ('acked') GROUP BY 1) x")"
le "duplicates accounted in the batch audit" "$DUPS" "$RISKED"
check "some batches were resent" test "$RISKED" -gt 0
eq "no dead letters" "$(n_dead_letters)" 0
stop_emulator
finish
