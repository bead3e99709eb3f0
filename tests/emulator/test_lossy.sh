#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Lossy mode: events of ack requests reach the index (the output) only
# when their ack id reads true; a restart or an idle channel drops what
# is still held.  A relay that trusts the 200 instead of the ack loses
# exactly those events, which is what the e2e tests need to catch.
. "$(dirname "$0")/lib.sh"

E=/services/collector/event
A=/services/collector/ack
CHH=(-H "X-Splunk-Request-Channel: $CH1")

# counters_add_up: events_indexed = durable + held + lost (both kinds).
counters_add_up() {
	control GET counters
	jbody '.events_indexed == .events_durable + .events_held +
		.events_lost_in_restart + .events_lost_in_expiry' | grep -qx true
}

start_emulator --token T1 --token TN,ack=off --ack --lossy --ack-delay-ms 300
control GET faults
eq "--lossy shows as the knob" "$(jbody .lossy)" true

post $E T1 '{"event":"a1"}{"event":"a2"}' "${CHH[@]}"
expect "accepted" 200 0
eq "ack id" "$(jbody .ackId)" 0
expect_indexed "nothing durable at the 200" 0
post $A T1 '{"acks":[0]}' "${CHH[@]}"
eq "not yet true" "$BODY" '{"acks":{"0":false}}'
expect_indexed "still held before the ack" 0
sleep 0.4
post $A T1 '{"acks":[0]}' "${CHH[@]}"
eq "true after the delay" "$BODY" '{"acks":{"0":true}}'
# The answer came after the write: the lines are there already.
expect_indexed "durable when the poll answers true" 2
eq "one write per request, in order" "$(jout '[.[].event] | join(",")')" "a1,a2"

# Nobody polls: the periodic sweep makes a ready id's events durable.
post $E T1 '{"event":"unpolled"}' "${CHH[@]}"
expect_indexed "unpolled: held at first" 2
sleep 1.2
expect_indexed "unpolled: durable once ready" 3
post $A T1 '{"acks":[1]}' "${CHH[@]}"
eq "and still reported true once" "$BODY" '{"acks":{"1":true}}'
expect_indexed "not written twice" 3

# Non-ack tokens and the 400 prefix (no ack id) are written at once.
post $E TN '{"event":"noack"}'
expect_indexed "non-ack token: durable at the 200" 4
post $E T1 '{"event":"prefix"}{"event":""}' "${CHH[@]}"
expect "prefix error" 400 13 1
expect_indexed "prefix without an ack id: durable at once" 5

# A dropped answer changes nothing: held, then durable on the ack.
faults '{"drop_next":1}'
post $E T1 '{"event":"dropped"}' "${CHH[@]}"
check "no answer" test "$CURL_RC" -eq 52
expect_indexed "dropped: held" 5
sleep 0.4
post $A T1 '{"acks":[2]}' "${CHH[@]}"
eq "dropped request's id true" "$BODY" '{"acks":{"2":true}}'
eq "dropped request durable" "$(jout '.[-1].event')" dropped

# Restart drops what is held; ids start again at 0 and the reissued id
# 0 confirms only its own request.
faults '{"ack_delay_ms":60000}'
post $E T1 '{"event":"lost1"}{"event":"lost2"}' "${CHH[@]}"
eq "pending id" "$(jbody .ackId)" 3
post $E T1 '{"event":"lost3"}' -H "X-Splunk-Request-Channel: $CH2"
control GET counters
eq "held gauge" "$(jbody .events_held)" 3
control POST restart
eq "restart counts ids" "$(jbody .forgotten_acks)" 2
eq "restart counts held events" "$(jbody .events_lost)" 3
faults '{"ack_delay_ms":0}'
post $E T1 '{"event":"after"}' "${CHH[@]}"
eq "ids restart at 0" "$(jbody .ackId)" 0
post $A T1 '{"acks":[0,3]}' "${CHH[@]}"
eq "new id 0 true, old id 3 false" "$BODY" '{"acks":{"0":true,"3":false}}'
eq "lost events never reach the index" \
	"$(jout '[.[].event | select(startswith("lost"))] | length')" 0
eq "the reissued id's own event is durable" "$(jout '.[-1].event')" after
control GET counters
eq "events_lost_in_restart" "$(jbody .events_lost_in_restart)" 3
eq "events_indexed counts at the 200" "$(jbody .events_indexed)" 10
eq "events_durable counts what was written" "$(jbody .events_durable)" "$(indexed)"
check "indexed = durable + held + lost" counters_add_up

# A never-true id keeps its events held until the restart drops them.
faults '{"ack_never_next":1}'
post $E T1 '{"event":"never"}' "${CHH[@]}"
post $E T1 '{"event":"fine"}' "${CHH[@]}"
post $A T1 '{"acks":[1,2]}' "${CHH[@]}"
eq "never id false, next true" "$BODY" '{"acks":{"1":false,"2":true}}'
sleep 0.5
post $A T1 '{"acks":[1]}' "${CHH[@]}"
eq "never id still false" "$BODY" '{"acks":{"1":false}}'
eq "never event held" "$(jout '[.[].event] | index("never")')" null
control POST restart
eq "never event dropped by restart" "$(jbody .events_lost)" 1

# Lossy off at run time: back to writing at the 200.
faults '{"lossy":false,"ack_delay_ms":60000}'
N=$(indexed)
post $E T1 '{"event":"plain"}' "${CHH[@]}"
expect_indexed "lossy off: durable at the 200" $((N + 1))
stop_emulator

# Idle cleanup takes held events of ids that were not true with the
# channel; a ready id's events are written first.
start_emulator --token T1 --ack --lossy --ack-idle-timeout-s 1
faults '{"ack_never_next":1}'
post $E T1 '{"event":"expires"}' "${CHH[@]}"
post $E T1 '{"event":"ready"}' "${CHH[@]}"
sleep 2.5
control GET counters
eq "channel expired" "$(jbody .channels)" 0
eq "events_lost_in_expiry" "$(jbody .events_lost_in_expiry)" 1
eq "the ready id's event was written" "$(jout '[.[].event] | join(",")')" ready
check "indexed = durable + held + lost" counters_add_up
stop_emulator
finish
