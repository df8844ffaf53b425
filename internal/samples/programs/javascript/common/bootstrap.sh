#!/usr/bin/env bash
# Runs this Coze OAuth sample: checks for Node.js 18 or newer, then serves http://127.0.0.1:${PORT:-8080}.
set -euo pipefail
case "$0" in */*) cd "${0%/*}" ;; esac  # run from the sample's own directory

if ! command -v node >/dev/null 2>&1; then
  echo "error: this sample needs Node.js 18 or newer, and node is not installed." >&2
  echo "Install it from https://nodejs.org/ (or with your package manager, e.g. brew install node, or nvm install 20)." >&2
  exit 1
fi
version="$(node -p 'process.versions.node' 2>/dev/null || echo unknown)"
major="${version%%.*}"
if ! [ "$major" -ge 18 ] 2>/dev/null; then
  echo "error: this sample needs Node.js 18 or newer; found Node.js $version." >&2
  echo "Install a newer one from https://nodejs.org/ (or: nvm install 20)." >&2
  exit 1
fi

if [ ! -f coze_oauth_config.json ]; then
  echo "error: coze_oauth_config.json is missing; it comes in the zip downloaded from the console." >&2
  exit 1
fi

exec node main.mjs
