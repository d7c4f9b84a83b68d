#!/usr/bin/python3
"""The Python peer of preimage's faithful inversion: the thesis's Keras 3 Adafactor (learning
rate 1e-3, Keras's defaults, 150 steps), batched over images with each image's own state, on
||z - sigmoid(D(y))||^2 from y0 = E(z), in PyTorch (Debian's python3-torch 1.13), one autograd
backward pass per step for the whole batch. Timed in the same run as preimage
(bench/generic_decoder.sh).

    /usr/bin/python3 bench/peer_adafactor.py DECODER.pt RUN [--images N] [--steps 150] [--threads T]

Prints a line `peer_adafactor seconds:S images:N steps:T mean_final:F torch_threads:T blas_threads:B`.
"""
import argparse
import ctypes
import os
import struct
import time

import numpy as np
import torch


def read_idx(path):
    with open(path, "rb") as f:
        magic, = struct.unpack(">I", f.read(4))
        dims = [struct.unpack(">I", f.read(4))[0] for _ in range(magic & 0xFF)]
        return np.frombuffer(f.read(), dtype=np.uint8).reshape(dims)


def adafactor(decoder, z, y, steps, lr=1e-3, decay=-0.8, eps1=1e-30, eps2=1e-3, clip=1.0):
    """Keras 3's Adafactor for a (1, L) variable per image (its second moment is per coordinate)."""
    v = torch.zeros_like(y)
    for t in range(1, steps + 1):
        y.requires_grad_(True)
        loss = ((z - torch.sigmoid(decoder(y))) ** 2).sum()
        (g,) = torch.autograd.grad(loss, y)
        with torch.no_grad():
            y = y.detach()
            rho = min(lr, 1.0 / t ** 0.5)
            beta = 1.0 - t ** decay
            alpha = torch.clamp(y.pow(2).mean(1, keepdim=True).sqrt(), min=eps2) * rho
            v.mul_(beta).add_((g * g + eps1) * (1.0 - beta))
            u = g / v.sqrt()
            u = u / torch.clamp(u.pow(2).mean(1, keepdim=True).sqrt() / clip, min=1.0)
            y = y - alpha * u
    with torch.no_grad():
        return y, ((z - torch.sigmoid(decoder(y))) ** 2).sum(1)


def blas_threads():
    """OpenBLAS's own thread count (it threads the products whatever torch's intra-op setting)."""
    with open("/proc/self/maps") as maps:
        paths = sorted({line.split()[-1] for line in maps if "openblas" in line})
    for path in paths:
        try:
            return ctypes.CDLL(path).openblas_get_num_threads()
        except (OSError, AttributeError):
            continue
    return 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("decoder")
    parser.add_argument("run")
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "..", "data", "mnist"))
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    decoder = torch.jit.load(args.decoder).eval()
    images = read_idx(os.path.join(args.data, "train-images-idx3-ubyte"))[: args.images]
    z = torch.from_numpy((images.reshape(len(images), -1) / 255.0 > 0.5).astype(np.float32))
    y0 = torch.from_numpy(np.load(os.path.join(args.run, "latents", "MT.npy"))[: args.images])
    start = time.perf_counter()
    _, final = adafactor(decoder, z, y0.clone(), args.steps)
    seconds = time.perf_counter() - start
    print("peer_adafactor seconds:%.3f images:%d steps:%d mean_final:%.5f torch_threads:%d "
          "blas_threads:%d" % (seconds, len(z), args.steps, final.mean().item(),
                               torch.get_num_threads(), blas_threads()))


if __name__ == "__main__":
    main()
