-- 0004: replay_log becomes the audit of every status change a person makes
-- (replays and discards), written only by the status guard (sql/20_outbox.sql).
--
-- Existing rows are replays: to_status defaults to 'pending', and who/why
-- they did not record stay NULL.  replayed_at/replayed_by keep their names
-- (views, examples and operators' queries use them); for a discard they say
-- when and by whom it was discarded.
ALTER TABLE clawdstrike.replay_log
	ADD COLUMN to_status text NOT NULL DEFAULT 'pending',
	-- why: replay(reason => ...), SET LOCAL clawdstrike.reason, or a default
	-- naming the statement; informational, never used to authorise anything
	ADD COLUMN reason text,
	-- the login behind replayed_by (session_user), which differs from it
	-- when the session used SET ROLE
	ADD COLUMN session_role text,
	ADD CONSTRAINT replay_log_change_check CHECK
		((from_status IN ('failed', 'delivered') AND to_status = 'pending')
		 OR (from_status = 'pending' AND to_status = 'failed'));

-- replay() gains a trailing `reason` parameter (sql/40_replay.sql).  A new
-- parameter is a new signature, and CREATE OR REPLACE would leave the old
-- seven-argument function beside it (calls by position or name would then be
-- ambiguous): drop the old one; the repeatable files that run right after
-- this migration create the new one and grant it.
DROP FUNCTION IF EXISTS clawdstrike.replay(text, timestamptz, timestamptz, text, text, text, boolean);
