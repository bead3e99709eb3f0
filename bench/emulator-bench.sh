#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Benchmark the HEC emulator alone: events/s ingested with gzip and
# indexer acks on (hec-loadgen: ~840-byte envelopes, 500 per request,
# 8 keep-alive connections, one ack channel each, polls every 100 ms).
#
#   bench/emulator-bench.sh [SECONDS]
#
# BUILD (default: ./build) is configured and built if the binaries are
# missing.  Runs the emulator writing its JSON Lines output to a file
# (what tests do), then with output off, and prints events/s for each.
# The load generator runs on the same machine and takes CPU from the
# emulator, so the figures are a lower bound.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$REPO/build}
SECONDS_=${1:-10}
EMU=$BUILD/tools/hec-emulator/hec-emulator
GEN=$BUILD/tools/hec-emulator/hec-loadgen

if [ ! -x "$EMU" ] || [ ! -x "$GEN" ]; then
	cmake -S "$REPO" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build "$BUILD" -j"$(nproc)" --target hec-emulator hec-loadgen >/dev/null
fi

TMP=$(mktemp -d)
PID=
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

# run LABEL EMULATOR-ARGS...: one measurement; prints the loadgen summary.
run() {
	local label=$1
	shift
	rm -f "$TMP/port"
	"$EMU" --listen 127.0.0.1:0 --port-file "$TMP/port" --token BENCH \
		--ack "$@" 2>"$TMP/emu.log" &
	PID=$!
	for _ in $(seq 1 100); do
		[ -s "$TMP/port" ] && break
		sleep 0.05
	done
	"$GEN" --url "http://127.0.0.1:$(cat "$TMP/port")" --token BENCH \
		--connections 8 --batch 500 --duration "$SECONDS_" >"$TMP/gen.out"
	kill "$PID"
	wait "$PID" || true
	PID=
	local json
	json=$(tail -1 "$TMP/gen.out")
	echo "== $label"
	grep -E '^(accepted|acknowledged|requests)' "$TMP/gen.out"
	echo "$json" >>"$TMP/results.jsonl"
	rm -f "$TMP/out.jsonl"
}

echo "hec-emulator benchmark: $(nproc) CPUs, ${SECONDS_}s per run, gzip and acks on"
run "output to a JSON Lines file" --output "$TMP/out.jsonl"
run "output off"
mkdir -p "$REPO/bench/results"
cp "$TMP/results.jsonl" "$REPO/bench/results/emulator-$(date +%Y%m%dT%H%M%S).jsonl"
