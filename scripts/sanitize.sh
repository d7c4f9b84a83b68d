#!/usr/bin/env bash
# The sanitizer job: builds preimage with AddressSanitizer + UndefinedBehaviorSanitizer in
# build-asan (gcc, -O1; -g1: line tables for the reports' stacks, a faster build than -g) and
# runs the tests of the modules without heavy LibTorch work (util, stats, data readers, report)
# and the CLI's error tests (test_cli: `preimage` on bad input).
#   scripts/sanitize.sh             build and run them
#   scripts/sanitize.sh -R data     only the matching tests (ctest's -R)
# LibTorch itself is not instrumented. A sanitizer report anywhere, also in a `preimage` the
# tests start, is written under build-asan/sanitizer-logs/ and fails the job even when the test
# that caused it passed.
#   PREIMAGE_ASAN_DIR=DIR           build folder (default build-asan)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${PREIMAGE_ASAN_DIR:-build-asan}"
tests=(test_util test_stats test_data test_report test_cli)

if [ ! -f "$build/build.ninja" ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" \
    -DPREIMAGE_SANITIZE=address,undefined -DPREIMAGE_BUILD_BENCH=OFF >/dev/null
fi
cmake --build "$build" -j "$(nproc)" --target preimage "${tests[@]}"

logs="$PWD/$build/sanitizer-logs"
rm -rf "$logs"
mkdir -p "$logs"
supp="$PWD/scripts/sanitizers"
export ASAN_OPTIONS="log_path=$logs/asan:${ASAN_OPTIONS:-}"
export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0:${LSAN_OPTIONS:-}"
export UBSAN_OPTIONS="log_path=$logs/ubsan:print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
regex="^($(IFS='|'; echo "${tests[*]}"))\$"
status=0
(cd "$build" && ctest --output-on-failure -j "$(nproc)" --timeout 1800 -R "$regex" "$@") || status=1
if compgen -G "$logs/*" >/dev/null; then
  echo "sanitize: sanitizer reports in $logs:" >&2
  for f in "$logs"/*; do echo "== $f" >&2; head -60 "$f" >&2; done
  status=1
fi
exit $status
