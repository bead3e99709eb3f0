#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# HTTPS (--tls-cert/--tls-key) and required client certificates
# (--tls-client-ca).  Certificates are made here with openssl, in the
# test's temp dir: no key is committed.
. "$(dirname "$0")/lib.sh"

E=/services/collector/event
H=/services/collector/health
EV='{"event":"over tls"}'

# mkcert NAME CN ISSUER [SAN]: NAME.pem/NAME.key, signed by ISSUER.pem
# (self-signed CA when ISSUER is "-").
mkcert() {
	local name=$1 cn=$2 issuer=$3 san=${4:-}
	if [ "$issuer" = - ]; then
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
			-nodes -days 2 -subj "/CN=$cn" -keyout "$TMP/$name.key" \
			-out "$TMP/$name.pem" 2>>"$TMP/openssl.log"
		return
	fi
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-subj "/CN=$cn" -keyout "$TMP/$name.key" -out "$TMP/$name.csr" \
		2>>"$TMP/openssl.log" &&
		openssl x509 -req -days 2 -in "$TMP/$name.csr" -CA "$TMP/$issuer.pem" \
			-CAkey "$TMP/$issuer.key" -CAcreateserial -out "$TMP/$name.pem" \
			${san:+-extfile <(printf 'subjectAltName=%s\n' "$san")} \
			2>>"$TMP/openssl.log"
}

mkcert ca "test CA" - || { echo "openssl failed" >&2; exit 1; }
mkcert other "another CA" -
mkcert server localhost ca "IP:127.0.0.1,DNS:localhost"
mkcert client relay ca
mkcert stranger relay other

# Usage errors: exit 2 before listening.
rc=0
"$EMU" --token T --tls-cert "$TMP/server.pem" 2>/dev/null || rc=$?
eq "--tls-cert without --tls-key is a usage error" "$rc" 2
rc=0
"$EMU" --token T --tls-client-ca "$TMP/ca.pem" 2>/dev/null || rc=$?
eq "--tls-client-ca without a certificate is a usage error" "$rc" 2
rc=0
"$EMU" --listen 127.0.0.1:0 --token T --tls-cert "$TMP/nope.pem" \
	--tls-key "$TMP/server.key" 2>"$TMP/err.log" || rc=$?
eq "a missing certificate file fails at start" "$rc" 1
check "the message names the file" grep -q 'nope.pem' "$TMP/err.log"
rc=0
"$EMU" --listen 127.0.0.1:0 --token T --tls-cert "$TMP/server.pem" \
	--tls-key "$TMP/other.key" 2>"$TMP/err.log" || rc=$?
eq "a key that is not the certificate's fails at start" "$rc" 1

# HTTPS, no client certificate needed.
start_emulator --token T --tls-cert "$TMP/server.pem" --tls-key "$TMP/server.key"
BASE=https://127.0.0.1:$PORT
req GET $H --cacert "$TMP/ca.pem"
expect "health over HTTPS, server verified with the CA" 200 17
post $E T "$EV" --cacert "$TMP/ca.pem"
expect "event over HTTPS" 200 0
expect_indexed "indexed over HTTPS" 1
req GET $H --cacert "$TMP/other.pem"
eq "another CA does not verify the server (curl 60)" "$CURL_RC" 60
req GET $H
eq "system CAs do not verify the server (curl 60)" "$CURL_RC" 60
BASE=http://127.0.0.1:$PORT
req GET $H
check "plain HTTP to the HTTPS port gets no HEC answer" test "$STATUS" != 200
BASE=https://127.0.0.1:$PORT
req GET /emulator/counters --cacert "$TMP/ca.pem"
eq "control API over HTTPS" "$(jbody .events_indexed)" 1
stop_emulator

# mTLS: a client certificate signed by --tls-client-ca is required.
start_emulator --token T --tls-cert "$TMP/server.pem" --tls-key "$TMP/server.key" \
	--tls-client-ca "$TMP/ca.pem"
BASE=https://127.0.0.1:$PORT
post $E T "$EV" --cacert "$TMP/ca.pem"
check "no client certificate: closed without an answer" test "$STATUS" = 000
check "... curl sees a transport error" test "$CURL_RC" -ne 0
post $E T "$EV" --cacert "$TMP/ca.pem" --cert "$TMP/stranger.pem" \
	--key "$TMP/stranger.key"
check "a client certificate from another CA: closed" test "$STATUS" = 000
post $E T "$EV" --cacert "$TMP/ca.pem" --cert "$TMP/client.pem" \
	--key "$TMP/client.key"
expect "client certificate signed by the CA: accepted" 200 0
expect_indexed "only the mTLS request was indexed" 1
req GET /emulator/counters --cacert "$TMP/ca.pem"
eq "control API needs no client certificate" "$STATUS" 200
eq "refused clients counted" "$(jbody .tls_client_rejected)" 2
check "the refusal is logged with its reason" \
	grep -q 'client certificate refused.*no client certificate' "$TMP/emulator.log"
stop_emulator

finish
