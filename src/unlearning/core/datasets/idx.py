"""IDX files (the MNIST family's format): big-endian header, then raw uint8 values. Read here rather than through
torchvision so that a directory of plain or gzipped IDX files (Debian's dataset-fashion-mnist) needs no download
code, and so that a truncated or foreign file gives an error naming it instead of an assertion."""
from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import torch

from unlearning.core.io import InputError

UINT8 = 0x08  # the IDX type code of unsigned bytes, the only one the image and label files use


def read_idx(path: Path) -> np.ndarray:
    """One IDX file, gzipped (name ends in .gz) or not -> uint8 array of the shape its header gives."""
    path = Path(path)
    try:
        with (gzip.open if path.suffix == ".gz" else open)(path, "rb") as handle:
            raw = handle.read()
    except (OSError, EOFError) as err:
        raise InputError(f"{path}: cannot read IDX file ({err})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != UINT8:
        raise InputError(f"{path}: not an IDX file of unsigned bytes")
    ndim = raw[3]
    header = 4 + 4 * ndim
    dims = struct.unpack(f">{ndim}I", raw[4:header]) if len(raw) >= header else None
    if dims is None or len(raw) - header != int(np.prod(dims)):
        raise InputError(f"{path}: IDX header and data size disagree (truncated file?)")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def read_mnist_dir(directory: Path) -> dict[str, torch.Tensor]:
    """A directory with the four MNIST-layout files (train-images-idx3-ubyte[.gz], ..., t10k-labels-idx1-ubyte[.gz])
    -> {train_x, train_y, test_x, test_y}: uint8 [N, 1, 28, 28] images, int64 [N] labels."""
    directory = Path(directory)
    out = {}
    for side, prefix in (("train", "train"), ("test", "t10k")):
        images, labels = (_find(directory, f"{prefix}-{kind}") for kind in ("images-idx3-ubyte", "labels-idx1-ubyte"))
        x, y = read_idx(images), read_idx(labels)
        if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
            raise InputError(f"{images}: {x.shape} images do not match {y.shape} labels in {labels.name}")
        out[f"{side}_x"] = torch.from_numpy(x.copy())[:, None]  # copy: frombuffer arrays are read-only
        out[f"{side}_y"] = torch.from_numpy(y.astype(np.int64))
    return out


def _find(directory: Path, stem: str) -> Path:
    for name in (f"{stem}.gz", stem):
        if (directory / name).exists():
            return directory / name
    raise InputError(f"{directory / stem}.gz: file not found")
