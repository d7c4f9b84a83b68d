#!/usr/bin/env bash
# The main job: set up, build, then run the thesis pipeline on MNIST with the defaults
# (train the VAE on 60,000 images, encode and invert the first 5000, analyze, report).
# Extra arguments go to `preimage run`, e.g. scripts/run.sh --images all
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
scripts/setup.sh
build="${PREIMAGE_BUILD_DIR:-build}"
cmake --build "$build" -j "$(nproc)" --target preimage
echo "run: set-up and build took $((SECONDS - start)) s"
exec "$build/src/cli/preimage" run --out runs/default "$@"
