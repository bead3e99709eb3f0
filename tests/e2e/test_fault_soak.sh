#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Long (label e2e-long; runs only with E2E_LONG=1): a randomized fault
# soak.  Two relays deliver a steady stream while, at random:
#  - a test-only trigger makes a share of the statements on the outbox and
#    batch tables fail (as a statement_timeout or a full disk would);
#  - answers are cut after indexing (event posts and ack polls);
#  - HEC restarts in lossy mode (events not yet acknowledged are lost,
#    ack ids start again at 0);
#  - a relay is killed with SIGKILL and started again.
# Then the faults stop, and within a bound derived from the lease and the
# ack timeout everything must settle: every `delivered` row's event is in
# HEC's durable output, nothing is lost, nothing dead-lettered, every
# duplicate is counted in the batch audit, no batch is left open.
# SOAK_S (default 180) sets the faulty phase; SOAK_SEED the draws.
. "$(dirname "$0")/lib.sh"
long_test

SOAK_S=${SOAK_S:-180}
RANDOM=${SOAK_SEED:-4242}
setup_db
start_emulator --lossy --ack-delay-ms 200 --ack-jitter-ms 400 --seed "${SOAK_SEED:-4242}"
CFG_BATCH_SIZE=100
CFG_LEASE_S=6
CFG_TIMEOUT_MS=4000
CFG_ACK_TIMEOUT_S=10
CFG_MAX_IN_FLIGHT=4

# A share of the statements on the queue tables fail: statement triggers
# on the outbox (every relay transition updates it) and the batch table,
# installed once; the share is a row in public.e2e_rate (changing it by
# DDL mid-run would deadlock with the relays' own statements).
sql "CREATE TABLE public.e2e_rate (r float8 NOT NULL);
     INSERT INTO public.e2e_rate VALUES (0);
     GRANT SELECT ON public.e2e_rate TO PUBLIC;
     CREATE FUNCTION public.e2e_flaky() RETURNS trigger
     LANGUAGE plpgsql AS \$\$ BEGIN
       IF random() < (SELECT r FROM public.e2e_rate) THEN
         RAISE EXCEPTION 'e2e: canceling statement due to statement timeout'
           USING ERRCODE = '57014';
       END IF;
       RETURN NULL; END \$\$;
     CREATE TRIGGER e2e_flaky BEFORE UPDATE ON clawdstrike.outbox_state
       FOR EACH STATEMENT EXECUTE FUNCTION public.e2e_flaky();
     CREATE TRIGGER e2e_flaky BEFORE INSERT OR UPDATE ON clawdstrike.batch
       FOR EACH STATEMENT EXECUTE FUNCTION public.e2e_flaky();" >/dev/null ||
	die "cannot install the flaky triggers"
flaky() {
	sql "UPDATE public.e2e_rate SET r = $1" >/dev/null || die "flaky $1"
}
steady() {
	flaky 0
}

start_relay r1
start_relay r2
flaky 0.03
END_T=$(($(date +%s) + SOAK_S))
seed=1000
kills=0 restarts=0 cuts=0
while [ "$(date +%s)" -lt "$END_T" ]; do
	gen "$T/chunk.jsonl" $((200 + RANDOM % 800)) --seed $((seed++))
	enqueue "$T/chunk.jsonl" >/dev/null || die "enqueue"
	case $((RANDOM % 8)) in
	0) faults "{\"drop_next\":$((1 + RANDOM % 3))}"; cuts=$((cuts + 1)) ;;
	1) faults "{\"drop_ack_next\":$((1 + RANDOM % 2))}"; cuts=$((cuts + 1)) ;;
	2) control POST restart >/dev/null || die "restart"; restarts=$((restarts + 1)) ;;
	3) r=r$((1 + RANDOM % 2)); kill_relay "$r"; start_relay "$r"; kills=$((kills + 1)) ;;
	4) flaky "0.0$((RANDOM % 8))" ;;
	*) ;;
	esac
	sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.2f", 0.5 + r / 32768 * 1.5 }')"
done
say "faults stop: kills=$kills HEC restarts=$restarts cuts=$cuts; $(status_counts)"
steady
faults '{"drop_next":0,"drop_ack_next":0}'
# Bound: an orphaned batch waits for its lease (6 s) and the next periodic
# recovery (lease/2), a sent one for its ack timeout (10 s); then a resend
# and its ack (< 1 s).  Twice that sum, for a loaded machine.
BOUND=$((2 * (CFG_LEASE_S + CFG_LEASE_S / 2 + CFG_ACK_TIMEOUT_S + 1)))
wait_until "$BOUND" "everything delivered within $BOUND s of the faults stopping" all_delivered
say "settled: $(status_counts)"
sleep 1
stop_relay r1
stop_relay r2
eq "no row delivered that HEC does not hold" "$(n_false_delivered)" 0
eq "no batch left open" "$(sql "SELECT count(*) FROM clawdstrike.batch WHERE state <> 'closed'")" 0
eq "no dead letters" "$(n_dead_letters)" 0
RISKED=$(batch_dups_risked)
report_figures "$RISKED" "every duplicate counted in the batch audit"
say "duplicates risked (batch audit) $RISKED; events $(n_outbox); HEC lost to restarts $(counter .events_lost_in_restart)"
stop_emulator
finish
