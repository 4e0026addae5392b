#!/usr/bin/env bash
# Times the README's quick start ("Web UI and command-line client") as a new user lives it, on this machine:
#   1. start the service with `dotnet run --project src/RemoteTest` on a fresh data directory (until it answers),
#   2. install the CLI as a .NET tool (dotnet pack + dotnet tool install, once),
#   3. CLI: a port test (`remotetest port 127.0.0.1:PORT,1`) and a DNS test (`remotetest dns check dns_data.json`),
#   4. browser: the same two through the UI, step by step as the README says (QuickStartUiTests, headless
#      Debian Chromium, against the service of step 1),
#   5. stop the service and `dotnet run` it again, already built (the everyday start).
# Prints one line per step with its wall-clock seconds. Loopback only: the DNS tests ask scripts/demo-dns.py on
# 127.0.0.1, never a public resolver.
#
#   scripts/quickstart.sh                  use this working tree (the first `dotnet run` builds what is stale)
#   scripts/quickstart.sh --fresh-clone    clone the repository into a temporary directory first, so `dotnet run`
#                                          restores and builds from nothing, as right after `git clone`
#                                          (NuGet packages still come from this machine's cache)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
. "$repo/scripts/stop-pid.sh"

work="$(mktemp -d /tmp/remotetest-quickstart.XXXXXX)"
service_pid="" dns_pid=""
cleanup() {
  # Both were started here with setsid: each is its own process group, stopped by its id (dotnet run's child too).
  [ -n "$service_pid" ] && { kill -TERM -- "-$service_pid" 2>/dev/null || true; stop_pid TERM "$service_pid"; }
  [ -n "$dns_pid" ] && stop_pid TERM "$dns_pid"
  rm -rf "$work"
}
trap cleanup EXIT

src="$repo"
if [ "${1:-}" = "--fresh-clone" ]; then
  git clone -q "$repo" "$work/repo"
  src="$work/repo"
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
now() { date +%s.%N; }
since() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$(now)"; }
report() { printf '%-66s %6s s  %s\n' "$1" "$2" "${3:-}" | tee -a "$work/report"; }

# The README's port is 8080; on a shared machine it may be taken, then any free one (the steps are the same).
port=8080
port_free "$port" || port=$(free_port)
dns_port=$(free_port)
server="http://127.0.0.1:$port"

setsid python3 "$repo/scripts/demo-dns.py" --port "$dns_port" --record sip.example.test=192.0.2.10,192.0.2.11 >"$work/dns.log" 2>&1 &
dns_pid=$!

# Starts the service as the README does (`dotnet run`), output to $1, and waits until it answers (10 minutes at most).
start_service() {
  (cd "$src" && exec setsid dotnet run --project src/RemoteTest -- --urls "$server" --RemoteTest:DataDirectory="$work/data") >"$1" 2>&1 &
  service_pid=$!
  for _ in $(seq 1 6000); do
    curl -sf -o /dev/null "$server/" && return 0
    kill -0 "$service_pid" 2>/dev/null || { cat "$1"; echo "quickstart: the service exited" >&2; exit 1; }
    sleep 0.1
  done
  echo "quickstart: no answer from $server within 10 minutes" >&2
  exit 1
}

echo "quick start on $server (DNS stand-in on 127.0.0.1:$dns_port), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

# 1. The service, as the README starts it; a fresh data directory so nothing of an earlier run is reused.
t=$(now)
start_service "$work/service.log"
report "service start (dotnet run until GET / answers)" "$(since "$t")"

# 2. The CLI as a tool (into a private tool path rather than --global; the same install otherwise).
t=$(now)
(cd "$src" && dotnet pack src/RemoteTest.Cli -c Release -o "$work/nupkg" -nologo -v quiet >"$work/pack.log" 2>&1) || { cat "$work/pack.log"; exit 1; }
dotnet tool install RemoteTest.Cli --tool-path "$work/tools" --add-source "$work/nupkg" >"$work/tool.log" 2>&1 || { cat "$work/tool.log"; exit 1; }
report "CLI install (dotnet pack + dotnet tool install)" "$(since "$t")" "once"
export REMOTETEST_SERVER="$server"
remotetest="$work/tools/remotetest"

# 3. The CLI quick start. Port 1 is closed, so the port test fails on purpose: exit code 1.
t=$(now)
code=0; "$remotetest" port "127.0.0.1:$port,1" >"$work/cli-port.out" 2>&1 || code=$?
[ "$code" -eq 1 ] || { cat "$work/cli-port.out"; echo "quickstart: port test exit $code, expected 1" >&2; exit 1; }
report "CLI port test (remotetest port 127.0.0.1:$port,1)" "$(since "$t")" "exit 1: port 1 closed, as expected"

cat >"$work/dns_data.json" <<'EOF'
{"sip.example.test": {"original": ["192.0.2.10"], "13056": ["192.0.2.10", "192.0.2.11"]}}
EOF
t=$(now)
code=0; "$remotetest" dns check "$work/dns_data.json" --nameserver "127.0.0.1:$dns_port" >"$work/cli-dns.out" 2>&1 || code=$?
[ "$code" -eq 0 ] || { cat "$work/cli-dns.out"; echo "quickstart: DNS test exit $code, expected 0" >&2; exit 1; }
report "CLI DNS test (remotetest dns check dns_data.json)" "$(since "$t")" "exit 0: state 13056"

# 4. The browser quick start against the same service (the test project is built first; not a user step).
(cd "$src" && dotnet build tests/RemoteTest.Tests -c Release -nologo -v quiet >"$work/build-tests.log" 2>&1) || { tail -20 "$work/build-tests.log"; exit 1; }
REMOTETEST_QUICKSTART_URL="$server" REMOTETEST_QUICKSTART_NAMESERVER="127.0.0.1:$dns_port" REMOTETEST_QUICKSTART_REPORT="$work/browser" \
  dotnet test "$src/tests/RemoteTest.Tests" -c Release --no-build -nologo --filter "FullyQualifiedName~QuickStartUiTests" >"$work/browser.log" 2>&1 \
  || { tail -40 "$work/browser.log"; exit 1; }
while IFS=: read -r step seconds; do
  report "$step (open the page, fill in, Run, read the result)" "$(echo "$seconds" | tr -d ' s')"
done <"$work/browser"

# 5. The service again, already built (the everyday start): stop it, `dotnet run` once more on the same data.
kill -TERM -- "-$service_pid" 2>/dev/null || true
stop_pid TERM "$service_pid"
service_pid=""
while ! port_free "$port"; do sleep 0.1; done
t=$(now)
start_service "$work/service2.log"
report "service restart (dotnet run, already built)" "$(since "$t")"
