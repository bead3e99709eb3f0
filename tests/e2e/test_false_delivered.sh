#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# No row is delivered without evidence for its own request.  The emulator
# runs lossy: events become durable only when their ack turns true, and a
# restart drops the rest, so a relay that credits the wrong evidence marks
# rows delivered that HEC does not hold (n_false_delivered).
#
# 1. Reissued ack ids: a fresh channel has issued id 0 (batch A, its ack
#    slow); HEC restarts (A's events are gone) and the answer to the next
#    request (C, which takes id 0 again) is cut.  A later poll of id 0 says
#    true for C's request, not A's.  The relay must retire the channel when
#    C's answer is lost, and resend A (counted as possible duplicates).
# 2. A 200 that is not HEC's answer (a load balancer's maintenance page on
#    every endpoint) and a JSON success without ackId (acknowledgement off
#    on the token) deliver nothing; /readyz says not ready while they last;
#    everything is delivered once HEC answers properly again.
. "$(dirname "$0")/lib.sh"

setup_db
start_emulator --lossy --ack-delay-ms 3000
CFG_BATCH_SIZE=100
CFG_FLUSH_MS=50
CFG_ACK_POLL_MS=100
MPORT=$((20000 + $$ % 20000))
CFG_METRICS_LISTEN=127.0.0.1:$MPORT
start_relay r1

# --- 1: reissued id 0 after a restart, the answer to its request cut
gen "$T/a.jsonl" 100 --seed 201
eq "batch A enqueued" "$(enqueue "$T/a.jsonl")" 100
wait_until 30 "A sent (id 0 on a fresh channel)" sql_is 100 \
	"SELECT count(*) FROM clawdstrike.outbox WHERE status = 'sent'"
say "restarting HEC: A's events are dropped, its ack id forgotten"
control POST restart >/dev/null || die "restart"
faults '{"drop_next":1}'
gen "$T/c.jsonl" 100 --seed 202
eq "batch C enqueued" "$(enqueue "$T/c.jsonl")" 100
wait_until 60 "all delivered" all_delivered
sleep 1
eq "no row delivered that HEC does not hold (reissued id)" "$(n_false_delivered)" 0
report_figures "$(batch_dups_risked)" "every duplicate counted in the batch audit"

# --- 2: 2xx answers that prove nothing
readyz() {
	curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/readyz"
}
for knob in html_200 no_ack_id; do
	before=$(count_status delivered)
	faults "{\"$knob\":true}"
	gen "$T/$knob.jsonl" 300 --seed $((300 + ${#knob}))
	eq "$knob: enqueued" "$(enqueue "$T/$knob.jsonl")" 300
	wait_until 30 "$knob: the relay has tried" grep -q "without HEC's answer" "${RELAY_LOG[r1]}"
	sleep 2
	eq "$knob: nothing delivered on it" "$(count_status delivered)" "$before"
	eq "$knob: nothing dead-lettered" "$(n_dead_letters)" 0
	wait_until 30 "$knob: /readyz says not ready" test "$(readyz)" = 503
	faults "{\"$knob\":false}"
	wait_until 60 "$knob: all delivered once HEC answers" all_delivered
	wait_until 60 "$knob: ready again" test "$(readyz)" = 200
	eq "$knob: no false delivered" "$(n_false_delivered)" 0
done
stop_relay r1
eq "relay exits 0" "$STOP_RC" 0
# JSON successes without ackId were indexed: those resends are counted.
report_figures "$(batch_dups_risked)" "every duplicate counted in the batch audit"
eq "no dead letters" "$(n_dead_letters)" 0
stop_emulator
finish
