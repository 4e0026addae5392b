#!/usr/bin/env bash
# Installs what the tests need from Debian's packages (test.sh calls this first). Idempotent and quick when
# everything is already there: it only runs apt-get for a package that is missing. Add your area's packages to
# the list below (one "command package" pair per line).
set -euo pipefail

# command-to-look-for  debian-package
required="
chromium chromium
ip iproute2
nft nftables
tc iproute2
"

missing=()
while read -r command package; do
  [ -n "${command:-}" ] || continue
  command -v "$command" >/dev/null 2>&1 || missing+=("$package")
done <<<"$required"

if [ "${#missing[@]}" -gt 0 ]; then
  echo "test-deps: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# PostgreSQL and RabbitMQ for the scale-out tests (they start their own throw-away servers on loopback ports).
# pg.sh and rabbitmq.sh find the server binaries where Debian puts them (not on PATH) and install them if missing.
if [ "${REMOTETEST_SKIP_SERVERS:-}" != "1" ]; then
  "$(dirname "$0")/pg.sh" install
  "$(dirname "$0")/rabbitmq.sh" install
fi
