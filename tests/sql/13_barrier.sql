-- The analyst's views show only what they say: a function of the
-- analyst's own, made cheap (COST) so the planner would run it before the
-- view's filter, sees no row the view does not show (security_barrier).
-- With sequential scans forced, a view without the barrier hands every
-- outbox event to the function, not only the dead letters.
BEGIN;
SELECT plan(6);

DELETE FROM clawdstrike.outbox;
CREATE FUNCTION pg_temp.ev(tag text) RETURNS jsonb LANGUAGE sql VOLATILE AS $$
	SELECT jsonb_build_object('event_id', gen_random_uuid(), 'tag', tag,
		'timestamp', '2024-05-01T12:00:00Z', 'event_type', 'policy_violation',
		'decision', jsonb_build_object('allowed', false, 'guard', 'g', 'severity', 'info'))
$$;
SELECT clawdstrike.enqueue(pg_temp.ev('secret-' || g)) FROM generate_series(1, 20) g;
SELECT clawdstrike.enqueue(pg_temp.ev('dead'));
UPDATE clawdstrike.outbox SET status = 'failed' WHERE event->>'tag' = 'dead';
DELETE FROM clawdstrike.outbox WHERE status = 'delivered';

CREATE TEMP TABLE seen (t text);
GRANT ALL ON seen TO PUBLIC;
CREATE FUNCTION pg_temp.leak(t text) RETURNS boolean LANGUAGE plpgsql COST 0.0000001 AS $$
BEGIN
	INSERT INTO pg_temp.seen VALUES (t);
	RETURN true;
END $$;
GRANT EXECUTE ON FUNCTION pg_temp.leak(text) TO PUBLIC;

SET ROLE clawdstrike_analyst;
SET LOCAL enable_indexscan = off;
SET LOCAL enable_bitmapscan = off;
SELECT is((SELECT count(*) FROM clawdstrike.dead_letter WHERE pg_temp.leak(event::text)),
	  1::bigint, 'the analyst sees the one dead letter');
SELECT is((SELECT count(*) FROM pg_temp.seen WHERE t LIKE '%secret-%'), 0::bigint,
	  'dead_letter: a cheap function of the analyst sees no event that is not a dead letter');
DELETE FROM pg_temp.seen;
SELECT is((SELECT count(*) FROM clawdstrike.dead_letter_by_reason WHERE pg_temp.leak(reason)),
	  1::bigint, 'dead_letter_by_reason shows one reason');
SELECT is((SELECT count(*) FROM pg_temp.seen), 1::bigint,
	  'dead_letter_by_reason: the function sees only that reason');
RESET ROLE;

SELECT is_empty($$SELECT c.relname FROM pg_class c
		   WHERE c.relnamespace = 'clawdstrike'::regnamespace AND c.relkind = 'v'
		     AND c.relname <> 'outbox'
		     AND NOT coalesce('security_barrier=true' = ANY (c.reloptions), false)$$,
		'every operator view is a security_barrier view');
SELECT ok(NOT has_table_privilege('clawdstrike_analyst', 'clawdstrike.outbox', 'SELECT'),
	  'the analyst cannot read the outbox itself');

SELECT * FROM finish();
ROLLBACK;
