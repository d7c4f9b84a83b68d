#!/usr/bin/env bash
# The test command: set up (packages, MNIST), build everything, run the whole suite with CTest;
# then, when run without arguments (as CI runs it), the sanitizer job (scripts/sanitize.sh:
# AddressSanitizer + UndefinedBehaviorSanitizer build of the input-handling tests, in build-asan)
# and each fuzz target for 30 s (scripts/fuzz.sh, in build-fuzz).
#   scripts/test.sh                 everything
#   scripts/test.sh -R solvers      only the matching topics (one test executable each;
#                                   build/tests/solvers/test_solvers --gtest_filter="Grid.*" for less),
#                                   without the sanitizer and fuzz steps: any argument skips them
#   PREIMAGE_HARDENING=0 scripts/test.sh        the suite alone, without those steps
#   PREIMAGE_FUZZ_SECONDS=300 scripts/test.sh   fuzz each target longer
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
build="${PREIMAGE_BUILD_DIR:-build}"
# The executable and the test executables; the benchmarks are not built here (CI's time).
cmake --build "$build" -j "$(nproc)" --target preimage preimage_tests
(cd "$build" && ctest --output-on-failure -j "$(nproc)" --timeout 900 "$@")

if (($# == 0)) && [ "${PREIMAGE_HARDENING:-1}" != 0 ]; then
  start=$SECONDS
  scripts/sanitize.sh
  echo "test: sanitizer job took $((SECONDS - start)) s"
  start=$SECONDS
  scripts/fuzz.sh "${PREIMAGE_FUZZ_SECONDS:-30}"
  echo "test: fuzz job took $((SECONDS - start)) s"
fi
