#!/usr/bin/env bash
# Runs every test project of the solution and ends with one line "N passed, M failed" summed over all of them.
# Installs and starts what the tests need first (scripts/test-deps.sh); safe to run again.
set -uo pipefail
cd "$(dirname "$0")"

results="$(mktemp -d)"
trap 'rm -rf "$results"' EXIT

if [ -x scripts/test-deps.sh ]; then
  scripts/test-deps.sh || { echo "test dependencies could not be installed"; echo "0 passed, 1 failed"; exit 1; }
fi

dotnet build RemoteTest.slnx -c Release -nologo -v quiet || { echo "0 passed, 1 failed"; exit 1; }
dotnet test RemoteTest.slnx -c Release --no-build -nologo \
  --logger "trx;LogFilePrefix=t" --logger "console;verbosity=normal" --results-directory "$results" "$@"
status=$?

passed=0; failed=0
for trx in "$results"/*.trx; do
  [ -e "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
  f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
done
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1  # the run broke before reporting a failure (crash, timeout): never print a clean line for it
fi
echo "${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ]
