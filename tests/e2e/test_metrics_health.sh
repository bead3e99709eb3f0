#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Metrics and health on metrics.listen: counters move as events flow and
# end at the right values; /healthz is 200 throughout; /readyz is 200 when
# all is well, 503 while HEC refuses the token and while the database is
# unreachable, and 200 again after each recovers.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hardening.sh"

N=${E2E_N:-4000}
setup_db
start_emulator
gen "$T/events.jsonl" "$N" --seed 29
eq "enqueued" "$(enqueue "$T/events.jsonl")" "$N"
MPORT=$(free_port)
M=http://127.0.0.1:$MPORT
CFG_BATCH_SIZE=100
CFG_EXTRA_SPLUNK="    rate_limit:
      requests_per_second: 8"
with_metrics r1 "$MPORT"
start_relay r1
wait_until 30 "/healthz answers" bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' $M/healthz)\" = 200 ]"
delivered() { metric "$M" clawdstrike_relay_events_delivered_total; }
wait_until 60 "some delivered" bash -c "v=\$(curl -s $M/metrics | awk '/^clawdstrike_relay_events_delivered_total /{print \$2}'); [ \"\${v:-0}\" -gt 0 ]"
MID=$(delivered)
say "mid-run: delivered_total=$MID"
check "delivered_total moves before the end ($MID < $N)" test "$MID" -lt "$N"
wait_until 60 "all $N delivered" all_delivered
wait_until 10 "delivered_total = $N" bash -c "[ \"\$(curl -s $M/metrics | awk '/^clawdstrike_relay_events_delivered_total /{print \$2}')\" = $N ]"
curl -s "$M/metrics" >"$T/metrics-1.txt"
ge "events_claimed_total" "$(metric "$M" clawdstrike_relay_events_claimed_total)" "$N"
eq "events_sent_total" "$(metric "$M" clawdstrike_relay_events_sent_total)" "$N"
eq "events_failed_total" "$(metric "$M" clawdstrike_relay_events_failed_total)" 0
ge "hec_responses_total{status=\"200\"}" "$(metric "$M" 'clawdstrike_relay_hec_responses_total{status="200"}')" $((N / 100))
ge "request_duration_seconds_count" "$(metric "$M" clawdstrike_relay_request_duration_seconds_count)" $((N / 100))
ge "ack_latency_seconds_count" "$(metric "$M" clawdstrike_relay_ack_latency_seconds_count)" 1
ge "ack_polls_total" "$(metric "$M" clawdstrike_relay_ack_polls_total)" 1
wait_until 10 "pending_rows gauge 0" bash -c "[ \"\$(curl -s $M/metrics | awk '/^clawdstrike_relay_pending_rows /{print \$2}')\" = 0 ]"
check "HELP/TYPE lines (Prometheus text format)" grep -q '^# TYPE clawdstrike_relay_events_delivered_total counter' "$T/metrics-1.txt"
check "content type" bash -c "curl -s -D - -o /dev/null $M/metrics | grep -qi '^Content-Type: text/plain; version=0.0.4'"
eq "/readyz when all is well" "$(http_code "$M/readyz")" 200
eq "/healthz" "$(http_code "$M/healthz")" 200

say "token refused"
control POST tokens '{"token":"token1","state":"disabled"}' >/dev/null
gen "$T/more.jsonl" 300 --seed 30
eq "enqueued more" "$(enqueue "$T/more.jsonl")" 300
wait_until 30 "/readyz 503 while the token is refused" \
	bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' $M/readyz)\" = 503 ]"
check "/readyz says why" bash -c "curl -s $M/readyz | grep -q 'refused the token'"
eq "token_valid gauge" "$(metric "$M" clawdstrike_relay_token_valid)" 0
eq "/healthz still 200" "$(http_code "$M/healthz")" 200
ge "hec_responses_total{status=\"403\"}" "$(metric "$M" 'clawdstrike_relay_hec_responses_total{status="403"}')" 1
control POST tokens '{"token":"token1","state":"enabled"}' >/dev/null
wait_until 30 "all delivered after the token is enabled" all_delivered
wait_until 10 "/readyz 200 again" \
	bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' $M/readyz)\" = 200 ]"
eq "delivered_total" "$(metric "$M" clawdstrike_relay_events_delivered_total)" $((N + 300))

say "database unreachable"
psql -X -q -d postgres -c "ALTER DATABASE $DB ALLOW_CONNECTIONS false" || die "alter database"
psql -X -q -d postgres -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
    WHERE datname = '$DB' AND pid <> pg_backend_pid()" >/dev/null
wait_until 30 "/readyz 503 while the database is down" \
	bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' $M/readyz)\" = 503 ]"
check "/readyz says why" bash -c "curl -s $M/readyz | grep -q 'database'"
eq "database_up gauge" "$(metric "$M" clawdstrike_relay_database_up)" 0
eq "/healthz still 200" "$(http_code "$M/healthz")" 200
psql -X -q -d postgres -c "ALTER DATABASE $DB ALLOW_CONNECTIONS true" || die "alter database"
wait_until 60 "/readyz 200 after the database is back" \
	bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' $M/readyz)\" = 200 ]"
wait_until 10 "db_reconnects_total >= 1" \
	bash -c "[ \"\$(curl -s $M/metrics | awk '/^clawdstrike_relay_db_reconnects_total /{print \$2}')\" -ge 1 ]"
stop_relay r1
eq "relay exits 0" "$STOP_RC" 0
eq "nothing dead-lettered" "$(n_dead_letters)" 0
report_figures 0 "nothing lost or resent"
stop_emulator
finish
