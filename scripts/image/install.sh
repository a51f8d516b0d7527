#!/bin/sh
# Installs the tarball $2 made by pack.sh, with its runtime dependencies only, under the prefix $1
# ($1/lib/node_modules/updraft, and the `updraft` command in $1/bin). The Dockerfile's runtime
# stage runs this with /usr/local; image.test.ts runs it into an empty folder.
set -eu
npm install --global --prefix "$1" --omit=dev --no-audit --no-fund --loglevel=error "$2"
