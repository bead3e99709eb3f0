#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# kill -9 repeatedly during a 100,000-event run, alternating instance ids
# (a restart of the same id, and a takeover by another one after lease
# expiry): nothing is lost.
#
# Duplicate bound, per kill:
#  - rows of batches whose POST may have reached HEC but whose ack id was
#    not yet persisted (mark_sent): the requests in flight, at most
#    relay.max_in_flight batches of at most batch.size rows;
#  - rows of `sent` batches whose ack HEC had already answered true to a
#    poll whose answer died with the relay (HEC reports an ack true only
#    once): at most the rows `sent` at the kill.  Those come back after
#    ack.timeout_s (10 s here) and are resent.
# Every other sent batch is resumed from its persisted ack id, never
# resent.  So duplicates <= sum over kills of (max_in_flight x batch.size
# + rows sent at the kill), and every duplicate is accounted in
# clawdstrike.batch.duplicates_risked.
. "$(dirname "$0")/lib.sh"

N=${E2E_N:-100000}
KILLS=5
setup_db
start_emulator --ack-delay-ms 200
gen "$T/events.jsonl" "$N" --seed 91
eq "enqueued" "$(enqueue_fast "$T/events.jsonl")" "$N"
CFG_BATCH_SIZE=500
CFG_MAX_IN_FLIGHT=4
CFG_LEASE_S=5
CFG_TIMEOUT_MS=4000
CFG_ACK_TIMEOUT_S=10
write_config ka
write_config kb
name=ka
SENT_AT_KILLS=0
for ((k = 1; k <= KILLS; k++)); do
	start_relay "$name"
	sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.2f", 1 + r / 32768 }')"
	kill_relay "$name"
	SENT_AT_KILLS=$((SENT_AT_KILLS + $(count_status sent)))
	say "kill $k of $name: $(status_counts)"
	if [ "$name" = ka ]; then name=kb; else name=ka; fi
done
start_relay "$name"
wait_until 120 "all delivered after $KILLS kills" all_delivered
say "done: $(status_counts)"
stop_relay "$name"
eq "last relay exits 0" "$STOP_RC" 0
BOUND=$((KILLS * CFG_MAX_IN_FLIGHT * CFG_BATCH_SIZE + SENT_AT_KILLS))
report_figures "$BOUND" "$KILLS kills x max_in_flight $CFG_MAX_IN_FLIGHT x batch.size $CFG_BATCH_SIZE (POSTs not yet recorded) + $SENT_AT_KILLS rows sent at the kills (ack answer lost)"
RISKED=$(batch_dups_risked)
echo "batch audit: duplicates_risked=$RISKED"
le "duplicates accounted in the batch audit" "$DUPS" "$RISKED"
eq "no dead letters" "$(n_dead_letters)" 0
stop_emulator
finish
