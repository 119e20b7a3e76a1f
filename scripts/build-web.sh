#!/usr/bin/env bash
# Build the web UI and copy it where the Go binary embeds it.
set -euo pipefail
cd "$(dirname "$0")/.."
(cd web && npm run build --silent)
find internal/webui/dist -mindepth 1 ! -name .gitkeep -exec rm -rf {} +
cp -r web/dist/. internal/webui/dist/
