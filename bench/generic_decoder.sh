#!/usr/bin/env bash
# The generic (TorchScript, autograd) path against the fast engine and against a Python peer, on
# one run's model and images, all in one invocation (the machines are shared: ratios taken
# within one run):
#   bench/generic_decoder.sh RUN [IMAGES]        (default: 5000 images; needs python3-torch)
# 1. RUN's decoder and encoder exported as TorchScript, as a PyTorch user exports theirs
#    (bench/export_decoder.py);
# 2. preimage bench-solvers RUN --compare-decoder: adafactor, lbfgs and gauss-newton through the
#    fast engine and through the TorchScript module: per method the ratio of wall times and the
#    share of images with the same final loss (1e-4);
# 3. the same batched Adafactor (the thesis's: 150 steps) in PyTorch (bench/peer_adafactor.py),
#    and the ratios: peer / fast engine and peer / generic path.
set -euo pipefail
cd "$(dirname "$0")/.."
run=${1:?usage: bench/generic_decoder.sh RUN [IMAGES]}
images=${2:-5000}
preimage=${PREIMAGE:-build/src/cli/preimage}
export_dir=$(mktemp -d)
trap 'rm -rf "$export_dir"' EXIT
/usr/bin/python3 bench/export_decoder.py "$run/model.pt" "$export_dir"
"$preimage" bench-solvers "$run" --images "$images" --methods adafactor,lbfgs,gauss-newton \
  --no-careful --compare-decoder "$export_dir/decoder.pt" --quiet
/usr/bin/python3 bench/peer_adafactor.py "$export_dir/decoder.pt" "$run" --images "$images" \
  | tee "$export_dir/peer.txt"
/usr/bin/python3 - "$run/solver_benchmark.json" "$export_dir/peer.txt" <<'PY'
import json, re, sys
bench = json.load(open(sys.argv[1]))
peer = float(re.search(r"seconds:([0-9.]+)", open(sys.argv[2]).read()).group(1))
row = next(m for m in bench["methods"] if m["method"] == "adafactor")
fast, generic = row["seconds"], row["compare"]["seconds"]
print("| adafactor, %d images x 150 steps | wall s | Python peer / this |" % bench["images"])
print("|---|---|---|")
print("| fast engine | %.2f | %.2fx |" % (fast, peer / fast))
print("| generic path (TorchScript) | %.2f | %.2fx |" % (generic, peer / generic))
print("| Python peer (PyTorch, batched) | %.2f | 1.00x |" % peer)
PY
