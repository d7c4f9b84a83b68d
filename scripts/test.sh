#!/usr/bin/env bash
# The test command: set up (packages, MNIST), build everything, run the whole suite with CTest.
#   scripts/test.sh                 everything
#   scripts/test.sh -R solvers      only the matching topics (one test executable each;
#                                   build/tests/solvers/test_solvers --gtest_filter="Grid.*" for less)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
build="${PREIMAGE_BUILD_DIR:-build}"
cmake --build "$build" -j "$(nproc)"
cd "$build"
ctest --output-on-failure -j "$(nproc)" --timeout 900 "$@"
