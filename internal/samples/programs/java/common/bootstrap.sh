#!/usr/bin/env bash
# Runs this Coze OAuth sample (Java 11 or newer, JDK only): compiles it into ./build, then runs it.
# PORT overrides the port 8080.
set -euo pipefail
cd "$(dirname "$0")"

need="A JDK 11 or newer (java and javac) is needed to run this sample. Install one from https://adoptium.net/ (or your package manager, e.g. 'apt-get install openjdk-17-jdk-headless'), then run 'bash bootstrap.sh' again."

# major prints the major version of a "java -version" / "javac -version" line: 1.8.0_x -> 8, 17.0.2 -> 17, 21 -> 21.
major() {
  local v
  v="$(printf '%s\n' "$1" | head -n 1 | grep -oE '[0-9]+(\.[0-9]+)*' | head -n 1 || true)"
  case "$v" in
    1.*) v="${v#1.}" ;;
  esac
  printf '%s' "${v%%.*}"
}

for tool in java javac; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    if [ "$tool" = javac ]; then
      echo "javac was not found on PATH (a JRE alone cannot compile the sample). $need" >&2
    else
      echo "java was not found on PATH. $need" >&2
    fi
    exit 1
  fi
  line="$("$tool" -version 2>&1 | grep -iE 'version|javac' | head -n 1 || true)"
  v="$(major "$line")"
  case "$v" in
    ''|*[!0-9]*) echo "Cannot tell the version of $tool from '$line'. $need" >&2; exit 1 ;;
  esac
  if [ "$v" -lt 11 ]; then
    echo "Found $tool $v, which is too old. $need" >&2
    exit 1
  fi
done

rm -rf build
javac --release 11 -encoding UTF-8 -d build ./*.java
exec java -Dfile.encoding=UTF-8 -cp build Sample
