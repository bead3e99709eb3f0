-- Pending by age: how big is the backlog, how old is it, and is anything
-- urgent waiting?  Pending rows bucketed by age and by claim priority
-- (critical, high, the rest), oldest bucket first.
SELECT CASE
	 WHEN age < interval '1 minute'  THEN '1: < 1 min'
	 WHEN age < interval '10 minutes' THEN '2: 1-10 min'
	 WHEN age < interval '1 hour'    THEN '3: 10-60 min'
	 WHEN age < interval '1 day'     THEN '4: 1-24 h'
	 ELSE '5: > 1 day' END AS age_bucket,
       count(*) AS pending,
       count(*) FILTER (WHERE priority = 0) AS critical,
       count(*) FILTER (WHERE priority = 1) AS high,
       count(*) FILTER (WHERE attempts > 0) AS retried,
       min(enqueued_at) AS oldest_enqueued_at
  FROM (SELECT now() - enqueued_at AS age, priority, attempts, enqueued_at
	  FROM clawdstrike.outbox WHERE status = 'pending') p
 GROUP BY 1
 ORDER BY 1 DESC;

-- The same in one line, from the view.
SELECT pending, pending_critical, pending_high,
       round(oldest_pending_age_s::numeric, 1) AS oldest_pending_age_s
  FROM clawdstrike.backlog;
