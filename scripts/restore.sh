#!/usr/bin/env bash
# Restore a backup made by scripts/backup.sh into a fresh database and a media folder.
#   scripts/restore.sh backups/<timestamp>
# RESTORE_DB (default carto_restore) on the server of DATABASE_URL; RESTORE_MEDIA_DIR (default ./media_restore).
# Refuses to overwrite a database that holds tables, or a media folder that holds files, unless FORCE=1.
set -euo pipefail

# Paths given by the caller are relative to where they called from.
FROM=${1:-${FROM:-}}
[ -n "$FROM" ] && FROM=$(realpath -m "$FROM")
[ -n "${RESTORE_MEDIA_DIR:-}" ] && RESTORE_MEDIA_DIR=$(realpath -m "$RESTORE_MEDIA_DIR")
cd "$(dirname "$0")/.."
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
[ -x "$PGBIN/pg_restore" ] || PGBIN=$(dirname "$(command -v pg_restore)")

if [ -z "$FROM" ] || [ ! -f "$FROM/SHA256SUMS" ]; then
  echo "usage: $0 backups/<timestamp>   (a folder written by scripts/backup.sh)" >&2
  exit 2
fi

env_or_dotenv() {  # $1: variable name, $2: default. The environment wins over .env, as in settings.py.
  local value="${!1:-}"
  if [ -z "$value" ] && [ -f .env ]; then
    value=$(sed -n "s/^$1=//p" .env | tail -n 1)
  fi
  echo "${value:-$2}"
}

DB_URL=$(env_or_dotenv DATABASE_URL "postgis://carto@127.0.0.1:${CARTO_PGPORT:-55432}/carto")
DB_URL="postgresql://${DB_URL#*://}"
DB_URL=${DB_URL%%\?*}
SERVER_URL=${DB_URL%/*}  # postgresql://user[:password]@host:port
RESTORE_DB=${RESTORE_DB:-carto_restore}
RESTORE_MEDIA_DIR=${RESTORE_MEDIA_DIR:-$PWD/media_restore}
FORCE=${FORCE:-0}

if ! [[ "$RESTORE_DB" =~ ^[a-z_][a-z0-9_]*$ ]]; then
  echo "restore: RESTORE_DB must be a plain lower-case identifier" >&2
  exit 2
fi

# 1. The archives are exactly what the backup wrote.
(cd "$FROM" && sha256sum --quiet -c SHA256SUMS)

# 2. The target database: created, or empty, or FORCE=1 (then dropped and recreated).
psql_server() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$SERVER_URL/postgres" "$@"; }
# RESTORE_DB was checked to be a plain identifier above, so it can be spelled inside the query.
exists=$(psql_server -tAc "SELECT 1 FROM pg_database WHERE datname = '$RESTORE_DB'")
if [ "$exists" = "1" ]; then
  tables=$("$PGBIN/psql" -X -tA -d "$SERVER_URL/$RESTORE_DB" -c \
    "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') AND tablename <> 'spatial_ref_sys'")
  if [ "$tables" != "0" ] && [ "$FORCE" != "1" ]; then
    echo "restore: database $RESTORE_DB holds $tables tables; set FORCE=1 to replace it" >&2
    exit 1
  fi
  psql_server -c "DROP DATABASE $RESTORE_DB WITH (FORCE)"
fi
if [ -d "$RESTORE_MEDIA_DIR" ] && [ -n "$(find "$RESTORE_MEDIA_DIR" -type f -print -quit)" ] && [ "$FORCE" != "1" ]; then
  echo "restore: $RESTORE_MEDIA_DIR is not empty; set FORCE=1 to replace it" >&2
  exit 1
fi

started=$(date +%s%3N)
psql_server -c "CREATE DATABASE $RESTORE_DB"
# One transaction: a restore that fails half-way leaves an empty database, never a partial one.
"$PGBIN/pg_restore" --no-owner --exit-on-error --single-transaction -d "$SERVER_URL/$RESTORE_DB" "$FROM/db.dump"
"$PGBIN/psql" -X -q -d "$SERVER_URL/$RESTORE_DB" -c "ANALYZE"  # planner statistics are not in a dump
restored=$(date +%s%3N)

# 3. Media: unpacked, then every file checked against the per-file sums taken at backup time.
rm -rf "$RESTORE_MEDIA_DIR"
mkdir -p "$RESTORE_MEDIA_DIR"
tar -C "$RESTORE_MEDIA_DIR" -xzf "$FROM/media.tar.gz"
if [ -s "$FROM/media.sha256" ]; then
  (cd "$RESTORE_MEDIA_DIR" && sha256sum --quiet -c "$FROM/media.sha256")
fi
unpacked=$(date +%s%3N)

echo "restore: database $RESTORE_DB in $((restored - started)) ms," \
  "media into $RESTORE_MEDIA_DIR in $((unpacked - restored)) ms"
