-- Discard recipe: take pending events out of the queue without sending them
-- (pending -> failed), e.g. a test event a misconfigured engine wrote.  Only
-- pending rows can be discarded; rows in flight are refused with an error.
-- Each row becomes a dead letter whose reason says who discarded it (and
-- why); its previous error is kept in clawdstrike.replay_log with the
-- discard.  A discarded row can be replayed like any other dead letter.

-- 1. What would be discarded?
SELECT id, event_id, enqueued_at, event #>> '{decision,guard}' AS guard
  FROM clawdstrike.outbox
 WHERE status = 'pending' AND event #>> '{decision,severity}' = 'low';

-- 2. Discard them, saying why (optional).
SET LOCAL clawdstrike.reason = 'test events from engine staging, SOC-77';
UPDATE clawdstrike.outbox
   SET status = 'failed'
 WHERE status = 'pending' AND event #>> '{decision,severity}' = 'low';

-- 3. The dead letters and the audit of the discard.
SELECT d.outbox_id, d.reason, l.last_error AS previous_error, l.replayed_by, l.reason AS why
  FROM clawdstrike.dead_letter d
  JOIN clawdstrike.replay_log l ON l.outbox_id = d.outbox_id AND l.to_status = 'failed'
 WHERE l.replayed_at > now() - interval '5 minutes';
