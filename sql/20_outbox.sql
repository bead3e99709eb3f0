-- The outbox's own rules: what an INSERT may write, which status changes are
-- legal, what a replay resets, and the engine's entry point enqueue().

-- Severity -> claim priority: critical, then high, then everything else.
CREATE OR REPLACE FUNCTION clawdstrike.severity_priority(severity text)
RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
	SELECT CASE severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 ELSE 2 END::smallint
$$;

-- v1's table triggers went with its table (migration 0005).
DROP FUNCTION IF EXISTS clawdstrike.outbox_before_insert(), clawdstrike.outbox_status_guard(),
	clawdstrike.outbox_immutable();

-- The outbox users query and update: one row per event, v1's columns and
-- five statuses, over the two tables of migration 0005 (the payload,
-- written once, and the narrow state row) and the batch row, which says
-- whether a `sending` row's request was taken by HEC (`sent`).  sent_at is
-- the batch's; for rows indexed without one (a prefix commit) it is when
-- they were marked delivered.
--
-- The status is computed, so `WHERE status = ...` on the view reads every
-- row: the relay's functions and the operator views (sql/50_views.sql)
-- read the tables through their partial indexes instead.
-- A row's status from its state row's and its batch's.  Inlined (plain
-- SQL, no SET clause): the view and clawdstrike.status_counts use it.
CREATE OR REPLACE FUNCTION clawdstrike.row_status(state text, batch_state text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
	SELECT CASE WHEN state = 'sending' AND batch_state = 'sent' THEN 'sent' ELSE state END
$$;

CREATE OR REPLACE VIEW clawdstrike.outbox AS
SELECT s.id, e.event_id, e.event::jsonb AS event, clawdstrike.row_status(s.status, b.state) AS status,
       s.priority, s.attempts, s.replays, s.enqueued_at, s.batch_id,
       CASE WHEN s.status IN ('sending', 'delivered') AND s.batch_id IS NOT NULL
	    THEN coalesce(b.sent_at, s.delivered_at) END AS sent_at,
       s.delivered_at, s.delivery, s.failed_at, s.last_error, s.http_status, s.hec_code,
       s.hec_text
  FROM clawdstrike.outbox_state s
  JOIN clawdstrike.outbox_event e ON e.id = s.id
  LEFT JOIN clawdstrike.batch b ON b.id = s.batch_id;

-- What an INSERT that names only the event gets (the trigger decides the
-- rest; these make a named `status` other than pending visible to it).
ALTER VIEW clawdstrike.outbox ALTER COLUMN status SET DEFAULT 'pending';
ALTER VIEW clawdstrike.outbox ALTER COLUMN attempts SET DEFAULT 0;
ALTER VIEW clawdstrike.outbox ALTER COLUMN replays SET DEFAULT 0;

-- outbox_add() of one event (an enqueue(), a row of a plain INSERT), the
-- same steps as for many, one key at a time: the set-at-a-time statements
-- cost 390 us for one event, these about 90.
CREATE OR REPLACE FUNCTION clawdstrike.outbox_add_one(ev jsonb, OUT id bigint, OUT added boolean)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, clawdstrike
AS $$
DECLARE
	eid uuid;
BEGIN
	PERFORM clawdstrike.validate_event(ev);
	eid := (ev->>'event_id')::uuid;
	added := false;
	SELECT e.id INTO id FROM clawdstrike.outbox_event e WHERE e.event_id = eid FOR KEY SHARE;
	IF FOUND OR EXISTS (SELECT FROM clawdstrike.event_tombstone t WHERE t.event_id = eid) THEN
		RETURN;
	END IF;
	INSERT INTO clawdstrike.outbox_event (event_id, event) VALUES (eid, ev::json)
	ON CONFLICT (event_id) DO NOTHING
	RETURNING outbox_event.id INTO id;
	IF id IS NULL THEN
		-- committed meanwhile by another transaction
		SELECT e.id INTO id FROM clawdstrike.outbox_event e WHERE e.event_id = eid;
		RETURN;
	END IF;
	INSERT INTO clawdstrike.outbox_state (id, priority)
	VALUES (id, clawdstrike.severity_priority(ev #>> '{decision,severity}'));
	added := true;
END;
$$;

-- Add events: validate them, and write the payload and state rows of each
-- whose event_id is not known.  One row per element of `events`: its
-- position (ord, from 1), the id of its row, and whether this call added
-- it (false: a live row had the event_id, or an earlier element of the
-- same call).  id is NULL when the event was delivered and purged: its
-- event_id has a tombstone (clawdstrike.event_tombstone, kept for
-- retention_tombstones).  The path into the outbox: enqueue_many(), and
-- through outbox_add_one() (its steps for one event) enqueue() and a plain
-- INSERT; the first invalid event raises
-- (SQLSTATE 22023, its problem) and adds nothing.
--
-- A live row may be in the middle of being purged: the rows that have
-- these event_ids are locked first (KEY SHARE conflicts with purge's
-- DELETE only), which waits for that purge; the next statement then sees
-- its tombstone.  Checking the tombstone in the inserting statement alone
-- would let the event through (ON CONFLICT waits for the deleting purge,
-- then inserts).  purge() skips locked rows, so it never waits for an
-- engine transaction.
--
-- Every lookup of a key is a scalar subquery, which the planner cannot turn
-- into a join: it stays one index probe per event however wrong the
-- statistics (a table analyzed while nearly empty, or never), and
-- sequential scans are off for the same reason.  Plans for many events are
-- made for each call's own array (force_custom_plan, for this call only:
-- the SET clause scopes it): the generic plan PL/pgSQL caches after five
-- calls took 24 s instead of 0.7 for a 10,000-event chunk.  One event (an
-- enqueue(), a row of a plain INSERT) keeps the cached plan: planning
-- every statement anew cost more than running it.
CREATE OR REPLACE FUNCTION clawdstrike.outbox_add(events jsonb[])
RETURNS TABLE (ord bigint, id bigint, added boolean)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, clawdstrike
SET enable_seqscan = off
SET plan_cache_mode = auto
AS $$
DECLARE
	eids uuid[];
	fresh uuid[];
	fresh_ids bigint[];
BEGIN
	IF cardinality(events) = 1 THEN
		RETURN QUERY SELECT 1::bigint, o.id, o.added FROM clawdstrike.outbox_add_one(events[1]) o;
		RETURN;
	END IF;
	PERFORM set_config('plan_cache_mode', 'force_custom_plan', true);
	PERFORM clawdstrike.validate_event(u.ev) FROM unnest(events) u(ev);
	eids := ARRAY(SELECT (u.ev->>'event_id')::uuid FROM unnest(events) u(ev));
	PERFORM (SELECT 1 FROM clawdstrike.outbox_event e WHERE e.event_id = u.eid FOR KEY SHARE)
	   FROM unnest(eids) u(eid);
	-- (each event_id once: the first element that has it)
	WITH v AS (
		SELECT DISTINCT ON (eids[u.ord]) eids[u.ord] AS eid, u.ev, u.ord
		  FROM unnest(events) WITH ORDINALITY u(ev, ord)
		 WHERE (SELECT 1 FROM clawdstrike.event_tombstone t
			 WHERE t.event_id = eids[u.ord]) IS NULL
		 ORDER BY eids[u.ord], u.ord),
	e AS (
		INSERT INTO clawdstrike.outbox_event (event_id, event)
		SELECT v.eid, v.ev::json FROM v ORDER BY v.ord
		ON CONFLICT (event_id) DO NOTHING
		RETURNING outbox_event.id, outbox_event.event_id),
	s AS (
		INSERT INTO clawdstrike.outbox_state (id, priority)
		SELECT e.id, clawdstrike.severity_priority(v.ev #>> '{decision,severity}')
		  FROM e JOIN v ON v.eid = e.event_id)
	SELECT coalesce(array_agg(e.event_id), '{}'), coalesce(array_agg(e.id), '{}')
	  INTO fresh, fresh_ids FROM e;
	-- A statement of its own: it sees a row of the same event_id that
	-- another transaction committed while the insert waited for it.
	RETURN QUERY
	SELECT u.ord,
	       coalesce(f.id, (SELECT x.id FROM clawdstrike.outbox_event x WHERE x.event_id = u.eid)),
	       f.id IS NOT NULL AND row_number() OVER (PARTITION BY u.eid ORDER BY u.ord) = 1
	  FROM unnest(eids) WITH ORDINALITY u(eid, ord)
	  LEFT JOIN unnest(fresh, fresh_ids) f(eid, id) ON f.eid = u.eid
	 ORDER BY u.ord;
END;
$$;

-- Many events in one call (the bulk loader, `clawdstrike-relay enqueue`):
-- the rules of enqueue(), set at a time.  Returns how many were added.
CREATE OR REPLACE FUNCTION clawdstrike.enqueue_many(events jsonb[])
RETURNS bigint
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, clawdstrike
AS $$
	SELECT count(*) FILTER (WHERE a.added) FROM clawdstrike.outbox_add(events) a
$$;

-- A row as it is before its first attempt: no attempts, batch, delivery
-- or error (a new row, and a replayed one).
CREATE OR REPLACE FUNCTION clawdstrike.outbox_fresh(r clawdstrike.outbox)
RETURNS clawdstrike.outbox
LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
	r.status := 'pending';
	r.attempts := 0;
	r.batch_id := NULL;
	r.sent_at := NULL;
	r.delivered_at := NULL;
	r.delivery := NULL;
	r.failed_at := NULL;
	r.last_error := NULL;
	r.http_status := NULL;
	r.hec_code := NULL;
	r.hec_text := NULL;
	RETURN r;
END;
$$;

-- INSTEAD OF INSERT: a plain INSERT is exactly as safe as enqueue(): the
-- event is validated, event_id is taken from it, and the row starts
-- pending with clean bookkeeping whatever the statement tried to set.  An
-- event_id the outbox knows (a live row, or a tombstone) inserts nothing:
-- a plain INSERT is idempotent like enqueue() (`INSERT 0 0`; RETURNING
-- returns no row for it).
CREATE OR REPLACE FUNCTION clawdstrike.outbox_insert()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, clawdstrike
AS $$
DECLARE
	a record;
BEGIN
	IF NEW.id IS NOT NULL THEN
		RAISE EXCEPTION 'clawdstrike.outbox: cannot insert a non-DEFAULT value into column "id"'
			USING ERRCODE = '428C9', DETAIL = 'Column "id" is an identity column defined as GENERATED ALWAYS.';
	END IF;
	IF NEW.event_id IS NOT NULL AND NEW.event IS NOT NULL
	   AND NEW.event_id IS DISTINCT FROM (NEW.event->>'event_id')::uuid THEN
		PERFORM clawdstrike.validate_event(NEW.event);
		RAISE EXCEPTION 'clawdstrike.outbox: event_id column (%) differs from event.event_id (%)',
			NEW.event_id, NEW.event->>'event_id' USING ERRCODE = '23514';
	END IF;
	IF NEW.status IS DISTINCT FROM 'pending' THEN
		RAISE EXCEPTION 'clawdstrike.outbox: new rows must have status pending (got %)',
			NEW.status USING ERRCODE = '23514';
	END IF;
	SELECT * INTO a FROM clawdstrike.outbox_add_one(NEW.event);
	IF NOT a.added THEN
		RETURN NULL;
	END IF;
	-- what RETURNING shows: the row as outbox_add wrote it
	NEW.id := a.id;
	NEW.event_id := (NEW.event->>'event_id')::uuid;
	NEW.priority := clawdstrike.severity_priority(NEW.event #>> '{decision,severity}');
	NEW.replays := 0;
	NEW.enqueued_at := now();
	RETURN clawdstrike.outbox_fresh(NEW);
END;
$$;

DROP TRIGGER IF EXISTS outbox_insert ON clawdstrike.outbox;
CREATE TRIGGER outbox_insert INSTEAD OF INSERT ON clawdstrike.outbox
	FOR EACH ROW EXECUTE FUNCTION clawdstrike.outbox_insert();

-- INSTEAD OF UPDATE: who may move a row where.
--
-- The relay's moves are made by its SECURITY DEFINER functions on the
-- tables, which no other role can write: nothing the relay does passes
-- here.  Through the view, everyone (operators, a superuser's psql, the
-- owner) may replay (failed/delivered -> pending: reset), discard
-- (pending -> failed), and nothing else; both are audited in replay_log
-- with who and why.  The event and event_id never change.  Other columns
-- are written as given: only the owner and superusers hold UPDATE on them
-- (operators hold UPDATE (status) alone).
--
-- SECURITY DEFINER so that the rows and the audit are written by the
-- owner: nobody else may write them.  Inside, current_user is the owner,
-- so "who" is the role the session acts as (SET ROLE, else the login),
-- plus the login itself (session_user).  The row is changed only if its
-- status is still the one the statement read (a relay or a purge may have
-- moved it since): otherwise it is left alone and not counted.
CREATE OR REPLACE FUNCTION clawdstrike.outbox_update()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, clawdstrike
AS $$
DECLARE
	who text := coalesce(nullif(current_setting('role'), 'none'), session_user);
	-- informational only (replay() sets it; SET LOCAL for a plain UPDATE)
	why text := nullif(current_setting('clawdstrike.reason', true), '');
	old_status text := CASE OLD.status WHEN 'sent' THEN 'sending' ELSE OLD.status END;
BEGIN
	IF NEW.event IS DISTINCT FROM OLD.event OR NEW.event_id IS DISTINCT FROM OLD.event_id
	   OR NEW.id IS DISTINCT FROM OLD.id THEN
		RAISE EXCEPTION 'clawdstrike.outbox: event and event_id of row % cannot be updated', OLD.id
			USING ERRCODE = '23514',
			      HINT = 'enqueue a corrected event with a new event_id instead';
	END IF;
	IF NEW.status IS DISTINCT FROM OLD.status THEN
		IF NEW.status = 'pending' AND OLD.status IN ('failed', 'delivered') THEN
			NEW := clawdstrike.outbox_fresh(NEW);
			NEW.replays := OLD.replays + 1;
			PERFORM pg_notify('clawdstrike_outbox', 'replay');
		ELSIF NEW.status = 'failed' AND OLD.status = 'pending' THEN
			-- The dead letter says who discarded it (and why).  The
			-- error of the last attempt no longer explains the row:
			-- it moves to the audit row, and that attempt's HTTP/HEC
			-- outcome goes.
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
	END IF;
	UPDATE clawdstrike.outbox_state s
	   SET status = CASE NEW.status WHEN 'sent' THEN 'sending' ELSE NEW.status END,
	       priority = NEW.priority, attempts = NEW.attempts, replays = NEW.replays,
	       enqueued_at = NEW.enqueued_at, batch_id = NEW.batch_id,
	       delivered_at = NEW.delivered_at, delivery = NEW.delivery, failed_at = NEW.failed_at,
	       last_error = NEW.last_error, http_status = NEW.http_status,
	       hec_code = NEW.hec_code, hec_text = NEW.hec_text
	 WHERE s.id = OLD.id AND s.status = old_status;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	IF NEW.status IS DISTINCT FROM OLD.status THEN
		INSERT INTO clawdstrike.replay_log (outbox_id, event_id, from_status, to_status,
						    last_error, replayed_by, session_role, reason)
		VALUES (OLD.id, OLD.event_id, OLD.status, NEW.status, OLD.last_error,
			who, session_user, coalesce(why, 'UPDATE by ' || who));
	END IF;
	RETURN NEW;
END;
$$;

DROP TRIGGER IF EXISTS outbox_update ON clawdstrike.outbox;
CREATE TRIGGER outbox_update INSTEAD OF UPDATE ON clawdstrike.outbox
	FOR EACH ROW EXECUTE FUNCTION clawdstrike.outbox_update();

-- INSTEAD OF DELETE: only the owner and superusers hold DELETE (no role
-- is granted it; retention is purge()).  The row goes without a
-- tombstone: an explicit delete forgets the event.
CREATE OR REPLACE FUNCTION clawdstrike.outbox_delete()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, clawdstrike
AS $$
BEGIN
	DELETE FROM clawdstrike.outbox_state s WHERE s.id = OLD.id;
	DELETE FROM clawdstrike.outbox_event e WHERE e.id = OLD.id;
	RETURN OLD;
END;
$$;

DROP TRIGGER IF EXISTS outbox_delete ON clawdstrike.outbox;
CREATE TRIGGER outbox_delete INSTEAD OF DELETE ON clawdstrike.outbox
	FOR EACH ROW EXECUTE FUNCTION clawdstrike.outbox_delete();

-- The engine's entry point: validate, insert, return the row id.  Idempotent
-- on event_id: enqueueing an event that already has a row returns that
-- row's id and writes nothing; one that was delivered and purged (it has a
-- tombstone) returns NULL ("already delivered, row purged") and writes
-- nothing.  Safe inside the engine's own transaction.
CREATE OR REPLACE FUNCTION clawdstrike.enqueue(event jsonb)
RETURNS bigint
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, clawdstrike
AS $$
	SELECT a.id FROM clawdstrike.outbox_add_one(enqueue.event) a
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
	DROP TRIGGER IF EXISTS outbox_notify ON clawdstrike.outbox_event;
	IF enabled THEN
		CREATE TRIGGER outbox_notify AFTER INSERT ON clawdstrike.outbox_event
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
