-- Operator views: what the relay is doing, in plain SQL.

--
-- Each is a security_barrier view: its own filter runs before any
-- condition of the caller's, so a function an analyst writes (made cheap
-- to be run first) sees only the rows the view shows, never every event
-- (tests/sql/13_barrier.sql).
--
-- They read the outbox's tables (sql/20_outbox.sql), not the outbox view:
-- each walks the partial index of the status it counts, and none reads an
-- event's payload it does not show.

CREATE OR REPLACE VIEW clawdstrike.status_counts WITH (security_barrier) AS
SELECT s.status, coalesce(c.n, 0) AS events, c.oldest_enqueued_at
  FROM unnest(ARRAY['pending', 'sending', 'sent', 'delivered', 'failed']) AS s(status)
  LEFT JOIN (SELECT clawdstrike.row_status(o.status, b.state) AS status, count(*) AS n,
		    min(o.enqueued_at) AS oldest_enqueued_at
	       FROM clawdstrike.outbox_state o
	       LEFT JOIN clawdstrike.batch b ON b.id = o.batch_id AND o.status = 'sending'
	      GROUP BY 1) c USING (status);

-- The backlog: how much waits and for how long, by priority.
CREATE OR REPLACE VIEW clawdstrike.backlog WITH (security_barrier) AS
SELECT count(*) AS pending,
       count(*) FILTER (WHERE o.priority = 0) AS pending_critical,
       count(*) FILTER (WHERE o.priority = 1) AS pending_high,
       min(o.enqueued_at) AS oldest_enqueued_at,
       coalesce(extract(epoch FROM now() - min(o.enqueued_at)), 0)::double precision
		AS oldest_pending_age_s
  FROM clawdstrike.outbox_state o WHERE o.status = 'pending';

-- Open batches per relay instance: requests awaiting an answer or an ack.
CREATE OR REPLACE VIEW clawdstrike.in_flight WITH (security_barrier) AS
SELECT b.relay_instance,
       count(*) FILTER (WHERE b.state = 'claimed') AS batches_claimed,
       count(*) FILTER (WHERE b.state = 'sent') AS batches_awaiting_ack,
       coalesce(sum(b.n_events), 0) AS events,
       min(b.sent_at) AS oldest_sent_at,
       min(b.lease_until) AS next_lease_expiry
  FROM clawdstrike.batch b WHERE b.state <> 'closed'
 GROUP BY b.relay_instance;

-- The dead-letter table: every failed event, why, and what HEC said.
CREATE OR REPLACE VIEW clawdstrike.dead_letter WITH (security_barrier) AS
SELECT o.id AS outbox_id, e.event_id, e.event::jsonb AS event, o.last_error AS reason,
       o.http_status, o.hec_code, o.hec_text, o.attempts, o.failed_at,
       e.event::jsonb #>> '{decision,severity}' AS severity,
       e.event::jsonb #>> '{decision,guard}' AS guard,
       o.batch_id, o.enqueued_at
  FROM clawdstrike.outbox_state o JOIN clawdstrike.outbox_event e ON e.id = o.id
 WHERE o.status = 'failed';

CREATE OR REPLACE VIEW clawdstrike.dead_letter_by_reason WITH (security_barrier) AS
SELECT d.reason, d.http_status, d.hec_code, count(*) AS events,
       min(d.failed_at) AS first_failed_at, max(d.failed_at) AS last_failed_at
  FROM clawdstrike.dead_letter d
 GROUP BY d.reason, d.http_status, d.hec_code;

-- Delivered events per minute over the last hour.
CREATE OR REPLACE VIEW clawdstrike.throughput WITH (security_barrier) AS
SELECT date_trunc('minute', o.delivered_at) AS minute, count(*) AS delivered
  FROM clawdstrike.outbox_state o
 WHERE o.status = 'delivered' AND o.delivered_at > now() - interval '1 hour'
 GROUP BY 1;

-- Enqueue-to-delivered latency over the last hour.
CREATE OR REPLACE VIEW clawdstrike.delivery_latency WITH (security_barrier) AS
SELECT count(*) AS delivered,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY l.s) AS p50_s,
       percentile_cont(0.99) WITHIN GROUP (ORDER BY l.s) AS p99_s,
       max(l.s) AS max_s
  FROM (SELECT extract(epoch FROM o.delivered_at - o.enqueued_at)::double precision AS s
	  FROM clawdstrike.outbox_state o
	 WHERE o.status = 'delivered' AND o.delivered_at > now() - interval '1 hour') l;

-- Batch outcomes (the audit) over the last day, with risked duplicates.
CREATE OR REPLACE VIEW clawdstrike.batch_outcomes WITH (security_barrier) AS
SELECT coalesce(b.outcome, b.state) AS outcome, count(*) AS batches,
       sum(b.n_events) AS events, sum(b.duplicates_risked) AS duplicates_risked
  FROM clawdstrike.batch b
 WHERE b.claimed_at > now() - interval '1 day'
 GROUP BY 1;
