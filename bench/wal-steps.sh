#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/wal-steps.sh: WAL written per event by each of the relay's steps
# (claim, mark_sent, mark_delivered) on a 50,000-event backlog of
# tools/gen-events.py events, measured with pg_current_wal_insert_lsn()
# around each call, right after a CHECKPOINT (so the first change of each
# page carries its full-page image, as after every checkpoint in
# production).  docs/architecture.md quotes it.
#
# Usage: bench/wal-steps.sh [RELAY_BINARY]   (default build/src/clawdstrike-relay)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RELAY=${1:-$ROOT/build/src/clawdstrike-relay}
if [ -z "${BENCH_INSIDE_PG:-}" ]; then
	export BENCH_INSIDE_PG=1 LANG=C.UTF-8 LC_ALL=C.UTF-8
	exec pg_virtualenv -t -v 15 -o shared_buffers=1GB -o max_wal_size=8GB \
		-o checkpoint_timeout=30min -- "$0" "$RELAY"
fi
W=$(mktemp -d "${TMPDIR:-/tmp}/walsteps.XXXXXX")
trap 'rm -rf "$W"' EXIT
python3 "$ROOT/tools/gen-events.py" 50000 >"$W/ev.jsonl"
createdb walsteps
PGDATABASE=walsteps "$RELAY" migrate >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d walsteps -c "CREATE TABLE l (j jsonb)" \
	-c "\\copy l(j) FROM '$W/ev.jsonl' WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')" \
	-c "SELECT clawdstrike.enqueue_many(array_agg(j)) FROM l" -c "VACUUM ANALYZE" -c CHECKPOINT >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d walsteps <<'SQL'
DO $$
DECLARE
	run constant uuid := '00000000-0000-4000-8000-000000000001';
	chan constant uuid := '00000000-0000-4000-8000-000000000002';
	l0 pg_lsn;
	b record;
	w numeric[] := '{0,0,0}';
	n bigint := 0;
BEGIN
	FOR i IN 1..40 LOOP
		l0 := pg_current_wal_insert_lsn();
		PERFORM * FROM clawdstrike.claim('walsteps', 500, 60, run, chan);
		w[1] := w[1] + (pg_current_wal_insert_lsn() - l0);
		SELECT x.id, x.outbox_ids, x.n_events INTO b FROM clawdstrike.batch x ORDER BY x.id DESC LIMIT 1;
		n := n + b.n_events;
		l0 := pg_current_wal_insert_lsn();
		PERFORM clawdstrike.mark_sent(b.id, b.outbox_ids, 'http://hec/', chan, i, 60);
		w[2] := w[2] + (pg_current_wal_insert_lsn() - l0);
		l0 := pg_current_wal_insert_lsn();
		PERFORM clawdstrike.mark_delivered(ARRAY[b.id]);
		w[3] := w[3] + (pg_current_wal_insert_lsn() - l0);
	END LOOP;
	RAISE NOTICE 'WAL bytes per event: claim % mark_sent % mark_delivered % (% events)',
		round(w[1] / n), round(w[2] / n, 1), round(w[3] / n), n;
END;
$$;
SQL
