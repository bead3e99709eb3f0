#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The event body: batching, gzip, size limits, required fields, flat
# fields, prefix-commit with invalid-event-number (hec-protocol.md
# sections 3 and 4).
. "$(dirname "$0")/lib.sh"

start_emulator --token T1 --token TI,indexes=main:security \
	--max-event-size 2000 --max-content-length 100000
E=/services/collector/event

# Concatenated envelopes, any whitespace or none between them.
post $E T1 '{"event":"a"}{"event":"b"}'
expect "no separator" 200 0
post $E T1 $'{"event":"c"}\n{"event":"d"}\r\n\t {"event":"e"}\n\n'
expect "newlines, tabs, CRLF" 200 0
post $E T1 $'{\n  "event": {\n    "k": "v"\n  },\n  "time": 1433188255.5\n}'
expect "pretty-printed envelope" 200 0
post $E T1 '[{"event":"arr1"},{"event":"arr2"}]'
expect "top-level array (seen accepted)" 200 0
expect_indexed "every envelope indexed" 8
eq "order kept" "$(jout '[.[].event] | map(tostring) | join(",")')" \
	'a,b,c,d,e,{"k":"v"},arr1,arr2'
eq "pretty event on one line" "$(sed -n 6p "$OUT" | jq -c .event)" '{"k":"v"}'
eq "time kept (seconds)" "$(jout '.[5].time')" 1433188255.5

# Metadata: envelope values over token defaults; numeric-string time.
post $E T1 '{"event":{"n":1},"time":"1433188255.500","host":"h1","source":"s1","sourcetype":"st1","index":"idx1","fields":{"f":"v","wins":["regionals","nationals"],"n":3}}'
expect "full envelope" 200 0
eq "metadata recorded" \
	"$(jout '.[8] | [.time, .host, .source, .sourcetype, .index] | map(tostring) | join(" ")')" \
	"1433188255.5 h1 s1 st1 idx1"
eq "fields recorded" "$(jout '.[8].fields | tojson')" \
	'{"f":"v","wins":["regionals","nationals"],"n":3}'
eq "event types: number" "$(post $E T1 '{"event":42}'; jbody .code)" 0

# gzip (one member or two), and unsupported encodings.
printf '{"event":"gz1"}{"event":"gz2"}' | gzip -c >"$TMP/gz"
req POST $E -H "Authorization: Splunk T1" -H "Content-Encoding: gzip" \
	--data-binary @"$TMP/gz"
expect "gzip body" 200 0
{ printf '{"event":"m1"}' | gzip -c; printf '{"event":"m2"}' | gzip -c; } >"$TMP/gz2"
req POST $E -H "Authorization: Splunk T1" -H "Content-Encoding: gzip" \
	--data-binary @"$TMP/gz2"
expect "two gzip members" 200 0
eq "gzip events indexed" "$(jout '[.[-4:][].event] | join(",")')" "gz1,gz2,m1,m2"
N=$(indexed)
req POST $E -H "Authorization: Splunk T1" -H "Content-Encoding: deflate" \
	--data-binary '{"event":"x"}'
eq "deflate: 415" "$STATUS" 415
eq "415 is HTML" "$(header Content-Type)" "text/html; charset=UTF-8"
req POST $E -H "Authorization: Splunk T1" -H "Content-Encoding: gzip" \
	--data-binary 'not gzip at all'
expect "corrupt gzip" 400 6
head -c 20 "$TMP/gz" >"$TMP/gzcut"
req POST $E -H "Authorization: Splunk T1" -H "Content-Encoding: gzip" \
	--data-binary @"$TMP/gzcut"
expect "truncated gzip" 400 6
expect_indexed "bad encodings index nothing" "$N"

# No data.
post $E T1 ''
expect "empty body" 400 5
eq "code 5 text" "$(jbody .text)" "No data"
post $E T1 $'  \n\t '
expect "whitespace only" 400 5

# event required / not blank; flat fields; bad types.
post $E T1 '{"time":1}'
expect "event missing" 400 12 0
post $E T1 '{"event":null}'
expect "event null" 400 12 0
post $E T1 '{"event":""}'
expect "event blank" 400 13 0
eq "code 13 text" "$(jbody .text)" "Event field cannot be blank"
post $E T1 '{"event":"x","fields":{"a":{"b":1}}}'
expect "nested fields object" 400 15 0
post $E T1 '{"event":"x","fields":{"a":[1,[2]]}}'
expect "array in a fields array" 400 15 0
post $E T1 '{"event":"x","fields":{"a":[{"b":1}]}}'
expect "object in a fields array" 400 15 0
post $E T1 '{"event":"x","fields":"flat?"}'
expect "fields not an object" 400 15 0
post $E T1 '{"event":"x","time":"yesterday"}'
expect "non-numeric time" 400 6 0
post $E T1 '{"event":"x","host":5}'
expect "host not a string" 400 6 0
post $E T1 '{"event":"x"} garbage'
expect "junk after an envelope" 400 6 1
post $E T1 '"just a string"'
expect "not an object" 400 6 0
expect_indexed "rejected first envelopes index nothing" $((N + 1))

# Prefix-commit: envelopes before the bad one are indexed.
N=$(indexed)
post $E T1 '{"event":"p0"}{"event":"p1",}{"event":"p2"}'
expect "syntax error in object 1 of 3" 400 6 1
eq "invalid data format text" "$(jbody .text)" "Invalid data format"
post $E T1 '{"event":"q0"}{"event":"q1"}{"event":""}{"event":"q3"}'
expect "blank event in object 2" 400 13 2
post $E T1 '{"event":"r0"}{"event":"r1","fields":{"x":{}}}'
expect "nested fields in object 1" 400 15 1
post $E T1 '{"event":"s0"}{"nothing":1,"time":2}'
expect "unknown key after a good one: 200 (Splunk 10.4)" 200 0
post $E T1 '{"nothing":1,"event":"t0"}{"event":"t1"}'
expect "unknown key in the first envelope: no data" 400 5
eq "prefixes indexed, nothing after the culprit" \
	"$(jout "[.[$N:][].event] | join(\",\")")" "p0,q0,q1,r0,s0"

# Index allowlist: code 7, reported one past the culprit (Splunk 10.4).
N=$(indexed)
post $E TI '{"event":"i0","index":"security"}{"event":"i1","index":"other"}{"event":"i2"}'
expect "disallowed index in object 1" 400 7 2
eq "code 7 text" "$(jbody .text)" "Incorrect index"
post $E TI '{"event":"j0","index":"nope"}'
expect "disallowed index in object 0" 400 7 1
post $E TI '{"event":"k0"}'
expect "default index allowed" 200 0
eq "allowlist prefix" "$(jout "[.[$N:][].event] | join(\",\")")" "i0,k0"

# Limits: one envelope over maxEventSize is code 6 at its number;
# a body over max_content_length is 413 (declared, chunked or inflated).
N=$(indexed)
BIG=$(head -c 2100 /dev/zero | tr '\0' 'x')
post $E T1 '{"event":"ok"}{"event":"'"$BIG"'"}'
expect "envelope over maxEventSize" 400 6 1
HUGE=$(head -c 100050 /dev/zero | tr '\0' 'y')
post $E T1 '{"event":"'"$HUGE"'"}'
eq "body over max_content_length: 413" "$STATUS" 413
eq "413 names the limit" "$(jbody .code)" 413
post $E T1 '{"event":"'"$HUGE"'"}' -H "Transfer-Encoding: chunked"
eq "chunked body over the limit: 413" "$STATUS" 413
head -c 200000 /dev/zero | tr '\0' ' ' | gzip -c >"$TMP/bomb"
req POST $E -H "Authorization: Splunk T1" -H "Content-Encoding: gzip" \
	--data-binary @"$TMP/bomb"
eq "gzip inflating past the limit: 413" "$STATUS" 413
post $E T1 '{"event":"after413"}'
expect "a request after 413 works" 200 0
eq "only the good envelopes" "$(jout "[.[$N:][].event] | join(\",\")")" \
	"ok,after413"
stop_emulator

# --code7-exact and --unknown-keys switch the two observed quirks off.
start_emulator --token TI,indexes=main --code7-exact --unknown-keys reject
post $E TI '{"event":"a"}{"event":"b","index":"x"}'
expect "code 7 exact" 400 7 1
post $E TI '{"event":"a"}{"event":"b","extra":1}'
expect "unknown key rejected" 400 6 1
stop_emulator
start_emulator --token T1 --unknown-keys ignore
post $E T1 '{"event":"a","extra":1}{"event":"b"}'
expect "unknown key ignored" 200 0
expect_indexed "both indexed" 2
eq "unknown key not recorded" "$(jout '.[0] | has("extra")')" false
stop_emulator
finish
