#!/usr/bin/env bash
# preimage's VAE training against a Python peer, paired (the machines are shared and noisy:
# ratios of runs made one right after the other, repeated, the median quoted):
#   bench/train_peer.sh [ROUNDS] [IMAGES]      (default: 5 rounds, 12800 images; needs
#                                               Debian's python3-torch)
# Each round runs, one after the other:
# 1. `preimage bench --training-only --train-images IMAGES`: the GEMM rate, then training at
#    batch 128 (IMAGES images) and at the thesis's batch 32 (IMAGES / 4: the same 100 steps),
#    each rate also as a share of the GEMM rate;
# 2. bench/peer_train.py at batch 128 and at batch 32 on the same images (same model, loss,
#    Keras's Adam, step sizes; PyTorch 1.13, one intra-op thread, OpenBLAS's own threads as in
#    preimage);
# and prints the round's img/s and the ratios preimage / peer; then the median of each column
# and its range over the rounds.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
images=${2:-12800}
preimage=${PREIMAGE:-build/src/cli/preimage}
peer=(/usr/bin/python3 bench/peer_train.py)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for round in $(seq "$rounds"); do
  "$preimage" bench --training-only --train-images "$images" 2>/dev/null \
    | sed -n "s/^| VAE training, batch \([0-9]*\).*| \([0-9.]*\) img\/s.*= \([0-9]*\)% of GEMM.*/preimage $round \1 \2 \3/p" \
    >>"$log"
  "${peer[@]}" --batch 128 --images "$images" \
    | sed -n "s/^peer_train batch:\([0-9]*\) .*img_per_s:\([0-9.]*\) .*/peer $round \1 \2/p" >>"$log"
  "${peer[@]}" --batch 32 --images $((images / 4)) \
    | sed -n "s/^peer_train batch:\([0-9]*\) .*img_per_s:\([0-9.]*\) .*/peer $round \1 \2/p" >>"$log"
done
/usr/bin/python3 - "$log" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    who, rnd, batch, rate, *share = line.split()
    runs.setdefault((int(rnd), int(batch)), {})[who] = (float(rate), float(share[0]) if share else None)
print("| round | batch | preimage img/s | % of GEMM | peer img/s | preimage / peer |")
print("|---|---|---|---|---|---|")
table = {}
for (rnd, batch), r in sorted(runs.items()):
    if "preimage" not in r or "peer" not in r:
        continue
    (ours, share), (theirs, _) = r["preimage"], r["peer"]
    table.setdefault(batch, []).append((ours, share, theirs, ours / theirs))
    print("| %d | %d | %.0f | %.0f%% | %.0f | %.2fx |" % (rnd, batch, ours, share, theirs, ours / theirs))
print()
print("| batch | preimage img/s (median) | % of GEMM (median) | peer img/s (median) | preimage / peer: median (min-max) |")
print("|---|---|---|---|---|")
for batch in sorted(table, reverse=True):
    rows = table[batch]
    med = lambda i: statistics.median(r[i] for r in rows)
    ratios = [r[3] for r in rows]
    print("| %d | %.0f | %.0f%% | %.0f | %.2fx (%.2f-%.2f) |" % (batch, med(0), med(1), med(2), med(3), min(ratios), max(ratios)))
PY
