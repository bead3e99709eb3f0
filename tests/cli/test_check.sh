#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `check`: a good setup passes; a wrong token, an unreachable database or
# HEC, a schema that is missing or too new each give a clear FAIL line and
# exit 1; a bad config exits 2 naming file and line.  The token is never
# printed.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
EMU=${HEC_EMULATOR:-}
if [ -z "$EMU" ]; then
	echo "HEC_EMULATOR must point at the hec-emulator binary" >&2
	exit 2
fi
setup_db check
TOKEN=3f6c1e0a-check-good-token-5d2b
WRONG=wrong-token-0000-secret

"$EMU" --listen 127.0.0.1:0 --port-file "$TMP/port" --token "$TOKEN" \
	--ack --output "$TMP/indexed.jsonl" 2>"$TMP/emulator.log" &
EMU_PID=$! # stopped by cleanup() in lib.sh
for _ in $(seq 1 100); do
	[ -s "$TMP/port" ] && break
	sleep 0.1
done
[ -s "$TMP/port" ] || { cat "$TMP/emulator.log" >&2; exit 1; }
HEC=http://127.0.0.1:$(cat "$TMP/port")

# config FILE DB_URL HEC_URL TOKEN-LINE [USE_ACK]
config() {
	cat >"$1" <<YAML
database:
  url: "$2"
exporters:
  splunk:
    hec_url: $3
    $4
    use_ack: ${5:-true}
YAML
}

# no_token: neither token may appear in anything check printed.
no_token() {
	expect_no_match "$1: token not printed" "$OUT$ERR" "$TOKEN|$WRONG"
}

# --- a good setup
config "$TMP/good.yaml" "" "$HEC" "hec_token: $TOKEN"
RC=0
"$RELAY" -c "$TMP/good.yaml" check >"$TMP/out" 2>"$TMP/err" || RC=$?
OUT=$(cat "$TMP/out") ERR=$(cat "$TMP/err")
expect_rc "good setup" 0
expect_match "redacted summary" "$OUT" "^exporters.splunk.hec_token: <redacted>$"
expect_match "config ok" "$OUT" "^ok   config: "
expect_match "plain http warned" "$OUT" "^warn config: .*plain http"
expect_match "database ok with version" "$OUT" \
	"^ok   database: schema version [0-9]+ \(current\)$"
expect_match "health ok" "$OUT" "^ok   hec $HEC: health: HEC is healthy$"
expect_match "token ok" "$OUT" "^ok   hec $HEC: token accepted \(HTTP 400 code 5 No data\)$"
expect_no_match "no FAIL" "$OUT" "^FAIL"
expect_match "verdict" "$(tail -1 <<<"$OUT")" "^all checks passed$"
no_token "good setup"
expect_eq "nothing indexed by the token check" "$(wc -c <"$TMP/indexed.jsonl")" 0

# the token from a file: readable by others, it is a leaked token
printf '%s\n' "$TOKEN" >"$TMP/token"
chmod 644 "$TMP/token"
config "$TMP/file.yaml" "" "$HEC" "hec_token_file: $TMP/token"
RC=0
"$RELAY" -c "$TMP/file.yaml" check >"$TMP/out" 2>"$TMP/err" || RC=$?
OUT=$(cat "$TMP/out") ERR=$(cat "$TMP/err")
expect_rc "hec_token_file readable by others" 1
expect_match "says which file and the fix" "$OUT" \
	"^FAIL token: exporters.splunk.hec_token_file: $TMP/token is readable or writable by group or others \(mode 0644\): chmod 600 $TMP/token \(or 640 if root owns it\)$"
no_token "token file, loose"
chmod 600 "$TMP/token"
RC=0
"$RELAY" -c "$TMP/file.yaml" check >"$TMP/out" 2>"$TMP/err" || RC=$?
OUT=$(cat "$TMP/out") ERR=$(cat "$TMP/err")
expect_rc "hec_token_file" 0
no_token "token file"

# use_ack false against a token with acks on: every batch would get 400
config "$TMP/noack.yaml" "" "$HEC" "hec_token: $TOKEN" false
RC=0
"$RELAY" -c "$TMP/noack.yaml" check >"$TMP/out" 2>"$TMP/err" || RC=$?
OUT=$(cat "$TMP/out") ERR=$(cat "$TMP/err")
expect_rc "use_ack false, token needs a channel" 1
expect_match "says to turn use_ack on" "$OUT" \
	"^FAIL hec $HEC: HTTP 400 code 10 Data channel is missing: the token requires indexer acknowledgement; set exporters.splunk.use_ack: true$"

# --- wrong token
config "$TMP/wrong.yaml" "" "$HEC" "hec_token: $WRONG"
RC=0
"$RELAY" -c "$TMP/wrong.yaml" check >"$TMP/out" 2>"$TMP/err" || RC=$?
OUT=$(cat "$TMP/out") ERR=$(cat "$TMP/err")
expect_rc "wrong token" 1
expect_match "wrong token FAIL line" "$OUT" \
	"^FAIL hec $HEC: HTTP 40[13] code 4 Invalid token$"
expect_match "database still ok" "$OUT" "^ok   database: "
expect_match "verdict counts it" "$(tail -1 <<<"$OUT")" "^1 check\(s\) failed$"
no_token "wrong token"

# --- unreachable database
config "$TMP/nodb.yaml" "postgresql://127.0.0.1:1/nowhere?connect_timeout=3" \
	"$HEC" "hec_token: $TOKEN"
RC=0
"$RELAY" -c "$TMP/nodb.yaml" check >"$TMP/out" 2>"$TMP/err" || RC=$?
OUT=$(cat "$TMP/out") ERR=$(cat "$TMP/err")
expect_rc "unreachable database" 1
expect_match "database FAIL line" "$OUT" \
	"^FAIL database: database connection failed: .*127.0.0.1.*port 1 failed: Connection refused"
expect_match "HEC still checked" "$OUT" "^ok   hec $HEC: token accepted"

# --- schema not migrated, and newer than the binary
createdb "${DB}_empty"
config "$TMP/empty.yaml" "dbname=${DB}_empty" "$HEC" "hec_token: $TOKEN"
RC=0
"$RELAY" -c "$TMP/empty.yaml" check >"$TMP/out" 2>"$TMP/err" || RC=$?
OUT=$(cat "$TMP/out") ERR=$(cat "$TMP/err")
dropdb "${DB}_empty"
expect_rc "schema not installed" 1
expect_match "not installed FAIL line" "$OUT" \
	"^FAIL database: the clawdstrike schema is not installed \(binary expects version [0-9]+\): run migrate$"
v=$(sql "SELECT max(version) FROM clawdstrike.schema_migrations")
sql "INSERT INTO clawdstrike.schema_migrations (version, name) VALUES (9999, '9999_future.sql')" >/dev/null 2>&1 ||
	sql "INSERT INTO clawdstrike.schema_migrations (version) VALUES (9999)" >/dev/null
RC=0
"$RELAY" -c "$TMP/good.yaml" check >"$TMP/out" 2>"$TMP/err" || RC=$?
OUT=$(cat "$TMP/out") ERR=$(cat "$TMP/err")
sql "DELETE FROM clawdstrike.schema_migrations WHERE version = 9999" >/dev/null
expect_rc "schema newer than the binary" 1
expect_match "newer FAIL line" "$OUT" \
	"^FAIL database: schema version 9999 is newer than this binary's $v: upgrade the relay$"

# --- unreachable HEC
config "$TMP/nohec.yaml" "" "http://127.0.0.1:1" "hec_token: $TOKEN"
RC=0
"$RELAY" -c "$TMP/nohec.yaml" check >"$TMP/out" 2>"$TMP/err" || RC=$?
OUT=$(cat "$TMP/out") ERR=$(cat "$TMP/err")
expect_rc "unreachable HEC" 1
expect_match "HEC FAIL line" "$OUT" \
	"^FAIL hec http://127.0.0.1:1: health: no HTTP answer: .*onnect"
no_token "unreachable HEC"

# --- configuration errors: exit 2 with file:line
config "$TMP/bad.yaml" "" "$HEC" "hec_tokn: $TOKEN"
RC=0
"$RELAY" -c "$TMP/bad.yaml" check >"$TMP/out" 2>"$TMP/err" || RC=$?
OUT=$(cat "$TMP/out") ERR=$(cat "$TMP/err")
expect_rc "unknown key" 2
expect_match "file:line:key" "$ERR" "$TMP/bad.yaml:6: exporters.splunk.hec_tokn: "
no_token "bad config"
printf 'database:\n  url: ""\n' >"$TMP/nohecurl.yaml"
RC=0
"$RELAY" -c "$TMP/nohecurl.yaml" check >"$TMP/out" 2>"$TMP/err" || RC=$?
OUT=$(cat "$TMP/out") ERR=$(cat "$TMP/err")
expect_rc "no hec_url" 2
RC=0
"$RELAY" -c "$TMP/missing.yaml" check >"$TMP/out" 2>"$TMP/err" || RC=$?
expect_rc "missing config file" 2
RC=0
"$RELAY" -c "$TMP/good.yaml" check extra >"$TMP/out" 2>"$TMP/err" || RC=$?
expect_rc "stray argument" 2
RC=0
"$RELAY" check --help >"$TMP/out" 2>"$TMP/err" || RC=$?
expect_rc "--help" 0

finish
