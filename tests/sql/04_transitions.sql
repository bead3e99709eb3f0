-- Every state transition of an outbox row, the relay functions that make
-- them, and the guards: illegal moves raise 23514, and a function called
-- with a stale batch id cannot move rows a newer batch owns.
BEGIN;
SELECT plan(94);

DELETE FROM clawdstrike.outbox;
DELETE FROM clawdstrike.batch;

CREATE FUNCTION pg_temp.ev(sev text DEFAULT 'info') RETURNS jsonb LANGUAGE sql VOLATILE AS $$
	SELECT jsonb_build_object('event_id', gen_random_uuid(),
		'timestamp', '2024-05-01T12:00:00Z', 'event_type', 'policy_violation',
		'decision', jsonb_build_object('allowed', false, 'guard', 'g', 'severity', sev))
$$;
-- r: named rows; b: named batches.
CREATE TEMP TABLE r (k text PRIMARY KEY, id bigint);
CREATE TEMP TABLE b (k text PRIMARY KEY, id bigint);
CREATE FUNCTION pg_temp.r(key text) RETURNS bigint LANGUAGE sql STABLE AS $$
	SELECT id FROM r WHERE k = key $$;
CREATE FUNCTION pg_temp.b(key text) RETURNS bigint LANGUAGE sql STABLE AS $$
	SELECT id FROM b WHERE k = key $$;
CREATE FUNCTION pg_temp.st(key text) RETURNS text LANGUAGE sql STABLE AS $$
	SELECT o.status FROM clawdstrike.outbox o WHERE o.id = pg_temp.r(key) $$;
-- The rows a batch claimed: what the relay puts into its request.
CREATE FUNCTION pg_temp.ids(key text) RETURNS bigint[] LANGUAGE sql STABLE AS $$
	SELECT x.outbox_ids FROM clawdstrike.batch x WHERE x.id = pg_temp.b(key) $$;

-- claim: pending -> sending ------------------------------------------------------
SELECT is_empty($$SELECT * FROM clawdstrike.claim('relay-a', 10, 60)$$,
		'claim on an empty outbox returns nothing');
SELECT is((SELECT count(*) FROM clawdstrike.batch), 0::bigint,
	  'and creates no batch row');

INSERT INTO r VALUES ('i1', clawdstrike.enqueue(pg_temp.ev('info')));
INSERT INTO r VALUES ('i2', clawdstrike.enqueue(pg_temp.ev('low')));
INSERT INTO r VALUES ('h1', clawdstrike.enqueue(pg_temp.ev('high')));
INSERT INTO r VALUES ('c1', clawdstrike.enqueue(pg_temp.ev('critical')));
INSERT INTO r VALUES ('m1', clawdstrike.enqueue(pg_temp.ev('medium')));
INSERT INTO r VALUES ('c2', clawdstrike.enqueue(pg_temp.ev('critical')));

CREATE TEMP TABLE c1 AS
	SELECT * FROM clawdstrike.claim('relay-a', 4, 60, '0a000000-0000-4000-8000-00000000000a',
					'6f1a2c8e-0000-4000-8000-000000000001')
		WITH ORDINALITY AS c(batch_id, id, attempts, event, n);
INSERT INTO b SELECT 'b1', min(batch_id) FROM c1;
SELECT results_eq($$SELECT id FROM c1 ORDER BY n$$,
		  $$SELECT pg_temp.r(k) FROM unnest(ARRAY['c1', 'c2', 'h1', 'i1']) k$$,
		  'claim returns critical first (oldest first), then high, then the oldest of the rest');
SELECT is((SELECT count(DISTINCT batch_id) FROM c1), 1::bigint, 'all claimed rows share one batch');
SELECT is((SELECT array_agg(DISTINCT attempts) FROM c1), ARRAY[1], 'claim returns attempts = 1');
SELECT is((SELECT event::text FROM c1 WHERE id = pg_temp.r('c1')),
	  (SELECT event::text FROM clawdstrike.outbox WHERE id = pg_temp.r('c1')),
	  'claim returns the event (json: the text of the stored jsonb)');
SELECT is((SELECT count(*) FROM clawdstrike.outbox WHERE status = 'sending'
	    AND batch_id = pg_temp.b('b1') AND attempts = 1), 4::bigint,
	  'claimed rows are sending, in the batch, attempts 1');
SELECT is((SELECT array_agg(status ORDER BY id) FROM clawdstrike.outbox
	    WHERE id IN (pg_temp.r('i2'), pg_temp.r('m1'))), ARRAY['pending', 'pending'],
	  'claim takes at most max_events rows; the rest stay pending');
SELECT row_eq($$SELECT relay_instance, state, outcome, n_events, outbox_ids, lease_until, claimed_at,
			owner, channel
		 FROM clawdstrike.batch WHERE id = pg_temp.b('b1')$$,
	      ROW('relay-a'::text, 'claimed'::text, NULL::text, 4,
		  (SELECT array_agg(id ORDER BY id) FROM c1), now() + interval '60 s', now(),
		  '0a000000-0000-4000-8000-00000000000a'::uuid,
		  '6f1a2c8e-0000-4000-8000-000000000001'::uuid),
	      'the batch row records relay, state claimed, the rows, the lease, the run and the ack channel');

-- mark_sent: sending -> sent ------------------------------------------------------
SELECT is(clawdstrike.mark_sent(pg_temp.b('b1'), pg_temp.ids('b1'), 'https://hec-1:8088',
	'6f1a2c8e-0000-4000-8000-000000000001', 17, 300), 4, 'mark_sent returns the rows moved');
SELECT is((SELECT count(*) FROM clawdstrike.outbox WHERE batch_id = pg_temp.b('b1')
	    AND status = 'sent' AND sent_at IS NOT NULL), 4::bigint, 'the rows are sent');
SELECT row_eq($$SELECT state, endpoint, channel, ack_id, http_status, sent_at, lease_until
		 FROM clawdstrike.batch WHERE id = pg_temp.b('b1')$$,
	      ROW('sent'::text, 'https://hec-1:8088'::text,
		  '6f1a2c8e-0000-4000-8000-000000000001'::uuid, 17::bigint, 200::smallint,
		  now(), now() + interval '300 s'),
	      'the batch records endpoint, channel, ack id, HTTP 200, sent time and the new lease');
SELECT is(clawdstrike.mark_sent(pg_temp.b('b1'), pg_temp.ids('b1'), 'https://hec-2:8088',
	'6f1a2c8e-0000-4000-8000-000000000002', 18, 300), 0,
	'mark_sent of a batch that is not claimed (already sent) returns 0');
SELECT is((SELECT endpoint || ' ' || ack_id FROM clawdstrike.batch WHERE id = pg_temp.b('b1')),
	  'https://hec-1:8088 17', 'and changes nothing');
SELECT is(clawdstrike.mark_sent(pg_temp.b('b1'), pg_temp.ids('b1'), 'https://hec-1:8088',
	'6f1a2c8e-0000-4000-8000-000000000001', 17, 300), 4,
	'repeating mark_sent with the same channel and ack id (answer lost) finds its own result');
SELECT is(clawdstrike.mark_sent(-1, pg_temp.ids('b1'), 'https://hec-1:8088', NULL, NULL, 300), 0,
	  'mark_sent of an unknown batch returns 0');

-- mark_delivered acked: sent -> delivered ------------------------------------------
SELECT throws_ok($$SELECT clawdstrike.mark_rows_delivered(pg_temp.b('b1'), pg_temp.ids('b1'), 'maybe')$$,
		 '22023', 'mark_rows_delivered: how must be prefix_commit or no_ack (got maybe)',
		 'mark_rows_delivered rejects an unknown delivery kind');
SELECT is(clawdstrike.mark_delivered(ARRAY[pg_temp.b('b1')]), 4, 'mark_delivered returns the rows moved');
SELECT is((SELECT count(*) FROM clawdstrike.outbox WHERE batch_id = pg_temp.b('b1')
	    AND status = 'delivered' AND delivery = 'acked' AND delivered_at = now()), 4::bigint,
	  'the rows are delivered (acked) with delivered_at');
SELECT row_eq($$SELECT state, outcome, acked_at, closed_at FROM clawdstrike.batch WHERE id = pg_temp.b('b1')$$,
	      ROW('closed'::text, 'acked'::text, now(), now()),
	      'the batch is closed, outcome acked, with the ack time');
SELECT is(clawdstrike.mark_delivered(ARRAY[pg_temp.b('b1')]), 0,
	  'mark_delivered again (an ack reported twice) moves nothing');

-- A delivered row cannot be claimed.
INSERT INTO b SELECT 'b2', min(batch_id) FROM clawdstrike.claim('relay-a', 100, 60);
SELECT is((SELECT array_agg(id ORDER BY id) FROM clawdstrike.outbox WHERE batch_id = pg_temp.b('b2')),
	  ARRAY[pg_temp.r('i2'), pg_temp.r('m1')], 'claim takes only the pending rows');
SELECT is((SELECT count(*) FROM clawdstrike.outbox WHERE status = 'delivered'
	    AND batch_id = pg_temp.b('b1')), 4::bigint, 'a delivered row is never claimed');

-- mark_rows_delivered no_ack: sending -> delivered (HEC's JSON success, acks off)
SELECT is(clawdstrike.mark_delivered(ARRAY[pg_temp.b('b2')]), 0,
	  'mark_delivered of a claimed batch (no ack id ever recorded) moves nothing');
SELECT is((SELECT state FROM clawdstrike.batch WHERE id = pg_temp.b('b2')), 'claimed',
	  'and leaves the batch claimed');
SELECT is(clawdstrike.mark_rows_delivered(pg_temp.b('b2'), pg_temp.ids('b2'), 'no_ack'), 2,
	  'mark_rows_delivered no_ack moves the sending rows of the request');
SELECT is((SELECT array_agg(DISTINCT delivery) FROM clawdstrike.outbox WHERE batch_id = pg_temp.b('b2')
	    AND status = 'delivered' AND sent_at IS NOT NULL), ARRAY['no_ack'],
	  'rows are delivered (no_ack) with a sent time');
SELECT row_eq($$SELECT state, outcome, acked_at, http_status, sent_at FROM clawdstrike.batch
		 WHERE id = pg_temp.b('b2')$$,
	      ROW('closed'::text, 'no_ack'::text, NULL::timestamptz, 200::smallint, now()),
	      'the batch is closed, outcome no_ack, no ack time');

-- prefix commit, fail_rows, release ---------------------------------------------------
INSERT INTO r VALUES ('p1', clawdstrike.enqueue(pg_temp.ev()));
INSERT INTO r VALUES ('p2', clawdstrike.enqueue(pg_temp.ev()));
INSERT INTO r VALUES ('p3', clawdstrike.enqueue(pg_temp.ev('high')));
INSERT INTO r VALUES ('p4', clawdstrike.enqueue(pg_temp.ev()));
INSERT INTO b SELECT 'b3', min(batch_id) FROM clawdstrike.claim('relay-a', 100, 60);
SELECT is(clawdstrike.mark_rows_delivered(pg_temp.b('b3'), ARRAY[pg_temp.r('p1'), pg_temp.r('p2')]), 2,
	  'mark_rows_delivered returns the rows moved');
SELECT is((SELECT array_agg(delivery ORDER BY id) FROM clawdstrike.outbox
	    WHERE id IN (pg_temp.r('p1'), pg_temp.r('p2')) AND status = 'delivered'),
	  ARRAY['prefix_commit', 'prefix_commit'], 'the prefix is delivered as prefix_commit');
SELECT is((SELECT state FROM clawdstrike.batch WHERE id = pg_temp.b('b3')), 'claimed',
	  'the batch stays open for its other rows');

SELECT throws_ok($$SELECT clawdstrike.fail_rows(pg_temp.b('b3'), ARRAY[pg_temp.r('p3')], NULL)$$,
		 '22023', 'fail_rows: a reason is required', 'fail_rows requires a reason');
SELECT throws_ok($$SELECT clawdstrike.fail_rows(pg_temp.b('b3'), ARRAY[pg_temp.r('p3')], '')$$,
		 '22023', 'fail_rows: a reason is required', 'fail_rows rejects an empty reason');
SELECT is(pg_temp.st('p3'), 'sending', 'the row is untouched by the rejected call');
SELECT is(clawdstrike.fail_rows(pg_temp.b('b3'), ARRAY[pg_temp.r('p3')],
	'HEC rejected event 2: Invalid data format', 400, 6, 'Invalid data format'), 1,
	'fail_rows returns the rows moved');
SELECT row_eq($$SELECT outbox_id, reason, http_status, hec_code, hec_text, attempts, failed_at
		 FROM clawdstrike.dead_letter WHERE outbox_id = pg_temp.r('p3')$$,
	      ROW(pg_temp.r('p3'), 'HEC rejected event 2: Invalid data format'::text,
		  400::smallint, 6::smallint, 'Invalid data format'::text, 1, now()),
	      'dead_letter shows the failed row with reason, HTTP status, HEC code and text');
SELECT row_eq($$SELECT event_id, event, severity FROM clawdstrike.dead_letter
		 WHERE outbox_id = pg_temp.r('p3')$$,
	      (SELECT ROW(event_id, event, 'high'::text) FROM clawdstrike.outbox WHERE id = pg_temp.r('p3')),
	      'dead_letter carries the event, its event_id and severity');
SELECT is(clawdstrike.fail_rows(pg_temp.b('b3'), ARRAY[pg_temp.r('p1')], 'late'), 0,
	  'fail_rows does not touch a delivered row');

SELECT is(clawdstrike.release(pg_temp.b('b3'), 'rejected', 'resent after HEC rejected event 2',
	false, 400, 6, 'Invalid data format'), 1, 'release returns the rows given back');
SELECT row_eq($$SELECT status, last_error, http_status, attempts FROM clawdstrike.outbox
		 WHERE id = pg_temp.r('p4')$$,
	      ROW('pending'::text, 'resent after HEC rejected event 2'::text, 400::smallint, 1),
	      'the released row is pending again with the reason, attempts kept');
SELECT row_eq($$SELECT state, outcome, closed_at, http_status, hec_code, duplicates_risked
		 FROM clawdstrike.batch WHERE id = pg_temp.b('b3')$$,
	      ROW('closed'::text, 'rejected'::text, now(), 400::smallint, 6::smallint, 0),
	      'the batch is closed with the outcome; no duplicates risked');
SELECT is((SELECT array_agg(status ORDER BY id) FROM clawdstrike.outbox
	    WHERE id IN (pg_temp.r('p1'), pg_temp.r('p3'))), ARRAY['delivered', 'failed'],
	  'release leaves the delivered and failed rows of the batch alone');

-- release after an ack timeout: duplicates risked, from sent
INSERT INTO b SELECT 'b4', min(batch_id) FROM clawdstrike.claim('relay-a', 100, 60);
SELECT is(clawdstrike.mark_sent(pg_temp.b('b4'), pg_temp.ids('b4'), 'https://hec-1:8088',
	'6f1a2c8e-0000-4000-8000-000000000001', 18, 300), 1, 'p4 re-claimed and sent');
SELECT is(clawdstrike.release(pg_temp.b('b4'), 'ack_timeout', 'no ack within 300 s', true), 1,
	  'release of a sent batch after an ack timeout');
SELECT row_eq($$SELECT status, attempts, last_error FROM clawdstrike.outbox WHERE id = pg_temp.r('p4')$$,
	      ROW('pending'::text, 2, 'no ack within 300 s'::text),
	      'sent -> pending, attempts counted');
SELECT row_eq($$SELECT outcome, duplicates_risked, hec_text FROM clawdstrike.batch WHERE id = pg_temp.b('b4')$$,
	      ROW('ack_timeout'::text, 1, 'no ack within 300 s'::text),
	      'the batch counts the rows as risked duplicates');
SELECT is(clawdstrike.release(pg_temp.b('b4'), 'again', 'x', true), 0,
	  'releasing a closed batch again moves nothing');
SELECT is((SELECT outcome || ' ' || duplicates_risked FROM clawdstrike.batch WHERE id = pg_temp.b('b4')),
	  'ack_timeout 1', 'and does not change its outcome or count');

-- split ----------------------------------------------------------------------------
INSERT INTO r VALUES ('s1', clawdstrike.enqueue(pg_temp.ev()));
INSERT INTO r VALUES ('s2', clawdstrike.enqueue(pg_temp.ev()));
INSERT INTO b SELECT 'b5', min(batch_id) FROM clawdstrike.claim('relay-a', 100, 60);
SELECT is((SELECT n_events FROM clawdstrike.batch WHERE id = pg_temp.b('b5')), 3, 'b5 holds p4, s1, s2');
INSERT INTO b VALUES ('b6', clawdstrike.split(pg_temp.b('b5'), ARRAY[pg_temp.r('s1'), pg_temp.r('s2')]));
SELECT isnt(pg_temp.b('b6'), NULL, 'split returns a new batch id');
SELECT row_eq($$SELECT relay_instance, state, n_events, outbox_ids, lease_until FROM clawdstrike.batch
		 WHERE id = pg_temp.b('b6')$$,
	      (SELECT ROW(relay_instance, 'claimed'::text, 2, ARRAY[pg_temp.r('s1'), pg_temp.r('s2')], lease_until)
		 FROM clawdstrike.batch WHERE id = pg_temp.b('b5')),
	      'the new batch holds the moved rows, same relay and lease');
SELECT row_eq($$SELECT n_events, outbox_ids FROM clawdstrike.batch WHERE id = pg_temp.b('b5')$$,
	      ROW(1, ARRAY[pg_temp.r('p4')]), 'the old batch keeps the rest');
SELECT is((SELECT array_agg(batch_id ORDER BY id) FROM clawdstrike.outbox
	    WHERE id IN (pg_temp.r('p4'), pg_temp.r('s1'), pg_temp.r('s2'))),
	  ARRAY[pg_temp.b('b5'), pg_temp.b('b6'), pg_temp.b('b6')], 'the rows point at their batches');
SELECT is(clawdstrike.mark_sent(pg_temp.b('b6'), pg_temp.ids('b6'), 'https://hec-1:8088', NULL, NULL, 60), 2,
	  'the split batch is sent on its own');
SELECT is(clawdstrike.split(pg_temp.b('b6'), ARRAY[pg_temp.r('s1')]), NULL,
	  'a sent batch cannot be split');
SELECT is(clawdstrike.mark_sent(pg_temp.b('b5'), pg_temp.ids('b5'), 'https://hec-1:8088',
	'6f1a2c8e-0000-4000-8000-000000000001', 19, 60), 1, 'and the rest of the old one');
SELECT is(clawdstrike.mark_delivered(ARRAY[pg_temp.b('b5'), pg_temp.b('b6')]), 3,
	  'mark_delivered takes several batches at once');

-- discard: pending -> failed by an operator ------------------------------------------
INSERT INTO r VALUES ('d1', clawdstrike.enqueue(pg_temp.ev()));
UPDATE clawdstrike.outbox SET status = 'failed' WHERE id = pg_temp.r('d1');
SELECT row_eq($$SELECT status, last_error, failed_at FROM clawdstrike.outbox WHERE id = pg_temp.r('d1')$$,
	      ROW('failed'::text, ('discarded by ' || current_user) COLLATE "default", now()),
	      'an operator may discard a pending row (pending -> failed, who recorded)');

-- Illegal moves -------------------------------------------------------------------------
INSERT INTO r VALUES ('x_sending', clawdstrike.enqueue(pg_temp.ev()));
INSERT INTO b SELECT 'bx', min(batch_id) FROM clawdstrike.claim('relay-a', 1, 60);
INSERT INTO r VALUES ('x_sent', clawdstrike.enqueue(pg_temp.ev()));
INSERT INTO b SELECT 'by', min(batch_id) FROM clawdstrike.claim('relay-a', 1, 60);
SELECT is(clawdstrike.mark_sent(pg_temp.b('by'), pg_temp.ids('by'), 'https://hec-1:8088', NULL, NULL, 60), 1,
	  'one row sent');
INSERT INTO r VALUES ('x_pending', clawdstrike.enqueue(pg_temp.ev()));
SELECT is(pg_temp.st('x_pending') || '/' || pg_temp.st('x_sending') || '/' || pg_temp.st('x_sent'),
	  'pending/sending/sent', 'a pending, a sending and a sent row for the illegal-move tests');

CREATE TEMP TABLE illegal (n serial, row_key text, from_s text, to_s text);
INSERT INTO illegal (row_key, from_s, to_s) VALUES
	('x_pending', 'pending', 'delivered'),
	('x_pending', 'pending', 'sent'),
	('p1', 'delivered', 'sent'),
	('p1', 'delivered', 'sending'),
	('p1', 'delivered', 'failed'),
	('p3', 'failed', 'delivered'),
	('p3', 'failed', 'sending'),
	('p3', 'failed', 'sent'),
	('x_sent', 'sent', 'sending'),
	('x_sent', 'sent', 'failed'),
	-- only release() gives in-flight rows back, never a plain UPDATE
	('x_sending', 'sending', 'pending'),
	('x_sent', 'sent', 'pending'),
	-- and only the relay functions make the relay's moves
	('x_pending', 'pending', 'sending'),
	('x_sending', 'sending', 'sent'),
	('x_sending', 'sending', 'failed'),
	('x_sent', 'sent', 'delivered');
SELECT throws_ok(
	format('UPDATE clawdstrike.outbox SET status = %L WHERE id = %s', to_s, pg_temp.r(row_key)),
	'23514',
	format('clawdstrike.outbox: status of row %s cannot change from %s to %s',
	       pg_temp.r(row_key), from_s, to_s),
	format('illegal move %s -> %s raises 23514', from_s, to_s))
  FROM illegal ORDER BY n;
SELECT is((SELECT array_agg(pg_temp.st(k) ORDER BY k) FROM unnest(ARRAY['p1', 'p3', 'x_pending', 'x_sending', 'x_sent']) k),
	  ARRAY['delivered', 'failed', 'pending', 'sending', 'sent'], 'the rows kept their status');
-- The relay's own moves are the relay functions' alone: a plain UPDATE
-- (here the test's superuser, which is not the schema owner) cannot make
-- them, not even with the columns the row constraints ask for
-- (tests/sql/11_guard.sql attacks this as the operator).
SELECT throws_ok(format('UPDATE clawdstrike.outbox SET status = ''delivered'', delivered_at = now() WHERE id = %s',
			pg_temp.r('x_sending')), '23514',
		 format('clawdstrike.outbox: status of row %s cannot change from sending to delivered',
			pg_temp.r('x_sending')),
		 'sending -> delivered by a plain UPDATE is refused');

-- Fencing: a stale batch id cannot move rows a newer batch owns ----------------------
INSERT INTO r VALUES ('f1', clawdstrike.enqueue(pg_temp.ev('critical')));
INSERT INTO b SELECT 'old', min(batch_id) FROM clawdstrike.claim('relay-a', 1, 60);
SELECT is((SELECT batch_id FROM clawdstrike.outbox WHERE id = pg_temp.r('f1')), pg_temp.b('old'),
	  'f1 claimed by the old batch');
-- the old relay's lease expires and another relay recovers and re-claims f1
UPDATE clawdstrike.batch SET lease_until = now() - interval '1 s' WHERE id = pg_temp.b('old');
SELECT is_empty($$SELECT * FROM clawdstrike.recover('relay-b', 60, false)$$,
		'recover by relay-b releases the expired batch');
INSERT INTO b SELECT 'new', min(batch_id) FROM clawdstrike.claim('relay-b', 1, 60);
SELECT is((SELECT batch_id FROM clawdstrike.outbox WHERE id = pg_temp.r('f1')), pg_temp.b('new'),
	  'f1 re-claimed by the new batch');
SELECT is(clawdstrike.mark_sent(pg_temp.b('old'), ARRAY[pg_temp.r('f1')], 'https://stale', NULL, 99, 60), 0,
	  'stale mark_sent returns 0');
SELECT is(clawdstrike.mark_delivered(ARRAY[pg_temp.b('old')]), 0, 'stale mark_delivered moves nothing');
SELECT is(clawdstrike.mark_rows_delivered(pg_temp.b('old'), ARRAY[pg_temp.r('f1')]), 0,
	  'stale mark_rows_delivered moves nothing');
SELECT is(clawdstrike.fail_rows(pg_temp.b('old'), ARRAY[pg_temp.r('f1')], 'stale'), 0,
	  'stale fail_rows moves nothing');
SELECT is(clawdstrike.release(pg_temp.b('old'), 'retry', 'stale'), 0, 'stale release moves nothing');
SELECT is(clawdstrike.split(pg_temp.b('old'), ARRAY[pg_temp.r('f1')]), NULL, 'stale split does nothing');
SELECT row_eq($$SELECT status, batch_id, last_error FROM clawdstrike.outbox WHERE id = pg_temp.r('f1')$$,
	      ROW('sending'::text, pg_temp.b('new'),
		  format('relay relay-a stopped before HEC answered batch %s', pg_temp.b('old'))),
	      'f1 still belongs to the new batch');
SELECT is((SELECT state FROM clawdstrike.batch WHERE id = pg_temp.b('new')), 'claimed',
	  'the new batch is untouched');
-- and the same once the new batch has sent
SELECT is(clawdstrike.mark_sent(pg_temp.b('new'), ARRAY[pg_temp.r('f1')], 'https://hec-1:8088', NULL, 5, 60), 1,
	  'new batch sent');
SELECT is(clawdstrike.mark_delivered(ARRAY[pg_temp.b('old')]), 0, 'stale mark_delivered of a sent row: nothing');
SELECT is(clawdstrike.release(pg_temp.b('old'), 'retry', 'stale'), 0, 'stale release of a sent row: nothing');
SELECT is(pg_temp.st('f1'), 'sent', 'f1 still sent');
SELECT is(clawdstrike.mark_delivered(ARRAY[pg_temp.b('new')]), 1, 'the new batch delivers f1');

SELECT * FROM finish();
ROLLBACK;
