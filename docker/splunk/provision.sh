#!/bin/sh
# One-shot `splunk-provision` service of docker-compose.yml (runs in the
# relay image).  Refuses to continue unless the Splunk license was accepted
# explicitly in .env, then writes the app `clawdstrike_hec` that Splunk
# mounts at /opt/splunk/etc/apps/clawdstrike_hec:
#
#   default/indexes.conf  the `security` index
#   local/inputs.conf     HEC on (port 8088, plain HTTP inside the compose
#                         network) and the `clawdstrike` token with indexer
#                         acknowledgement, allowed into `security` only
#
# The token value comes from SPLUNK_HEC_TOKEN (a GUID) and is never printed.
set -eu
app=${APP_DIR:-/app}

case " ${SPLUNK_START_ARGS:-} " in
*" --accept-license "*) ;;
*)
	echo "splunk-provision: Splunk's license is not accepted." >&2
	echo "  Read https://www.splunk.com/en_us/legal/splunk-general-terms.html and, if you" >&2
	echo "  agree, set SPLUNK_START_ARGS=--accept-license in .env (and" >&2
	echo "  SPLUNK_GENERAL_TERMS=--accept-sgt-current-at-splunk-com for images that ask)." >&2
	echo "  No Splunk? Use: docker compose --profile emulator up -d" >&2
	exit 1
	;;
esac
if [ "${#SPLUNK_PASSWORD}" -lt 8 ]; then
	echo "splunk-provision: set SPLUNK_PASSWORD in .env (8 characters or more)" >&2
	exit 1
fi
guid='^[0-9A-Fa-f]\{8\}-[0-9A-Fa-f]\{4\}-[0-9A-Fa-f]\{4\}-[0-9A-Fa-f]\{4\}-[0-9A-Fa-f]\{12\}$'
if ! printf '%s\n' "${SPLUNK_HEC_TOKEN:-}" | grep -q "$guid"; then
	echo "splunk-provision: SPLUNK_HEC_TOKEN must be a GUID (e.g. from uuidgen)" >&2
	exit 1
fi

umask 022
mkdir -p "$app/default" "$app/local" "$app/metadata"
cat >"$app/default/app.conf" <<'CONF'
[install]
state = enabled

[ui]
is_visible = false
label = Clawdstrike HEC input (docker-compose)

[launcher]
version = 0.1.0
description = HEC token with indexer acknowledgement and the security index for clawdstrike-relay.
CONF
cat >"$app/default/indexes.conf" <<'CONF'
[security]
homePath = $SPLUNK_DB/security/db
coldPath = $SPLUNK_DB/security/colddb
thawedPath = $SPLUNK_DB/security/thaweddb
CONF
cat >"$app/local/inputs.conf" <<CONF
[http]
disabled = 0
port = 8088
enableSSL = 0

[http://clawdstrike]
disabled = 0
token = ${SPLUNK_HEC_TOKEN}
useACK = true
index = security
indexes = security
sourcetype = clawdstrike:security
CONF
chmod 0644 "$app/local/inputs.conf"
cat >"$app/metadata/default.meta" <<'CONF'
[]
access = read : [ * ], write : [ admin ]
export = system
CONF
echo "splunk-provision: wrote $app (index security, HEC token clawdstrike with useACK)"
