#!/usr/bin/env bash
# Certificates on a trained model (docs/PERFORMANCE.md, "Certificates"), in one invocation:
#   1. the first IMAGES training images (default 5000): encoded, inverted by Adafactor (the
#      thesis) and by grid + Gauss-Newton (today's oracle), then `preimage certify --method grid`:
#      the table's row (share certified, gap quantiles, cells per image, time) and the images whose
#      certified optimum is below grid + Gauss-Newton's loss by more than 0.1%;
#   2. the first PAIRED images (default 200) certified with the restricted networks (the default)
#      and without (--local-neurons 0), in turns: the ratio of their times, the same machine.
#   bench/certify.sh MODEL [IMAGES] [PAIRED]        e.g. bench/certify.sh runs/default/model.pt
# PAIRED 0 skips the second part. CERTIFY_FLAGS adds flags to every certify.
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:?usage: bench/certify.sh MODEL [IMAGES] [PAIRED]}
images=${2:-5000}
paired=${3:-200}
preimage=$(pwd)/${PREIMAGE:-build/src/cli/preimage}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
now() { date +%s.%N; }

prepare() {  # folder, images
  "$preimage" run --out "$1" --model "$model" --images "$2" --no-analyze --no-report --quiet >/dev/null
  "$preimage" invert "$1" --method grid --quiet >/dev/null
}
certify() {  # folder, extra flags...: prints the seconds
  local folder=$1 t0 t1
  shift
  t0=$(now)
  # shellcheck disable=SC2086
  "$preimage" certify "$folder" --method grid --quiet ${CERTIFY_FLAGS:-} "$@" >/dev/null
  t1=$(now)
  /usr/bin/python3 -c "print('%.1f' % ($t1 - $t0))"
}

prepare "$work/all" "$images"
seconds=$(certify "$work/all")
/usr/bin/python3 - "$work/all/losses/grid_certificate.json" "$seconds" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
q = j["gap_quantiles"]
print("| images | certified | gap median / 90% / 99% / max | cells per image (mean / max) "
      "| distinct / network / restricted cells | time | below grid + Gauss-Newton by > 0.1% "
      "| optimum on the border |")
print("|---|---|---|---|---|---|---|---|")
b = j["below_method"]
print(f"| {j['images']} | {j['certified']} ({100 * j['share_certified']:.2f}%) "
      f"| {q['50%']:.3g} / {q['90%']:.3g} / {q['99%']:.3g} / {q['max']:.3g} "
      f"| {j['cells_per_image']['mean']:.0f} / {j['cells_per_image']['max']} "
      f"| {j['distinct_cells']:,} / {j['network_cells']:,} / "
      f"{j['local_cells']:,} | {float(sys.argv[2]):.1f} s | {b['count']} | {j['at_edge']} |")
for im in b["images"]:
    print(f"  image {im['position']}: grid + Gauss-Newton {im['method_loss']:.6f}, "
          f"certified optimum {im['optimum']:.6f} ({100 * im['relative']:.3f}% lower)")
PY

if ((paired > 0)); then
  prepare "$work/paired" "$paired"
  cp -r "$work/paired" "$work/whole"
  local_s=$(certify "$work/paired")
  whole_s=$(certify "$work/whole" --local-neurons 0)
  for f in optimum certified; do
    /usr/bin/python3 - "$work/paired/losses/grid_$f.npy" "$work/whole/losses/grid_$f.npy" "$f" <<'PY'
import sys
import numpy as np
a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
if sys.argv[3] == "certified":
    print(f"certified: {int(a.sum())} with restricted networks, {int(b.sum())} without")
else:
    rel = np.abs(a - b) / np.maximum(np.abs(b), 1)
    print(f"optima: largest relative difference {rel.max():.2e} (both within the tolerance)")
PY
  done
  /usr/bin/python3 -c "print('first $paired images: restricted networks %.1f s, whole network %.1f s: %.2fx faster' % ($local_s, $whole_s, $whole_s / $local_s))"
fi
