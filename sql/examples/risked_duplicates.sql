-- Risked duplicates: events that may be in Splunk twice, because a batch was
-- re-sent after an ack timeout, a lost HEC response or an expired lease.
-- Per relay and outcome over the last 7 days, then the event ids of the
-- most recent such batches (to de-duplicate in Splunk on event_id).
SELECT relay_instance, outcome, count(*) AS batches,
       sum(duplicates_risked) AS events_risked,
       max(closed_at) AS last_at
  FROM clawdstrike.batch
 WHERE duplicates_risked > 0 AND claimed_at > now() - interval '7 days'
 GROUP BY relay_instance, outcome
 ORDER BY events_risked DESC;

SELECT b.id AS batch_id, b.outcome, b.closed_at, o.event_id, o.status
  FROM clawdstrike.batch b
  JOIN clawdstrike.outbox o ON o.id = ANY (b.outbox_ids)
 WHERE b.duplicates_risked > 0
 ORDER BY b.closed_at DESC NULLS LAST, o.id
 LIMIT 100;

-- Totals per outcome for the last day, from the view.
SELECT * FROM clawdstrike.batch_outcomes ORDER BY batches DESC;
