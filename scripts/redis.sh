#!/usr/bin/env bash
# Throw-away Redis servers for tests and trials, on loopback only.
#   scripts/redis.sh install          install Debian's redis-server once (apt-get), if missing
#   scripts/redis.sh start DIR PORT   start a server on 127.0.0.1:PORT keeping its files in DIR, print its
#                                     StackExchange.Redis connection string; the server runs until stopped
#   scripts/redis.sh stop DIR         stop the server of DIR by the PID in DIR/redis.pid
# The append-only file is on with fsync per write, so a restarted server still has every queued job.
set -euo pipefail
. "$(dirname "$0")/stop-pid.sh"

install() {
  if command -v redis-server >/dev/null; then return 0; fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends redis-server >/dev/null
  command -v redis-server >/dev/null || { echo "redis.sh: redis-server installed but not on PATH" >&2; exit 1; }
}

start() {
  local dir=$1 port=$2 i
  install
  mkdir -p "$dir"
  rm -f "$dir/redis.pid"
  redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" --daemonize yes --pidfile "$dir/redis.pid" \
    --logfile "$dir/redis.log" --appendonly yes --appendfsync always --save "" --protected-mode yes >/dev/null
  for i in $(seq 1 100); do
    if redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG; then
      # resp2: Hangfire's pub/sub fetch needs RESP2 with StackExchange.Redis 3.x.
      echo "127.0.0.1:$port,protocol=resp2,abortConnect=false"
      return 0
    fi
    sleep 0.1
  done
  tail -n 20 "$dir/redis.log" >&2
  exit 1
}

stop() {
  local dir=$1
  [ -f "$dir/redis.pid" ] || return 0
  stop_pid TERM "$(cat "$dir/redis.pid")"
}

case "${1:-}" in
  install) install ;;
  start) [ $# -eq 3 ] || { echo "usage: $0 start DIR PORT" >&2; exit 2; }; start "$2" "$3" ;;
  stop) [ $# -eq 2 ] || { echo "usage: $0 stop DIR" >&2; exit 2; }; stop "$2" ;;
  *) echo "usage: $0 install | start DIR PORT | stop DIR" >&2; exit 2 ;;
esac
