#!/usr/bin/env bash
# Throw-away RabbitMQ brokers for tests and trials, on loopback only.
#   scripts/rabbitmq.sh install          install Debian's rabbitmq-server once (apt-get), if missing
#   scripts/rabbitmq.sh start DIR PORT [CONSUMER_TIMEOUT_MS]
#                                        start a broker on 127.0.0.1:PORT keeping everything in DIR (data, logs,
#                                        config, Erlang cookie, HOME), print its AMQP URI; it runs until stopped.
#                                        CONSUMER_TIMEOUT_MS (default 3600000) below a minute also makes the broker
#                                        check it every second (tests of the consumer_timeout pitfall)
#   scripts/rabbitmq.sh stop DIR         stop the broker of DIR gracefully (its queues survive a start again)
#   scripts/rabbitmq.sh ctl DIR ARGS...  run rabbitmqctl against the broker of DIR (e.g. list_queues)
# Each broker has its own node name, cookie, epmd port and distribution port, all bound to 127.0.0.1: the
# Debian service's defaults (epmd and distribution on 0.0.0.0, node rabbit@host) are never used. The Debian
# wrappers in /usr/sbin switch to the rabbitmq user; this script runs the binaries under /usr/lib/rabbitmq/bin
# directly as the calling user, so DIR needs no special owner.
set -euo pipefail
. "$(dirname "$0")/stop-pid.sh"

BIN=/usr/lib/rabbitmq/bin

install() {
  if [ -x "$BIN/rabbitmq-server" ]; then return 0; fi
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  # Another apt-get may hold the lock (other installs on a shared machine): wait for it rather than fail.
  $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
  # policy-rc.d or not, the packaged service is not needed: tests start their own brokers.
  $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends rabbitmq-server >/dev/null
  [ -x "$BIN/rabbitmq-server" ] || { echo "rabbitmq.sh: rabbitmq-server installed but $BIN/rabbitmq-server is missing" >&2; exit 1; }
}

# A free loopback TCP port, asked of the kernel.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The broker's environment: everything inside DIR, nothing from /etc/rabbitmq or /var/lib/rabbitmq.
broker_env() {
  local dir=$1 port=$2
  # Ports of the Erlang side, chosen once per DIR so a restart uses the same ones.
  if [ ! -f "$dir/ports" ]; then
    echo "$(free_port) $(free_port)" >"$dir/ports"
  fi
  read -r epmd_port dist_port <"$dir/ports"
  export HOME="$dir/home"
  export RABBITMQ_NODENAME="rt$port@localhost"
  export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
  export RABBITMQ_NODE_PORT="$port"
  export RABBITMQ_DIST_PORT="$dist_port"
  export ERL_EPMD_ADDRESS=127.0.0.1
  export ERL_EPMD_PORT="$epmd_port"
  export RABBITMQ_MNESIA_BASE="$dir/mnesia"
  export RABBITMQ_LOG_BASE="$dir/log"
  export RABBITMQ_CONFIG_FILE="$dir/rabbitmq.conf"
  export RABBITMQ_ADVANCED_CONFIG_FILE="$dir/advanced.config"
  export RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins"
  export RABBITMQ_CONF_ENV_FILE=/dev/null
  export RABBITMQ_PID_FILE="$dir/rabbit.pid"
  # Erlang distribution (rabbitmqctl's way in) on loopback only.
  export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
}

start() {
  local dir=$1 port=$2 timeout=${3:-3600000} i pid
  install
  mkdir -p "$dir/home" "$dir/log" "$dir/mnesia"
  broker_env "$dir" "$port"
  if [ ! -f "$HOME/.erlang.cookie" ]; then
    head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' >"$HOME/.erlang.cookie"
    chmod 400 "$HOME/.erlang.cookie"
  fi
  [ -f "$dir/enabled_plugins" ] || echo "[]." >"$dir/enabled_plugins"
  if [ "$timeout" -lt 60000 ]; then
    # The broker looks for overdue deliveries once per channel tick (60 s by default).
    echo "[{rabbit, [{channel_tick_interval, 1000}]}]." >"$dir/advanced.config"
  else
    echo "[]." >"$dir/advanced.config"
  fi
  # consumer_timeout: a task may hold its message (unacked: acks_late) for RemoteTest:Worker:TaskTimeLimit
  # plus the shutdown grace; the broker's default (30 min) would close the channel of a longer task.
  cat >"$dir/rabbitmq.conf" <<EOF
listeners.tcp.1 = 127.0.0.1:$port
consumer_timeout = $timeout
log.console = false
log.file.level = warning
# Tests fill and drain queues fast; never block publishers for a nearly full test disk.
disk_free_limit.absolute = 50MB
EOF
  rm -f "$dir/rabbit.pid"
  # The wrapper stays in front of the Erlang VM and turns SIGTERM into a clean shutdown.
  setsid "$BIN/rabbitmq-server" >"$dir/log/stdout.log" 2>&1 </dev/null &
  echo $! >"$dir/wrapper.pid"
  for i in $(seq 1 600); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "amqp://guest:guest@127.0.0.1:$port/"
      return 0
    fi
    pid=$(cat "$dir/wrapper.pid")
    if ! kill -0 "$pid" 2>/dev/null; then break; fi
    sleep 0.1
  done
  tail -n 30 "$dir/log/stdout.log" >&2 || true
  tail -n 30 "$dir"/log/*.log >&2 || true
  exit 1
}

stop() {
  local dir=$1
  [ -f "$dir/wrapper.pid" ] || return 0
  stop_pid TERM "$(cat "$dir/wrapper.pid")"
  # The VM itself, should the wrapper have gone first.
  if [ -f "$dir/rabbit.pid" ]; then stop_pid TERM "$(cat "$dir/rabbit.pid")"; fi
  rm -f "$dir/wrapper.pid" "$dir/rabbit.pid"
  # This broker's own epmd (nothing else registers on its port).
  if [ -f "$dir/ports" ]; then
    read -r epmd_port _ <"$dir/ports"
    ERL_EPMD_ADDRESS=127.0.0.1 epmd -port "$epmd_port" -kill >/dev/null 2>&1 || true
  fi
}

ctl() {
  local dir=$1; shift
  local port
  port=$(sed -n 's/^listeners.tcp.1 = 127.0.0.1://p' "$dir/rabbitmq.conf")
  broker_env "$dir" "$port"
  "$BIN/rabbitmqctl" -n "$RABBITMQ_NODENAME" "$@"
}

case "${1:-}" in
  install) install ;;
  start) [ $# -eq 3 ] || [ $# -eq 4 ] || { echo "usage: $0 start DIR PORT [CONSUMER_TIMEOUT_MS]" >&2; exit 2; }; start "$2" "$3" "${4:-}" ;;
  stop) [ $# -eq 2 ] || { echo "usage: $0 stop DIR" >&2; exit 2; }; stop "$2" ;;
  ctl) [ $# -ge 3 ] || { echo "usage: $0 ctl DIR ARGS..." >&2; exit 2; }; shift; ctl "$@" ;;
  *) echo "usage: $0 install | start DIR PORT [CONSUMER_TIMEOUT_MS] | stop DIR | ctl DIR ARGS..." >&2; exit 2 ;;
esac
