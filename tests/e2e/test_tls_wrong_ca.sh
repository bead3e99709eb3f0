#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# TLS with the wrong CA: the relay cannot verify HEC's certificate.  It
# logs the certificate problem, dead-letters nothing and leaves the rows
# pending; a SIGHUP with the right CA reports that TLS keys need a restart;
# restarted with the right CA it delivers everything.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hardening.sh"

N=${E2E_N:-2000}
setup_db
make_pki
start_tls_emulator
gen "$T/events.jsonl" "$N" --seed 22
eq "enqueued" "$(enqueue "$T/events.jsonl")" "$N"
tls_config "$T/otherca.pem"
write_config r1
"$RELAY" -c "${RELAY_CFG[r1]}" check >"$T/check.log" 2>&1
eq "check fails with the wrong CA" "$?" 1
check "check names the certificate problem" \
	grep -Eq '^FAIL +hec https://.*tls: .*(certificate|issuer)' "$T/check.log"

start_relay r1
wait_until 30 "the certificate problem in the log" \
	log_has r1 'SSL certificate problem: unable to get local issuer certificate'
sleep 2
eq "nothing indexed" "$(out_lines)" 0
eq "nothing dead-lettered" "$(n_dead_letters)" 0
eq "nothing failed or delivered" "$(sql "SELECT count(*) FROM clawdstrike.outbox
    WHERE status IN ('failed', 'delivered', 'sent')")" 0
eq "no HEC request reached the emulator" "$(counter '.requests.event')" 0

# Fix the file, SIGHUP: TLS settings are not reloadable, and it says so.
tls_config "$T/ca.pem"
write_config r1
kill -HUP "${RELAY_PID[r1]}"
wait_until 20 "reload reports the TLS key" \
	log_has r1 'need a restart.*tls.ca_cert_path'
stop_relay r1
eq "relay exits 0 on SIGTERM while HEC is unverifiable" "$STOP_RC" 0
eq "rows left pending" "$(count_status pending)" "$N"

start_relay r1
wait_until 60 "all $N delivered after the restart" all_delivered
stop_relay r1
eq "nothing dead-lettered" "$(n_dead_letters)" 0
report_figures 0 "no request ever reached HEC before the fix"
stop_emulator
finish
