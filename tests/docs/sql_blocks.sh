#!/usr/bin/env bash
# Every ```sql block in docs/*.md runs against a freshly migrated database
# (its own: clawdstrike_docstest), each in BEGIN ... ROLLBACK, and fails on
# any error.  Server from the PG* environment (pg_virtualenv).
#
# Usage: sql_blocks.sh RELAY_BINARY
set -euo pipefail
relay=${1:?usage: sql_blocks.sh RELAY_BINARY}
root=$(cd "$(dirname "$0")/../.." && pwd)
db=clawdstrike_docstest
work=$(mktemp -d)
trap 'dropdb --if-exists "$db" 2>/dev/null; rm -rf "$work"' EXIT
unset CLAWDSTRIKE_RELAY_CONFIG
dropdb --if-exists "$db"
createdb "$db"
PGDATABASE=$db "$relay" -c /dev/null migrate >/dev/null

# Extract the blocks: work/NNN.sql, and work/NNN.where (file:line).
python3 - "$root" "$work" <<'PY'
import glob, os, re, sys
root, work = sys.argv[1], sys.argv[2]
n = 0
for path in sorted(glob.glob(os.path.join(root, "docs", "*.md"))):
    lines = open(path).read().split("\n")
    i = 0
    while i < len(lines):
        m = re.match(r"^(\s*)```sql\s*$", lines[i])
        if not m:
            i += 1
            continue
        indent, start, body = len(m.group(1)), i + 1, []
        i += 1
        while i < len(lines) and not re.match(r"^\s*```\s*$", lines[i]):
            body.append(lines[i][indent:])
            i += 1
        n += 1
        open(os.path.join(work, f"{n:03d}.sql"), "w").write("\n".join(body) + "\n")
        open(os.path.join(work, f"{n:03d}.where"), "w").write(
            f"{os.path.relpath(path, root)}:{start}")
        i += 1
PY

passed=0 failed=0
shopt -s nullglob
for f in "$work"/*.sql; do
	where=$(cat "${f%.sql}.where")
	if grep -Eiq '^[[:space:]]*(BEGIN|COMMIT|ROLLBACK|START TRANSACTION)\b' "$f"; then
		failed=$((failed + 1)); echo "not ok - $where: a docs block must not control transactions"
		continue
	fi
	rc=0
	{ echo 'BEGIN;'; cat "$f"; echo 'ROLLBACK;'; } |
		PGOPTIONS='--client-min-messages=warning' \
		psql -X -q -v ON_ERROR_STOP=1 -d "$db" >"$work/out" 2>"$work/err" || rc=$?
	if [[ $rc -ne 0 ]] || grep -q 'ERROR' "$work/err"; then
		failed=$((failed + 1)); echo "not ok - $where (psql exit $rc)"
		sed 's/^/#   /' "$work/err"
	else
		passed=$((passed + 1)); echo "ok - $where"
	fi
done
[[ $passed -gt 0 ]] || { echo "not ok - no sql blocks found in docs/"; failed=$((failed + 1)); }
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
