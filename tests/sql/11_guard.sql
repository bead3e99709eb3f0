-- The status guard trusts roles, not settings.  Rows move to and from
-- sending/sent only inside the relay's SECURITY DEFINER functions (which run
-- as clawdstrike_owner); every other role may replay (failed/delivered ->
-- pending) and discard (pending -> failed), both audited by the system with
-- who and why, and nothing else -- whatever it sets.  The audit cannot be
-- forged, and every object of the schema belongs to the NOLOGIN owner.
BEGIN;
SELECT plan(86);

DELETE FROM clawdstrike.outbox;
DELETE FROM clawdstrike.batch;
DELETE FROM clawdstrike.replay_log;

CREATE FUNCTION pg_temp.ev() RETURNS jsonb LANGUAGE sql VOLATILE AS $$
	SELECT jsonb_build_object('event_id', gen_random_uuid(),
		'timestamp', '2024-05-01T12:00:00Z', 'event_type', 'policy_violation',
		'decision', jsonb_build_object('allowed', false, 'guard', 'g', 'severity', 'info'))
$$;
-- r: named rows; b: named batches (readable by every role of the test).
CREATE TEMP TABLE r (k text PRIMARY KEY, id bigint);
CREATE TEMP TABLE b (k text PRIMARY KEY, id bigint);
-- c: what each claim returned (the relay role cannot read the outbox)
CREATE TEMP TABLE c (k text, batch_id bigint, id bigint);
GRANT ALL ON r, b, c TO PUBLIC;
CREATE FUNCTION pg_temp.claim(key text, n integer) RETURNS void LANGUAGE sql AS $$
	INSERT INTO c SELECT key, x.batch_id, x.id FROM clawdstrike.claim('relay-a', n, 60) x;
	INSERT INTO b SELECT key, min(batch_id) FROM c WHERE k = key $$;
CREATE FUNCTION pg_temp.claimed(key text, n integer) RETURNS bigint[] LANGUAGE sql STABLE AS $$
	SELECT array_agg(id ORDER BY id) FROM (SELECT id FROM c WHERE k = key ORDER BY id LIMIT n) x $$;
-- HEC took the request of batch `key` (all the rows it claimed).  From
-- migration 0002 on mark_sent also takes the request's row ids: call
-- whichever signature this schema has, as the current role.
CREATE FUNCTION pg_temp.mark_sent(key text) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
	n integer;
BEGIN
	IF to_regprocedure('clawdstrike.mark_sent(bigint,bigint[],text,uuid,bigint,integer)') IS NOT NULL THEN
		EXECUTE 'SELECT clawdstrike.mark_sent($1, $2, $3, $4, $5, 60)' INTO n
		  USING pg_temp.b(key), pg_temp.claimed(key, 1000), 'https://hec-1:8088'::text,
			gen_random_uuid(), 1::bigint;
	ELSE
		EXECUTE 'SELECT clawdstrike.mark_sent($1, $2, $3, $4, 60)' INTO n
		  USING pg_temp.b(key), 'https://hec-1:8088'::text, gen_random_uuid(), 1::bigint;
	END IF;
	RETURN n;
END $$;
CREATE FUNCTION pg_temp.r(key text) RETURNS bigint LANGUAGE sql STABLE AS $$
	SELECT id FROM r WHERE k = key $$;
CREATE FUNCTION pg_temp.b(key text) RETURNS bigint LANGUAGE sql STABLE AS $$
	SELECT id FROM b WHERE k = key $$;
-- A row's whole state, to show a refused statement changed nothing.
CREATE FUNCTION pg_temp.row_state(key text) RETURNS text LANGUAGE sql STABLE AS $$
	SELECT concat_ws('|', o.status, o.batch_id, o.attempts, o.replays, o.last_error,
			 o.sent_at, o.delivered_at, o.failed_at)
	  FROM clawdstrike.outbox o WHERE o.id = pg_temp.r(key) $$;
CREATE FUNCTION pg_temp.refusal(key text, from_s text, to_s text) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT format('clawdstrike.outbox: status of row %s cannot change from %s to %s',
		      pg_temp.r(key), from_s, to_s) $$;

-- Ownership ----------------------------------------------------------------------------
SELECT has_role('clawdstrike_owner', 'role clawdstrike_owner exists');
SELECT row_eq($$SELECT rolcanlogin, rolsuper, rolcreaterole, rolcreatedb, rolbypassrls, rolreplication
		 FROM pg_roles WHERE rolname = 'clawdstrike_owner'$$,
	      ROW(false, false, false, false, false, false),
	      'the owner cannot log in and holds no special attribute');
SELECT schema_owner_is('clawdstrike', 'clawdstrike_owner', 'the schema belongs to clawdstrike_owner');
SELECT is_empty($$SELECT format('%s %s owned by %s', c.relkind, c.relname, pg_get_userbyid(c.relowner))
		    FROM pg_class c WHERE c.relnamespace = 'clawdstrike'::regnamespace
		     AND pg_get_userbyid(c.relowner) <> 'clawdstrike_owner'$$,
		'every table, sequence, index and view of the schema belongs to clawdstrike_owner');
SELECT is_empty($$SELECT format('%s owned by %s', p.oid::regprocedure, pg_get_userbyid(p.proowner))
		    FROM pg_proc p WHERE p.pronamespace = 'clawdstrike'::regnamespace
		     AND pg_get_userbyid(p.proowner) <> 'clawdstrike_owner'$$,
		'every function of the schema belongs to clawdstrike_owner');
SELECT is_empty($$SELECT format('%s owned by %s', t.typname, pg_get_userbyid(t.typowner))
		    FROM pg_type t WHERE t.typnamespace = 'clawdstrike'::regnamespace
		     AND pg_get_userbyid(t.typowner) <> 'clawdstrike_owner'$$,
		'every type of the schema belongs to clawdstrike_owner');
SELECT ok((SELECT count(*) FROM pg_proc WHERE pronamespace = 'clawdstrike'::regnamespace
	    AND prosecdef) >= 12, 'the relay functions are SECURITY DEFINER (so run as the owner)');
SELECT ok(NOT EXISTS (SELECT 1 FROM pg_roles o WHERE o.rolname = 'clawdstrike_owner'
			  AND pg_has_role(r, o.oid, 'MEMBER')), r || ' is not a member of the owner')
  FROM unnest(ARRAY['clawdstrike_engine', 'clawdstrike_relay', 'clawdstrike_analyst',
		    'clawdstrike_operator']) r;

-- The audit's shape and replay()'s signature ------------------------------------------
SELECT has_column('clawdstrike', 'replay_log', c, 'replay_log.' || c || ' exists')
  FROM unnest(ARRAY['to_status', 'reason', 'session_role']) c;
SELECT has_function('clawdstrike', 'replay', ARRAY['text', 'timestamp with time zone',
	'timestamp with time zone', 'text', 'text', 'text', 'boolean', 'text'],
	'replay() takes a trailing reason');
SELECT hasnt_function('clawdstrike', 'replay', ARRAY['text', 'timestamp with time zone',
	'timestamp with time zone', 'text', 'text', 'text', 'boolean'],
	'the seven-argument replay() is gone (no ambiguous overload)');

-- Fixture, made by the relay's own functions as clawdstrike_relay ----------------------
--   sent: a sent row          sending: a sending row      pend: pending, never claimed
--   rel: released (pending, its batch closed)            fail: failed   deliv: delivered
SELECT clawdstrike.enqueue(pg_temp.ev()) FROM generate_series(1, 3);
SET ROLE clawdstrike_relay;
SELECT pg_temp.claim('b1', 3);
SELECT is(clawdstrike.fail_rows(pg_temp.b('b1'), pg_temp.claimed('b1', 1),
	'HEC rejected the event: Invalid data format', 400, 6, 'Invalid data format'), 1,
	'relay: fail_rows of a sending row');
SELECT is(pg_temp.mark_sent('b1'), 2,
	  'relay: mark_sent');
SELECT is(clawdstrike.fail_rows(pg_temp.b('b1'), (pg_temp.claimed('b1', 2))[2:2], 'HEC rejected event 1 after the ack', 400, 6), 1,
	'relay: fail_rows of a sent row');
SELECT is(clawdstrike.mark_delivered(ARRAY[pg_temp.b('b1')]), 1, 'relay: mark_delivered');
RESET ROLE;
INSERT INTO r SELECT 'fail', min(id) FROM clawdstrike.outbox WHERE status = 'failed';
INSERT INTO r SELECT 'deliv', min(id) FROM clawdstrike.outbox WHERE status = 'delivered';
-- one row at a time: claim takes the oldest pending row first
SELECT clawdstrike.enqueue(pg_temp.ev());
SET ROLE clawdstrike_relay;
SELECT pg_temp.claim('b3', 10);
SELECT is(pg_temp.mark_sent('b3'), 1,
	  'relay: mark_sent of another batch');
RESET ROLE;
SELECT clawdstrike.enqueue(pg_temp.ev());
SET ROLE clawdstrike_relay;
SELECT pg_temp.claim('b4', 10);
RESET ROLE;
SELECT clawdstrike.enqueue(pg_temp.ev());
SET ROLE clawdstrike_relay;
SELECT pg_temp.claim('b2', 10);
SELECT is(clawdstrike.release(pg_temp.b('b2'), 'retry', 'HEC answered 503', false, 503), 1,
	  'relay: release of a sending row');
RESET ROLE;
INSERT INTO r SELECT 'rel', min(id) FROM clawdstrike.outbox WHERE status = 'pending';
INSERT INTO r SELECT 'sent', min(id) FROM clawdstrike.outbox WHERE batch_id = pg_temp.b('b3');
INSERT INTO r SELECT 'sending', min(id) FROM clawdstrike.outbox WHERE batch_id = pg_temp.b('b4');
INSERT INTO r VALUES ('pend', clawdstrike.enqueue(pg_temp.ev()));
SELECT is((SELECT string_agg(k || '=' || (SELECT status FROM clawdstrike.outbox WHERE id = r.id), ' ' ORDER BY k)
	     FROM r),
	  'deliv=delivered fail=failed pend=pending rel=pending sending=sending sent=sent',
	  'fixture: one row in every state, made by the relay functions');
SELECT is((SELECT state FROM clawdstrike.batch WHERE id = pg_temp.b('b2')), 'closed',
	  'the released row''s batch is closed');
SELECT is((SELECT count(*) FROM clawdstrike.replay_log), 0::bigint,
	  'the relay''s own transitions write no audit row');
CREATE TEMP TABLE before AS SELECT k, pg_temp.row_state(k) AS s FROM r;
GRANT SELECT ON before TO PUBLIC;

-- Attacks by the operator ----------------------------------------------------------------
SET ROLE clawdstrike_operator;
-- the old bypass: the marker release() used to set
SET LOCAL clawdstrike.in_release = 'on';
SELECT throws_ok(format('UPDATE clawdstrike.outbox SET status = ''pending'' WHERE id = %s', pg_temp.r('sent')),
		 '23514', pg_temp.refusal('sent', 'sent', 'pending'),
		 'operator with clawdstrike.in_release = on cannot pull a sent row back to pending');
SELECT throws_ok(format('UPDATE clawdstrike.outbox SET status = ''pending'' WHERE id = %s', pg_temp.r('sending')),
		 '23514', pg_temp.refusal('sending', 'sending', 'pending'),
		 'nor a sending row');
SELECT throws_ok($$UPDATE clawdstrike.outbox SET status = 'pending' WHERE status IN ('sending', 'sent')$$,
		 '23514', NULL, 'nor the in-flight rows in bulk');
RESET clawdstrike.in_release;
-- relay transitions are the relay's, whoever else asks
CREATE TEMP TABLE attack (n serial, row_key text, from_s text, to_s text);
INSERT INTO attack (row_key, from_s, to_s) VALUES
	('pend', 'pending', 'sending'),
	('rel', 'pending', 'sending'),   -- would sit in a closed batch forever
	('rel', 'pending', 'sent'),
	('sending', 'sending', 'sent'),
	('sending', 'sending', 'failed'),
	('sending', 'sending', 'delivered'),
	('sent', 'sent', 'delivered'),
	('sent', 'sent', 'failed'),
	('sent', 'sent', 'sending'),
	('fail', 'failed', 'sent'),
	('fail', 'failed', 'sending'),
	('fail', 'failed', 'delivered'),
	('deliv', 'delivered', 'sending'),
	('deliv', 'delivered', 'sent'),
	('deliv', 'delivered', 'failed');
SELECT throws_ok(
	format('UPDATE clawdstrike.outbox SET status = %L WHERE id = %s', to_s, pg_temp.r(row_key)),
	'23514', pg_temp.refusal(row_key, from_s, to_s),
	format('operator cannot move %s (%s) to %s', row_key, from_s, to_s))
  FROM attack ORDER BY n;
SET LOCAL clawdstrike.in_release = 'on';
SELECT throws_ok(format('UPDATE clawdstrike.outbox SET status = ''sending'' WHERE id = %s', pg_temp.r('rel')),
		 '23514', pg_temp.refusal('rel', 'pending', 'sending'),
		 'the setting changes none of that');
RESET clawdstrike.in_release;
-- the refusal explains itself
SELECT throws_like(format('UPDATE clawdstrike.outbox SET status = ''sent'' WHERE id = %s', pg_temp.r('sending')),
		   '%cannot change from sending to sent%', 'the refusal names the move');
CREATE FUNCTION pg_temp.hint_of(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE h text;
BEGIN
	EXECUTE stmt;
	RETURN NULL;
EXCEPTION WHEN check_violation THEN
	GET STACKED DIAGNOSTICS h = PG_EXCEPTION_HINT;
	RETURN h;
END $$;
SELECT matches(pg_temp.hint_of(format('UPDATE clawdstrike.outbox SET status = ''sent'' WHERE id = %s',
				      pg_temp.r('sending'))),
	       'replay.*discard.*relay', 'and its hint says what is allowed');
-- the audit cannot be forged or changed
SELECT throws_ok($$INSERT INTO clawdstrike.replay_log (outbox_id, event_id, from_status)
		  VALUES (1, gen_random_uuid(), 'failed')$$, '42501',
		 'permission denied for table replay_log', 'operator cannot INSERT forged replay_log rows');
SELECT throws_ok($$UPDATE clawdstrike.replay_log SET reason = 'x'$$, '42501',
		 'permission denied for table replay_log', 'operator cannot UPDATE replay_log');
SELECT throws_ok($$DELETE FROM clawdstrike.replay_log$$, '42501',
		 'permission denied for table replay_log', 'operator cannot DELETE replay_log rows');
SELECT results_eq($$SELECT k, pg_temp.row_state(k) FROM r ORDER BY k$$,
		  $$SELECT k, s FROM before ORDER BY k$$, 'every refused statement changed nothing');
SELECT is((SELECT count(*) FROM clawdstrike.replay_log), 0::bigint, 'and audited nothing');
RESET ROLE;

-- The test's superuser is not the owner: the same rules hold for it.
SELECT throws_ok(format('UPDATE clawdstrike.outbox SET status = ''sent'' WHERE id = %s', pg_temp.r('sending')),
		 '23514', pg_temp.refusal('sending', 'sending', 'sent'),
		 'a superuser''s plain UPDATE cannot make a relay move either');
SELECT throws_ok(format('UPDATE clawdstrike.outbox SET status = ''delivered'', delivered_at = now() WHERE id = %s',
			pg_temp.r('sent')),
		 '23514', pg_temp.refusal('sent', 'sent', 'delivered'),
		 'not even with the timestamps a delivered row needs');

-- What the operator may do: replay and discard, audited with who and why -----------------
SET ROLE clawdstrike_operator;
SET LOCAL clawdstrike.reason = 'index fixed (CHG-1234)';
SELECT lives_ok(format('UPDATE clawdstrike.outbox SET status = ''pending'' WHERE id = %s', pg_temp.r('fail')),
		'operator may replay a failed row');
RESET clawdstrike.reason;
SELECT row_eq($$SELECT from_status, to_status, last_error, replayed_by, session_role, reason, replayed_at
		 FROM clawdstrike.replay_log WHERE outbox_id = pg_temp.r('fail')$$,
	      ROW('failed'::text, 'pending'::text, 'HEC rejected the event: Invalid data format'::text,
		  'clawdstrike_operator'::text, session_user::text COLLATE "default",
		  'index fixed (CHG-1234)'::text, now()),
	      'the replay is audited: from, to, the old error, who (role and login) and why');
SELECT lives_ok(format('UPDATE clawdstrike.outbox SET status = ''pending'' WHERE id = %s', pg_temp.r('deliv')),
		'operator may replay a delivered row');
SELECT row_eq($$SELECT from_status, to_status, replayed_by, reason
		 FROM clawdstrike.replay_log WHERE outbox_id = pg_temp.r('deliv')$$,
	      ROW('delivered'::text, 'pending'::text, 'clawdstrike_operator'::text,
		  'UPDATE by clawdstrike_operator'::text),
	      'without clawdstrike.reason the reason says it was a plain UPDATE, and by whom');
SELECT is((SELECT replays FROM clawdstrike.outbox WHERE id = pg_temp.r('deliv')), 1, 'replays counted');

SET LOCAL clawdstrike.reason = 'poison event, ticket SOC-77';
SELECT lives_ok(format('UPDATE clawdstrike.outbox SET status = ''failed'' WHERE id = %s', pg_temp.r('rel')),
		'operator may discard a pending row');
RESET clawdstrike.reason;
SELECT row_eq($$SELECT status, last_error, failed_at, http_status, hec_code, hec_text
		 FROM clawdstrike.outbox WHERE id = pg_temp.r('rel')$$,
	      ROW('failed'::text, 'discarded by clawdstrike_operator: poison event, ticket SOC-77'::text,
		  now(), NULL::smallint, NULL::smallint, NULL::text),
	      'the discarded row''s error says who discarded it and why, not the old error');
SELECT row_eq($$SELECT from_status, to_status, last_error, replayed_by, reason
		 FROM clawdstrike.replay_log WHERE outbox_id = pg_temp.r('rel')$$,
	      ROW('pending'::text, 'failed'::text, 'HEC answered 503'::text, 'clawdstrike_operator'::text,
		  'poison event, ticket SOC-77'::text),
	      'the discard is audited, with the old error kept in the audit row');
SELECT is((SELECT reason FROM clawdstrike.dead_letter WHERE outbox_id = pg_temp.r('rel')),
	  'discarded by clawdstrike_operator: poison event, ticket SOC-77', 'dead_letter shows the discard');
SELECT lives_ok(format('UPDATE clawdstrike.outbox SET status = ''failed'' WHERE id = %s', pg_temp.r('pend')),
		'a discard without a reason');
SELECT is((SELECT last_error FROM clawdstrike.outbox WHERE id = pg_temp.r('pend')),
	  'discarded by clawdstrike_operator', 'says who');
SELECT is((SELECT reason FROM clawdstrike.replay_log WHERE outbox_id = pg_temp.r('pend')),
	  'UPDATE by clawdstrike_operator', 'and is audited with the default reason');

-- a no-op is no change and no audit
SELECT lives_ok(format('UPDATE clawdstrike.outbox SET status = ''failed'' WHERE id = %s', pg_temp.r('pend')),
		'setting a failed row to failed is allowed');
SELECT lives_ok(format('UPDATE clawdstrike.outbox SET status = ''sent'' WHERE id = %s', pg_temp.r('sent')),
		'setting a sent row to sent is allowed');
SELECT is((SELECT count(*) FROM clawdstrike.replay_log), 4::bigint, 'no-ops are not audited');

-- replay() takes a reason, which never outlives the call
SET LOCAL clawdstrike.reason = 'outer';
SELECT is(clawdstrike.replay('failed', error => 'discarded by', reason => 'resend after review'), 2::bigint,
	  'replay(reason => ...) replays');
SELECT is(current_setting('clawdstrike.reason', true), 'outer', 'and leaves clawdstrike.reason as it was');
RESET clawdstrike.reason;
SELECT set_eq($$SELECT reason || ' / ' || replayed_by FROM clawdstrike.replay_log
		 WHERE from_status = 'failed' AND outbox_id IN (pg_temp.r('rel'), pg_temp.r('pend'))$$,
	      ARRAY['resend after review / clawdstrike_operator'],
	      'replay() audits each row with its reason and the operator');
SELECT is(clawdstrike.replay('delivered', error => NULL, since => now() - interval '1 day', dry_run => true),
	  0::bigint, 'replay() without a reason still works (dry run)');
RESET ROLE;
-- fail the replayed row again, as the relay would, then replay() without a reason
SET ROLE clawdstrike_relay;
SELECT pg_temp.claim('b5', 100);
SELECT is(clawdstrike.fail_rows(pg_temp.b('b5'), ARRAY[pg_temp.r('pend')], 'rejected again'), 1,
	  'relay fails the row again');
SELECT is(clawdstrike.release(pg_temp.b('b5'), 'shutdown', 'relay stopping'), 3,
	  'relay releases the rest of its batch (no setting needed)');
RESET ROLE;
SET ROLE clawdstrike_operator;
SELECT is(clawdstrike.replay(error => 'rejected again'), 1::bigint, 'replay() with the old arguments');
SELECT is((SELECT reason FROM clawdstrike.replay_log WHERE outbox_id = pg_temp.r('pend') ORDER BY id DESC LIMIT 1),
	  'replay(failed) by clawdstrike_operator', 'is audited with a default reason naming the call');
RESET ROLE;

-- The relay's functions still make every move, as clawdstrike_relay --------------------
SET ROLE clawdstrike_relay;
SELECT pg_temp.claim('b6', 100);
SELECT ok(pg_temp.b('b6') IS NOT NULL, 'relay: claim');
INSERT INTO b VALUES ('split', clawdstrike.split(pg_temp.b('b6'), ARRAY[pg_temp.r('pend')]));
SELECT isnt(pg_temp.b('split'), NULL::bigint, 'relay: split');
SELECT is(clawdstrike.mark_rows_delivered(pg_temp.b('b6'), pg_temp.claimed('b6', 1)), 1,
	'relay: mark_rows_delivered');
SELECT is(pg_temp.mark_sent('b6'), 2,
	  'relay: mark_sent');
SELECT is(clawdstrike.release(pg_temp.b('b6'), 'ack_timeout', 'no ack', true), 2,
	  'relay: release of sent rows');
SELECT is(clawdstrike.release(pg_temp.b('b4'), 'shutdown', 'relay stopping'), 1, 'relay: release of b4');
SELECT is(clawdstrike.release(pg_temp.b('split'), 'shutdown', 'relay stopping'), 1,
	  'relay: release of the split batch');
SELECT is(clawdstrike.mark_delivered(ARRAY[pg_temp.b('b3')]), 1, 'relay: mark_delivered of a sent row');
RESET ROLE;
SELECT is((SELECT string_agg(status || '=' || n, ' ' ORDER BY status)
	     FROM (SELECT status, count(*) n FROM clawdstrike.outbox GROUP BY status) x),
	  'delivered=2 failed=1 pending=4', 'every row the relay let go of is pending again, none stuck in flight');
SELECT is((SELECT count(*) FROM clawdstrike.replay_log WHERE to_status = 'pending' AND from_status IN ('sending', 'sent')),
	  0::bigint, 'the relay''s releases are not replays');

SELECT * FROM finish();
ROLLBACK;
