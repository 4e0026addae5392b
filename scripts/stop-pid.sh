# Sourced by pg.sh and rabbitmq.sh: stop_pid SIGNAL PID sends the signal and waits (30 s at most) for the
# process to exit, then kills it.
stop_pid() {
  local signal=$1 pid=$2 i
  kill "-$signal" "$pid" 2>/dev/null || return 0
  for i in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}
