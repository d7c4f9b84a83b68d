#!/usr/bin/env bash
# Fuzzes the loaders of a user's files with libFuzzer: builds the targets of fuzz/ in the
# hardening build (scripts/harden.sh: clang, AddressSanitizer + UndefinedBehaviorSanitizer, in
# build-harden) and runs each on its seed corpus.
#   scripts/fuzz.sh                 every target for 30 s
#   scripts/fuzz.sh 600             every target for 600 s
#   scripts/fuzz.sh 600 npy idx     the targets whose names contain npy or idx
# Any finding (a crash, a leak, undefined behaviour, an exception other than UserError, a single
# allocation over 2 GB, an input taking over 25 s) stops that target, leaves the input in
# build-harden/findings/<target>/ and makes the script exit 1. Replay one with
#   build-harden/fuzz/fuzz_npy build-harden/findings/fuzz_npy/crash-...
# What the fuzzer learns grows build-harden/corpus/<target>/; the committed seeds in
# fuzz/corpus/<target>/ stay as they are. One line per target (executions, executions per
# second) goes to stdout; the whole log to build-harden/logs/<target>.log.
#   PREIMAGE_HARDEN_DIR=DIR         build folder (default build-harden)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-30}"
shift || true
source scripts/lib/harden_build.sh
all=("${fuzz_targets[@]}")
targets=()
for t in "${all[@]}"; do
  if (($# == 0)); then targets+=("$t"); continue; fi
  for want in "$@"; do [[ "$t" == *"$want"* ]] && { targets+=("$t"); break; }; done
done
((${#targets[@]})) || { echo "fuzz: no target matches '$*' (targets: ${all[*]})" >&2; exit 2; }

harden_build "${targets[@]}"

# LibTorch's own allocations are not ours to judge: scripts/sanitizers/lsan.supp says which.
export ASAN_OPTIONS="${ASAN_OPTIONS:-}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$PWD/scripts/sanitizers/lsan.supp:print_suppressions=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"
mkdir -p "$build/logs"
status=0
printf '%-16s %12s %10s  %s\n' target executions "execs/s" result
for t in "${targets[@]}"; do
  mkdir -p "$build/corpus/$t" "$build/findings/$t"
  log="$build/logs/$t.log"
  result=clean
  if ! "$build/fuzz/$t" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=4096 \
       -malloc_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$build/findings/$t/" \
       "$build/corpus/$t" "fuzz/corpus/$t" >"$log" 2>&1; then
    result="FINDING (see $log and $build/findings/$t/)"
    status=1
  fi
  runs=$(grep -oP 'stat::number_of_executed_units:\s*\K[0-9]+' "$log" | tail -1 || true)
  rate=$(grep -oP 'stat::average_exec_per_sec:\s*\K[0-9]+' "$log" | tail -1 || true)
  printf '%-16s %12s %10s  %s\n' "$t" "${runs:-?}" "${rate:-?}" "$result"
done
exit $status
