#!/usr/bin/env bash
# Copies the built UI (web/dist) into internal/webui/dist so that `go build`
# embeds it. Keeps internal/webui/dist/.gitkeep; removes files of older builds.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="$here/dist"
dst="$here/../internal/webui/dist"
if [[ ! -f "$src/index.html" ]]; then
  echo "sync-dist: $src/index.html missing; run 'npm run build' in web/ first" >&2
  exit 1
fi
mkdir -p "$dst"
find "$dst" -mindepth 1 -maxdepth 1 ! -name .gitkeep -exec rm -rf {} +
cp -R "$src"/. "$dst"/
touch "$dst/.gitkeep"
echo "sync-dist: copied $(find "$src" -type f | wc -l) files into internal/webui/dist"
