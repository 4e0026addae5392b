#!/usr/bin/env bash
# Throw-away PostgreSQL servers for tests and trials, on loopback only.
#   scripts/pg.sh install            install Debian's postgresql once (apt-get), if missing
#   scripts/pg.sh start DIR PORT     create a cluster in DIR (if new), start it on 127.0.0.1:PORT, print its
#                                    Npgsql connection string; the server runs until stopped
#   scripts/pg.sh stop DIR           stop the server of DIR by the PID in DIR/postmaster.pid
# The cluster trusts local connections and skips fsync: it is for tests, never for data you keep.
set -euo pipefail
. "$(dirname "$0")/stop-pid.sh"

bindir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$d" ] && [ -x "$d/postgres" ] && echo "$d"
}

# PostgreSQL refuses to run as root: as root, the cluster belongs to the Debian package's postgres user.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

install() {
  if bindir >/dev/null; then return 0; fi
  export DEBIAN_FRONTEND=noninteractive
  # Another apt-get may hold the lock (other installs on a shared machine): wait for it rather than fail.
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends postgresql >/dev/null
  bindir >/dev/null || { echo "pg.sh: postgresql installed but no server binary found" >&2; exit 1; }
}

start() {
  local dir=$1 port=$2 bin
  install
  bin=$(bindir)
  mkdir -p "$dir"
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres "$dir"; chmod 700 "$dir"
    chmod o+x "$(dirname "$dir")"   # the postgres user must reach DIR through its parent (mktemp makes it 700)
  fi
  if [ ! -f "$dir/PG_VERSION" ]; then
    as_owner "$bin/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 --no-sync >"$dir.initdb.log" 2>&1 \
      || { cat "$dir.initdb.log" >&2; exit 1; }
  fi
  as_owner "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=300" \
    start >/dev/null || { tail -n 20 "$dir/server.log" >&2; exit 1; }
  echo "Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres"
}

stop() {
  local dir=$1
  [ -f "$dir/postmaster.pid" ] || return 0
  stop_pid INT "$(head -n 1 "$dir/postmaster.pid")"   # SIGINT: PostgreSQL's fast shutdown
}

case "${1:-}" in
  install) install ;;
  start) [ $# -eq 3 ] || { echo "usage: $0 start DIR PORT" >&2; exit 2; }; start "$2" "$3" ;;
  stop) [ $# -eq 2 ] || { echo "usage: $0 stop DIR" >&2; exit 2; }; stop "$2" ;;
  *) echo "usage: $0 install | start DIR PORT | stop DIR" >&2; exit 2 ;;
esac
