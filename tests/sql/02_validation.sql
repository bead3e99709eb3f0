-- Event validation (SPEC §6): every bad-input case is rejected by enqueue()
-- and by a plain INSERT with SQLSTATE 22023 and "invalid event: <path>:
-- <problem>", and nothing is written; good events (all optional fields,
-- unknown keys, timestamp edge cases) are accepted and stored as written.
BEGIN;
SELECT plan(187);

DELETE FROM clawdstrike.outbox;

-- A valid event with every optional seed field.
CREATE FUNCTION pg_temp.full_event() RETURNS jsonb LANGUAGE sql VOLATILE AS $$
	SELECT jsonb_build_object(
		'event_id', gen_random_uuid(),
		'timestamp', '2024-05-01T12:00:00.123Z',
		'event_type', 'policy_violation',
		'event_category', 'file',
		'outcome', 'blocked',
		'action', 'deny',
		'decision', jsonb_build_object('allowed', false, 'guard', 'ForbiddenPathGuard',
			'severity', 'critical', 'reason', 'path is forbidden'),
		'agent', jsonb_build_object('id', 'agent-1', 'name', 'claude'),
		'session', jsonb_build_object('id', 's-1', 'user_id', 'u-1', 'tenant_id', 't-1',
			'environment', 'prod'),
		'threat', jsonb_build_object('tactic', 'TA0009', 'technique', 'T1005'),
		'resource', jsonb_build_object('type', 'file', 'name', 'passwd', 'path', '/etc/passwd',
			'host', 'web-1', 'port', 443),
		'metadata', jsonb_build_object('anything', jsonb_build_array(1, 'two', NULL)))
$$;
-- The smallest valid event.
CREATE FUNCTION pg_temp.min_event() RETURNS jsonb LANGUAGE sql VOLATILE AS $$
	SELECT jsonb_build_object('event_id', gen_random_uuid(),
		'timestamp', '2024-05-01T12:00:00Z', 'event_type', 'policy_violation',
		'decision', jsonb_build_object('allowed', true, 'guard', 'g', 'severity', 'info'))
$$;
CREATE FUNCTION pg_temp.with_ts(ts jsonb) RETURNS jsonb LANGUAGE sql VOLATILE AS $$
	SELECT jsonb_set(pg_temp.min_event(), '{timestamp}', ts)
$$;

-- Bad events: (case, event, expected "<path>: <problem>").
CREATE TEMP TABLE bad (n serial, what text, ev jsonb, problem text);
INSERT INTO bad (what, ev, problem) VALUES
	('a JSON array',            '[1, 2]',       '(event): must be a JSON object'),
	('a JSON string',           '"event"',      '(event): must be a JSON object'),
	('a JSON number',           '42',           '(event): must be a JSON object'),
	('JSON null',               'null',         '(event): must be a JSON object'),
	('SQL NULL',                NULL,           '(event): must be a JSON object'),
	('an empty object',         '{}',           'event_id: required'),
	('missing event_id',        pg_temp.min_event() - 'event_id', 'event_id: required'),
	('event_id a number',       jsonb_set(pg_temp.min_event(), '{event_id}', '12345'),
		'event_id: must be a UUID string'),
	('event_id not a UUID',     jsonb_set(pg_temp.min_event(), '{event_id}', '"not-a-uuid"'),
		'event_id: must be a UUID string'),
	('event_id without dashes', jsonb_set(pg_temp.min_event(), '{event_id}',
		'"0f8fad5bd9cb469fa16570867728950e"'), 'event_id: must be a UUID string'),
	('event_id too short',      jsonb_set(pg_temp.min_event(), '{event_id}',
		'"0f8fad5b-d9cb-469f-a165-70867728950"'), 'event_id: must be a UUID string'),
	('event_id null',           jsonb_set(pg_temp.min_event(), '{event_id}', 'null'),
		'event_id: must be a UUID string'),
	('missing timestamp',       pg_temp.min_event() - 'timestamp', 'timestamp: required'),
	('timestamp a number',      pg_temp.with_ts('1714564800'),
		'timestamp: must be an RFC 3339 date-time with a zone offset'),
	('timestamp without zone',  pg_temp.with_ts('"2024-05-01T12:00:00"'),
		'timestamp: must be an RFC 3339 date-time with a zone offset'),
	('timestamp date only',     pg_temp.with_ts('"2024-05-01"'),
		'timestamp: must be an RFC 3339 date-time with a zone offset'),
	('timestamp month 13',      pg_temp.with_ts('"2024-13-01T12:00:00Z"'),
		'timestamp: must be an RFC 3339 date-time with a zone offset'),
	('timestamp month 00',      pg_temp.with_ts('"2024-00-10T12:00:00Z"'),
		'timestamp: must be an RFC 3339 date-time with a zone offset'),
	('timestamp day 00',        pg_temp.with_ts('"2024-05-00T12:00:00Z"'),
		'timestamp: must be an RFC 3339 date-time with a zone offset'),
	('timestamp April 31',      pg_temp.with_ts('"2024-04-31T12:00:00Z"'),
		'timestamp: must be an RFC 3339 date-time with a zone offset'),
	('timestamp Feb 29 of a common year', pg_temp.with_ts('"2023-02-29T12:00:00Z"'),
		'timestamp: must be an RFC 3339 date-time with a zone offset'),
	('timestamp Feb 29 of 1900', pg_temp.with_ts('"1900-02-29T12:00:00Z"'),
		'timestamp: must be an RFC 3339 date-time with a zone offset'),
	('timestamp Feb 30 of a leap year', pg_temp.with_ts('"2024-02-30T12:00:00Z"'),
		'timestamp: must be an RFC 3339 date-time with a zone offset'),
	('timestamp hour 24',       pg_temp.with_ts('"2024-05-01T24:00:00Z"'),
		'timestamp: must be an RFC 3339 date-time with a zone offset'),
	('timestamp minute 60',     pg_temp.with_ts('"2024-05-01T12:60:00Z"'),
		'timestamp: must be an RFC 3339 date-time with a zone offset'),
	('timestamp second 61',     pg_temp.with_ts('"2024-05-01T12:00:61Z"'),
		'timestamp: must be an RFC 3339 date-time with a zone offset'),
	('timestamp offset +24:00', pg_temp.with_ts('"2024-05-01T12:00:00+24:00"'),
		'timestamp: must be an RFC 3339 date-time with a zone offset'),
	('timestamp offset minute 60', pg_temp.with_ts('"2024-05-01T12:00:00+01:60"'),
		'timestamp: must be an RFC 3339 date-time with a zone offset'),
	('timestamp offset without colon', pg_temp.with_ts('"2024-05-01T12:00:00+0100"'),
		'timestamp: must be an RFC 3339 date-time with a zone offset'),
	('timestamp empty fraction', pg_temp.with_ts('"2024-05-01T12:00:00.Z"'),
		'timestamp: must be an RFC 3339 date-time with a zone offset'),
	('timestamp zone name',     pg_temp.with_ts('"2024-05-01T12:00:00 UTC"'),
		'timestamp: must be an RFC 3339 date-time with a zone offset'),
	('timestamp two-digit year', pg_temp.with_ts('"24-05-01T12:00:00Z"'),
		'timestamp: must be an RFC 3339 date-time with a zone offset'),
	('timestamp trailing junk', pg_temp.with_ts('"2024-05-01T12:00:00Zjunk"'),
		'timestamp: must be an RFC 3339 date-time with a zone offset'),
	('missing event_type',      pg_temp.min_event() - 'event_type', 'event_type: required'),
	('empty event_type',        jsonb_set(pg_temp.min_event(), '{event_type}', '""'),
		'event_type: must be a non-empty string'),
	('event_type a number',     jsonb_set(pg_temp.min_event(), '{event_type}', '7'),
		'event_type: must be a non-empty string'),
	('missing decision',        pg_temp.min_event() - 'decision', 'decision: required'),
	('decision a string',       jsonb_set(pg_temp.min_event(), '{decision}', '"deny"'),
		'decision: must be an object'),
	('decision an array',       jsonb_set(pg_temp.min_event(), '{decision}', '[]'),
		'decision: must be an object'),
	('missing decision.allowed', pg_temp.min_event() #- '{decision,allowed}',
		'decision.allowed: required'),
	('decision.allowed a string', jsonb_set(pg_temp.min_event(), '{decision,allowed}', '"true"'),
		'decision.allowed: must be a boolean'),
	('decision.allowed null',   jsonb_set(pg_temp.min_event(), '{decision,allowed}', 'null'),
		'decision.allowed: must be a boolean'),
	('missing decision.guard',  pg_temp.min_event() #- '{decision,guard}',
		'decision.guard: required'),
	('decision.guard a number', jsonb_set(pg_temp.min_event(), '{decision,guard}', '1'),
		'decision.guard: must be a string'),
	('missing decision.severity', pg_temp.min_event() #- '{decision,severity}',
		'decision.severity: required'),
	('decision.severity unknown', jsonb_set(pg_temp.min_event(), '{decision,severity}', '"urgent"'),
		'decision.severity: must be one of info, low, medium, high, critical'),
	('decision.severity upper case', jsonb_set(pg_temp.min_event(), '{decision,severity}', '"CRITICAL"'),
		'decision.severity: must be one of info, low, medium, high, critical'),
	('decision.severity a number', jsonb_set(pg_temp.min_event(), '{decision,severity}', '4'),
		'decision.severity: must be one of info, low, medium, high, critical'),
	('event_category a number', pg_temp.min_event() || '{"event_category": 1}',
		'event_category: must be a string'),
	('outcome an object',       pg_temp.min_event() || '{"outcome": {}}', 'outcome: must be a string'),
	('action a boolean',        pg_temp.min_event() || '{"action": true}', 'action: must be a string'),
	('agent a string',          pg_temp.min_event() || '{"agent": "claude"}', 'agent: must be an object'),
	('session an array',        pg_temp.min_event() || '{"session": []}', 'session: must be an object'),
	('threat a number',         pg_temp.min_event() || '{"threat": 3}', 'threat: must be an object'),
	('resource a string',       pg_temp.min_event() || '{"resource": "/etc"}', 'resource: must be an object'),
	('metadata a string',       pg_temp.min_event() || '{"metadata": "x"}', 'metadata: must be an object'),
	('decision.reason a number', jsonb_set(pg_temp.min_event(), '{decision,reason}', '5'),
		'decision.reason: must be a string'),
	('agent.id a number',       pg_temp.min_event() || '{"agent": {"id": 1}}', 'agent.id: must be a string'),
	('agent.name an array',     pg_temp.min_event() || '{"agent": {"name": []}}', 'agent.name: must be a string'),
	('session.id a number',     pg_temp.min_event() || '{"session": {"id": 1}}', 'session.id: must be a string'),
	('session.user_id a number', pg_temp.min_event() || '{"session": {"user_id": 1}}',
		'session.user_id: must be a string'),
	('session.tenant_id a bool', pg_temp.min_event() || '{"session": {"tenant_id": false}}',
		'session.tenant_id: must be a string'),
	('session.environment an object', pg_temp.min_event() || '{"session": {"environment": {}}}',
		'session.environment: must be a string'),
	('threat.tactic a number',  pg_temp.min_event() || '{"threat": {"tactic": 9}}',
		'threat.tactic: must be a string'),
	('threat.technique a number', pg_temp.min_event() || '{"threat": {"technique": 9}}',
		'threat.technique: must be a string'),
	('resource.type a number',  pg_temp.min_event() || '{"resource": {"type": 1}}',
		'resource.type: must be a string'),
	('resource.name a number',  pg_temp.min_event() || '{"resource": {"name": 1}}',
		'resource.name: must be a string'),
	('resource.path a number',  pg_temp.min_event() || '{"resource": {"path": 1}}',
		'resource.path: must be a string'),
	('resource.host a number',  pg_temp.min_event() || '{"resource": {"host": 1}}',
		'resource.host: must be a string'),
	('resource.port a string',  pg_temp.min_event() || '{"resource": {"port": "443"}}',
		'resource.port: must be an integer from 0 to 65535'),
	('resource.port negative',  pg_temp.min_event() || '{"resource": {"port": -1}}',
		'resource.port: must be an integer from 0 to 65535'),
	('resource.port 65536',     pg_temp.min_event() || '{"resource": {"port": 65536}}',
		'resource.port: must be an integer from 0 to 65535'),
	('resource.port a fraction', pg_temp.min_event() || '{"resource": {"port": 80.5}}',
		'resource.port: must be an integer from 0 to 65535'),
	-- The first problem wins, in the documented order.
	('several problems',        '{"event_id": "x", "timestamp": "never"}',
		'event_id: must be a UUID string');

SELECT throws_ok(format('SELECT clawdstrike.enqueue(%L::jsonb)', ev), '22023',
		 'invalid event: ' || problem, 'enqueue rejects ' || what)
  FROM bad ORDER BY n;
SELECT is((SELECT count(*) FROM clawdstrike.outbox), 0::bigint,
	  'no bad event was written by enqueue');

SELECT throws_ok(format('INSERT INTO clawdstrike.outbox (event) VALUES (%L::jsonb)', ev), '22023',
		 'invalid event: ' || problem, 'plain INSERT rejects ' || what)
  FROM bad ORDER BY n;
SELECT is((SELECT count(*) FROM clawdstrike.outbox), 0::bigint,
	  'no bad event was written by plain INSERT');

-- One bad event among good ones: the whole statement writes nothing.
SELECT throws_ok($$INSERT INTO clawdstrike.outbox (event)
		  VALUES (pg_temp.min_event()), ('{"event_id": 1}'), (pg_temp.min_event())$$,
		 '22023', 'invalid event: event_id: must be a UUID string',
		 'a multi-row INSERT with one bad event fails as a whole');
SELECT is((SELECT count(*) FROM clawdstrike.outbox), 0::bigint,
	  'no row of that INSERT was written');

-- The error carries a hint for the engine's developers.
SELECT is(clawdstrike.event_problem('{"event_id": 1}'), 'event_id: must be a UUID string',
	  'event_problem() returns the problem as text');
SELECT is(clawdstrike.event_problem(pg_temp.full_event()), NULL,
	  'event_problem() returns NULL for a valid event');

-- Good events ----------------------------------------------------------------
CREATE TEMP TABLE good_ev AS SELECT pg_temp.full_event() AS ev;
SELECT lives_ok($$SELECT clawdstrike.enqueue(ev) FROM good_ev$$,
		'an event with every optional field is accepted');
SELECT is((SELECT o.event FROM clawdstrike.outbox o, good_ev g
	    WHERE o.event_id = (g.ev->>'event_id')::uuid), (SELECT ev FROM good_ev),
	  'the event is stored exactly as written');
SELECT lives_ok($$INSERT INTO clawdstrike.outbox (event) VALUES (pg_temp.full_event())$$,
		'plain INSERT accepts an event with every optional field');
SELECT lives_ok($$SELECT clawdstrike.enqueue(pg_temp.min_event())$$,
		'an event with only the required fields is accepted');

CREATE TEMP TABLE unknown_ev AS SELECT pg_temp.min_event()
	|| '{"x_custom": {"deep": [1, {"k": "v"}]}, "x_flag": null, "x_num": 1.5}'::jsonb
	|| jsonb_build_object('decision', jsonb_build_object('allowed', true, 'guard', 'g',
		'severity', 'low', 'x_score', 0.93)) AS ev;
SELECT lives_ok($$SELECT clawdstrike.enqueue(ev) FROM unknown_ev$$,
		'an event with unknown keys is accepted');
SELECT is((SELECT o.event FROM clawdstrike.outbox o, unknown_ev u
	    WHERE o.event_id = (u.ev->>'event_id')::uuid), (SELECT ev FROM unknown_ev),
	  'unknown keys (top level and nested) are kept');
SELECT lives_ok($$SELECT clawdstrike.enqueue(jsonb_set(pg_temp.min_event(), '{event_id}',
		to_jsonb(upper(gen_random_uuid()::text))))$$,
		'an upper-case UUID is accepted');
SELECT lives_ok($$SELECT clawdstrike.enqueue(jsonb_set(pg_temp.min_event(), '{decision,severity}',
		to_jsonb(s))) FROM unnest(ARRAY['info', 'low', 'medium', 'high', 'critical']) s$$,
		'each of the five severities is accepted');
SELECT lives_ok($$SELECT clawdstrike.enqueue(pg_temp.min_event()
		|| '{"resource": {"port": 0}}'), clawdstrike.enqueue(pg_temp.min_event()
		|| '{"resource": {"port": 65535}}')$$,
		'resource.port 0 and 65535 are accepted');

-- Timestamps -------------------------------------------------------------------
SELECT lives_ok(format('SELECT clawdstrike.enqueue(pg_temp.with_ts(%L))', to_jsonb(ts)),
		'timestamp ' || ts || ' is accepted')
  FROM unnest(ARRAY[
	'2024-05-01T12:00:00Z',
	'2024-05-01T12:00:00z',
	'2024-05-01t12:00:00Z',
	'2024-05-01 12:00:00Z',
	'2024-05-01T12:00:00+05:30',
	'2024-05-01T12:00:00-08:00',
	'2024-05-01T12:00:00+00:00',
	'2024-05-01T12:00:00-00:00',
	'2024-05-01T23:59:59+23:59',
	'2024-05-01T12:00:00.5Z',
	'2024-05-01T12:00:00.123456789+02:00',
	'2024-02-29T12:00:00Z',
	'2000-02-29T00:00:00Z',
	'2016-12-31T23:59:60Z',
	'1970-01-01T00:00:00Z',
	'0000-01-01T00:00:00Z',
	'9999-12-31T23:59:59Z']) AS ts;

-- Size limit -------------------------------------------------------------------
UPDATE clawdstrike.settings SET value = '300' WHERE key = 'max_event_bytes';
CREATE TEMP TABLE sized AS SELECT pg_temp.min_event() AS ev;
-- Pad the event to exactly 300 bytes of JSON text, then one byte more.
UPDATE sized SET ev = ev || jsonb_build_object('pad',
	repeat('x', 300 - octet_length((ev || '{"pad": ""}')::text)));
SELECT is(octet_length(ev::text), 300, 'the padded event is 300 bytes') FROM sized;
SELECT lives_ok($$SELECT clawdstrike.enqueue(ev) FROM sized$$,
		'an event of exactly max_event_bytes is accepted');
CREATE TEMP TABLE oversized AS
	SELECT jsonb_set(pg_temp.min_event(), '{pad}', to_jsonb(repeat('y', 260))) AS ev;
SELECT throws_ok(format('SELECT clawdstrike.enqueue(%L::jsonb)', ev), '22023',
		 format('invalid event: (event): %s bytes exceeds the 300 byte limit',
			octet_length(ev::text)),
		 'enqueue rejects an event over max_event_bytes')
  FROM oversized;
SELECT throws_ok(format('INSERT INTO clawdstrike.outbox (event) VALUES (%L::jsonb)', ev), '22023',
		 format('invalid event: (event): %s bytes exceeds the 300 byte limit',
			octet_length(ev::text)),
		 'plain INSERT rejects an event over max_event_bytes')
  FROM oversized;
SELECT throws_ok(format('SELECT clawdstrike.enqueue(%L::jsonb)',
			jsonb_build_object('pad', repeat('z', 400)))::text, '22023',
		 'invalid event: (event): 411 bytes exceeds the 300 byte limit',
		 'the size is checked before the fields');
SELECT is((SELECT count(*) FROM clawdstrike.outbox o, oversized s
	    WHERE o.event_id = (s.ev->>'event_id')::uuid), 0::bigint,
	  'the oversized event was not written');
SELECT is(clawdstrike.event_problem(ev, 100000), NULL,
	  'event_problem() takes an explicit limit over the setting') FROM oversized;

SELECT * FROM finish();
ROLLBACK;
