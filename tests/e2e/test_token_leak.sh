#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The token never appears anywhere: a delivery with a distinctive HEC token
# (debug logging, a 403 episode, a SIGHUP reload), `check` with each token
# source (inline, file, Vault with a distinctive Vault token), metrics and
# health scrapes, and the emulator's own log and output.  Then every file
# under this test's temp dir, except the secret files themselves, is
# grepped for both tokens: nothing may match.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hardening.sh"

N=${E2E_N:-2000}
LEAK=LeakCanary-HEC-$$-9f1c2e7b-DoNotLog
VLEAK=LeakCanary-VAULT-$$-4d8a0c31-DoNotLog
export E2E_HEC_TOKEN=$LEAK
setup_db
start_emulator --token "$LEAK" --log-level debug
gen "$T/events.jsonl" "$N" --seed 31
eq "enqueued" "$(enqueue "$T/events.jsonl")" "$N"
MPORT=$(free_port)
M=http://127.0.0.1:$MPORT
CFG_LOG_LEVEL=debug
CFG_BATCH_SIZE=100
CFG_EXTRA_SPLUNK="    rate_limit:
      requests_per_second: 5"
with_metrics r1 "$MPORT"
"$RELAY" -c "${RELAY_CFG[r1]}" check >"$T/check-inline.log" 2>&1
check "check (inline) passes" grep -q '^all checks passed' "$T/check-inline.log"
start_relay r1
wait_until 60 "half delivered" delivered_ge $((N / 2))
control POST tokens '{"token":"token1","state":"revoked"}' >/dev/null
wait_until 30 "refused" log_has r1 'HEC refused the token'
curl -s "$M/metrics" >"$T/metrics-refused.txt"
curl -s "$M/readyz" >"$T/readyz-refused.txt"
control POST tokens '{"token":"token1","state":"enabled"}' >/dev/null
kill -HUP "${RELAY_PID[r1]}"
wait_until 60 "all $N delivered" all_delivered
curl -s "$M/metrics" >"$T/metrics-done.txt"
curl -s "$M/healthz" >"$T/healthz.txt"
curl -s "$M/readyz" >"$T/readyz.txt"
control GET counters >"$T/counters.json"
control GET tokens >"$T/tokens.json"
stop_relay r1
eq "relay exits 0" "$STOP_RC" 0

# check with a token file and with Vault (the relay's other sources).
printf '%s\n' "$LEAK" >"$T/hec_token"
printf '%s\n' "$VLEAK" >"$T/vault-token"
printf '%s\n' "$LEAK" >"$T/vault-secret"
# private, as `check` requires of a secret file
chmod 600 "$T/hec_token" "$T/vault-token"
start_vault
export E2E_HEC_TOKEN=
CFG_EXTRA_SPLUNK="    hec_token_file: $T/hec_token"
write_config r2
"$RELAY" -c "${RELAY_CFG[r2]}" check >"$T/check-file.log" 2>&1
check "check (file) passes" grep -q '^all checks passed' "$T/check-file.log"
CFG_EXTRA_SPLUNK="    vault:
      address: http://127.0.0.1:$VAULT_PORT
      path: secret/data/clawdstrike/splunk
      token: \${E2E_VAULT_TOKEN}"
write_config r3
E2E_VAULT_TOKEN=$VLEAK "$RELAY" -c "${RELAY_CFG[r3]}" check >"$T/check-vault.log" 2>&1
check "check (vault) passes" grep -q '^all checks passed' "$T/check-vault.log"
# A Vault token Vault refuses: the error must not echo it either.
E2E_VAULT_TOKEN=wrong-$VLEAK "$RELAY" -c "${RELAY_CFG[r3]}" check >"$T/check-vault-bad.log" 2>&1
check "check (vault, bad Vault token) fails with Vault's reason" \
	grep -Eq '^FAIL +token: .*HTTP 403 \(permission denied\)' "$T/check-vault-bad.log"
# A relay run from Vault, briefly, with debug logs.
CFG_EXTRA_SPLUNK="    vault:
      address: http://127.0.0.1:$VAULT_PORT
      path: secret/data/clawdstrike/splunk
      token_file: $T/vault-token"
write_config r4
gen "$T/more.jsonl" 200 --seed 32
eq "enqueued more" "$(enqueue "$T/more.jsonl")" 200
start_relay r4
wait_until 60 "delivered from the Vault-sourced token" all_delivered
stop_relay r4
stop_vault
stop_emulator
report_figures 0 "a 403 indexes nothing, so nothing is resent twice"

say "files searched: $(find "$T" -type f | wc -l)"
LEAKS=$(grep -rlF -e "$LEAK" -e "$VLEAK" "$T" |
	grep -vxF -e "$T/hec_token" -e "$T/vault-token" -e "$T/vault-secret")
eq "files holding a token (other than the secret files)" "${LEAKS:-none}" none
for f in "$T"/relay-*.log "$T"/check-*.log "$T"/metrics-*.txt "$T"/emulator.log "$T"/vault.log; do
	check "$(basename "$f") exists and is token-free" \
		bash -c "[ -s '$f' ] && ! grep -qF -e '$LEAK' -e '$VLEAK' '$f'"
done
check "the debug log shows requests (so it was searched for something)" \
	grep -q 'level=debug' "$T/relay-r1.log"
finish
