#!/usr/bin/env bash
# The test command: set up (packages, MNIST), build `preimage` and the test executables, run the
# whole suite with CTest. The hardening (sanitizers, fuzzing) is scripts/harden.sh, which CI runs
# after this.
#   scripts/test.sh                 everything
#   scripts/test.sh -R solvers      only the matching topics (ctest's -R; one test executable
#                                   each: build/tests/solvers/test_solvers --gtest_filter="Grid.*"
#                                   for less)
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
scripts/setup.sh
build="${PREIMAGE_BUILD_DIR:-build}"
# The executable and the test executables; the benchmarks are not built here (CI's time).
cmake --build "$build" -j "$(nproc)" --target preimage preimage_tests
echo "test: set-up and build took $((SECONDS - start)) s"
start=$SECONDS
status=0
(cd "$build" && ctest --output-on-failure -j "$(nproc)" --timeout 900 "$@") || status=1
echo "test: the suite took $((SECONDS - start)) s"
exit $status
