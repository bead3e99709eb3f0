-- Replay: set rows back to pending so a relay sends them (again).
--
-- A plain `UPDATE clawdstrike.outbox SET status = 'pending' WHERE ...` is
-- the primitive: the status guard resets attempts and errors, records the
-- replay in clawdstrike.replay_log and wakes the relays.  replay() is the
-- same with filters and a dry run; rows in flight are never touched (the
-- view's UPDATE changes a row only if its status is still the one read).
--
-- `reason` (optional) is recorded on each row's audit entry; without it the
-- entry names the call.  SECURITY INVOKER on purpose: the UPDATE runs as
-- the caller, so the guard applies the caller's rights and audits the
-- caller, exactly as for a plain UPDATE.  (The trailing parameter replaced
-- the seven-argument signature, dropped in migrations/0004_audit.sql.)
CREATE OR REPLACE FUNCTION clawdstrike.replay(
	status   text DEFAULT 'failed',
	since    timestamptz DEFAULT NULL,
	until    timestamptz DEFAULT NULL,
	guard    text DEFAULT NULL,
	severity text DEFAULT NULL,
	error    text DEFAULT NULL,
	dry_run  boolean DEFAULT false,
	reason   text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, clawdstrike
AS $$
DECLARE
	n bigint;
	outer_reason text := current_setting('clawdstrike.reason', true);
BEGIN
	IF replay.status NOT IN ('failed', 'delivered') THEN
		RAISE EXCEPTION 'replay: status must be failed or delivered (got %)', replay.status
			USING ERRCODE = '22023',
			      HINT = 'pending rows are already queued; sending and sent rows belong to a relay';
	END IF;
	IF replay.severity IS NOT NULL
	   AND replay.severity NOT IN ('info', 'low', 'medium', 'high', 'critical') THEN
		RAISE EXCEPTION 'replay: severity must be one of info, low, medium, high, critical (got %)',
			replay.severity USING ERRCODE = '22023';
	END IF;
	-- The guard reads the reason from clawdstrike.reason; set it for this
	-- call only and give the caller's value back afterwards (on an error
	-- the transaction's rollback does that).
	PERFORM set_config('clawdstrike.reason',
		coalesce(nullif(replay.reason, ''),
			 format('replay(%s) by %s', replay.status, current_user)),
		true);
	WITH m AS (
		SELECT o.id FROM clawdstrike.outbox o
		 WHERE o.status = replay.status
		   AND (replay.since IS NULL OR o.enqueued_at >= replay.since)
		   AND (replay.until IS NULL OR o.enqueued_at < replay.until)
		   AND (replay.guard IS NULL OR o.event #>> '{decision,guard}' = replay.guard)
		   AND (replay.severity IS NULL OR o.event #>> '{decision,severity}' = replay.severity)
		   AND (replay.error IS NULL OR o.last_error ILIKE '%' || replay.error || '%')),
	u AS (
		UPDATE clawdstrike.outbox o SET status = 'pending'
		  FROM m WHERE o.id = m.id AND NOT replay.dry_run
		RETURNING o.id)
	SELECT CASE WHEN replay.dry_run THEN (SELECT count(*) FROM m)
		    ELSE (SELECT count(*) FROM u) END INTO n;
	PERFORM set_config('clawdstrike.reason', coalesce(outer_reason, ''), true);
	RETURN n;
END;
$$;
