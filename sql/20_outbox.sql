-- The outbox's own rules: what an INSERT may write, which status changes are
-- legal, what a replay resets, and the engine's entry point enqueue().

-- Severity -> claim priority: critical, then high, then everything else.
CREATE OR REPLACE FUNCTION clawdstrike.severity_priority(severity text)
RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
	SELECT CASE severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 ELSE 2 END::smallint
$$;

-- BEFORE INSERT: a plain INSERT is exactly as safe as enqueue(): the event
-- is validated, event_id is taken from it, and the row starts pending with
-- clean bookkeeping whatever the statement tried to set.
--
-- An event_id that was delivered and purged has a tombstone
-- (clawdstrike.event_tombstone, kept for retention_tombstones): the row is
-- skipped (RETURN NULL), so a plain INSERT inserts nothing and enqueue()
-- returns NULL, as for every role that may insert.  SECURITY DEFINER: an
-- operator's bulk load reads the tombstones without a grant on them.
CREATE OR REPLACE FUNCTION clawdstrike.outbox_before_insert()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, clawdstrike
AS $$
DECLARE
	eid uuid;
	live text;
BEGIN
	PERFORM clawdstrike.validate_event(NEW.event);
	eid := (NEW.event->>'event_id')::uuid;
	IF NEW.event_id IS NOT NULL AND NEW.event_id <> eid THEN
		RAISE EXCEPTION 'clawdstrike.outbox: event_id column (%) differs from event.event_id (%)',
			NEW.event_id, eid USING ERRCODE = '23514';
	END IF;
	IF NEW.status IS DISTINCT FROM 'pending' THEN
		RAISE EXCEPTION 'clawdstrike.outbox: new rows must have status pending (got %)',
			NEW.status USING ERRCODE = '23514';
	END IF;
	-- A live row answers for its event_id (the unique constraint: ON
	-- CONFLICT or a unique violation).  A delivered one may be in the
	-- middle of being purged: lock it (KEY SHARE conflicts with purge's
	-- DELETE, not with status updates), which waits for that purge; if it
	-- is gone then, its tombstone is committed and the next statement
	-- sees it.  Checking the tombstone alone would let the insert through
	-- (ON CONFLICT waits for the deleting purge, then inserts).  purge()
	-- skips locked rows, so it never waits for an engine transaction.
	SELECT o.status INTO live FROM clawdstrike.outbox o WHERE o.event_id = eid;
	IF live = 'delivered' THEN
		PERFORM FROM clawdstrike.outbox o WHERE o.event_id = eid FOR KEY SHARE;
		IF NOT FOUND THEN
			live := NULL;
		END IF;
	END IF;
	IF live IS NULL AND EXISTS (SELECT FROM clawdstrike.event_tombstone t
				     WHERE t.event_id = eid) THEN
		RETURN NULL;
	END IF;
	NEW.event_id := eid;
	NEW.priority := clawdstrike.severity_priority(NEW.event #>> '{decision,severity}');
	NEW.attempts := 0;
	NEW.replays := 0;
	NEW.enqueued_at := now();
	NEW.batch_id := NULL;
	NEW.sent_at := NULL;
	NEW.delivered_at := NULL;
	NEW.delivery := NULL;
	NEW.failed_at := NULL;
	NEW.last_error := NULL;
	NEW.http_status := NULL;
	NEW.hec_code := NULL;
	NEW.hec_text := NULL;
	RETURN NEW;
END;
$$;

DROP TRIGGER IF EXISTS outbox_before_insert ON clawdstrike.outbox;
CREATE TRIGGER outbox_before_insert BEFORE INSERT ON clawdstrike.outbox
	FOR EACH ROW EXECUTE FUNCTION clawdstrike.outbox_before_insert();

-- BEFORE UPDATE OF status: who may move a row where.
--
-- The relay's moves (pending -> sending, sending/sent -> sent, delivered,
-- failed, pending) are made only by its SECURITY DEFINER functions, which
-- run as their owner, clawdstrike_owner: the trigger's WHEN clause (which
-- sees the current_user of the function executing the UPDATE) lets exactly
-- those through without calling PL/pgSQL, so the hot path costs one
-- expression per row.  The role is the proof, never a setting: a setting
-- can be SET by anyone, current_user = clawdstrike_owner only by the
-- owner's functions or a member of the owner (the migrating login).
--
-- Everyone else (operators, a superuser's psql) reaches the function, which
-- allows a replay (failed/delivered -> pending: reset), a discard (pending
-- -> failed) and nothing else; a no-op never fires.  Both are audited in
-- replay_log with who and why.  SECURITY DEFINER so that the audit row is
-- written by the owner: nobody else may INSERT into replay_log.  Inside,
-- current_user is the owner, so "who" is the role the session acts as (SET
-- ROLE, else the login), plus the login itself (session_user).
CREATE OR REPLACE FUNCTION clawdstrike.outbox_status_guard()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, clawdstrike
AS $$
DECLARE
	who text := coalesce(nullif(current_setting('role'), 'none'), session_user);
	-- informational only (replay() sets it; SET LOCAL for a plain UPDATE)
	why text := nullif(current_setting('clawdstrike.reason', true), '');
BEGIN
	IF NEW.status = OLD.status THEN
		RETURN NEW;
	END IF;
	IF NEW.status = 'pending' AND OLD.status IN ('failed', 'delivered') THEN
		NEW.attempts := 0;
		NEW.replays := OLD.replays + 1;
		NEW.batch_id := NULL;
		NEW.sent_at := NULL;
		NEW.delivered_at := NULL;
		NEW.delivery := NULL;
		NEW.failed_at := NULL;
		NEW.last_error := NULL;
		NEW.http_status := NULL;
		NEW.hec_code := NULL;
		NEW.hec_text := NULL;
		PERFORM pg_notify('clawdstrike_outbox', 'replay');
	ELSIF NEW.status = 'failed' AND OLD.status = 'pending' THEN
		-- The dead letter says who discarded it (and why).  The error
		-- of the last attempt no longer explains the row: it moves to
		-- the audit row, and that attempt's HTTP/HEC outcome goes.
		NEW.failed_at := now();
		NEW.last_error := 'discarded by ' || who || coalesce(': ' || why, '');
		NEW.http_status := NULL;
		NEW.hec_code := NULL;
		NEW.hec_text := NULL;
	ELSE
		RAISE EXCEPTION 'clawdstrike.outbox: status of row % cannot change from % to %',
			OLD.id, OLD.status, NEW.status
			USING ERRCODE = '23514',
			      HINT = 'operators may replay (failed or delivered -> pending) and discard (pending -> failed); '
				     'rows move to and from sending and sent only inside the relay''s functions';
	END IF;
	INSERT INTO clawdstrike.replay_log (outbox_id, event_id, from_status, to_status, last_error,
					    replayed_by, session_role, reason)
	VALUES (OLD.id, OLD.event_id, OLD.status, NEW.status, OLD.last_error,
		who, session_user, coalesce(why, 'UPDATE by ' || who));
	RETURN NEW;
END;
$$;

DROP TRIGGER IF EXISTS outbox_status_guard ON clawdstrike.outbox;
CREATE TRIGGER outbox_status_guard BEFORE UPDATE OF status ON clawdstrike.outbox
	FOR EACH ROW
	WHEN (OLD.status IS DISTINCT FROM NEW.status AND NOT (
		current_user = 'clawdstrike_owner' AND (
		(OLD.status = 'pending' AND NEW.status = 'sending') OR
		(OLD.status IN ('sending', 'sent')
		 AND NEW.status IN ('sent', 'delivered', 'failed', 'pending')))))
	EXECUTE FUNCTION clawdstrike.outbox_status_guard();

-- A row may not change its identity or its event after the fact.
CREATE OR REPLACE FUNCTION clawdstrike.outbox_immutable()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
	RAISE EXCEPTION 'clawdstrike.outbox: event and event_id of row % cannot be updated', OLD.id
		USING ERRCODE = '23514',
		      HINT = 'enqueue a corrected event with a new event_id instead';
END;
$$;

DROP TRIGGER IF EXISTS outbox_immutable ON clawdstrike.outbox;
CREATE TRIGGER outbox_immutable BEFORE UPDATE OF event, event_id ON clawdstrike.outbox
	FOR EACH ROW
	WHEN (OLD.event IS DISTINCT FROM NEW.event OR OLD.event_id IS DISTINCT FROM NEW.event_id)
	EXECUTE FUNCTION clawdstrike.outbox_immutable();

-- The engine's entry point: validate, insert, return the row id.  Idempotent
-- on event_id: enqueueing an event that already has a row returns that
-- row's id and writes nothing; one that was delivered and purged (it has a
-- tombstone, see outbox_before_insert) returns NULL ("already delivered,
-- row purged") and writes nothing.  Safe inside the engine's own
-- transaction.
CREATE OR REPLACE FUNCTION clawdstrike.enqueue(event jsonb)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, clawdstrike
AS $$
DECLARE
	new_id bigint;
BEGIN
	INSERT INTO clawdstrike.outbox (event) VALUES (enqueue.event)
	ON CONFLICT (event_id) DO NOTHING
	RETURNING id INTO new_id;
	IF new_id IS NULL THEN
		SELECT o.id INTO new_id FROM clawdstrike.outbox o
		 WHERE o.event_id = (enqueue.event->>'event_id')::uuid;
	END IF;
	RETURN new_id;
END;
$$;

-- Optional wake-up: one notification per enqueueing statement, so a
-- listening relay wakes at once.  Off by default: NOTIFY takes a
-- cluster-wide lock at commit, and bench/notify-cost.sh measured it costing
-- the engine 28-44% of its enqueue rate at 8-16 concurrent writers
-- (docs/performance.md).  Relays poll adaptively instead; a low-volume site
-- may turn it on with clawdstrike.set_notify(true).
CREATE OR REPLACE FUNCTION clawdstrike.outbox_notify()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
	PERFORM pg_notify('clawdstrike_outbox', 'insert');
	RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION clawdstrike.set_notify(enabled boolean)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, clawdstrike
AS $$
BEGIN
	DROP TRIGGER IF EXISTS outbox_notify ON clawdstrike.outbox;
	IF enabled THEN
		CREATE TRIGGER outbox_notify AFTER INSERT ON clawdstrike.outbox
			FOR EACH STATEMENT EXECUTE FUNCTION clawdstrike.outbox_notify();
	END IF;
	INSERT INTO clawdstrike.settings (key, value, doc)
	VALUES ('notify', enabled::text, 'NOTIFY clawdstrike_outbox on enqueue (set with clawdstrike.set_notify)')
	ON CONFLICT (key) DO UPDATE SET value = excluded.value;
END;
$$;

-- Keep the operator's choice across re-applies of this file.
SELECT clawdstrike.set_notify(coalesce(
	(SELECT value::boolean FROM clawdstrike.settings WHERE key = 'notify'), false));
