-- 0003: event_id tombstones, so that idempotency outlives retention.
--
-- purge() deletes delivered rows after retention_delivered; without a trace
-- of them, re-enqueueing an exported audit log would send every event to
-- Splunk again, uncounted.  A tombstone is what is left of a purged row:
-- its event_id and when it was delivered, nothing else (about 50 bytes a
-- row plus two index entries, against ~1 KB for the row it replaces).  The
-- BEFORE INSERT trigger skips an event_id that has one; purge() deletes
-- tombstones after retention_tombstones, counted from delivery, like the
-- batch audit's closed_at.
--
-- Nothing to backfill: rows purged before this migration left no event_id
-- behind (the batch audit keeps outbox ids only).
CREATE TABLE clawdstrike.event_tombstone (
	event_id     uuid PRIMARY KEY,
	delivered_at timestamptz NOT NULL
) WITH (
	-- Rows are only inserted and deleted, never updated: full pages.
	-- Vacuum on a fixed number of dead (purged) or new rows, as for the
	-- outbox, not on a fraction of a table that holds a month of events;
	-- the insert threshold keeps the visibility map fresh, so the
	-- trigger's probe stays an index-only scan.
	fillfactor = 100,
	autovacuum_vacuum_scale_factor = 0,
	autovacuum_vacuum_threshold = 10000,
	autovacuum_vacuum_insert_scale_factor = 0,
	autovacuum_vacuum_insert_threshold = 50000,
	autovacuum_analyze_scale_factor = 0.02,
	autovacuum_vacuum_cost_delay = 0
);

-- Retention walks tombstones oldest first, in chunks.
CREATE INDEX event_tombstone_delivered_idx ON clawdstrike.event_tombstone (delivered_at);

INSERT INTO clawdstrike.settings (key, value, doc) VALUES
	('retention_tombstones', '30 days',
	 'event_ids of purged delivered rows stay known (enqueue is a no-op) until this long after delivery; never shorter than retention_batches')
ON CONFLICT (key) DO NOTHING;
