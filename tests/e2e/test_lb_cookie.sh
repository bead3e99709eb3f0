#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Load-balancer stickiness: the emulator sets Splunk's channel_cookie on
# event answers and requires it on /ack (an ack poll without it would land
# on another indexer and read false).  The relay's per-endpoint cookie jar
# carries it, so every batch is acknowledged, none times out.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hardening.sh"

N=${E2E_N:-3000}
setup_db
start_emulator --channel-cookie splunkd_lb_channel --require-channel-cookie
gen "$T/events.jsonl" "$N" --seed 28
eq "enqueued" "$(enqueue "$T/events.jsonl")" "$N"
CFG_BATCH_SIZE=100
CFG_ACK_TIMEOUT_S=20
start_relay r1
wait_until 60 "all $N delivered" all_delivered
stop_relay r1
eq "relay exits 0" "$STOP_RC" 0
eq "no ack poll without the cookie" "$(counter .ack_cookie_misses)" 0
ge "ack polls answered" "$(counter .ack_polls)" 1
eq "every ack id came back true" "$(counter .acks_true)" "$(counter .acks_issued)"
eq "every batch closed as acked" "$(sql "SELECT count(*) FROM clawdstrike.batch
    WHERE NOT (state = 'closed' AND outcome = 'acked')")" 0
eq "no duplicates risked" "$(batch_dups_risked)" 0
report_figures 0 "every batch acknowledged"
stop_emulator
finish
