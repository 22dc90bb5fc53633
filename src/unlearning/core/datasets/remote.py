"""Full-size datasets with an official train/test split, fetched by torchvision's own dataset classes and download
code (mirrors, md5 checks, extraction), except Fashion-MNIST, read from Debian's dataset-fashion-mnist package when
that is installed.

Downloads land in a temporary directory that is always removed: the caller writes data/ only once the tensors exist,
so a failed or corrupted download leaves nothing behind. Every torchvision failure becomes one DownloadError line
naming the dataset and what it fetched.
"""
from __future__ import annotations

import pickle
import tarfile
import tempfile
import zipfile
from pathlib import Path
from urllib.error import URLError

import numpy as np
import torch

from unlearning.core.datasets.idx import read_mnist_dir
from unlearning.core.io import InputError

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")  # where Debian's dataset-fashion-mnist puts its IDX files
EMNIST_SPLIT = "balanced"  # 47 classes, 112 800 + 18 800 images (study A uses it)

# What torchvision raises on an unreachable mirror, an md5 mismatch, a broken archive or an unparsable file.
FAILURES = (RuntimeError, OSError, URLError, EOFError, ValueError, AssertionError, tarfile.TarError,
            zipfile.BadZipFile, pickle.UnpicklingError)


class DownloadError(InputError):
    """A download that failed or did not verify; one line naming the dataset and the file or URL."""


def _fetch(name: str, what: str, make) -> dict[str, torch.Tensor]:
    """make(root, train) -> a torchvision dataset with download=True; both sides, in a throwaway root."""
    with tempfile.TemporaryDirectory(prefix=f"unlearning-{name}-") as root:
        try:
            train, test = make(root, True), make(root, False)
        except FAILURES as err:
            reason = " ".join(str(err).split()) or type(err).__name__  # torchvision's messages span lines
            raise DownloadError(f"{name}: download from {what} failed: {reason}") from None
        return {**_tensors("train", train), **_tensors("test", test)}


def _tensors(side: str, dataset) -> dict[str, torch.Tensor]:
    """torchvision's .data ([N, H, W] tensor, or [N, H, W, C] numpy for CIFAR) -> uint8 [N, C, H, W]."""
    x = torch.as_tensor(np.asarray(dataset.data), dtype=torch.uint8)
    x = x[:, None] if x.ndim == 3 else x.permute(0, 3, 1, 2)
    return {f"{side}_x": x.contiguous(), f"{side}_y": torch.as_tensor(np.asarray(dataset.targets), dtype=torch.int64)}


def _mirrors(cls) -> str:
    return " or ".join(cls.mirrors)


def mnist() -> dict[str, torch.Tensor]:
    from torchvision.datasets import MNIST

    return _fetch("mnist", _mirrors(MNIST), lambda root, train: MNIST(root, train=train, download=True))


def fashion_mnist() -> dict[str, torch.Tensor]:
    if FASHION_DIR.is_dir():
        return read_mnist_dir(FASHION_DIR)
    from torchvision.datasets import FashionMNIST

    return _fetch("fashion-mnist", _mirrors(FashionMNIST),
                  lambda root, train: FashionMNIST(root, train=train, download=True))


def fashion_mnist_5k() -> tuple[np.ndarray, np.ndarray]:
    """500 images of each class drawn once (fixed seed) from Fashion-MNIST's training split: a pooled source of
    mnist-5k's size and balance, so that a Fashion-MNIST forget request costs what a digit request costs."""
    tensors = fashion_mnist()
    labels = tensors["train_y"]
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(0))  # one fixed draw
    chosen = torch.cat([order[labels[order] == c][:500] for c in range(10)]).sort().values  # [5000]
    return tensors["train_x"][chosen].numpy(), labels[chosen].numpy()


def emnist() -> dict[str, torch.Tensor]:
    from torchvision.datasets import EMNIST

    tensors = _fetch("emnist", EMNIST.url,
                     lambda root, train: EMNIST(root, split=EMNIST_SPLIT, train=train, download=True))
    for side in ("train", "test"):  # EMNIST's files store every image transposed: make the letters upright
        tensors[f"{side}_x"] = tensors[f"{side}_x"].transpose(2, 3).contiguous()
    return tensors


def cifar10() -> dict[str, torch.Tensor]:
    from torchvision.datasets import CIFAR10

    return _fetch("cifar10", CIFAR10.url, lambda root, train: CIFAR10(root, train=train, download=True))


def origin(name: str) -> str:
    """Where `name` is read from, for the manifest."""
    if name == "fashion-mnist" and FASHION_DIR.is_dir():
        return f"debian package dataset-fashion-mnist ({FASHION_DIR})"
    return "torchvision download"
