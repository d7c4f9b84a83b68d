#!/usr/bin/python3
"""Writes the seed corpora of the fuzz targets (fuzz/corpus/<target>/): a few tiny valid files
and a few broken ones per parser. The checkpoint and run-folder seeds come from a tiny run of the
built `preimage`, given as the first argument. Run once; the seeds are committed.

    /usr/bin/python3 fuzz/make_corpus.py build/src/cli/preimage

The model seeds (fuzz_npz, fuzz_h5, fuzz_torchscript) need python3-torch and python3-h5py.
"""
import gzip
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

import numpy as np

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def put(target, name, data):
    os.makedirs(os.path.join(root, target), exist_ok=True)
    with open(os.path.join(root, target, name), "wb") as f:
        f.write(data)


def idx(array):
    array = np.asarray(array, dtype=np.uint8)
    return bytes([0, 0, 8, array.ndim]) + b"".join(struct.pack(">I", d) for d in array.shape) + array.tobytes()


def npy(array, fortran=False):
    import io
    buf = io.BytesIO()
    np.save(buf, np.asfortranarray(array) if fortran else array)
    return buf.getvalue()


def png(width, height, pixels, colour=0):
    """A minimal PNG (8-bit grey, or RGB with colour=2)."""
    channels = 3 if colour == 2 else 1
    rows = b"".join(b"\0" + bytes(pixels[r * width * channels:(r + 1) * width * channels]) for r in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def data_seeds():
    images = (np.arange(2 * 4 * 4) * 8 % 256).reshape(2, 4, 4)
    put("fuzz_idx", "images_2x4x4", idx(images))
    put("fuzz_idx", "labels_3", idx([3, 1, 4]))
    put("fuzz_idx", "images_2x4x4.gz", gzip.compress(idx(images), mtime=0))
    put("fuzz_idx", "truncated", idx(images)[:-5])
    put("fuzz_idx", "bad_magic", b"\x12\x34\x08\x03" + idx(images)[4:])
    put("fuzz_idx", "promises_1e9", bytes([0, 0, 8, 3]) + struct.pack(">III", 10**9, 28, 28) + bytes(16))

    put("fuzz_npy", "f4_2x3", npy(np.arange(6, dtype="<f4").reshape(2, 3)))
    put("fuzz_npy", "u1_3", npy(np.array([1, 2, 3], dtype=np.uint8)))
    put("fuzz_npy", "i8_fortran_2x3", npy(np.arange(6, dtype="<i8").reshape(2, 3), fortran=True))
    put("fuzz_npy", "bool_scalar", npy(np.array(True)))
    v2 = npy(np.zeros((2, 2), dtype="<f8"))
    header_len = struct.unpack("<H", v2[8:10])[0]
    put("fuzz_npy", "f8_version2", b"\x93NUMPY\x02\x00" + struct.pack("<I", header_len) + v2[10:])
    put("fuzz_npy", "negative_shape", npy(np.zeros(2, dtype="<f4")).replace(b"(2,)", b"(-2)"))
    put("fuzz_npy", "truncated", npy(np.zeros(8, dtype="<f4"))[:-3])

    top = [255] * (14 * 28) + [0] * (14 * 28)
    put("fuzz_mask", "top_28x28.png", png(28, 28, top))
    put("fuzz_mask", "rgb_4x4.png", png(4, 4, [255, 0, 0] * 16, colour=2))
    put("fuzz_mask", "truncated.png", png(28, 28, top)[:60])
    put("fuzz_mask", "mask_28x28.npy", npy(np.array(top, dtype=np.uint8).reshape(28, 28)))


def run_seeds(preimage):
    """A checkpoint, a run's manifest and two shards' manifests from a tiny real run."""
    tmp = tempfile.mkdtemp(prefix="preimage_corpus_")
    try:
        images = (np.random.default_rng(0).random((40, 4, 4)) > 0.5).astype(np.uint8) * 255
        labels = np.arange(40) % 10
        with open(os.path.join(tmp, "img.idx"), "wb") as f:
            f.write(idx(images))
        np.save(os.path.join(tmp, "labels.npy"), labels)
        run = os.path.join(tmp, "run")
        common = ["--data", os.path.join(tmp, "img.idx"), "--labels", os.path.join(tmp, "labels.npy"),
                  "--binarize", "none", "--quiet"]
        subprocess.run([preimage, "run", "--out", run, "--train-images", "32", "--eval-images", "none",
                        "--images", "8", "--epochs", "1", "--hidden-width", "4", "--latent-dim", "2",
                        "--encoder-depth", "1", "--decoder-depth", "1", "--batch-size", "16",
                        "--no-analyze", "--no-report"] + common, check=True)
        for k in range(2):
            subprocess.run([preimage, "invert", run, "--shard", f"{k}/2", "--out", os.path.join(tmp, f"part{k}"),
                            "--quiet"], check=True)

        def text(path):  # the scratch folder's name out of the seeds
            with open(path) as f:
                return f.read().replace(tmp, "/tmp/run-folder")

        with open(os.path.join(run, "model.pt"), "rb") as f:
            put("fuzz_checkpoint", "file_tiny_vae", b"\x03" + f.read())
        with open(os.path.join(run, "manifest.json")) as f:
            record_arch = json.load(f)["model"]["architecture"]
        put("fuzz_checkpoint", "record_tiny_vae", b"\x02" + json.dumps({"architecture": record_arch, "meta": {}}).encode())
        put("fuzz_checkpoint", "json_tiny_vae", b"\x00" + json.dumps({"architecture": record_arch}).encode())
        put("fuzz_checkpoint", "json_negative_depth",
            b"\x00" + json.dumps({"architecture": dict(record_arch, decoder_depth=-1), "meta": {}}).encode())
        put("fuzz_checkpoint", "record_not_json", b"\x00{\"architecture\": [1, 2")
        put("fuzz_manifest", "run", text(os.path.join(run, "manifest.json")).encode())
        put("fuzz_manifest", "empty_object", b"{}")
        put("fuzz_manifest", "wrong_types", json.dumps({"images": {"source": 3, "range": "0:8"},
                                                        "model": {"path": []}, "method_order": {}}).encode())
        parts = [text(os.path.join(tmp, f"part{k}", "manifest.json")) for k in range(2)]
        put("fuzz_shard", "two_parts", "\n--part--\n".join(parts).encode())
        put("fuzz_shard", "one_part", parts[0].encode())
        put("fuzz_shard", "same_part_twice", "\n--part--\n".join([parts[0], parts[0]]).encode())
    finally:
        shutil.rmtree(tmp)


def model_seeds():
    """Tiny dense decoders (2 -> 3 -> 4) as the three files `--weights` and `--decoder` take:
    .npz (PyTorch's and Keras's names), Keras 2's .h5 and Keras 3's .weights.h5 (h5py), and a
    TorchScript module (torch.jit.script).
    Needs Debian's python3-torch and python3-h5py."""
    import h5py
    import torch

    class Decoder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.decoder = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 4))

        def forward(self, y):
            return self.decoder(y)

    torch.manual_seed(0)
    model = Decoder()
    layers = [model.decoder[0], model.decoder[2]]
    tmp = tempfile.mkdtemp(prefix="preimage_corpus_")
    try:
        def saved(write, name):
            path = os.path.join(tmp, name)
            write(path)
            with open(path, "rb") as f:
                return f.read()

        state = {k: v.detach().numpy() for k, v in model.state_dict().items()}
        put("fuzz_npz", "pytorch_2_3_4.npz", saved(lambda p: np.savez(p, **state), "a.npz"))
        put("fuzz_npz", "pytorch_2_3_4_deflated.npz", saved(lambda p: np.savez_compressed(p, **state), "b.npz"))
        keras = {}
        for i, layer in enumerate(layers):
            name = "dense" if i == 0 else "dense_%d" % i
            keras["decoder/%s/kernel" % name] = layer.weight.detach().numpy().T
            keras["decoder/%s/bias" % name] = layer.bias.detach().numpy()
        put("fuzz_npz", "keras_2_3_4.npz", saved(lambda p: np.savez(p, **keras), "c.npz"))
        put("fuzz_npz", "not_npy_member.npz", saved(lambda p: shutil.make_archive(p[:-4], "zip", root_dir=tmp, base_dir="a.npz") and os.rename(p[:-4] + ".zip", p), "d.npz"))

        def keras2(path):
            with h5py.File(path, "w") as f:
                f.attrs["layer_names"] = [b"sequential"]
                g = f.create_group("sequential")
                names = []
                for i, layer in enumerate(layers):
                    name = "dense" if i == 0 else "dense_%d" % i
                    for var, value in (("kernel", layer.weight.detach().numpy().T), ("bias", layer.bias.detach().numpy())):
                        names.append(("%s/%s:0" % (name, var)).encode())
                        g.create_dataset("%s/%s:0" % (name, var), data=value)
                g.attrs["weight_names"] = names

        def keras3(path):
            with h5py.File(path, "w") as f:
                for i, layer in enumerate(layers):
                    v = f.create_group("decoder/layers/%s/vars" % ("dense" if i == 0 else "dense_%d" % i))
                    v.create_dataset("0", data=layer.weight.detach().numpy().T)
                    v.create_dataset("1", data=layer.bias.detach().numpy())

        def chunked(path):  # chunked and deflated storage, one dataset
            with h5py.File(path, "w") as f:
                f.create_dataset("decoder/dense/kernel", data=np.ones((2, 3), np.float32), chunks=(1, 3), compression="gzip")
                f.create_dataset("decoder/dense/bias", data=np.zeros(3, np.float32))

        put("fuzz_h5", "keras2_2_3_4.h5", saved(keras2, "a.h5"))
        put("fuzz_h5", "keras3_2_3_4.weights.h5", saved(keras3, "b.h5"))
        put("fuzz_h5", "chunked_deflated.h5", saved(chunked, "c.h5"))
        # fuzz_torchscript: the first byte picks the mode (see fuzz/fuzz_torchscript.cpp).
        script = saved(lambda p: torch.jit.script(model).save(p), "d.pt")
        put("fuzz_torchscript", "whole_2_3_4", b"\x00" + script)
        # The other modes' seeds (one member of fuzz_torchscript's own module replaced) come from
        # that target itself: PREIMAGE_FUZZ_SEEDS=fuzz/corpus/fuzz_torchscript build-harden/fuzz/fuzz_torchscript -runs=0
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    data_seeds()
    model_seeds()
    if len(sys.argv) > 1:
        run_seeds(sys.argv[1])
