#!/usr/bin/python3
"""Exports a preimage run's VAE decoder (and encoder) as TorchScript, the way a PyTorch user
exports their own: torch.jit.script of an nn.Sequential of Linear and ReLU layers holding the
checkpoint's weights. For the generic path's benchmark (bench/generic_decoder.sh).

    /usr/bin/python3 bench/export_decoder.py RUN/model.pt OUT_DIR   (Debian's python3-torch)

Writes OUT_DIR/decoder.pt (latents (B, L) -> logits (B, P)) and OUT_DIR/encoder.pt (images
(B, P) -> (B, 2L), mean then log-variance, the thesis's split).
"""
import os
import sys

import torch
from torch import nn


def sequential(params, prefix):
    names = sorted({n[len(prefix):].split(".")[0] for n in params if n.startswith(prefix)},
                   key=lambda s: int(s.replace("dense", "")))
    layers = []
    for i, name in enumerate(names):
        w, b = params[prefix + name + ".weight"], params[prefix + name + ".bias"]
        linear = nn.Linear(w.shape[1], w.shape[0])
        with torch.no_grad():
            linear.weight.copy_(w)
            linear.bias.copy_(b)
        layers.append(linear)
        if i + 1 < len(names):
            layers.append(nn.ReLU())
    model = nn.Sequential(*layers).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    checkpoint, out = sys.argv[1], sys.argv[2]
    params = dict(torch.jit.load(checkpoint).named_parameters())
    os.makedirs(out, exist_ok=True)
    torch.jit.script(sequential(params, "module.decoder.")).save(os.path.join(out, "decoder.pt"))
    torch.jit.script(sequential(params, "module.encoder.")).save(os.path.join(out, "encoder.pt"))
    print("wrote %s/decoder.pt and %s/encoder.pt" % (out, out))


if __name__ == "__main__":
    main()
