#!/bin/sh
# Build the installable Splunk app package:
#   package.sh [OUTDIR]   ->  OUTDIR/clawdstrike-<version>.tgz
# OUTDIR defaults to build/splunk-app at the top of the source tree.
# The tarball holds one folder, clawdstrike/, with no hidden files, no
# compiled Python, no local/ or local.meta, folders 0755 and files 0644,
# owned by 0:0, sorted, with a fixed mtime (reproducible: SOURCE_DATE_EPOCH,
# else the last commit's time).  Check it with
#   python3 splunk-app/tests/check_app.py --package OUTDIR/clawdstrike-<version>.tgz
set -eu

here=$(cd "$(dirname "$0")" && pwd)
app=clawdstrike
src="$here/$app"
out=${1:-"$here/../build/splunk-app"}

version=$(sed -n '/^\[launcher\]/,/^\[/{s/^version[[:space:]]*=[[:space:]]*//p}' "$src/default/app.conf")
case $version in
[0-9]*.[0-9]*.[0-9]*) ;;
*) echo "package.sh: no semver [launcher] version in $src/default/app.conf" >&2; exit 1 ;;
esac

if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
	SOURCE_DATE_EPOCH=$(git -C "$here" log -1 --format=%ct 2>/dev/null || echo 946684800)
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT INT TERM

# Copy the app, leaving out what AppInspect rejects.
(cd "$here" && tar -cf - \
	--exclude='.*' --exclude='*.pyc' --exclude='*.pyo' --exclude='__pycache__' \
	--exclude="$app/local" --exclude="$app/metadata/local.meta" "$app") |
	(cd "$stage" && tar -xf -)
find "$stage/$app" -type d -exec chmod 0755 {} +
find "$stage/$app" -type f -exec chmod 0644 {} +

mkdir -p "$out"
pkg="$out/$app-$version.tgz"
tar -C "$stage" --sort=name --owner=0 --group=0 --numeric-owner \
	--mtime="@$SOURCE_DATE_EPOCH" -cf - "$app" | gzip -n -9 >"$pkg.tmp"
mv "$pkg.tmp" "$pkg"
echo "$pkg"
