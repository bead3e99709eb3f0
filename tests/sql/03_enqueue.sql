-- enqueue() and plain INSERT: ids, idempotency on event_id, and that a plain
-- INSERT or UPDATE cannot set what the contract owns (status, event_id, id,
-- the event itself).
BEGIN;
SELECT plan(29);

DELETE FROM clawdstrike.outbox;

CREATE FUNCTION pg_temp.ev(eid uuid DEFAULT gen_random_uuid(), sev text DEFAULT 'info')
RETURNS jsonb LANGUAGE sql VOLATILE AS $$
	SELECT jsonb_build_object('event_id', eid,
		'timestamp', '2024-05-01T12:00:00Z', 'event_type', 'policy_violation',
		'decision', jsonb_build_object('allowed', false, 'guard', 'g', 'severity', sev))
$$;

-- enqueue returns the row id --------------------------------------------------
CREATE TEMP TABLE r (k text PRIMARY KEY, id bigint);
INSERT INTO r VALUES ('a', clawdstrike.enqueue(pg_temp.ev('00000000-0000-4000-8000-00000000000a')));
SELECT isnt((SELECT id FROM r WHERE k = 'a'), NULL, 'enqueue returns an id');
SELECT is((SELECT o.event_id FROM clawdstrike.outbox o JOIN r ON r.id = o.id WHERE r.k = 'a'),
	  '00000000-0000-4000-8000-00000000000a'::uuid, 'the id is the new row''s, with the event''s event_id');
SELECT row_eq($$SELECT o.status, o.attempts, o.replays, o.priority, o.batch_id, o.enqueued_at
		 FROM clawdstrike.outbox o JOIN r ON r.id = o.id WHERE r.k = 'a'$$,
	      ROW('pending'::text, 0, 0, 2::smallint, NULL::bigint, now()),
	      'a new row is pending, attempts 0, priority 2 (info), no batch, enqueued now');

-- idempotent on event_id -------------------------------------------------------
SELECT is(clawdstrike.enqueue(pg_temp.ev('00000000-0000-4000-8000-00000000000a')),
	  (SELECT id FROM r WHERE k = 'a'), 'enqueueing the same event_id again returns the same id');
SELECT is(clawdstrike.enqueue(pg_temp.ev('00000000-0000-4000-8000-00000000000a', 'critical')),
	  (SELECT id FROM r WHERE k = 'a'), 'even with a different event body');
SELECT is((SELECT count(*) FROM clawdstrike.outbox
	    WHERE event_id = '00000000-0000-4000-8000-00000000000a'), 1::bigint,
	  'one row per event_id');
SELECT is((SELECT event #>> '{decision,severity}' FROM clawdstrike.outbox
	    WHERE event_id = '00000000-0000-4000-8000-00000000000a'), 'info',
	  'the first event body is kept');
SELECT is(clawdstrike.enqueue(pg_temp.ev('00000000-0000-4000-8000-00000000000A')),
	  (SELECT id FROM r WHERE k = 'a'), 'event_id matching is case-insensitive (it is a uuid)');
-- A replayed / delivered row is not re-queued by a second enqueue.
UPDATE clawdstrike.outbox SET status = 'failed' WHERE id = (SELECT id FROM r WHERE k = 'a');
SELECT is(clawdstrike.enqueue(pg_temp.ev('00000000-0000-4000-8000-00000000000a')),
	  (SELECT id FROM r WHERE k = 'a'), 'enqueue of a failed event_id returns its id');
SELECT is((SELECT status FROM clawdstrike.outbox WHERE id = (SELECT id FROM r WHERE k = 'a')),
	  'failed', 'and leaves the row alone');

-- priority from severity
INSERT INTO r VALUES ('crit', clawdstrike.enqueue(pg_temp.ev(sev => 'critical'))),
		     ('high', clawdstrike.enqueue(pg_temp.ev(sev => 'high'))),
		     ('med', clawdstrike.enqueue(pg_temp.ev(sev => 'medium')));
SELECT results_eq($$SELECT o.priority FROM clawdstrike.outbox o JOIN r USING (id)
		   WHERE r.k IN ('crit', 'high', 'med') ORDER BY r.k$$,
		  ARRAY[0, 1, 2]::smallint[], 'priority: critical 0, high 1, medium 2');

-- plain INSERT -----------------------------------------------------------------
INSERT INTO clawdstrike.outbox (event) VALUES (pg_temp.ev('00000000-0000-4000-8000-0000000000b1', 'high'));
SELECT row_eq($$SELECT event_id, priority, status FROM clawdstrike.outbox
		 WHERE event #>> '{event_id}' = '00000000-0000-4000-8000-0000000000b1'$$,
	      ROW('00000000-0000-4000-8000-0000000000b1'::uuid, 1::smallint, 'pending'::text),
	      'plain INSERT takes event_id and priority from the event');
SELECT lives_ok($$INSERT INTO clawdstrike.outbox (event_id, event, status)
		  VALUES ('00000000-0000-4000-8000-0000000000b2',
			  pg_temp.ev('00000000-0000-4000-8000-0000000000b2'), 'pending')$$,
		'plain INSERT with a matching event_id column and status pending works');
INSERT INTO clawdstrike.outbox (event, priority, attempts, replays, batch_id, last_error, enqueued_at)
VALUES (pg_temp.ev('00000000-0000-4000-8000-0000000000b3', 'info'), 0, 7, 3, 42, 'x', '2000-01-01');
SELECT row_eq($$SELECT priority, attempts, replays, batch_id, last_error, enqueued_at
		 FROM clawdstrike.outbox WHERE event_id = '00000000-0000-4000-8000-0000000000b3'$$,
	      ROW(2::smallint, 0, 0, NULL::bigint, NULL::text, now()),
	      'plain INSERT cannot set priority, attempts, replays, batch, errors or enqueued_at');
SELECT throws_ok($$INSERT INTO clawdstrike.outbox (event, status) VALUES (pg_temp.ev(), 'delivered')$$,
		 '23514', 'clawdstrike.outbox: new rows must have status pending (got delivered)',
		 'plain INSERT cannot create a delivered row');
SELECT throws_ok($$INSERT INTO clawdstrike.outbox (event, status) VALUES (pg_temp.ev(), 'sending')$$,
		 '23514', 'clawdstrike.outbox: new rows must have status pending (got sending)',
		 'plain INSERT cannot create an in-flight row');
SELECT throws_ok($$INSERT INTO clawdstrike.outbox (event, status) VALUES (pg_temp.ev(), 'failed')$$,
		 '23514', 'clawdstrike.outbox: new rows must have status pending (got failed)',
		 'plain INSERT cannot create a failed row');
SELECT throws_ok($$INSERT INTO clawdstrike.outbox (event_id, event)
		  VALUES ('00000000-0000-4000-8000-0000000000c1', pg_temp.ev('00000000-0000-4000-8000-0000000000c2'))$$,
		 '23514', 'clawdstrike.outbox: event_id column (00000000-0000-4000-8000-0000000000c1) differs from event.event_id (00000000-0000-4000-8000-0000000000c2)',
		 'plain INSERT cannot set an event_id column that differs from the event');
SELECT throws_ok($$INSERT INTO clawdstrike.outbox (id, event) VALUES (999999, pg_temp.ev())$$,
		 '428C9', NULL, 'plain INSERT cannot set id (GENERATED ALWAYS)');
SELECT results_eq($$WITH i AS (INSERT INTO clawdstrike.outbox (event)
			VALUES (pg_temp.ev('00000000-0000-4000-8000-0000000000b1')) RETURNING id)
		   SELECT count(*) FROM i$$, ARRAY[0::bigint],
		  'a duplicate plain INSERT inserts nothing (idempotent, like enqueue)');
SELECT lives_ok($$INSERT INTO clawdstrike.outbox (event) VALUES (pg_temp.ev('00000000-0000-4000-8000-0000000000b1'))
		 ON CONFLICT DO NOTHING$$,
		'plain INSERT ... ON CONFLICT DO NOTHING is accepted too');
SELECT throws_ok($$INSERT INTO clawdstrike.outbox (event) VALUES (pg_temp.ev('00000000-0000-4000-8000-0000000000b1'))
		 ON CONFLICT (event_id) DO NOTHING$$, '42P10', NULL,
		 'ON CONFLICT (event_id) is refused since 0005: the outbox is a view, and its INSERT is idempotent');
SELECT is((SELECT count(*) FROM clawdstrike.outbox
	    WHERE event_id = '00000000-0000-4000-8000-0000000000b1'), 1::bigint,
	  'still one row for that event_id');

-- immutable event and event_id ---------------------------------------------------
SELECT throws_ok($$UPDATE clawdstrike.outbox SET event = event || '{"x": 1}'
		  WHERE event_id = '00000000-0000-4000-8000-0000000000b1'$$,
		 '23514', NULL, 'the event cannot be updated');
SELECT throws_ok($$UPDATE clawdstrike.outbox SET event_id = gen_random_uuid()
		  WHERE event_id = '00000000-0000-4000-8000-0000000000b1'$$,
		 '23514', NULL, 'the event_id cannot be updated');
SELECT throws_like($$UPDATE clawdstrike.outbox SET event = event || '{"x": 1}'
		    WHERE event_id = '00000000-0000-4000-8000-0000000000b1'$$,
		   'clawdstrike.outbox: event and event_id of row % cannot be updated',
		   'the error says event and event_id cannot be updated');
SELECT lives_ok($$UPDATE clawdstrike.outbox SET event = event
		 WHERE event_id = '00000000-0000-4000-8000-0000000000b1'$$,
		'a no-op assignment of the same event is harmless');

-- enqueue inside the caller's transaction ---------------------------------------
SAVEPOINT s;
SELECT clawdstrike.enqueue(pg_temp.ev('00000000-0000-4000-8000-0000000000d1'));
ROLLBACK TO SAVEPOINT s;
SELECT is((SELECT count(*) FROM clawdstrike.outbox
	    WHERE event_id = '00000000-0000-4000-8000-0000000000d1'), 0::bigint,
	  'enqueue is part of the caller''s transaction: rolled back with it');
SELECT isnt(clawdstrike.enqueue(pg_temp.ev('00000000-0000-4000-8000-0000000000d1')), NULL::bigint,
	    'and the event can be enqueued again afterwards');

SELECT * FROM finish();
ROLLBACK;
