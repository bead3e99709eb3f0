-- 0005: a lean outbox.  The event is written once; a state change writes a
-- small row.
--
-- v1 kept everything in one ~1 KB row and rewrote all of it four times
-- (insert, sending, sent, delivered), none of them HOT: 9.5 KB of WAL for
-- an 825-byte event (docs/performance.md).  Now:
--
--   outbox_event  (id, event_id, event): the payload, inserted once and
--                 only ever deleted (retention).  Never updated, so its
--                 pages stay full and it is read, not rewritten, by claims.
--                 The event is kept as `json`, the text of the validated
--                 jsonb: a claim returns 500 events, and handing out stored
--                 text costs nothing where printing jsonb cost ~30% of the
--                 claim; it is also ~20% smaller.  The view casts it back.
--   outbox_state  (id, status, priority, attempts, batch_id, times,
--                 errors): ~70-byte rows, one per event, updated at claim
--                 and at delivery (or failure, or release).
--
-- In flight, a row is `sending` in outbox_state whatever its request's
-- fate; the batch row says whether HEC took the request (batch.state =
-- 'sent'), so marking a request sent writes one batch row, not one row per
-- event.  clawdstrike.outbox (sql/20_outbox.sql) is a view that joins the
-- three and shows v1's five statuses and columns; INSTEAD OF triggers give
-- it v1's INSERT and UPDATE rules.  Only the owner's functions write the
-- tables (no role has a grant on them).
--
-- Upgrade: the v1 rows move over as they are (ids kept), so relays resume
-- exactly where they stopped: sent rows keep their batch, whose persisted
-- channel and ack id recovery adopts; sending rows keep their lease.  A v1
-- row still `sending` in a batch HEC had already taken (possible only
-- from a pre-0002 mark_sent) was not in that request's recorded rows: it
-- goes back to pending.
ALTER TABLE clawdstrike.outbox RENAME TO outbox_v1;
-- Dependent views are dropped here and made again by sql/50_views.sql in
-- the same migrate.
DROP VIEW IF EXISTS clawdstrike.status_counts, clawdstrike.backlog,
	clawdstrike.throughput, clawdstrike.delivery_latency;
DROP VIEW IF EXISTS clawdstrike.dead_letter CASCADE;

CREATE TABLE clawdstrike.outbox_event (
	id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	event_id uuid NOT NULL,
	event    json NOT NULL,
	CONSTRAINT outbox_event_event_id_key UNIQUE (event_id)
) WITH (fillfactor = 100); -- insert-only: full pages

CREATE TABLE clawdstrike.outbox_state (
	id           bigint PRIMARY KEY,
	-- pending, sending (in a batch: the batch's state tells sending from
	-- sent), delivered, failed
	status       text NOT NULL DEFAULT 'pending',
	-- 0 critical, 1 high, 2 anything else: claim order is (priority, id)
	priority     smallint NOT NULL DEFAULT 2,
	attempts     integer NOT NULL DEFAULT 0,
	replays      integer NOT NULL DEFAULT 0,
	enqueued_at  timestamptz NOT NULL DEFAULT now(),
	batch_id     bigint,
	delivered_at timestamptz,
	-- 'acked', 'no_ack' or 'prefix_commit' (see mark_rows_delivered)
	delivery     text,
	failed_at    timestamptz,
	last_error   text,
	http_status  smallint,
	hec_code     smallint,
	hec_text     text,
	CONSTRAINT outbox_state_status_check CHECK (status IN
		('pending', 'sending', 'delivered', 'failed')),
	CONSTRAINT outbox_state_in_flight_has_batch CHECK
		(status <> 'sending' OR batch_id IS NOT NULL),
	CONSTRAINT outbox_state_delivered_has_time CHECK
		(status <> 'delivered' OR delivered_at IS NOT NULL),
	CONSTRAINT outbox_state_failed_has_reason CHECK
		(status <> 'failed' OR (failed_at IS NOT NULL AND last_error IS NOT NULL))
);

-- Queue tables churn: vacuum on a fixed number of dead (updated, purged)
-- or new rows, not a fraction of tables that may hold millions of
-- delivered rows; the insert threshold keeps the visibility map fresh, so
-- the dedup probe on event_id stays an index-only scan.
DO $$
DECLARE
	t text;
BEGIN
	FOREACH t IN ARRAY ARRAY['outbox_event', 'outbox_state'] LOOP
		EXECUTE format('ALTER TABLE clawdstrike.%I SET (autovacuum_vacuum_scale_factor = 0,
			autovacuum_vacuum_threshold = 10000, autovacuum_vacuum_insert_scale_factor = 0,
			autovacuum_vacuum_insert_threshold = 50000, autovacuum_analyze_scale_factor = 0.02,
			autovacuum_vacuum_cost_delay = 0)', t);
	END LOOP;
END;
$$;

INSERT INTO clawdstrike.outbox_event (id, event_id, event) OVERRIDING SYSTEM VALUE
SELECT o.id, o.event_id, o.event::json FROM clawdstrike.outbox_v1 o ORDER BY o.id;
SELECT setval(pg_get_serial_sequence('clawdstrike.outbox_event', 'id'),
	      coalesce((SELECT max(id) FROM clawdstrike.outbox_v1), 0) + 1, false);

INSERT INTO clawdstrike.outbox_state (id, status, priority, attempts, replays, enqueued_at,
				      batch_id, delivered_at, delivery, failed_at, last_error,
				      http_status, hec_code, hec_text)
SELECT o.id,
       CASE WHEN o.status = 'sent' THEN 'sending'
	    WHEN o.status = 'sending' AND b.state = 'sent' THEN 'pending'
	    ELSE o.status END,
       o.priority, o.attempts, o.replays, o.enqueued_at,
       CASE WHEN o.status = 'sending' AND b.state = 'sent' THEN NULL ELSE o.batch_id END,
       o.delivered_at, o.delivery, o.failed_at,
       CASE WHEN o.status = 'sending' AND b.state = 'sent'
	    THEN 'left out of the request of batch ' || o.batch_id || ' (upgrade to 0005)'
	    ELSE o.last_error END,
       o.http_status, o.hec_code, o.hec_text
  FROM clawdstrike.outbox_v1 o LEFT JOIN clawdstrike.batch b ON b.id = o.batch_id
 ORDER BY o.id;

DROP TABLE clawdstrike.outbox_v1;

-- Each index covers exactly the rows one hot query walks.
CREATE INDEX outbox_state_claim_idx ON clawdstrike.outbox_state (priority, id)
	WHERE status = 'pending';
CREATE INDEX outbox_state_in_flight_idx ON clawdstrike.outbox_state (batch_id)
	WHERE status = 'sending';
CREATE INDEX outbox_state_delivered_idx ON clawdstrike.outbox_state (delivered_at)
	WHERE status = 'delivered';
CREATE INDEX outbox_state_failed_idx ON clawdstrike.outbox_state (failed_at)
	WHERE status = 'failed';

-- Statistics for the rows that moved.  Not for empty tables: "analyzed
-- and empty" makes the planner cost the event_id probe of every enqueue as
-- a sequential scan, and a plan cached then stays one as the table grows
-- (bulk loads into a fresh install turned quadratic); a table never
-- analyzed is costed from its real size.
DO $$
BEGIN
	IF EXISTS (SELECT 1 FROM clawdstrike.outbox_state) THEN
		ANALYZE clawdstrike.outbox_event, clawdstrike.outbox_state;
	END IF;
END;
$$;
