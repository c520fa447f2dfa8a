#!/usr/bin/env bash
# The project-local PostGIS cluster: initdb into .pgdata/ (git-ignored), its own port, started with pg_ctl
# and reused if already running. Skipped entirely when DATABASE_URL is set by the user.
# initdb/postgres refuse to run as root, so as root the cluster belongs to the `postgres` system user.
set -euo pipefail

cd "$(dirname "$0")/.."
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
PGDATA_DIR=${CARTO_PGDATA:-$PWD/.pgdata}
PORT=${CARTO_PGPORT:-55432}
DB=${CARTO_PGDATABASE:-carto}
USER_NAME=carto

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
  if [ -n "${DATABASE_URL:-}" ]; then
    echo "pg: DATABASE_URL is set, using it (no local cluster started)"
    return
  fi
  if [ ! -f "$PGDATA_DIR/PG_VERSION" ]; then
    echo "pg: initdb into $PGDATA_DIR"
    mkdir -p "$PGDATA_DIR"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$PGDATA_DIR"
    chmod 700 "$PGDATA_DIR"
    # trust on loopback only: a developer cluster bound to 127.0.0.1 and a private socket folder.
    as_owner "$PGBIN/initdb" -D "$PGDATA_DIR" -U "$USER_NAME" --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  if as_owner "$PGBIN/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1; then
    echo "pg: already running on 127.0.0.1:$PORT"
  else
    as_owner "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -l "$PGDATA_DIR/server.log" -w -t 60 \
      -o "-p $PORT -k $PGDATA_DIR -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=512MB -c fsync=on -c wal_level=replica -c max_wal_senders=5" start >/dev/null
    echo "pg: started on 127.0.0.1:$PORT"
  fi
  if ! "$PGBIN/psql" -h 127.0.0.1 -p "$PORT" -U "$USER_NAME" -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
    "$PGBIN/createdb" -h 127.0.0.1 -p "$PORT" -U "$USER_NAME" "$DB"
  fi
  "$PGBIN/psql" -q -h 127.0.0.1 -p "$PORT" -U "$USER_NAME" -d "$DB" \
    -c "CREATE EXTENSION IF NOT EXISTS postgis" -c "CREATE EXTENSION IF NOT EXISTS pg_trgm" \
    -c "CREATE EXTENSION IF NOT EXISTS unaccent" 2>&1 | grep -v "already exists" || true
}

stop() {
  if [ -f "$PGDATA_DIR/PG_VERSION" ]; then
    as_owner "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -m fast stop >/dev/null 2>&1 && echo "pg: stopped" || echo "pg: not running"
  fi
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
