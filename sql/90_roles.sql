-- Least-privilege roles (NOLOGIN groups: grant them to login users).
--
--   clawdstrike_owner    owns the schema and every object in it; NOLOGIN,
--                        no grants to use.  The SECURITY DEFINER functions
--                        run as it, and the status guard recognises the
--                        relay's transitions by it (sql/20_outbox.sql):
--                        never grant it to a relay, operator or engine.
--   clawdstrike_engine   may only enqueue (EXECUTE enqueue, enqueue_many); cannot read
--                        or change the outbox.
--   clawdstrike_relay    runs the relay: the transition functions, reads
--                        for `status`, nothing else.
--   clawdstrike_analyst  read-only on the operator views.
--   clawdstrike_operator analyst + replay (UPDATE of status, replay())
--                        and discard (UPDATE of status to failed)
--                        + bulk loading (`clawdstrike-relay enqueue`:
--                        INSERT of the event column, validated by the
--                        same trigger as enqueue()); reads the audit
--                        (replay_log), which only the guard writes.
DO $$
DECLARE
	r text;
BEGIN
	FOREACH r IN ARRAY ARRAY['clawdstrike_owner', 'clawdstrike_engine', 'clawdstrike_relay',
				 'clawdstrike_analyst', 'clawdstrike_operator'] LOOP
		IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
			-- Roles belong to the cluster: a migrate of another
			-- database may be creating the same one right now (its
			-- insert waits for ours, or ours for its): either way,
			-- the role exists.
			BEGIN
				EXECUTE format('CREATE ROLE %I NOLOGIN', r);
			EXCEPTION WHEN duplicate_object OR unique_violation THEN
				NULL;
			END;
		END IF;
	END LOOP;
	-- Whoever runs the functions as the owner passes the guard: a login
	-- that could become it would be a way around it.
	IF (SELECT rolcanlogin FROM pg_roles WHERE rolname = 'clawdstrike_owner') THEN
		ALTER ROLE clawdstrike_owner NOLOGIN;
	END IF;
END;
$$;

-- Hand the schema and everything in it to clawdstrike_owner.  Objects are
-- created by whoever runs `migrate`, and CREATE OR REPLACE keeps an
-- existing object's owner, so a loop over the catalog after every migrate
-- catches each new table, view, sequence, function and type; it only
-- touches what is not the owner's yet (idempotent).  Indexes, identity and
-- serial sequences, triggers and row types follow their table.
--
-- `migrate` as a superuser (the tests) needs nothing more.  A migrate login
-- that is not a superuser needs: membership in clawdstrike_owner with
-- INHERIT (it creates and replaces the owner's objects, and ALTER ... OWNER
-- TO needs it), CREATE on the database for the first run (CREATE SCHEMA),
-- and CREATEROLE only if the roles above do not exist yet.  Being a member
-- of the owner, that login can also pass the status guard: keep it for
-- migrations, not daily work.
DO $$
DECLARE
	owner oid := 'clawdstrike_owner'::regrole;
	o record;
BEGIN
	IF (SELECT nspowner FROM pg_namespace WHERE nspname = 'clawdstrike') <> owner THEN
		ALTER SCHEMA clawdstrike OWNER TO clawdstrike_owner;
	END IF;
	FOR o IN SELECT c.oid::regclass AS name,
			CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
				       WHEN 'm' THEN 'MATERIALIZED VIEW'
				       WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END AS kind
		   FROM pg_class c
		  WHERE c.relnamespace = 'clawdstrike'::regnamespace AND c.relowner <> owner
		    AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
		    -- identity/serial sequences move with their table; extension
		    -- members belong to the extension
		    AND NOT EXISTS (SELECT 1 FROM pg_depend d
				     WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
				       AND ((d.deptype IN ('a', 'i') AND d.refclassid = 'pg_class'::regclass
					     AND c.relkind = 'S')
					    OR d.deptype = 'e'))
		  ORDER BY c.oid LOOP
		EXECUTE format('ALTER %s %s OWNER TO clawdstrike_owner', o.kind, o.name);
	END LOOP;
	FOR o IN SELECT p.oid::regprocedure AS name,
			CASE p.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE'
				       ELSE 'FUNCTION' END AS kind
		   FROM pg_proc p
		  WHERE p.pronamespace = 'clawdstrike'::regnamespace AND p.proowner <> owner
		    AND NOT EXISTS (SELECT 1 FROM pg_depend d
				     WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
				       AND d.deptype = 'e')
		  ORDER BY p.oid LOOP
		EXECUTE format('ALTER %s %s OWNER TO clawdstrike_owner', o.kind, o.name);
	END LOOP;
	-- Types of their own (enums, domains, ranges, CREATE TYPE composites);
	-- row and array types follow their table or element type.
	FOR o IN SELECT t.oid::regtype AS name
		   FROM pg_type t
		  WHERE t.typnamespace = 'clawdstrike'::regnamespace AND t.typowner <> owner
		    AND (t.typtype IN ('e', 'd', 'r')
			 OR (t.typtype = 'c' AND (SELECT c.relkind FROM pg_class c
						   WHERE c.oid = t.typrelid) = 'c'))
		    AND NOT EXISTS (SELECT 1 FROM pg_depend d
				     WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid
				       AND d.deptype = 'e')
		  ORDER BY t.oid LOOP
		EXECUTE format('ALTER TYPE %s OWNER TO clawdstrike_owner', o.name);
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

GRANT EXECUTE ON FUNCTION clawdstrike.enqueue(jsonb), clawdstrike.enqueue_many(jsonb[])
	TO clawdstrike_engine, clawdstrike_relay;
-- Functions the triggers and enqueue use run as the invoker's helper calls.
GRANT EXECUTE ON FUNCTION clawdstrike.event_problem(jsonb, integer), clawdstrike.event_limit(integer),
	clawdstrike.validate_event(jsonb), clawdstrike.severity_priority(text),
	clawdstrike.row_status(text, text)
	TO clawdstrike_engine, clawdstrike_relay, clawdstrike_analyst, clawdstrike_operator;

GRANT EXECUTE ON FUNCTION
	clawdstrike.claim(text, integer, integer, uuid, uuid),
	clawdstrike.set_channel(bigint, uuid),
	clawdstrike.mark_sent(bigint, bigint[], text, uuid, bigint, integer),
	clawdstrike.mark_delivered(bigint[]),
	clawdstrike.risk_duplicates(bigint, integer),
	clawdstrike.mark_rows_delivered(bigint, bigint[], text),
	clawdstrike.fail_rows(bigint, bigint[], text, integer, integer, text),
	clawdstrike.release(bigint, text, text, boolean, integer, integer, text),
	clawdstrike.retire_channel(uuid, bigint, text, text),
	clawdstrike.split(bigint, bigint[]),
	clawdstrike.heartbeat(uuid, bigint[], integer),
	clawdstrike.register(text),
	clawdstrike.recover(text, integer, boolean, uuid),
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
GRANT EXECUTE ON FUNCTION clawdstrike.enqueue(jsonb), clawdstrike.enqueue_many(jsonb[])
	TO clawdstrike_operator;
-- The audit (replay_log) is read-only to them: the status guard writes it
-- as the owner, so no role can forge or change an entry.
GRANT SELECT ON clawdstrike.batch, clawdstrike.replay_log TO clawdstrike_operator;
GRANT EXECUTE ON FUNCTION
	clawdstrike.replay(text, timestamptz, timestamptz, text, text, text, boolean, text)
	TO clawdstrike_operator;
