#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Critical events overtake a backlog (SPEC §4 "Order"): with 50,000 info
# events queued and the relay draining them, 20 critical events enqueued
# afterwards are delivered within seconds, long before the backlog drains.
. "$(dirname "$0")/lib.sh"

N=50000
NC=20
setup_db
# 80 ms per request and 2 in flight: the backlog takes several seconds.
start_emulator --latency-ms 80
gen "$T/info.jsonl" "$N" --seed 61 --severity info
gen "$T/critical.jsonl" "$NC" --seed 62 --severity critical
eq "backlog enqueued" "$(enqueue_fast "$T/info.jsonl")" "$N"
CFG_BATCH_SIZE=250
CFG_MAX_IN_FLIGHT=2
start_relay r1
wait_until 60 "backlog draining" sql_ge 2500 \
	"SELECT count(*) FROM clawdstrike.outbox WHERE status = 'delivered'"
say "backlog draining: $(status_counts)"
eq "criticals enqueued" "$(enqueue "$T/critical.jsonl")" "$NC"
crit_done() {
	sql_is "$NC" "SELECT count(*) FROM clawdstrike.outbox
	               WHERE status = 'delivered' AND event #>> '{decision,severity}' = 'critical'"
}
wait_until 30 "criticals delivered" crit_done
say "criticals delivered: $(status_counts)"
wait_until 120 "backlog drained" all_delivered
stop_relay r1
eq "relay exits 0" "$STOP_RC" 0

CRIT_LAT=$(sql "SELECT round(extract(epoch FROM max(delivered_at - enqueued_at))::numeric, 2)
    FROM clawdstrike.outbox WHERE event #>> '{decision,severity}' = 'critical'")
BEHIND=$(sql "SELECT count(*) FROM clawdstrike.outbox
    WHERE event #>> '{decision,severity}' = 'info' AND delivered_at >
      (SELECT max(delivered_at) FROM clawdstrike.outbox WHERE event #>> '{decision,severity}' = 'critical')")
GAP=$(sql "SELECT round(extract(epoch FROM
      (SELECT max(delivered_at) FROM clawdstrike.outbox WHERE event #>> '{decision,severity}' = 'info') -
      (SELECT max(delivered_at) FROM clawdstrike.outbox WHERE event #>> '{decision,severity}' = 'critical'))::numeric, 2)")
say "critical enqueue->delivered max ${CRIT_LAT}s; $BEHIND info events delivered after the last critical; backlog drained ${GAP}s after it"
check "criticals delivered within 3 s of enqueue (${CRIT_LAT}s)" \
	is "$CRIT_LAT < 3"
ge "info events still queued behind the criticals (>= 40% of the backlog)" "$BEHIND" $((N * 4 / 10))
check "backlog drained >= 2 s after the last critical (${GAP}s)" \
	is "$GAP >= 2"
report_figures 0 "no fault: exactly once"
stop_emulator
finish
