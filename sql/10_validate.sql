-- Event validation (SPEC §6).  The same rules and the same messages as the
-- relay's C validator (src/event.c): "<path>: <problem>", first problem wins.

-- NULL when e is a valid event, else the first problem as "<path>: <problem>".
CREATE OR REPLACE FUNCTION clawdstrike.event_problem(e jsonb, max_bytes integer DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, clawdstrike
AS $$
DECLARE
	d jsonb;
	ts text;
	m text[];
	k text;
	sub jsonb;
	len integer;
	lim integer := coalesce(max_bytes,
		(SELECT value::integer FROM clawdstrike.settings WHERE key = 'max_event_bytes'));
BEGIN
	IF e IS NULL OR jsonb_typeof(e) <> 'object' THEN
		RETURN '(event): must be a JSON object';
	END IF;
	len := octet_length(e::text);
	IF len > lim THEN
		RETURN format('(event): %s bytes exceeds the %s byte limit', len, lim);
	END IF;

	IF NOT e ? 'event_id' THEN
		RETURN 'event_id: required';
	END IF;
	IF jsonb_typeof(e->'event_id') <> 'string' OR e->>'event_id' !~
	   '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' THEN
		RETURN 'event_id: must be a UUID string';
	END IF;

	IF NOT e ? 'timestamp' THEN
		RETURN 'timestamp: required';
	END IF;
	ts := CASE WHEN jsonb_typeof(e->'timestamp') = 'string' THEN e->>'timestamp' END;
	m := regexp_match(ts,
		'^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|([+-])(\d{2}):(\d{2}))$');
	IF m IS NULL
	   OR m[2]::int NOT BETWEEN 1 AND 12
	   OR m[3]::int < 1
	   -- days in the month by arithmetic (make_date() rejects year 0000,
	   -- which RFC 3339 and the C validator allow)
	   OR m[3]::int > (CASE
			WHEN m[2]::int IN (4, 6, 9, 11) THEN 30
			WHEN m[2]::int <> 2 THEN 31
			WHEN (m[1]::int % 4 = 0 AND m[1]::int % 100 <> 0)
			     OR m[1]::int % 400 = 0 THEN 29
			ELSE 28 END)
	   OR m[4]::int > 23 OR m[5]::int > 59 OR m[6]::int > 60
	   OR coalesce(m[10]::int, 0) > 23 OR coalesce(m[11]::int, 0) > 59 THEN
		RETURN 'timestamp: must be an RFC 3339 date-time with a zone offset';
	END IF;

	IF NOT e ? 'event_type' THEN
		RETURN 'event_type: required';
	END IF;
	IF jsonb_typeof(e->'event_type') <> 'string' OR e->>'event_type' = '' THEN
		RETURN 'event_type: must be a non-empty string';
	END IF;

	IF NOT e ? 'decision' THEN
		RETURN 'decision: required';
	END IF;
	d := e->'decision';
	IF jsonb_typeof(d) <> 'object' THEN
		RETURN 'decision: must be an object';
	END IF;
	IF NOT d ? 'allowed' THEN
		RETURN 'decision.allowed: required';
	END IF;
	IF jsonb_typeof(d->'allowed') <> 'boolean' THEN
		RETURN 'decision.allowed: must be a boolean';
	END IF;
	IF NOT d ? 'guard' THEN
		RETURN 'decision.guard: required';
	END IF;
	IF jsonb_typeof(d->'guard') <> 'string' THEN
		RETURN 'decision.guard: must be a string';
	END IF;
	IF NOT d ? 'severity' THEN
		RETURN 'decision.severity: required';
	END IF;
	IF jsonb_typeof(d->'severity') IS DISTINCT FROM 'string'
	   OR d->>'severity' NOT IN ('info', 'low', 'medium', 'high', 'critical') THEN
		RETURN 'decision.severity: must be one of info, low, medium, high, critical';
	END IF;

	-- Optional fields, type-checked when present, in a fixed order.
	FOREACH k IN ARRAY ARRAY['event_category', 'outcome', 'action'] LOOP
		IF e ? k AND jsonb_typeof(e->k) <> 'string' THEN
			RETURN k || ': must be a string';
		END IF;
	END LOOP;
	FOREACH k IN ARRAY ARRAY['agent', 'session', 'threat', 'resource', 'metadata'] LOOP
		IF e ? k AND jsonb_typeof(e->k) <> 'object' THEN
			RETURN k || ': must be an object';
		END IF;
	END LOOP;
	FOREACH k IN ARRAY ARRAY['decision.reason', 'agent.id', 'agent.name',
		'session.id', 'session.user_id', 'session.tenant_id',
		'session.environment', 'threat.tactic', 'threat.technique',
		'resource.type', 'resource.name', 'resource.path', 'resource.host'] LOOP
		sub := e #> string_to_array(k, '.');
		IF sub IS NOT NULL AND jsonb_typeof(sub) <> 'string' THEN
			RETURN k || ': must be a string';
		END IF;
	END LOOP;
	sub := e #> '{resource,port}';
	IF sub IS NOT NULL AND (jsonb_typeof(sub) <> 'number'
	   OR sub::text !~ '^\d+$' OR sub::text::numeric > 65535) THEN
		RETURN 'resource.port: must be an integer from 0 to 65535';
	END IF;
	RETURN NULL;
END;
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
