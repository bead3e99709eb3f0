-- 0001: the outbox, its batch audit, replay audit and settings.
--
-- Physical layout: one table, status-partial indexes.  Each index covers
-- exactly the rows one hot query walks (pending for the claim, in-flight by
-- batch for sent/ack bookkeeping, delivered by age for retention), so the
-- claim index holds only the backlog however many delivered rows are kept.
-- Leases live on the batch row, not on each event row: a heartbeat touches
-- one row per in-flight HEC request instead of every event.
CREATE SCHEMA IF NOT EXISTS clawdstrike;

CREATE TABLE clawdstrike.settings (
	key   text PRIMARY KEY,
	value text NOT NULL,
	doc   text NOT NULL
);
INSERT INTO clawdstrike.settings (key, value, doc) VALUES
	('max_event_bytes', '1048576',
	 'largest event (bytes of its JSON text) that enqueue accepts'),
	('retention_delivered', '7 days',
	 'delivered rows older than this are purged by clawdstrike.purge()'),
	('retention_batches', '30 days',
	 'closed batch audit rows older than this are purged by clawdstrike.purge()');

CREATE TABLE clawdstrike.outbox (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	event_id     uuid NOT NULL,
	event        jsonb NOT NULL,
	status       text NOT NULL DEFAULT 'pending',
	-- 0 critical, 1 high, 2 anything else: claim order is (priority, id)
	priority     smallint NOT NULL DEFAULT 2,
	attempts     integer NOT NULL DEFAULT 0,
	replays      integer NOT NULL DEFAULT 0,
	enqueued_at  timestamptz NOT NULL DEFAULT now(),
	batch_id     bigint,
	sent_at      timestamptz,
	delivered_at timestamptz,
	-- 'acked' (indexer acknowledged), 'no_ack' (200 with use_ack off),
	-- 'prefix_commit' (indexed before a rejected event, no ack id)
	delivery     text,
	failed_at    timestamptz,
	last_error   text,
	http_status  smallint,
	hec_code     smallint,
	hec_text     text,
	CONSTRAINT outbox_event_id_key UNIQUE (event_id),
	CONSTRAINT outbox_status_check CHECK (status IN
		('pending', 'sending', 'sent', 'delivered', 'failed')),
	CONSTRAINT outbox_in_flight_has_batch CHECK
		(status NOT IN ('sending', 'sent') OR batch_id IS NOT NULL),
	CONSTRAINT outbox_delivered_has_time CHECK
		(status <> 'delivered' OR delivered_at IS NOT NULL),
	CONSTRAINT outbox_failed_has_reason CHECK
		(status <> 'failed' OR (failed_at IS NOT NULL AND last_error IS NOT NULL))
) WITH (
	-- Queue tables churn: vacuum on a fixed number of dead rows, not a
	-- fraction of a table that may hold millions of delivered rows.
	autovacuum_vacuum_scale_factor = 0,
	autovacuum_vacuum_threshold = 10000,
	autovacuum_vacuum_insert_scale_factor = 0,
	autovacuum_vacuum_insert_threshold = 50000,
	autovacuum_analyze_scale_factor = 0.02,
	autovacuum_vacuum_cost_delay = 0
);

CREATE INDEX outbox_claim_idx ON clawdstrike.outbox (priority, id)
	WHERE status = 'pending';
CREATE INDEX outbox_in_flight_idx ON clawdstrike.outbox (batch_id)
	WHERE status IN ('sending', 'sent');
CREATE INDEX outbox_delivered_idx ON clawdstrike.outbox (delivered_at)
	WHERE status = 'delivered';
CREATE INDEX outbox_failed_idx ON clawdstrike.outbox (failed_at)
	WHERE status = 'failed';

-- One row per HEC request: the unit of leasing, ack bookkeeping and audit.
CREATE TABLE clawdstrike.batch (
	id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	relay_instance text NOT NULL,
	-- claimed: rows sending, request not yet answered; sent: HEC took it,
	-- waiting for the indexer ack; closed: see outcome
	state          text NOT NULL DEFAULT 'claimed',
	outcome        text,
	n_events       integer NOT NULL,
	outbox_ids     bigint[] NOT NULL,
	claimed_at     timestamptz NOT NULL DEFAULT now(),
	lease_until    timestamptz NOT NULL,
	endpoint       text,
	channel        uuid,
	ack_id         bigint,
	sent_at        timestamptz,
	acked_at       timestamptz,
	closed_at      timestamptz,
	http_status    smallint,
	hec_code       smallint,
	hec_text       text,
	-- rows of this batch that may now be in Splunk twice (resent after an
	-- ack timeout, a lost response or an expired lease)
	duplicates_risked integer NOT NULL DEFAULT 0,
	CONSTRAINT batch_state_check CHECK (state IN ('claimed', 'sent', 'closed')),
	CONSTRAINT batch_outcome_check CHECK ((state = 'closed') = (outcome IS NOT NULL)),
	CONSTRAINT batch_sent_has_ack CHECK
		(state <> 'sent' OR (endpoint IS NOT NULL AND sent_at IS NOT NULL))
) WITH (fillfactor = 80);

CREATE INDEX batch_open_idx ON clawdstrike.batch (relay_instance, id)
	WHERE state <> 'closed';
CREATE INDEX batch_lease_idx ON clawdstrike.batch (lease_until)
	WHERE state <> 'closed';
CREATE INDEX batch_closed_idx ON clawdstrike.batch (closed_at)
	WHERE state = 'closed';

-- Every replay (a failed or delivered row set back to pending) is recorded.
CREATE TABLE clawdstrike.replay_log (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	outbox_id   bigint NOT NULL,
	event_id    uuid NOT NULL,
	from_status text NOT NULL,
	last_error  text,
	replayed_at timestamptz NOT NULL DEFAULT now(),
	replayed_by text NOT NULL DEFAULT current_user
);
CREATE INDEX replay_log_outbox_idx ON clawdstrike.replay_log (outbox_id);
