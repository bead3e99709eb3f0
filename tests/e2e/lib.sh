# SPDX-License-Identifier: Apache-2.0
# Shared fixture of the end-to-end tests (sourced, not run).
#
# Every test gets: a fresh database migrated by the real binary, the real
# hec-emulator on a free port recording what it indexed (JSON Lines), a
# relay.yaml per relay instance, and the real `clawdstrike-relay run`
# started and stopped by the helpers below.  PostgreSQL comes from the
# environment (PG* variables, e.g. inside pg_virtualenv).
#
# Environment: RELAY_BIN, HEC_EMULATOR, GEN_EVENTS (tools/gen-events.py).
#
# Figures: `lost` = event_ids that should have reached HEC but are not in
# the emulator's output; `duplicates` = output lines minus distinct
# event_ids.  Every test prints "lost=N duplicates=M" with the bound it
# asserts, and ends with "N passed, M failed".  Logs of every process are
# kept under the test's temp dir and printed when a check fails.
set -u
set -o pipefail

RELAY=${RELAY_BIN:-}
EMU=${HEC_EMULATOR:-}
GEN=${GEN_EVENTS:-}
if [ -z "$RELAY" ] || [ -z "$EMU" ] || [ -z "$GEN" ]; then
	echo "RELAY_BIN, HEC_EMULATOR and GEN_EVENTS must be set" >&2
	exit 2
fi

TEST_NAME=$(basename "$0" .sh)
T=$(mktemp -d "${TMPDIR:-/tmp}/e2e-$TEST_NAME.XXXXXX")
OUT=$T/indexed.jsonl
TOKEN=e2e0c0de-1111-2222-3333-444455556666
export E2E_HEC_TOKEN=$TOKEN
DB=$(printf 'e2e_%s_%s' "$TEST_NAME" "$$" | tr -c 'a-zA-Z0-9_\n' _)
export PGDATABASE=$DB
PASS=0
FAIL=0
EMU_PID=
PORT=
BASE=
LOST=
DUPS=
OUT_LINES=
declare -A RELAY_PID=()
declare -A RELAY_LOG=()
declare -A RELAY_CFG=()
T0=$(date +%s.%N)

# calc EXPR: floating-point arithmetic (awk); is EXPR: its truth.
calc() {
	awk "BEGIN { printf \"%.3f\", $1 }"
}

is() {
	awk "BEGIN { exit !($1) }"
}

say() {
	printf '[%6.1fs] %s\n' "$(calc "$(date +%s.%N) - $T0")" "$*"
}

# ------------------------------------------------------------ results

LOGS_SHOWN=
show_logs() {
	local f
	LOGS_SHOWN=1
	for f in "$T"/*.log; do
		[ -e "$f" ] || continue
		echo "----- $(basename "$f") (last 60 lines) -----" >&2
		tail -60 "$f" >&2
	done
}

ok() {
	PASS=$((PASS + 1))
	echo "ok: $1"
}

bad() {
	FAIL=$((FAIL + 1))
	echo "FAIL: $1" >&2
}

# check DESC COMMAND...: passes when the command succeeds.
check() {
	local desc=$1
	shift
	if "$@"; then ok "$desc"; else bad "$desc"; fi
}

# eq DESC GOT WANT / le DESC GOT MAX / ge DESC GOT MIN
eq() {
	if [ "$2" = "$3" ]; then ok "$1 ($2)"; else bad "$1: got '$2', want '$3'"; fi
}

le() {
	if [ "$2" -le "$3" ]; then ok "$1 ($2 <= $3)"; else bad "$1: got $2, want <= $3"; fi
}

ge() {
	if [ "$2" -ge "$3" ]; then ok "$1 ($2 >= $3)"; else bad "$1: got $2, want >= $3"; fi
}

# sanitizer_reports: fail for every ASan/UBSan/LSan report in our logs
# (a -DRELAY_SANITIZE=ON build aborts at the first one).
sanitizer_reports() {
	local f
	for f in "$T"/*.log; do
		[ -e "$f" ] || continue
		if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$f"; then
			bad "sanitizer report in $(basename "$f")"
		fi
	done
}

finish() {
	stop_all
	sanitizer_reports
	echo "$PASS passed, $FAIL failed"
	if [ "$FAIL" -ne 0 ]; then
		show_logs
		echo "logs kept in $T" >&2
		exit 1
	fi
	exit 0
}

# ------------------------------------------------------------ cleanup

stop_all() {
	local name
	for name in "${!RELAY_PID[@]}"; do
		if [ -n "${RELAY_PID[$name]}" ] &&
			kill -0 "${RELAY_PID[$name]}" 2>/dev/null; then
			kill -KILL "${RELAY_PID[$name]}" 2>/dev/null
			wait "${RELAY_PID[$name]}" 2>/dev/null
		fi
		RELAY_PID[$name]=
	done
	if [ -n "$EMU_PID" ] && kill -0 "$EMU_PID" 2>/dev/null; then
		kill -TERM "$EMU_PID" 2>/dev/null
		wait "$EMU_PID" 2>/dev/null
	fi
	EMU_PID=
}

cleanup() {
	local rc=$?
	stop_all
	dropdb --if-exists "$DB" >/dev/null 2>&1
	if [ "$rc" -eq 0 ] && [ "$FAIL" -eq 0 ]; then
		rm -rf "$T"
	elif [ -z "$LOGS_SHOWN" ]; then
		# Died before finish(): show what we have.
		show_logs
		echo "logs kept in $T" >&2
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
	echo "FATAL: $*" >&2
	FAIL=$((FAIL + 1))
	stop_all
	show_logs
	echo "$PASS passed, $FAIL failed"
	echo "logs kept in $T" >&2
	exit 1
}

# ------------------------------------------------------------ waiting

# wait_until SECONDS DESC COMMAND...: poll every 0.2 s until COMMAND
# succeeds (a function or command run each time); on timeout counts a
# failure and returns 1.
wait_until() {
	local limit=$1 desc=$2 end
	shift 2
	end=$(($(date +%s%N) / 1000000 + limit * 1000))
	while ! "$@"; do
		if [ "$(($(date +%s%N) / 1000000))" -ge "$end" ]; then
			bad "timeout after ${limit}s waiting for: $desc"
			return 1
		fi
		sleep 0.2
	done
	return 0
}

# ------------------------------------------------------------ database

sql() {
	psql -X -A -t -q -v ON_ERROR_STOP=1 -c "$1"
}

setup_db() {
	dropdb --if-exists "$DB" >/dev/null 2>&1
	createdb "$DB" || die "createdb $DB"
	"$RELAY" migrate >"$T/migrate.log" 2>&1 || die "migrate failed"
	sql "CREATE TABLE public.e2e_load (j jsonb);
	     CREATE TABLE public.e2e_out (event_id uuid);" ||
		die "cannot create helper tables"
}

count_status() {
	sql "SELECT count(*) FROM clawdstrike.outbox WHERE status = '$1'"
}

# status_counts: "pending=.. sending=.. sent=.. delivered=.. failed=.."
status_counts() {
	sql "SELECT string_agg(s || '=' || coalesce(n, 0), ' ' ORDER BY k)
	       FROM unnest(ARRAY['pending','sending','sent','delivered','failed'])
	            WITH ORDINALITY AS u(s, k)
	       LEFT JOIN (SELECT status, count(*) n FROM clawdstrike.outbox
	                   GROUP BY status) c ON c.status = u.s"
}

# sql_is VALUE QUERY: the query's result is VALUE (for wait_until).
sql_is() {
	[ "$(sql "$2" 2>/dev/null)" = "$1" ]
}

# sql_ge MIN QUERY: the query's integer result is >= MIN.
sql_ge() {
	local v
	v=$(sql "$2" 2>/dev/null) && [ -n "$v" ] && [ "$v" -ge "$1" ]
}

all_delivered() {
	[ "$(sql "SELECT count(*) FROM clawdstrike.outbox
	           WHERE status <> 'delivered'")" = 0 ]
}

# n_outbox: rows in the outbox.
n_outbox() {
	sql "SELECT count(*) FROM clawdstrike.outbox"
}

# gen FILE N [gen-events options]: realistic events as JSON Lines.
gen() {
	local file=$1 n=$2
	shift 2
	python3 "$GEN" "$n" "$@" >"$file" || die "gen-events failed"
}

# enqueue FILE: load JSON Lines through clawdstrike.enqueue() (validation,
# idempotence: the engine's own path).  Prints the number of rows.
enqueue() {
	local file=$1
	sql "TRUNCATE public.e2e_load" || die "truncate e2e_load"
	psql -X -q -v ON_ERROR_STOP=1 -c "\\copy public.e2e_load(j) FROM '$file' WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')" ||
		die "copy $file"
	sql "SELECT count(clawdstrike.enqueue(j)) FROM public.e2e_load" ||
		die "enqueue $file"
}

# enqueue_fast FILE: bulk load for large backlogs, straight into the
# outbox's tables (sql/20_outbox.sql), as clawdstrike.outbox_add() writes
# them but without its per-row validation (superuser only).  The events
# come from gen-events.py and the relay validates every event again before
# sending.
enqueue_fast() {
	local file=$1
	sql "TRUNCATE public.e2e_load" || die "truncate e2e_load"
	psql -X -q -v ON_ERROR_STOP=1 -c "\\copy public.e2e_load(j) FROM '$file' WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')" ||
		die "copy $file"
	psql -X -A -t -q -v ON_ERROR_STOP=1 <<-'EOF' || die "fast load $file"
		WITH e AS (
		  INSERT INTO clawdstrike.outbox_event (event_id, event)
		  SELECT (j->>'event_id')::uuid, j::json FROM public.e2e_load
		  RETURNING id, event),
		s AS (
		  INSERT INTO clawdstrike.outbox_state (id, priority)
		  SELECT e.id, clawdstrike.severity_priority(e.event #>> '{decision,severity}') FROM e
		  RETURNING 1)
		SELECT count(*) FROM s;
	EOF
}

# ------------------------------------------------------------ emulator

# start_emulator ARGS...: on a free port, recording into $OUT.  The
# default token is $TOKEN with acks on; pass --token to replace it.
start_emulator() {
	local args=("$@") has_token=0 a
	for a in "${args[@]}"; do
		[ "$a" = --token ] && has_token=1
	done
	[ "$has_token" = 1 ] || args+=(--token "$TOKEN")
	rm -f "$T/port"
	"$EMU" --listen 127.0.0.1:0 --port-file "$T/port" --output "$OUT" \
		--ack "${args[@]}" >>"$T/emulator.log" 2>&1 &
	EMU_PID=$!
	wait_until 30 "emulator port file" test -s "$T/port" ||
		die "emulator did not start"
	PORT=$(cat "$T/port")
	BASE=http://127.0.0.1:$PORT
}

stop_emulator() {
	local rc=0
	kill -TERM "$EMU_PID"
	wait "$EMU_PID" || rc=$?
	EMU_PID=
	eq "emulator exits 0" "$rc" 0
}

# control METHOD PATH [JSON]: the emulator's control API; prints the body.
control() {
	if [ $# -ge 3 ]; then
		curl -sf -X "$1" --data-binary "$3" "$BASE/emulator/$2"
	else
		curl -sf -X "$1" "$BASE/emulator/$2"
	fi
}

faults() {
	control POST faults "$1" >/dev/null || die "faults $1"
}

# counter FILTER: one value of GET /emulator/counters (jq filter).
counter() {
	control GET counters | jq -r "$1"
}

out_lines() {
	if [ -e "$OUT" ]; then wc -l <"$OUT" | tr -d ' '; else echo 0; fi
}

# ------------------------------------------------------------ relay

# write_config NAME: $T/NAME.yaml for instance NAME, from the CFG_*
# variables (defaults below; tests override them before calling).
write_config() {
	local name=$1 f=$T/$1.yaml
	cat >"$f" <<EOF
database:
  url: ""
relay:
  instance_id: $name
  lease_s: ${CFG_LEASE_S:-30}
  max_in_flight: ${CFG_MAX_IN_FLIGHT:-4}
metrics:
  listen: "${CFG_METRICS_LISTEN:-}"
log:
  level: ${CFG_LOG_LEVEL:-info}
retention:
  delivered_days: 0
exporters:
  splunk:
    enabled: true
    hec_url: $BASE
    hec_token: \${E2E_HEC_TOKEN}
    index: ${CFG_INDEX:-security}
    sourcetype: clawdstrike:security
    source: clawdstrike
    host: e2e-host
    use_ack: ${CFG_USE_ACK:-true}
    compression: true
    batch:
      size: ${CFG_BATCH_SIZE:-200}
      flush_interval_ms: ${CFG_FLUSH_MS:-100}
    ack:
      poll_interval_ms: ${CFG_ACK_POLL_MS:-200}
      timeout_s: ${CFG_ACK_TIMEOUT_S:-300}
    retry:
      initial_backoff_ms: ${CFG_RETRY_INITIAL_MS:-50}
      max_backoff_ms: ${CFG_RETRY_MAX_MS:-1000}
    connection:
      timeout_ms: ${CFG_TIMEOUT_MS:-10000}
${CFG_EXTRA_SPLUNK:-}
EOF
	RELAY_CFG[$name]=$f
}

# start_relay NAME: run instance NAME (config written if missing); its
# stderr goes to $T/relay-NAME.log (appended across restarts).
start_relay() {
	local name=$1
	[ -n "${RELAY_CFG[$name]:-}" ] || write_config "$name"
	RELAY_LOG[$name]=$T/relay-$name.log
	echo "=== start $(date +%T.%N)" >>"${RELAY_LOG[$name]}"
	"$RELAY" -c "${RELAY_CFG[$name]}" run >>"${RELAY_LOG[$name]}" 2>&1 &
	RELAY_PID[$name]=$!
}

relay_alive() {
	[ -n "${RELAY_PID[$1]:-}" ] && kill -0 "${RELAY_PID[$1]}" 2>/dev/null
}

# kill_relay NAME: SIGKILL, no goodbye.
kill_relay() {
	local pid=${RELAY_PID[$1]:-} rc=0
	[ -n "$pid" ] || return 0
	if ! kill -0 "$pid" 2>/dev/null; then
		wait "$pid" 2>/dev/null || rc=$?
		bad "relay $1 died by itself (exit $rc) before kill -9"
	fi
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	RELAY_PID[$1]=
	echo "=== killed -9 $(date +%T.%N)" >>"${RELAY_LOG[$1]}"
}

# stop_relay NAME [SECONDS]: SIGTERM, wait up to SECONDS (default 40);
# sets STOP_RC (exit status; 124 when it had to be killed) and
# STOP_SECS (how long it took).
stop_relay() {
	local name=$1 limit=${2:-40} pid=${RELAY_PID[$1]:-} t0 i
	STOP_RC=0
	STOP_SECS=0
	[ -n "$pid" ] || return 0
	t0=$(date +%s.%N)
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < limit * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		STOP_RC=124
	else
		wait "$pid" 2>/dev/null || STOP_RC=$?
	fi
	STOP_SECS=$(calc "$(date +%s.%N) - $t0")
	RELAY_PID[$name]=
	echo "=== stopped rc=$STOP_RC $(date +%T.%N)" >>"${RELAY_LOG[$name]}"
}

# ------------------------------------------------------------ figures

# load_output: the emulator's output into public.e2e_out (event_id per
# indexed line); sets OUT_LINES.
load_output() {
	OUT_LINES=$(out_lines)
	sql "TRUNCATE public.e2e_out" || die "truncate e2e_out"
	if [ "$OUT_LINES" -gt 0 ]; then
		jq -r '.event.event_id' "$OUT" >"$T/out_ids.txt" ||
			die "output is not JSON Lines"
		psql -X -q -v ON_ERROR_STOP=1 \
			-c "\\copy public.e2e_out(event_id) FROM '$T/out_ids.txt'" ||
			die "load output ids"
	fi
}

# figures [PREDICATE]: LOST = outbox rows matching PREDICATE (SQL over
# outbox o; default every row) whose event_id HEC does not hold;
# DUPS = indexed lines minus distinct event_ids.
figures() {
	local pred=${1:-true}
	load_output
	LOST=$(sql "SELECT count(*) FROM clawdstrike.outbox o
	             WHERE ($pred) AND NOT EXISTS
	               (SELECT 1 FROM public.e2e_out x WHERE x.event_id = o.event_id)")
	DUPS=$(sql "SELECT count(*) - count(DISTINCT event_id) FROM public.e2e_out")
}

# report_figures DUP_BOUND EXPLANATION [PREDICATE]: print and assert
# lost=0 and duplicates <= DUP_BOUND.
report_figures() {
	local bound=$1 why=$2
	figures "${3:-true}"
	echo "lost=$LOST duplicates=$DUPS (bound: lost=0, duplicates<=$bound: $why)"
	eq "lost" "$LOST" 0
	le "duplicates within bound" "$DUPS" "$bound"
}

# poison_routing: HEC rejects some events with code 7 (start the emulator
# with --token "$TOKEN,indexes=security:alerts"): a routing rule sends
# critical events of the secrets guard to the index `forbidden`.  Sets
# POISON (the SQL predicate over the outbox naming them) and the routing.
poison_routing() {
	POISON="event #>> '{decision,guard}' = 'secrets' AND event #>> '{decision,severity}' = 'critical'"
	CFG_EXTRA_SPLUNK="    routing:
      - condition: guard == 'secrets' and severity == 'critical'
        index: forbidden
      - condition: severity == 'critical'
        index: alerts"
}

# n_false_delivered: rows marked delivered whose event HEC does not hold
# (with --lossy, the emulator's output is what is durable).  Must be 0.
n_false_delivered() {
	load_output
	sql "SELECT count(*) FROM clawdstrike.outbox o
	      WHERE o.status = 'delivered' AND NOT EXISTS
	        (SELECT 1 FROM public.e2e_out x WHERE x.event_id = o.event_id)"
}

# fail_statements PREDICATE MESSAGE: a test-only trigger makes every
# UPDATE of an outbox state row (clawdstrike.outbox_state) whose new state
# matches PREDICATE (over NEW) fail with MESSAGE, as a statement_timeout, a
# read-only standby or a full disk would; unfail_statements removes it.
fail_statements() {
	sql "CREATE OR REPLACE FUNCTION public.e2e_fail() RETURNS trigger
	     LANGUAGE plpgsql AS \$\$ BEGIN
	       RAISE EXCEPTION '$2' USING ERRCODE = '57014'; END \$\$;
	     DROP TRIGGER IF EXISTS e2e_fail ON clawdstrike.outbox_state;
	     CREATE TRIGGER e2e_fail BEFORE UPDATE ON clawdstrike.outbox_state
	       FOR EACH ROW WHEN ($1) EXECUTE FUNCTION public.e2e_fail();" ||
		die "cannot install the failing trigger"
}

unfail_statements() {
	sql "DROP TRIGGER IF EXISTS e2e_fail ON clawdstrike.outbox_state" ||
		die "cannot drop the failing trigger"
}

# batch_dups_risked: sum of clawdstrike.batch.duplicates_risked.
batch_dups_risked() {
	sql "SELECT coalesce(sum(duplicates_risked), 0) FROM clawdstrike.batch"
}

n_dead_letters() {
	sql "SELECT count(*) FROM clawdstrike.dead_letter"
}

# load_output_full: every indexed line into public.e2e_full(j jsonb, line
# text), for envelope checks.
load_output_full() {
	sql "CREATE TABLE IF NOT EXISTS public.e2e_full (n bigserial, j jsonb);
	     TRUNCATE public.e2e_full" || die "e2e_full"
	psql -X -q -v ON_ERROR_STOP=1 -c "\\copy public.e2e_full(j) FROM '$OUT' WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')" ||
		die "load output"
}

# long_test: tests labelled e2e-long run only with E2E_LONG=1 (ctest
# reports them as skipped otherwise, exit 77).
long_test() {
	if [ "${E2E_LONG:-0}" != 1 ]; then
		echo "skipped: set E2E_LONG=1 to run this long test"
		trap - EXIT
		rm -rf "$T"
		exit 77
	fi
}
