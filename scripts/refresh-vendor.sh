#!/usr/bin/env bash
# For maintainers only: refresh the browser assets vendored under maps/static/vendor/ from npm.
# Users never need Node.js: the files are committed. Change a version in
# maps/static/vendor/package.json, run this script (it needs npm), review `git diff --stat`,
# run the map tests, commit. maps/assets.py names each package's version: update it too.
# Usage: scripts/refresh-vendor.sh
set -euo pipefail
cd "$(dirname "$0")/.."
vendor=maps/static/vendor
command -v npm >/dev/null 2>&1 || { echo "npm is needed to refresh the vendored assets (apt-get install npm)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$vendor/package.json" "$vendor/package-lock.json" "$work/"
if [ "${1:-}" = --update-lock ]; then
    (cd "$work" && npm install --no-audit --no-fund --omit=peer --loglevel=error >/dev/null)
    cp "$work/package-lock.json" "$vendor/package-lock.json"
else
    (cd "$work" && npm ci --no-audit --no-fund --omit=peer --loglevel=error >/dev/null)
fi
nm="$work/node_modules"

# copy PACKAGE_DIR DEST FILE...: the files the maps use (same relative paths as in the package).
copy() {
    local from=$1 to=$2 f
    shift 2
    rm -rf "${vendor:?}/$to"
    for f in "$@"; do
        mkdir -p "$vendor/$to/$(dirname "$f")"
        cp "$nm/$from/$f" "$vendor/$to/$f"
    done
}

copy bootstrap bootstrap LICENSE dist/css/bootstrap.min.css dist/js/bootstrap.bundle.min.js
copy drmonty-leaflet-awesome-markers awesome-markers \
    js/leaflet.awesome-markers.min.js js/leaflet.awesome-markers.js css/leaflet.awesome-markers.css \
    css/images/markers-shadow.png css/images/markers-shadow@2x.png \
    css/images/markers-soft.png css/images/markers-soft@2x.png
# The npm package ships no licence file; its package.json says MIT and names the author.
cat > "$vendor/awesome-markers/LICENSE" <<'LICENSE'
The MIT License (MIT)

Copyright (c) 2012-2013 Lennard Voogdt (Leaflet.awesome-markers 2.0.2,
npm package drmonty-leaflet-awesome-markers)

Permission is hereby granted, free of charge, to any person obtaining a copy of
this software and associated documentation files (the "Software"), to deal in
the Software without restriction, including without limitation the rights to
use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies of
the Software, and to permit persons to whom the Software is furnished to do so,
subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS
FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR
COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER
IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN
CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
LICENSE
copy leaflet.fullscreen fullscreen LICENSE Control.FullScreen.js Control.FullScreen.css icon-fullscreen.svg
# Leaflet.VectorGrid draws the server's vector tiles (large layers on served maps). Its bundled
# build includes pbf, vector-tile, point-geometry, ieee754, topojson-client and
# whatwg-fetch; its npm package has no licence file (README: Beerware), so LICENSE gathers its
# licence text and those of the bundled packages.
copy leaflet.vectorgrid vectorgrid dist/Leaflet.VectorGrid.bundled.min.js
{
    echo "Leaflet.VectorGrid 1.3.0 (npm leaflet.vectorgrid), https://github.com/Leaflet/Leaflet.VectorGrid"
    echo "Licence, from its README (package.json: \"Beerware\"):"
    echo
    sed -n '/^## Legalese/,$p' "$nm/leaflet.vectorgrid/README.md" | tail -n +2
    for dep in pbf vector-tile @mapbox/point-geometry point-geometry ieee754 topojson-client whatwg-fetch; do
        [ -d "$nm/$dep" ] || continue
        echo
        echo "----------------------------------------------------------------------"
        echo "Bundled in the build: $dep (licence text from npm $dep $(node -p "require('$nm/$dep/package.json').version"))"
        echo
        cat "$nm/$dep"/LICEN[CS]E* 2>/dev/null || echo "licence: $(node -p "require('$nm/$dep/package.json').license")"
    done
} > "$vendor/vectorgrid/LICENSE"

echo "vendored into $vendor:" >&2
du -sh "$vendor"/*/ >&2
