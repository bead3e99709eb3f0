#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# exporters.splunk.enabled: false does what the docs say: `run` needs no
# hec_url or token, claims nothing and delivers nothing, keeps running
# (retention and metrics only), and stops cleanly on SIGTERM.
. "$(dirname "$0")/lib.sh"

setup_db disabled
cat >"$TMP/relay.yaml" <<YAML
database:
  url: ""
metrics:
  listen: ""
retention:
  delivered_days: 7
exporters:
  splunk:
    enabled: false
YAML
"$GEN_EVENTS" 10 --seed 2 >"$TMP/events.jsonl"
run enqueue "$TMP/events.jsonl"
expect_rc "enqueue" 0
"$RELAY" -c "$TMP/relay.yaml" run 2>"$TMP/run.log" &
pid=$!
sleep 3
if kill -0 "$pid" 2>/dev/null; then pass "run keeps running without hec_url"; else
	fail "run exited" "$(cat "$TMP/run.log")"; fi
expect_eq "nothing claimed" "$(sql "SELECT count(*) FROM clawdstrike.outbox WHERE status = 'pending'")" 10
expect_eq "no batch" "$(sql "SELECT count(*) FROM clawdstrike.batch")" 0
kill -TERM "$pid" 2>/dev/null
rc=0
wait "$pid" || rc=$?
expect_eq "exits 0 on SIGTERM" "$rc" 0
expect_match "says delivery is disabled" "$(cat "$TMP/run.log")" "delivery disabled"
finish
