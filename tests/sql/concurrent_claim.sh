#!/usr/bin/env bash
# Two real connections claim from one backlog at the same time, each claim
# in its own short transaction, until the backlog is empty.  No row may be
# claimed twice: every row lands in exactly one batch, all rows are claimed,
# and both claimers got some.
#
# Usage: concurrent_claim.sh DBNAME   (server from the PG* environment)
# Rows are tagged with a per-run marker in the event and the claimers' relay
# names; both are deleted at exit.
set -euo pipefail
db=${1:?usage: concurrent_claim.sh DBNAME}
rows=${CONCURRENT_CLAIM_ROWS:-20000}
batch=${CONCURRENT_CLAIM_BATCH:-10}
run="ccl-$$-$RANDOM"
work=$(mktemp -d)
passed=0 failed=0

q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" -c "$1"; }
check() { # description, actual, expected
	if [[ "$2" == "$3" ]]; then
		passed=$((passed + 1)); echo "ok - $1"
	else
		failed=$((failed + 1)); echo "not ok - $1 (got '$2', want '$3')"
	fi
}
cleanup() {
	q "DELETE FROM clawdstrike.outbox WHERE event->>'ccl_run' = '$run';
	   DELETE FROM clawdstrike.batch WHERE relay_instance LIKE '$run-%';" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

# Claim takes any pending row: refuse to run against a database with a backlog
# that is not ours.
others=$(q "SELECT count(*) FROM clawdstrike.outbox WHERE status = 'pending'")
if [[ "$others" != 0 ]]; then
	echo "database $db already has $others pending rows; refusing to claim them" >&2
	echo "0 passed, 1 failed"
	exit 1
fi

q "INSERT INTO clawdstrike.outbox (event)
   SELECT jsonb_build_object('event_id', gen_random_uuid(),
	'timestamp', '2024-05-01T12:00:00Z', 'event_type', 'concurrency_test',
	'decision', jsonb_build_object('allowed', true, 'guard', 'g',
		'severity', (ARRAY['info', 'high', 'critical'])[1 + i % 3]),
	'ccl_run', '$run')
     FROM generate_series(1, $rows) i"
check "backlog of $rows pending rows" \
	"$(q "SELECT count(*) FROM clawdstrike.outbox WHERE event->>'ccl_run' = '$run' AND status = 'pending'")" "$rows"

# Both claimers start at the same instant and loop: claim, commit, repeat.
# Each is a process run (its token) claiming on an ack channel of its own,
# as src/store.c calls claim.
start=$(q "SELECT now() + interval '1.5 seconds'")
claimer() {
	psql -X -q -v ON_ERROR_STOP=1 -d "$db" <<-SQL
	DO \$\$
	DECLARE
		run uuid := md5('$run-run-$1')::uuid;
		chan uuid := md5('$run-channel-$1')::uuid;
		n integer;
		total integer := 0;
		claims integer := 0;
	BEGIN
		PERFORM pg_sleep_until('$start'::timestamptz);
		COMMIT;
		LOOP
			SELECT count(*) INTO n FROM clawdstrike.claim('$run-$1', $batch, 600, run, chan);
			COMMIT;
			EXIT WHEN n = 0;
			total := total + n;
			claims := claims + 1;
		END LOOP;
		RAISE NOTICE 'claimer % claimed % rows in % batches', '$1', total, claims;
	END
	\$\$;
	SQL
}
claimer 1 >"$work/1.out" 2>&1 &
p1=$!
claimer 2 >"$work/2.out" 2>&1 &
p2=$!
rc1=0 rc2=0
wait "$p1" || rc1=$?
wait "$p2" || rc2=$?
cat "$work/1.out" "$work/2.out"
check "claimer 1 exited cleanly" "$rc1" 0
check "claimer 2 exited cleanly" "$rc2" 0

mine="event->>'ccl_run' = '$run'"
batches="relay_instance LIKE '$run-%'"
check "every row was claimed (none left pending)" \
	"$(q "SELECT count(*) FROM clawdstrike.outbox WHERE $mine AND status = 'pending'")" 0
check "total claimed = $rows" \
	"$(q "SELECT count(*) FROM clawdstrike.outbox WHERE $mine AND status = 'sending'")" "$rows"
check "batches hold $rows row ids in all" \
	"$(q "SELECT coalesce(sum(n_events), 0) FROM clawdstrike.batch WHERE $batches")" "$rows"
check "no row id appears in two batches" \
	"$(q "SELECT count(*) FROM (SELECT x FROM clawdstrike.batch b, unnest(b.outbox_ids) x
	      WHERE $batches GROUP BY x HAVING count(*) > 1) d")" 0
check "every outbox row is in exactly one batch, the one it points to" \
	"$(q "SELECT count(*) FROM clawdstrike.outbox o
	      WHERE $mine AND (SELECT count(*) FROM clawdstrike.batch b
			       WHERE $batches AND o.id = ANY (b.outbox_ids) AND b.id = o.batch_id) = 1")" "$rows"
check "every row was claimed exactly once (attempts = 1)" \
	"$(q "SELECT count(*) FROM clawdstrike.outbox WHERE $mine AND attempts <> 1")" 0
check "batches never exceed the claim size" \
	"$(q "SELECT count(*) FROM clawdstrike.batch WHERE $batches AND (n_events > $batch OR n_events <> cardinality(outbox_ids))")" 0
check "every batch carries its claimer's run and channel" \
	"$(q "SELECT count(*) FROM clawdstrike.batch WHERE $batches
	      AND (owner IS DISTINCT FROM md5('$run-run-' || right(relay_instance, 1))::uuid
		   OR channel IS DISTINCT FROM md5('$run-channel-' || right(relay_instance, 1))::uuid)")" 0
for c in 1 2; do
	n=$(q "SELECT coalesce(sum(n_events), 0) FROM clawdstrike.batch WHERE relay_instance = '$run-$c'")
	if [[ "$n" -gt 0 ]]; then
		passed=$((passed + 1)); echo "ok - claimer $c got some rows ($n)"
	else
		failed=$((failed + 1)); echo "not ok - claimer $c got no rows"
	fi
done

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
