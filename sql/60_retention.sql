-- Retention: delivered rows and closed batch audit rows older than the
-- configured age are deleted in bounded chunks (never one huge DELETE: that
-- times out and leaves a burst of dead tuples).  Relays call purge()
-- periodically; each call does at most `max_rows` of each kind.  An explicit
-- `older_than` applies to both kinds; by default each has its own setting.
CREATE OR REPLACE FUNCTION clawdstrike.purge(older_than interval DEFAULT NULL,
					    max_rows integer DEFAULT 10000)
RETURNS TABLE (outbox_rows bigint, batch_rows bigint)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, clawdstrike
AS $$
DECLARE
	age_outbox interval := coalesce(older_than,
		(SELECT value::interval FROM clawdstrike.settings WHERE key = 'retention_delivered'));
	age_batch interval := coalesce(older_than,
		(SELECT value::interval FROM clawdstrike.settings WHERE key = 'retention_batches'));
BEGIN
	WITH d AS (
		DELETE FROM clawdstrike.outbox o
		 WHERE o.id IN (SELECT x.id FROM clawdstrike.outbox x
				 WHERE x.status = 'delivered'
				   AND x.delivered_at < now() - age_outbox
				 ORDER BY x.delivered_at LIMIT max_rows)
		RETURNING 1)
	SELECT count(*) INTO outbox_rows FROM d;
	WITH d AS (
		DELETE FROM clawdstrike.batch b
		 WHERE b.id IN (SELECT x.id FROM clawdstrike.batch x
				 WHERE x.state = 'closed'
				   AND x.closed_at < now() - age_batch
				 ORDER BY x.closed_at LIMIT max_rows)
		RETURNING 1)
	SELECT count(*) INTO batch_rows FROM d;
	RETURN NEXT;
END;
$$;
