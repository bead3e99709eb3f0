#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# TLS with a custom CA: the emulator serves HTTPS with a certificate from a
# CA made by this test; the relay trusts that CA (tls.ca_cert_path) and
# delivers everything.  `check` reports the handshake and the days left.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hardening.sh"

N=${E2E_N:-3000}
setup_db
make_pki
start_tls_emulator
gen "$T/events.jsonl" "$N" --seed 21
eq "enqueued" "$(enqueue "$T/events.jsonl")" "$N"
tls_config "$T/ca.pem"
write_config r1
check "hec_url is https" grep -q "hec_url: https://127.0.0.1:$PORT" "${RELAY_CFG[r1]}"

"$RELAY" -c "${RELAY_CFG[r1]}" check >"$T/check.log" 2>&1
say "check: $(grep -i 'tls' "$T/check.log" | head -3)"
check "check: TLS handshake ok with days left" \
	grep -Eq "^ok +hec https://127.0.0.1:$PORT: tls: .*expires in (29|30) days" "$T/check.log"

start_relay r1
wait_until 60 "all $N delivered over HTTPS" all_delivered
eq "statuses" "$(status_counts)" "pending=0 sending=0 sent=0 delivered=$N failed=0"
stop_relay r1
eq "relay exits 0" "$STOP_RC" 0
check "no TLS error logged" bash -c "! grep -qi 'certificate problem' '${RELAY_LOG[r1]}'"
report_figures 0 "nothing failed, so every event exactly once"
eq "indexed lines" "$OUT_LINES" "$N"
stop_emulator
finish
