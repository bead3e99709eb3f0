#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Vault KV v2 token source: the relay reads the HEC token from a local
# stand-in of Vault's read API.  Mid-run Vault goes away (the last good
# token is kept; one warning), the old token is revoked in HEC (403: held,
# never dead-lettered), then Vault comes back with the new token: delivery
# resumes.  lost=0, no dead letters, no duplicates.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hardening.sh"

N=${E2E_N:-6000}
T2=e2e0c0de-7777-8888-9999-aaaabbbbcccc
setup_db
start_emulator --token "$TOKEN" --token "$T2"
printf '%s\n' "vault-e2e-$$-s3cr3t" >"$T/vault-token"
printf '%s\n' "$TOKEN" >"$T/vault-secret"
start_vault
gen "$T/events.jsonl" "$N" --seed 25
eq "enqueued" "$(enqueue "$T/events.jsonl")" "$N"
export E2E_HEC_TOKEN= # the token comes from Vault only
CFG_BATCH_SIZE=100
CFG_EXTRA_SPLUNK="    rate_limit:
      requests_per_second: 5
    vault:
      address: http://127.0.0.1:$VAULT_PORT
      path: secret/data/clawdstrike/splunk
      key: hec_token
      token_file: $T/vault-token
      refresh_s: 10"
write_config r1
"$RELAY" -c "${RELAY_CFG[r1]}" check >"$T/check.log" 2>&1
check "check names the vault token source" \
	grep -Eq '^ok +token: source vault http://127.0.0.1:[0-9]+ path secret/data/clawdstrike/splunk key hec_token: read \(secret version 1\)' "$T/check.log"
start_relay r1
wait_until 30 "token loaded from vault" log_has r1 'HEC token loaded.*source=vault'
wait_until 60 "1000 delivered" delivered_ge 1000

say "Vault goes away; SIGHUP asks for a fresh read"
stop_vault
kill -HUP "${RELAY_PID[r1]}"
wait_until 20 "warning: last good token kept" \
	log_has r1 'cannot read the HEC token from Vault; keeping the last good token'
D1=$(count_status delivered)
wait_until 60 "delivery goes on with the last good token" delivered_ge $((D1 + 500))

say "old token revoked in HEC while Vault is still down"
control POST tokens "{\"token\":\"token1\",\"state\":\"revoked\"}" >/dev/null
wait_until 30 "the relay holds on 403" log_has r1 'HEC refused the token'
sleep 3
eq "Vault outage warned once" "$(grep -c 'cannot read the HEC token from Vault' "${RELAY_LOG[r1]}")" 1
eq "nothing dead-lettered while refused" "$(n_dead_letters)" 0

say "Vault is back with the new token"
printf '%s\n' "$T2" >"$T/vault-secret"
start_vault "$VAULT_PORT"
wait_until 60 "all $N delivered" all_delivered
check "Vault answers again (logged)" log_has r1 'Vault answers again'
check "token reloaded from vault" log_has r1 'HEC token reloaded.*source=vault'
stop_relay r1
eq "relay exits 0" "$STOP_RC" 0
eq "statuses" "$(status_counts)" "pending=0 sending=0 sent=0 delivered=$N failed=0"
eq "nothing dead-lettered" "$(n_dead_letters)" 0
ge "the emulator refused requests with the old token" "$(counter '.hec_code."4" // 0')" 1
ge "events indexed under the new token" "$(jq -r 'select(.token == "token2") | .token' "$OUT" | wc -l)" 1
report_figures 0 "a 403 indexes nothing, so no resend is a duplicate"
stop_emulator
finish
