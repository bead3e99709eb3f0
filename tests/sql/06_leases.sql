-- Leases: recover(relay, lease_s, startup, run) returns expired claimed
-- batches to pending (counted as risked duplicates), adopts expired sent
-- batches for ack polling (owner := run), and at startup releases/resumes
-- the caller's own batches from an earlier run; heartbeat(run, ids, lease_s)
-- extends the leases of the named batches the run holds, and only those.
-- Expiry is simulated by backdating lease_until.  Each batch here has an ack
-- channel of its own (recovery across a shared channel: 12_proof.sql).
BEGIN;
SELECT plan(44);

DELETE FROM clawdstrike.outbox;
DELETE FROM clawdstrike.batch;

CREATE FUNCTION pg_temp.ev() RETURNS jsonb LANGUAGE sql VOLATILE AS $$
	SELECT jsonb_build_object('event_id', gen_random_uuid(),
		'timestamp', '2024-05-01T12:00:00Z', 'event_type', 'policy_violation',
		'decision', jsonb_build_object('allowed', false, 'guard', 'g', 'severity', 'info'))
$$;
CREATE TEMP TABLE b (k text PRIMARY KEY, id bigint);
CREATE FUNCTION pg_temp.b(key text) RETURNS bigint LANGUAGE sql STABLE AS $$
	SELECT id FROM b WHERE k = key $$;
-- The run token of a relay's process (one per relay here).
CREATE FUNCTION pg_temp.run(relay text) RETURNS uuid LANGUAGE sql IMMUTABLE AS $$
	SELECT md5('run-' || relay)::uuid $$;
-- A batch of n new rows claimed by relay's run on ack channel md5(key),
-- optionally sent, optionally expired.
CREATE FUNCTION pg_temp.mk(key text, relay text, n integer, sent boolean, expired boolean)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	bid bigint;
BEGIN
	PERFORM clawdstrike.enqueue(pg_temp.ev()) FROM generate_series(1, n);
	SELECT min(c.batch_id) INTO bid
	  FROM clawdstrike.claim(relay, n, 60, pg_temp.run(relay), md5(key)::uuid) c;
	IF sent THEN
		PERFORM clawdstrike.mark_sent(bid, (SELECT x.outbox_ids FROM clawdstrike.batch x WHERE x.id = bid),
			'https://hec-' || key || ':8088', md5(key)::uuid, length(key) * 10, 60);
	END IF;
	IF expired THEN
		UPDATE clawdstrike.batch SET lease_until = now() - interval '1 second' WHERE id = bid;
	END IF;
	INSERT INTO b VALUES (key, bid);
	RETURN bid;
END;
$$;
CREATE FUNCTION pg_temp.batch(key text) RETURNS clawdstrike.batch LANGUAGE sql STABLE AS $$
	SELECT * FROM clawdstrike.batch WHERE id = pg_temp.b(key) $$;
CREATE FUNCTION pg_temp.rows(key text) RETURNS text LANGUAGE sql STABLE AS $$
	SELECT string_agg(DISTINCT status, ',') FROM clawdstrike.outbox
	 WHERE id = ANY ((pg_temp.batch(key)).outbox_ids) $$;

SELECT pg_temp.mk('b_claimed_expired',  'relay-b', 2, false, true);
SELECT pg_temp.mk('b_claimed_live',     'relay-b', 1, false, false);
SELECT pg_temp.mk('b_sent_expired',     'relay-b', 3, true,  true);
SELECT pg_temp.mk('b_sent_live',        'relay-b', 1, true,  false);
SELECT pg_temp.mk('a_claimed_live',     'relay-a', 2, false, false);
SELECT pg_temp.mk('a_sent_live',        'relay-a', 1, true,  false);
SELECT pg_temp.mk('b_closed_expired',   'relay-b', 1, true,  true);
SELECT clawdstrike.mark_delivered(ARRAY[pg_temp.b('b_closed_expired')]);
SELECT is((SELECT count(*) FROM clawdstrike.batch WHERE state <> 'closed'), 6::bigint,
	  'fixture: six open batches of two relays, one closed');

-- Periodic recovery (startup = false) by relay-a ----------------------------------
CREATE TEMP TABLE rec1 AS SELECT * FROM clawdstrike.recover('relay-a', 90, false, pg_temp.run('relay-a'));
SELECT results_eq($$SELECT batch_id, endpoint, channel, ack_id, sent_at, n_events FROM rec1$$,
		  $$SELECT id, endpoint, channel, ack_id, sent_at, n_events FROM clawdstrike.batch
		    WHERE id = pg_temp.b('b_sent_expired')$$,
		  'recover returns only the expired sent batch, with its endpoint, channel and ack id');
SELECT is((SELECT endpoint || ' ' || ack_id FROM rec1), 'https://hec-b_sent_expired:8088 140',
	  'the persisted endpoint and ack id come back for resumed ack polling');

-- expired claimed batch of another relay: back to pending
SELECT row_eq($$SELECT state, outcome, duplicates_risked, closed_at FROM clawdstrike.batch
		 WHERE id = pg_temp.b('b_claimed_expired')$$,
	      ROW('closed'::text, 'lease_expired'::text, 2, now()),
	      'an expired claimed batch is closed as lease_expired with its rows counted as risked duplicates');
SELECT is(pg_temp.rows('b_claimed_expired'), 'pending', 'its rows are pending again');
SELECT is((SELECT array_agg(DISTINCT last_error) FROM clawdstrike.outbox
	    WHERE id = ANY ((pg_temp.batch('b_claimed_expired')).outbox_ids)),
	  ARRAY[format('relay relay-b stopped before HEC answered batch %s', pg_temp.b('b_claimed_expired'))],
	  'with the reason recorded');
SELECT is((SELECT array_agg(DISTINCT attempts) FROM clawdstrike.outbox
	    WHERE id = ANY ((pg_temp.batch('b_claimed_expired')).outbox_ids)),
	  ARRAY[1], 'the attempt is counted');

-- expired sent batch of another relay: adopted
SELECT row_eq($$SELECT relay_instance, owner, state, lease_until FROM clawdstrike.batch
		 WHERE id = pg_temp.b('b_sent_expired')$$,
	      ROW('relay-a'::text, pg_temp.run('relay-a'), 'sent'::text, now() + interval '90 s'),
	      'an expired sent batch of a dead relay is adopted: relay_instance and owner change, lease renewed');
SELECT is(pg_temp.rows('b_sent_expired'), 'sent', 'its rows stay sent (no resend)');

-- live batches are left alone
SELECT row_eq($$SELECT relay_instance, state FROM clawdstrike.batch WHERE id = pg_temp.b('b_claimed_live')$$,
	      ROW('relay-b'::text, 'claimed'::text), 'an unexpired claimed batch of another relay is left alone');
SELECT is(pg_temp.rows('b_claimed_live'), 'sending', 'its rows stay sending');
SELECT row_eq($$SELECT relay_instance, state FROM clawdstrike.batch WHERE id = pg_temp.b('b_sent_live')$$,
	      ROW('relay-b'::text, 'sent'::text), 'an unexpired sent batch of another relay is left alone');
SELECT row_eq($$SELECT state, lease_until FROM clawdstrike.batch WHERE id = pg_temp.b('a_claimed_live')$$,
	      ROW('claimed'::text, now() + interval '60 s'),
	      'with startup = false the caller''s own live claimed batch is left alone');
SELECT row_eq($$SELECT state, lease_until FROM clawdstrike.batch WHERE id = pg_temp.b('a_sent_live')$$,
	      ROW('sent'::text, now() + interval '60 s'),
	      'and so is its own live sent batch');
SELECT row_eq($$SELECT relay_instance, outcome FROM clawdstrike.batch WHERE id = pg_temp.b('b_closed_expired')$$,
	      ROW('relay-b'::text, 'acked'::text), 'a closed batch is never touched');
SELECT is_empty($$SELECT * FROM clawdstrike.recover('relay-a', 90, false, pg_temp.run('relay-a'))$$,
		'a second periodic recover finds nothing (the adopted lease is live)');

-- released rows are claimed again
SELECT set_eq($$SELECT id FROM clawdstrike.claim('relay-c', 10, 60)$$,
	      $$SELECT unnest(outbox_ids) FROM clawdstrike.batch WHERE id = pg_temp.b('b_claimed_expired')$$,
	      'the rows of the expired batch are claimed again by another relay');
INSERT INTO b SELECT 'c_reclaimed', max(id) FROM clawdstrike.batch WHERE relay_instance = 'relay-c';
SELECT is((SELECT array_agg(DISTINCT attempts) FROM clawdstrike.outbox WHERE batch_id = pg_temp.b('c_reclaimed')),
	  ARRAY[2], 'as their second attempt');

-- Startup recovery (startup = true) by relay-a's next process (a new run) ------------
CREATE TEMP TABLE rec2 AS SELECT * FROM clawdstrike.recover('relay-a', 120, true, pg_temp.run('relay-a2'));
SELECT set_eq($$SELECT batch_id FROM rec2$$,
	      ARRAY[pg_temp.b('b_sent_expired'), pg_temp.b('a_sent_live')],
	      'at startup the caller''s sent batches are returned for resumed ack polling');
SELECT is((SELECT endpoint FROM rec2 WHERE batch_id = pg_temp.b('a_sent_live')),
	  'https://hec-a_sent_live:8088', 'with the endpoint that took them');
SELECT row_eq($$SELECT relay_instance, owner, state, lease_until FROM clawdstrike.batch WHERE id = pg_temp.b('a_sent_live')$$,
	      ROW('relay-a'::text, pg_temp.run('relay-a2'), 'sent'::text, now() + interval '120 s'),
	      'its own sent batch stays sent with a renewed lease, now owned by the new run');
SELECT is(pg_temp.rows('a_sent_live'), 'sent', 'and its rows stay sent');
SELECT row_eq($$SELECT state, outcome, duplicates_risked FROM clawdstrike.batch WHERE id = pg_temp.b('a_claimed_live')$$,
	      ROW('closed'::text, 'lease_expired'::text, 2),
	      'at startup the caller''s own claimed batches are released (risked duplicates counted)');
SELECT is(pg_temp.rows('a_claimed_live'), 'pending', 'their rows are pending again');
SELECT row_eq($$SELECT relay_instance, state FROM clawdstrike.batch WHERE id = pg_temp.b('b_claimed_live')$$,
	      ROW('relay-b'::text, 'claimed'::text), 'another relay''s live claimed batch is still left alone');
SELECT row_eq($$SELECT relay_instance, state FROM clawdstrike.batch WHERE id = pg_temp.b('b_sent_live')$$,
	      ROW('relay-b'::text, 'sent'::text), 'another relay''s live sent batch is still left alone');
SELECT row_eq($$SELECT relay_instance, state FROM clawdstrike.batch WHERE id = pg_temp.b('c_reclaimed')$$,
	      ROW('relay-c'::text, 'claimed'::text), 'relay-c''s live batch is left alone');

-- Partly finished batch: only the rows still in flight are released and counted.
SELECT pg_temp.mk('d_partial', 'relay-d', 3, false, false);
SELECT clawdstrike.mark_rows_delivered(pg_temp.b('d_partial'), (pg_temp.batch('d_partial')).outbox_ids[1:1]);
UPDATE clawdstrike.batch SET lease_until = now() - interval '1 second' WHERE id = pg_temp.b('d_partial');
SELECT is_empty($$SELECT * FROM clawdstrike.recover('relay-e', 60, false, pg_temp.run('relay-e'))$$, 'recover by relay-e');
SELECT is((pg_temp.batch('d_partial')).duplicates_risked, 2,
	  'only the two rows still in flight are counted as risked duplicates');
SELECT is((SELECT array_agg(status ORDER BY id) FROM clawdstrike.outbox
	    WHERE id = ANY ((pg_temp.batch('d_partial')).outbox_ids)),
	  ARRAY['delivered', 'pending', 'pending'], 'the delivered row stays delivered');

-- heartbeat ---------------------------------------------------------------------------
-- relay-b's run holds b_claimed_live and b_sent_live; it names them, a
-- closed batch and another run's batch: only its own open ones are renewed.
SELECT set_eq($$SELECT * FROM clawdstrike.heartbeat(pg_temp.run('relay-b'),
		ARRAY[pg_temp.b('b_claimed_live'), pg_temp.b('b_sent_live'),
		      pg_temp.b('b_closed_expired'), pg_temp.b('a_sent_live')], 300)$$,
	      ARRAY[pg_temp.b('b_claimed_live'), pg_temp.b('b_sent_live')],
	      'heartbeat returns the named open batches the run owns');
SELECT is((SELECT array_agg(DISTINCT lease_until) FROM clawdstrike.batch
	    WHERE relay_instance = 'relay-b' AND state <> 'closed'),
	  ARRAY[now() + interval '300 s'], 'heartbeat extends their leases');
SELECT is((pg_temp.batch('b_closed_expired')).lease_until, now() - interval '1 second',
	  'heartbeat does not touch closed batches');
SELECT is((pg_temp.batch('a_sent_live')).lease_until, now() + interval '120 s',
	  'heartbeat does not touch another run''s batches');
SELECT is_empty($$SELECT * FROM clawdstrike.heartbeat(pg_temp.run('relay-nobody'),
		ARRAY[pg_temp.b('b_claimed_live')], 300)$$,
		'heartbeat of a run that owns none of the named batches renews nothing');
SELECT is((pg_temp.batch('b_claimed_live')).lease_until, now() + interval '300 s',
	  'and leaves their leases alone');
SELECT set_eq($$SELECT * FROM clawdstrike.heartbeat(pg_temp.run('relay-b'),
		ARRAY[pg_temp.b('b_claimed_live')], 30)$$,
	      ARRAY[pg_temp.b('b_claimed_live')], 'heartbeat of one named batch');
SELECT is((pg_temp.batch('b_sent_live')).lease_until, now() + interval '300 s',
	  'leaves the run''s batches it did not name alone');
-- an extended lease protects the batch from recovery ...
UPDATE clawdstrike.batch SET lease_until = now() - interval '1 second' WHERE id = pg_temp.b('b_claimed_live');
SELECT set_eq($$SELECT * FROM clawdstrike.heartbeat(pg_temp.run('relay-b'),
		ARRAY[pg_temp.b('b_claimed_live')], 30)$$,
	      ARRAY[pg_temp.b('b_claimed_live')],
	      'heartbeat after the lease ran out still renews a batch nobody took back');
SELECT is_empty($$SELECT * FROM clawdstrike.recover('relay-x', 60, false, pg_temp.run('relay-x'))$$,
		'recover by relay-x');
SELECT is((pg_temp.batch('b_claimed_live')).state, 'claimed',
	  'a batch whose lease was renewed by heartbeat is not recovered');
-- ... and without it the batch is recovered
UPDATE clawdstrike.batch SET lease_until = now() - interval '1 second' WHERE id = pg_temp.b('b_claimed_live');
SELECT is_empty($$SELECT * FROM clawdstrike.recover('relay-x', 60, false, pg_temp.run('relay-x'))$$,
		'recover by relay-x again');
SELECT is((pg_temp.batch('b_claimed_live')).outcome, 'lease_expired', 'without a heartbeat it is recovered');
SELECT is_empty($$SELECT * FROM clawdstrike.heartbeat(pg_temp.run('relay-b'),
		ARRAY[pg_temp.b('b_claimed_live')], 30)$$,
		'a heartbeat for a batch taken back renews nothing (the caller drops it)');

SELECT * FROM finish();
ROLLBACK;
