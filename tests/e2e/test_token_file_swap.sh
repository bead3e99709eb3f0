#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# hec_token_file on a Kubernetes-style secret mount: hec_token ->
# ..data/hec_token, ..data -> ..<timestamp>/; kubelet updates the secret by
# renaming a new ..data symlink over the old one.
#   1. the old token is revoked, then the mount is swapped: the relay
#      holds on 403 and resumes with the new token (re-read on 403);
#   2. the mount is swapped again without any 403: the file watch notices
#      and switches; the second token is then revoked and new events still
#      flow (the third token is in use).
# lost=0, no dead letters, no duplicates.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hardening.sh"

N=${E2E_N:-5000}
T2=e2e0c0de-2222-2222-2222-222222222222
T3=e2e0c0de-3333-3333-3333-333333333333
S=$T/secret
# swap_secret VERSION TOKEN: the kubelet's atomic update.
swap_secret() {
	mkdir -p "$S/..$1"
	printf '%s\n' "$2" >"$S/..$1/hec_token"
	ln -sfn "..$1" "$S/..data_tmp"
	mv -T "$S/..data_tmp" "$S/..data"
}
mkdir -p "$S"
swap_secret v1 "$TOKEN"
ln -s ..data/hec_token "$S/hec_token"

setup_db
start_emulator --token "$TOKEN" --token "$T2" --token "$T3"
gen "$T/events.jsonl" "$N" --seed 26
eq "enqueued" "$(enqueue "$T/events.jsonl")" "$N"
export E2E_HEC_TOKEN=
CFG_BATCH_SIZE=100
CFG_EXTRA_SPLUNK="    hec_token_file: $S/hec_token
    rate_limit:
      requests_per_second: 8"
write_config r1
start_relay r1
wait_until 60 "1000 delivered" delivered_ge 1000

say "phase 1: token1 revoked, then the mount swapped to token2"
control POST tokens '{"token":"token1","state":"revoked"}' >/dev/null
wait_until 30 "the relay holds on 403" log_has r1 'HEC refused the token'
swap_secret v2 "$T2"
rm -rf "$S/..v1"
wait_until 60 "all $N delivered" all_delivered
check "reloaded from the file" log_has r1 'HEC token reloaded.*source=file'

say "phase 2: swapped to token3 with no 403; the watch notices"
swap_secret v3 "$T3"
rm -rf "$S/..v2"
wait_until 20 "file change noticed" log_has r1 'HEC token file changed'
wait_until 10 "reloaded twice" bash -c "[ \$(grep -c 'HEC token reloaded' '${RELAY_LOG[r1]}') -ge 2 ]"
control POST tokens '{"token":"token2","state":"revoked"}' >/dev/null
gen "$T/more.jsonl" 1000 --seed 27
eq "enqueued more" "$(enqueue "$T/more.jsonl")" 1000
wait_until 60 "all $((N + 1000)) delivered" all_delivered
stop_relay r1
eq "relay exits 0" "$STOP_RC" 0
eq "no 403 after the watched swap" "$(grep -c 'HEC refused the token' "${RELAY_LOG[r1]}")" 1
eq "nothing dead-lettered" "$(n_dead_letters)" 0
eq "the last 1000 went with token3" \
	"$(jq -r '.token' "$OUT" | tail -1000 | sort -u)" token3
report_figures 0 "a 403 indexes nothing"
stop_emulator
finish
