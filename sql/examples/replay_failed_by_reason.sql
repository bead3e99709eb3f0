-- Replay recipe (plain UPDATE): send the dead letters of one reason again,
-- e.g. after fixing an index or sourcetype in Splunk.  Setting status to
-- 'pending' resets attempts and errors, records each row in
-- clawdstrike.replay_log and wakes the relays.  Run it in a transaction,
-- look at the count, then COMMIT (or ROLLBACK).  Only failed (or delivered)
-- rows may be replayed; rows in flight are refused with an error.

-- 1. What would be replayed?
SELECT reason, http_status, hec_code, count(*) AS events
  FROM clawdstrike.dead_letter
 WHERE reason ILIKE '%Invalid data format%'
 GROUP BY 1, 2, 3;

-- 2. Replay them, saying why (optional, kept in the audit row; without it
--    the reason is 'UPDATE by <role>').
SET LOCAL clawdstrike.reason = 'index fixed in Splunk, CHG-1234';
UPDATE clawdstrike.outbox
   SET status = 'pending'
 WHERE status = 'failed'
   AND last_error ILIKE '%Invalid data format%';

-- Variant: one guard's failures of the last day.
UPDATE clawdstrike.outbox
   SET status = 'pending'
 WHERE status = 'failed'
   AND failed_at > now() - interval '1 day'
   AND event #>> '{decision,guard}' = 'ForbiddenPathGuard';

-- 3. The audit trail of what was just replayed: the old error, who (role
--    and login) and why.  Written by the status guard only.
SELECT outbox_id, event_id, from_status, to_status, last_error, replayed_at,
       replayed_by, session_role, reason
  FROM clawdstrike.replay_log
 WHERE replayed_at > now() - interval '5 minutes'
 ORDER BY id DESC;
