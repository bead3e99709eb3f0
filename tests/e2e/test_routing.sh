#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Routing by severity: exporters.splunk.routing chooses index and
# sourcetype per event (first matching rule; empty parts fall back to the
# defaults), as seen in what HEC indexed.
. "$(dirname "$0")/lib.sh"

N=3000
setup_db
start_emulator
gen "$T/events.jsonl" "$N" --seed 31
eq "enqueued" "$(enqueue "$T/events.jsonl")" "$N"
CFG_EXTRA_SPLUNK="    routing:
      - condition: severity == 'critical'
        index: alerts
        sourcetype: clawdstrike:alert
      - condition: severity in ['high', 'medium'] and decision_allowed == false
        index: notable
      - condition: guard == 'egress' and severity == 'low'
        sourcetype: clawdstrike:egress
      - condition: default"
start_relay r1
wait_until 60 "all delivered" all_delivered || true
stop_relay r1
eq "relay exits 0" "$STOP_RC" 0
report_figures 0 "no fault: exactly once"
load_output_full
# Expected index/sourcetype from the event itself, rule by rule.
WANT="CASE
  WHEN f.j#>>'{event,decision,severity}' = 'critical' THEN 'alerts/clawdstrike:alert'
  WHEN f.j#>>'{event,decision,severity}' IN ('high','medium')
       AND (f.j#>'{event,decision,allowed}')::boolean = false THEN 'notable/clawdstrike:security'
  WHEN f.j#>>'{event,decision,guard}' = 'egress'
       AND f.j#>>'{event,decision,severity}' = 'low' THEN 'security/clawdstrike:egress'
  ELSE 'security/clawdstrike:security' END"
eq "every event routed by its rule" "$(sql "SELECT count(*) FROM public.e2e_full f
    WHERE f.j->>'index' || '/' || (f.j->>'sourcetype') IS DISTINCT FROM $WANT")" 0
say "routes: $(sql "SELECT string_agg(r || '=' || n, ' ' ORDER BY r) FROM
    (SELECT f.j->>'index' || '/' || (f.j->>'sourcetype') r, count(*) n
       FROM public.e2e_full f GROUP BY 1) x")"
eq "all four routes used" "$(sql "SELECT count(DISTINCT (f.j->>'index', f.j->>'sourcetype')) FROM public.e2e_full f")" 4
stop_emulator
finish
