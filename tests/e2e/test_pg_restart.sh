#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# PostgreSQL restarted mid-run (pg_ctl restart -m fast: every connection
# is cut): the relay reconnects and re-runs the statement it was in
# (each is idempotent), so nothing is lost or stuck.  Duplicate bound: a
# send whose mark_sent is cut by the restart is retried with the same ack
# id, so no duplicates are expected; the stated bound is one in-flight
# window (max_in_flight x batch.size), and every duplicate must be
# counted in the batch audit.
. "$(dirname "$0")/lib.sh"

N=30000
setup_db
start_emulator --ack-delay-ms 100
gen "$T/events.jsonl" "$N" --seed 111
eq "enqueued" "$(enqueue_fast "$T/events.jsonl")" "$N"
CFG_BATCH_SIZE=250
CFG_MAX_IN_FLIGHT=4
start_relay r1
wait_until 60 "relay busy" sql_ge 4000 \
	"SELECT count(*) FROM clawdstrike.outbox WHERE status = 'delivered'"
say "restarting PostgreSQL at: $(status_counts)"
DATA=$(sql "SHOW data_directory")
MAJOR=$(sql "SELECT current_setting('server_version_num')::int / 10000")
PG_CTL=/usr/lib/postgresql/$MAJOR/bin/pg_ctl
OWNER=$(stat -c %U "$DATA")
if [ "$(id -un)" = "$OWNER" ]; then
	"$PG_CTL" restart -D "$DATA" -m fast -w -t 60 >"$T/pg_ctl.log" 2>&1
else
	runuser -u "$OWNER" -- "$PG_CTL" restart -D "$DATA" -m fast -w -t 60 >"$T/pg_ctl.log" 2>&1
fi
eq "pg_ctl restart" "$?" 0
say "PostgreSQL back: $(status_counts)"
check "relay survived the restart" relay_alive r1
wait_until 90 "all delivered" all_delivered
say "done: $(status_counts)"
check "relay logged the reconnect" grep -q 'database reconnected' "$T/relay-r1.log"
stop_relay r1
eq "relay exits 0" "$STOP_RC" 0
report_figures $((CFG_MAX_IN_FLIGHT * CFG_BATCH_SIZE)) "one in-flight window; statements are retried idempotently after the reconnect"
le "duplicates accounted in the batch audit" "$DUPS" "$(batch_dups_risked)"
eq "no dead letters" "$(n_dead_letters)" 0
stop_emulator
finish
