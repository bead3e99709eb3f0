#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/tombstone.sh: what the event_id tombstones (migration 0003) cost.
#
#   1. enqueue  single-row clawdstrike.enqueue() in one-event transactions
#               (pgbench, CLIENTS clients, SECONDS s a run) against an empty
#               tombstone table and against one holding TOMBSTONES (1M: the
#               30-day horizon of a site enqueueing 0.4 events/s on
#               average), alternating; with BENCH_BASE_RELAY set, also
#               against a database migrated by that binary (a build from
#               before the tombstones: no check at all)
#   2. purge    rows/s of purge(NULL, 10000) called until done over
#               PURGE_ROWS delivered rows past retention, with TOMBSTONES
#               tombstones already there, against the same DELETE without
#               the tombstone insert (the purge of migration 0001)
#   3. expiry   rows/s of purge() deleting PURGE_ROWS expired tombstones
# Every figure is the median of ROUNDS runs (min and max beside it), and
# ratios of the medians.  Sizes of the tombstone table are printed too.
#
# Usage: bench/tombstone.sh [RELAY_BINARY] [CLIENTS] [SECONDS] [ROUNDS]
#        (environment: TOMBSTONES=1000000 PURGE_ROWS=100000 BENCH_BASE_RELAY=)
# Starts its own throwaway PostgreSQL 15 with pg_virtualenv (the server
# settings of bench/run) unless run inside one.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PG_SETTINGS=(shared_buffers=1GB autovacuum_naptime=10s max_wal_size=8GB
	checkpoint_timeout=30min)

if [ -z "${BENCH_INSIDE_PG:-}" ]; then
	for t in pg_virtualenv pgbench psql; do
		command -v "$t" >/dev/null ||
			{ echo "bench/tombstone.sh: $t is missing (run scripts/setup)" >&2; exit 2; }
	done
	opts=()
	for s in "${PG_SETTINGS[@]}"; do opts+=(-o "$s"); done
	export BENCH_INSIDE_PG=1
	# A UTF-8 cluster whatever this machine's locale (scripts/test).
	export LANG=C.UTF-8 LC_ALL=C.UTF-8
	exec pg_virtualenv -t -v 15 "${opts[@]}" -- "$0" "$@"
fi

relay=${1:-$ROOT/build/src/clawdstrike-relay}
clients=${2:-4} secs=${3:-20} rounds=${4:-3}
TOMBSTONES=${TOMBSTONES:-1000000} PURGE_ROWS=${PURGE_ROWS:-100000}
base=${BENCH_BASE_RELAY:-}
W=$(mktemp -d "${TMPDIR:-/tmp}/tombstone-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT
export PGOPTIONS="-c client_min_messages=warning"

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
sql() { psql -X -A -t -q -v ON_ERROR_STOP=1 "$@"; }
now_s() { date +%s.%N; }
# stats V...: "min median max"; show LABEL UNIT V...: one result line.
stats() {
	printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1}
		END {m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
		     printf "%s %s %s\n", a[1], m, a[NR]}'
}
median() { stats "$@" | awk '{print $2}'; }
show() {
	local label=$1 unit=$2
	shift 2
	stats "$@" | awk -v l="$label" -v u="$unit" -v runs="$*" \
		'{printf "  %-34s median %10.0f  (min %.0f, max %.0f) %s  runs: %s\n", l, $2, $1, $3, u, runs}'
}
ratio() { awk -v a="$2" -v b="$3" -v l="$1" 'BEGIN {printf "  %-34s %.3f\n", l, a / b}'; }
fresh_db() { # NAME [TEMPLATE]
	sql -d postgres -c "DROP DATABASE IF EXISTS $1"
	sql -d postgres -c "CREATE DATABASE $1${2:+ TEMPLATE $2 STRATEGY FILE_COPY}"
}

# One ~1 KB event like the engine's (bench/notify-cost.sh's), fresh event_id.
EVENT="jsonb_build_object(
  'event_id', gen_random_uuid(), 'timestamp', '2026-11-27T10:00:00.123Z',
  'event_type', 'egress_blocked', 'event_category', 'network', 'outcome', 'failure',
  'agent', jsonb_build_object('id', 'agent-7', 'name', 'claude-code'),
  'session', jsonb_build_object('id', 'sess-1', 'user_id', 'alice', 'tenant_id', 'acme', 'environment', 'prod'),
  'decision', jsonb_build_object('allowed', false, 'guard', 'egress', 'severity', 'high',
    'reason', 'domain not on allow list: ' || repeat('x', 600)),
  'resource', jsonb_build_object('type', 'network', 'name', 'exfil', 'host', 'paste.example.com', 'port', 443),
  'threat', jsonb_build_object('tactic', 'exfiltration', 'technique', 'T1567'),
  'metadata', jsonb_build_object('policy', 'default', 'rule', 'egress-allowlist'))"
echo "SELECT clawdstrike.enqueue($EVENT);" >"$W/enqueue1.sql"

# TOMBSTONES tombstones delivered over the last 29 days, oldest first (the
# order purge writes them in), vacuumed as autovacuum would.
fill_tombstones() { # DB
	sql -d "$1" -c "INSERT INTO clawdstrike.event_tombstone (event_id, delivered_at)
		SELECT gen_random_uuid(), now() - interval '29 days' * (1 - g::float8 / $TOMBSTONES)
		  FROM generate_series(1, $TOMBSTONES) g" -c "VACUUM ANALYZE clawdstrike.event_tombstone"
}

# ------------------------------------------------------------ 1. enqueue

log "schema: $relay${base:+ (and $base)}; $TOMBSTONES tombstones"
fresh_db tb_empty
PGDATABASE=tb_empty "$relay" migrate >/dev/null
fresh_db tb_full tb_empty
t0=$(now_s)
fill_tombstones tb_full
log "filled $TOMBSTONES tombstones in $(awk -v a="$t0" -v b="$(now_s)" 'BEGIN {printf "%.1f", b - a}') s"
size=$(sql -d tb_full -c "SELECT round(pg_table_size('clawdstrike.event_tombstone') / 1048576.0, 1) || ' MB table, '
	|| round(pg_indexes_size('clawdstrike.event_tombstone') / 1048576.0, 1) || ' MB indexes'")
if [ -n "$base" ]; then
	fresh_db tb_base
	PGDATABASE=tb_base "$base" migrate >/dev/null
fi

enqueue_run() { # DB -> events/s
	sql -d "$1" -c CHECKPOINT
	pgbench -n -M extended -c "$clients" -j "$clients" -T "$secs" -f "$W/enqueue1.sql" "$1" 2>&1 |
		awk '/^tps/ {printf "%.0f\n", $3}'
}
log "1. enqueue: $rounds rounds x ${secs} s, $clients clients, alternating"
e_empty=() e_full=() e_base=()
for _ in $(seq "$rounds"); do
	e_empty+=("$(enqueue_run tb_empty)")
	e_full+=("$(enqueue_run tb_full)")
	[ -z "$base" ] || e_base+=("$(enqueue_run tb_base)")
done
# the check must have found nothing to skip
skipped=$(sql -d tb_full -c "SELECT count(*) FROM clawdstrike.outbox o JOIN clawdstrike.event_tombstone t USING (event_id)")
[ "$skipped" = 0 ] || { echo "bench/tombstone.sh: $skipped rows share an event_id with a tombstone" >&2; exit 1; }

# ------------------------------------------------------------ 2. purge

# tb_purge: tb_full plus PURGE_ROWS delivered rows 8 days old, written
# straight into the outbox's tables (migration 0005) with the columns the
# relay would set.
fresh_db tb_purge tb_full
sql -d tb_purge -c "TRUNCATE clawdstrike.outbox_state, clawdstrike.outbox_event" \
	-c "WITH e AS (INSERT INTO clawdstrike.outbox_event (event_id, event)
		SELECT (e->>'event_id')::uuid, e::json
		  FROM (SELECT g, $EVENT AS e FROM generate_series(1, $PURGE_ROWS) g) x
		RETURNING id)
	    INSERT INTO clawdstrike.outbox_state (id, status, priority, batch_id, delivered_at,
						  delivery, enqueued_at)
	    SELECT e.id, 'delivered', 1, 1, now() - interval '8 days' + e.id * interval '1 ms',
		   'acked', now() - interval '8 days' FROM e" \
	-c "VACUUM ANALYZE"

purge_run() { # with|without -> rows/s
	local t0 t1 n=0 total=0
	fresh_db tb_p tb_purge
	sql -d tb_p -c CHECKPOINT
	t0=$(now_s)
	while :; do
		if [ "$1" = with ]; then
			n=$(sql -d tb_p -c "SELECT outbox_rows FROM clawdstrike.purge(NULL, 10000)")
		else
			# purge() without its tombstones: the same deletes
			n=$(sql -d tb_p -c "WITH l AS (SELECT y.id FROM clawdstrike.outbox_state y
						 WHERE y.status = 'delivered'
						   AND y.delivered_at < now() - interval '7 days'
						 ORDER BY y.delivered_at LIMIT 10000),
				s AS (DELETE FROM clawdstrike.outbox_state o USING l WHERE o.id = l.id
				      RETURNING o.id),
				d AS (DELETE FROM clawdstrike.outbox_event e USING s WHERE e.id = s.id
				      RETURNING 1)
				SELECT count(*) FROM d")
		fi
		[ "$n" -gt 0 ] || break
		total=$((total + n))
	done
	t1=$(now_s)
	[ "$total" = "$PURGE_ROWS" ] || { echo "bench/tombstone.sh: purged $total of $PURGE_ROWS" >&2; exit 1; }
	awk -v n="$total" -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f\n", n / (b - a)}'
}
expiry_run() { # -> rows/s of tombstones deleted
	local t0 t1 n total=0
	fresh_db tb_p tb_full
	sql -d tb_p -c "UPDATE clawdstrike.event_tombstone SET delivered_at = delivered_at - interval '60 days'
		WHERE event_id IN (SELECT event_id FROM clawdstrike.event_tombstone
				    ORDER BY delivered_at LIMIT $PURGE_ROWS)" \
		-c "VACUUM ANALYZE clawdstrike.event_tombstone" -c CHECKPOINT
	t0=$(now_s)
	while n=$(sql -d tb_p -c "SELECT tombstone_rows FROM clawdstrike.purge(NULL, 10000)") && [ "$n" -gt 0 ]; do
		total=$((total + n))
	done
	t1=$(now_s)
	[ "$total" = "$PURGE_ROWS" ] || { echo "bench/tombstone.sh: expired $total of $PURGE_ROWS" >&2; exit 1; }
	awk -v n="$total" -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f\n", n / (b - a)}'
}
log "2. purge of $PURGE_ROWS delivered rows (chunks of 10,000) with and without tombstones; 3. tombstone expiry"
p_with=() p_without=() p_expiry=()
for _ in $(seq "$rounds"); do
	p_without+=("$(purge_run without)")
	p_with+=("$(purge_run with)")
	p_expiry+=("$(expiry_run)")
done

# ------------------------------------------------------------ results

echo "bench/tombstone.sh: PostgreSQL $(sql -d postgres -c 'SHOW server_version'), $(nproc) CPUs," \
	"${PG_SETTINGS[*]}; $rounds rounds"
echo "tombstone table with $TOMBSTONES rows: $size"
echo "1. single-row enqueue() ($clients clients, ${secs} s runs)"
[ -z "$base" ] || show "no tombstone check (base build)" "events/s" "${e_base[@]}"
show "empty tombstone table" "events/s" "${e_empty[@]}"
show "$TOMBSTONES tombstones" "events/s" "${e_full[@]}"
ratio "ratio full/empty" "$(median "${e_full[@]}")" "$(median "${e_empty[@]}")"
[ -z "$base" ] || ratio "ratio empty/base" "$(median "${e_empty[@]}")" "$(median "${e_base[@]}")"
[ -z "$base" ] || ratio "ratio full/base" "$(median "${e_full[@]}")" "$(median "${e_base[@]}")"
echo "2. purge of $PURGE_ROWS delivered rows, purge(NULL, 10000) until done"
show "without tombstone insert" "rows/s" "${p_without[@]}"
show "with tombstone insert" "rows/s" "${p_with[@]}"
ratio "ratio with/without" "$(median "${p_with[@]}")" "$(median "${p_without[@]}")"
echo "3. tombstone expiry"
show "expired tombstones deleted" "rows/s" "${p_expiry[@]}"
for d in tb_empty tb_full tb_base tb_purge tb_p; do sql -d postgres -c "DROP DATABASE IF EXISTS $d"; done
