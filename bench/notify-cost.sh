#!/usr/bin/env bash
# What does NOTIFY on enqueue cost the engine?  Runs clawdstrike.enqueue()
# in single-event transactions from several pgbench clients, with the
# notify trigger on and off, alternating, and prints the median rate of
# each and their ratio.  Usage (inside pg_virtualenv or with PG* set):
#   bench/notify-cost.sh RELAY_BINARY [CLIENTS] [SECONDS] [ROUNDS]
set -euo pipefail
relay=$1 clients=${2:-4} secs=${3:-10} rounds=${4:-3}
db=clawdstrike_notify_bench
dropdb --if-exists "$db" && createdb "$db"
PGDATABASE=$db "$relay" migrate >/dev/null
script=$(mktemp)
trap 'rm -f "$script"' EXIT
cat >"$script" <<'SQL'
SELECT clawdstrike.enqueue(jsonb_build_object(
  'event_id', gen_random_uuid(), 'timestamp', '2026-11-27T10:00:00.123Z',
  'event_type', 'egress_blocked', 'event_category', 'network', 'outcome', 'failure',
  'agent', jsonb_build_object('id', 'agent-7', 'name', 'claude-code'),
  'session', jsonb_build_object('id', 'sess-1', 'user_id', 'alice', 'tenant_id', 'acme', 'environment', 'prod'),
  'decision', jsonb_build_object('allowed', false, 'guard', 'egress', 'severity', 'high', 'reason', 'domain not on allow list'),
  'resource', jsonb_build_object('type', 'network', 'name', 'exfil', 'host', 'paste.example.com', 'port', 443),
  'threat', jsonb_build_object('tactic', 'exfiltration', 'technique', 'T1567'),
  'metadata', jsonb_build_object('policy', 'default', 'rule', 'egress-allowlist')));
SQL
run() {
	psql -qAt -d "$db" -c "SELECT clawdstrike.set_notify($1)" >/dev/null
	pgbench -n -c "$clients" -j "$clients" -T "$secs" -f "$script" "$db" 2>/dev/null |
		awk '/^tps/ {print int($3)}'
}
on=() off=()
for _ in $(seq "$rounds"); do
	off+=("$(run false)")
	on+=("$(run true)")
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
m_on=$(median "${on[@]}") m_off=$(median "${off[@]}")
echo "enqueue tx/s with NOTIFY:    median $m_on (runs: ${on[*]})"
echo "enqueue tx/s without NOTIFY: median $m_off (runs: ${off[*]})"
awk -v a="$m_on" -v b="$m_off" 'BEGIN {printf "ratio notify/no-notify: %.3f\n", a / b}'
dropdb "$db"
