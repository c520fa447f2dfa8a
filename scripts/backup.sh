#!/usr/bin/env bash
# Back up carto: a custom-format pg_dump of the database and a tar of the media folder, into
# backups/<UTC timestamp>/ with a manifest of SHA-256 sums (the archives, and every media file).
# Reads DATABASE_URL (default: the project-local cluster) and CARTO_MEDIA_ROOT (default: ./media);
# BACKUP_DIR chooses the parent folder. Prints the backup folder on the last line.
set -euo pipefail
# Backups hold exact pin locations (private): readable by their owner only.
umask 077

[ -n "${BACKUP_DIR:-}" ] && BACKUP_DIR=$(realpath -m "$BACKUP_DIR")
[ -n "${CARTO_MEDIA_ROOT:-}" ] && CARTO_MEDIA_ROOT=$(realpath -m "$CARTO_MEDIA_ROOT")
cd "$(dirname "$0")/.."
# Prefer the cluster's own major version of the client tools (a newer pg_dump is fine, an older one is not).
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
[ -x "$PGBIN/pg_dump" ] || PGBIN=$(dirname "$(command -v pg_dump)")

env_or_dotenv() {  # $1: variable name, $2: default. The environment wins over .env, as in settings.py.
  local value="${!1:-}"
  if [ -z "$value" ] && [ -f .env ]; then
    value=$(sed -n "s/^$1=//p" .env | tail -n 1)
  fi
  echo "${value:-$2}"
}

DB_URL=$(env_or_dotenv DATABASE_URL "postgis://carto@127.0.0.1:${CARTO_PGPORT:-55432}/carto")
DB_URL="postgresql://${DB_URL#*://}"  # libpq does not know Django's postgis:// scheme
MEDIA_ROOT=$(env_or_dotenv CARTO_MEDIA_ROOT "$PWD/media")
BACKUP_DIR=${BACKUP_DIR:-backups}

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out="$BACKUP_DIR/$stamp"
if [ -e "$out" ]; then
  echo "backup: $out already exists" >&2
  exit 1
fi
mkdir -p "$out"
# Never leave a half-written backup that looks complete.
trap 'rm -rf "$out"; echo "backup: failed, $out removed" >&2' ERR

started=$(date +%s%3N)
"$PGBIN/pg_dump" -Fc --no-owner -d "$DB_URL" -f "$out/db.dump"
dumped=$(date +%s%3N)

mkdir -p "$MEDIA_ROOT"
# Per-file sums first (relative paths, sorted), so that a restore can check every photo, not just the tar.
(cd "$MEDIA_ROOT" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum) > "$out/media.sha256"
tar -C "$MEDIA_ROOT" -czf "$out/media.tar.gz" .
archived=$(date +%s%3N)

(cd "$out" && sha256sum db.dump media.tar.gz media.sha256) > "$out/SHA256SUMS"
{
  echo "created_at=$stamp"
  # The address without any password: user@host:port/dbname.
  safe=${DB_URL#*://}
  case "$safe" in *@*) user=${safe%%@*}; echo "database=${user%%:*}@${safe#*@}" ;; *) echo "database=$safe" ;; esac
  echo "pg_dump=$("$PGBIN/pg_dump" --version)"
  echo "media_files=$(wc -l < "$out/media.sha256")"
  echo "dump_ms=$((dumped - started))"
  echo "media_ms=$((archived - dumped))"
} > "$out/MANIFEST"
trap - ERR
echo "backup: $(du -sh "$out" | cut -f1) in $out"
echo "$out"
