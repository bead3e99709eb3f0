#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Statements that fail (not the connection: a statement_timeout, a
# read-only primary after failover, a full disk), made by a test-only
# trigger on the outbox, never deliver a row that was not in the request
# and never leave a row stuck.
#
# 1. While a claim is built, dead-lettering an event our own validation
#    rejects fails: the rows after it never went into the body, so no row
#    of that batch may be delivered; the batch is given back and retried
#    until the statement works again.
# 2. Recording an ack `true` fails for a while (HEC says true only once):
#    the relay keeps those batches and retries, so they are delivered
#    without a restart once the database takes the statement.
# 3. Counting a possible duplicate fails for a while: the count is kept
#    and retried, so the batch audit still accounts for every duplicate.
# The emulator is lossy, so a row marked delivered that HEC does not hold
# shows up as false delivered.
. "$(dirname "$0")/lib.sh"

N=2000
setup_db
start_emulator --lossy --ack-delay-ms 300
# Every 50th event is too big for this relay (max_event_bytes), though the
# database took it: our validation dead-letters it while building a post.
gen "$T/raw.jsonl" "$N" --seed 211
jq -c 'if (input_line_number % 50) == 25 then .metadata.pad = ("x" * 3000) else . end' \
	"$T/raw.jsonl" >"$T/events.jsonl"
NBIG=$((N / 50))
eq "enqueued" "$(enqueue "$T/events.jsonl")" "$N"
CFG_BATCH_SIZE=100
CFG_LEASE_S=6
CFG_TIMEOUT_MS=4000
CFG_EXTRA_SPLUNK="    max_event_bytes: 2048"

# --- 1: the dead-lettering statement fails mid-build
fail_statements "NEW.status = 'failed'" "e2e: canceling statement due to statement timeout"
start_relay r1
wait_until 30 "builds fail" grep -q "batch abandoned" "${RELAY_LOG[r1]}"
sleep 3
eq "no row delivered that was never sent" "$(n_false_delivered)" 0
eq "nothing dead-lettered while the statement fails" "$(n_dead_letters)" 0
unfail_statements
settled() {
	sql_is 0 "SELECT count(*) FROM clawdstrike.outbox WHERE status NOT IN ('delivered', 'failed')"
}
wait_until 60 "every row delivered or failed" settled
eq "exactly the big events failed" "$(n_dead_letters)" "$NBIG"
eq "no false delivered" "$(n_false_delivered)" 0

# --- 2: recording acks fails for a while
gen "$T/more.jsonl" "$N" --seed 212
eq "more enqueued" "$(enqueue "$T/more.jsonl")" "$N"
fail_statements "NEW.status = 'delivered'" "e2e: could not extend file: No space left on device"
wait_until 30 "acks came back true and could not be recorded" \
	grep -q "op=mark_delivered" "${RELAY_LOG[r1]}"
sleep 2
unfail_statements
# Bound: the relay retries at once; a forgotten batch would have waited
# for its lease (6 s) and its ack timeout (300 s) instead.
wait_until 20 "every row delivered or failed without a restart" settled
check "relay still running" relay_alive r1

# --- 3: recording a duplicate count fails for a while
# HEC answers its JSON success without ackId (acknowledgement off on the
# token): it indexed the batch, so every resend is a possible duplicate,
# and the statement counting it fails; the count must still reach the
# batch audit (kept and retried).
sql "CREATE FUNCTION public.e2e_no_count() RETURNS trigger LANGUAGE plpgsql AS
       \$\$ BEGIN RAISE EXCEPTION 'e2e: could not write: No space left on device'; END \$\$;
     CREATE TRIGGER e2e_no_count BEFORE UPDATE ON clawdstrike.batch FOR EACH ROW
       WHEN (NEW.duplicates_risked > OLD.duplicates_risked AND NEW.state = OLD.state)
       EXECUTE FUNCTION public.e2e_no_count();" >/dev/null || die "no_count trigger"
faults '{"no_ack_id":true}'
gen "$T/third.jsonl" 500 --seed 213
eq "third lot enqueued" "$(enqueue "$T/third.jsonl")" 500
wait_until 30 "counting duplicates failed" grep -q "op=risk_duplicates" "${RELAY_LOG[r1]}"
sleep 2
sql "DROP TRIGGER e2e_no_count ON clawdstrike.batch" >/dev/null || die "drop no_count"
faults '{"no_ack_id":false}'
wait_until 30 "every row delivered or failed" settled
stop_relay r1
eq "relay exits 0" "$STOP_RC" 0
eq "no false delivered" "$(n_false_delivered)" 0
eq "no batch left open" "$(sql "SELECT count(*) FROM clawdstrike.batch WHERE state <> 'closed'")" 0
report_figures "$(batch_dups_risked)" "every duplicate counted in the batch audit" \
	"o.status = 'delivered'"
stop_emulator
finish
