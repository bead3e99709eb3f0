-- Replay: a plain UPDATE ... SET status = 'pending' resets and audits a
-- failed or delivered row; clawdstrike.replay() does the same with filters
-- and a dry run.  Rows in flight are never touched.
BEGIN;
SELECT plan(53);

DELETE FROM clawdstrike.outbox;
DELETE FROM clawdstrike.batch;
DELETE FROM clawdstrike.replay_log;

CREATE FUNCTION pg_temp.ev(guard text DEFAULT 'g', sev text DEFAULT 'info') RETURNS jsonb
LANGUAGE sql VOLATILE AS $$
	SELECT jsonb_build_object('event_id', gen_random_uuid(),
		'timestamp', '2024-05-01T12:00:00Z', 'event_type', 'policy_violation',
		'decision', jsonb_build_object('allowed', false, 'guard', guard, 'severity', sev))
$$;
CREATE TEMP TABLE r (k text PRIMARY KEY, id bigint);
CREATE FUNCTION pg_temp.r(key text) RETURNS bigint LANGUAGE sql STABLE AS $$
	SELECT id FROM r WHERE k = key $$;
CREATE FUNCTION pg_temp.st(key text) RETURNS text LANGUAGE sql STABLE AS $$
	SELECT o.status FROM clawdstrike.outbox o WHERE o.id = pg_temp.r(key) $$;

-- Replay by plain UPDATE -----------------------------------------------------------
INSERT INTO r VALUES ('uf', clawdstrike.enqueue(pg_temp.ev()));
INSERT INTO r VALUES ('ud', clawdstrike.enqueue(pg_temp.ev()));
CREATE TEMP TABLE b1 AS SELECT DISTINCT batch_id FROM clawdstrike.claim('relay-a', 10, 60);
SELECT is(clawdstrike.fail_rows((SELECT batch_id FROM b1), ARRAY[pg_temp.r('uf')],
	'HEC rejected the event: Invalid data format', 400, 6, 'Invalid data format'), 1, 'uf failed');
SELECT is(clawdstrike.mark_sent((SELECT batch_id FROM b1), ARRAY[pg_temp.r('ud')], 'https://hec-1:8088',
	'6f1a2c8e-0000-4000-8000-000000000001', 3, 60), 1, 'ud sent');
SELECT is(clawdstrike.mark_delivered(ARRAY[(SELECT batch_id FROM b1)]), 1, 'ud delivered');

SELECT lives_ok(format('UPDATE clawdstrike.outbox SET status = %L WHERE id = %s', 'pending', pg_temp.r('uf')),
		'UPDATE ... SET status = ''pending'' replays a failed row');
SELECT row_eq($$SELECT status, attempts, replays, batch_id, last_error, http_status, hec_code, hec_text,
		       failed_at, sent_at, delivered_at
		 FROM clawdstrike.outbox WHERE id = pg_temp.r('uf')$$,
	      ROW('pending'::text, 0, 1, NULL::bigint, NULL::text, NULL::smallint, NULL::smallint,
		  NULL::text, NULL::timestamptz, NULL::timestamptz, NULL::timestamptz),
	      'failed -> pending: attempts 0, errors, HTTP/HEC outcome and batch cleared, replays 1');
SELECT row_eq($$SELECT outbox_id, event_id, from_status, last_error, replayed_at, replayed_by
		 FROM clawdstrike.replay_log WHERE outbox_id = pg_temp.r('uf')$$,
	      (SELECT ROW(id, event_id, 'failed'::text, 'HEC rejected the event: Invalid data format'::text,
			  now(), current_user::text COLLATE "default") FROM clawdstrike.outbox WHERE id = pg_temp.r('uf')),
	      'the replay is in replay_log with from_status failed and the old error');
SELECT is_empty($$SELECT 1 FROM clawdstrike.dead_letter WHERE outbox_id = pg_temp.r('uf')$$,
		'the replayed row left dead_letter');

SELECT lives_ok(format('UPDATE clawdstrike.outbox SET status = ''pending'' WHERE id = %s', pg_temp.r('ud')),
		'UPDATE ... SET status = ''pending'' replays a delivered row (a deliberate re-send)');
SELECT row_eq($$SELECT status, attempts, replays, delivered_at, delivery, sent_at, batch_id
		 FROM clawdstrike.outbox WHERE id = pg_temp.r('ud')$$,
	      ROW('pending'::text, 0, 1, NULL::timestamptz, NULL::text, NULL::timestamptz, NULL::bigint),
	      'delivered -> pending: attempts 0, delivered_at/delivery/sent_at cleared, replays 1');
SELECT is((SELECT from_status FROM clawdstrike.replay_log WHERE outbox_id = pg_temp.r('ud')), 'delivered',
	  'replay_log records from_status delivered');

-- the replayed rows are claimed again, and a second replay counts up
CREATE TEMP TABLE b2 AS SELECT * FROM clawdstrike.claim('relay-a', 10, 60);
SELECT set_eq($$SELECT id FROM b2$$, ARRAY[pg_temp.r('uf'), pg_temp.r('ud')],
	      'replayed rows are claimed again');
SELECT is((SELECT array_agg(DISTINCT attempts) FROM b2), ARRAY[1], 'with attempts starting over');
SELECT is(clawdstrike.mark_rows_delivered((SELECT DISTINCT batch_id FROM b2), ARRAY(SELECT id FROM b2), 'no_ack'), 2,
	  'delivered again');
UPDATE clawdstrike.outbox SET status = 'pending' WHERE id = pg_temp.r('ud');
SELECT is((SELECT replays FROM clawdstrike.outbox WHERE id = pg_temp.r('ud')), 2, 'a second replay: replays 2');
SELECT is((SELECT count(*) FROM clawdstrike.replay_log WHERE outbox_id = pg_temp.r('ud')), 2::bigint,
	  'two replay_log rows');
-- a pending row set to pending is a no-op, not a replay
UPDATE clawdstrike.outbox SET status = 'pending' WHERE id = pg_temp.r('ud');
SELECT is((SELECT replays FROM clawdstrike.outbox WHERE id = pg_temp.r('ud')), 2,
	  'setting a pending row to pending changes nothing');
SELECT is((SELECT count(*) FROM clawdstrike.replay_log WHERE outbox_id = pg_temp.r('ud')), 2::bigint,
	  'and writes no replay_log row');

-- Start the replay() tests from a clean outbox.
DELETE FROM clawdstrike.outbox;
DELETE FROM clawdstrike.replay_log;

-- Rows for replay(): three failed, two delivered, one of each in-flight state, one pending.
INSERT INTO r VALUES ('fa', clawdstrike.enqueue(pg_temp.ev('G1', 'high')));
INSERT INTO r VALUES ('fb', clawdstrike.enqueue(pg_temp.ev('G1', 'info')));
INSERT INTO r VALUES ('fc', clawdstrike.enqueue(pg_temp.ev('G2', 'critical')));
INSERT INTO r VALUES ('de', clawdstrike.enqueue(pg_temp.ev('G1', 'info')));
INSERT INTO r VALUES ('df', clawdstrike.enqueue(pg_temp.ev('G2', 'high')));
CREATE TEMP TABLE b3 AS SELECT DISTINCT batch_id FROM clawdstrike.claim('relay-a', 10, 60);
SELECT is(clawdstrike.fail_rows((SELECT batch_id FROM b3), ARRAY[pg_temp.r('fa')],
	'HEC code 6: Invalid data format', 400, 6, 'Invalid data format')
	+ clawdstrike.fail_rows((SELECT batch_id FROM b3), ARRAY[pg_temp.r('fb')],
	'HEC code 12: Event field is required', 400, 12, 'Event field is required')
	+ clawdstrike.fail_rows((SELECT batch_id FROM b3), ARRAY[pg_temp.r('fc')],
	'event too large for HEC (2000000 bytes)', 413)
	+ clawdstrike.mark_rows_delivered((SELECT batch_id FROM b3), ARRAY[pg_temp.r('de'), pg_temp.r('df')]),
	5, 'three rows failed, two delivered');
INSERT INTO r VALUES ('ss', clawdstrike.enqueue(pg_temp.ev('G1', 'high')));
CREATE TEMP TABLE b4 AS SELECT DISTINCT batch_id FROM clawdstrike.claim('relay-a', 10, 60);
SELECT is(clawdstrike.mark_sent((SELECT batch_id FROM b4), ARRAY[pg_temp.r('ss')], 'https://hec-1:8088', NULL, 1, 60), 1,
	  'ss sent');
INSERT INTO r VALUES ('sg', clawdstrike.enqueue(pg_temp.ev('G1', 'high')));
CREATE TEMP TABLE b5 AS SELECT * FROM clawdstrike.claim('relay-a', 10, 60);
INSERT INTO r VALUES ('pp', clawdstrike.enqueue(pg_temp.ev('G1', 'high')));
UPDATE clawdstrike.outbox SET enqueued_at = now() - interval '3 days' WHERE id = pg_temp.r('fa');
UPDATE clawdstrike.outbox SET enqueued_at = now() - interval '1 day' WHERE id = pg_temp.r('fb');
UPDATE clawdstrike.outbox SET enqueued_at = now() - interval '1 hour' WHERE id = pg_temp.r('fc');
UPDATE clawdstrike.outbox SET enqueued_at = now() - interval '2 days' WHERE id = pg_temp.r('de');
SELECT is((SELECT string_agg(k || '=' || pg_temp.st(k), ' ' ORDER BY k) FROM r
	    WHERE k IN ('fa', 'fb', 'fc', 'de', 'df', 'ss', 'sg', 'pp')),
	  'de=delivered df=delivered fa=failed fb=failed fc=failed pp=pending sg=sending ss=sent',
	  'fixture: three failed, two delivered, sent, sending, pending');

-- dry runs count and change nothing
SELECT is(clawdstrike.replay(dry_run => true), 3::bigint, 'replay() dry run: all failed rows by default');
SELECT is(clawdstrike.replay('failed', guard => 'G1', dry_run => true), 2::bigint, 'filter by guard');
SELECT is(clawdstrike.replay('failed', severity => 'critical', dry_run => true), 1::bigint, 'filter by severity');
SELECT is(clawdstrike.replay('failed', error => 'invalid DATA', dry_run => true), 1::bigint,
	  'filter by error (substring, case-insensitive)');
SELECT is(clawdstrike.replay('failed', since => now() - interval '2 days', dry_run => true), 2::bigint,
	  'filter by since (enqueued at or after)');
SELECT is(clawdstrike.replay('failed', until => now() - interval '2 days', dry_run => true), 1::bigint,
	  'filter by until (enqueued before)');
SELECT is(clawdstrike.replay('failed', since => now() - interval '2 days', until => now() - interval '2 hours',
	  dry_run => true), 1::bigint, 'filter by a time range');
SELECT is(clawdstrike.replay('failed', guard => 'G1', severity => 'critical', dry_run => true), 0::bigint,
	  'filters combine with AND');
SELECT is(clawdstrike.replay('delivered', dry_run => true), 2::bigint, 'dry run of delivered rows');
SELECT is((SELECT count(*) FROM clawdstrike.outbox WHERE status = 'failed'), 3::bigint,
	  'dry runs changed no row');
SELECT is((SELECT count(*) FROM clawdstrike.replay_log), 0::bigint, 'dry runs wrote no replay_log');

-- real replays
SELECT is(clawdstrike.replay('failed', guard => 'G1', error => 'invalid data'), 1::bigint,
	  'replay(guard, error) returns the count');
SELECT is(pg_temp.st('fa') || ' ' || pg_temp.st('fb'), 'pending failed', 'only the matching row was replayed');
SELECT row_eq($$SELECT attempts, replays, last_error, hec_code FROM clawdstrike.outbox WHERE id = pg_temp.r('fa')$$,
	      ROW(0, 1, NULL::text, NULL::smallint), 'replay() resets like the UPDATE does');
SELECT is((SELECT from_status || ': ' || last_error FROM clawdstrike.replay_log WHERE outbox_id = pg_temp.r('fa')),
	  'failed: HEC code 6: Invalid data format', 'replay() is audited in replay_log');
SELECT is(clawdstrike.replay('delivered', guard => 'G2'), 1::bigint, 'replay(delivered, guard)');
SELECT is(pg_temp.st('df') || ' ' || pg_temp.st('de'), 'pending delivered', 'only df was re-queued');
SELECT is((SELECT from_status FROM clawdstrike.replay_log WHERE outbox_id = pg_temp.r('df')), 'delivered',
	  'replay of a delivered row is audited with from_status delivered');
SELECT is(clawdstrike.replay('delivered', until => now() - interval '1 day'), 1::bigint,
	  'replay(delivered, until)');
SELECT is(clawdstrike.replay(severity => 'info'), 1::bigint, 'replay(severity)');
SELECT is(clawdstrike.replay(), 1::bigint, 'replay() takes the remaining failed row');
SELECT is(clawdstrike.replay(), 0::bigint, 'nothing left to replay');
SELECT is((SELECT count(*) FROM clawdstrike.replay_log), 5::bigint, 'five replays logged');

-- in-flight and pending rows are never touched
SELECT is(pg_temp.st('ss') || ' ' || pg_temp.st('sg') || ' ' || pg_temp.st('pp'), 'sent sending pending',
	  'in-flight and pending rows keep their status');
SELECT is((SELECT sum(replays) FROM clawdstrike.outbox WHERE id IN (pg_temp.r('ss'), pg_temp.r('sg'), pg_temp.r('pp'))),
	  0::bigint, 'and were not counted as replays');
SELECT is((SELECT count(*) FROM clawdstrike.replay_log
	    WHERE outbox_id IN (pg_temp.r('ss'), pg_temp.r('sg'), pg_temp.r('pp'))), 0::bigint,
	  'nor logged');

SELECT throws_ok($$UPDATE clawdstrike.outbox SET status = 'pending' WHERE event #>> '{decision,guard}' = 'G1'$$,
		 '23514', NULL,
		 'a plain UPDATE that would pull an in-flight row back to pending is refused');
SELECT is(pg_temp.st('ss') || ' ' || pg_temp.st('sg'), 'sent sending', 'as a whole: the in-flight rows stay');

-- bad arguments
SELECT throws_ok($$SELECT clawdstrike.replay('pending')$$, '22023',
		 'replay: status must be failed or delivered (got pending)', 'replay(pending) raises 22023');
SELECT throws_ok($$SELECT clawdstrike.replay('sending')$$, '22023',
		 'replay: status must be failed or delivered (got sending)', 'replay(sending) raises 22023');
SELECT throws_ok($$SELECT clawdstrike.replay('sent')$$, '22023',
		 'replay: status must be failed or delivered (got sent)', 'replay(sent) raises 22023');
SELECT throws_ok($$SELECT clawdstrike.replay('bogus')$$, '22023',
		 'replay: status must be failed or delivered (got bogus)', 'replay(unknown status) raises 22023');
SELECT throws_ok($$SELECT clawdstrike.replay(severity => 'urgent')$$, '22023',
		 'replay: severity must be one of info, low, medium, high, critical (got urgent)',
		 'replay(unknown severity) raises 22023');

SELECT * FROM finish();
ROLLBACK;
