"""Tiny, well-formed dataset archives in the exact layouts torchvision downloads, and a local HTTP server for them.
Test helpers only: no test in here."""
from __future__ import annotations

import contextlib
import functools
import gzip
import hashlib
import http.server
import io
import pickle
import struct
import tarfile
import threading
import zipfile
from pathlib import Path

import numpy as np


def md5(path: Path) -> str:
    return hashlib.md5(Path(path).read_bytes()).hexdigest()


def idx_bytes(array: np.ndarray) -> bytes:
    """uint8 array -> IDX: two zero bytes, type code 0x08, rank, big-endian dims, raw values."""
    return bytes([0, 0, 8, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


def images(seed: int, n: int, shape: tuple[int, ...]) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, *shape), dtype=np.uint8)


def labels(seed: int, n: int, classes: int) -> np.ndarray:
    return np.random.default_rng(seed + 1).integers(0, classes, n, dtype=np.uint8)


def mnist_files(directory: Path, n_train: int = 6, n_test: int = 4, compress: bool = True, prefix: str = "",
                classes: int = 10) -> dict[str, np.ndarray]:
    """The four MNIST-layout IDX files; returns what they hold as {train_x, train_y, test_x, test_y}."""
    directory.mkdir(parents=True, exist_ok=True)
    out = {}
    for seed, (side, stem, n) in enumerate((("train", "train", n_train), ("test", "t10k", n_test))):
        out[f"{side}_x"], out[f"{side}_y"] = images(10 * seed, n, (28, 28)), labels(10 * seed, n, classes)
        for kind, array in (("images-idx3", out[f"{side}_x"]), ("labels-idx1", out[f"{side}_y"])):
            name = f"{prefix}{stem.replace('t10k', 'test') if prefix else stem}-{kind}-ubyte"
            data = idx_bytes(array)
            if compress:
                (directory / f"{name}.gz").write_bytes(gzip.compress(data, mtime=0))
            else:
                (directory / name).write_bytes(data)
    return out


def emnist_zip(directory: Path, split: str = "balanced") -> tuple[Path, dict[str, np.ndarray]]:
    """gzip.zip with a gzip/ folder of emnist-<split>-{train,test}-{images-idx3,labels-idx1}-ubyte.gz."""
    staging = directory / "staging"
    arrays = mnist_files(staging, prefix=f"emnist-{split}-", classes=47)
    path = directory / "gzip.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for file in sorted(staging.iterdir()):
            archive.write(file, f"gzip/{file.name}")
    return path, arrays


def cifar_tar(directory: Path, per_batch: int = 2) -> tuple[Path, dict[str, np.ndarray], dict[str, str]]:
    """cifar-10-python.tar.gz with cifar-10-batches-py/{data_batch_1..5, test_batch, batches.meta} pickles.
    Returns the archive, the images as [N, 3, 32, 32] with labels, and the md5 of every member."""
    members, sums = {}, {}
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for seed, name in enumerate(names):
        members[name] = {"data": images(seed, per_batch, (3 * 32 * 32,)),
                         "labels": labels(seed, per_batch, 10).tolist()}
    members["batches.meta"] = {"label_names": [f"class{i}" for i in range(10)]}
    path = directory / "cifar-10-python.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        for name, obj in members.items():
            blob = pickle.dumps(obj)
            sums[name] = hashlib.md5(blob).hexdigest()
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(blob)
            archive.addfile(info, io.BytesIO(blob))
    train = [members[n] for n in names[:5]]
    arrays = {"train_x": np.concatenate([b["data"] for b in train]).reshape(-1, 3, 32, 32),
              "train_y": np.concatenate([b["labels"] for b in train]),
              "test_x": members["test_batch"]["data"].reshape(-1, 3, 32, 32),
              "test_y": np.array(members["test_batch"]["labels"])}
    return path, arrays, sums


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep pytest's output clean
        pass


@contextlib.contextmanager
def serve(directory: Path):
    """Serve `directory` on 127.0.0.1 (a free port) from a thread; yields the base URL, ending in '/'."""
    handler = functools.partial(_Quiet, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
