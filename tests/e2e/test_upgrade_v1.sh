#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A database made by the v1 schema upgrades in place with the current
# `migrate` while rows are pending, sending, sent, delivered and failed,
# and those rows are then delivered exactly as before.
#
#  1. A fresh database is loaded from tests/upgrade/v1-schema.sql.gz (what
#     v1's migrate made; see tests/upgrade/make-v1-fixture.sh).
#  2. v1's own SQL functions, called as a superuser, play a v1 relay
#     (instance $INST) that died: batches claimed by its run and never
#     sent (sending, on channel CH_S); batches really POSTed to the
#     emulator whose ack ids were recorded with mark_sent but never polled
#     (sent: two on CH_A, one on CH_B); one whose ack was polled true and
#     marked delivered (on CH_A); one event dead-lettered with fail_rows;
#     the rest pending.  The sending batch has a channel of its own: v1's
#     recover() retires the channel of a claimed batch whose outcome is
#     unknown, releasing that channel's sent batches to be resent.
#  3. The current binary's `migrate` upgrades it (applying 0005, the lean
#     outbox: the table becomes a view over two tables); the outbox still
#     shows every row with its event_id, event and status, the dead letter
#     its reason, status_counts the same figures, the batch audit the
#     persisted channels and ack ids.
#  4. The current relay, same instance id, same emulator: the sent batches
#     are adopted (their persisted ack ids polled, never resent), the
#     sending batch goes back to pending (counted as duplicates risked)
#     and is sent, the pending rows are sent, the delivered ones are not.
#  5. Replaying the dead letter with a plain UPDATE delivers it.
#
# Bound: no row that was sent before the upgrade is sent again, and the
# rows sent after it had never been posted: lost=0, duplicates=0.
. "$(dirname "$0")/lib.sh"

SRC=$(cd "$(dirname "$0")/../.." && pwd)
FIXTURE=$SRC/tests/upgrade/v1-schema.sql.gz
INST=up1
N=560     # events enqueued under v1
NB=50     # rows per v1 batch
N_NEW=100 # events enqueued after the upgrade

# ------------------------------------------------------------ helpers

# Helpers set globals (BATCH, ACK) rather than print: a check or die in
# a command substitution would count in a subshell only.

# claim_batch N CHANNEL_SQL: a v1 claim by the dead run; sets BATCH.
claim_batch() {
	BATCH=$(sql "SELECT DISTINCT batch_id
	               FROM clawdstrike.claim('$INST', $1, 300, '$DEAD_RUN', $2)") ||
		BATCH=
	[ -n "$BATCH" ] || die "claim of $1 rows failed"
}

# batch_rows BATCH: SQL for the ids of the batch's rows.
batch_rows() {
	echo "(SELECT array_agg(id ORDER BY id) FROM clawdstrike.outbox WHERE batch_id = $1)"
}

# post_batch BATCH CHANNEL: POST the batch's events to HEC as one request
# on CHANNEL (envelopes shaped like the relay's); sets ACK to HEC's ackId.
post_batch() {
	local b=$1 ch=$2 ans
	sql "SELECT string_agg(jsonb_build_object(
	            'time', round(extract(epoch FROM (event->>'timestamp')::timestamptz), 3),
	            'host', 'e2e-host', 'source', 'clawdstrike',
	            'sourcetype', 'clawdstrike:security', 'index', 'security',
	            'event', event)::text, E'\n' ORDER BY id)
	       FROM clawdstrike.outbox WHERE batch_id = $b" >"$T/body-$b.json" ||
		die "cannot format batch $b"
	ans=$(curl -sS -H "Authorization: Splunk $TOKEN" \
		-H "X-Splunk-Request-Channel: $ch" \
		--data-binary @"$T/body-$b.json" \
		"$BASE/services/collector/event") || die "POST of batch $b failed"
	echo "POST batch $b on $ch: $ans" >>"$T/v1-relay.log"
	ACK=$(jq -er '.ackId | numbers' <<<"$ans") || die "no ackId for batch $b: $ans"
}

# send_batch N CHANNEL: claim N rows, POST them, record the ack id with
# mark_sent, as a v1 relay did; sets BATCH and ACK.
send_batch() {
	claim_batch "$1" "'$2'::uuid"
	post_batch "$BATCH" "$2"
	eq "mark_sent of batch $BATCH (ack id $ACK on channel $2)" \
		"$(sql "SELECT clawdstrike.mark_sent($BATCH, $(batch_rows "$BATCH"), '$BASE', '$2', $ACK, 300)")" "$1"
}

# ack_true CHANNEL ACK_ID: one poll; succeeds when HEC answers true.
ack_true() {
	curl -sS -H "Authorization: Splunk $TOKEN" \
		-H "X-Splunk-Request-Channel: $1" \
		--data-binary "{\"acks\":[$2]}" \
		"$BASE/services/collector/ack" | jq -e ".acks.\"$2\" == true" >/dev/null
}

# snapshot NAME: what the upgrade must keep, in $T/NAME.*.
snapshot() {
	sql "SELECT id, event_id, status, md5(event::text)
	       FROM clawdstrike.outbox ORDER BY id" >"$T/$1.rows" ||
		die "snapshot of the outbox"
	status_counts >"$T/$1.counts"
	sql "SELECT string_agg(status || '=' || events, ' ' ORDER BY status)
	       FROM clawdstrike.status_counts" >"$T/$1.view"
	sql "SELECT outbox_id, event_id, reason, http_status, hec_code, hec_text
	       FROM clawdstrike.dead_letter ORDER BY outbox_id" >"$T/$1.dead"
	sql "SELECT id, relay_instance, state, outcome, n_events, channel,
	            ack_id, endpoint, duplicates_risked
	       FROM clawdstrike.batch ORDER BY id" >"$T/$1.batches"
}

same_file() {
	cmp -s "$1" "$2" || { diff "$1" "$2" | head -20 >&2; return 1; }
}

# not_in_flight: nothing left to send (or the relay died: stop waiting).
not_in_flight() {
	relay_alive "$INST" || return 0
	sql_is 0 "SELECT count(*) FROM clawdstrike.outbox
	           WHERE status IN ('pending', 'sending', 'sent')"
}

# ------------------------------------------------------------ 1. v1 database

dropdb --if-exists "$DB" >/dev/null 2>&1
createdb "$DB" || die "createdb $DB"
gunzip -c "$FIXTURE" | psql -X -q -v ON_ERROR_STOP=1 >"$T/restore.log" 2>&1 ||
	die "cannot load $FIXTURE"
sql "CREATE TABLE public.e2e_load (j jsonb);
     CREATE TABLE public.e2e_out (event_id uuid);" ||
	die "cannot create helper tables"
eq "fixture is v1 (migrations 1-4)" "$(sql "SELECT string_agg(version::text, ',' ORDER BY version) FROM clawdstrike.schema_migrations")" "1,2,3,4"
eq "v1 outbox is a table" "$(sql "SELECT relkind FROM pg_class WHERE oid = 'clawdstrike.outbox'::regclass")" r

# ------------------------------------------------------------ 2. every state

start_emulator --ack-delay-ms 300
gen "$T/events.jsonl" "$N" --seed 501
gen "$T/new.jsonl" "$N_NEW" --seed 502
eq "enqueued under v1" "$(enqueue "$T/events.jsonl")" "$N"
DEAD_RUN=$(sql "SELECT gen_random_uuid()")
CH_A=$(sql "SELECT gen_random_uuid()")
CH_B=$(sql "SELECT gen_random_uuid()")
CH_S=$(sql "SELECT gen_random_uuid()")

# (d) delivered: sent on CH_A, ack polled true, mark_delivered.
send_batch "$NB" "$CH_A"
B_D=$BATCH ACK_D=$ACK
wait_until 10 "ack $ACK_D of batch $B_D reads true" ack_true "$CH_A" "$ACK_D" ||
	die "the delivered batch's ack never read true"
eq "mark_delivered of batch $B_D" "$(sql "SELECT clawdstrike.mark_delivered(ARRAY[$B_D]::bigint[])")" "$NB"
# (c) sent, acks never polled: two on CH_A, one on CH_B.
send_batch "$NB" "$CH_A"
B_C1=$BATCH ACK_C1=$ACK
send_batch "$NB" "$CH_A"
B_C2=$BATCH ACK_C2=$ACK
send_batch "$NB" "$CH_B"
B_C3=$BATCH ACK_C3=$ACK
eq "ack ids on CH_A go on from the delivered batch's" "$ACK_D $ACK_C1 $ACK_C2" "0 1 2"
# (b) sending: claimed on CH_S by the dead run, never sent.
claim_batch "$NB" "'$CH_S'::uuid"
B_S=$BATCH
# (e) failed: a valid event dead-lettered as HEC would have (the batch
# closed as the relay closes one whose every event was rejected).
claim_batch 1 NULL
B_F=$BATCH
REASON="HEC rejected the event: code 6 (Invalid data format), before the upgrade"
eq "fail_rows" "$(sql "SELECT clawdstrike.fail_rows($B_F, $(batch_rows "$B_F"), '$REASON', 400, 6, 'Invalid data format')")" 1
eq "failed batch closed" "$(sql "SELECT clawdstrike.release($B_F, 'rejected', 'every event failed validation')")" 0
F_ID=$(sql "SELECT id FROM clawdstrike.outbox WHERE status = 'failed'")
F_EVENT=$(sql "SELECT event_id FROM clawdstrike.outbox WHERE status = 'failed'")

# ------------------------------------------------------------ 3. before

N_PENDING=$((N - 5 * NB - 1))
WANT="pending=$N_PENDING sending=$NB sent=$((3 * NB)) delivered=$NB failed=1"
eq "v1 states" "$(status_counts)" "$WANT"
eq "v1 batches: claimed / sent / closed" "$(sql "SELECT string_agg(state || '=' || n, ' ' ORDER BY state) FROM (SELECT state, count(*) n FROM clawdstrike.batch GROUP BY 1) s")" "claimed=1 closed=2 sent=3"
eq "emulator holds the delivered and sent rows" "$(counter .events_indexed)" $((4 * NB))
say "before the upgrade: $(status_counts)"
snapshot before
sql "CREATE TABLE public.e2e_before AS
       SELECT id, event_id, status, batch_id FROM clawdstrike.outbox" ||
	die "cannot keep the v1 rows"

# ------------------------------------------------------------ 4. migrate

MIG_RC=0
"$RELAY" migrate >"$T/migrate.log" 2>&1 || MIG_RC=$?
eq "migrate exits 0" "$MIG_RC" 0
sed 's/^/  migrate: /' "$T/migrate.log"
NEXT=0005_lean_outbox.sql
check "migrate applied $NEXT" grep -qF "applied migration $NEXT" "$T/migrate.log"
check "migrate reports the upgrade from version 4" grep -qE '^schema version 4 -> ([5-9]|[1-9][0-9]+):' "$T/migrate.log"
ge "schema version after migrate" "$(sql "SELECT max(version) FROM clawdstrike.schema_migrations")" 5
say "outbox after migrate: relkind $(sql "SELECT relkind FROM pg_class WHERE oid = 'clawdstrike.outbox'::regclass")"
snapshot after
check "same ids, event_ids, events and statuses after the upgrade" same_file "$T/before.rows" "$T/after.rows"
eq "same counts by status" "$(cat "$T/after.counts")" "$WANT"
check "status_counts agrees" same_file "$T/before.view" "$T/after.view"
eq "status_counts figures" "$(cat "$T/after.view")" "delivered=$NB failed=1 pending=$N_PENDING sending=$NB sent=$((3 * NB))"
check "dead_letter unchanged" same_file "$T/before.dead" "$T/after.dead"
eq "dead_letter lists the failed row with its reason" "$(sql "SELECT outbox_id || ' ' || reason FROM clawdstrike.dead_letter")" "$F_ID $REASON"
check "batch audit (channels, ack ids) unchanged" same_file "$T/before.batches" "$T/after.batches"
MIG2=$("$RELAY" migrate 2>&1)
check "a second migrate has nothing to do" grep -q 'nothing to do' <<<"$MIG2"
# enqueue after the upgrade: idempotent for v1's rows, new rows pending.
eq "re-enqueue of the v1 events" "$(enqueue "$T/events.jsonl")" "$N"
eq "re-enqueue adds no row" "$(n_outbox)" "$N"
eq "new events enqueued after the upgrade" "$(enqueue "$T/new.jsonl")" "$N_NEW"
eq "new events are pending" "$(count_status pending)" $((N_PENDING + N_NEW))

# ------------------------------------------------------------ 5. the relay

CFG_BATCH_SIZE=100
CFG_LEASE_S=10
CFG_TIMEOUT_MS=4000
write_config "$INST"
start_relay "$INST"
wait_until 60 "nothing pending, sending or sent" not_in_flight
relay_alive "$INST" || die "relay $INST exited: $(tail -3 "$T/relay-$INST.log")"
say "after the run: $(status_counts)"
eq "every event but the failed one delivered" "$(status_counts)" "pending=0 sending=0 sent=0 delivered=$((N + N_NEW - 1)) failed=1"
check "relay resumed the three sent batches" grep -q 'resuming ack polling for persisted batches.*batches=3' "$T/relay-$INST.log"
eq "sent batches adopted and acked by their persisted ack ids" "$(sql "SELECT count(*) FROM clawdstrike.batch
    WHERE id IN ($B_C1, $B_C2, $B_C3) AND outcome = 'acked' AND relay_instance = '$INST'
      AND (id, channel, ack_id) IN (($B_C1, '$CH_A', $ACK_C1), ($B_C2, '$CH_A', $ACK_C2), ($B_C3, '$CH_B', $ACK_C3))")" 3
eq "sending batch given back (dead run, never sent)" "$(sql "SELECT outcome || ' ' || duplicates_risked FROM clawdstrike.batch WHERE id = $B_S")" "lease_expired $NB"
eq "delivered batch untouched" "$(sql "SELECT outcome || ' ' || ack_id FROM clawdstrike.batch WHERE id = $B_D")" "acked $ACK_D"
eq "emulator indexed every event once" "$(counter .events_indexed)" $((N + N_NEW - 1))
report_figures 0 "rows sent before the upgrade are polled, not resent; the others had never been posted" "o.status <> 'failed'"
eq "delivered-before-upgrade and sent-before-upgrade rows indexed exactly once" "$(sql "SELECT count(*) FROM public.e2e_before b
    WHERE b.status IN ('delivered', 'sent')
      AND (SELECT count(*) FROM public.e2e_out x WHERE x.event_id = b.event_id) <> 1")" 0
eq "rows pending or sending before the upgrade indexed exactly once" "$(sql "SELECT count(*) FROM public.e2e_before b
    WHERE b.status IN ('pending', 'sending')
      AND (SELECT count(*) FROM public.e2e_out x WHERE x.event_id = b.event_id) <> 1")" 0
eq "the failed row was not sent" "$(sql "SELECT count(*) FROM public.e2e_out WHERE event_id = '$F_EVENT'")" 0
RISKED=$(batch_dups_risked)
echo "batch audit: duplicates_risked=$RISKED"
le "duplicates accounted in the batch audit" "$DUPS" "$RISKED"
eq "nothing marked delivered that HEC does not hold" "$(n_false_delivered)" 0

# ------------------------------------------------------------ 6. replay

sql "UPDATE clawdstrike.outbox SET status = 'pending' WHERE status = 'failed'" ||
	bad "replay UPDATE failed"
wait_until 30 "the replayed row delivered" all_delivered
eq "dead letter empty after the replay" "$(n_dead_letters)" 0
eq "replay audited" "$(sql "SELECT count(*) FROM clawdstrike.replay_log r JOIN public.e2e_before b ON b.id = r.outbox_id
    WHERE b.event_id = '$F_EVENT' AND r.from_status = 'failed' AND r.to_status = 'pending'")" 1
load_output
eq "replayed event now indexed once" "$(sql "SELECT count(*) FROM public.e2e_out WHERE event_id = '$F_EVENT'")" 1
stop_relay "$INST"
eq "relay exits 0" "$STOP_RC" 0
report_figures 0 "after the replay: every event once"
eq "nothing marked delivered that HEC does not hold" "$(n_false_delivered)" 0
stop_emulator
finish
