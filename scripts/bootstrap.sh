#!/usr/bin/env bash
# Installs what carto needs on Debian 12 when it is missing: PostGIS, GDAL, Chromium (browser tests),
# exiftool (photo privacy tests), Node.js (MapLibre from npm), docker-compose (config check only). Fast no-op when everything is there.
set -euo pipefail

need=()
[ -x /usr/lib/postgresql/15/bin/postgres ] || need+=(postgresql-15)
[ -f /usr/share/postgresql/15/extension/postgis.control ] || need+=(postgresql-15-postgis-3)
command -v ogrinfo >/dev/null || need+=(gdal-bin)
command -v chromium >/dev/null || need+=(chromium)
command -v exiftool >/dev/null || need+=(libimage-exiftool-perl)
command -v npm >/dev/null || need+=(nodejs npm)
command -v docker-compose >/dev/null || need+=(docker-compose)  # validates docker-compose.yml in the tests

if [ ${#need[@]} -gt 0 ]; then
  echo "bootstrap: installing ${need[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
