#!/usr/bin/env bash
# Runs this Coze OAuth sample: checks for Python 3.7 or newer, then serves http://127.0.0.1:${PORT:-8080}.
set -euo pipefail
case "$0" in */*) cd "${0%/*}" ;; esac  # run from the sample's own directory

python=""
for candidate in python3 python; do
  if command -v "$candidate" >/dev/null 2>&1 &&
     "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 7) else 1)' >/dev/null 2>&1; then
    python="$candidate"
    break
  fi
done

if [ -z "$python" ]; then
  found=""
  for candidate in python3 python; do
    if command -v "$candidate" >/dev/null 2>&1; then
      found="$("$candidate" -c 'import sys; print(sys.version.split()[0])' 2>/dev/null || echo unknown)"
      break
    fi
  done
  if [ -n "$found" ]; then
    echo "error: this sample needs Python 3.7 or newer; found Python $found." >&2
  else
    echo "error: this sample needs Python 3.7 or newer, and neither python3 nor python is installed." >&2
  fi
  echo "Install it from https://www.python.org/downloads/ (Debian/Ubuntu: sudo apt-get install python3; macOS: brew install python)." >&2
  exit 1
fi

if [ ! -f coze_oauth_config.json ]; then
  echo "error: coze_oauth_config.json is missing; it comes in the zip downloaded from the console." >&2
  exit 1
fi

export PYTHONUNBUFFERED=1
exec "$python" main.py
