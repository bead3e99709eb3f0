-- 0002: proof of delivery.
--
-- owner: the run (one process's random token) that holds the batch now.
-- Heartbeats renew only the batches their run names and still holds in
-- memory, so a batch a process forgot (an ambiguous commit, a store error)
-- expires and is taken back by any relay within relay.lease_s.
--
-- channel is now recorded when a batch is claimed (the ack channel its
-- request goes out on), not only when HEC answered: a claimed batch whose
-- outcome nobody knows makes every ack id on its channel unconfirmable, and
-- recovery needs to find them (batch_channel_idx).
ALTER TABLE clawdstrike.batch ADD COLUMN owner uuid;
CREATE INDEX batch_channel_idx ON clawdstrike.batch (channel)
	WHERE state <> 'closed';
