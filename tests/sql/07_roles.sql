-- Role privileges, exercised with SET ROLE: the engine can only enqueue, the
-- relay calls its functions and reads the views, the analyst only reads the
-- views, the operator replays; PUBLIC gets nothing.
BEGIN;
SELECT plan(76);

DELETE FROM clawdstrike.outbox;
DELETE FROM clawdstrike.batch;
DELETE FROM clawdstrike.replay_log;

CREATE FUNCTION pg_temp.ev() RETURNS jsonb LANGUAGE sql VOLATILE AS $$
	SELECT jsonb_build_object('event_id', gen_random_uuid(),
		'timestamp', '2024-05-01T12:00:00Z', 'event_type', 'policy_violation',
		'decision', jsonb_build_object('allowed', false, 'guard', 'g', 'severity', 'info'))
$$;

SELECT has_role(r, 'role ' || r || ' exists')
  FROM unnest(ARRAY['clawdstrike_engine', 'clawdstrike_relay', 'clawdstrike_analyst',
		    'clawdstrike_operator', 'clawdstrike_owner']) r;

-- Fixture: one failed row, one pending row (made as the test's superuser).
SELECT clawdstrike.enqueue(pg_temp.ev());
CREATE TEMP TABLE fx AS
	SELECT min(batch_id) AS batch_id, min(id) AS failed_id FROM clawdstrike.claim('fixture', 1, 60);
SELECT clawdstrike.fail_rows(batch_id, ARRAY[failed_id], 'HEC rejected the event', 400, 6, 'Invalid data format')
  FROM fx;
GRANT SELECT ON fx TO PUBLIC;
CREATE FUNCTION pg_temp.failed_id() RETURNS bigint LANGUAGE sql STABLE AS $$ SELECT failed_id FROM fx $$;

-- clawdstrike_engine ------------------------------------------------------------------
SET ROLE clawdstrike_engine;
SELECT lives_ok($$SELECT clawdstrike.enqueue(pg_temp.ev())$$, 'engine can call enqueue');
SELECT throws_ok($$SELECT clawdstrike.enqueue('{"event_id": 1}')$$, '22023',
		 'invalid event: event_id: must be a UUID string', 'engine gets the validation error from enqueue');
SELECT throws_ok($$SELECT count(*) FROM clawdstrike.outbox$$, '42501',
		 'permission denied for view outbox', 'engine cannot SELECT the outbox');
SELECT throws_ok($$UPDATE clawdstrike.outbox SET status = 'pending'$$, '42501',
		 'permission denied for view outbox', 'engine cannot UPDATE the outbox');
SELECT throws_ok($$DELETE FROM clawdstrike.outbox$$, '42501',
		 'permission denied for view outbox', 'engine cannot DELETE from the outbox');
SELECT throws_ok($$INSERT INTO clawdstrike.outbox (event) VALUES (pg_temp.ev())$$, '42501',
		 'permission denied for view outbox', 'engine cannot INSERT into the outbox directly');
SELECT throws_ok($$SELECT * FROM clawdstrike.claim('engine', 10, 60)$$, '42501',
		 'permission denied for function claim', 'engine cannot call claim');
SELECT throws_ok($$SELECT clawdstrike.replay()$$, '42501',
		 'permission denied for function replay', 'engine cannot call replay');
SELECT throws_ok($$SELECT * FROM clawdstrike.status_counts$$, '42501',
		 'permission denied for view status_counts', 'engine cannot read the views');
SELECT throws_ok($$SELECT * FROM clawdstrike.batch$$, '42501',
		 'permission denied for table batch', 'engine cannot read the batch audit');
RESET ROLE;
SELECT is((SELECT count(*) FROM clawdstrike.outbox), 2::bigint, 'the engine''s enqueue wrote one row');

-- clawdstrike_analyst ------------------------------------------------------------------
SET ROLE clawdstrike_analyst;
SELECT lives_ok(format('SELECT * FROM clawdstrike.%I', v), 'analyst can read view ' || v)
  FROM unnest(ARRAY['status_counts', 'backlog', 'in_flight', 'dead_letter', 'dead_letter_by_reason',
		    'throughput', 'delivery_latency', 'batch_outcomes', 'settings']) v;
SELECT is((SELECT count(*) FROM clawdstrike.dead_letter), 1::bigint, 'analyst sees the dead letter');
SELECT throws_ok($$SELECT * FROM clawdstrike.outbox$$, '42501',
		 'permission denied for view outbox', 'analyst reads through the views, not the outbox');
SELECT throws_ok($$INSERT INTO clawdstrike.outbox (event) VALUES (pg_temp.ev())$$, '42501',
		 'permission denied for view outbox', 'analyst cannot INSERT into the outbox');
SELECT throws_ok($$UPDATE clawdstrike.outbox SET status = 'pending'$$, '42501',
		 'permission denied for view outbox', 'analyst cannot UPDATE the outbox');
SELECT throws_ok($$DELETE FROM clawdstrike.outbox$$, '42501',
		 'permission denied for view outbox', 'analyst cannot DELETE from the outbox');
-- (dead_letter joins the outbox's tables: not updatable by anyone)
SELECT throws_ok($$DELETE FROM clawdstrike.dead_letter$$, '55000',
		 'cannot delete from view "dead_letter"', 'analyst cannot DELETE through a view');
SELECT throws_ok($$UPDATE clawdstrike.settings SET value = '1'$$, '42501',
		 'permission denied for table settings', 'analyst cannot UPDATE settings');
SELECT throws_ok($$DELETE FROM clawdstrike.batch$$, '42501',
		 'permission denied for table batch', 'analyst cannot DELETE batch rows');
SELECT throws_ok($$INSERT INTO clawdstrike.replay_log (outbox_id, event_id, from_status)
		  VALUES (1, gen_random_uuid(), 'failed')$$, '42501',
		 'permission denied for table replay_log', 'analyst cannot write replay_log');
SELECT throws_ok($$SELECT clawdstrike.enqueue(pg_temp.ev())$$, '42501',
		 'permission denied for function enqueue', 'analyst cannot call enqueue');
SELECT throws_ok($$SELECT clawdstrike.replay()$$, '42501',
		 'permission denied for function replay', 'analyst cannot call replay');
SELECT throws_ok($$SELECT * FROM clawdstrike.purge()$$, '42501',
		 'permission denied for function purge', 'analyst cannot call purge');
RESET ROLE;

-- clawdstrike_relay ----------------------------------------------------------------------
SET ROLE clawdstrike_relay;
SELECT lives_ok($$CREATE TEMP TABLE relay_claim AS SELECT * FROM clawdstrike.claim('relay-1', 10, 60,
		  '0a000000-0000-4000-8000-000000000001', '0c000000-0000-4000-8000-000000000001')$$,
		'relay can call claim');
SELECT is((SELECT count(*) FROM relay_claim), 1::bigint, 'and gets the pending row');
SELECT is(clawdstrike.mark_sent((SELECT min(batch_id) FROM relay_claim), ARRAY(SELECT id FROM relay_claim),
	'https://hec:8088', '0c000000-0000-4000-8000-000000000001', 1, 60), 1, 'relay can call mark_sent');
SELECT is((SELECT count(*) FROM clawdstrike.heartbeat('0a000000-0000-4000-8000-000000000001',
	ARRAY(SELECT batch_id FROM relay_claim), 60)), 1::bigint, 'relay can call heartbeat');
SELECT lives_ok($$SELECT * FROM clawdstrike.recover('relay-1', 60, true, '0a000000-0000-4000-8000-000000000001')$$,
		'relay can call recover');
SELECT is(clawdstrike.release((SELECT min(batch_id) FROM relay_claim), 'shutdown', 'relay stopping'), 1,
	  'relay can call release');
CREATE TEMP TABLE relay_claim2 AS SELECT * FROM clawdstrike.claim('relay-1', 10, 60);
SELECT isnt(clawdstrike.split((SELECT min(batch_id) FROM relay_claim2), ARRAY[]::bigint[]), NULL::bigint,
	    'relay can call split');
SELECT is(clawdstrike.mark_rows_delivered((SELECT min(batch_id) FROM relay_claim2), ARRAY[]::bigint[]), 0,
	  'relay can call mark_rows_delivered');
SELECT is(clawdstrike.fail_rows((SELECT min(batch_id) FROM relay_claim2), ARRAY[]::bigint[], 'r'), 0,
	  'relay can call fail_rows');
SELECT is(clawdstrike.mark_delivered(ARRAY[(SELECT min(batch_id) FROM relay_claim2)]), 0,
	  'relay can call mark_delivered (a claimed batch: nothing to deliver)');
SELECT is(clawdstrike.mark_rows_delivered((SELECT min(batch_id) FROM relay_claim2),
	ARRAY(SELECT id FROM relay_claim2), 'no_ack'), 1, 'relay can call mark_rows_delivered no_ack');
SELECT lives_ok($$SELECT * FROM clawdstrike.purge()$$, 'relay can call purge');
SELECT lives_ok($$SELECT clawdstrike.enqueue(pg_temp.ev())$$, 'relay can call enqueue (the enqueue command)');
SELECT lives_ok($$SELECT * FROM clawdstrike.status_counts, clawdstrike.backlog$$, 'relay can read the views');
SELECT lives_ok($$SELECT * FROM clawdstrike.settings$$, 'relay can read settings');
SELECT throws_ok($$DELETE FROM clawdstrike.outbox$$, '42501',
		 'permission denied for view outbox', 'relay cannot DELETE from the outbox');
SELECT throws_ok($$UPDATE clawdstrike.outbox SET status = 'pending'$$, '42501',
		 'permission denied for view outbox', 'relay cannot UPDATE the outbox directly');
SELECT throws_ok($$UPDATE clawdstrike.batch SET lease_until = now()$$, '42501',
		 'permission denied for table batch', 'relay cannot UPDATE batch rows directly');
SELECT throws_ok($$SELECT clawdstrike.replay()$$, '42501',
		 'permission denied for function replay', 'relay cannot call replay');
SELECT throws_ok($$SELECT clawdstrike.set_notify(false)$$, '42501',
		 'permission denied for function set_notify', 'relay cannot change the NOTIFY setting');
RESET ROLE;

-- clawdstrike_operator -----------------------------------------------------------------
SET ROLE clawdstrike_operator;
SELECT is((SELECT count(*) FROM clawdstrike.outbox WHERE status = 'failed'), 1::bigint,
	  'operator can read the outbox');
SELECT lives_ok($$SELECT * FROM clawdstrike.dead_letter, clawdstrike.batch, clawdstrike.replay_log$$,
		'operator can read dead_letter, batch and replay_log');
SELECT lives_ok(format('UPDATE clawdstrike.outbox SET status = ''pending'' WHERE id = %s', pg_temp.failed_id()),
		'operator can replay with UPDATE ... SET status = ''pending''');
SELECT row_eq($$SELECT status, attempts, last_error FROM clawdstrike.outbox WHERE id = pg_temp.failed_id()$$,
	      ROW('pending'::text, 0, NULL::text), 'the replayed row is reset');
SELECT is((SELECT replayed_by || ' ' || from_status FROM clawdstrike.replay_log WHERE outbox_id = pg_temp.failed_id()),
	  'clawdstrike_operator failed', 'the UPDATE replay is logged with the operator''s name');
RESET ROLE;
-- fail it again (as the relay would) for the replay() case
CREATE TEMP TABLE fx2 AS SELECT min(batch_id) AS batch_id FROM clawdstrike.claim('fixture', 10, 60);
SELECT clawdstrike.fail_rows(batch_id, ARRAY[pg_temp.failed_id()], 'rejected again') FROM fx2;
GRANT SELECT ON fx2 TO PUBLIC;
SET ROLE clawdstrike_operator;
SELECT is(clawdstrike.replay(error => 'again'), 1::bigint, 'operator can call replay()');
SELECT is((SELECT count(*) FROM clawdstrike.replay_log WHERE outbox_id = pg_temp.failed_id()
	    AND replayed_by = 'clawdstrike_operator'), 2::bigint, 'replay() writes replay_log as the operator');
SELECT throws_ok(format('UPDATE clawdstrike.outbox SET status = ''pending'' WHERE batch_id = %s', batch_id),
		 '23514', NULL, 'operator cannot pull in-flight rows back to pending')
  FROM fx2;
SELECT throws_ok($$INSERT INTO clawdstrike.replay_log (outbox_id, event_id, from_status)
		  VALUES (1, gen_random_uuid(), 'failed')$$, '42501',
		 'permission denied for table replay_log', 'operator cannot write replay_log (only the guard does)');
SELECT throws_ok($$UPDATE clawdstrike.outbox SET event = '{}'$$, '42501',
		 'permission denied for view outbox', 'operator cannot UPDATE the event');
SELECT throws_ok($$UPDATE clawdstrike.outbox SET attempts = 0$$, '42501',
		 'permission denied for view outbox', 'operator can UPDATE only the status column');
SELECT throws_ok($$DELETE FROM clawdstrike.outbox$$, '42501',
		 'permission denied for view outbox', 'operator cannot DELETE from the outbox');
SELECT lives_ok($$INSERT INTO clawdstrike.outbox (event) VALUES (pg_temp.ev())$$,
		'operator can bulk-load events (INSERT of the event column)');
SELECT throws_ok($$INSERT INTO clawdstrike.outbox (event) VALUES ('{"event_id": 1}')$$, '22023',
		 'invalid event: event_id: must be a UUID string', 'operator inserts are validated like enqueue()');
SELECT throws_ok($$INSERT INTO clawdstrike.outbox (event, attempts) VALUES (pg_temp.ev(), 5)$$, '42501',
		 'permission denied for view outbox', 'operator cannot INSERT other columns');
SELECT throws_ok($$SELECT * FROM clawdstrike.claim('op', 1, 60)$$, '42501',
		 'permission denied for function claim', 'operator cannot call claim');
SELECT throws_ok($$UPDATE clawdstrike.batch SET state = 'closed'$$, '42501',
		 'permission denied for table batch', 'operator cannot change the batch audit');
RESET ROLE;

-- PUBLIC (a role with no grants) --------------------------------------------------------
CREATE ROLE clawdstrike_test_nobody NOLOGIN;
SET ROLE clawdstrike_test_nobody;
SELECT throws_ok($$SELECT * FROM clawdstrike.status_counts$$, '42501',
		 'permission denied for schema clawdstrike', 'a role without grants cannot use the schema');
SELECT throws_ok($$SELECT clawdstrike.enqueue(pg_temp.ev())$$, '42501',
		 'permission denied for schema clawdstrike', 'nor call enqueue');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
