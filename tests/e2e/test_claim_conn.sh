#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Claims run on a connection of their own (application_name ending in
# "-claim"), one in flight while the relay sends the previous batch.
#
# 1. That connection's backend is killed again and again while claims are
#    in flight (pg_terminate_backend every 200 ms for 5 s of a 20,000-event
#    drain; a test-only trigger makes each claim take ~50 ms): a cut claim's
#    outcome is unknown, so rows it may have claimed are held by nobody
#    until their lease expires and recovery takes them back.  Nothing is
#    lost or marked delivered that HEC does not hold, every duplicate is
#    counted in the batch audit, and every row is delivered in the end.
# 2. SIGTERM while claims are in flight: the claim's rows go back to
#    pending with the queued posts; no row is left sending.
. "$(dirname "$0")/lib.sh"

N=20000
setup_db
start_emulator --lossy --ack-delay-ms 100
gen "$T/events.jsonl" "$N" --seed 311
eq "enqueued" "$(enqueue_fast "$T/events.jsonl")" "$N"
# Every 50th row claimed sleeps 10 ms: a claim of 250 rows takes ~50 ms.
sql "CREATE FUNCTION public.e2e_slow() RETURNS trigger LANGUAGE plpgsql AS
       \$\$ BEGIN PERFORM pg_sleep(0.01); RETURN NEW; END \$\$;
     CREATE TRIGGER e2e_slow BEFORE UPDATE ON clawdstrike.outbox_state
       FOR EACH ROW WHEN (OLD.status = 'pending' AND NEW.status = 'sending'
                          AND NEW.id % 50 = 0)
       EXECUTE FUNCTION public.e2e_slow();" >/dev/null || die "slow trigger"
CFG_BATCH_SIZE=250
CFG_LEASE_S=6
CFG_TIMEOUT_MS=4000
start_relay r1
wait_until 60 "relay busy" sql_ge 1000 \
	"SELECT count(*) FROM clawdstrike.outbox WHERE status = 'delivered'"

# --- 1: kill the claim connection, repeatedly
say "killing the claim connection at: $(status_counts)"
KILLS=0
for ((i = 0; i < 25; i++)); do
	k=$(sql "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))
	           FROM (SELECT pid FROM pg_stat_activity
	                  WHERE datname = current_database()
	                    AND application_name LIKE '%-claim' OFFSET 0) c")
	KILLS=$((KILLS + ${k:-0}))
	sleep 0.2
done
say "killed $KILLS claim backends: $(status_counts)"
ge "claim backends killed" "$KILLS" 10
check "claims were cut" grep -q 'op=claim' "$T/relay-r1.log"
check "the claim connection reconnected" grep -q 'database reconnected.*conn=claim' "$T/relay-r1.log"
check "relay still running" relay_alive r1
check "the main connection was never cut" bash -c "! grep -q 'conn=main' '$T/relay-r1.log'"
wait_until 90 "all delivered (cut claims' rows taken back)" all_delivered
eq "no false delivered" "$(n_false_delivered)" 0

# --- 2: SIGTERM while a claim is in flight
gen "$T/more.jsonl" 5000 --seed 312
eq "more enqueued" "$(enqueue_fast "$T/more.jsonl")" 5000
wait_until 30 "relay busy again" sql_ge $((N + 500)) \
	"SELECT count(*) FROM clawdstrike.outbox WHERE status = 'delivered'"
stop_relay r1
say "stopped in ${STOP_SECS}s: $(status_counts)"
eq "relay exits 0" "$STOP_RC" 0
eq "no row left sending" "$(count_status sending)" 0
eq "no batch left claimed" "$(sql "SELECT count(*) FROM clawdstrike.batch WHERE state = 'claimed'")" 0
sql "DROP TRIGGER e2e_slow ON clawdstrike.outbox_state" >/dev/null || die "drop slow trigger"
start_relay r1
wait_until 60 "all delivered after restart" all_delivered
stop_relay r1
eq "second exit status 0" "$STOP_RC" 0
eq "no false delivered" "$(n_false_delivered)" 0
report_figures "$(batch_dups_risked)" "every duplicate counted in the batch audit"
stop_emulator
finish
