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
  echo "pair $p: one process $(echo "$t1 - $t0" | bc) s, mpirun -np 2 $(echo "$t2 - $t1" | bc) s"
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
print("Model of M machines of c cores (one rank per core), 1 GB/s between them, from these figures:")
print("T(M) = ceil(chunks / (M c)) * t_chunk + chunks * MB_per_chunk / 1000 / (bandwidth shared by rank 0)")
print("| machines x cores | ranks | model: s | speed-up over one process here |")
print("|---|---|---|---|")
for machines, cores in [(1, 2), (4, 16), (16, 16), (64, 16)]:
    ranks = machines * cores
    compute = -(-chunks // ranks) * t_chunk
    transfer = chunks * per_chunk_mb / 1000.0
    total = max(compute, transfer) if ranks > 2 else compute
    print(f"| {machines} x {cores} | {ranks} | {total:.1f} | {med_one / total:.1f}x |")
PY
