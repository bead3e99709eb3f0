#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Tokens: missing / malformed / unknown / disabled answers, Basic and
# query-string auth, several tokens, revoke and restore at run time
# (hec-protocol.md section 2).
. "$(dirname "$0")/lib.sh"

start_emulator --token T1 --token T2,name=second,index=sec \
	--token TQ,query-auth --token TD,disabled
E=/services/collector/event
EV='{"event":"x"}'

req POST $E --data-binary "$EV"
expect "missing Authorization" 401 2
eq "code 2 text" "$(jbody .text)" "Token is required"
req POST $E -H "Authorization: Bearer T1" --data-binary "$EV"
expect "Bearer scheme" 401 3
eq "code 3 text" "$(jbody .text)" "Invalid authorization"
req POST $E -H "Authorization: T1" --data-binary "$EV"
expect "no scheme" 401 3
req POST $E -H "Authorization: Splunk " --data-binary "$EV"
expect "empty Splunk token" 401 3
post $E nope "$EV"
expect "unknown token" 403 4
eq "code 4 text" "$(jbody .text)" "Invalid token"
post $E TD "$EV"
expect "disabled token" 403 1
eq "code 1 text" "$(jbody .text)" "Token disabled"
expect_indexed "nothing indexed without a valid token" 0

# Several valid tokens; each one's defaults land in the output.
post $E T1 "$EV"
expect "first token" 200 0
post $E T2 "$EV"
expect "second token" 200 0
eq "token 2 default index" "$(jout '.[1].index')" sec
eq "token 2 name and source" "$(jout '.[1].token + " " + .[1].source')" \
	"second http:second"
eq "token 1 defaults" \
	"$(jout '.[0] | [.index, .sourcetype, .source, .host] | join(" ")')" \
	"main httpevent http:token1 127.0.0.1"
req POST $E -H "Authorization: splunk T1" --data-binary "$EV"
expect "scheme is case-insensitive" 200 0

# Basic auth: the token is the password, any user.
req POST $E -u "anyone:T1" --data-binary "$EV"
expect "Basic auth with token as password" 200 0
req POST $E -u "anyone:wrong" --data-binary "$EV"
expect "Basic auth with unknown token" 403 4

# Query string: only for tokens with allowQueryStringAuth; it wins over
# the header even when the feature is off.
req POST "$E?token=TQ" --data-binary "$EV"
expect "query-string token allowed" 200 0
req POST "$E?token=T1" --data-binary "$EV"
expect "query-string token not allowed" 400 16
eq "code 16 text" "$(jbody .text)" "Query string authorization is not enabled"
req POST "$E?token=T1" -H "Authorization: Splunk T1" --data-binary "$EV"
expect "query wins over a good header" 400 16
req POST "$E?token=nope" -H "Authorization: Splunk T1" --data-binary "$EV"
expect "unknown query token wins" 403 4
expect_indexed "indexed so far" 5

# Revoke, disable and restore at run time.
control POST tokens --data-binary '{"token":"T1","state":"revoked"}'
eq "revoke answered" "$STATUS" 200
post $E T1 "$EV"
expect "revoked token" 403 4
control POST tokens --data-binary '{"token":"second","state":"disabled"}'
post $E T2 "$EV"
expect "disabled at run time (by name)" 403 1
control POST tokens --data-binary '{"token":"T1","state":"enabled"}'
post $E T1 "$EV"
expect "restored token" 200 0
control GET tokens
eq "token states listed" "$(jbody '[.tokens[].state] | join(",")')" \
	"enabled,disabled,enabled,disabled"
control POST tokens --data-binary '{"token":"nope","state":"revoked"}'
eq "unknown token in control" "$STATUS" 404
control POST tokens --data-binary '{"token":"T1","state":"sleepy"}'
eq "bad state in control" "$STATUS" 400
expect_indexed "indexed in the end" 6

control GET counters
eq "401s counted" "$(jbody '.http_status["401"]')" 4
eq "code 4 counted" "$(jbody '.hec_code["4"]')" 4
stop_emulator
finish
