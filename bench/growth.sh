#!/usr/bin/env bash
# Memory after many tasks (issue 8): does the embedded service keep anything per task beyond retention?
# Starts RemoteTest embedded (Release), runs bursts of workload b (porttest.run of 1 closed loopback port,
# 16 clients), and after each burst waits longer than Hangfire.InMemory keeps a finished job (30 s), then has
# dotnet-gcdump force a full GC and report the live managed heap, next to the process's RSS. The task store
# keeps every task (retention is days), on disk: the rows are counted, not held in memory.
#
#   bench/growth.sh                   bursts of 10000 20000 20000 20000 tasks (about 6 minutes)
#   BLOCKS="2000 2000" bench/growth.sh
#
# Environment: BLOCKS (burst sizes), IDLE (seconds after each burst, default 40), PORT (default 27090).
set -euo pipefail
cd "$(dirname "$0")/.."
BLOCKS=${BLOCKS:-10000 20000 20000 20000}
IDLE=${IDLE:-40}
PORT=${PORT:-27090}
GCDUMP=${GCDUMP:-$HOME/.dotnet/tools/dotnet-gcdump}
if [ ! -x "$GCDUMP" ]; then
  dotnet tool install -g dotnet-gcdump >/dev/null
fi
dotnet build RemoteTest.slnx -c Release -nologo -v quiet >/dev/null

work=$(mktemp -d /tmp/remotetest-growth.XXXXXX)
dotnet src/RemoteTest/bin/Release/net10.0/RemoteTest.dll --RemoteTest:DataDirectory="$work/data" \
  --RemoteTest:Limits:RateLimit:PermitLimit=0 --RemoteTest:Limits:MaxQueuedTasksPerToken=100000 \
  --urls="http://127.0.0.1:$PORT" >"$work/service.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 300); do curl -fs -o /dev/null "http://127.0.0.1:$PORT/healthz" && break; sleep 0.2; done

measure() {
  sleep "$IDLE"
  "$GCDUMP" collect -p "$pid" -o "$work/heap.gcdump" >/dev/null 2>&1
  local live rss
  live=$("$GCDUMP" report "$work/heap.gcdump" 2>/dev/null | grep -m1 "GC Heap bytes" | grep -oE "[0-9,]+" | head -1 | tr -d ,)
  rss=$(awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$pid/status")
  printf 'after %6d tasks and %s s idle: RSS %s MB, live managed heap %s MB\n' "$1" "$IDLE" "$rss" \
    "$(awk -v b="${live:-0}" 'BEGIN { printf "%.1f", b / 1048576 }')"
}

echo "# $(date -u '+%Y-%m-%d %H:%M UTC') · $(nproc) cores · load1 $(cut -d' ' -f1 /proc/loadavg) · $work"
measure 0
total=0
for n in $BLOCKS; do
  rate=$(dotnet bench/RemoteTest.Bench/bin/Release/net10.0/RemoteTest.Bench.dll --systems none \
    --url "http://127.0.0.1:$PORT" --pid "$pid" --only b --tp-n "$n" 2>&1 | grep -oE '= [0-9.]+ tasks/s' || true)
  total=$((total + n))
  echo "burst of $n tasks: ${rate#= }"
  measure "$total"
done
