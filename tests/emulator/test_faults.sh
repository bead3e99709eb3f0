#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Fault injection and health (hec-protocol.md sections 6 and 7): 503/429,
# latency, responses dropped after indexing, restart that forgets acks,
# unhealthy states, all set at start or changed at run time.
. "$(dirname "$0")/lib.sh"

E=/services/collector/event
A=/services/collector/ack
H=/services/collector/health
EV='{"event":"x"}'

start_emulator --token T1 --ack
CHH=(-H "X-Splunk-Request-Channel: $CH1")

faults '{"busy_next":2}'
eq "knob set" "$(jbody .busy_next)" 2
post $E T1 "$EV" "${CHH[@]}"
expect "busy 1" 503 9
eq "code 9 text" "$(jbody .text)" "Server is busy"
eq "no Retry-After by default" "$(header Retry-After)" ""
post $E T1 "$EV" "${CHH[@]}"
expect "busy 2" 503 9
post $E T1 "$EV" "${CHH[@]}"
expect "then accepted" 200 0
eq "ack ids not spent on refused requests" "$(jbody .ackId)" 0
expect_indexed "busy requests index nothing" 1

faults '{"throttle_next":1,"retry_after_s":3}'
post $E T1 "$EV" "${CHH[@]}"
expect "throttled" 429 26
eq "Retry-After when asked for" "$(header Retry-After)" 3
faults '{"busy_rate":1.0}'
post /services/collector/raw T1 "raw" "${CHH[@]}"
expect "busy rate 1 applies to raw" 503 9
faults '{"busy_rate":0,"retry_after_s":0}'
faults '{"busy_rate":7}'
eq "bad knob refused" "$STATUS" 400
faults '{"bogus":1}'
eq "unknown knob refused" "$STATUS" 400

# Latency: the answer comes late.
faults '{"latency_ms":400}'
START=$(date +%s%N)
post $E T1 "$EV" "${CHH[@]}"
END=$(date +%s%N)
expect "slow but accepted" 200 0
check "latency applied ($(((END - START) / 1000000)) ms)" \
	test $(((END - START) / 1000000)) -ge 400
faults '{"latency_ms":0}'

# Drop: indexed and acked, but the client never hears back.
faults '{"drop_next":1}'
post $E T1 '{"event":"dropped"}' "${CHH[@]}"
check "no answer (curl: empty reply)" test "$CURL_RC" -eq 52
eq "dropped request was indexed" "$(jout '.[-1].event')" dropped
ID=$(jout '.[-1].ack_id')
eq "its ack id" "$ID" 2
post $A T1 "{\"acks\":[$ID]}" "${CHH[@]}"
eq "its ack reads true" "$BODY" "{\"acks\":{\"$ID\":true}}"
post $E T1 "$EV" "${CHH[@]}"
expect "next request answered" 200 0
eq "ids go on after a drop" "$(jbody .ackId)" 3

# Restart: pending acks forgotten, ids restart at 0, the index stays.
faults '{"ack_delay_ms":60000}'
post $E T1 '{"event":"before restart"}' "${CHH[@]}"
eq "pending id" "$(jbody .ackId)" 4
control POST restart
eq "restart answered" "$STATUS" 200
eq "pending acks forgotten (ids 0,1,3,4)" "$(jbody .forgotten_acks)" 4
faults '{"ack_delay_ms":0}'
post $A T1 '{"acks":[4]}' "${CHH[@]}"
eq "pending id reads false after restart" "$BODY" '{"acks":{"4":false}}'
post $E T1 '{"event":"after restart"}' "${CHH[@]}"
eq "ids restart at 0" "$(jbody .ackId)" 0
eq "index survives a restart" "$(jout '[.[].event] | index("before restart") != null')" true

# Health states (optionally ?ack=true).
req GET $H
expect "healthy" 200 17
while read -r state plain withack; do
	faults "{\"health\":\"$state\"}"
	req GET $H
	expect "health $state" "$([ "$plain" = 17 ] && echo 200 || echo 503)" "$plain"
	req GET "$H/1.0?ack=true"
	expect "health $state with ack=true" 503 "$withack"
done <<'STATES'
queues_full 18 20
ack_unavailable 17 19
shutting_down 23 23
STATES
faults '{"health":"ok"}'
req GET "$H?ack=true"
expect "healthy again" 200 17
req GET $H -H "Authorization: Splunk nope"
expect "health ignores the token by default (8.2.4)" 200 17

control GET counters
eq "faults counted" "$(jbody '[.faults_busy, .faults_throttled, .faults_dropped, .restarts] | map(tostring) | join(",")')" "3,1,1,1"
stop_emulator

# Start values from the command line; the documented token check.
start_emulator --token T1 --token TD,disabled --busy-rate 1 --health queues_full \
	--health-checks-token --retry-after-s 5
post $E T1 "$EV"
expect "--busy-rate 1" 503 9
eq "--retry-after-s" "$(header Retry-After)" 5
req GET $H
expect "--health queues_full" 503 18
req GET $H -H "Authorization: Splunk nope"
expect "health with an invalid token" 400 21
req GET $H -H "Authorization: Splunk TD"
expect "health with a disabled token" 400 22
control GET faults
eq "start values visible" "$(jbody '.busy_rate')" 1
stop_emulator
finish
