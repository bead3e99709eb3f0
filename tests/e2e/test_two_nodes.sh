#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Two HEC nodes behind a balancer that is not sticky (emulator --nodes 2:
# requests alternate between two independent ack states, both issuing ids
# from 0 on the same channel), lossy, restarted mid-run with the next
# answer cut.  A poll may land on the node that never saw the request, and
# the other node's id 0 answers for another request: the relay must see
# the id issued twice, retire the channel, and then send one request per
# channel (no id can answer for another), so it still delivers.  No row is
# delivered that HEC does not hold; every duplicate is counted.
. "$(dirname "$0")/lib.sh"

N=6000
setup_db
start_emulator --lossy --nodes 2 --ack-delay-ms 200
gen "$T/events.jsonl" "$N" --seed 251
eq "enqueued" "$(enqueue "$T/events.jsonl")" "$N"
CFG_BATCH_SIZE=100
CFG_ACK_TIMEOUT_S=5
start_relay r1
wait_until 60 "a third delivered" sql_ge $((N / 3)) \
	"SELECT count(*) FROM clawdstrike.outbox WHERE status = 'delivered'"
control POST restart >/dev/null || die "restart"
faults '{"drop_next":1}'
wait_until 90 "all delivered" all_delivered
stop_relay r1
eq "relay exits 0" "$STOP_RC" 0
check "the relay saw ids issued twice" grep -q "issued an ack id twice" "${RELAY_LOG[r1]}"
eq "no row delivered that HEC does not hold" "$(n_false_delivered)" 0
report_figures "$(batch_dups_risked)" "every duplicate counted in the batch audit"
stop_emulator
finish
