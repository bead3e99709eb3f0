-- The relay's state transitions.  Each is one short statement (or a few in
-- one function call) committed before any HTTP happens; no transaction is
-- ever held across a request.  Every function is fenced by batch id and
-- state, so a relay whose lease was taken over cannot move rows that now
-- belong to someone else, and each is safe to run again after an unknown
-- outcome (the connection died around COMMIT): it finds its own result, or
-- leaves work that nobody holds to expire and be taken back (recover()).
--
-- Locks are taken batch row first, then outbox rows, in every function, so
-- recovery and a live relay closing the same batch cannot deadlock.

-- Signatures replaced by this version (0002): drop them so no caller can
-- reach the old semantics (mark_delivered moving every in-flight row of a
-- batch, heartbeats renewing every batch of an instance name).
DROP FUNCTION IF EXISTS clawdstrike.claim(text, integer, integer);
DROP FUNCTION IF EXISTS clawdstrike.mark_sent(bigint, text, uuid, bigint, integer);
DROP FUNCTION IF EXISTS clawdstrike.mark_rows_delivered(bigint, bigint[]);
DROP FUNCTION IF EXISTS clawdstrike.mark_delivered(bigint[], text);
DROP FUNCTION IF EXISTS clawdstrike.heartbeat(text, integer);
DROP FUNCTION IF EXISTS clawdstrike.recover(text, integer, boolean);

-- Claim up to `max_events` pending rows (critical first, then high, then
-- oldest) into a new batch leased to `relay` for `lease_s` seconds, held by
-- the process run `run`, whose request will go out on ack channel
-- `channel` (NULL without acks).  Returns nothing when there is nothing to do.
--
-- The rows are updated through the batch's id array (o.id = ANY), not by
-- joining `picked`: a SQL function's statements get a generic plan, which
-- guesses a LIMIT parameter returns 10% of the table, and with a large
-- backlog that guess chose a hash join over a sequential scan of the whole
-- outbox (2.4 s per claim at 1M pending rows; bench/run).  The array
-- drives a primary-key index scan whatever the guess.
--
-- The events come back as the stored json text (migration 0005): printed
-- as is, where jsonb would be printed anew for every claim.  The jsonb
-- version of 0002 is dropped once (a result type cannot be replaced).
DO $$
BEGIN
	IF pg_catalog.pg_get_function_result(
		to_regprocedure('clawdstrike.claim(text, integer, integer, uuid, uuid)'))
	   LIKE '%event jsonb%' THEN
		DROP FUNCTION clawdstrike.claim(text, integer, integer, uuid, uuid);
	END IF;
END;
$$;

CREATE OR REPLACE FUNCTION clawdstrike.claim(relay text, max_events integer, lease_s integer,
					    run uuid DEFAULT NULL, channel uuid DEFAULT NULL)
RETURNS TABLE (batch_id bigint, id bigint, attempts integer, event json)
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, clawdstrike
AS $$
	WITH picked AS MATERIALIZED (
		SELECT o.id FROM clawdstrike.outbox_state o
		 WHERE o.status = 'pending'
		 ORDER BY o.priority, o.id
		 LIMIT max_events
		 FOR UPDATE SKIP LOCKED),
	b AS (
		INSERT INTO clawdstrike.batch (relay_instance, owner, channel, n_events,
					       outbox_ids, lease_until)
		SELECT relay, run, channel, count(*), array_agg(p.id ORDER BY p.id),
		       now() + make_interval(secs => lease_s)
		  FROM picked p
		HAVING count(*) > 0
		RETURNING batch.id, batch.outbox_ids),
	claimed AS (
		UPDATE clawdstrike.outbox_state o
		   SET status = 'sending', batch_id = b.id, attempts = o.attempts + 1
		  FROM b
		 WHERE o.id = ANY (b.outbox_ids)
		RETURNING b.id AS bid, o.id, o.attempts, o.priority)
	SELECT c.bid, c.id, c.attempts, e.event
	  FROM claimed c JOIN clawdstrike.outbox_event e ON e.id = c.id
	 ORDER BY c.priority, c.id
$$;

-- The request of a claimed batch goes out on another ack channel than the
-- one recorded (failover to another endpoint, or the channel was retired).
-- Recorded before the request is sent, so recovery knows which channel an
-- unanswered request may have taken an ack id on.  False: not ours anymore.
CREATE OR REPLACE FUNCTION clawdstrike.set_channel(batch bigint, channel uuid)
RETURNS boolean
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, clawdstrike
AS $$
	WITH u AS (
		UPDATE clawdstrike.batch b SET channel = set_channel.channel
		 WHERE b.id = set_channel.batch AND b.state = 'claimed'
		RETURNING 1)
	SELECT count(*) > 0 FROM u
$$;

-- Rows `gone` left `batch` (split off, or released unsent): take them out
-- of its audit (outbox_ids, n_events).  Internal: callers below.
CREATE OR REPLACE FUNCTION clawdstrike.batch_drop_rows(batch bigint, gone bigint[])
RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, clawdstrike
AS $$
	UPDATE clawdstrike.batch b
	   SET n_events = b.n_events - cardinality(gone),
	       outbox_ids = ARRAY(SELECT x FROM unnest(b.outbox_ids) x
				   WHERE x <> ALL (gone) ORDER BY x)
	 WHERE b.id = batch_drop_rows.batch
$$;

-- Rows claimed into `batch` that are not in `ids` (the request that went
-- out) go back to pending: they were never sent, and leave the batch's
-- audit.  Internal: callers below.
CREATE OR REPLACE FUNCTION clawdstrike.release_unsent(batch bigint, ids bigint[])
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, clawdstrike
AS $$
DECLARE
	gone bigint[];
BEGIN
	WITH r AS (
		UPDATE clawdstrike.outbox_state o
		   SET status = 'pending', batch_id = NULL,
		       last_error = 'claimed but left out of the request of batch ' || release_unsent.batch
		 WHERE o.batch_id = release_unsent.batch AND o.status = 'sending'
		   AND o.id <> ALL (ids)
		RETURNING o.id)
	SELECT coalesce(array_agg(r.id), '{}') INTO gone FROM r;
	IF cardinality(gone) > 0 THEN
		PERFORM clawdstrike.batch_drop_rows(release_unsent.batch, gone);
	END IF;
	RETURN cardinality(gone);
END;
$$;

-- HEC answered 200 with ack id `ack_id` to the request holding rows `ids`
-- of `batch`: record where it went before anything else happens.  One
-- write, the batch row's: its sending rows are now sent (the outbox view
-- reads a row's sending/sent from its batch).  Any row of the batch not in
-- `ids` was not in the request and goes back to pending first, so the
-- rows a later ack delivers are exactly the request's.  Returns the number
-- of rows sent; 0 means the lease was lost (the batch was taken back).
CREATE OR REPLACE FUNCTION clawdstrike.mark_sent(batch bigint, ids bigint[], endpoint text,
						channel uuid, ack_id bigint, lease_s integer)
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, clawdstrike
AS $$
DECLARE
	n integer;
	rows bigint[];
BEGIN
	SELECT b.outbox_ids INTO rows FROM clawdstrike.batch b
	 WHERE b.id = mark_sent.batch AND b.state = 'claimed' FOR UPDATE;
	IF NOT FOUND THEN
		-- A repeated call (the first one's answer was lost with the
		-- connection) finds its own earlier result; anything else
		-- means the lease was lost.
		SELECT count(*) INTO n
		  FROM clawdstrike.batch b JOIN clawdstrike.outbox_state o ON o.batch_id = b.id
		 WHERE b.id = mark_sent.batch AND b.state = 'sent'
		   AND b.channel IS NOT DISTINCT FROM mark_sent.channel
		   AND b.ack_id IS NOT DISTINCT FROM mark_sent.ack_id
		   AND o.status = 'sending' AND o.id = ANY (ids);
		RETURN n;
	END IF;
	-- outbox_ids is the batch's rows, sorted (claim, split and
	-- release_unsent keep it so): the request is usually all of them,
	-- which an array comparison shows without writing a row.
	IF rows IS DISTINCT FROM ARRAY(SELECT DISTINCT x FROM unnest(ids) x ORDER BY x) THEN
		PERFORM clawdstrike.release_unsent(mark_sent.batch, ids);
	END IF;
	-- (a row dead-lettered before the request went out stays in the
	-- batch's audit, and is not sent)
	SELECT count(*) INTO n FROM clawdstrike.outbox_state o
	 WHERE o.batch_id = mark_sent.batch AND o.status = 'sending';
	UPDATE clawdstrike.batch b
	   SET state = 'sent', endpoint = mark_sent.endpoint, channel = mark_sent.channel,
	       ack_id = mark_sent.ack_id, sent_at = now(), http_status = 200,
	       lease_until = now() + make_interval(secs => lease_s)
	 WHERE b.id = mark_sent.batch;
	RETURN n;
END;
$$;

-- HEC accepted a batch whose request went out more than once (the HTTP
-- client re-sent it after the first connection died, having written the
-- whole body): HEC may hold these rows twice.  Count them on the batch.
CREATE OR REPLACE FUNCTION clawdstrike.risk_duplicates(batch bigint, events integer)
RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, clawdstrike
AS $$
	UPDATE clawdstrike.batch b SET duplicates_risked = b.duplicates_risked + events
	 WHERE b.id = risk_duplicates.batch
$$;

-- The indexer acknowledged these sent batches (their ack id polled true):
-- their sent rows, exactly the rows mark_sent recorded as the request,
-- become delivered.  Only batches still `sent` are moved, so a batch taken
-- back meanwhile is never delivered by a stale answer.  Returns rows moved.
CREATE OR REPLACE FUNCTION clawdstrike.mark_delivered(batches bigint[])
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, clawdstrike
AS $$
DECLARE
	closed bigint[];
	n integer;
BEGIN
	WITH c AS (
		UPDATE clawdstrike.batch b
		   SET state = 'closed', outcome = 'acked', closed_at = now(), acked_at = now()
		 WHERE b.id = ANY (batches) AND b.state = 'sent'
		RETURNING b.id)
	SELECT array_agg(c.id) INTO closed FROM c;
	IF closed IS NULL THEN
		RETURN 0;
	END IF;
	UPDATE clawdstrike.outbox_state o
	   SET status = 'delivered', delivered_at = now(), delivery = 'acked'
	 WHERE o.batch_id = ANY (closed) AND o.status = 'sending';
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END;
$$;

-- Rows `ids` of a batch were indexed without an ack id to confirm them:
-- how = 'prefix_commit' (HEC's 400 with invalid-event-number N indexed the
-- rows before N) or 'no_ack' (use_ack off: HEC's JSON success to the
-- request holding exactly these rows; the batch is closed, and rows left
-- out of the request go back to pending).  Returns rows moved.
CREATE OR REPLACE FUNCTION clawdstrike.mark_rows_delivered(batch bigint, ids bigint[],
							  how text DEFAULT 'prefix_commit')
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, clawdstrike
AS $$
DECLARE
	n integer;
BEGIN
	IF how NOT IN ('prefix_commit', 'no_ack') THEN
		RAISE EXCEPTION 'mark_rows_delivered: how must be prefix_commit or no_ack (got %)', how
			USING ERRCODE = '22023';
	END IF;
	IF how = 'no_ack' THEN
		UPDATE clawdstrike.batch b
		   SET state = 'closed', outcome = 'no_ack', closed_at = now(),
		       http_status = 200, sent_at = now()
		 WHERE b.id = mark_rows_delivered.batch AND b.state = 'claimed';
		IF NOT FOUND THEN
			RETURN 0;
		END IF;
	ELSE
		PERFORM 1 FROM clawdstrike.batch b
		 WHERE b.id = mark_rows_delivered.batch AND b.state <> 'closed' FOR UPDATE;
	END IF;
	UPDATE clawdstrike.outbox_state o
	   SET status = 'delivered', delivered_at = now(), delivery = how
	 WHERE o.id = ANY (ids) AND o.batch_id = mark_rows_delivered.batch
	   AND o.status = 'sending';
	GET DIAGNOSTICS n = ROW_COUNT;
	IF how = 'no_ack' THEN
		PERFORM clawdstrike.release_unsent(mark_rows_delivered.batch, ids);
	END IF;
	RETURN n;
END;
$$;

-- Dead-letter rows `ids` of a batch: HEC or our own validation rejected
-- them.  Never called for outages, timeouts or auth failures.
CREATE OR REPLACE FUNCTION clawdstrike.fail_rows(batch bigint, ids bigint[], reason text,
						http_status integer DEFAULT NULL,
						hec_code integer DEFAULT NULL,
						hec_text text DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, clawdstrike
AS $$
DECLARE
	n integer;
BEGIN
	IF reason IS NULL OR reason = '' THEN
		RAISE EXCEPTION 'fail_rows: a reason is required' USING ERRCODE = '22023';
	END IF;
	PERFORM 1 FROM clawdstrike.batch b
	 WHERE b.id = fail_rows.batch AND b.state <> 'closed' FOR UPDATE;
	UPDATE clawdstrike.outbox_state o
	   SET status = 'failed', failed_at = now(), last_error = reason,
	       http_status = fail_rows.http_status, hec_code = fail_rows.hec_code,
	       hec_text = fail_rows.hec_text
	 WHERE o.id = ANY (ids) AND o.batch_id = fail_rows.batch
	   AND o.status = 'sending';
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END;
$$;

-- Give a batch's remaining in-flight rows back to pending (their batch_id
-- cleared: they belong to no batch until claimed again) and close it with
-- `outcome` (retry, ack_timeout, shutdown, rejected, split_done, ...).
-- `duplicates_risked` says whether HEC may already hold these rows (the
-- request may have been indexed: ack timeout, lost response); the count is
-- kept on the batch.  Returns the number of rows released.
CREATE OR REPLACE FUNCTION clawdstrike.release(batch bigint, outcome text, reason text,
					      duplicates_risked boolean DEFAULT false,
					      http_status integer DEFAULT NULL,
					      hec_code integer DEFAULT NULL,
					      hec_text text DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, clawdstrike
AS $$
DECLARE
	n integer;
BEGIN
	PERFORM 1 FROM clawdstrike.batch b
	 WHERE b.id = release.batch AND b.state <> 'closed' FOR UPDATE;
	IF NOT FOUND THEN
		RETURN 0;
	END IF;
	UPDATE clawdstrike.outbox_state o
	   SET status = 'pending', batch_id = NULL, last_error = reason,
	       http_status = release.http_status, hec_code = release.hec_code,
	       hec_text = release.hec_text
	 WHERE o.batch_id = release.batch AND o.status = 'sending';
	GET DIAGNOSTICS n = ROW_COUNT;
	UPDATE clawdstrike.batch b
	   SET state = 'closed', outcome = release.outcome, closed_at = now(),
	       http_status = coalesce(release.http_status, b.http_status),
	       hec_code = release.hec_code, hec_text = coalesce(release.hec_text, reason),
	       duplicates_risked = b.duplicates_risked
			+ CASE WHEN release.duplicates_risked THEN n ELSE 0 END
	 WHERE b.id = release.batch;
	RETURN n;
END;
$$;

-- An ack channel can no longer prove anything: a request on it took an ack
-- id nobody knows (its answer was lost, the client re-sent it, HEC reset
-- the channel), so any id on it may now answer for another request.  In
-- one transaction: `batch` (the request with the unknown id, if given) and
-- every sent batch on `channel` go back to pending, counted as possible
-- duplicates.  Returns the number of rows released.
CREATE OR REPLACE FUNCTION clawdstrike.retire_channel(channel uuid, batch bigint,
						     outcome text, reason text)
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, clawdstrike
AS $$
DECLARE
	b record;
	n integer := 0;
BEGIN
	IF retire_channel.batch IS NOT NULL THEN
		n := clawdstrike.release(retire_channel.batch, outcome, reason, true);
	END IF;
	FOR b IN SELECT x.id FROM clawdstrike.batch x
		  WHERE x.channel = retire_channel.channel AND x.state = 'sent'
		  ORDER BY x.id LOOP
		n := n + clawdstrike.release(b.id, 'unconfirmable',
			format('ack channel %s retired: %s', retire_channel.channel, reason), true);
	END LOOP;
	RETURN n;
END;
$$;

-- Move rows `ids` of a claimed batch into a new batch with the same lease,
-- run and channel (413 splitting, byte-limit splitting, prefix commit).
-- Returns the new batch id; NULL when the batch is no longer ours.
CREATE OR REPLACE FUNCTION clawdstrike.split(batch bigint, ids bigint[])
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, clawdstrike
AS $$
DECLARE
	old clawdstrike.batch;
	new_id bigint;
	moved bigint[];
BEGIN
	SELECT * INTO old FROM clawdstrike.batch b
	 WHERE b.id = split.batch AND b.state = 'claimed' FOR UPDATE;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	INSERT INTO clawdstrike.batch (relay_instance, owner, channel, n_events, outbox_ids,
				       lease_until)
	VALUES (old.relay_instance, old.owner, old.channel, 0, '{}', old.lease_until)
	RETURNING id INTO new_id;
	WITH m AS (
		UPDATE clawdstrike.outbox_state o SET batch_id = new_id
		 WHERE o.batch_id = split.batch AND o.id = ANY (ids) AND o.status = 'sending'
		RETURNING o.id)
	SELECT coalesce(array_agg(m.id ORDER BY m.id), '{}') INTO moved FROM m;
	UPDATE clawdstrike.batch b SET n_events = cardinality(moved), outbox_ids = moved
	 WHERE b.id = new_id;
	PERFORM clawdstrike.batch_drop_rows(split.batch, moved);
	RETURN new_id;
END;
$$;

-- Extend the leases of the batches `ids` that run `run` holds in memory,
-- and only those: a batch the process forgot is left to expire.  Returns
-- the ids renewed; a held id missing from the answer was taken back (its
-- lease had expired) and the caller drops it.
CREATE OR REPLACE FUNCTION clawdstrike.heartbeat(run uuid, ids bigint[], lease_s integer)
RETURNS SETOF bigint
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, clawdstrike
AS $$
	UPDATE clawdstrike.batch b SET lease_until = now() + make_interval(secs => lease_s)
	 WHERE b.id = ANY (ids) AND b.owner = run AND b.state <> 'closed'
	RETURNING b.id
$$;

-- One process per instance_id: a session advisory lock, held while the
-- relay's connection lives and dropped by PostgreSQL when it dies (kill -9
-- included), so a restart is never refused but a second live process is.
CREATE OR REPLACE FUNCTION clawdstrike.register(relay text)
RETURNS boolean
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, clawdstrike
AS $$
	SELECT pg_try_advisory_lock(hashtext('clawdstrike.relay'), hashtext(relay))
$$;

-- Recover after a crash, and take back what nobody holds.
--
-- A claimed batch whose lease expired (or, at startup, one of `relay`'s own
-- from an earlier run: register() proved that run dead) may have been sent
-- with nobody knowing its answer: it is released (counted as possible
-- duplicates), and so is every sent batch on its ack channel, whose ids an
-- unknown request may now answer for (retire_channel).  Sent batches left
-- (expired, or at startup our own) are adopted by run `run`: the caller
-- resumes polling their persisted channel and ack id, in issue order (the
-- order their sends were recorded), before sending anything new.  One whose
-- channel still has a claimed batch open is released instead (counted as
-- possible duplicates): that request's ack id is unknown.
--
-- A claimed batch recorded without a channel (a v1 claim, or use_ack off)
-- distrusts every sent batch of the same run instead.
--
-- With startup = false (the periodic call of a running relay) only expired
-- leases are taken: the caller's own live batches are left alone.
CREATE OR REPLACE FUNCTION clawdstrike.recover(relay text, lease_s integer,
					      startup boolean DEFAULT true, run uuid DEFAULT NULL)
RETURNS TABLE (batch_id bigint, endpoint text, channel uuid, ack_id bigint,
	       sent_at timestamptz, n_events integer)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, clawdstrike
AS $$
DECLARE
	b record;
	s record;
	why text;
BEGIN
	FOR b IN SELECT x.id, x.relay_instance, x.channel, x.owner FROM clawdstrike.batch x
		  WHERE x.state = 'claimed'
		    AND ((startup AND x.relay_instance = relay
			  AND x.owner IS DISTINCT FROM recover.run)
			 OR x.lease_until < now())
		  ORDER BY x.id FOR UPDATE SKIP LOCKED LOOP
		why := format('relay %s stopped before HEC answered batch %s',
			      b.relay_instance, b.id);
		IF b.channel IS NOT NULL THEN
			PERFORM clawdstrike.retire_channel(b.channel, b.id, 'lease_expired', why);
			CONTINUE;
		END IF;
		PERFORM clawdstrike.release(b.id, 'lease_expired', why, true);
		FOR s IN SELECT z.id FROM clawdstrike.batch z
			  WHERE z.state = 'sent' AND z.relay_instance = b.relay_instance
			    AND z.owner IS NOT DISTINCT FROM b.owner
			  ORDER BY z.id LOOP
			PERFORM clawdstrike.release(s.id, 'unconfirmable', why, true);
		END LOOP;
	END LOOP;
	-- A sent batch whose channel still has a claimed batch open (its lease
	-- outlived the sent one's: claimed after the holder's last heartbeat)
	-- must not be polled: that request's id is unknown and may answer for
	-- it.  Nobody holds it (its lease ran out): give it back.
	FOR s IN SELECT y.id, y.channel FROM clawdstrike.batch y
		  WHERE y.state = 'sent'
		    AND ((startup AND y.relay_instance = relay
			  AND y.owner IS DISTINCT FROM recover.run)
			 OR y.lease_until < now())
		    AND EXISTS (SELECT 1 FROM clawdstrike.batch k
				 WHERE k.channel = y.channel AND k.state = 'claimed')
		  ORDER BY y.id FOR UPDATE SKIP LOCKED LOOP
		PERFORM clawdstrike.release(s.id, 'unconfirmable',
			format('ack channel %s has a request of unknown outcome', s.channel), true);
	END LOOP;
	RETURN QUERY
	UPDATE clawdstrike.batch x
	   SET relay_instance = relay, owner = recover.run,
	       lease_until = now() + make_interval(secs => lease_s)
	 WHERE x.id IN (SELECT y.id FROM clawdstrike.batch y
			 WHERE y.state = 'sent'
			   AND ((startup AND y.relay_instance = relay
				 AND y.owner IS DISTINCT FROM recover.run)
				OR y.lease_until < now())
			 ORDER BY y.id FOR UPDATE SKIP LOCKED)
	RETURNING x.id, x.endpoint, x.channel, x.ack_id, x.sent_at, x.n_events;
END;
$$;
