#!/usr/bin/python3
"""Writes the seed corpora of the fuzz targets (fuzz/corpus/<target>/): a few tiny valid files
and a few broken ones per parser. The checkpoint and run-folder seeds come from a tiny run of the
built `preimage`, given as the first argument. Run once; the seeds are committed.

    /usr/bin/python3 fuzz/make_corpus.py build/src/cli/preimage
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


if __name__ == "__main__":
    data_seeds()
    if len(sys.argv) > 1:
        run_seeds(sys.argv[1])
