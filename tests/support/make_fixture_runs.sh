#!/usr/bin/env bash
# Makes the run folders the test suite shares (tests/support/fixture_runs.h), once per CTest run:
#   make_fixture_runs.sh PREIMAGE DATA_DIR OUT
# Made in place (the second run names the first one's model by its absolute path); OUT/done is
# written last: the tests refuse a fixture without it (half-made). The commands run in an empty
# OUT/cwd with the user's cache at OUT/cache (XDG_CACHE_HOME), so that a test can check that
# nothing was written anywhere else than the run folders and the cache.
set -euo pipefail
preimage=$1 data=$2 out=$3
rm -rf "$out"
mkdir -p "$out/cwd" "$out/cache"
cd "$out/cwd"
export XDG_CACHE_HOME="$out/cache"
flags=(--data-dir "$data" --train-images 6000 --eval-images 200 --images 200 --epochs 2
       --hidden-width 64 --batch-size 64 --quiet)
# The classifier is trained on first use into the cache (one epoch on 6000 images).
"$preimage" run --out "$out/run" "${flags[@]}" --curves 0 3 \
  --classifier-train-images 0:6000 --classifier-epochs 1 \
  --bonus-epochs 5 --amortized-epochs 2 --lowest 50 \
  --likelihood-points 301 --likelihood-test-images 0:100 > "$out/run_output.txt" 2>&1 ||
  { cat "$out/run_output.txt"; exit 1; }
"$preimage" run --out "$out/inverted" --model "$out/run/model.pt" --data-dir "$data" \
  --images 120 --method gauss-newton --no-analyze --no-report --quiet
touch "$out/done"
