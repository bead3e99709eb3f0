#!/usr/bin/env bash
# Does retention keep the outbox and its indexes bounded under constant
# churn?  Each round enqueues EVENTS events, drains them through the
# relay's own SQL (claim, mark_sent, mark_delivered at batch 500), lets
# them age past a short retention and purges (as the relay does every
# minute), then prints the table's rows and sizes.  Bounded means the sizes
# stop growing after the first rounds.
#
#   bench/retention.sh RELAY_BINARY [ROUNDS] [EVENTS]
# (inside pg_virtualenv, or with PG* set; bench/run calls it)
set -euo pipefail
relay=$1 rounds=${2:-12} events=${3:-50000}
db=clawdstrike_retention_bench
dropdb --if-exists "$db" && createdb "$db"
PGDATABASE=$db "$relay" migrate >/dev/null
export PGDATABASE=$db
psql -qAt -c "UPDATE clawdstrike.settings SET value = '1 second' WHERE key IN ('retention_delivered', 'retention_batches')"

enqueue() {
	psql -qAt -c "INSERT INTO clawdstrike.outbox (event)
	SELECT jsonb_build_object('event_id', gen_random_uuid(),
	  'timestamp', '2026-11-27T10:00:00.123Z', 'event_type', 'egress_blocked',
	  'agent', jsonb_build_object('id', 'agent-' || (i % 40), 'name', 'claude-code'),
	  'session', jsonb_build_object('id', 'sess-' || (i % 500), 'user_id', 'alice',
	                                'tenant_id', 'acme', 'environment', 'prod'),
	  'decision', jsonb_build_object('allowed', false, 'guard', 'egress',
	    'severity', (ARRAY['info','low','medium','high','critical'])[1 + i % 5],
	    'reason', 'domain not on the allow list: ' || repeat('x', 200)),
	  'resource', jsonb_build_object('type', 'network', 'host', 'paste.example.com', 'port', 443),
	  'metadata', jsonb_build_object('policy', 'default', 'sequence', i))
	FROM generate_series(1, $events) i" >/dev/null
}

drain() {
	psql -qAt <<'SQL' >/dev/null
DO $$
DECLARE
	b bigint;
	ids bigint[];
	run uuid := gen_random_uuid();
	chan uuid := gen_random_uuid();
BEGIN
	LOOP
		SELECT max(batch_id), array_agg(id) INTO b, ids
		  FROM clawdstrike.claim('bench', 500, 60, run, chan);
		EXIT WHEN b IS NULL;
		PERFORM clawdstrike.mark_sent(b, ids, 'http://hec', chan, b, 60);
		PERFORM clawdstrike.mark_delivered(ARRAY[b]);
		COMMIT;
	END LOOP;
END $$;
SQL
}

printf '%5s %9s %10s %10s %10s %10s\n' round rows table_MB claim_idx_kB all_idx_MB batch_MB
for r in $(seq "$rounds"); do
	enqueue
	drain
	sleep 1.2
	# What the relay does every minute: purge in chunks until done.
	while [ "$(psql -qAt -c 'SELECT outbox_rows + batch_rows FROM clawdstrike.purge(NULL, 10000)')" -gt 0 ]; do :; done
	psql -qAt -c "VACUUM clawdstrike.outbox, clawdstrike.batch" >/dev/null
	psql -qAt -F ' ' -c "SELECT (SELECT count(*) FROM clawdstrike.outbox),
	  round(pg_table_size('clawdstrike.outbox') / 1048576.0, 1),
	  round(pg_relation_size('clawdstrike.outbox_claim_idx') / 1024.0),
	  round(pg_indexes_size('clawdstrike.outbox') / 1048576.0, 1),
	  round(pg_total_relation_size('clawdstrike.batch') / 1048576.0, 1)" |
		awk -v r="$r" '{printf "%5d %9d %10s %10s %10s %10s\n", r, $1, $2, $3, $4, $5}'
done
dropdb "$db"
