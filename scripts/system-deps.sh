#!/usr/bin/env bash
# The system programs the tests use: Debian's chromium (the HTML report is
# checked in a real headless browser) and sqlite3 (exported databases are
# opened with the stock SQLite). Installs what is missing; runs before `npm test`.
set -euo pipefail
# The tests run these paths (Debian's packages put them there).
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/sqlite3 ] || missing+=(sqlite3)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] && ! sudo -n true 2>/dev/null; then
  echo "bgsnap tests need: ${missing[*]} (apt-get install ${missing[*]}; run as root or with sudo)" >&2
  exit 1
fi
run() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi; }
echo "installing ${missing[*]} for the tests" >&2
run apt-get update -qq
run env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
