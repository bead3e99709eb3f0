-- In flight per relay: what each relay instance holds right now -- batches
-- claimed but not yet answered by HEC, batches sent and awaiting their
-- indexer ack -- and when their leases run out (a lease in the past means
-- that relay is probably dead; recover() will take its batches over).
SELECT relay_instance, batches_claimed, batches_awaiting_ack, events,
       now() - oldest_sent_at AS oldest_ack_wait,
       next_lease_expiry - now() AS next_lease_in
  FROM clawdstrike.in_flight
 ORDER BY events DESC;

-- The open batches themselves, oldest first, with endpoint, channel and ack id.
SELECT id AS batch_id, relay_instance, state, n_events, endpoint, channel, ack_id,
       claimed_at, sent_at, lease_until, lease_until < now() AS lease_expired
  FROM clawdstrike.batch
 WHERE state <> 'closed'
 ORDER BY claimed_at
 LIMIT 100;
