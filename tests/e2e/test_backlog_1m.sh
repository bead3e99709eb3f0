#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Long (label e2e-long; runs only with E2E_LONG=1): a 1,000,000-event
# backlog on disk, a HEC outage (nothing listening: connection refused)
# while the relay starts, then HEC comes back on the same port and the
# backlog drains.  An outage never dead-letters anything and a refused
# connection indexed nothing: lost=0, duplicates=0.  Prints the drain rate.
. "$(dirname "$0")/lib.sh"
long_test

N=${E2E_N:-1000000}
CHUNK=250000
OUTAGE_S=15
setup_db
for ((i = 0; i < N; i += CHUNK)); do
	n=$((N - i < CHUNK ? N - i : CHUNK))
	gen "$T/chunk.jsonl" "$n" --seed $((161 + i / CHUNK))
	enqueue_fast "$T/chunk.jsonl" >/dev/null
done
rm -f "$T/chunk.jsonl"
eq "backlog enqueued" "$(n_outbox)" "$N"
say "backlog of $N enqueued"
# Learn a free port, then take HEC down for the outage.
start_emulator
kill -TERM "$EMU_PID"
wait "$EMU_PID"
EMU_PID=
CFG_BATCH_SIZE=500
CFG_MAX_IN_FLIGHT=8
CFG_RETRY_MAX_MS=2000
start_relay r1
sleep "$OUTAGE_S"
eq "nothing sent during the outage" "$(count_status delivered)" 0
eq "nothing dead-lettered during the outage" "$(n_dead_letters)" 0
check "relay rode out the outage" relay_alive r1
"$EMU" --listen "127.0.0.1:$PORT" --output "$OUT" --ack --token "$TOKEN" \
	>>"$T/emulator.log" 2>&1 &
EMU_PID=$!
wait_until 30 "emulator back" curl -sf "$BASE/services/collector/health" -o /dev/null
t0=$(date +%s.%N)
say "HEC back: draining"
progress() {
	local d
	d=$(count_status delivered)
	say "delivered $d"
	[ "$d" = "$N" ]
}
wait_until 1500 "backlog drained" eval 'sleep 10; progress'
secs=$(calc "$(date +%s.%N) - $t0")
say "drained $N events in ${secs}s: $(calc "$N / $secs") events/s"
stop_relay r1
eq "relay exits 0" "$STOP_RC" 0
report_figures 0 "an outage delays, never duplicates: nothing reached HEC before it came back"
eq "no dead letters" "$(n_dead_letters)" 0
stop_emulator
finish
