#!/usr/bin/python3
"""Writes the model fixtures of the tests (tests/fixtures/models/, committed, under 1 MB in all).

    /usr/bin/python3 scripts/make_model_fixtures.py [--data data/mnist]

Needs Debian's python3-torch (1.13) and python3-h5py; the tests need only the files it wrote.
Deterministic (seeded); MNIST is read from the IDX files scripts/setup.sh fetched.

What it writes:
  vae_decoder.pt, vae_encoder.pt   TorchScript of a small dense VAE with the thesis's depths
                                   (encoder 5 x Dense(12, ReLU) -> Dense(2L), the (B, 2L) output
                                   split as the thesis does; decoder 4 x Dense(12, ReLU) ->
                                   Dense(784) logits; L = 2), trained 2 epochs on 6000 MNIST images
  vae_pytorch.npz                  its weights, PyTorch layout (out, in), state_dict names
  vae_keras.npz                    the same, Keras layout (in, out), Keras names
  vae_keras2.h5                    the same as Keras 2 writes save_weights("x.h5")
  vae_keras3.weights.h5            the same as Keras 3 writes save_weights("x.weights.h5")
  conv_decoder.pt                  a convolutional decoder: Linear(2, 32*7*7), ConvTranspose2d
                                   32->16 and 16->1 (stride 2): (B, 1, 28, 28) logits
  dense_l8_decoder.pt              a dense decoder with L = 8: 8 -> 12 -> 12 -> 784
  probabilities_decoder.pt         vae_decoder ending with a sigmoid (outputs probabilities)
  future_version.pt                vae_decoder.pt with its format version record set to 99
  broken/                          tiny files that must be refused, each with a clear error:
                                   nan_decoder.pt (returns NaN), scalar_decoder.pt (returns (B,)),
                                   raising_decoder.pt (fails on any input), l3_encoder.pt (an
                                   encoder of L = 3 for the L = 2 decoders), missing_bias.weights.h5
                                   (a Keras 3 layer without its bias), unchained.h5 (Keras 2
                                   layers that do not chain), square.npz (only square matrices:
                                   the layout cannot be told)
  goldens.npz                      (compressed) PyTorch's values at fixed latents: each decoder's logits,
                                   gradients of sum(w * logits) and Jacobians (B, L, P); the
                                   encoder's output at fixed images
"""
import argparse
import io
import os
import struct
import zipfile

import h5py
import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "fixtures", "models")
WIDTH = 12     # hidden units: small files, the thesis's depths
LATENT = 2


def read_idx(path):
    with open(path, "rb") as f:
        magic, = struct.unpack(">I", f.read(4))
        dims = [struct.unpack(">I", f.read(4))[0] for _ in range(magic & 0xFF)]
        return np.frombuffer(f.read(), dtype=np.uint8).reshape(dims)


def dense(widths):
    """Dense(ReLU) layers between `widths`, the last one linear, as nn.Sequential."""
    layers = []
    for i in range(len(widths) - 1):
        layers.append(nn.Linear(widths[i], widths[i + 1]))
        if i + 2 < len(widths):
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class Vae(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = dense([784] + [WIDTH] * 5 + [2 * LATENT])
        self.decoder = dense([LATENT] + [WIDTH] * 4 + [784])

    def forward(self, x):
        h = self.encoder(x)
        mean, logvar = h[:, :LATENT], h[:, LATENT:]
        y = mean + torch.exp(0.5 * logvar) * torch.randn_like(mean)
        return self.decoder(y), mean, logvar


def train_vae(images):
    torch.manual_seed(0)
    vae = Vae()
    opt = torch.optim.Adam(vae.parameters(), lr=1e-3)
    x = torch.from_numpy((images.reshape(-1, 784) / 255.0 > 0.5).astype(np.float32))
    for _ in range(2):
        for b in range(0, x.shape[0], 64):
            batch = x[b:b + 64]
            logits, mean, logvar = vae(batch)
            rec = nn.functional.binary_cross_entropy_with_logits(logits, batch, reduction="sum")
            kl = -0.5 * torch.sum(1 + logvar - mean ** 2 - logvar.exp())
            loss = (rec + kl) / batch.shape[0]
            opt.zero_grad()
            loss.backward()
            opt.step()
    return vae.eval(), x


class ConvDecoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.project = nn.Linear(LATENT, 32 * 7 * 7)
        self.up1 = nn.ConvTranspose2d(32, 16, 4, stride=2, padding=1)  # 7 -> 14
        self.up2 = nn.ConvTranspose2d(16, 1, 4, stride=2, padding=1)   # 14 -> 28

    def forward(self, y):
        h = torch.relu(self.project(y)).view(-1, 32, 7, 7)
        return self.up2(torch.relu(self.up1(h)))


class WithSigmoid(nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, y):
        return torch.sigmoid(self.inner(y))


def linear_layers(seq):
    return [m for m in seq if isinstance(m, nn.Linear)]


def keras_names(count, first):
    """Keras's automatic layer names: dense, dense_1, ... counted across the model."""
    return ["dense" if first + i == 0 else "dense_%d" % (first + i) for i in range(count)]


def write_keras2(path, vae):
    """Keras 2's legacy HDF5 weights (save_weights_to_hdf5_group): one group per top-level layer
    (the two Sequentials of the tutorial's CVAE), each listing its weights in attribute
    weight_names, datasets at those names (kernel (in, out), bias)."""
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = [b"sequential", b"sequential_1"]
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.15.0"
        first = 0
        for group_name, seq in (("sequential", vae.encoder), ("sequential_1", vae.decoder)):
            layers = linear_layers(seq)
            names = keras_names(len(layers), first)
            first += len(layers)
            g = f.create_group(group_name)
            weight_names = []
            for name, layer in zip(names, layers):
                for var, value in (("kernel", layer.weight.detach().numpy().T),
                                   ("bias", layer.bias.detach().numpy())):
                    weight_names.append(("%s/%s:0" % (name, var)).encode())
                    g.create_dataset("%s/%s:0" % (name, var), data=value)
            g.attrs["weight_names"] = weight_names


def write_keras3(path, vae):
    """Keras 3's weights file (saving_lib's H5IOStore): the model's attributes as groups
    (encoder, decoder), a Sequential's layers under layers/<snake_case class name>[_i], each
    layer's variables in vars/0 (kernel (in, out)), vars/1 (bias)."""
    with h5py.File(path, "w") as f:
        f.create_group("vars")
        for attr, seq in (("encoder", vae.encoder), ("decoder", vae.decoder)):
            f.create_group(attr + "/vars")
            for i, layer in enumerate(linear_layers(seq)):
                name = "dense" if i == 0 else "dense_%d" % i
                v = f.create_group("%s/layers/%s/vars" % (attr, name))
                v.create_dataset("0", data=layer.weight.detach().numpy().T)
                v.create_dataset("1", data=layer.bias.detach().numpy())


def goldens_of(name, module, latent, golden, count=2):
    torch.manual_seed(len(name))
    y = torch.randn(count, latent, dtype=torch.float32) * 0.8
    y.requires_grad_(True)
    logits = module(y).reshape(count, -1)
    w = torch.linspace(-1, 1, logits.shape[1]).repeat(count, 1)
    (grad,) = torch.autograd.grad((logits * w).sum(), y)
    jac = torch.zeros(count, latent, logits.shape[1])
    for b in range(count):
        full = torch.autograd.functional.jacobian(lambda v: module(v.unsqueeze(0)).reshape(-1), y[b].detach())
        jac[b] = full.T
    golden[name + "_y"] = y.detach().numpy()
    golden[name + "_logits"] = logits.detach().numpy()
    golden[name + "_weights"] = w.numpy()
    golden[name + "_grad"] = grad.numpy()
    golden[name + "_jacobian"] = jac.numpy()


class NanDecoder(nn.Module):
    def forward(self, y):
        return torch.full((y.shape[0], 784), float("nan"))


class ScalarDecoder(nn.Module):
    def forward(self, y):
        return y.sum(1)


class RaisingDecoder(nn.Module):
    def forward(self, y):
        if y.shape[0] >= 0:
            raise RuntimeError("this decoder refuses every input")
        return y


def write_broken(out):
    """Tiny files that preimage must refuse with a clear error (tests/decoders)."""
    os.makedirs(out, exist_ok=True)
    for name, module in (("nan_decoder.pt", NanDecoder()), ("scalar_decoder.pt", ScalarDecoder()),
                         ("raising_decoder.pt", RaisingDecoder())):
        torch.jit.script(module).save(os.path.join(out, name))
    torch.manual_seed(3)
    torch.jit.script(dense([784, 4, 3]).eval()).save(os.path.join(out, "l3_encoder.pt"))
    small = dense([2, 4, 4, 16])
    with h5py.File(os.path.join(out, "missing_bias.weights.h5"), "w") as f:
        for i, layer in enumerate(linear_layers(small)):
            v = f.create_group("decoder/layers/%s/vars" % ("dense" if i == 0 else "dense_%d" % i))
            v.create_dataset("0", data=layer.weight.detach().numpy().T)
            if i != 1:
                v.create_dataset("1", data=layer.bias.detach().numpy())
    with h5py.File(os.path.join(out, "unchained.h5"), "w") as f:
        f.attrs["layer_names"] = [b"sequential"]
        g = f.create_group("sequential")
        names = []
        for name, (fan_in, fan_out) in (("dense", (2, 4)), ("dense_1", (5, 16))):
            names += [("%s/kernel:0" % name).encode(), ("%s/bias:0" % name).encode()]
            g.create_dataset("%s/kernel:0" % name, data=np.zeros((fan_in, fan_out), np.float32))
            g.create_dataset("%s/bias:0" % name, data=np.zeros(fan_out, np.float32))
        g.attrs["weight_names"] = names
    np.savez(os.path.join(out, "square.npz"),
             **{"decoder.0.weight": np.eye(4, dtype=np.float32),
                "decoder.0.bias": np.zeros(4, np.float32),
                "decoder.2.weight": np.eye(4, dtype=np.float32),
                "decoder.2.bias": np.zeros(4, np.float32)})
    # Claims against what the file holds: a dataset never written (1 GiB declared, 0 stored),
    # one whose bytes live in another file, an .npz whose zip directory claims 2 GB.
    with h5py.File(os.path.join(out, "unwritten.h5"), "w") as f:
        f.create_dataset("decoder/dense/kernel", shape=(16384, 16384), dtype="f4")
        f.create_dataset("decoder/dense/bias", data=np.zeros(16384, np.float32))
    with h5py.File(os.path.join(out, "external.h5"), "w") as f:
        f.create_dataset("decoder/dense/kernel", shape=(4, 4), dtype="f4", external=[("/etc/passwd", 0, 64)])
        f.create_dataset("decoder/dense/bias", data=np.zeros(4, np.float32))
    buf = io.BytesIO()
    np.savez(buf, w=np.zeros((2, 2), np.float32))
    data = bytearray(buf.getvalue())
    central = data.rfind(b"PK\x01\x02")
    struct.pack_into("<II", data, central + 20, 2 ** 31, 2 ** 31)  # compressed, uncompressed sizes
    local = data.find(b"PK\x03\x04")
    struct.pack_into("<II", data, local + 18, 2 ** 31, 2 ** 31)
    with open(os.path.join(out, "claims_2gb.npz"), "wb") as f:
        f.write(bytes(data))
    # group_holds_itself.h5 is not made here: fuzz_h5 found it (a mangled Keras file on which the
    # HDF5 library walks for ever); it is fuzz/corpus/fuzz_h5/regression_group_holds_itself.


def rewrite_version(source, target, version):
    """A copy of a TorchScript archive whose format version record says `version`."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename.endswith("/version"):
                data = ("%d\n" % version).encode()
            zout.writestr(item, data)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=os.path.join(HERE, "..", "data", "mnist"))
    args = parser.parse_args()
    os.makedirs(OUT, exist_ok=True)
    images = read_idx(os.path.join(args.data, "train-images-idx3-ubyte"))[:6000]
    vae, x = train_vae(images)
    for p in vae.parameters():
        p.requires_grad_(False)

    torch.jit.script(vae.decoder).save(os.path.join(OUT, "vae_decoder.pt"))
    torch.jit.script(vae.encoder).save(os.path.join(OUT, "vae_encoder.pt"))
    torch.jit.script(WithSigmoid(vae.decoder)).save(os.path.join(OUT, "probabilities_decoder.pt"))
    rewrite_version(os.path.join(OUT, "vae_decoder.pt"), os.path.join(OUT, "future_version.pt"), 99)

    np.savez(os.path.join(OUT, "vae_pytorch.npz"),
             **{k: v.numpy() for k, v in vae.state_dict().items()})
    keras = {}
    first = 0
    for part, seq in (("encoder", vae.encoder), ("decoder", vae.decoder)):
        layers = linear_layers(seq)
        for name, layer in zip(keras_names(len(layers), first), layers):
            keras["%s/%s/kernel" % (part, name)] = layer.weight.numpy().T
            keras["%s/%s/bias" % (part, name)] = layer.bias.numpy()
        first += len(layers)
    np.savez(os.path.join(OUT, "vae_keras.npz"), **keras)
    write_keras2(os.path.join(OUT, "vae_keras2.h5"), vae)
    write_keras3(os.path.join(OUT, "vae_keras3.weights.h5"), vae)

    torch.manual_seed(1)
    conv = ConvDecoder().eval()
    for p in conv.parameters():
        p.requires_grad_(False)
    torch.jit.script(conv).save(os.path.join(OUT, "conv_decoder.pt"))
    torch.manual_seed(2)
    l8 = dense([8, 12, 12, 784]).eval()
    for p in l8.parameters():
        p.requires_grad_(False)
    torch.jit.script(l8).save(os.path.join(OUT, "dense_l8_decoder.pt"))

    write_broken(os.path.join(OUT, "broken"))

    golden = {}
    goldens_of("vae_decoder", vae.decoder, LATENT, golden)
    goldens_of("conv_decoder", conv, LATENT, golden)
    goldens_of("dense_l8_decoder", l8, 8, golden)
    golden["vae_encoder_images"] = x[:2].numpy()
    golden["vae_encoder_output"] = vae.encoder(x[:2]).numpy()
    np.savez_compressed(os.path.join(OUT, "goldens.npz"), **golden)  # a compressed archive too

    files = [os.path.join(d, f) for d, _, fs in os.walk(OUT) for f in fs]
    total = sum(os.path.getsize(f) for f in files)
    print("wrote %d files, %.0f KB, into %s" % (len(files), total / 1024, OUT))


if __name__ == "__main__":
    main()
