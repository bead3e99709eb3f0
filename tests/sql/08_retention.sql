-- Retention: purge(older_than, max_rows) deletes delivered rows and closed
-- batch rows older than the age, oldest first, at most max_rows of each per
-- call, and never a pending, failed or in-flight row or an open batch.
BEGIN;
SELECT plan(27);

DELETE FROM clawdstrike.outbox;
DELETE FROM clawdstrike.batch;

CREATE FUNCTION pg_temp.ev() RETURNS jsonb LANGUAGE sql VOLATILE AS $$
	SELECT jsonb_build_object('event_id', gen_random_uuid(),
		'timestamp', '2024-05-01T12:00:00Z', 'event_type', 'policy_violation',
		'decision', jsonb_build_object('allowed', false, 'guard', 'g', 'severity', 'info'))
$$;
-- n rows delivered `age` ago, tagged in the event (their batch closes now).
CREATE FUNCTION pg_temp.delivered(tag text, n integer, age interval) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	bid bigint;
	ids bigint[];
BEGIN
	PERFORM clawdstrike.enqueue(pg_temp.ev() || jsonb_build_object('tag', tag))
	   FROM generate_series(1, n);
	SELECT min(batch_id), array_agg(id) INTO bid, ids FROM clawdstrike.claim('relay-a', n, 60);
	PERFORM clawdstrike.mark_rows_delivered(bid, ids, 'no_ack');
	UPDATE clawdstrike.outbox SET delivered_at = now() - age, enqueued_at = now() - age
	 WHERE batch_id = bid;
END;
$$;
-- A closed batch audit row closed `age` ago.
CREATE FUNCTION pg_temp.closed_batch(tag text, age interval) RETURNS void LANGUAGE sql AS $$
	INSERT INTO clawdstrike.batch (relay_instance, state, outcome, n_events, outbox_ids,
				       claimed_at, lease_until, closed_at)
	VALUES (tag, 'closed', 'acked', 0, '{}', now() - age, now() - age, now() - age)
$$;
CREATE FUNCTION pg_temp.n(tag text) RETURNS bigint LANGUAGE sql STABLE AS $$
	SELECT count(*) FROM clawdstrike.outbox WHERE event->>'tag' = tag $$;
CREATE FUNCTION pg_temp.nb(tag text) RETURNS bigint LANGUAGE sql STABLE AS $$
	SELECT count(*) FROM clawdstrike.batch WHERE relay_instance = tag $$;

SELECT pg_temp.delivered('d14', 1, '14 days');
SELECT pg_temp.delivered('d13', 1, '13 days');
SELECT pg_temp.delivered('d12', 1, '12 days');
SELECT pg_temp.delivered('d11', 1, '11 days');
SELECT pg_temp.delivered('d10', 1, '10 days');
SELECT pg_temp.delivered('d1', 2, '1 day');
-- for the default-age tests below (backdated there; claim would take the
-- pending fixture row if they were made later)
SELECT pg_temp.delivered('d8', 2, '0 days');
SELECT pg_temp.delivered('d6', 1, '0 days');
SELECT pg_temp.closed_batch('b40', '40 days') FROM generate_series(1, 3);
SELECT pg_temp.closed_batch('b20', '20 days');
SELECT pg_temp.closed_batch('b1', '1 day');
-- rows that must never be purged, all old: failed, sending, sent, pending
SELECT clawdstrike.enqueue(pg_temp.ev() || '{"tag": "failed"}');
SELECT clawdstrike.fail_rows(min(batch_id), array_agg(id), 'rejected') FROM clawdstrike.claim('relay-a', 1, 60);
SELECT clawdstrike.release(id, 'rejected', 'done') FROM clawdstrike.batch WHERE state = 'claimed';
SELECT clawdstrike.enqueue(pg_temp.ev() || '{"tag": "sent"}');
SELECT clawdstrike.mark_sent(min(batch_id), array_agg(id), 'https://hec:8088', NULL, 1, 60)
  FROM clawdstrike.claim('relay-old', 1, 60);
SELECT clawdstrike.enqueue(pg_temp.ev() || '{"tag": "sending"}');
SELECT count(*) FROM clawdstrike.claim('relay-old', 1, 60);
SELECT clawdstrike.enqueue(pg_temp.ev() || '{"tag": "pending"}');
UPDATE clawdstrike.outbox SET enqueued_at = now() - interval '60 days', failed_at = now() - interval '60 days'
 WHERE event->>'tag' IN ('failed', 'sent', 'sending', 'pending');
UPDATE clawdstrike.batch SET claimed_at = now() - interval '60 days', sent_at = now() - interval '60 days'
 WHERE relay_instance = 'relay-old';
SELECT is((SELECT count(*) FROM clawdstrike.outbox), 14::bigint, 'fixture: 10 delivered rows and 4 others');

-- Chunks of at most max_rows, oldest first --------------------------------------------
SELECT row_eq($$SELECT outbox_rows, batch_rows FROM clawdstrike.purge('7 days', 2)$$, ROW(2::bigint, 2::bigint),
	      'purge(7 days, 2) deletes two delivered rows and two closed batches older than retention_batches');
SELECT is(pg_temp.n('d14') + pg_temp.n('d13'), 0::bigint, 'the two oldest delivered rows went first');
SELECT is(pg_temp.n('d12') + pg_temp.n('d11') + pg_temp.n('d10'), 3::bigint, 'the younger ones are still there');
SELECT is(pg_temp.nb('b40'), 1::bigint, 'the oldest closed batches went first');
SELECT row_eq($$SELECT outbox_rows, batch_rows FROM clawdstrike.purge('7 days', 2)$$, ROW(2::bigint, 1::bigint), 'second chunk');
SELECT row_eq($$SELECT outbox_rows, batch_rows FROM clawdstrike.purge('7 days', 2)$$, ROW(1::bigint, 0::bigint), 'third chunk: the rest');
SELECT row_eq($$SELECT outbox_rows, batch_rows FROM clawdstrike.purge('7 days', 2)$$, ROW(0::bigint, 0::bigint), 'nothing left to purge');
SELECT is(pg_temp.n('d1'), 2::bigint, 'delivered rows younger than the age are kept');
SELECT is(pg_temp.nb('b1'), 1::bigint, 'closed batches younger than the age are kept');
SELECT is(pg_temp.nb('b20'), 1::bigint,
	  'the batch audit outlives the delivered rows: older_than (7 days) does not apply to it, retention_batches (30 days) does');
SELECT is((SELECT string_agg(event->>'tag' || '=' || status, ' ' ORDER BY event->>'tag') FROM clawdstrike.outbox
	    WHERE event->>'tag' IN ('failed', 'sent', 'sending', 'pending')),
	  'failed=failed pending=pending sending=sending sent=sent',
	  'old failed, pending and in-flight rows are never purged');
SELECT is((SELECT count(*) FROM clawdstrike.batch WHERE relay_instance = 'relay-old' AND state <> 'closed'),
	  2::bigint, 'old open batches are never purged');

-- Default ages from clawdstrike.settings ------------------------------------------------
UPDATE clawdstrike.outbox SET delivered_at = now() - interval '8 days' WHERE event->>'tag' = 'd8';
UPDATE clawdstrike.outbox SET delivered_at = now() - interval '6 days' WHERE event->>'tag' = 'd6';
SELECT pg_temp.closed_batch('b31', '31 days');
SELECT pg_temp.closed_batch('b29', '29 days');
SELECT row_eq($$SELECT outbox_rows, batch_rows FROM clawdstrike.purge()$$, ROW(2::bigint, 1::bigint),
	      'purge() uses retention_delivered (7 days) and retention_batches (30 days)');
SELECT is(pg_temp.n('d8') || '/' || pg_temp.n('d6'), '0/1', 'delivered rows: 8 days old purged, 6 days kept');
SELECT is(pg_temp.nb('b31') || '/' || pg_temp.nb('b29'), '0/1', 'batches: 31 days old purged, 29 days kept');
UPDATE clawdstrike.settings SET value = '2 days' WHERE key = 'retention_delivered';
UPDATE clawdstrike.settings SET value = '25 days' WHERE key = 'retention_batches';
SELECT row_eq($$SELECT outbox_rows, batch_rows FROM clawdstrike.purge()$$, ROW(1::bigint, 1::bigint),
	      'purge() follows changed settings');
SELECT is(pg_temp.n('d6') || '/' || pg_temp.nb('b29'), '0/0', 'the 6-day row and the 29-day batch went');
SELECT is(pg_temp.n('d1'), 2::bigint, 'the 1-day rows stay');
SELECT row_eq($$SELECT outbox_rows, batch_rows FROM clawdstrike.purge(max_rows => 0)$$, ROW(0::bigint, 0::bigint),
	      'max_rows 0 deletes nothing');

-- Even "everything is old" never touches rows that are not delivered --------------------
-- a replayed delivered row is pending again and not purged
UPDATE clawdstrike.outbox SET status = 'pending' WHERE id = (SELECT min(id) FROM clawdstrike.outbox
							       WHERE event->>'tag' = 'd1');
SELECT is((SELECT outbox_rows FROM clawdstrike.purge('-1 day', 100000)), 1::bigint,
	  'purge with a negative age deletes every delivered row (one left after the replay)');
SELECT is((SELECT count(*) FROM clawdstrike.outbox WHERE status = 'delivered'), 0::bigint, 'no delivered row left');
SELECT is((SELECT count(*) FROM clawdstrike.outbox), 5::bigint, 'the replayed, failed, pending and in-flight rows remain');
UPDATE clawdstrike.settings SET value = '-1 day' WHERE key = 'retention_batches';
SELECT cmp_ok((SELECT batch_rows FROM clawdstrike.purge('-1 day', 100000)), '>', 0::bigint,
	  'with retention_batches negative too, the remaining closed batches go');
SELECT is((SELECT count(*) FROM clawdstrike.batch WHERE state = 'closed'), 0::bigint, 'every closed batch is gone');
SELECT is((SELECT count(*) FROM clawdstrike.batch WHERE state <> 'closed'), 2::bigint, 'open batches remain');
SELECT results_eq($$SELECT string_agg(status, ',' ORDER BY status) FROM clawdstrike.outbox$$,
		  $$VALUES ('failed,pending,pending,sending,sent')$$,
		  'remaining statuses');

SELECT * FROM finish();
ROLLBACK;
