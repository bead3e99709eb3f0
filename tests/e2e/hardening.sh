# SPDX-License-Identifier: Apache-2.0
# Helpers of the production-hardening e2e tests (sourced after lib.sh):
# test certificates made with openssl at run time (never committed), HTTPS
# emulators, a second emulator, the Vault stand-in, a metrics listener and
# Kubernetes-style secret mounts.  Every extra process is stopped on exit.
# shellcheck shell=bash

HARD_PIDS=()
VAULT_PID=
VAULT_PORT=
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

hard_cleanup() {
	local rc=$? p
	for p in "${HARD_PIDS[@]}" $VAULT_PID; do
		kill -TERM "$p" 2>/dev/null
	done
	(exit "$rc")
	cleanup
}
trap hard_cleanup EXIT

# ------------------------------------------------------------ certificates

# mkcert NAME CN ISSUER [SAN] [DAYS]: $T/NAME.pem and $T/NAME.key (EC
# P-256), signed by ISSUER ("-": a self-signed CA).
mkcert() {
	local name=$1 cn=$2 issuer=$3 san=${4:-} days=${5:-30}
	if [ "$issuer" = - ]; then
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
			-nodes -days "$days" -subj "/CN=$cn" -keyout "$T/$name.key" \
			-out "$T/$name.pem" 2>>"$T/openssl.log" || die "openssl CA $name"
		return
	fi
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-subj "/CN=$cn" -keyout "$T/$name.key" -out "$T/$name.csr" \
		2>>"$T/openssl.log" || die "openssl csr $name"
	openssl x509 -req -days "$days" -in "$T/$name.csr" -CA "$T/$issuer.pem" \
		-CAkey "$T/$issuer.key" -CAcreateserial -out "$T/$name.pem" \
		${san:+-extfile <(printf 'subjectAltName=%s\n' "$san")} \
		2>>"$T/openssl.log" || die "openssl sign $name"
}

# make_pki: ca (trusted), otherca (wrong), server (127.0.0.1, 30 days),
# client (signed by ca).
make_pki() {
	mkcert ca "e2e test CA" -
	mkcert otherca "e2e other CA" -
	mkcert server localhost ca "IP:127.0.0.1,DNS:localhost" 30
	mkcert client relay-client ca
}

# start_tls_emulator ARGS...: start_emulator over HTTPS (server cert from
# make_pki); BASE becomes https://; curl (control API) trusts the CA.
start_tls_emulator() {
	start_emulator --tls-cert "$T/server.pem" --tls-key "$T/server.key" "$@"
	BASE=https://127.0.0.1:$PORT
	export CURL_CA_BUNDLE=$T/ca.pem
}

# tls_config CA [CLIENT]: CFG_EXTRA_SPLUNK lines for exporters.splunk.tls.
tls_config() {
	CFG_EXTRA_SPLUNK="    tls:
      ca_cert_path: $1"
	if [ -n "${2:-}" ]; then
		CFG_EXTRA_SPLUNK+="
      client_cert_path: $T/$2.pem
      client_key_path: $T/$2.key"
	fi
}

# ------------------------------------------------------------ more emulators

# start_emulator_b NAME ARGS...: another emulator (acks on, $TOKEN unless
# --token is given) recording into $T/indexed-NAME.jsonl; sets
# EPID_<NAME> and EURL_<NAME>.
start_emulator_b() {
	local name=$1 args a has_token=0 pid port
	shift
	args=("$@")
	for a in "${args[@]}"; do [ "$a" = --token ] && has_token=1; done
	[ "$has_token" = 1 ] || args+=(--token "$TOKEN")
	rm -f "$T/port-$name"
	"$EMU" --listen 127.0.0.1:0 --port-file "$T/port-$name" \
		--output "$T/indexed-$name.jsonl" --ack "${args[@]}" \
		>>"$T/emulator-$name.log" 2>&1 &
	pid=$!
	HARD_PIDS+=("$pid")
	wait_until 30 "emulator $name port file" test -s "$T/port-$name" ||
		die "emulator $name did not start"
	port=$(cat "$T/port-$name")
	printf -v "EPID_$name" '%s' "$pid"
	printf -v "EURL_$name" '%s' "http://127.0.0.1:$port"
}

# ------------------------------------------------------------ vault

# start_vault [PORT]: the KV v2 stand-in; the Vault token is in
# $T/vault-token, the secret (the HEC token) in $T/vault-secret.
start_vault() {
	rm -f "$T/vault-port"
	python3 "$HERE/vault_standin.py" --port-file "$T/vault-port" \
		--vault-token-file "$T/vault-token" --secret-file "$T/vault-secret" \
		${1:+--port "$1"} >>"$T/vault.log" 2>&1 &
	VAULT_PID=$!
	wait_until 30 "vault stand-in port file" test -s "$T/vault-port" ||
		die "vault stand-in did not start"
	VAULT_PORT=$(cat "$T/vault-port")
}

stop_vault() {
	[ -n "$VAULT_PID" ] || return 0
	kill -TERM "$VAULT_PID" 2>/dev/null
	wait "$VAULT_PID" 2>/dev/null
	VAULT_PID=
}

# ------------------------------------------------------------ metrics

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# with_metrics NAME PORT: write NAME's config with metrics.listen on PORT.
with_metrics() {
	write_config "$1"
	sed -i "s/^  listen: \"\"$/  listen: 127.0.0.1:$2/" "${RELAY_CFG[$1]}"
}

# metric URL NAME: the value of one sample (first match of NAME at the start
# of a line, labels included in NAME); empty when absent.
metric() {
	curl -s "$1/metrics" | awk -v n="$2" 'index($0, n" ") == 1 { print $2; exit }'
}

# http_code URL: the status of a GET.
http_code() {
	curl -s -o /dev/null -w '%{http_code}' "$1"
}

# ------------------------------------------------------------ misc

# log_has NAME REGEX: relay NAME's log matches.
log_has() {
	grep -Eq "$2" "${RELAY_LOG[$1]}"
}

# delivered_ge N: at least N rows delivered.
delivered_ge() {
	sql_ge "$1" "SELECT count(*) FROM clawdstrike.outbox WHERE status = 'delivered'"
}
