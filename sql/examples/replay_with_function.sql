-- Replay recipe (function): clawdstrike.replay() with filters and a dry run.
-- Arguments (all optional): status ('failed' default, or 'delivered' for a
-- deliberate re-send), since/until (enqueue time range), guard, severity,
-- error (substring of the reason, case-insensitive), dry_run, reason (why,
-- kept in each row's clawdstrike.replay_log entry).  Returns the number of
-- rows (that would be) set back to pending.

-- How many critical dead letters of the last day would be replayed?
SELECT clawdstrike.replay(severity => 'critical', since => now() - interval '1 day',
			  dry_run => true) AS would_replay;

-- Replay them, saying why.
SELECT clawdstrike.replay(severity => 'critical', since => now() - interval '1 day',
			  reason => 'HEC token fixed, INC-42') AS replayed;

-- Replay the dead letters of one guard whose reason mentions a HEC code.
SELECT clawdstrike.replay('failed', guard => 'ForbiddenPathGuard', error => 'code 6') AS replayed;

-- Re-send on purpose everything delivered in a time range (e.g. the index
-- was deleted in Splunk); audited in clawdstrike.replay_log.
SELECT clawdstrike.replay('delivered', since => now() - interval '2 hours',
			  until => now() - interval '1 hour', dry_run => true) AS would_resend;
