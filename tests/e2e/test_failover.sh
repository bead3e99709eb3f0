#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Failover: two emulators as two hec_urls; the one taking the traffic is
# killed (SIGKILL) mid-run with acks pending.  Sends move to the other one;
# batches that were awaiting acks on the dead endpoint come back after
# ack.timeout_s and are resent, counted as duplicates risked.  Nothing is
# lost and duplicates stay within what the relay counted.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hardening.sh"

N=${E2E_N:-20000}
setup_db
start_emulator --ack-delay-ms 700
A_URL=$BASE
start_emulator_b b
gen "$T/events.jsonl" "$N" --seed 24
eq "enqueued" "$(enqueue "$T/events.jsonl")" "$N"
CFG_BATCH_SIZE=100
CFG_ACK_TIMEOUT_S=4
CFG_EXTRA_SPLUNK="    rate_limit:
      requests_per_second: 25"
BASE="[$A_URL, $EURL_b]"
write_config r1
BASE=$A_URL
start_relay r1
wait_until 60 "emulator A indexed 4000" bash -c "[ \$(wc -l <'$OUT') -ge 4000 ]"
PENDING_ACKS=$(counter .pending_acks)
say "killing emulator A: $(out_lines) indexed there, $PENDING_ACKS acks pending"
kill -KILL "$EMU_PID"
wait "$EMU_PID" 2>/dev/null
EMU_PID=
A_LINES=$(out_lines)
wait_until 120 "all $N delivered" all_delivered
stop_relay r1
eq "relay exits 0" "$STOP_RC" 0
say "relay stats: $(grep 'relay stopped' "${RELAY_LOG[r1]}" | tail -1)"

B_LINES=$(wc -l <"$T/indexed-b.jsonl")
ge "emulator B took over" "$B_LINES" 1
check "the relay logged the failed requests to A" log_has r1 'HEC request failed'
TIMED_OUT=$(sql "SELECT count(*) FROM clawdstrike.batch WHERE outcome IN ('ack_timeout', 'response_lost')")
ge "batches pending on A came back (ack timeout or lost response)" "$TIMED_OUT" 1
eq "nothing dead-lettered" "$(n_dead_letters)" 0
RISKED=$(batch_dups_risked)
cat "$T/indexed.jsonl" "$T/indexed-b.jsonl" >"$T/all.jsonl"
OUT=$T/all.jsonl
say "A indexed $A_LINES, B indexed $B_LINES, duplicates risked $RISKED"
report_figures "$RISKED" "only batches A may have indexed without an ack are resent (duplicates_risked)"
kill -TERM "$EPID_b"
rc=0
wait "$EPID_b" || rc=$?
eq "emulator B exits 0" "$rc" 0
finish
