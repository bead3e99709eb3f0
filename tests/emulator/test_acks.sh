#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Indexer acknowledgement: channels, ack ids, true-once, delay, idle
# cleanup, codes 10/11/14 (hec-protocol.md section 5).
. "$(dirname "$0")/lib.sh"

start_emulator --token TA,ack=on --token TN --token TQ,ack=on,query-auth
E=/services/collector/event
A=/services/collector/ack
EV='{"event":"x"}'

# Channel required on ack tokens, from header or query, must be a GUID.
post $E TA "$EV"
expect "ack token without channel" 400 10
eq "code 10 text" "$(jbody .text)" "Data channel is missing"
post $E TA "$EV" -H "X-Splunk-Request-Channel: not-a-guid"
expect "channel not a GUID" 400 11
eq "code 11 text" "$(jbody .text)" "Invalid data channel"
post $E TA "$EV" -H "X-Splunk-Request-Channel: 11111111-2222-3333-4444-55555555555"
expect "channel one digit short" 400 11
expect_indexed "nothing indexed without a channel" 0

# Ack ids per channel from 0; header or ?channel=.
post $E TA "$EV" -H "X-Splunk-Request-Channel: $CH1"
expect "first request" 200 0
eq "first ackId is 0" "$(jbody .ackId)" 0
post $E TA '{"event":"y"}{"event":"z"}' -H "X-Splunk-Request-Channel: $CH1"
eq "second ackId is 1 (one per request)" "$(jbody .ackId)" 1
post "$E?channel=$CH1" TA "$EV"
eq "channel from the query" "$(jbody .ackId)" 2
post "$E?channel=$CH2" TA "$EV" -H "X-Splunk-Request-Channel: $CH1"
eq "header preferred over query" "$(jbody .ackId)" 3
post $E TA "$EV" -H "X-Splunk-Request-Channel: ${CH2^^}"
eq "other channel starts at 0 (GUID case-insensitive)" "$(jbody .ackId)" 0
eq "output carries channel and ack id" \
	"$(jout '[.[] | "\(.channel[0:8])/\(.ack_id)"] | join(",")')" \
	"11111111/0,11111111/1,11111111/1,11111111/2,11111111/3,AAAAAAAA/0"

# Poll: true once, then false; unknown and other-channel ids false.
post $A TA '{"acks":[0,1,7]}' -H "X-Splunk-Request-Channel: $CH1"
eq "poll status" "$STATUS" 200
eq "poll answer" "$BODY" '{"acks":{"0":true,"1":true,"7":false}}'
post $A TA '{"acks":[0,1,2]}' -H "X-Splunk-Request-Channel: $CH1"
eq "true reported exactly once" "$BODY" '{"acks":{"0":false,"1":false,"2":true}}'
post "$A?channel=$CH2" TA '{"acks":[3]}'
eq "an id of another channel reads false" "$BODY" '{"acks":{"3":false}}'
post $A TA '{"acks":[3,3]}' -H "X-Splunk-Request-Channel: $CH1"
eq "an id asked twice answers once" "$BODY" '{"acks":{"3":true}}'
post $A TA '{"acks":[]}' -H "X-Splunk-Request-Channel: $CH1"
eq "empty poll" "$BODY" '{"acks":{}}'
req POST "$A?token=TQ&channel=$CH1" --data-binary '{"acks":[0]}'
eq "poll with query-string token" "$BODY" '{"acks":{"0":false}}'

# Ack errors.
post $A TN '{"acks":[0]}' -H "X-Splunk-Request-Channel: $CH1"
expect "ack on a non-ack token" 400 14
eq "code 14 text" "$(jbody .text)" "ACK is disabled"
post $A TA '{"acks":[0]}'
expect "ack without channel" 400 10
post $A TA '{"acks":[0]}' -H "X-Splunk-Request-Channel: zzz"
expect "ack with a bad channel" 400 11
post $A TA '{"acks":"0"}' -H "X-Splunk-Request-Channel: $CH1"
expect "malformed ack body" 400 6
post $A nope '{"acks":[0]}' -H "X-Splunk-Request-Channel: $CH1"
expect "ack with an unknown token" 403 4

# Non-ack token: no ackId, channel optional but checked when sent.
post $E TN "$EV"
eq "no ackId without ack" "$BODY" '{"text":"Success","code":0}'
post $E TN "$EV" -H "X-Splunk-Request-Channel: $CH1"
eq "channel accepted on a non-ack token, still no ackId" "$(jbody 'has("ackId")')" false

# A 400 on an ack token indexes the prefix but issues no ack id.
N=$(indexed)
post $E TA '{"event":"pre"}{"event":""}' -H "X-Splunk-Request-Channel: $CH1"
expect "prefix error on an ack token" 400 13 1
eq "no ackId on a 400" "$(jbody 'has("ackId")')" false
eq "prefix indexed, unacknowledgeable" "$(jout ".[$N] | [.event, (.ack_id|tostring)] | join(\"/\")")" "pre/null"
post $E TA "$EV" -H "X-Splunk-Request-Channel: $CH1"
eq "next ack id continues" "$(jbody .ackId)" 4

control GET counters
eq "acks issued" "$(jbody .acks_issued)" 6
eq "acks reported true" "$(jbody .acks_true)" 4
eq "pending acks" "$(jbody .pending_acks)" 2
eq "channels" "$(jbody .channels)" 2
stop_emulator

# --ack for every token, per-token ack=off, delay, idle cleanup, limits.
# The idle timeout (3 s) is well above the delay test's wait, so a slow,
# loaded machine cannot expire the channel before the ack is read.
start_emulator --token T1 --token TOFF,ack=off --ack --ack-delay-ms 700 \
	--ack-idle-timeout-s 3 --max-acks-per-channel 2
post $E T1 "$EV" -H "X-Splunk-Request-Channel: $CH1"
eq "--ack turns ack on" "$(jbody .ackId)" 0
post $E TOFF "$EV"
eq "ack=off token under --ack" "$BODY" '{"text":"Success","code":0}'
post $A T1 '{"acks":[0]}' -H "X-Splunk-Request-Channel: $CH1"
eq "false before the delay" "$BODY" '{"acks":{"0":false}}'
sleep 0.9
post $A T1 '{"acks":[0]}' -H "X-Splunk-Request-Channel: $CH1"
eq "true after the delay" "$BODY" '{"acks":{"0":true}}'
faults '{"ack_delay_ms":0}'
eq "delay changed at run time" "$(jbody .ack_delay_ms)" 0
post $E T1 "$EV" -H "X-Splunk-Request-Channel: $CH1"
post $E T1 "$EV" -H "X-Splunk-Request-Channel: $CH1"
eq "second pending id" "$(jbody .ackId)" 2
post $E T1 "$EV" -H "X-Splunk-Request-Channel: $CH1"
expect "channel full (max acks per channel)" 503 9
post $A T1 '{"acks":[1]}' -H "X-Splunk-Request-Channel: $CH1"
post $E T1 "$EV" -H "X-Splunk-Request-Channel: $CH1"
eq "room again after a poll" "$(jbody .ackId)" 3
expect_indexed "the refused request indexed nothing" 5
# Idle cleanup: the channel and its pending ids go away.
sleep 4.5
control GET counters
eq "idle channel removed" "$(jbody .channels)" 0
post $A T1 '{"acks":[2,3]}' -H "X-Splunk-Request-Channel: $CH1"
eq "ids of an expired channel read false" "$BODY" '{"acks":{"2":false,"3":false}}'
post $E T1 "$EV" -H "X-Splunk-Request-Channel: $CH1"
eq "an expired channel starts again at 0" "$(jbody .ackId)" 0
stop_emulator

start_emulator --token T1 --ack --max-channels 1
post $E T1 "$EV" -H "X-Splunk-Request-Channel: $CH1"
expect "first channel" 200 0
post $E T1 "$EV" -H "X-Splunk-Request-Channel: $CH2"
expect "channel limit reached" 503 9
stop_emulator
finish
