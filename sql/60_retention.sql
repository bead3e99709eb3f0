-- Retention: delivered rows, closed batch audit rows and event_id
-- tombstones older than the configured age are deleted in bounded chunks
-- (never one huge DELETE: that times out and leaves a burst of dead
-- tuples).  Relays call purge() periodically; each call does at most
-- `max_rows` of each kind.  An explicit `older_than` applies to delivered
-- rows only (the relay passes retention.delivered_days); by default they
-- follow retention_delivered.  The batch audit always follows
-- retention_batches and tombstones retention_tombstones: they are the
-- proof that must outlive the rows, whatever age the caller purges at.

-- purge() gained its tombstone_rows column; CREATE OR REPLACE cannot change
-- a function's result columns, so the two-column version of migration 0001
-- is dropped once (sql/90_roles.sql grants the new one again, in the same
-- transaction).
DO $$
BEGIN
	IF EXISTS (SELECT 1 FROM pg_catalog.pg_proc
		    WHERE oid = to_regprocedure('clawdstrike.purge(interval, integer)')
		      AND NOT ('tombstone_rows' = ANY (proargnames))) THEN
		DROP FUNCTION clawdstrike.purge(interval, integer);
	END IF;
END;
$$;

CREATE OR REPLACE FUNCTION clawdstrike.purge(older_than interval DEFAULT NULL,
					    max_rows integer DEFAULT 10000)
RETURNS TABLE (outbox_rows bigint, batch_rows bigint, tombstone_rows bigint)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, clawdstrike
AS $$
DECLARE
	age_outbox interval := coalesce(older_than,
		(SELECT value::interval FROM clawdstrike.settings WHERE key = 'retention_delivered'));
	age_batch interval :=
		(SELECT value::interval FROM clawdstrike.settings WHERE key = 'retention_batches');
	-- The dedup horizon is never shorter than the batch audit: a
	-- duplicate that reaches Splunk can always be traced to its batch.
	age_tomb interval := greatest(
		(SELECT value::interval FROM clawdstrike.settings WHERE key = 'retention_tombstones'),
		(SELECT value::interval FROM clawdstrike.settings WHERE key = 'retention_batches'));
BEGIN
	-- Each deleted row leaves its event_id in the same statement, so no
	-- enqueue ever sees the row gone and its tombstone not yet there.
	-- SKIP LOCKED: a payload row an enqueue of the same event_id has
	-- locked (outbox_add does, to wait for a purge in progress) waits for
	-- the next call instead of blocking this one.  The state row is
	-- deleted only if it is still delivered (a replay may have moved it),
	-- and the payload only with it.  A row delivered before the tombstone
	-- horizon needs no tombstone.
	WITH l AS (
		SELECT e.id, e.event_id, x.delivered_at
		  FROM clawdstrike.outbox_event e
		  JOIN (SELECT y.id, y.delivered_at FROM clawdstrike.outbox_state y
			 WHERE y.status = 'delivered'
			   AND y.delivered_at < now() - age_outbox
			 ORDER BY y.delivered_at LIMIT max_rows) x ON x.id = e.id
		   FOR UPDATE OF e SKIP LOCKED),
	s AS (
		DELETE FROM clawdstrike.outbox_state o USING l
		 WHERE o.id = l.id AND o.status = 'delivered'
		RETURNING o.id, l.event_id, o.delivered_at),
	d AS (
		DELETE FROM clawdstrike.outbox_event e USING s
		 WHERE e.id = s.id
		RETURNING s.event_id, s.delivered_at),
	t AS (
		INSERT INTO clawdstrike.event_tombstone (event_id, delivered_at)
		SELECT d.event_id, d.delivered_at FROM d
		 WHERE d.delivered_at >= now() - age_tomb
		ON CONFLICT (event_id) DO NOTHING)
	SELECT count(*) INTO outbox_rows FROM d;
	WITH d AS (
		DELETE FROM clawdstrike.batch b
		 WHERE b.id IN (SELECT x.id FROM clawdstrike.batch x
				 WHERE x.state = 'closed'
				   AND x.closed_at < now() - age_batch
				 ORDER BY x.closed_at LIMIT max_rows)
		RETURNING 1)
	SELECT count(*) INTO batch_rows FROM d;
	WITH d AS (
		DELETE FROM clawdstrike.event_tombstone t
		 WHERE t.event_id IN (SELECT x.event_id FROM clawdstrike.event_tombstone x
				       WHERE x.delivered_at < now() - age_tomb
				       ORDER BY x.delivered_at LIMIT max_rows)
		RETURNING 1)
	SELECT count(*) INTO tombstone_rows FROM d;
	RETURN NEXT;
END;
$$;
