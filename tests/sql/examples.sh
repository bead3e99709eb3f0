#!/usr/bin/env bash
# Run every operator query in sql/examples/ (new files are picked up
# automatically) against the test database, as clawdstrike_operator, with
# some data present, each in its own transaction that is rolled back.  A file
# fails if psql reports any error or warning, prints nothing, or lacks the
# comment header saying what it answers.
#
# Usage: examples.sh DBNAME   (server from the PG* environment)
set -euo pipefail
db=${1:?usage: examples.sh DBNAME}
dir=$(cd "$(dirname "$0")/../../sql/examples" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0

# Data for the queries to find: pending (critical among them), in flight on
# two relays, delivered (acked, no_ack, prefix commit) with latencies, dead
# letters for several reasons, a risked-duplicate batch, a replay.
cat >"$work/fixture.sql" <<'SQL'
CREATE FUNCTION pg_temp.ev(guard text, sev text) RETURNS jsonb LANGUAGE sql VOLATILE AS $$
	SELECT jsonb_build_object('event_id', gen_random_uuid(),
		'timestamp', '2024-05-01T12:00:00Z', 'event_type', 'policy_violation',
		'decision', jsonb_build_object('allowed', false, 'guard', guard, 'severity', sev))
$$;
CREATE FUNCTION pg_temp.fixture() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	b bigint;
	ids bigint[];
BEGIN
	-- delivered: acked, no_ack and a prefix commit
	PERFORM clawdstrike.enqueue(pg_temp.ev('ForbiddenPathGuard', s))
	   FROM unnest(ARRAY['info', 'low', 'high', 'critical', 'medium', 'info']) s;
	SELECT min(batch_id), array_agg(id) INTO b, ids FROM clawdstrike.claim('relay-1', 3, 60);
	PERFORM clawdstrike.mark_sent(b, ids, 'https://hec-1:8088', gen_random_uuid(), 1, 60);
	PERFORM clawdstrike.mark_delivered(ARRAY[b]);
	SELECT min(batch_id) INTO b FROM clawdstrike.claim('relay-2', 3, 60);
	SELECT array_agg(id ORDER BY id) INTO ids FROM clawdstrike.outbox WHERE batch_id = b;
	PERFORM clawdstrike.mark_rows_delivered(b, ids[1:1]);
	PERFORM clawdstrike.fail_rows(b, ids[2:2], 'HEC rejected event 1: Invalid data format',
				      400, 6, 'Invalid data format');
	PERFORM clawdstrike.release(b, 'rejected', 'resent after a rejected event');
	SELECT min(batch_id), array_agg(id) INTO b, ids FROM clawdstrike.claim('relay-2', 1, 60);
	PERFORM clawdstrike.mark_rows_delivered(b, ids, 'no_ack');
	UPDATE clawdstrike.outbox SET enqueued_at = delivered_at - interval '1.5 seconds'
	 WHERE status = 'delivered';
	-- more dead letters
	PERFORM clawdstrike.enqueue(pg_temp.ev('EgressGuard', 'critical')) FROM generate_series(1, 2);
	SELECT min(batch_id) INTO b FROM clawdstrike.claim('relay-1', 2, 60);
	SELECT array_agg(id ORDER BY id) INTO ids FROM clawdstrike.outbox WHERE batch_id = b;
	PERFORM clawdstrike.fail_rows(b, ids[1:1], 'event too large for HEC', 413);
	PERFORM clawdstrike.fail_rows(b, ids[2:2], 'HEC rejected event 0: Invalid data format',
				      400, 6, 'Invalid data format');
	PERFORM clawdstrike.release(b, 'rejected', 'done');
	-- an ack timeout: risked duplicates, rows pending again
	PERFORM clawdstrike.enqueue(pg_temp.ev('SecretLeakGuard', 'high')) FROM generate_series(1, 3);
	SELECT min(batch_id), array_agg(id) INTO b, ids FROM clawdstrike.claim('relay-1', 3, 60);
	PERFORM clawdstrike.mark_sent(b, ids, 'https://hec-2:8088', gen_random_uuid(), 7, 60);
	PERFORM clawdstrike.release(b, 'ack_timeout', 'no ack within 300 s', true);
	-- in flight on two relays
	SELECT min(batch_id), array_agg(id) INTO b, ids FROM clawdstrike.claim('relay-1', 2, 60);
	PERFORM clawdstrike.mark_sent(b, ids, 'https://hec-1:8088', gen_random_uuid(), 9, 60);
	PERFORM clawdstrike.claim('relay-2', 1, 60);
	-- pending backlog of several ages
	PERFORM clawdstrike.enqueue(pg_temp.ev('ForbiddenPathGuard', s))
	   FROM unnest(ARRAY['critical', 'high', 'info', 'info', 'low']) s;
	UPDATE clawdstrike.outbox SET enqueued_at = now() - (id % 4) * interval '20 minutes'
	 WHERE status = 'pending';
	-- one replay
	UPDATE clawdstrike.outbox SET status = 'pending'
	 WHERE id = (SELECT max(id) FROM clawdstrike.outbox WHERE status = 'delivered');
END;
$$;
SELECT pg_temp.fixture();
SQL

shopt -s nullglob
files=("$dir"/*.sql)
if [[ ${#files[@]} -eq 0 ]]; then
	echo "no examples found in $dir"
	echo "0 passed, 1 failed"
	exit 1
fi

for f in "${files[@]}"; do
	name=${f#"$dir"/}
	if ! head -n 1 "$f" | grep -q '^-- .'; then
		failed=$((failed + 1)); echo "not ok - $name: no comment header saying what it answers"
		continue
	fi
	if grep -Eiq '^[[:space:]]*(BEGIN|COMMIT|ROLLBACK|START TRANSACTION)\b' "$f"; then
		failed=$((failed + 1)); echo "not ok - $name: examples must not control transactions"
		continue
	fi
	rc=0
	{
		echo 'BEGIN;'
		cat "$work/fixture.sql"
		echo 'SET ROLE clawdstrike_operator;'
		echo "\\i $f"
		echo 'ROLLBACK;'
	} | PGOPTIONS='--client-min-messages=warning' \
		psql -X -v ON_ERROR_STOP=1 -d "$db" >"$work/out" 2>"$work/err" || rc=$?
	if [[ $rc -ne 0 ]] || grep -Eq 'ERROR|WARNING' "$work/err"; then
		failed=$((failed + 1)); echo "not ok - $name (psql exit $rc)"
		sed 's/^/#   /' "$work/err"
	elif ! grep -q '([0-9]* rows\?)\|^UPDATE [0-9]' "$work/out"; then
		failed=$((failed + 1)); echo "not ok - $name: printed no result"
	else
		passed=$((passed + 1)); echo "ok - $name"
	fi
done

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
