#!/usr/bin/python3
"""The Python peer of `preimage bench`'s training rows: the thesis's dense VAE (encoder
5 x Dense(784, ReLU) -> Dense(4), decoder Dense(2 -> 784, ReLU) + 3 x Dense(784, ReLU) ->
Dense(784) logits, Keras's Glorot-uniform initialisation), the TensorFlow tutorial's one-sample
negative ELBO with Bernoulli logits (src/train/elbo.cpp) and Keras's Adam (epsilon added to
sqrt(v) before the bias correction, src/train/adam.h), in PyTorch (Debian's python3-torch 1.13),
written as a PyTorch user writes it: nn.Sequential of nn.Linear, autograd, in-place optimizer
kernels, gradients set to None between steps (PyTorch 2's default). Timed in the same run as
preimage (bench/train_peer.sh).

    /usr/bin/python3 bench/peer_train.py [--batch 128] [--images 12800] [--threads T]
                                         [--optimizer keras|torch] [--data DIR]

Threads: `--threads` sets torch.set_num_threads (LibTorch's intra-op pool, OpenMP in Debian's
build); OpenBLAS threads the matrix products with its own pool whatever that setting, one thread
per core by default, as in preimage. The default, 1, is the peer's fastest setting on the
2-core development machine (docs/PERFORMANCE.md, "Training": two OpenMP threads spin beside
OpenBLAS's for the elementwise kernels); `--threads 0` keeps torch's own default (all cores).

Like `preimage bench`: the first MNIST training images binarised at 0.5 (random binary images
if the file is missing), taken in order in batches of `--batch`, one untimed warm-up step, then
one pass timed. Prints one line:
`peer_train batch:B images:N seconds:S img_per_s:R loss:L torch_threads:T blas_threads:B optimizer:O`
"""
import argparse
import ctypes
import math
import os
import struct
import time

import numpy as np
import torch
from torch import nn


def read_idx(path, count):
    with open(path, "rb") as f:
        magic, = struct.unpack(">I", f.read(4))
        dims = [struct.unpack(">I", f.read(4))[0] for _ in range(magic & 0xFF)]
        per_item = int(np.prod(dims[1:]))
        count = min(count, dims[0])
        return np.frombuffer(f.read(count * per_item), dtype=np.uint8).reshape([count] + dims[1:])


def dense(n_in, n_out):
    layer = nn.Linear(n_in, n_out)
    nn.init.xavier_uniform_(layer.weight)  # Keras's Glorot uniform
    nn.init.zeros_(layer.bias)
    return layer


def mlp(n_in, width, depth, n_out):
    layers, size = [], n_in
    for _ in range(depth):
        layers += [dense(size, width), nn.ReLU()]
        size = width
    return nn.Sequential(*layers, dense(size, n_out))


class Vae(nn.Module):
    def __init__(self, pixels=784, width=784, latent=2):
        super().__init__()
        self.encoder = mlp(pixels, width, 5, 2 * latent)
        self.decoder = mlp(latent, width, 4, pixels)

    def forward(self, x):
        mean, logvar = self.encoder(x).chunk(2, dim=1)
        z = mean + torch.exp(0.5 * logvar) * torch.randn_like(mean)
        return self.decoder(z), mean, logvar, z


LOG2PI = math.log(2.0 * math.pi)


def log_normal_pdf(sample, mean, logvar):
    return (-0.5 * ((sample - mean) ** 2 * torch.exp(-logvar) + logvar + LOG2PI)).sum(1)


def negative_elbo(model, x):
    logits, mean, logvar, z = model(x)
    cross_entropy = nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="none")
    logpx_z = -cross_entropy.sum(1)
    logpz = log_normal_pdf(z, torch.zeros_like(z), torch.zeros_like(z))
    logqz_x = log_normal_pdf(z, mean, logvar)
    return -(logpx_z + logpz - logqz_x)


class KerasAdam:
    """Keras's Adam: p -= lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps), in place."""

    def __init__(self, params, lr, beta_1=0.9, beta_2=0.999, eps=1e-7):
        self.params = list(params)
        self.lr, self.b1, self.b2, self.eps, self.t = lr, beta_1, beta_2, eps, 0
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self):
        self.t += 1
        alpha = self.lr * math.sqrt(1 - self.b2 ** self.t) / (1 - self.b1 ** self.t)
        for p, m, v in zip(self.params, self.m, self.v):
            g = p.grad
            m.mul_(self.b1).add_(g, alpha=1 - self.b1)
            v.mul_(self.b2).addcmul_(g, g, value=1 - self.b2)
            p.addcdiv_(m, v.sqrt().add_(self.eps), value=-alpha)


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
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--images", type=int, default=12800)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (0: torch's default)")
    parser.add_argument("--optimizer", choices=["keras", "torch"], default="keras",
                        help="keras: Keras's Adam as above; torch: torch.optim.Adam(eps=1e-7, "
                             "foreach=True), whose epsilon sits after the bias correction")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                       "..", "data", "mnist"))
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)  # as preimage does on every thread (util/float_mode.h)
    torch.manual_seed(args.seed)
    path = os.path.join(args.data, "train-images-idx3-ubyte")
    if os.path.exists(path):
        images = read_idx(path, args.images).reshape(-1, 784)
        x_all = torch.from_numpy((images / 255.0 > 0.5).astype(np.float32))
    else:
        x_all = (torch.rand(args.images, 784) > 0.8).float()
    model = Vae()
    lr = 5e-4 if args.batch >= 128 else 1e-4  # the presets' learning rates, as preimage bench
    if args.optimizer == "keras":
        opt = KerasAdam(model.parameters(), lr)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=lr, eps=1e-7, foreach=True)
    steps = len(x_all) // args.batch

    def step(s):
        x = x_all[s * args.batch:(s + 1) * args.batch]
        loss = negative_elbo(model, x).mean()
        opt.zero_grad(**({} if args.optimizer == "keras" else {"set_to_none": True}))
        loss.backward()
        opt.step()
        return loss.item()

    step(0)  # warm-up (allocations)
    start = time.perf_counter()
    for s in range(steps):
        loss = step(s)
    seconds = time.perf_counter() - start
    print("peer_train batch:%d images:%d seconds:%.3f img_per_s:%.1f loss:%.4f torch_threads:%d "
          "blas_threads:%d optimizer:%s" % (args.batch, steps * args.batch, seconds,
                                             steps * args.batch / seconds, loss,
                                             torch.get_num_threads(), blas_threads(),
                                             args.optimizer))


if __name__ == "__main__":
    main()
