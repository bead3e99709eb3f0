-- Operator views: status_counts, backlog, in_flight, dead_letter_by_reason,
-- delivery_latency, throughput and batch_outcomes over a known fixture.
BEGIN;
SELECT plan(19);

DELETE FROM clawdstrike.outbox;
DELETE FROM clawdstrike.batch;

CREATE FUNCTION pg_temp.ev(sev text DEFAULT 'info') RETURNS jsonb LANGUAGE sql VOLATILE AS $$
	SELECT jsonb_build_object('event_id', gen_random_uuid(),
		'timestamp', '2024-05-01T12:00:00Z', 'event_type', 'policy_violation',
		'decision', jsonb_build_object('allowed', false, 'guard', 'g', 'severity', sev))
$$;
CREATE FUNCTION pg_temp.claim_batch(relay text, n integer, sev text DEFAULT 'info') RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	bid bigint;
BEGIN
	PERFORM clawdstrike.enqueue(pg_temp.ev(sev)) FROM generate_series(1, n);
	SELECT min(batch_id) INTO bid FROM clawdstrike.claim(relay, n, 60);
	RETURN bid;
END;
$$;
-- The rows a batch claimed (its request).
CREATE FUNCTION pg_temp.ids(bid bigint) RETURNS bigint[] LANGUAGE sql STABLE AS $$
	SELECT outbox_ids FROM clawdstrike.batch WHERE id = bid $$;

-- An empty outbox ------------------------------------------------------------------------
SELECT results_eq($$SELECT status, events FROM clawdstrike.status_counts ORDER BY status$$,
		  $$VALUES ('delivered'::text, 0::bigint), ('failed', 0), ('pending', 0), ('sending', 0), ('sent', 0)$$,
		  'status_counts lists all five statuses with 0 on an empty outbox');
SELECT row_eq($$SELECT pending, pending_critical, pending_high, oldest_enqueued_at, oldest_pending_age_s
		 FROM clawdstrike.backlog$$,
	      ROW(0::bigint, 0::bigint, 0::bigint, NULL::timestamptz, 0::double precision),
	      'backlog of an empty outbox: zeros, age 0');
SELECT is_empty($$SELECT * FROM clawdstrike.in_flight$$, 'in_flight is empty');
SELECT row_eq($$SELECT delivered, p50_s, max_s FROM clawdstrike.delivery_latency$$,
	      ROW(0::bigint, NULL::double precision, NULL::double precision),
	      'delivery_latency with nothing delivered');

-- Fixture -----------------------------------------------------------------------------------
-- 4 delivered (latencies 1..4 s), closed batch no_ack
CREATE TEMP TABLE d AS SELECT pg_temp.claim_batch('relay-a', 4) AS bid;
SELECT clawdstrike.mark_rows_delivered(bid, pg_temp.ids(bid), 'no_ack') FROM d;
UPDATE clawdstrike.outbox o SET enqueued_at = now() - make_interval(secs => x.n)
  FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM clawdstrike.outbox WHERE batch_id = (SELECT bid FROM d)) x
 WHERE o.id = x.id;
-- 3 failed: two for one reason, one for another; batch closed as rejected
CREATE TEMP TABLE f AS SELECT pg_temp.claim_batch('relay-a', 3) AS bid;
SELECT clawdstrike.fail_rows(bid, (SELECT (array_agg(id ORDER BY id))[1:2] FROM clawdstrike.outbox WHERE batch_id = bid),
	'HEC rejected the event: Invalid data format', 400, 6, 'Invalid data format') FROM f;
SELECT clawdstrike.fail_rows(bid, (SELECT (array_agg(id ORDER BY id))[3:3] FROM clawdstrike.outbox WHERE batch_id = bid),
	'event too large for HEC', 413) FROM f;
SELECT clawdstrike.release(bid, 'rejected', 'done') FROM f;
UPDATE clawdstrike.outbox SET failed_at = now() - interval '5 minutes'
 WHERE id = (SELECT min(id) FROM clawdstrike.outbox WHERE status = 'failed');
-- in flight: relay-a one claimed batch of 2 and one sent of 1; relay-b one sent of 3
CREATE TEMP TABLE a1 AS SELECT pg_temp.claim_batch('relay-a', 2) AS bid;
CREATE TEMP TABLE a2 AS SELECT pg_temp.claim_batch('relay-a', 1) AS bid;
SELECT clawdstrike.mark_sent(bid, pg_temp.ids(bid), 'https://hec-1:8088', gen_random_uuid(), 1, 120) FROM a2;
CREATE TEMP TABLE b1 AS SELECT pg_temp.claim_batch('relay-b', 3) AS bid;
SELECT clawdstrike.mark_sent(bid, pg_temp.ids(bid), 'https://hec-2:8088', gen_random_uuid(), 2, 30) FROM b1;
UPDATE clawdstrike.batch SET sent_at = now() - interval '10 seconds' WHERE id = (SELECT bid FROM b1);
-- pending: 1 critical, 2 high, 3 info (the oldest enqueued an hour ago)
SELECT clawdstrike.enqueue(pg_temp.ev('critical'));
SELECT clawdstrike.enqueue(pg_temp.ev('high')) FROM generate_series(1, 2);
SELECT clawdstrike.enqueue(pg_temp.ev('info')) FROM generate_series(1, 3);
UPDATE clawdstrike.outbox SET enqueued_at = now() - interval '1 hour'
 WHERE id = (SELECT max(id) FROM clawdstrike.outbox WHERE status = 'pending');

-- status_counts ------------------------------------------------------------------------------
SELECT results_eq($$SELECT status, events FROM clawdstrike.status_counts ORDER BY status$$,
		  $$VALUES ('delivered'::text, 4::bigint), ('failed', 3), ('pending', 6), ('sending', 2), ('sent', 4)$$,
		  'status_counts counts every status');
SELECT is((SELECT oldest_enqueued_at FROM clawdstrike.status_counts WHERE status = 'pending'),
	  now() - interval '1 hour', 'status_counts shows the oldest enqueue time per status');

-- backlog -------------------------------------------------------------------------------------
SELECT row_eq($$SELECT pending, pending_critical, pending_high, oldest_enqueued_at, oldest_pending_age_s
		 FROM clawdstrike.backlog$$,
	      ROW(6::bigint, 1::bigint, 2::bigint, now() - interval '1 hour', 3600::double precision),
	      'backlog: 6 pending, 1 critical, 2 high, oldest an hour old');

-- in_flight ------------------------------------------------------------------------------------
SELECT results_eq($$SELECT relay_instance, batches_claimed, batches_awaiting_ack, events FROM clawdstrike.in_flight
		   ORDER BY relay_instance$$,
		  $$VALUES ('relay-a'::text, 1::bigint, 1::bigint, 3::bigint), ('relay-b', 0, 1, 3)$$,
		  'in_flight per relay: claimed batches, batches awaiting ack, events (closed batches excluded)');
SELECT is((SELECT oldest_sent_at FROM clawdstrike.in_flight WHERE relay_instance = 'relay-b'),
	  now() - interval '10 seconds', 'in_flight shows the oldest send awaiting ack');
SELECT is((SELECT next_lease_expiry FROM clawdstrike.in_flight WHERE relay_instance = 'relay-a'),
	  now() + interval '60 seconds', 'in_flight shows the next lease expiry');

-- dead_letter / dead_letter_by_reason ------------------------------------------------------------
SELECT results_eq($$SELECT reason, http_status, hec_code, events FROM clawdstrike.dead_letter_by_reason
		   ORDER BY events DESC$$,
		  $$VALUES ('HEC rejected the event: Invalid data format'::text, 400::smallint, 6::smallint, 2::bigint),
			   ('event too large for HEC', 413::smallint, NULL::smallint, 1)$$,
		  'dead_letter_by_reason groups failed rows by reason, HTTP status and HEC code');
SELECT row_eq($$SELECT first_failed_at, last_failed_at FROM clawdstrike.dead_letter_by_reason WHERE hec_code = 6$$,
	      ROW(now() - interval '5 minutes', now()), 'with the first and last failure times');
SELECT is((SELECT count(*) FROM clawdstrike.dead_letter WHERE hec_code IS NULL), 1::bigint,
	  'dead_letter: hec_code is NULL where HEC gave none');

-- delivery_latency ------------------------------------------------------------------------------
SELECT row_eq($$SELECT delivered, p50_s, round(p99_s::numeric, 6), max_s FROM clawdstrike.delivery_latency$$,
	      ROW(4::bigint, 2.5::double precision, 3.97::numeric, 4::double precision),
	      'delivery_latency: count, p50, p99 and max of enqueue-to-delivered seconds');
UPDATE clawdstrike.outbox SET delivered_at = now() - interval '2 hours', enqueued_at = now() - interval '3 hours'
 WHERE id = (SELECT min(id) FROM clawdstrike.outbox WHERE status = 'delivered');
SELECT is((SELECT delivered FROM clawdstrike.delivery_latency), 3::bigint,
	  'delivery_latency covers the last hour only');

-- throughput ---------------------------------------------------------------------------------------
SELECT results_eq($$SELECT minute, delivered FROM clawdstrike.throughput$$,
		  $$VALUES (date_trunc('minute', now()), 3::bigint)$$,
		  'throughput: delivered per minute over the last hour');

-- batch_outcomes -------------------------------------------------------------------------------------
SELECT results_eq($$SELECT outcome, batches, events, duplicates_risked FROM clawdstrike.batch_outcomes ORDER BY outcome$$,
		  $$VALUES ('claimed'::text, 1::bigint, 2::bigint, 0::bigint), ('no_ack', 1, 4, 0),
			   ('rejected', 1, 3, 0), ('sent', 2, 4, 0)$$,
		  'batch_outcomes: batches and events per outcome (or open state)');
SELECT clawdstrike.release(bid, 'ack_timeout', 'no ack', true) FROM b1;
SELECT is((SELECT duplicates_risked FROM clawdstrike.batch_outcomes WHERE outcome = 'ack_timeout'), 3::bigint,
	  'batch_outcomes counts risked duplicates');
SELECT results_eq($$SELECT status, events FROM clawdstrike.status_counts WHERE status IN ('pending', 'sent') ORDER BY status$$,
		  $$VALUES ('pending'::text, 9::bigint), ('sent', 1)$$,
		  'status_counts follows the release');

SELECT * FROM finish();
ROLLBACK;
