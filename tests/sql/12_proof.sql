-- Proof of delivery (issue 12), as properties of the relay's SQL.  Each
-- test is an attack: a call a relay (stale, forgetful, or a second process)
-- can make, and what it must not achieve.  Most of them succeeded against
-- the functions before migration 0002 (sql/30_relay.sql at 93971ff, called
-- through the new signatures): mark_sent and the no_ack delivery moved every
-- sending row, mark_delivered delivered a batch that was never sent,
-- heartbeats renewed every batch of an instance name, recovery trusted any
-- sent batch, release() kept batch_id, split() lost the run and the channel,
-- and nothing kept two processes off one instance_id.
BEGIN;
SELECT plan(71);

DELETE FROM clawdstrike.outbox;
DELETE FROM clawdstrike.batch;

CREATE FUNCTION pg_temp.ev() RETURNS jsonb LANGUAGE sql VOLATILE AS $$
	SELECT jsonb_build_object('event_id', gen_random_uuid(),
		'timestamp', '2024-05-01T12:00:00Z', 'event_type', 'policy_violation',
		'decision', jsonb_build_object('allowed', false, 'guard', 'g', 'severity', 'info'))
$$;
-- u(name): a fixed uuid per name (run tokens, ack channels).
CREATE FUNCTION pg_temp.u(name text) RETURNS uuid LANGUAGE sql IMMUTABLE AS $$
	SELECT md5(name)::uuid $$;
-- b: named batches; c: the rows each one claimed (released rows lose their
-- batch_id, so this is how a test still finds them).
CREATE TEMP TABLE b (k text PRIMARY KEY, id bigint);
CREATE TEMP TABLE c (k text, id bigint);
CREATE FUNCTION pg_temp.b(key text) RETURNS bigint LANGUAGE sql STABLE AS $$
	SELECT id FROM b WHERE k = key $$;
CREATE FUNCTION pg_temp.ids(key text) RETURNS bigint[] LANGUAGE sql STABLE AS $$
	SELECT array_agg(id ORDER BY id) FROM c WHERE k = key $$;
CREATE FUNCTION pg_temp.batch(key text) RETURNS clawdstrike.batch LANGUAGE sql STABLE AS $$
	SELECT * FROM clawdstrike.batch WHERE id = pg_temp.b(key) $$;
-- The statuses (and batch ids) of the rows `key` claimed, distinct.
CREATE FUNCTION pg_temp.st(key text) RETURNS text LANGUAGE sql STABLE AS $$
	SELECT string_agg(DISTINCT o.status || coalesce('@' || o.batch_id, ''), ',')
	  FROM clawdstrike.outbox o WHERE o.id IN (SELECT id FROM c WHERE k = key) $$;
-- Claim n new rows as `relay`, run `run`, on ack channel `chan`.
CREATE FUNCTION pg_temp.mk(key text, relay text, run text, chan text, n integer)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	bid bigint;
BEGIN
	PERFORM clawdstrike.enqueue(pg_temp.ev()) FROM generate_series(1, n);
	CREATE TEMP TABLE got ON COMMIT DROP AS
		SELECT * FROM clawdstrike.claim(relay, n, 60, pg_temp.u(run), pg_temp.u(chan));
	SELECT min(g.batch_id) INTO bid FROM got g;
	INSERT INTO b VALUES (key, bid);
	INSERT INTO c SELECT key, g.id FROM got g;
	DROP TABLE got;
	RETURN bid;
END;
$$;
-- HEC took the request holding all of `key`'s rows, with ack id `ack`.
CREATE FUNCTION pg_temp.send(key text, ack bigint) RETURNS integer LANGUAGE sql AS $$
	SELECT clawdstrike.mark_sent(pg_temp.b(key), pg_temp.ids(key), 'https://hec:8088',
				     (pg_temp.batch(key)).channel, ack, 60) $$;
CREATE FUNCTION pg_temp.expire(key text) RETURNS void LANGUAGE sql AS $$
	UPDATE clawdstrike.batch SET lease_until = now() - interval '1 second'
	 WHERE id = pg_temp.b(key) $$;
CREATE FUNCTION pg_temp.reset() RETURNS void LANGUAGE sql AS $$
	DELETE FROM clawdstrike.outbox;
	DELETE FROM clawdstrike.batch;
	DELETE FROM b;
	DELETE FROM c;
$$;

-- mark_sent moves exactly the rows of the request -----------------------------------
-- A post built from part of the claim (an SQL error while building it left
-- the rest out): only those rows are in HEC.
SELECT pg_temp.mk('sub', 'relay-a', 'run-1', 'ch-1', 4);
SELECT is(clawdstrike.mark_sent(pg_temp.b('sub'), (pg_temp.ids('sub'))[1:2], 'https://hec:8088',
				pg_temp.u('ch-1'), 1, 60), 2,
	  'mark_sent with two of four claimed ids moves two rows');
SELECT is((SELECT string_agg(DISTINCT status, ',') FROM clawdstrike.outbox
	    WHERE id = ANY ((pg_temp.ids('sub'))[1:2])), 'sent', 'the two in the request are sent');
SELECT is((SELECT string_agg(DISTINCT status || '/' || coalesce(batch_id::text, 'no batch'), ',')
	     FROM clawdstrike.outbox WHERE id = ANY ((pg_temp.ids('sub'))[3:4])),
	  'pending/no batch', 'the two left out are pending again, in no batch');
SELECT row_eq($$SELECT n_events, outbox_ids FROM clawdstrike.batch WHERE id = pg_temp.b('sub')$$,
	      ROW(2, (pg_temp.ids('sub'))[1:2]),
	      'the batch audit holds the rows of the request only');
SELECT is(clawdstrike.mark_sent(pg_temp.b('sub'), (pg_temp.ids('sub'))[1:2], 'https://hec:8088',
				pg_temp.u('ch-1'), 1, 60), 2,
	  'mark_sent repeated (its answer was lost) finds its own result');
SELECT is((SELECT count(*) FROM clawdstrike.outbox WHERE id = ANY (pg_temp.ids('sub'))
	    AND status = 'pending'), 2::bigint, 'and moves nothing more');
SELECT is(clawdstrike.mark_delivered(ARRAY[pg_temp.b('sub')]), 2,
	  'the ack delivers two rows');
SELECT set_eq($$SELECT id FROM clawdstrike.outbox WHERE status = 'delivered'$$,
	      (pg_temp.ids('sub'))[1:2], 'exactly the rows of the request are delivered');

-- mark_delivered delivers only a sent batch's sent rows -------------------------------
SELECT pg_temp.reset();
SELECT pg_temp.mk('cl', 'relay-a', 'run-1', 'ch-1', 2);
SELECT is(clawdstrike.mark_delivered(ARRAY[pg_temp.b('cl')]), 0,
	  'mark_delivered of a claimed batch (never sent, no ack id) delivers nothing');
SELECT row_eq($$SELECT (pg_temp.batch('cl')).state, pg_temp.st('cl')$$,
	      ROW('claimed'::text, 'sending@' || pg_temp.b('cl')),
	      'the batch stays claimed, its rows sending');
SELECT pg_temp.mk('rel', 'relay-a', 'run-1', 'ch-1', 2);
SELECT pg_temp.send('rel', 5);
SELECT clawdstrike.release(pg_temp.b('rel'), 'ack_timeout', 'no ack', true);
SELECT is(clawdstrike.mark_delivered(ARRAY[pg_temp.b('rel')]), 0,
	  'mark_delivered of a released batch (a late true) delivers nothing');
SELECT is(pg_temp.st('rel'), 'pending', 'its rows stay pending');
SELECT pg_temp.mk('rep', 'relay-a', 'run-1', 'ch-1', 2);
SELECT pg_temp.send('rep', 6);
SELECT is(clawdstrike.mark_delivered(ARRAY[pg_temp.b('rep')]), 2, 'an acked batch is delivered');
SELECT is(clawdstrike.mark_delivered(ARRAY[pg_temp.b('rep')]), 0, 'the same call again is a no-op');
SELECT is((SELECT count(*) FROM clawdstrike.outbox WHERE status = 'delivered'), 2::bigint,
	  'only the acked batch''s rows are delivered');

-- no_ack delivers only a batch the caller still holds ---------------------------------
SELECT pg_temp.reset();
SELECT pg_temp.mk('nk1', 'relay-a', 'run-1', 'ch-1', 2);
SELECT pg_temp.expire('nk1');
SELECT lives_ok($$SELECT * FROM clawdstrike.recover('relay-b', 60, false, pg_temp.u('run-b'))$$,
		'relay-b takes back relay-a''s expired claim');
SELECT is(clawdstrike.mark_rows_delivered(pg_temp.b('nk1'), pg_temp.ids('nk1'), 'no_ack'), 0,
	  'no_ack of a claim taken back (released) delivers nothing');
SELECT is(pg_temp.st('nk1'), 'pending', 'its rows stay pending');
SELECT pg_temp.mk('nk2', 'relay-a', 'run-1', 'ch-2', 2);
SELECT pg_temp.send('nk2', 1);
SELECT pg_temp.expire('nk2');
SELECT is((SELECT count(*) FROM clawdstrike.recover('relay-b', 60, false, pg_temp.u('run-b'))), 1::bigint,
	  'relay-b adopts relay-a''s expired sent batch');
SELECT is(clawdstrike.mark_rows_delivered(pg_temp.b('nk2'), pg_temp.ids('nk2'), 'no_ack'), 0,
	  'no_ack by the stale relay of a batch taken over delivers nothing');
SELECT row_eq($$SELECT (pg_temp.batch('nk2')).state, pg_temp.st('nk2')$$,
	      ROW('sent'::text, 'sent@' || pg_temp.b('nk2')), 'the batch and its rows stay sent');

-- heartbeat renews only what the process holds; a forgotten batch expires ------------
SELECT pg_temp.reset();
SELECT pg_temp.mk('held', 'relay-a', 'run-1', 'ch-1', 1);
-- an ambiguous claim: it committed, but its answer never reached the relay
SELECT pg_temp.mk('lost', 'relay-a', 'run-1', 'ch-1', 2);
SELECT pg_temp.expire('held');
SELECT pg_temp.expire('lost');
SELECT is_empty($$SELECT * FROM clawdstrike.heartbeat(pg_temp.u('run-2'), ARRAY[pg_temp.b('held')], 60)$$,
		'a heartbeat by another run (same instance name) renews nothing');
SELECT set_eq($$SELECT * FROM clawdstrike.heartbeat(pg_temp.u('run-1'), ARRAY[pg_temp.b('held')], 60)$$,
	      ARRAY[pg_temp.b('held')], 'the heartbeat renews the one batch the run names');
SELECT ok((pg_temp.batch('lost')).lease_until < now(), 'the forgotten batch''s lease stays expired');
SELECT lives_ok($$SELECT * FROM clawdstrike.recover('relay-b', 60, false, pg_temp.u('run-b'))$$,
		'periodic recover by another relay');
SELECT row_eq($$SELECT (pg_temp.batch('lost')).state, (pg_temp.batch('lost')).outcome,
		       (pg_temp.batch('lost')).duplicates_risked, pg_temp.st('lost')$$,
	      ROW('closed'::text, 'lease_expired'::text, 2, 'pending'::text),
	      'takes the forgotten batch back: released, rows pending in no batch, risk counted');
SELECT row_eq($$SELECT (pg_temp.batch('held')).state, (pg_temp.batch('held')).owner$$,
	      ROW('claimed'::text, pg_temp.u('run-1')), 'the held batch is left to its run');

-- recover distrusts every channel with a request of unknown outcome ----------------
SELECT pg_temp.reset();
-- relay-d died (kill -9) with: a claimed batch on channel C whose request
-- may have gone out; two sent batches on C (one with a lease still live);
-- a sent batch on D; two sent batches on F with the same ack id; and on E a
-- sent batch whose lease ran out before that of a claim on E (claimed after
-- the last heartbeat).
SELECT pg_temp.mk('k', 'relay-d', 'run-d', 'C', 2);
SELECT pg_temp.mk('s1', 'relay-d', 'run-d', 'C', 1);
SELECT pg_temp.mk('s2', 'relay-d', 'run-d', 'C', 1);
SELECT pg_temp.mk('s3', 'relay-d', 'run-d', 'D', 2);
SELECT pg_temp.mk('f1', 'relay-d', 'run-d', 'F', 1);
SELECT pg_temp.mk('f2', 'relay-d', 'run-d', 'F', 1);
SELECT pg_temp.mk('es', 'relay-d', 'run-d', 'E', 1);
SELECT pg_temp.mk('ek', 'relay-d', 'run-d', 'E', 1);
SELECT pg_temp.send(k, n) FROM (VALUES ('s1', 1), ('s2', 2), ('s3', 1), ('f1', 7), ('f2', 7), ('es', 1)) v(k, n);
SELECT pg_temp.expire(k) FROM unnest(ARRAY['k', 's1', 's3', 'f1', 'f2', 'es']) k;
CREATE TEMP TABLE rec AS SELECT * FROM clawdstrike.recover('relay-x', 90, false, pg_temp.u('run-x'));
SELECT row_eq($$SELECT (pg_temp.batch('k')).outcome, (pg_temp.batch('k')).duplicates_risked, pg_temp.st('k')$$,
	      ROW('lease_expired'::text, 2, 'pending'::text),
	      'the expired claim on C is released, its rows counted as risked duplicates');
SELECT results_eq($$SELECT k, (pg_temp.batch(k)).state, (pg_temp.batch(k)).outcome,
			   (pg_temp.batch(k)).duplicates_risked, pg_temp.st(k)
		      FROM unnest(ARRAY['s1', 's2']) k ORDER BY k$$,
		  $$VALUES ('s1', 'closed', 'unconfirmable', 1, 'pending'),
			   ('s2', 'closed', 'unconfirmable', 1, 'pending')$$,
		  'every sent batch on C, expired or not, is released (its ack id may answer for the unknown request)');
SELECT row_eq($$SELECT (pg_temp.batch('s3')).state, (pg_temp.batch('s3')).relay_instance,
		       (pg_temp.batch('s3')).owner, pg_temp.st('s3')$$,
	      ROW('sent'::text, 'relay-x'::text, pg_temp.u('run-x'), 'sent@' || pg_temp.b('s3')),
	      'the sent batch on D (no claim on D) is adopted: owner is the recovering run, rows stay sent');
-- Both come back: the ack id is not a key.  The relay's tracker (src/acks.c)
-- refuses the second id it already tracks on a channel and retires the
-- channel, which releases both (retire_channel).
SELECT set_eq($$SELECT batch_id FROM rec$$,
	      ARRAY[pg_temp.b('s3'), pg_temp.b('f1'), pg_temp.b('f2')],
	      'recover returns the adoptable batches: D''s and both of F''s, same (channel, ack id)');
SELECT row_eq($$SELECT (pg_temp.batch('es')).state, (pg_temp.batch('es')).outcome, pg_temp.st('es')$$,
	      ROW('closed'::text, 'unconfirmable'::text, 'pending'::text),
	      'a sent batch whose channel still has a claim open is released, not adopted');
SELECT is((pg_temp.batch('ek')).state, 'claimed', 'and the live claim on E is left alone');

-- retire_channel --------------------------------------------------------------------
SELECT pg_temp.reset();
SELECT pg_temp.mk('r1', 'relay-a', 'run-1', 'C', 2);
SELECT pg_temp.mk('r2', 'relay-a', 'run-1', 'C', 1);
SELECT pg_temp.mk('rk', 'relay-a', 'run-1', 'C', 1);
SELECT pg_temp.mk('r3', 'relay-a', 'run-1', 'D', 1);
SELECT pg_temp.send(k, n) FROM (VALUES ('r1', 1), ('r2', 2), ('r3', 1)) v(k, n);
SELECT is(clawdstrike.retire_channel(pg_temp.u('C'), NULL, 'channel_reset', 'ack ids reissued'), 3,
	  'retire_channel releases the rows of the sent batches on the channel');
SELECT results_eq($$SELECT k, (pg_temp.batch(k)).state, (pg_temp.batch(k)).duplicates_risked, pg_temp.st(k)
		      FROM unnest(ARRAY['r1', 'r2', 'r3', 'rk']) k ORDER BY k$$,
		  $$VALUES ('r1', 'closed', 2, 'pending'), ('r2', 'closed', 1, 'pending'),
			   ('r3', 'sent', 0, 'sent@' || pg_temp.b('r3')),
			   ('rk', 'claimed', 0, 'sending@' || pg_temp.b('rk'))$$,
		  'exactly those: the sent batch on D and the claim on C are untouched');
SELECT pg_temp.mk('q', 'relay-a', 'run-1', 'G', 2);
SELECT pg_temp.mk('g', 'relay-a', 'run-1', 'G', 1);
SELECT pg_temp.send('g', 1);
SELECT is(clawdstrike.retire_channel(pg_temp.u('G'), pg_temp.b('q'), 'answer_lost', 'reply lost'), 3,
	  'retire_channel with the batch whose answer was lost releases it and the channel''s sent batches');
SELECT results_eq($$SELECT k, (pg_temp.batch(k)).outcome, (pg_temp.batch(k)).duplicates_risked
		      FROM unnest(ARRAY['g', 'q']) k ORDER BY k$$,
		  $$VALUES ('g', 'unconfirmable', 1), ('q', 'answer_lost', 2)$$,
		  'the lost request gets the caller''s outcome, the others unconfirmable, all counted');

-- register: one process per instance name -----------------------------------------
CREATE FUNCTION pg_temp.register_tests() RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
	conn text := format('dbname=%s port=%s', current_database(), current_setting('port'));
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'dblink') THEN
		RETURN NEXT skip('dblink is not installed (postgresql-contrib)', 5);
		RETURN;
	END IF;
	CREATE EXTENSION IF NOT EXISTS dblink;
	PERFORM dblink_connect('proof_a', conn);
	PERFORM dblink_connect('proof_b', conn);
	RETURN NEXT is((SELECT ok FROM dblink('proof_a', $q$SELECT clawdstrike.register('proof-relay')$q$) AS t(ok boolean)),
		       true, 'the first process registers its instance name');
	RETURN NEXT is((SELECT ok FROM dblink('proof_b', $q$SELECT clawdstrike.register('proof-relay')$q$) AS t(ok boolean)),
		       false, 'a second session cannot register the same name while the first lives');
	RETURN NEXT is((SELECT ok FROM dblink('proof_b', $q$SELECT clawdstrike.register('proof-other')$q$) AS t(ok boolean)),
		       true, 'it can register another name');
	PERFORM dblink_disconnect('proof_a');
	-- the lock goes with the session (a dying backend may take a moment)
	FOR i IN 1..50 LOOP
		EXIT WHEN NOT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory'
				       AND classid = hashtext('clawdstrike.relay')::oid
				       AND objid = hashtext('proof-relay')::oid);
		PERFORM pg_sleep(0.1);
	END LOOP;
	RETURN NEXT is((SELECT ok FROM dblink('proof_b', $q$SELECT clawdstrike.register('proof-relay')$q$) AS t(ok boolean)),
		       true, 'after the first session ends (a restart, kill -9 included) the name is free');
	RETURN NEXT is(clawdstrike.register('proof-relay'), false, 'and taken again: this session is refused');
	PERFORM dblink_disconnect('proof_b');
END;
$$;
SELECT * FROM pg_temp.register_tests();

-- release clears batch_id; split carries run and channel; set_channel --------------
SELECT pg_temp.reset();
SELECT pg_temp.mk('rl', 'relay-a', 'run-1', 'ch-1', 2);
SELECT is(clawdstrike.release(pg_temp.b('rl'), 'retry', 'HEC 503'), 2, 'release gives two rows back');
SELECT is(pg_temp.st('rl'), 'pending', 'released rows are in no batch (batch_id NULL)');
SELECT pg_temp.mk('sp', 'relay-a', 'run-1', 'ch-1', 3);
INSERT INTO b VALUES ('sp2', clawdstrike.split(pg_temp.b('sp'), (pg_temp.ids('sp'))[3:3]));
SELECT row_eq($$SELECT owner, channel, relay_instance, state FROM clawdstrike.batch WHERE id = pg_temp.b('sp2')$$,
	      ROW(pg_temp.u('run-1'), pg_temp.u('ch-1'), 'relay-a'::text, 'claimed'::text),
	      'the batch split off carries the run and the ack channel');
SELECT set_eq($$SELECT * FROM clawdstrike.heartbeat(pg_temp.u('run-1'), ARRAY[pg_temp.b('sp2')], 60)$$,
	      ARRAY[pg_temp.b('sp2')], 'so the run''s heartbeat renews it');
SELECT is(clawdstrike.set_channel(pg_temp.b('sp'), pg_temp.u('ch-9')), true,
	  'set_channel of a claimed batch (its request goes out on another channel)');
SELECT is((pg_temp.batch('sp')).channel, pg_temp.u('ch-9'), 'records the new channel');
SELECT is(clawdstrike.mark_sent(pg_temp.b('sp'), (pg_temp.ids('sp'))[1:2], 'https://hec:8088',
				pg_temp.u('ch-9'), 3, 60), 2, 'the batch is sent on it');
SELECT is(clawdstrike.set_channel(pg_temp.b('sp'), pg_temp.u('ch-1')), false,
	  'set_channel of a sent batch: not ours to move');
SELECT is((pg_temp.batch('sp')).channel, pg_temp.u('ch-9'), 'the channel stays');

-- roles ---------------------------------------------------------------------------------
SELECT pg_temp.reset();
SELECT clawdstrike.enqueue(pg_temp.ev()) FROM generate_series(1, 3);
GRANT SELECT, INSERT ON b, c TO PUBLIC;
SET ROLE clawdstrike_relay;
SELECT lives_ok($$CREATE TEMP TABLE rc AS SELECT * FROM clawdstrike.claim('relay-r', 2, 60,
		  '0a000000-0000-4000-8000-0000000000a1', '0c000000-0000-4000-8000-0000000000c1')$$,
		'relay can call claim with run and channel');
INSERT INTO b SELECT 'role', min(batch_id) FROM rc;
SELECT is(clawdstrike.set_channel(pg_temp.b('role'), '0c000000-0000-4000-8000-0000000000c2'), true,
	  'relay can call set_channel');
SELECT is(clawdstrike.mark_sent(pg_temp.b('role'),
	  ARRAY(SELECT id FROM rc WHERE batch_id = pg_temp.b('role')),
	  'https://hec:8088', '0c000000-0000-4000-8000-0000000000c2', 1, 60), 2,
	  'relay can call mark_sent with the ids');
SELECT lives_ok($$SELECT * FROM clawdstrike.heartbeat('0a000000-0000-4000-8000-0000000000a1',
		  ARRAY[pg_temp.b('role')], 60)$$, 'relay can call heartbeat');
SELECT is(clawdstrike.mark_delivered(ARRAY[pg_temp.b('role')]), 2, 'relay can call mark_delivered');
SELECT lives_ok($$INSERT INTO rc SELECT * FROM clawdstrike.claim('relay-r', 1, 60,
		  '0a000000-0000-4000-8000-0000000000a1', NULL)$$,
		'relay can claim without an ack channel');
INSERT INTO b SELECT 'role2', max(batch_id) FROM rc;
SELECT is(clawdstrike.mark_rows_delivered(pg_temp.b('role2'),
	  ARRAY(SELECT id FROM rc WHERE batch_id = pg_temp.b('role2')), 'no_ack'), 1,
	  'relay can call mark_rows_delivered no_ack');
SELECT is(clawdstrike.retire_channel('0c000000-0000-4000-8000-0000000000c2', NULL, 'channel_reset', 'r'), 0,
	  'relay can call retire_channel');
SELECT is(clawdstrike.register('proof-role-relay'), true, 'relay can call register');
SELECT lives_ok($$SELECT * FROM clawdstrike.recover('relay-r', 60, true, '0a000000-0000-4000-8000-0000000000a1')$$,
		'relay can call recover');
RESET ROLE;
CREATE TEMP TABLE denied (n serial, fn text, call text);
INSERT INTO denied (fn, call) VALUES
	('set_channel', $$SELECT clawdstrike.set_channel(1, gen_random_uuid())$$),
	('retire_channel', $$SELECT clawdstrike.retire_channel(gen_random_uuid(), NULL, 'x', 'x')$$),
	('heartbeat', $$SELECT * FROM clawdstrike.heartbeat(gen_random_uuid(), ARRAY[1::bigint], 60)$$),
	('register', $$SELECT clawdstrike.register('proof-role-x')$$),
	('recover', $$SELECT * FROM clawdstrike.recover('x', 60, true, gen_random_uuid())$$);
GRANT SELECT ON denied TO PUBLIC;
SET ROLE clawdstrike_operator;
SELECT throws_ok(call, '42501', 'permission denied for function ' || fn, 'operator cannot call ' || fn)
  FROM denied ORDER BY n;
RESET ROLE;
SET ROLE clawdstrike_engine;
SELECT throws_ok(call, '42501', 'permission denied for function ' || fn, 'engine cannot call ' || fn)
  FROM denied ORDER BY n;
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
