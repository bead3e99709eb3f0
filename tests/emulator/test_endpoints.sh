#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Endpoints, methods, OPTIONS, 404/405 and Splunk's headers
# (hec-protocol.md section 1).
. "$(dirname "$0")/lib.sh"

start_emulator --token T1

for path in /services/collector/event /services/collector/event/1.0 \
	/services/collector; do
	post "$path" T1 '{"event":"via '"$path"'"}'
	expect "POST $path" 200 0
done
eq "three events indexed, one per path" "$(indexed)" 3
eq "event endpoint recorded" "$(jout '[.[].endpoint] | unique | join(",")')" event

for path in /services/collector/raw /services/collector/raw/1.0; do
	post "$path" T1 "raw line"
	expect "POST $path" 200 0
done
expect_indexed "raw events indexed" 5

for path in /services/collector/health /services/collector/health/1.0; do
	req GET "$path"
	expect "GET $path" 200 17
	eq "health text" "$(jbody .text)" "HEC is healthy"
done
req HEAD /services/collector/health
eq "HEAD health" "$STATUS" 200

# Splunk's headers on every answer.
post /services/collector/event T1 '{"event":"x"}'
eq "Server header" "$(header Server)" Splunkd
eq "Content-Type" "$(header Content-Type)" "application/json; charset=UTF-8"
eq "Vary header" "$(header Vary)" Authorization
eq "compact body" "$BODY" '{"text":"Success","code":0}'

# OPTIONS: 200, empty body, no token needed, Allow.
req OPTIONS /services/collector/event
eq "OPTIONS event status" "$STATUS" 200
eq "OPTIONS event body empty" "$BODY" ""
eq "OPTIONS event Allow" "$(header Allow)" "POST,OPTIONS"
req OPTIONS /services/collector/health
eq "OPTIONS health Allow" "$(header Allow)" "GET,HEAD,OPTIONS"
req OPTIONS /services/collector/ack
eq "OPTIONS ack" "$STATUS/$(header Allow)" "200/POST,OPTIONS"

# Unknown path: 404 with Splunk's body; wrong method: 405, same body.
NOTFOUND='{"text":"The requested URL was not found on this server.","code":404}'
req POST /services/collector/nope -H "Authorization: Splunk T1" -d '{}'
eq "unknown path 404" "$STATUS" 404
eq "404 body" "$BODY" "$NOTFOUND"
req GET /services/collector/event -H "Authorization: Splunk T1"
eq "GET event 405" "$STATUS" 405
eq "405 body" "$BODY" "$NOTFOUND"
req GET /services/collector/raw
eq "GET raw 405" "$STATUS" 405
req GET /services/collector/ack
eq "GET ack 405" "$STATUS" 405
req POST /services/collector/health -d x
eq "POST health 405" "$STATUS" 405
req GET /services/collector/event/
eq "trailing slash is another path" "$STATUS" 404
expect_indexed "nothing indexed by 404/405" 6

# Control API is there for loopback clients.
control GET counters
eq "counters served" "$STATUS" 200
eq "counters count event requests" "$(jbody .requests.event)" 6
eq "counters count events" "$(jbody .events_indexed)" 6
eq "counters count 405s" "$(jbody '.http_status["405"]')" 4
stop_emulator

# --no-control: the control API looks like any unknown path.
start_emulator --token T1 --no-control
control GET counters
eq "no control: 404" "$STATUS" 404
eq "no control: Splunk body" "$BODY" "$NOTFOUND"
stop_emulator

# A worker-thread pool instead of a thread per connection.
start_emulator --token T1 --ack --threads 2
post /services/collector/event T1 '{"event":"pooled"}' \
	-H "X-Splunk-Request-Channel: $CH1"
expect "--threads 2 serves" 200 0
post /services/collector/ack T1 '{"acks":[0]}' -H "X-Splunk-Request-Channel: $CH1"
eq "--threads 2 acks" "$BODY" '{"acks":{"0":true}}'
stop_emulator

# Usage errors exit 2; --help exits 0.
"$EMU" --help >/dev/null
eq "--help exits 0" "$?" 0
"$EMU" --listen 127.0.0.1:0 2>/dev/null
eq "no token: usage error" "$?" 2
"$EMU" --token T --bogus 2>/dev/null
eq "unknown flag: usage error" "$?" 2
"$EMU" --token T,ack=maybe 2>/dev/null
eq "bad token option: usage error" "$?" 2

finish
