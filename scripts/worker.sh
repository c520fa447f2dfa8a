#!/usr/bin/env bash
# The job worker (Procrastinate, carto/tasks.py) beside `make run` / `make serve`: started in the background
# with its pid in .run/worker.pid and its log in .run/worker.log; `make stop` stops it (SIGTERM: the job in
# hand finishes, up to PROCRASTINATE_WORKER_DEFAULTS' shutdown_graceful_timeout).
set -euo pipefail

cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
RUN_DIR=.run
PID_FILE=$RUN_DIR/worker.pid

running() { [ -f "$PID_FILE" ] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; }

start() {
  mkdir -p "$RUN_DIR"
  if running; then
    echo "worker: already running (pid $(cat "$PID_FILE"))"
    return
  fi
  nohup "$PY" manage.py procrastinate worker >>"$RUN_DIR/worker.log" 2>&1 &
  echo $! >"$PID_FILE"
  echo "worker: started (pid $!, log $RUN_DIR/worker.log)"
}

stop() {
  if running; then
    pid=$(cat "$PID_FILE")
    kill -TERM "$pid"
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    echo "worker: stopped"
  fi
  rm -f "$PID_FILE"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: scripts/worker.sh start|stop" >&2; exit 2 ;;
esac
