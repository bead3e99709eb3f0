-- Outbox health: is the queue table staying small under churn?  Live and
-- dead tuples, when (auto)vacuum last ran, and the size of the table and of
-- each index (the claim index should stay about as big as the backlog).
-- Many dead tuples and an old last_autovacuum mean vacuum is not keeping up
-- (a long-running transaction somewhere holds it back: see the last query).
SELECT relname, n_live_tup, n_dead_tup,
       round(100.0 * n_dead_tup / nullif(n_live_tup + n_dead_tup, 0), 1) AS dead_pct,
       n_tup_ins, n_tup_upd, n_tup_hot_upd, n_tup_del,
       last_vacuum, last_autovacuum, autovacuum_count, last_autoanalyze,
       pg_size_pretty(pg_total_relation_size(relid)) AS total_size
  FROM pg_stat_user_tables
 WHERE schemaname = 'clawdstrike'
 ORDER BY relname;

SELECT s.indexrelname AS index, pg_size_pretty(pg_relation_size(s.indexrelid)) AS size,
       s.idx_scan
  FROM pg_stat_user_indexes s
 WHERE s.schemaname = 'clawdstrike'
 ORDER BY pg_relation_size(s.indexrelid) DESC;

-- Oldest open transactions (they stop vacuum from removing dead rows).
SELECT pid, usename, state, now() - xact_start AS xact_age, left(query, 80) AS query
  FROM pg_stat_activity
 WHERE xact_start IS NOT NULL AND pid <> pg_backend_pid()
 ORDER BY xact_start
 LIMIT 5;
