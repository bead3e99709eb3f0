# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash disable=SC2034  # variables are for the test scripts
# Shared helpers for the emulator tests (sourced, not run).
#
# Each test script starts its own hec-emulator on a free port (port 0 plus
# --port-file), drives it with curl, asserts with jq, and stops it with
# SIGTERM: the emulator must then exit 0, which under
# HEC_EMULATOR_WRAPPER="valgrind --error-exitcode=99 ..." also means no
# memory errors.  The last line printed is "N passed, M failed".
set -u

EMU=${HEC_EMULATOR:-}
if [ -z "$EMU" ]; then
	echo "HEC_EMULATOR must point at the hec-emulator binary" >&2
	exit 2
fi
WRAP=${HEC_EMULATOR_WRAPPER:-}
TMP=$(mktemp -d)
OUT=$TMP/out.jsonl
PASS=0
FAIL=0
EMU_PID=
PORT=
BASE=
STATUS=
BODY=
CURL_RC=0
CH1=11111111-2222-3333-4444-555555555555
CH2=aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee

cleanup() {
	if [ -n "$EMU_PID" ] && kill -0 "$EMU_PID" 2>/dev/null; then
		kill -KILL "$EMU_PID" 2>/dev/null
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT

# start_emulator ARGS...: start on a free port with --output $OUT.
start_emulator() {
	rm -f "$TMP/port"
	: >"$OUT"
	# shellcheck disable=SC2086  # the wrapper is a command line
	$WRAP "$EMU" --listen 127.0.0.1:0 --port-file "$TMP/port" \
		--output "$OUT" "$@" 2>>"$TMP/emulator.log" &
	EMU_PID=$!
	for _ in $(seq 1 300); do
		[ -s "$TMP/port" ] && break
		kill -0 "$EMU_PID" 2>/dev/null || break
		sleep 0.1
	done
	if [ ! -s "$TMP/port" ]; then
		echo "emulator did not start:" >&2
		cat "$TMP/emulator.log" >&2
		exit 1
	fi
	PORT=$(cat "$TMP/port")
	BASE=http://127.0.0.1:$PORT
}

# stop_emulator: SIGTERM; the exit status must be 0 (clean under valgrind).
stop_emulator() {
	local rc=0
	kill -TERM "$EMU_PID"
	wait "$EMU_PID" || rc=$?
	EMU_PID=
	if [ "$rc" -eq 0 ]; then
		PASS=$((PASS + 1))
	else
		FAIL=$((FAIL + 1))
		echo "FAIL: emulator exited with $rc" >&2
		tail -50 "$TMP/emulator.log" >&2
	fi
}

# req METHOD PATH [curl args...]: sets STATUS, BODY, CURL_RC.
req() {
	local method=$1 path=$2 how
	shift 2
	CURL_RC=0
	how=(-X "$method")
	# curl -X HEAD would wait for the body that Content-Length announces.
	[ "$method" = HEAD ] && how=(--head)
	STATUS=$(curl -s --max-time "${CURL_MAX_TIME:-30}" -o "$TMP/body" \
		-D "$TMP/headers" -w '%{http_code}' "${how[@]}" "$@" \
		"$BASE$path") || CURL_RC=$?
	BODY=$(cat "$TMP/body" 2>/dev/null)
}

# post PATH TOKEN BODY [curl args...]: POST with "Authorization: Splunk".
post() {
	local path=$1 token=$2 body=$3
	shift 3
	req POST "$path" -H "Authorization: Splunk $token" \
		--data-binary "$body" "$@"
}

ok() {
	PASS=$((PASS + 1))
}

bad() {
	FAIL=$((FAIL + 1))
	echo "FAIL: $1 (status=$STATUS body=$BODY)" >&2
}

# check DESC COMMAND...: passes when the command succeeds.
check() {
	local desc=$1
	shift
	if "$@"; then ok; else bad "$desc"; fi
}

# expect DESC STATUS CODE [EVENT_NUMBER]: HTTP status, HEC code and
# invalid-event-number ("-" for absent).
expect() {
	local desc=$1 status=$2 code=$3 num=${4:-}
	local got_code got_num
	got_code=$(printf '%s' "$BODY" | jq -r '.code' 2>/dev/null)
	got_num=$(printf '%s' "$BODY" | jq -r '."invalid-event-number" // "-"' \
		2>/dev/null)
	if [ "$STATUS" = "$status" ] && [ "$got_code" = "$code" ] &&
		{ [ -z "$num" ] || [ "$got_num" = "$num" ]; }; then
		ok
	else
		bad "$desc: want $status code $code ${num:+event $num}"
	fi
}

# jbody FILTER: jq over the last body.
jbody() {
	printf '%s' "$BODY" | jq -r "$1"
}

# indexed: lines in the output file.  jout FILTER: jq -s over it.
indexed() {
	wc -l <"$OUT" | tr -d ' '
}

jout() {
	jq -s -r "$1" "$OUT"
}

# expect_indexed DESC N: the output holds exactly N events.
expect_indexed() {
	local n
	n=$(indexed)
	if [ "$n" = "$2" ]; then ok; else bad "$1: $n indexed, want $2"; fi
}

# eq DESC GOT WANT
eq() {
	if [ "$2" = "$3" ]; then ok; else bad "$1: got '$2', want '$3'"; fi
}

header() {
	grep -i "^$1:" "$TMP/headers" | head -1 | cut -d' ' -f2- | tr -d '\r'
}

control() {
	local method=$1 path=$2
	shift 2
	req "$method" "/emulator/$path" "$@"
}

faults() {
	control POST faults --data-binary "$1"
}

finish() {
	echo "$PASS passed, $FAIL failed"
	[ "$FAIL" -eq 0 ]
}
