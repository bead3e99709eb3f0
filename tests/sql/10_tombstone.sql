-- Idempotency outlives retention: purge() leaves an event_id tombstone for
-- every delivered row it deletes, and enqueueing a tombstoned event_id is a
-- no-op (enqueue() returns NULL, a plain INSERT inserts nothing) for every
-- role that may enqueue, until the tombstone itself ages out
-- (retention_tombstones, never shorter than retention_batches, counted from
-- delivery); tombstones are purged in bounded chunks like the other kinds.
BEGIN;
SELECT plan(55);

DELETE FROM clawdstrike.outbox;
DELETE FROM clawdstrike.batch;

CREATE FUNCTION pg_temp.ev(eid uuid, sev text DEFAULT 'info') RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
	SELECT jsonb_build_object('event_id', eid,
		'timestamp', '2024-05-01T12:00:00Z', 'event_type', 'policy_violation',
		'decision', jsonb_build_object('allowed', false, 'guard', 'g', 'severity', sev))
$$;
-- Fixed event_ids: 'a' -> 00000000-0000-4000-8000-00000000000a.
CREATE FUNCTION pg_temp.u(k text) RETURNS uuid LANGUAGE sql IMMUTABLE AS $$
	SELECT ('00000000-0000-4000-8000-' || lpad(k, 12, '0'))::uuid $$;
-- Enqueue, claim, send and deliver the events through the relay's own
-- functions, delivered `age` ago.  They are critical, so the claim takes
-- them ahead of the test's other pending (info) rows.  mark_sent and
-- mark_delivered are called by whichever signatures are installed: this file
-- tests retention, not the transitions (04_transitions.sql does).
CREATE FUNCTION pg_temp.deliver(keys text[], age interval) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	bid bigint;
	ids bigint[];
BEGIN
	PERFORM clawdstrike.enqueue(pg_temp.ev(pg_temp.u(k), 'critical')) FROM unnest(keys) k;
	SELECT min(c.batch_id), array_agg(c.id) INTO bid, ids
	  FROM clawdstrike.claim('relay-t', cardinality(keys), 60) c;
	IF to_regprocedure('clawdstrike.mark_sent(bigint, bigint[], text, uuid, bigint, integer)') IS NOT NULL THEN
		EXECUTE 'SELECT clawdstrike.mark_sent($1, $2, ''https://hec:8088'', NULL, 1, 60)' USING bid, ids;
	ELSE
		EXECUTE 'SELECT clawdstrike.mark_sent($1, ''https://hec:8088'', NULL, 1, 60)' USING bid;
	END IF;
	PERFORM clawdstrike.mark_delivered(ARRAY[bid]);
	UPDATE clawdstrike.outbox SET delivered_at = now() - age WHERE batch_id = bid;
END;
$$;
CREATE FUNCTION pg_temp.rows(k text) RETURNS bigint LANGUAGE sql STABLE AS $$
	SELECT count(*) FROM clawdstrike.outbox WHERE event_id = pg_temp.u(k) $$;

-- Delivered, purged: the event_id stays known -------------------------------------------
SELECT pg_temp.deliver(ARRAY['a', 'b', 'c', 'd', 'e'], '8 days');
SELECT is((SELECT outbox_rows FROM clawdstrike.purge()), 5::bigint,
	  'purge() deletes the five delivered rows older than retention_delivered');
SELECT is(pg_temp.rows('a') + pg_temp.rows('b') + pg_temp.rows('c') + pg_temp.rows('d') + pg_temp.rows('e'),
	  0::bigint, 'their outbox rows are gone');

SELECT is(clawdstrike.enqueue(pg_temp.ev(pg_temp.u('a'))), NULL::bigint,
	  'enqueue() of a delivered and purged event returns NULL');
SELECT is(pg_temp.rows('a'), 0::bigint, 'and writes no row');
SELECT lives_ok($$INSERT INTO clawdstrike.outbox (event) VALUES (pg_temp.ev(pg_temp.u('b')))$$,
		'a plain INSERT of a delivered and purged event is not an error');
SELECT is(pg_temp.rows('b'), 0::bigint, 'and inserts nothing');
-- the bulk loader's statement (src/cmd_enqueue.c) counts what it inserted
SELECT results_eq($$WITH ins AS (INSERT INTO clawdstrike.outbox (event)
			SELECT pg_temp.ev(pg_temp.u(k)) FROM unnest(ARRAY['a', 'b', 'f']) k
			RETURNING 1)
		   SELECT count(*) FROM ins$$, ARRAY[1::bigint],
		  'INSERT ... RETURNING counts only the new event, not the purged ones');
SELECT is(pg_temp.rows('a') || '/' || pg_temp.rows('b') || '/' || pg_temp.rows('f'), '0/0/1',
	  'the new event is pending, the purged ones are not back');
-- the bulk loader's call (src/cmd_enqueue.c): one call per chunk
SELECT is(clawdstrike.enqueue_many(ARRAY[pg_temp.ev(pg_temp.u('a')), pg_temp.ev(pg_temp.u('e1')),
					 pg_temp.ev(pg_temp.u('e1')), pg_temp.ev(pg_temp.u('f'))]),
	  1::bigint,
	  'enqueue_many adds the new event once: not a purged one, not a repeat in the call, not a live one');
SELECT is(pg_temp.rows('a') || '/' || pg_temp.rows('e1') || '/' || pg_temp.rows('f'), '0/1/1',
	  'one row for the new event, the live one untouched, the purged one not back');
SELECT throws_ok($$SELECT clawdstrike.enqueue_many(ARRAY[pg_temp.ev(pg_temp.u('e2')),
			pg_temp.ev(pg_temp.u('e3')) - 'event_type'])$$, '22023', NULL,
		 'enqueue_many with one bad event raises and adds nothing');
SELECT is(pg_temp.rows('e2'), 0::bigint, 'not even the good events of that call');
SELECT throws_ok($$SELECT clawdstrike.enqueue(pg_temp.ev(pg_temp.u('a')) - 'timestamp')$$, '22023', NULL,
		 'a bad event is still rejected, tombstone or not');
SELECT is(clawdstrike.enqueue(pg_temp.ev(pg_temp.u('f'))),
	  (SELECT id FROM clawdstrike.outbox WHERE event_id = pg_temp.u('f')),
	  'enqueue() of a live row still returns its id');

-- A delivered row not purged yet answers with its own id, as before.
SELECT pg_temp.deliver(ARRAY['c0'], '1 day');
SELECT is(clawdstrike.enqueue(pg_temp.ev(pg_temp.u('c0'))),
	  (SELECT id FROM clawdstrike.outbox WHERE event_id = pg_temp.u('c0')),
	  'enqueue() of a delivered row still in the outbox returns its id');
SELECT results_eq($$WITH i AS (INSERT INTO clawdstrike.outbox (event)
			VALUES (pg_temp.ev(pg_temp.u('c0'))) RETURNING 1) SELECT count(*) FROM i$$,
		  ARRAY[0::bigint], 'a plain INSERT of a live row inserts nothing');

-- Every role that may enqueue ----------------------------------------------------------
SET ROLE clawdstrike_engine;
SELECT is(clawdstrike.enqueue(pg_temp.ev(pg_temp.u('c'))), NULL::bigint,
	  'engine: enqueue() of a purged event returns NULL');
SELECT isnt(clawdstrike.enqueue(pg_temp.ev(pg_temp.u('e1'))), NULL::bigint,
	    'engine: enqueue() of a new event returns its id');
SELECT throws_ok($$SELECT count(*) FROM clawdstrike.event_tombstone$$, '42501', NULL,
		 'engine cannot read the tombstones');
RESET ROLE;
SET ROLE clawdstrike_relay;
SELECT is(clawdstrike.enqueue(pg_temp.ev(pg_temp.u('c'))), NULL::bigint,
	  'relay: enqueue() of a purged event returns NULL');
RESET ROLE;
SET ROLE clawdstrike_operator;
SELECT lives_ok($$INSERT INTO clawdstrike.outbox (event) VALUES (pg_temp.ev(pg_temp.u('d')))$$,
		'operator: a plain INSERT of a purged event is not an error');
SELECT is((SELECT count(*) FROM clawdstrike.outbox WHERE event_id = pg_temp.u('d')), 0::bigint,
	  'operator: and inserts nothing');
SELECT is(clawdstrike.enqueue(pg_temp.ev(pg_temp.u('d'))), NULL::bigint,
	  'operator: enqueue() of a purged event returns NULL');
SELECT lives_ok($$INSERT INTO clawdstrike.outbox (event) VALUES (pg_temp.ev(pg_temp.u('e2')))$$,
		'operator: a plain INSERT of a new event still works');
SELECT throws_ok($$SELECT count(*) FROM clawdstrike.event_tombstone$$, '42501', NULL,
		 'operator cannot read the tombstones');
SELECT throws_ok($$DELETE FROM clawdstrike.event_tombstone$$, '42501', NULL,
		 'operator cannot delete tombstones');
RESET ROLE;
SELECT is(pg_temp.rows('c') + pg_temp.rows('d'), 0::bigint, 'no role brought a purged event back');
SELECT is(pg_temp.rows('e1') + pg_temp.rows('e2'), 2::bigint, 'the new events of the engine and the operator are in');

-- The tombstones themselves --------------------------------------------------------------
SELECT is((SELECT count(*) FROM clawdstrike.event_tombstone
	    WHERE event_id IN (pg_temp.u('a'), pg_temp.u('b'), pg_temp.u('c'), pg_temp.u('d'), pg_temp.u('e'))),
	  5::bigint, 'one tombstone per purged row');
SELECT is((SELECT count(*) FROM clawdstrike.event_tombstone
	    WHERE delivered_at BETWEEN now() - interval '8 days 1 minute' AND now() - interval '8 days'),
	  5::bigint, 'a tombstone keeps the delivery time (the horizon counts from delivery)');
SELECT is((SELECT value FROM clawdstrike.settings WHERE key = 'retention_tombstones'), '30 days',
	  'retention_tombstones defaults to 30 days');

-- Ageing out: past the horizon the event_id may be enqueued again ------------------------
UPDATE clawdstrike.event_tombstone SET delivered_at = now() - interval '31 days'
 WHERE event_id = pg_temp.u('a');
SELECT row_eq($$SELECT outbox_rows, batch_rows, tombstone_rows FROM clawdstrike.purge()$$,
	      ROW(0::bigint, 0::bigint, 1::bigint),
	      'purge() deletes the tombstone older than retention_tombstones');
SELECT is((SELECT count(*) FROM clawdstrike.event_tombstone WHERE event_id = pg_temp.u('a')), 0::bigint,
	  'the 31-day tombstone is gone');
SELECT is((SELECT count(*) FROM clawdstrike.event_tombstone WHERE event_id = pg_temp.u('b')), 1::bigint,
	  'the 8-day ones stay');
SELECT isnt(clawdstrike.enqueue(pg_temp.ev(pg_temp.u('a'))), NULL::bigint,
	    'an event_id whose tombstone aged out can be enqueued again');
SELECT is((SELECT status FROM clawdstrike.outbox WHERE event_id = pg_temp.u('a')), 'pending',
	  'as a new pending row');

-- An explicit older_than is the delivered rows' (and batches') age, not the
-- tombstones': the relay passes retention.delivered_days.
SELECT is((SELECT tombstone_rows FROM clawdstrike.purge('-1 day', 100000)), 0::bigint,
	  'purge(older_than) leaves tombstones to retention_tombstones');
-- The horizon is never shorter than the batch audit.
UPDATE clawdstrike.settings SET value = '1 day' WHERE key = 'retention_tombstones';
SELECT is((SELECT tombstone_rows FROM clawdstrike.purge()), 0::bigint,
	  'retention_tombstones shorter than retention_batches (30 days) is raised to it');
UPDATE clawdstrike.settings SET value = '1 day' WHERE key = 'retention_batches';
SELECT is((SELECT tombstone_rows FROM clawdstrike.purge()), 4::bigint,
	  'with both at 1 day the 8-day tombstones go');
SELECT isnt(clawdstrike.enqueue(pg_temp.ev(pg_temp.u('b'))), NULL::bigint, 'and b can be enqueued again');
UPDATE clawdstrike.settings SET value = '30 days' WHERE key IN ('retention_tombstones', 'retention_batches');

-- Rows delivered before the tombstone horizon leave no tombstone (it would
-- be purged at once).
SELECT pg_temp.deliver(ARRAY['c1'], '40 days');
SELECT row_eq($$SELECT outbox_rows, tombstone_rows FROM clawdstrike.purge()$$, ROW(1::bigint, 0::bigint),
	      'a row delivered 40 days ago is purged');
SELECT is((SELECT count(*) FROM clawdstrike.event_tombstone WHERE event_id = pg_temp.u('c1')), 0::bigint,
	  'without a tombstone past the horizon');

-- Bounded chunks ---------------------------------------------------------------------------
SELECT pg_temp.deliver(ARRAY['d1', 'd2', 'd3'], '8 days');
SELECT is((SELECT outbox_rows FROM clawdstrike.purge(NULL, 2)), 2::bigint, 'purge(max_rows 2) deletes two rows');
SELECT is((SELECT count(*) FROM clawdstrike.event_tombstone
	    WHERE event_id IN (pg_temp.u('d1'), pg_temp.u('d2'), pg_temp.u('d3'))), 2::bigint,
	  'and writes their two tombstones in the same statement');
SELECT is((SELECT outbox_rows FROM clawdstrike.purge(NULL, 2)), 1::bigint, 'then the third');
SELECT is(clawdstrike.enqueue(pg_temp.ev(pg_temp.u('d3'))), NULL::bigint, 'which is tombstoned too');
INSERT INTO clawdstrike.event_tombstone (event_id, delivered_at)
SELECT gen_random_uuid(), now() - interval '40 days' - g * interval '1 hour' FROM generate_series(1, 5) g;
SELECT row_eq($$SELECT outbox_rows, batch_rows, tombstone_rows FROM clawdstrike.purge(NULL, 2)$$,
	      ROW(0::bigint, 0::bigint, 2::bigint), 'tombstones go in chunks of max_rows');
SELECT is((SELECT min(delivered_at) FROM clawdstrike.event_tombstone
	    WHERE delivered_at < now() - interval '39 days'), now() - interval '40 days 3 hours',
	  'oldest first');
SELECT is((SELECT tombstone_rows FROM clawdstrike.purge(NULL, 2)), 2::bigint, 'second chunk');
SELECT is((SELECT tombstone_rows FROM clawdstrike.purge(NULL, 2)), 1::bigint, 'third chunk: the rest');
SELECT is((SELECT tombstone_rows FROM clawdstrike.purge(NULL, 2)), 0::bigint, 'nothing left');
SELECT is((SELECT tombstone_rows FROM clawdstrike.purge(max_rows => 0)), 0::bigint, 'max_rows 0 deletes nothing');

-- A replayed-then-redelivered row is tombstoned with its last delivery.
SELECT pg_temp.deliver(ARRAY['c2'], '0 days');
UPDATE clawdstrike.outbox SET status = 'pending' WHERE event_id = pg_temp.u('c2');
SELECT pg_temp.deliver(ARRAY['c2'], '9 days');
SELECT is((SELECT status FROM clawdstrike.outbox WHERE event_id = pg_temp.u('c2')), 'delivered',
	  'fixture: a replayed row delivered again');
SELECT is((SELECT outbox_rows FROM clawdstrike.purge()), 1::bigint, 'is purged');
SELECT is(clawdstrike.enqueue(pg_temp.ev(pg_temp.u('c2'))), NULL::bigint, 'and tombstoned');

SELECT * FROM finish();
ROLLBACK;
