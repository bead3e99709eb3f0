#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Happy path: N events arrive exactly once with the right envelope
# (SPEC §5) and every row ends `delivered` with delivery = 'acked'.
. "$(dirname "$0")/lib.sh"

N=${E2E_N:-20000}
setup_db
start_emulator
gen "$T/events.jsonl" "$N" --seed 11
eq "enqueued" "$(enqueue "$T/events.jsonl")" "$N"
CFG_BATCH_SIZE=500
start_relay r1
say "relay started"
wait_until 120 "all $N delivered" all_delivered
say "all delivered: $(status_counts)"
eq "statuses" "$(status_counts)" "pending=0 sending=0 sent=0 delivered=$N failed=0"
eq "every row acked" "$(sql "SELECT count(*) FROM clawdstrike.outbox
    WHERE delivery = 'acked' AND delivered_at IS NOT NULL
      AND sent_at IS NOT NULL AND batch_id IS NOT NULL")" "$N"
eq "every batch closed as acked with its ack id" "$(sql "SELECT count(*) FROM clawdstrike.batch
    WHERE NOT (state = 'closed' AND outcome = 'acked' AND ack_id IS NOT NULL
               AND channel IS NOT NULL AND acked_at IS NOT NULL)")" 0
stop_relay r1
eq "relay exits 0 on SIGTERM" "$STOP_RC" 0

report_figures 0 "nothing failed, so every event exactly once"
eq "indexed lines" "$OUT_LINES" "$N"

# The envelope, line by line.
load_output_full
envelope_bad() { # PREDICATE over public.e2e_full f: count of lines failing it
	sql "SELECT count(*) FROM public.e2e_full f WHERE NOT coalesce(($1), false)"
}
eq "host/source/sourcetype/index" "$(envelope_bad "
    f.j->>'host' = 'e2e-host' AND f.j->>'source' = 'clawdstrike'
    AND f.j->>'sourcetype' = 'clawdstrike:security' AND f.j->>'index' = 'security'")" 0
eq "time = event timestamp (epoch s, ms precision)" "$(envelope_bad "
    abs((f.j->>'time')::numeric - round(extract(epoch FROM (f.j->'event'->>'timestamp')::timestamptz), 3)) < 0.0005
    AND (f.j->>'time')::numeric * 1000 = trunc((f.j->>'time')::numeric * 1000)")" 0
eq "event is the enqueued event, unchanged" "$(sql "SELECT count(*) FROM clawdstrike.outbox o
    JOIN public.e2e_full f ON (f.j->'event'->>'event_id')::uuid = o.event_id
    WHERE f.j->'event' IS DISTINCT FROM o.event")" 0
eq "the HEC channel/ack id recorded by the emulator match the batch" "$(sql "SELECT count(*)
    FROM clawdstrike.outbox o
    JOIN public.e2e_full f ON (f.j->'event'->>'event_id')::uuid = o.event_id
    JOIN clawdstrike.batch b ON b.id = o.batch_id
    WHERE (f.j->>'channel')::uuid IS DISTINCT FROM b.channel
       OR (f.j->>'ack_id')::bigint IS DISTINCT FROM b.ack_id")" 0
# Indexed fields: the default list, each with the event's value, and no
# name that Splunk would also extract from the event JSON.
eq "indexed fields = default list with the event's values" "$(envelope_bad "
    f.j->'fields' = jsonb_strip_nulls(jsonb_build_object(
      'agent_id', f.j#>>'{event,agent,id}',
      'session_id', f.j#>>'{event,session,id}',
      'user', f.j#>>'{event,session,user_id}',
      'tenant_id', f.j#>>'{event,session,tenant_id}',
      'environment', f.j#>>'{event,session,environment}',
      'decision_allowed', f.j#>>'{event,decision,allowed}',
      'guard', f.j#>>'{event,decision,guard}',
      'severity', f.j#>>'{event,decision,severity}',
      'resource_type', f.j#>>'{event,resource,type}',
      'resource_name', f.j#>>'{event,resource,name}',
      'resource_path', f.j#>>'{event,resource,path}',
      'dest_host', f.j#>>'{event,resource,host}',
      'dest_port', f.j#>>'{event,resource,port}',
      'mitre_tactic', f.j#>>'{event,threat,tactic}',
      'mitre_technique', f.j#>>'{event,threat,technique}'))")" 0
eq "no field both indexed and a top-level event key" "$(envelope_bad "
    NOT EXISTS (SELECT 1 FROM jsonb_object_keys(f.j->'fields') k
                WHERE f.j->'event' ? k)")" 0
# jsonb forgets key order: read the lines themselves for it.
eq "metadata is the event's last key" "$(jq -r '.event | keys_unsorted | last' "$OUT" | sort | uniq -c | awk '{print $2"="$1}')" "metadata=$N"
say "sample line: $(head -c 600 "$OUT")"

stop_emulator
finish
