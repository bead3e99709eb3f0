#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Answers a strict client must not take for proof of delivery: an HTML
# 200 (a maintenance page in front of HEC), a JSON success without ackId
# on an ack token, the 2xx warnings 24/25; and code 7's two offset modes
# switched at run time.
. "$(dirname "$0")/lib.sh"

E=/services/collector/event
R=/services/collector/raw
A=/services/collector/ack
H=/services/collector/health
CHH=(-H "X-Splunk-Request-Channel: $CH1")

# expect_html DESC: 200, text/html, not JSON.
expect_html() {
	if [ "$STATUS" = 200 ] && [[ "$(header Content-Type)" == text/html* ]] &&
		[[ "$BODY" == "<!doctype html>"* ]] &&
		! printf '%s' "$BODY" | jq -e . >/dev/null 2>&1; then
		ok
	else
		bad "$1: want a 200 HTML page"
	fi
}

start_emulator --token T1 --token TN,ack=off,indexes=main --ack

# HTML 200 on every endpoint; nothing indexed, no ack id issued.
faults '{"html_200":true}'
eq "knob set" "$(jbody .html_200)" true
post $E T1 '{"event":"x"}' "${CHH[@]}"
expect_html "event"
post $R T1 'raw line' "${CHH[@]}"
expect_html "raw"
post $A T1 '{"acks":[0]}' "${CHH[@]}"
expect_html "ack"
req GET $H
expect_html "health"
post $E nope '{"event":"x"}'
expect_html "even without a valid token (nothing reaches HEC)"
expect_indexed "html: nothing indexed" 0
control GET counters
eq "html pages counted" "$(jbody .faults_html)" 5
eq "no ack id issued" "$(jbody .acks_issued)" 0
faults '{"html_200":false}'
post $E T1 '{"event":"x"}' "${CHH[@]}"
eq "afterwards ids start at 0" "$(jbody .ackId)" 0

# JSON 200 without ackId: indexed (durable at once) as on an ack=off token.
faults '{"no_ack_id":true,"lossy":true}'
post $E T1 '{"event":"noid"}' "${CHH[@]}"
eq "success without ackId" "$BODY" '{"text":"Success","code":0}'
eq "indexed at once, even in lossy mode" "$(jout '.[-1] | "\(.event)/\(.ack_id)"')" "noid/null"
post $R T1 'raw noid' "${CHH[@]}"
eq "raw: success without ackId" "$BODY" '{"text":"Success","code":0}'
post $E T1 '{"event":"x"}'
expect "the ack token still demands a channel" 400 10
faults '{"no_ack_id":false,"lossy":false}'
post $E T1 '{"event":"x"}' "${CHH[@]}"
eq "ack ids go on where they were" "$(jbody .ackId)" 1

# 2xx warnings: indexed normally, answered 200 with code 24 or 25.
faults '{"warn_next":2,"warn_code":25}'
post $E T1 '{"event":"w1"}' "${CHH[@]}"
eq "code 25 with its ack id" "$BODY" \
	'{"text":"HEC ACK is approaching its capacity limit","code":25,"ackId":2}'
post $R T1 'w2' "${CHH[@]}"
expect "raw gets it too" 200 25
post $E T1 '{"event":"w3"}' "${CHH[@]}"
eq "then Success again" "$BODY" '{"text":"Success","code":0,"ackId":4}'
eq "warned requests were indexed" "$(jout '[.[-3:][].event] | join(",")')" "w1,w2,w3"
post $A T1 '{"acks":[2,3]}' "${CHH[@]}"
eq "and their acks read true" "$BODY" '{"acks":{"2":true,"3":true}}'
faults '{"warn_next":1,"warn_code":24}'
post $E TN '{"event":"w4"}'
eq "code 24 without ackId on a non-ack token" "$BODY" \
	'{"text":"HEC queue is approaching its capacity limit","code":24}'
faults '{"warn_next":5,"warn_code":26}'
eq "warn_code 26 refused" "$STATUS" 400
control GET faults
eq "all or nothing: warn_next unchanged" "$(jbody .warn_next)" 0
faults '{"lossy":1}'
eq "a bool knob wants a bool" "$STATUS" 400

# Code 7: one past the culprit (Splunk 10.4), or exact, switched live.
BAD='{"event":1}{"event":2,"index":"other"}{"event":3}'
post $E TN "$BAD"
expect "code 7 as Splunk 10.4 reports it" 400 7 2
faults '{"code7_exact":true}'
post $E TN "$BAD"
expect "code 7 exact" 400 7 1
faults '{"code7_exact":false}'
post $E TN "$BAD"
expect "back to one past" 400 7 2
control GET counters
eq "warnings counted" "$(jbody .faults_warned)" 3
stop_emulator

# Start values from the command line.
start_emulator --token T1 --ack --html-200
post $E T1 '{"event":"x"}' "${CHH[@]}"
expect_html "--html-200"
stop_emulator
start_emulator --token T1 --ack --no-ack-id --warn-rate 1 --warn-code 25 --code7-exact
post $E T1 '{"event":"x"}' "${CHH[@]}"
eq "--no-ack-id with --warn-rate 1 --warn-code 25" "$BODY" \
	'{"text":"HEC ACK is approaching its capacity limit","code":25}'
control GET faults
eq "flags show as knobs" "$(jbody '[.no_ack_id, .warn_rate, .warn_code, .code7_exact] | map(tostring) | join(",")')" \
	"true,1,25,true"
stop_emulator
finish
