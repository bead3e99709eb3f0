-- Schema of the SQL contract (SPEC §3): tables, columns, types, indexes,
-- constraints and views exist as documented.
BEGIN;
SELECT plan(80);

SELECT has_schema('clawdstrike', 'schema clawdstrike exists');

-- clawdstrike.outbox: the view users query and update ------------------------
SELECT has_view('clawdstrike', 'outbox', 'clawdstrike.outbox exists (a view over the outbox tables)');
SELECT columns_are('clawdstrike', 'outbox', ARRAY['id', 'event_id', 'event', 'status', 'priority',
	'attempts', 'replays', 'enqueued_at', 'batch_id', 'sent_at', 'delivered_at', 'delivery',
	'failed_at', 'last_error', 'http_status', 'hec_code', 'hec_text'],
	'outbox has v1''s columns');
SELECT col_type_is('clawdstrike', 'outbox', 'id', 'bigint', 'outbox.id is bigint');
SELECT col_type_is('clawdstrike', 'outbox', 'event_id', 'uuid', 'outbox.event_id is uuid');
SELECT col_type_is('clawdstrike', 'outbox', 'event', 'jsonb', 'outbox.event is jsonb');
SELECT col_type_is('clawdstrike', 'outbox', 'status', 'text', 'outbox.status is text');
SELECT col_default_is('clawdstrike', 'outbox', 'status', 'pending', 'outbox.status defaults to pending');
SELECT col_type_is('clawdstrike', 'outbox', 'attempts', 'integer', 'outbox.attempts is integer');
SELECT col_default_is('clawdstrike', 'outbox', 'attempts', '0', 'outbox.attempts defaults to 0');
SELECT col_type_is('clawdstrike', 'outbox', 'enqueued_at', 'timestamp with time zone',
	'outbox.enqueued_at is timestamptz');
SELECT col_type_is('clawdstrike', 'outbox', 'delivered_at', 'timestamp with time zone',
	'outbox.delivered_at is timestamptz');
SELECT col_type_is('clawdstrike', 'outbox', 'last_error', 'text', 'outbox.last_error is text');
SELECT col_type_is('clawdstrike', 'outbox', 'batch_id', 'bigint', 'outbox.batch_id is bigint');
SELECT col_type_is('clawdstrike', 'outbox', 'priority', 'smallint', 'outbox.priority is smallint');
SELECT col_type_is('clawdstrike', 'outbox', 'replays', 'integer', 'outbox.replays is integer');
SELECT col_type_is('clawdstrike', 'outbox', 'failed_at', 'timestamp with time zone',
	'outbox.failed_at is timestamptz');
SELECT col_type_is('clawdstrike', 'outbox', 'http_status', 'smallint', 'outbox.http_status is smallint');
SELECT col_type_is('clawdstrike', 'outbox', 'hec_code', 'smallint', 'outbox.hec_code is smallint');
SELECT col_type_is('clawdstrike', 'outbox', 'hec_text', 'text', 'outbox.hec_text is text');
SELECT has_trigger('clawdstrike', 'outbox', 'outbox_insert', 'INSERT trigger validates events');
SELECT has_trigger('clawdstrike', 'outbox', 'outbox_update', 'UPDATE trigger guards status and event');
SELECT has_trigger('clawdstrike', 'outbox', 'outbox_delete', 'DELETE trigger removes both rows');

-- The payload: written once ----------------------------------------------------------
SELECT has_table('clawdstrike', 'outbox_event', 'table clawdstrike.outbox_event exists');
SELECT col_is_pk('clawdstrike', 'outbox_event', 'id', 'outbox_event.id is the primary key');
SELECT ok((SELECT attidentity = 'a' FROM pg_attribute
	    WHERE attrelid = 'clawdstrike.outbox_event'::regclass AND attname = 'id'),
	  'outbox_event.id is GENERATED ALWAYS AS IDENTITY');
SELECT col_not_null('clawdstrike', 'outbox_event', 'event_id', 'outbox_event.event_id is NOT NULL');
SELECT col_is_unique('clawdstrike', 'outbox_event', 'event_id', 'outbox_event.event_id is unique');
SELECT col_not_null('clawdstrike', 'outbox_event', 'event', 'outbox_event.event is NOT NULL');

-- The state: a narrow row per event ----------------------------------------------------
SELECT has_table('clawdstrike', 'outbox_state', 'table clawdstrike.outbox_state exists');
SELECT col_is_pk('clawdstrike', 'outbox_state', 'id', 'outbox_state.id is the primary key');
SELECT col_not_null('clawdstrike', 'outbox_state', 'status', 'outbox_state.status is NOT NULL');
SELECT is((SELECT array_agg(v ORDER BY v) FROM regexp_matches(
		pg_get_constraintdef((SELECT oid FROM pg_constraint
				       WHERE conname = 'outbox_state_status_check'
					 AND conrelid = 'clawdstrike.outbox_state'::regclass)),
		'''([a-z]+)''', 'g') AS m(a), LATERAL unnest(m.a) AS v),
	  ARRAY['delivered', 'failed', 'pending', 'sending'],
	  'the state CHECK allows exactly pending, sending, delivered, failed (sent is the batch''s)');
-- With triggers off (replica mode) only the CHECKs stand between a bad value
-- and the table.
CREATE FUNCTION pg_temp.ev() RETURNS jsonb LANGUAGE sql VOLATILE AS $$
	SELECT jsonb_build_object('event_id', gen_random_uuid(),
		'timestamp', '2024-05-01T12:00:00Z', 'event_type', 'policy_violation',
		'decision', jsonb_build_object('allowed', false, 'guard', 'g', 'severity', 'info'))
$$;
SELECT clawdstrike.enqueue(pg_temp.ev());
SET LOCAL session_replication_role = replica;
SELECT throws_ok($$UPDATE clawdstrike.outbox_state SET status = 'sent'$$, '23514',
	'new row for relation "outbox_state" violates check constraint "outbox_state_status_check"',
	'a status outside the four is rejected by the CHECK itself');
SELECT throws_ok($$UPDATE clawdstrike.outbox_state SET status = 'sending', batch_id = NULL$$, '23514',
	'new row for relation "outbox_state" violates check constraint "outbox_state_in_flight_has_batch"',
	'an in-flight row must have a batch');
SELECT throws_ok($$UPDATE clawdstrike.outbox_state SET status = 'delivered', delivered_at = NULL$$, '23514',
	'new row for relation "outbox_state" violates check constraint "outbox_state_delivered_has_time"',
	'a delivered row must have delivered_at');
SELECT throws_ok($$UPDATE clawdstrike.outbox_state SET status = 'failed', last_error = NULL$$, '23514',
	'new row for relation "outbox_state" violates check constraint "outbox_state_failed_has_reason"',
	'a failed row must have a reason');
SET LOCAL session_replication_role = origin;

-- Indexes: small, status-partial, on the state only.
SELECT has_index('clawdstrike', 'outbox_state', 'outbox_state_claim_idx', ARRAY['priority', 'id'],
	'claim index on (priority, id)');
SELECT has_index('clawdstrike', 'outbox_state', 'outbox_state_in_flight_idx', ARRAY['batch_id'],
	'in-flight index on batch_id');
SELECT has_index('clawdstrike', 'outbox_state', 'outbox_state_delivered_idx', ARRAY['delivered_at'],
	'retention index on delivered_at');
SELECT has_index('clawdstrike', 'outbox_state', 'outbox_state_failed_idx', ARRAY['failed_at'],
	'dead-letter index on failed_at');
SELECT is((SELECT pg_get_expr(indpred, indrelid) FROM pg_index
	    WHERE indexrelid = 'clawdstrike.outbox_state_claim_idx'::regclass),
	  '(status = ''pending''::text)', 'the claim index holds only pending rows');
SELECT is((SELECT pg_get_expr(indpred, indrelid) FROM pg_index
	    WHERE indexrelid = 'clawdstrike.outbox_state_delivered_idx'::regclass),
	  '(status = ''delivered''::text)', 'the retention index holds only delivered rows');
SELECT is((SELECT count(*)::int FROM pg_index
	    WHERE indrelid = 'clawdstrike.outbox_event'::regclass), 2,
	  'the payload has two indexes (id, event_id): a state change writes none of them');

-- clawdstrike.batch ----------------------------------------------------------
SELECT has_table('clawdstrike', 'batch', 'table clawdstrike.batch (per-request audit) exists');
SELECT columns_are('clawdstrike', 'batch', ARRAY['id', 'relay_instance', 'state', 'outcome',
	'n_events', 'outbox_ids', 'claimed_at', 'lease_until', 'endpoint', 'channel', 'ack_id',
	'sent_at', 'acked_at', 'closed_at', 'http_status', 'hec_code', 'hec_text',
	'duplicates_risked', 'owner'], 'batch has the audit columns');
SELECT col_type_is('clawdstrike', 'batch', 'channel', 'uuid', 'batch.channel is uuid');
SELECT col_type_is('clawdstrike', 'batch', 'ack_id', 'bigint', 'batch.ack_id is bigint');
SELECT col_type_is('clawdstrike', 'batch', 'outbox_ids', 'bigint[]', 'batch.outbox_ids is bigint[]');
SELECT col_has_check('clawdstrike', 'batch', 'state', 'batch.state has a CHECK constraint');
SELECT has_index('clawdstrike', 'batch', 'batch_lease_idx', ARRAY['lease_until'],
	'lease index on lease_until');

-- clawdstrike.replay_log and settings ---------------------------------------
SELECT has_table('clawdstrike', 'replay_log', 'table clawdstrike.replay_log exists');
SELECT has_column('clawdstrike', 'replay_log', 'from_status', 'replay_log.from_status exists');
SELECT has_column('clawdstrike', 'replay_log', 'replayed_by', 'replay_log.replayed_by exists');
SELECT has_table('clawdstrike', 'settings', 'table clawdstrike.settings exists');
SELECT set_eq($$SELECT key FROM clawdstrike.settings WHERE key <> 'notify'$$,
	ARRAY['max_event_bytes', 'retention_delivered', 'retention_batches', 'retention_tombstones'],
	'settings hold the size limit and the retention ages');
SELECT is((SELECT value FROM clawdstrike.settings WHERE key = 'max_event_bytes'), '1048576',
	'default size limit is 1 MiB');

-- Views ----------------------------------------------------------------------
SELECT has_view('clawdstrike', 'dead_letter', 'view dead_letter exists');
SELECT has_view('clawdstrike', 'status_counts', 'view status_counts exists');
SELECT has_view('clawdstrike', 'backlog', 'view backlog exists');
SELECT has_view('clawdstrike', 'in_flight', 'view in_flight exists');
SELECT has_view('clawdstrike', 'dead_letter_by_reason', 'view dead_letter_by_reason exists');
SELECT has_view('clawdstrike', 'throughput', 'view throughput exists');
SELECT has_view('clawdstrike', 'delivery_latency', 'view delivery_latency exists');
SELECT has_view('clawdstrike', 'batch_outcomes', 'view batch_outcomes exists');

SELECT has_column('clawdstrike', 'dead_letter', c, 'dead_letter.' || c || ' exists')
  FROM unnest(ARRAY['outbox_id', 'event_id', 'event', 'reason', 'http_status', 'hec_code',
		    'hec_text', 'attempts', 'failed_at']) AS c;

-- Functions of the contract --------------------------------------------------
SELECT has_function('clawdstrike', 'enqueue', ARRAY['jsonb'], 'enqueue(jsonb) exists');
SELECT function_returns('clawdstrike', 'enqueue', ARRAY['jsonb'], 'bigint', 'enqueue returns bigint');
SELECT has_function('clawdstrike', 'claim', ARRAY['text', 'integer', 'integer', 'uuid', 'uuid'], 'claim() exists');
SELECT has_function('clawdstrike', 'replay', 'replay() exists');
SELECT has_function('clawdstrike', 'recover', ARRAY['text', 'integer', 'boolean', 'uuid'], 'recover() exists');
SELECT has_function('clawdstrike', 'purge', ARRAY['interval', 'integer'], 'purge() exists');

SELECT * FROM finish();
ROLLBACK;
