#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The raw endpoint: line breaking, query-string metadata, channels, gzip,
# index allowlist (hec-protocol.md section 1).
. "$(dirname "$0")/lib.sh"

R=/services/collector/raw
start_emulator --token T1 --token TA,ack=on --token TI,indexes=main:web

post $R T1 $'line one\nline two\r\n\n  line three  \n'
expect "raw body" 200 0
expect_indexed "one event per non-empty line" 3
eq "line ends stripped, text kept" "$(jout '[.[].event] | join("|")')" \
	"line one|line two|  line three  "
eq "raw endpoint recorded" "$(jout '.[0].endpoint')" raw
post "$R?host=h9&source=s9&sourcetype=access_combined&index=web&time=1433188255.25" TI "GET /"
expect "raw with query metadata" 200 0
eq "query metadata recorded" \
	"$(jout '.[3] | [.host, .source, .sourcetype, .index, (.time|tostring)] | join(" ")')" \
	"h9 s9 access_combined web 1433188255.25"
post "$R?index=secret" TI "x"
expect "raw with a disallowed index" 400 7
post $R T1 $'\n\r\n'
expect "raw with no lines" 400 5
post $R T1 $'{"not":"parsed"}\n'
eq "JSON is just text on raw" "$(jout '.[-1].event')" '{"not":"parsed"}'

printf 'gz line 1\ngz line 2\n' | gzip -c >"$TMP/gz"
req POST $R -H "Authorization: Splunk T1" -H "Content-Encoding: gzip" \
	--data-binary @"$TMP/gz"
expect "gzip raw" 200 0
eq "gzip lines" "$(jout '[.[-2:][].event] | join(",")')" "gz line 1,gz line 2"

# Channels: required on ack tokens, not on others (Splunk 10.4).
post $R TA "x"
expect "raw on an ack token without channel" 400 10
post $R TA "x" -H "X-Splunk-Request-Channel: $CH1"
eq "raw ack id" "$(jbody .ackId)" 0
post "$R?channel=$CH1" TA $'a\nb'
eq "raw ack id via query" "$(jbody .ackId)" 1
post /services/collector/ack TA '{"acks":[0,1]}' -H "X-Splunk-Request-Channel: $CH1"
eq "raw acks" "$BODY" '{"acks":{"0":true,"1":true}}'
post $R T1 "x"
expect "raw on a non-ack token without channel" 200 0
expect_indexed "raw total" 11
stop_emulator

start_emulator --token T1 --raw-requires-channel
post $R T1 "x"
expect "--raw-requires-channel (Vector's emulation)" 400 10
stop_emulator
finish
