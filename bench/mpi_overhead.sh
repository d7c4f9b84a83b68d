#!/usr/bin/env bash
# The cost of MPI on one machine: `preimage invert` as one process with two workers (one BLAS
# thread each) against `mpirun -np 2` (rank 0 solving on one thread, rank 1 on the other), in
# turns (A B A B ...: the machines are shared, so each pair's ratio is taken minutes apart at
# most), the same --chunk, the bytes compared; then a model of M machines from the measured
# per-chunk time and message sizes (docs/SCALING.md).
#   bench/mpi_overhead.sh [IMAGES] [PAIRS] [CHUNK]    (default: all 60000 images, 1 pair, 1000)
# The model: the thesis's VAE trained one epoch (the inversion's cost does not depend on how well
# it is trained), Adafactor's 150 steps as the thesis.
set -euo pipefail
cd "$(dirname "$0")/.."
images=${1:-all}
pairs=${2:-1}
chunk=${3:-1000}
preimage=$(pwd)/${PREIMAGE:-build/src/cli/preimage}
mpirun="mpirun --allow-run-as-root --oversubscribe --bind-to none -np 2"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$preimage" train --out "$work/base" --epochs 1 --quiet
"$preimage" encode "$work/base" --images "$images" --quiet
now() { date +%s.%N; }
for p in $(seq 1 "$pairs"); do
  rm -rf "$work/one" "$work/two"
  cp -r "$work/base" "$work/one"
  cp -r "$work/base" "$work/two"
  t0=$(now)
  "$preimage" invert "$work/one" --method adafactor --chunk "$chunk" --workers 2 > "$work/one.log" 2>&1
  t1=$(now)
  $mpirun "$preimage" invert "$work/two" --method adafactor --chunk "$chunk" > "$work/two.log" 2>&1
  t2=$(now)
  for f in "$work"/one/losses/*.npy "$work"/one/latents/*.npy; do
    cmp -s "$f" "$work/two/${f#"$work/one/"}" || { echo "bench: $f differs under MPI" >&2; exit 1; }
  done
  /usr/bin/python3 -c "print('pair $p: one process %.1f s, mpirun -np 2 %.1f s' % ($t1 - $t0, $t2 - $t1))"
  echo "$t0 $t1 $t2" >> "$work/times"
  grep -h "chunks solved on rank 0" "$work/two.log" | sed 's/^\[[0-9:]*\] /  /'
done
/usr/bin/python3 - "$work/times" "$work/two.log" "$chunk" "$work/one/losses/adafactor_final.npy" <<'PY'
import re, statistics, sys
import numpy as np
times = [list(map(float, l.split())) for l in open(sys.argv[1])]
one = [t1 - t0 for t0, t1, _ in times]
two = [t2 - t1 for _, t1, t2 in times]
ratios = [b / a for a, b in zip(one, two)]
log = open(sys.argv[2]).read()
m = re.search(r"(\d+) chunks solved on rank 0 and (\d+) on the other (\d+) ranks; ([0-9.]+) MB sent, ([0-9.]+) MB gathered", log)
here, remote, others, sent, gathered = int(m[1]), int(m[2]), int(m[3]), float(m[4]), float(m[5])
chunk = int(sys.argv[3])
images = np.load(sys.argv[4]).shape[0]
chunks = -(-images // chunk)
med_one = statistics.median(one)
t_chunk = med_one * 2 / chunks          # two workers: one chunk's seconds on one core
per_chunk_mb = (sent + gathered) / max(remote, 1)
print(f"| images | chunk | one process, 2 workers: s | mpirun -np 2: s | ratio np2 / one (median of {len(ratios)}) | sent MB | gathered MB | s per chunk on one core | MB per chunk |")
print("|---|---|---|---|---|---|---|---|---|")
print(f"| {images} | {chunk} | {med_one:.1f} | {statistics.median(two):.1f} | {statistics.median(ratios):.3f} (min {min(ratios):.3f}, max {max(ratios):.3f}) | {sent:.1f} | {gathered:.2f} | {t_chunk:.2f} | {per_chunk_mb:.2f} |")
print()
# The model: rank 0 sends every chunk and gathers every result through one link (no overlap
# counted), the ranks solve chunks of at most CHUNK images, at least one chunk per rank.
t_img = med_one * 2 / images            # one image's seconds on one core (two workers here)
mb_img = (sent + gathered) / (remote * chunk)
print(f"Model of M machines of c cores, one rank per core, 1 GB/s through rank 0: "
      f"{1000 * t_img:.2f} ms per image on one core, {1000 * mb_img:.2f} kB per image moved")
print("| machines x cores | ranks | chunk | solving: s | moving: s | model: s | speed-up over one process here |")
print("|---|---|---|---|---|---|---|")
for machines, cores in [(1, 2), (4, 16), (16, 16), (64, 16)]:
    ranks = machines * cores
    size = max(1, min(chunk, -(-images // ranks)))
    rounds = -(-(-(-images // size)) // ranks)
    solving = rounds * size * t_img
    moving = images * mb_img / 1000.0 if ranks > 2 else 0.0
    total = solving + moving
    print(f"| {machines} x {cores} | {ranks} | {size} | {solving:.1f} | {moving:.2f} | {total:.1f} | {med_one / total:.1f}x |")
PY
