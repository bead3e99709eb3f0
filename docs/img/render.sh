#!/usr/bin/env bash
# Regenerate the diagrams from their text sources (needs graphviz: dot).
set -euo pipefail
cd "$(dirname "$0")"
for f in *.dot; do
	dot -Tpng -Gdpi=110 "$f" -o "${f%.dot}.png"
done
