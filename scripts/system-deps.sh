#!/usr/bin/env bash
# The system programs the tests use: Debian's chromium (the HTML report is
# checked in a real headless browser) and sqlite3 (exported databases are
# opened with the stock SQLite). Installs what is missing; runs before `npm test`.
set -euo pipefail
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v sqlite3 >/dev/null || missing+=(sqlite3)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null; then
  echo "bgsnap tests need: ${missing[*]} (apt-get install ${missing[*]}; run as root or with sudo)" >&2
  exit 1
fi
run() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
echo "installing ${missing[*]} for the tests" >&2
run apt-get update -qq
run env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
