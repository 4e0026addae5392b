#!/usr/bin/env bash
# The benchmark of issue 8 in one command: builds RemoteTest (Release); starts the Celery original (when its
# source and the anchor's scripts are on this machine) and measures it with the anchor's bench.py, then stops
# it; runs bench/RemoteTest.Bench against RemoteTest (embedded, and 1 API + 2 workers on PostgreSQL + RabbitMQ)
# and nmap; prints one table with the original's column and writes it to bench/results/.
#
#   bench/run.sh [harness options]        e.g. bench/run.sh --runs 3     (bench/run.sh --help lists them)
#
# Environment (all optional):
#   ORIGINAL=auto|0|1     measure the original with the anchor's bench.py first (then stop it): auto = when
#                         ORIGINAL_SEED and ANCHOR_DIR exist (default auto); ORIGINAL_RUNS=N its runs of a–d
#                         (default 1); ORIGINAL_ARGS="..." more bench.py options (e.g. "--tp-n 200" while developing)
#   ORIGINAL_SEED=DIR     the original's bare git directory or exported copy (no default: without it the original
#                         is skipped)
#   ANCHOR_DIR=DIR        the anchor's setup_and_start.sh / stop.sh (default ../shared/anchors/seed-celery)
#   ORIGINAL_API_PORT=28081 ORIGINAL_REDIS_PORT=26379   loopback ports for the original
#   SCALEOUT=auto|0|1     also measure 1 API + 2 workers on PostgreSQL + RabbitMQ, with throw-away servers from
#                         scripts/pg.sh and scripts/rabbitmq.sh (auto = when those exist)
#   RESULTS=DIR           where the table and JSON go (default bench/results)
# Nothing here leaves the machine: every server and target is on 127.0.0.0/8.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]; then
  dotnet build bench/RemoteTest.Bench -c Release -nologo -v quiet >/dev/null
  exec dotnet bench/RemoteTest.Bench/bin/Release/net10.0/RemoteTest.Bench.dll --help
fi

ORIGINAL=${ORIGINAL:-auto}
ORIGINAL_SEED=${ORIGINAL_SEED:-}
ANCHOR_DIR=${ANCHOR_DIR:-$ROOT/../shared/anchors/seed-celery}
SCALEOUT=${SCALEOUT:-auto}
RESULTS=${RESULTS:-$ROOT/bench/results}

need_debs() {  # install Debian packages that are missing (root only; the harness says what is skipped otherwise)
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then echo "bench: missing Debian packages: ${missing[*]}" >&2; return 1; fi
  echo "# installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${missing[@]}" >/dev/null
}

need_debs nmap || true
echo "# building (Release)"
dotnet build RemoteTest.slnx -c Release -nologo -v quiet >/dev/null

WORK=$(mktemp -d /tmp/remotetest-bench.XXXXXX)
args=(--work "$WORK")
cleanup=()
on_exit() {
  local i
  for ((i = ${#cleanup[@]} - 1; i >= 0; i--)); do eval "${cleanup[$i]}" || true; done
}
trap on_exit EXIT

if [ "$ORIGINAL" != 0 ] && [ -x "$ANCHOR_DIR/setup_and_start.sh" ] && [ -f "$ANCHOR_DIR/bench.py" ] && [ -e "$ORIGINAL_SEED" ]; then
  need_debs redis-server python3-celery python3-flask python3-redis python3-dnspython python3-zeep \
            python3-requests python3-lxml gunicorn
  api_port=${ORIGINAL_API_PORT:-28081}
  echo "# starting the original (Flask + Celery + Redis) on 127.0.0.1:$api_port"
  cleanup+=("'$ANCHOR_DIR/stop.sh' '$WORK/original' >/dev/null 2>&1")
  PYTHON=/usr/bin/python3 API_PORT=$api_port REDIS_PORT=${ORIGINAL_REDIS_PORT:-26379} \
    "$ANCHOR_DIR/setup_and_start.sh" "$ORIGINAL_SEED" "$WORK/original"
  # The original is measured by the anchor's own client, right after its start (its idle memory comes first),
  # then stopped, so that its idle processes do not share the CPU with RemoteTest's runs.
  echo "# measuring the original with the anchor's bench.py (runs: ${ORIGINAL_RUNS:-1})"
  echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  # shellcheck disable=SC2086  # ORIGINAL_ARGS: extra bench.py options, word-split on purpose (e.g. "--tp-n 200")
  if ! /usr/bin/python3 "$ANCHOR_DIR/bench.py" --url "http://127.0.0.1:$api_port" --pids-dir "$WORK/original/pids" \
      --runs "${ORIGINAL_RUNS:-1}" --port-base 30000 --label "celery original, bench/run.sh" \
      --json "$WORK/original-benchpy.json" ${ORIGINAL_ARGS:-} 2>&1 | sed -u 's/^/original | /'; then
    echo "# bench.py against the original failed; the table shows the anchor's figures only" >&2
  fi
  echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
  "$ANCHOR_DIR/stop.sh" "$WORK/original" >/dev/null 2>&1 || true
  [ -s "$WORK/original-benchpy.json" ] && args+=(--original-benchpy "$WORK/original-benchpy.json")
elif [ "$ORIGINAL" = 1 ]; then
  echo "bench: ORIGINAL=1 but $ANCHOR_DIR/setup_and_start.sh, bench.py or $ORIGINAL_SEED is missing" >&2
  exit 1
fi

# The scaled-out set-up: PostgreSQL (task store) and RabbitMQ (queues), throw-away servers on loopback.
if [ "$SCALEOUT" != 0 ] && [ -x scripts/pg.sh ] && [ -x scripts/rabbitmq.sh ]; then
  pg_port=${BENCH_PG_PORT:-25432}
  mq_port=${BENCH_RABBITMQ_PORT:-25673}
  echo "# starting PostgreSQL on 127.0.0.1:$pg_port and RabbitMQ on 127.0.0.1:$mq_port for the scaled-out set-up"
  cleanup+=("scripts/pg.sh stop '$WORK/pg'" "scripts/rabbitmq.sh stop '$WORK/rabbitmq'")
  pg_cs=$(scripts/pg.sh start "$WORK/pg" "$pg_port")
  mq_uri=$(scripts/rabbitmq.sh start "$WORK/rabbitmq" "$mq_port")
  args+=(--systems embedded,postgres --postgres "$pg_cs" --rabbitmq "$mq_uri")
elif [ "$SCALEOUT" = 1 ]; then
  echo "bench: SCALEOUT=1 but scripts/pg.sh or scripts/rabbitmq.sh is missing" >&2
  exit 1
fi

mkdir -p "$RESULTS"
stamp=$(date -u +%Y-%m-%dT%H%MZ)
dotnet bench/RemoteTest.Bench/bin/Release/net10.0/RemoteTest.Bench.dll "${args[@]}" \
  --markdown "$RESULTS/$stamp.md" --json "$RESULTS/$stamp.json" "$@"
echo "# table: $RESULTS/$stamp.md"
