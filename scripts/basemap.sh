#!/usr/bin/env bash
# make basemap OSM=path/to/ile-de-france-latest.osm.pbf [BASEMAP_OUT=basemap/metropole.pmtiles]
#
# Builds the street basemap the resident's map draws when CARTO_BASEMAP_PMTILES points at it: the OSM extract
# clipped to the Métropole (osmium), cut into OpenMapTiles-schema vector tiles z0-14 (tilemaker's own
# OpenMapTiles profile, the layers frontend/static/frontend/basemap/style.json draws), packed as one PMTiles
# file. Debian 12's tilemaker (2.2) writes MBTiles only: the Python `pmtiles` converter repacks it.
# The extract is downloaded once by hand, e.g. Geofabrik's Île-de-France file (about 300 MB):
#   https://download.geofabrik.de/europe/france/ile-de-france-latest.osm.pbf
set -euo pipefail

OSM=${1:-${OSM:-}}
OUT=${BASEMAP_OUT:-basemap/metropole.pmtiles}
PY=${PY:-.venv/bin/python}
# The Métropole (frontend map.js METROPOLE_BOUNDS) and a margin of about 2 km, so the edges are not bare.
BBOX=2.11,48.62,2.65,49.04
PROFILE=/usr/share/doc/tilemaker/examples

if [[ -z "$OSM" || ! -f "$OSM" ]]; then
    echo "usage: make basemap OSM=path/to/ile-de-france-latest.osm.pbf (an OpenStreetMap extract, .osm.pbf or .osm)" >&2
    echo "download it once, e.g. https://download.geofabrik.de/europe/france/ile-de-france-latest.osm.pbf" >&2
    exit 2
fi

if ! command -v osmium >/dev/null || ! command -v tilemaker >/dev/null || [[ ! -f $PROFILE/process-openmaptiles.lua ]]; then
    if [[ $(id -u) -eq 0 ]]; then
        SUDO=()
    elif command -v sudo >/dev/null; then
        SUDO=(sudo)
    else
        echo "basemap: osmium-tool and tilemaker are needed: apt-get install osmium-tool tilemaker (as root)" >&2
        exit 1
    fi
    echo "basemap: installing osmium-tool and tilemaker (Debian packages)"
    "${SUDO[@]}" apt-get install -y -q osmium-tool tilemaker >/dev/null
fi
# The MBTiles to PMTiles converter (also a test dependency).
"$PY" -c "import pmtiles.convert" 2>/dev/null || "$PY" -m pip install -q "pmtiles>=3.4,<4"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "basemap: clipping $OSM to the Métropole ($BBOX)"
osmium extract --bbox "$BBOX" --strategy complete_ways --set-bounds --overwrite -o "$work/metropole.osm.pbf" "$OSM"

# tilemaker's OpenMapTiles profile, less its layers read from shapefiles (oceans, glaciers, Natural Earth's
# urban areas) that an inland city needs none of and that would have to be downloaded; credited to OSM.
"$PY" - "$PROFILE/config-openmaptiles.json" "$work/config.json" <<'EOF'
import json
import sys

config = json.load(open(sys.argv[1]))
config["layers"] = {name: layer for name, layer in config["layers"].items() if "source" not in layer}
config["settings"]["name"] = "carto basemap (OpenMapTiles schema)"
config["settings"]["filemetadata"] = {"attribution": "© OpenStreetMap contributors", "format": "pbf"}
json.dump(config, open(sys.argv[2], "w"), indent=1)
EOF

echo "basemap: cutting vector tiles (tilemaker)"
tilemaker --input "$work/metropole.osm.pbf" --output "$work/metropole.mbtiles" --bbox "$BBOX" \
    --config "$work/config.json" --process "$PROFILE/process-openmaptiles.lua"

mkdir -p "$(dirname "$OUT")"
"$PY" -c "import sys; from pmtiles.convert import mbtiles_to_pmtiles; mbtiles_to_pmtiles(sys.argv[1], sys.argv[2], None)" \
    "$work/metropole.mbtiles" "$OUT.tmp"
mv "$OUT.tmp" "$OUT"  # a running server never reads a half-written file

echo "basemap: $(du -h "$OUT" | cut -f1) written. Set, then restart the server:"
echo "CARTO_BASEMAP_PMTILES=$(realpath "$OUT")"
