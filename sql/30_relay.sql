-- The relay's state transitions.  Each is one short statement (or a few in
-- one function call) committed before any HTTP happens; no transaction is
-- ever held across a request.  Every function is fenced by batch id and
-- status, so a relay whose lease was taken over cannot move rows that now
-- belong to someone else.

-- Claim up to `max_events` pending rows (critical first, then high, then
-- oldest) into a new batch leased to `relay` for `lease_s` seconds.
-- Returns nothing when there is nothing to do.
--
-- The rows are updated through the batch's id array (o.id = ANY), not by
-- joining `picked`: a SQL function's statements get a generic plan, which
-- guesses a LIMIT parameter returns 10% of the table, and with a large
-- backlog that guess chose a hash join over a sequential scan of the whole
-- outbox (2.4 s per claim at 1M pending rows; bench/run).  The array
-- drives a primary-key index scan whatever the guess.
CREATE OR REPLACE FUNCTION clawdstrike.claim(relay text, max_events integer, lease_s integer)
RETURNS TABLE (batch_id bigint, id bigint, attempts integer, event jsonb)
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, clawdstrike
AS $$
	WITH picked AS MATERIALIZED (
		SELECT o.id FROM clawdstrike.outbox o
		 WHERE o.status = 'pending'
		 ORDER BY o.priority, o.id
		 LIMIT max_events
		 FOR UPDATE SKIP LOCKED),
	b AS (
		INSERT INTO clawdstrike.batch (relay_instance, n_events, outbox_ids, lease_until)
		SELECT relay, count(*), array_agg(p.id ORDER BY p.id),
		       now() + make_interval(secs => lease_s)
		  FROM picked p
		HAVING count(*) > 0
		RETURNING batch.id, batch.outbox_ids),
	claimed AS (
		UPDATE clawdstrike.outbox o
		   SET status = 'sending', batch_id = b.id, attempts = o.attempts + 1
		  FROM b
		 WHERE o.id = ANY (b.outbox_ids)
		RETURNING b.id AS bid, o.id, o.attempts, o.priority, o.event)
	SELECT c.bid, c.id, c.attempts, c.event FROM claimed c ORDER BY c.priority, c.id
$$;

-- HEC answered 200 (with ack id when acks are on): record where the batch
-- went before anything else happens.  Returns the number of rows moved to
-- sent; 0 means the lease was lost (rows were re-claimed elsewhere).
CREATE OR REPLACE FUNCTION clawdstrike.mark_sent(batch bigint, endpoint text, channel uuid,
						ack_id bigint, lease_s integer)
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, clawdstrike
AS $$
DECLARE
	n integer;
BEGIN
	UPDATE clawdstrike.batch b
	   SET state = 'sent', endpoint = mark_sent.endpoint, channel = mark_sent.channel,
	       ack_id = mark_sent.ack_id, sent_at = now(), http_status = 200,
	       lease_until = now() + make_interval(secs => lease_s)
	 WHERE b.id = mark_sent.batch AND b.state = 'claimed';
	IF NOT FOUND THEN
		-- A repeated call (the first one's answer was lost with the
		-- connection) finds its own earlier result; anything else
		-- means the lease was lost.
		SELECT count(*) INTO n
		  FROM clawdstrike.batch b JOIN clawdstrike.outbox o ON o.batch_id = b.id
		 WHERE b.id = mark_sent.batch AND b.state = 'sent'
		   AND b.channel IS NOT DISTINCT FROM mark_sent.channel
		   AND b.ack_id IS NOT DISTINCT FROM mark_sent.ack_id
		   AND o.status = 'sent';
		RETURN n;
	END IF;
	UPDATE clawdstrike.outbox o SET status = 'sent', sent_at = now()
	 WHERE o.batch_id = mark_sent.batch AND o.status = 'sending';
	GET DIAGNOSTICS n = ROW_COUNT;
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

-- Mark whole batches delivered: their ack came back true (how = 'acked'),
-- or HEC answered 200 with acks off (how = 'no_ack').  Returns rows moved.
CREATE OR REPLACE FUNCTION clawdstrike.mark_delivered(batches bigint[], how text DEFAULT 'acked')
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, clawdstrike
AS $$
DECLARE
	n integer;
BEGIN
	IF how NOT IN ('acked', 'no_ack') THEN
		RAISE EXCEPTION 'mark_delivered: how must be acked or no_ack (got %)', how
			USING ERRCODE = '22023';
	END IF;
	UPDATE clawdstrike.outbox o
	   SET status = 'delivered', delivered_at = now(), delivery = how,
	       sent_at = coalesce(o.sent_at, now())
	 WHERE o.batch_id = ANY (batches) AND o.status IN ('sending', 'sent');
	GET DIAGNOSTICS n = ROW_COUNT;
	UPDATE clawdstrike.batch b
	   SET state = 'closed', outcome = how, closed_at = now(),
	       acked_at = CASE WHEN how = 'acked' THEN now() END,
	       http_status = coalesce(b.http_status, 200),
	       sent_at = coalesce(b.sent_at, now())
	 WHERE b.id = ANY (batches) AND b.state <> 'closed';
	RETURN n;
END;
$$;

-- HEC's prefix commit: rows `ids` of the batch were indexed before a
-- rejected event (HTTP 400 with invalid-event-number), without an ack id.
CREATE OR REPLACE FUNCTION clawdstrike.mark_rows_delivered(batch bigint, ids bigint[])
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, clawdstrike
AS $$
DECLARE
	n integer;
BEGIN
	UPDATE clawdstrike.outbox o
	   SET status = 'delivered', delivered_at = now(), delivery = 'prefix_commit',
	       sent_at = coalesce(o.sent_at, now())
	 WHERE o.batch_id = mark_rows_delivered.batch AND o.id = ANY (ids)
	   AND o.status IN ('sending', 'sent');
	GET DIAGNOSTICS n = ROW_COUNT;
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
	UPDATE clawdstrike.outbox o
	   SET status = 'failed', failed_at = now(), last_error = reason,
	       http_status = fail_rows.http_status, hec_code = fail_rows.hec_code,
	       hec_text = fail_rows.hec_text
	 WHERE o.batch_id = fail_rows.batch AND o.id = ANY (ids)
	   AND o.status IN ('sending', 'sent');
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END;
$$;

-- Give a batch's remaining in-flight rows back to pending and close it with
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
-- lets the status guard tell this from an operator's UPDATE (20_outbox.sql)
SET clawdstrike.in_release = 'on'
AS $$
DECLARE
	n integer;
BEGIN
	UPDATE clawdstrike.outbox o
	   SET status = 'pending', last_error = reason,
	       http_status = release.http_status, hec_code = release.hec_code,
	       hec_text = release.hec_text
	 WHERE o.batch_id = release.batch AND o.status IN ('sending', 'sent');
	GET DIAGNOSTICS n = ROW_COUNT;
	UPDATE clawdstrike.batch b
	   SET state = 'closed', outcome = release.outcome, closed_at = now(),
	       http_status = coalesce(release.http_status, b.http_status),
	       hec_code = release.hec_code, hec_text = coalesce(release.hec_text, reason),
	       duplicates_risked = b.duplicates_risked
			+ CASE WHEN release.duplicates_risked THEN n ELSE 0 END
	 WHERE b.id = release.batch AND b.state <> 'closed';
	RETURN n;
END;
$$;

-- Move rows `ids` of a claimed batch into a new batch with the same lease
-- (413 splitting, byte-limit splitting).  Returns the new batch id.
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
	INSERT INTO clawdstrike.batch (relay_instance, n_events, outbox_ids, lease_until)
	VALUES (old.relay_instance, 0, '{}', old.lease_until)
	RETURNING id INTO new_id;
	WITH m AS (
		UPDATE clawdstrike.outbox o SET batch_id = new_id
		 WHERE o.batch_id = split.batch AND o.id = ANY (ids) AND o.status = 'sending'
		RETURNING o.id)
	SELECT coalesce(array_agg(m.id ORDER BY m.id), '{}') INTO moved FROM m;
	UPDATE clawdstrike.batch b SET n_events = cardinality(moved), outbox_ids = moved
	 WHERE b.id = new_id;
	UPDATE clawdstrike.batch b
	   SET n_events = b.n_events - cardinality(moved),
	       outbox_ids = ARRAY(SELECT x FROM unnest(b.outbox_ids) x
				   WHERE x <> ALL (moved) ORDER BY x)
	 WHERE b.id = split.batch;
	RETURN new_id;
END;
$$;

-- Extend the leases of every open batch of `relay`.  Returns how many.
CREATE OR REPLACE FUNCTION clawdstrike.heartbeat(relay text, lease_s integer)
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, clawdstrike
AS $$
DECLARE
	n integer;
BEGIN
	UPDATE clawdstrike.batch b SET lease_until = now() + make_interval(secs => lease_s)
	 WHERE b.relay_instance = relay AND b.state <> 'closed';
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END;
$$;

-- Recover after a crash.  Batches of `relay` itself (a restart with the same
-- instance_id) and sent batches whose lease expired (their relay died) are
-- adopted: the caller resumes polling their persisted channel and ack id
-- before sending anything new.  Claimed batches of `relay` that never
-- recorded a send are released (HEC may hold them: counted as risked
-- duplicates), as are expired claimed batches of any relay.
--
-- With startup = false (the periodic call of a running relay) only expired
-- leases are taken: the caller's own live batches are left alone.
CREATE OR REPLACE FUNCTION clawdstrike.recover(relay text, lease_s integer,
					      startup boolean DEFAULT true)
RETURNS TABLE (batch_id bigint, endpoint text, channel uuid, ack_id bigint,
	       sent_at timestamptz, n_events integer)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, clawdstrike
AS $$
DECLARE
	b record;
BEGIN
	FOR b IN SELECT x.id, x.relay_instance FROM clawdstrike.batch x
		  WHERE x.state = 'claimed'
		    AND ((startup AND x.relay_instance = relay) OR x.lease_until < now())
		  ORDER BY x.id FOR UPDATE SKIP LOCKED LOOP
		PERFORM clawdstrike.release(b.id, 'lease_expired',
			format('relay %s stopped before HEC answered', b.relay_instance), true);
	END LOOP;
	RETURN QUERY
	UPDATE clawdstrike.batch x
	   SET relay_instance = relay, lease_until = now() + make_interval(secs => lease_s)
	 WHERE x.id IN (SELECT y.id FROM clawdstrike.batch y
			 WHERE y.state = 'sent'
			   AND ((startup AND y.relay_instance = relay) OR y.lease_until < now())
			 ORDER BY y.id FOR UPDATE SKIP LOCKED)
	RETURNING x.id, x.endpoint, x.channel, x.ack_id, x.sent_at, x.n_events;
END;
$$;
