#!/usr/bin/env bash
# The hardening job, apart from the suite (CI runs it after scripts/test.sh): one clang build in
# build-harden, instrumented with AddressSanitizer + UndefinedBehaviorSanitizer and libFuzzer's
# coverage (-fsanitize=address,undefined,fuzzer-no-link, -O1, line tables), that serves both:
#   1. the tests of the modules that read what a user hands the tool (util, stats, data, run,
#      decoders: .npy, IDX, PNG masks, .npz, .h5, TorchScript, run folders, checkpoints), under
#      the sanitizers;
#   2. the fuzz targets of fuzz/, one per loader of a user's file, each for N seconds
#      (scripts/fuzz.sh).
# Only what those need is built: not the `preimage` executable, training, the pipeline or the
# report's figures.
#   scripts/harden.sh               both, 20 s per fuzz target (what CI runs)
#   scripts/harden.sh 300           fuzz each target for 300 s
#   PREIMAGE_HARDEN_DIR=DIR         build folder (default build-harden)
# A sanitizer report anywhere, also in a child process, is written under
# build-harden/sanitizer-logs/ and fails the job even when the test that caused it passed.
# LibTorch, HDF5 and libzip themselves are not instrumented.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-20}"
source scripts/lib/harden_build.sh
start=$SECONDS
tests=(test_util test_stats test_data test_run test_decoders)
harden_build "${tests[@]}" "${fuzz_targets[@]}"
echo "harden: build took $((SECONDS - start)) s"

start=$SECONDS
logs="$PWD/$build/sanitizer-logs"
rm -rf "$logs"
mkdir -p "$logs"
supp="$PWD/scripts/sanitizers"
status=0
regex="^($(IFS='|'; echo "${tests[*]}"))\$"
(cd "$build" &&
   ASAN_OPTIONS="log_path=$logs/asan:${ASAN_OPTIONS:-}" \
   LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0:${LSAN_OPTIONS:-}" \
   UBSAN_OPTIONS="log_path=$logs/ubsan:print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}" \
   ctest --output-on-failure -j "$(nproc)" --timeout 900 -R "$regex") || status=1
if compgen -G "$logs/*" >/dev/null; then
  echo "harden: sanitizer reports in $logs:" >&2
  for f in "$logs"/*; do echo "== $f" >&2; head -60 "$f" >&2; done
  status=1
fi
echo "harden: sanitizer tests took $((SECONDS - start)) s"

start=$SECONDS
scripts/fuzz.sh "$seconds" || status=1
echo "harden: fuzzing took $((SECONDS - start)) s"
exit $status
