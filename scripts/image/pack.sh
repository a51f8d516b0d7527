#!/bin/sh
# Packs the built `updraft` package (dist/ and ui-dist/ must exist: `npm run build`) into a
# tarball in $1 and prints its path. The Dockerfile's build stage runs this; so does
# packages/updraft/test/chart/image.test.ts, which checks the image's install steps without Docker.
set -eu
out="$1"
mkdir -p "$out"
name=$(npm pack --workspace updraft --pack-destination "$out" --silent | tail -n 1)
echo "$out/$name"
