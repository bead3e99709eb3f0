#!/usr/bin/env bash
# The docker-compose wiring without Docker: what the containers would do,
# done against the pg_virtualenv cluster with the same files.
#  - docker/postgres/10-roles.sh creates the login roles `relay`/`engine`;
#  - `clawdstrike-relay migrate` as the owner (the `migrate` service);
#  - the relay runs as role `relay` with docker/relay.yaml (PG*, HEC_URL,
#    SPLUNK_HEC_TOKEN from the environment, as in docker-compose.yml)
#    against the HEC emulator started with the compose service's token spec;
#  - events enqueued the documented ways (`clawdstrike-relay enqueue -` as
#    the owner, like the `migrate` service; clawdstrike.enqueue() as
#    `engine`) are all delivered; `status` works as `relay`;
#  - `engine` cannot read the outbox (least privilege).
#
# Env: RELAY, HEC_EMULATOR, GEN_EVENTS.  Server from PG* (pg_virtualenv).
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
: "${RELAY:?}" "${HEC_EMULATOR:?}" "${GEN_EVENTS:?}"
unset CLAWDSTRIKE_RELAY_CONFIG
db=clawdstrike_composetest
work=$(mktemp -d)
relay_pid= emu_pid=
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok - $1"; }
nok() { failed=$((failed + 1)); echo "not ok - $1"; [ -z "${2:-}" ] || sed 's/^/#   /' <<<"$2"; }
cleanup() {
	[ -n "$relay_pid" ] && kill -TERM "$relay_pid" 2>/dev/null && wait "$relay_pid" 2>/dev/null
	[ -n "$emu_pid" ] && kill -TERM "$emu_pid" 2>/dev/null && wait "$emu_pid" 2>/dev/null
	dropdb --if-exists "$db" 2>/dev/null
	psql -X -q -d postgres -c 'DROP ROLE IF EXISTS relay' -c 'DROP ROLE IF EXISTS engine' 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

su=$(psql -X -Atq -d postgres -c 'SELECT current_user')
dropdb --if-exists "$db"
createdb "$db"
export RELAY_DB_PASSWORD=relay-$RANDOM$RANDOM ENGINE_DB_PASSWORD=engine-$RANDOM$RANDOM
out=$(POSTGRES_USER=$su POSTGRES_DB=$db sh "$root/docker/postgres/10-roles.sh" 2>&1) &&
	ok "docker/postgres/10-roles.sh" || nok "docker/postgres/10-roles.sh" "$out"
out=$(POSTGRES_USER=$su POSTGRES_DB=$db sh "$root/docker/postgres/10-roles.sh" 2>&1) &&
	ok "10-roles.sh again (idempotent)" || nok "10-roles.sh again (idempotent)" "$out"
out=$(PGDATABASE=$db "$RELAY" -c /dev/null migrate 2>&1) && ok "migrate as the owner" ||
	nok "migrate as the owner" "$out"

token=$(python3 -c 'import uuid; print(uuid.uuid4())')
"$HEC_EMULATOR" --listen 127.0.0.1:0 --port-file "$work/port" \
	--token "$token,name=clawdstrike,index=security,indexes=security" --ack \
	--output "$work/indexed.jsonl" 2>"$work/emulator.log" &
emu_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
port=$(cat "$work/port")

# The relay service's environment (docker-compose.yml), TCP like a container.
as_relay=(env PGHOST=127.0.0.1 PGDATABASE=$db PGUSER=relay PGPASSWORD=$RELAY_DB_PASSWORD
	HEC_URL=http://127.0.0.1:$port SPLUNK_HEC_TOKEN=$token
	RELAY_INSTANCE_ID=compose-relay-1 RELAY_METRICS_LISTEN=127.0.0.1:$((20000 + RANDOM % 20000)))
"${as_relay[@]}" "$RELAY" -c "$root/docker/relay.yaml" run 2>"$work/relay.log" &
relay_pid=$!

n=300
# `docker compose run --rm -T migrate enqueue -`: the owner, no config file.
out=$(python3 "$GEN_EVENTS" "$n" --seed 7 | PGDATABASE=$db "$RELAY" -c /dev/null enqueue - 2>&1)
grep -q "loaded=$n " <<<"$out" && ok "clawdstrike-relay enqueue - as the owner ($out)" ||
	nok "clawdstrike-relay enqueue - as the owner" "$out"
ev=$(python3 "$GEN_EVENTS" 1 --seed 8)
out=$(PGHOST=127.0.0.1 PGUSER=engine PGPASSWORD=$ENGINE_DB_PASSWORD psql -X -Atq -d "$db" \
	-v ev="$ev" <<<"SELECT clawdstrike.enqueue(:'ev'::jsonb) IS NOT NULL" 2>&1)
[ "$out" = t ] && ok "clawdstrike.enqueue() as role engine" ||
	nok "clawdstrike.enqueue() as role engine" "$out"
out=$(PGHOST=127.0.0.1 PGUSER=engine PGPASSWORD=$ENGINE_DB_PASSWORD psql -X -Atq -d "$db" \
	-c "SELECT count(*) FROM clawdstrike.outbox" 2>&1)
grep -q 'permission denied' <<<"$out" && ok "role engine cannot read the outbox" ||
	nok "role engine cannot read the outbox" "$out"

total=$((n + 1)) done_=0
for _ in $(seq 600); do
	done_=$(psql -X -Atq -d "$db" -c "SELECT count(*) FROM clawdstrike.outbox WHERE status = 'delivered'")
	[ "$done_" -ge "$total" ] && break
	sleep 0.1
done
left=$((total - done_))
[ "$left" = 0 ] && ok "all $total events delivered by the relay running as role relay" ||
	nok "all $total events delivered ($left left)" "$(tail -20 "$work/relay.log")"
got=$(wc -l <"$work/indexed.jsonl")
[ "$got" -eq "$total" ] && ok "the emulator indexed $got events into security" ||
	nok "the emulator indexed $got events, expected $total"
bad=$(grep -vc '"index":"security"' "$work/indexed.jsonl")
[ "$bad" -eq 0 ] && ok "every event in index security" || nok "$bad events outside index security"
out=$("${as_relay[@]}" "$RELAY" -c "$root/docker/relay.yaml" status 2>&1) &&
	ok "clawdstrike-relay status as role relay" || nok "clawdstrike-relay status as role relay" "$out"
grep -qF "$token" "$work/relay.log" "$work/emulator.log" &&
	nok "the logs never contain the token" || ok "the logs never contain the token"

kill -TERM "$relay_pid"; wait "$relay_pid"; rc=$?; relay_pid=
[ "$rc" -eq 0 ] && ok "SIGTERM: relay exits 0" || nok "SIGTERM: relay exits $rc" "$(tail -5 "$work/relay.log")"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
