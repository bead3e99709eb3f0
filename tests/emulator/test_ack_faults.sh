#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Ack faults: poll answers cut after the ids were consumed, readiness with
# seeded jitter (out of order), ids that never read true, and two nodes
# behind a non-sticky load balancer issuing ids from 0 on one channel.
. "$(dirname "$0")/lib.sh"

E=/services/collector/event
A=/services/collector/ack
CHH=(-H "X-Splunk-Request-Channel: $CH1")

ms() {
	echo $(($(date +%s%N) / 1000000))
}

# sleep_until T: until ms() reaches T.
sleep_until() {
	local left=$(($1 - $(ms)))
	if [ "$left" -gt 0 ]; then
		sleep "$((left / 1000)).$(printf '%03d' $((left % 1000)))"
	fi
}

start_emulator --token T1 --ack

# A poll answer cut after the poll was processed: the true is lost.
post $E T1 '{"event":"a"}' "${CHH[@]}"
faults '{"drop_ack_next":1}'
eq "knob set" "$(jbody .drop_ack_next)" 1
post $A T1 '{"acks":[0]}' "${CHH[@]}"
check "poll: no answer (curl: empty reply)" test "$CURL_RC" -eq 52
post $A T1 '{"acks":[0]}' "${CHH[@]}"
eq "the id was consumed by the cut poll" "$BODY" '{"acks":{"0":false}}'
post $E T1 '{"event":"b"}' "${CHH[@]}"
expect "event requests are not cut" 200 0
control GET counters
eq "cut polls counted" "$(jbody .faults_ack_dropped)" 1
eq "the consumed id counts as true" "$(jbody .acks_true)" 1

# Never true, without lossy: indexed at the 200, the ack never comes.
faults '{"ack_never_next":1}'
post $E T1 '{"event":"never"}' "${CHH[@]}"
eq "never: its id" "$(jbody .ackId)" 2
post $E T1 '{"event":"next"}' "${CHH[@]}"
eq "indexed all the same" "$(jout '[.[-2:][].event] | join(",")')" "never,next"
post $A T1 '{"acks":[1,2,3]}' "${CHH[@]}"
eq "only the never id stays false" "$BODY" '{"acks":{"1":true,"2":false,"3":true}}'
control GET counters
eq "never ids counted" "$(jbody .acks_never)" 1
eq "and still pending" "$(jbody .pending_acks)" 1
stop_emulator

# Jitter: id k reads true ack_delay_ms + splitmix64(seed + k) % (jitter+1)
# ms after it was indexed.  Seed 1, jitter 3000: 2777 198 2450 2341 2711
# 36 ms, so 300 ms after the last request ids 1 and 5 are true and 0, 2,
# 3, 4 are not; seed 2 shifts the draws by one (198 2450 2341 2711 36
# 2115).  Polling then consumes the early ones, and by 2.9 s after the
# last request the rest are true.
jitter_run() {
	local seed=$1 early=$2 late=$3 t0 t1
	start_emulator --token T1 --ack --ack-jitter-ms 3000 --seed "$seed"
	t0=$(ms)
	for _ in 1 2 3 4 5 6; do
		post $E T1 '{"event":"j"}' "${CHH[@]}"
	done
	t1=$(ms)
	# The gap between 198 and 2341 ms must hold the requests' spread.
	check "seed $seed: requests sent within 900 ms ($((t1 - t0)) ms)" \
		test $((t1 - t0)) -lt 900
	sleep_until $((t1 + 300))
	post $A T1 '{"acks":[0,1,2,3,4,5]}' "${CHH[@]}"
	eq "seed $seed: out of order, early ids" \
		"$(jbody '[.acks | to_entries[] | select(.value) | .key] | join(",")')" "$early"
	sleep_until $((t1 + 2900))
	post $A T1 '{"acks":[0,1,2,3,4,5]}' "${CHH[@]}"
	eq "seed $seed: the rest later" \
		"$(jbody '[.acks | to_entries[] | select(.value) | .key] | join(",")')" "$late"
	stop_emulator
}
jitter_run 1 "1,5" "0,2,3,4"
jitter_run 2 "0,4" "1,2,3,5"

# Two nodes, non-sticky: request N lands on node N mod 2.
start_emulator --token T1 --ack --nodes 2
post $E T1 '{"event":"n0"}' "${CHH[@]}"
eq "node 0 issues id 0" "$(jbody .ackId)" 0
post $E T1 '{"event":"n1"}' "${CHH[@]}"
eq "node 1 issues id 0 on the same channel" "$(jbody .ackId)" 0
post $A T1 '{"acks":[0]}' "${CHH[@]}"
eq "poll on node 0" "$BODY" '{"acks":{"0":true}}'
post $A T1 '{"acks":[0]}' "${CHH[@]}"
eq "poll on node 1: its own id 0" "$BODY" '{"acks":{"0":true}}'
post $E T1 '{"event":"n2"}' "${CHH[@]}"
eq "node 0 goes on with id 1" "$(jbody .ackId)" 1
post $A T1 '{"acks":[1]}' "${CHH[@]}"
eq "node 1 never issued id 1" "$BODY" '{"acks":{"1":false}}'
post $A T1 '{"acks":[1]}' "${CHH[@]}"
eq "node 0 answers it" "$BODY" '{"acks":{"1":true}}'
eq "one shared index" "$(jout '[.[] | "\(.event)/\(.ack_id)"] | join(",")')" "n0/0,n1/0,n2/1"
control GET counters
eq "requests per node" "$(jbody '[.nodes[].requests] | map(tostring) | join(",")')" "4,3"
control POST restart
eq "restart forgets on every node" "$STATUS" 200
stop_emulator
"$EMU" --token T --nodes 9 2>/dev/null
eq "--nodes past 8 is a usage error" "$?" 2
finish
