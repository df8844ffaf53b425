#!/usr/bin/env bash
# Runs this Coze OAuth sample (Go >= 1.18, standard library only). PORT overrides the port 8080.
set -euo pipefail
cd "$(dirname "$0")"

need="Go 1.18 or newer is needed to run this sample. Install it from https://go.dev/dl/ (or your package manager, e.g. 'apt-get install golang'), then run 'bash bootstrap.sh' again."
if ! command -v go >/dev/null 2>&1; then
  echo "Go was not found on PATH. $need" >&2
  exit 1
fi
version="$(go env GOVERSION 2>/dev/null || true)"
if [ -z "$version" ]; then # Go before 1.16 has no GOVERSION
  version="$(go version | awk '{print $3}')"
fi
major="$(printf '%s' "$version" | sed -E 's/^go([0-9]+)\.([0-9]+).*/\1/')"
minor="$(printf '%s' "$version" | sed -E 's/^go([0-9]+)\.([0-9]+).*/\2/')"
case "$major$minor" in
  *[!0-9]*|"") echo "Cannot tell the version of Go from '$version'. $need" >&2; exit 1 ;;
esac
if [ "$major" -lt 1 ] || { [ "$major" -eq 1 ] && [ "$minor" -lt 18 ]; }; then
  echo "Found $version, which is too old. $need" >&2
  exit 1
fi

# No go.mod: the files are built together as one program, named on the command line (their '//go:build ignore'
# line only keeps them out of other builds), into ./build; then the program runs in the foreground.
export GO111MODULE=on GOFLAGS= GOTOOLCHAIN=local
rm -rf build
go build -o build/coze-oauth-sample ./*.go
exec ./build/coze-oauth-sample
