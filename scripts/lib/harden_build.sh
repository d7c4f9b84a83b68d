# Sourced by scripts/harden.sh and scripts/fuzz.sh: the one instrumented clang build they share.
# Sets `build` (PREIMAGE_HARDEN_DIR, default build-harden) and `fuzz_targets`, and defines
# harden_build TARGET...: configures the folder once, then builds just those targets.
build="${PREIMAGE_HARDEN_DIR:-build-harden}"
fuzz_targets=(fuzz_idx fuzz_npy fuzz_mask fuzz_npz fuzz_h5 fuzz_torchscript fuzz_checkpoint
              fuzz_manifest fuzz_shard)
harden_build() {
  if [ ! -f "$build/build.ninja" ]; then
    cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Harden -DCMAKE_CXX_COMPILER=clang++ \
      -DPREIMAGE_FUZZ=ON -DPREIMAGE_BUILD_TESTS=ON -DPREIMAGE_BUILD_BENCH=OFF >/dev/null
  fi
  cmake --build "$build" -j "$(nproc)" --target "$@"
}
