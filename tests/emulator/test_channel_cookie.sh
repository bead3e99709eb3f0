#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# inputs.conf channel_cookie (--channel-cookie NAME): answers to requests
# with a channel carry Set-Cookie NAME=<channel>; --require-channel-cookie
# makes an ack poll without it land "on another indexer" (every id false).
. "$(dirname "$0")/lib.sh"

E=/services/collector/event
A=/services/collector/ack
EV='{"event":"x"}'

rc=0
"$EMU" --token T --require-channel-cookie 2>/dev/null || rc=$?
eq "--require-channel-cookie without a name is a usage error" "$rc" 2
rc=0
"$EMU" --token T --channel-cookie 'a b' 2>/dev/null || rc=$?
eq "a cookie name with a space is a usage error" "$rc" 2

start_emulator --token T,ack=on --token N --channel-cookie splunkd_lb \
	--require-channel-cookie
post $E T "$EV" -H "X-Splunk-Request-Channel: $CH1"
expect "event with a channel" 200 0
eq "Set-Cookie names the channel" "$(header Set-Cookie)" "splunkd_lb=$CH1"
post $E N "$EV"
eq "no channel, no cookie" "$(header Set-Cookie)" ""
post $E T "$EV" -H "X-Splunk-Request-Channel: $CH1"
eq "second ackId" "$(jbody .ackId)" 1

post $A T '{"acks":[0]}' -H "X-Splunk-Request-Channel: $CH1"
eq "poll without the cookie: another indexer's answer" "$BODY" '{"acks":{"0":false}}'
post $A T '{"acks":[0]}' -H "X-Splunk-Request-Channel: $CH1" \
	-H "Cookie: splunkd_lb=$CH2"
eq "poll with another channel's cookie: false too" "$BODY" '{"acks":{"0":false}}'
post $A T '{"acks":[0,1]}' -H "X-Splunk-Request-Channel: $CH1" \
	-H "Cookie: other=1; splunkd_lb=$CH1"
eq "poll with the cookie: true" "$BODY" '{"acks":{"0":true,"1":true}}'
eq "the poll's answer sets the cookie too" "$(header Set-Cookie)" "splunkd_lb=$CH1"
control GET counters
eq "misses counted" "$(jbody .ack_cookie_misses)" 2

# curl's cookie jar, as a client would keep one: send, then poll.
rm -f "$TMP/jar"
post $E T "$EV" -H "X-Splunk-Request-Channel: $CH2" -c "$TMP/jar"
post $A T '{"acks":[0]}' -H "X-Splunk-Request-Channel: $CH2" -b "$TMP/jar"
eq "a cookie jar carries it from the send to the poll" "$BODY" '{"acks":{"0":true}}'
stop_emulator

# Without --require-channel-cookie polls need no cookie.
start_emulator --token T,ack=on --channel-cookie lb
post $E T "$EV" -H "X-Splunk-Request-Channel: $CH1"
post $A T '{"acks":[0]}' -H "X-Splunk-Request-Channel: $CH1"
eq "cookie not required by default" "$BODY" '{"acks":{"0":true}}'
stop_emulator

finish
