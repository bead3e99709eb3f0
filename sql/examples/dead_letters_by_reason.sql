-- Dead letters by reason: which events failed permanently, why, and what
-- HEC said (http_status/hec_code/hec_text; NULL when our own validation
-- rejected the event), most frequent reason first, with one example event.
SELECT r.reason, r.http_status, r.hec_code, r.events,
       r.first_failed_at, r.last_failed_at,
       (SELECT d.event FROM clawdstrike.dead_letter d
	 WHERE d.reason IS NOT DISTINCT FROM r.reason
	   AND d.http_status IS NOT DISTINCT FROM r.http_status
	   AND d.hec_code IS NOT DISTINCT FROM r.hec_code
	 ORDER BY d.failed_at DESC LIMIT 1) AS latest_example
  FROM clawdstrike.dead_letter_by_reason r
 ORDER BY r.events DESC, r.reason;

-- Dead letters of the last 24 hours by guard and severity.
SELECT guard, severity, count(*) AS events
  FROM clawdstrike.dead_letter
 WHERE failed_at > now() - interval '24 hours'
 GROUP BY guard, severity
 ORDER BY events DESC;
