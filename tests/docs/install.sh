#!/usr/bin/env bash
# `cmake --install` into a staging directory (DESTDIR) puts the binaries,
# the sample /etc/clawdstrike/relay.yaml, the systemd unit, the sysusers
# file and the docs in place; the installed sample configuration is valid
# (`check` fails on the unreachable database and missing token file, exit 1,
# never on the configuration, exit 2); the unit names the installed binary
# and passes `systemd-analyze verify` where systemd is installed; a second
# install keeps an edited relay.yaml.
#
# Usage: install.sh BUILD_DIR
set -uo pipefail
build=${1:?usage: install.sh BUILD_DIR}
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok - $1"; }
nok() { failed=$((failed + 1)); echo "not ok - $1"; [ -z "${2:-}" ] || sed 's/^/#   /' <<<"$2"; }

out=$(DESTDIR=$stage cmake --install "$build" --prefix /usr/local 2>&1) &&
	ok "cmake --install with DESTDIR" || nok "cmake --install with DESTDIR" "$out"
for f in usr/local/bin/clawdstrike-relay usr/local/bin/hec-emulator \
	etc/clawdstrike/relay.yaml \
	usr/local/lib/systemd/system/clawdstrike-relay.service \
	usr/local/lib/sysusers.d/clawdstrike-relay.conf \
	usr/local/share/doc/clawdstrike-relay/README.md \
	usr/local/share/doc/clawdstrike-relay/configuration.md \
	usr/local/share/doc/clawdstrike-relay/operations.md; do
	[ -f "$stage/$f" ] && ok "installed /$f" || nok "installed /$f"
done
[ -x "$stage/usr/local/bin/clawdstrike-relay" ] && ok "the binary is executable" ||
	nok "the binary is executable"
relay=$stage/usr/local/bin/clawdstrike-relay
out=$("$relay" --version 2>&1) && ok "installed binary runs ($out)" || nok "installed binary runs" "$out"

# The sample configuration loads: `check` reaches the database (refused)
# and HEC token checks, so the configuration itself passed.
out=$(env -u CLAWDSTRIKE_RELAY_CONFIG PGHOST=127.0.0.1 PGPORT=1 PGCONNECT_TIMEOUT=2 \
	"$relay" -c "$stage/etc/clawdstrike/relay.yaml" check 2>&1)
rc=$?
if [ "$rc" -eq 1 ] && grep -q '^ok   config: .* is valid' <<<"$out" &&
	grep -q '^FAIL database' <<<"$out"; then
	ok "sample relay.yaml is valid (check: exit 1, config ok, database FAIL)"
else
	nok "sample relay.yaml is valid (check exit $rc)" "$out"
fi
# ... and a broken copy is exit 2 (so the assertion above means something).
sed 's/^  lease_s: 60/  lease_s: sixty/' "$stage/etc/clawdstrike/relay.yaml" >"$stage/bad.yaml"
out=$(PGHOST=127.0.0.1 PGPORT=1 "$relay" -c "$stage/bad.yaml" check 2>&1)
rc=$?
[ "$rc" -eq 2 ] && grep -q 'relay.lease_s' <<<"$out" &&
	ok "a broken sample is a config error (exit 2, names the key)" ||
	nok "a broken sample is a config error (exit $rc)" "$out"

unit=$stage/usr/local/lib/systemd/system/clawdstrike-relay.service
for want in '^Type=simple$' '^Restart=on-failure$' '^ExecReload=/bin/kill -HUP \$MAINPID$' \
	'^ExecStart=/usr/local/bin/clawdstrike-relay run$' '^User=clawdstrike$' \
	'^NoNewPrivileges=yes$' '^ProtectSystem=strict$' '^ProtectHome=yes$' \
	'^PrivateTmp=yes$' '^CapabilityBoundingSet=$' '^Environment=CLAWDSTRIKE_RELAY_CONFIG=/etc/clawdstrike/relay.yaml$'; do
	grep -q "$want" "$unit" && ok "unit: $want" || nok "unit: $want"
done
grep -q '@[A-Z_]*@' "$unit" && nok "unit: no unsubstituted @VAR@" "$(grep '@[A-Z_]*@' "$unit")" ||
	ok "unit: no unsubstituted @VAR@"
if command -v systemd-analyze >/dev/null; then
	# Verify a copy whose ExecStart points at the staged binary.
	sed "s|/usr/local/bin/clawdstrike-relay|$relay|" "$unit" >"$stage/clawdstrike-relay.service"
	out=$(systemd-analyze verify "$stage/clawdstrike-relay.service" 2>&1 | grep -v 'Invalid URL\|file:')
	[ -z "$out" ] && ok "systemd-analyze verify" || nok "systemd-analyze verify" "$out"
else
	echo "ok - systemd-analyze verify # SKIP systemd not installed"
fi

# Reinstalling keeps the operator's relay.yaml.
echo "# edited" >>"$stage/etc/clawdstrike/relay.yaml"
DESTDIR=$stage cmake --install "$build" --prefix /usr/local >/dev/null 2>&1
grep -q '^# edited' "$stage/etc/clawdstrike/relay.yaml" &&
	[ -f "$stage/etc/clawdstrike/relay.yaml.sample" ] &&
	ok "reinstall keeps relay.yaml, adds relay.yaml.sample" ||
	nok "reinstall keeps relay.yaml, adds relay.yaml.sample"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
