-- Delivery latency percentiles: how long events take from enqueue to
-- "indexed" (acknowledged by Splunk, or accepted with acks off), per hour
-- over the last 24 hours, in seconds.  Replayed rows count from their
-- original enqueue time.
SELECT date_trunc('hour', delivered_at) AS hour,
       count(*) AS delivered,
       round(percentile_cont(0.50) WITHIN GROUP (ORDER BY s)::numeric, 3) AS p50_s,
       round(percentile_cont(0.90) WITHIN GROUP (ORDER BY s)::numeric, 3) AS p90_s,
       round(percentile_cont(0.99) WITHIN GROUP (ORDER BY s)::numeric, 3) AS p99_s,
       round(max(s)::numeric, 3) AS max_s
  FROM (SELECT delivered_at, extract(epoch FROM delivered_at - enqueued_at) AS s
	  FROM clawdstrike.outbox
	 WHERE status = 'delivered' AND delivered_at > now() - interval '24 hours') l
 GROUP BY 1
 ORDER BY 1;

-- Last hour, by how the row was delivered (acked, no_ack, prefix_commit).
SELECT delivery, count(*) AS delivered,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM delivered_at - enqueued_at))::numeric, 3) AS p50_s
  FROM clawdstrike.outbox
 WHERE status = 'delivered' AND delivered_at > now() - interval '1 hour'
 GROUP BY delivery;

-- The view with the same numbers for the last hour.
SELECT * FROM clawdstrike.delivery_latency;
