-- Least-privilege roles (NOLOGIN groups: grant them to login users).
--
--   clawdstrike_engine   may only enqueue (EXECUTE enqueue); cannot read
--                        or change the outbox.
--   clawdstrike_relay    runs the relay: the transition functions, reads
--                        for `status`, nothing else.
--   clawdstrike_analyst  read-only on the operator views.
--   clawdstrike_operator analyst + replay (UPDATE of status, replay())
--                        + bulk loading (`clawdstrike-relay enqueue`:
--                        INSERT of the event column, validated by the
--                        same trigger as enqueue()).
DO $$
DECLARE
	r text;
BEGIN
	FOREACH r IN ARRAY ARRAY['clawdstrike_engine', 'clawdstrike_relay',
				 'clawdstrike_analyst', 'clawdstrike_operator'] LOOP
		IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
			EXECUTE format('CREATE ROLE %I NOLOGIN', r);
		END IF;
	END LOOP;
END;
$$;

-- Start from nothing, then grant exactly what each role needs.  Functions
-- are executable by PUBLIC by default: take that away first.
REVOKE ALL ON ALL TABLES IN SCHEMA clawdstrike FROM PUBLIC,
	clawdstrike_engine, clawdstrike_relay, clawdstrike_analyst, clawdstrike_operator;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA clawdstrike FROM PUBLIC,
	clawdstrike_engine, clawdstrike_relay, clawdstrike_analyst, clawdstrike_operator;
REVOKE ALL ON SCHEMA clawdstrike FROM PUBLIC;
GRANT USAGE ON SCHEMA clawdstrike TO clawdstrike_engine, clawdstrike_relay,
	clawdstrike_analyst, clawdstrike_operator;

GRANT EXECUTE ON FUNCTION clawdstrike.enqueue(jsonb) TO clawdstrike_engine, clawdstrike_relay;
-- Functions the triggers and enqueue use run as the invoker's helper calls.
GRANT EXECUTE ON FUNCTION clawdstrike.event_problem(jsonb, integer), clawdstrike.event_limit(integer),
	clawdstrike.validate_event(jsonb), clawdstrike.severity_priority(text)
	TO clawdstrike_engine, clawdstrike_relay, clawdstrike_analyst, clawdstrike_operator;

GRANT EXECUTE ON FUNCTION
	clawdstrike.claim(text, integer, integer),
	clawdstrike.mark_sent(bigint, text, uuid, bigint, integer),
	clawdstrike.mark_delivered(bigint[], text),
	clawdstrike.risk_duplicates(bigint, integer),
	clawdstrike.mark_rows_delivered(bigint, bigint[]),
	clawdstrike.fail_rows(bigint, bigint[], text, integer, integer, text),
	clawdstrike.release(bigint, text, text, boolean, integer, integer, text),
	clawdstrike.split(bigint, bigint[]),
	clawdstrike.heartbeat(text, integer),
	clawdstrike.recover(text, integer, boolean),
	clawdstrike.purge(interval, integer)
	TO clawdstrike_relay;

GRANT SELECT ON clawdstrike.status_counts, clawdstrike.backlog, clawdstrike.in_flight,
	clawdstrike.dead_letter, clawdstrike.dead_letter_by_reason, clawdstrike.throughput,
	clawdstrike.delivery_latency, clawdstrike.batch_outcomes
	TO clawdstrike_relay, clawdstrike_analyst, clawdstrike_operator;
GRANT SELECT ON clawdstrike.settings TO clawdstrike_relay, clawdstrike_analyst,
	clawdstrike_operator;
-- The schema version (what `migrate` applied): `check`, `enqueue` and
-- `status` compare it with the binary's before doing anything.
GRANT SELECT ON clawdstrike.schema_migrations, clawdstrike.schema_repeatable
	TO clawdstrike_relay, clawdstrike_analyst, clawdstrike_operator;

-- Operators replay (read the outbox, change only its status, audit trail)
-- and bulk-load exported events (insert only the event column: the
-- trigger derives and resets everything else).
GRANT SELECT, UPDATE (status), INSERT (event) ON clawdstrike.outbox TO clawdstrike_operator;
GRANT EXECUTE ON FUNCTION clawdstrike.enqueue(jsonb) TO clawdstrike_operator;
GRANT SELECT ON clawdstrike.batch, clawdstrike.replay_log TO clawdstrike_operator;
GRANT INSERT ON clawdstrike.replay_log TO clawdstrike_operator;
GRANT EXECUTE ON FUNCTION
	clawdstrike.replay(text, timestamptz, timestamptz, text, text, text, boolean)
	TO clawdstrike_operator;
