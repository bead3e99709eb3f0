-- Event validation (SPEC §6).  The same rules and the same messages as the
-- relay's C validator (src/event.c): "<path>: <problem>", first problem wins.

-- The size limit: the argument, else the max_event_bytes setting.
CREATE OR REPLACE FUNCTION clawdstrike.event_limit(max_bytes integer)
RETURNS integer
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
SELECT coalesce(max_bytes, (SELECT s.value::integer FROM clawdstrike.settings s
			     WHERE s.key = 'max_event_bytes'))
$$;

-- NULL when e is a valid event, else the first problem as "<path>: <problem>".
--
-- One SQL expression (a CASE evaluated in order, first match wins) rather
-- than PL/pgSQL statements: it runs on every enqueue and every INSERT, in
-- the engine's own transactions, and the statement-per-check version cost
-- ~300 us per event; this one costs a small fraction of that.  No SET
-- clause (it would stop inlining): every name is schema-qualified.
CREATE OR REPLACE FUNCTION clawdstrike.event_problem(e jsonb, max_bytes integer DEFAULT NULL)
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
SELECT CASE
	WHEN e IS NULL OR pg_catalog.jsonb_typeof(e) <> 'object'
		THEN '(event): must be a JSON object'
	-- The binary size bounds the text size within 8x (the worst escape
	-- expands a byte to 6), so the exact text length is only computed
	-- for events that could be near the limit.
	WHEN pg_catalog.pg_column_size(e) > clawdstrike.event_limit(max_bytes) / 8
	     AND pg_catalog.octet_length(e::text) > clawdstrike.event_limit(max_bytes)
		THEN pg_catalog.format('(event): %s bytes exceeds the %s byte limit',
				       pg_catalog.octet_length(e::text),
				       clawdstrike.event_limit(max_bytes))
	WHEN NOT e ? 'event_id' THEN 'event_id: required'
	WHEN pg_catalog.jsonb_typeof(e->'event_id') <> 'string'
	     OR NOT (e->>'event_id') ~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
		THEN 'event_id: must be a UUID string'
	WHEN NOT e ? 'timestamp' THEN 'timestamp: required'
	WHEN pg_catalog.jsonb_typeof(e->'timestamp') <> 'string'
	     -- field ranges in the pattern; only the day of the month needs
	     -- arithmetic (leap years; year 0000 is valid RFC 3339)
	     OR NOT (e->>'timestamp') ~ '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt ]([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$'
	     OR pg_catalog.substr(e->>'timestamp', 9, 2)::int > (CASE
			WHEN pg_catalog.substr(e->>'timestamp', 6, 2) IN ('04', '06', '09', '11') THEN 30
			WHEN pg_catalog.substr(e->>'timestamp', 6, 2) <> '02' THEN 31
			WHEN (pg_catalog.substr(e->>'timestamp', 1, 4)::int % 4 = 0
			      AND pg_catalog.substr(e->>'timestamp', 1, 4)::int % 100 <> 0)
			     OR pg_catalog.substr(e->>'timestamp', 1, 4)::int % 400 = 0 THEN 29
			ELSE 28 END)
		THEN 'timestamp: must be an RFC 3339 date-time with a zone offset'
	WHEN NOT e ? 'event_type' THEN 'event_type: required'
	WHEN pg_catalog.jsonb_typeof(e->'event_type') <> 'string' OR e->>'event_type' = ''
		THEN 'event_type: must be a non-empty string'
	WHEN NOT e ? 'decision' THEN 'decision: required'
	WHEN pg_catalog.jsonb_typeof(e->'decision') <> 'object' THEN 'decision: must be an object'
	WHEN NOT e->'decision' ? 'allowed' THEN 'decision.allowed: required'
	WHEN pg_catalog.jsonb_typeof(e #> '{decision,allowed}') <> 'boolean'
		THEN 'decision.allowed: must be a boolean'
	WHEN NOT e->'decision' ? 'guard' THEN 'decision.guard: required'
	WHEN pg_catalog.jsonb_typeof(e #> '{decision,guard}') <> 'string'
		THEN 'decision.guard: must be a string'
	WHEN NOT e->'decision' ? 'severity' THEN 'decision.severity: required'
	WHEN pg_catalog.jsonb_typeof(e #> '{decision,severity}') <> 'string'
	     OR NOT (e #>> '{decision,severity}') IN ('info', 'low', 'medium', 'high', 'critical')
		THEN 'decision.severity: must be one of info, low, medium, high, critical'
	-- Optional fields, type-checked when present (an absent key gives a
	-- NULL type, which matches no WHEN), in the C validator's order.
	WHEN pg_catalog.jsonb_typeof(e->'event_category') <> 'string' THEN 'event_category: must be a string'
	WHEN pg_catalog.jsonb_typeof(e->'outcome') <> 'string' THEN 'outcome: must be a string'
	WHEN pg_catalog.jsonb_typeof(e->'action') <> 'string' THEN 'action: must be a string'
	WHEN pg_catalog.jsonb_typeof(e->'agent') <> 'object' THEN 'agent: must be an object'
	WHEN pg_catalog.jsonb_typeof(e->'session') <> 'object' THEN 'session: must be an object'
	WHEN pg_catalog.jsonb_typeof(e->'threat') <> 'object' THEN 'threat: must be an object'
	WHEN pg_catalog.jsonb_typeof(e->'resource') <> 'object' THEN 'resource: must be an object'
	WHEN pg_catalog.jsonb_typeof(e->'metadata') <> 'object' THEN 'metadata: must be an object'
	WHEN pg_catalog.jsonb_typeof(e #> '{decision,reason}') <> 'string' THEN 'decision.reason: must be a string'
	WHEN pg_catalog.jsonb_typeof(e #> '{agent,id}') <> 'string' THEN 'agent.id: must be a string'
	WHEN pg_catalog.jsonb_typeof(e #> '{agent,name}') <> 'string' THEN 'agent.name: must be a string'
	WHEN pg_catalog.jsonb_typeof(e #> '{session,id}') <> 'string' THEN 'session.id: must be a string'
	WHEN pg_catalog.jsonb_typeof(e #> '{session,user_id}') <> 'string' THEN 'session.user_id: must be a string'
	WHEN pg_catalog.jsonb_typeof(e #> '{session,tenant_id}') <> 'string' THEN 'session.tenant_id: must be a string'
	WHEN pg_catalog.jsonb_typeof(e #> '{session,environment}') <> 'string' THEN 'session.environment: must be a string'
	WHEN pg_catalog.jsonb_typeof(e #> '{threat,tactic}') <> 'string' THEN 'threat.tactic: must be a string'
	WHEN pg_catalog.jsonb_typeof(e #> '{threat,technique}') <> 'string' THEN 'threat.technique: must be a string'
	WHEN pg_catalog.jsonb_typeof(e #> '{resource,type}') <> 'string' THEN 'resource.type: must be a string'
	WHEN pg_catalog.jsonb_typeof(e #> '{resource,name}') <> 'string' THEN 'resource.name: must be a string'
	WHEN pg_catalog.jsonb_typeof(e #> '{resource,path}') <> 'string' THEN 'resource.path: must be a string'
	WHEN pg_catalog.jsonb_typeof(e #> '{resource,host}') <> 'string' THEN 'resource.host: must be a string'
	WHEN e #> '{resource,port}' IS NOT NULL AND (CASE
		WHEN pg_catalog.jsonb_typeof(e #> '{resource,port}') <> 'number' THEN true
		WHEN NOT (e #>> '{resource,port}') ~ '^[0-9]{1,5}$' THEN true
		ELSE (e #>> '{resource,port}')::int > 65535 END)
		THEN 'resource.port: must be an integer from 0 to 65535'
	END
$$;

-- Raise SQLSTATE 22023 "invalid event: <path>: <problem>" for a bad event.
CREATE OR REPLACE FUNCTION clawdstrike.validate_event(e jsonb)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, clawdstrike
AS $$
DECLARE
	problem text := clawdstrike.event_problem(e);
BEGIN
	IF problem IS NOT NULL THEN
		RAISE EXCEPTION 'invalid event: %', problem
			USING ERRCODE = '22023',
			      HINT = 'an event needs event_id (UUID), timestamp (RFC 3339 with zone), event_type, decision.allowed, decision.guard and decision.severity';
	END IF;
END;
$$;
