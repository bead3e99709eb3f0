#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# mTLS: the emulator requires a client certificate signed by the test CA.
# Without one the relay delivers nothing and dead-letters nothing (rows
# stay pending); with tls.client_cert_path/client_key_path it delivers.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hardening.sh"

N=${E2E_N:-2000}
setup_db
make_pki
start_tls_emulator --tls-client-ca "$T/ca.pem"
gen "$T/events.jsonl" "$N" --seed 23
eq "enqueued" "$(enqueue "$T/events.jsonl")" "$N"

say "phase 1: mTLS required, no client certificate"
tls_config "$T/ca.pem"
write_config r1
start_relay r1
wait_until 30 "refused connections counted" \
	bash -c "[ \"\$(curl -s $BASE/emulator/counters | jq .tls_client_rejected)\" -ge 3 ]"
check "the relay logs the failed request" log_has r1 'HEC request failed'
stop_relay r1
eq "relay exits 0" "$STOP_RC" 0
eq "nothing indexed" "$(out_lines)" 0
eq "nothing dead-lettered" "$(n_dead_letters)" 0
eq "every row pending" "$(count_status pending)" "$N"

say "phase 2: client certificate given"
tls_config "$T/ca.pem" client
write_config r1
"$RELAY" -c "${RELAY_CFG[r1]}" check >"$T/check.log" 2>&1
check "check passes with the client certificate" grep -q '^all checks passed' "$T/check.log"
start_relay r1
wait_until 60 "all $N delivered over mTLS" all_delivered
stop_relay r1
eq "nothing dead-lettered" "$(n_dead_letters)" 0
# Requests refused in phase 1 closed before any answer; the emulator
# indexed nothing then, so no duplicates.
report_figures 0 "phase 1 indexed nothing"
stop_emulator
finish
