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
#   PREIMAGE_FUZZ_SEED=N            libFuzzer's seed (default 1; 0: a random one)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-30}"
shift || true
source scripts/lib/harden_build.sh
# The mutations' seed: fixed, so that CI's short runs from a fresh clone try the same inputs each
# time (a failure there can be replayed); PREIMAGE_FUZZ_SEED=0 draws one, for long runs by hand.
seed="${PREIMAGE_FUZZ_SEED:-1}"
all=("${fuzz_targets[@]}")
targets=()
for t in "${all[@]}"; do
  if (($# == 0)); then targets+=("$t"); continue; fi
  for want in "$@"; do [[ "$t" == *"$want"* ]] && { targets+=("$t"); break; }; done
done
((${#targets[@]})) || { echo "fuzz: no target matches '$*' (targets: ${all[*]})" >&2; exit 2; }

harden_build "${targets[@]}"

# LibTorch's own allocations are not ours to judge: scripts/sanitizers/lsan.supp says which.
# allocator_may_return_null: a huge allocation inside the HDF5 library (which reads a file in a
# child process, src/data/archives.cpp) fails there as it would without the sanitizer; one of
# ours still ends the run (new throws, and -malloc_limit_mb catches any above 2 GB).
export ASAN_OPTIONS="allocator_may_return_null=1:${ASAN_OPTIONS:-}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$PWD/scripts/sanitizers/lsan.supp:print_suppressions=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"
mkdir -p "$build/logs"
status=0
printf '%-16s %12s %10s  %s\n' target executions "execs/s" result
for t in "${targets[@]}"; do
  mkdir -p "$build/corpus/$t" "$build/findings/$t"
  log="$build/logs/$t.log"
  result=clean
  # LibTorch's archive reader, on a mangled zip whose CRCs hold, may reserve what a member's header
  # claims (4 GB seen: fuzz/corpus/fuzz_torchscript/regression_reader_reserves_4gb) before it
  # fails cleanly; the targets that reach it may reserve up to 8 GB, their memory in use is still
  # held to 4 GB (-rss_limit_mb).
  malloc_mb=2048
  case "$t" in fuzz_torchscript|fuzz_checkpoint) malloc_mb=8192 ;; esac
  if ! "$build/fuzz/$t" -max_total_time="$seconds" -seed="$seed" -timeout=25 -rss_limit_mb=4096 \
       -malloc_limit_mb="$malloc_mb" -print_final_stats=1 -artifact_prefix="$build/findings/$t/" \
       "$build/corpus/$t" "fuzz/corpus/$t" >"$log" 2>&1; then
    result="FINDING (see $log and $build/findings/$t/)"
    status=1
  fi
  runs=$(grep -oP 'stat::number_of_executed_units:\s*\K[0-9]+' "$log" | tail -1 || true)
  rate=$(grep -oP 'stat::average_exec_per_sec:\s*\K[0-9]+' "$log" | tail -1 || true)
  printf '%-16s %12s %10s  %s\n' "$t" "${runs:-?}" "${rate:-?}" "$result"
done
exit $status
