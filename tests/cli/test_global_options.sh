#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The global -c/--config works where people type it: before the command or
# after it (`clawdstrike-relay run -c relay.yaml`), in every spelling, for
# every command; a -c without a file is a usage error.
. "$(dirname "$0")/lib.sh"

setup_db globalopts
cat >"$TMP/relay.yaml" <<YAML
database:
  url: ""
exporters:
  splunk:
    enabled: true
    hec_url: http://127.0.0.1:9
    hec_token: 00000000-0000-0000-0000-000000000001
YAML
# raw ARGS...: the relay exactly as typed (no -c added); sets OUT, ERR, RC.
raw() {
	RC=0
	"$RELAY" "$@" >"$TMP/out" 2>"$TMP/err" || RC=$?
	OUT=$(cat "$TMP/out")
	ERR=$(cat "$TMP/err")
}
for cmd in run migrate check status enqueue "replay --dry-run" dead-letters; do
	for form in "-c $TMP/missing.yaml" "--config $TMP/missing.yaml" \
		"--config=$TMP/missing.yaml" "-c$TMP/missing.yaml"; do
		# shellcheck disable=SC2086  # command and form split on purpose
		raw $cmd $form
		expect_rc "$cmd $form: the file is used" 2
		expect_match "$cmd $form: names the file" "$ERR" "missing.yaml: cannot open"
	done
done
raw status -c "$TMP/relay.yaml"
expect_rc "status -c FILE after the command" 0
after=$OUT
raw -c "$TMP/relay.yaml" status
expect_rc "status with -c FILE before the command" 0
expect_eq "same answer either way" "$OUT" "$after"
raw migrate --config "$TMP/relay.yaml"
expect_rc "migrate --config FILE" 0
raw status -c
expect_rc "-c without a file" 2
expect_match "says what is missing" "$ERR" "needs a file name"
raw --help
expect_match "--help shows both places" "$OUT" "COMMAND \[ARGS\] \[-c FILE\]"
finish
