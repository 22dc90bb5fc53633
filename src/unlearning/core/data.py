"""Datasets as tensors: uint8 images [N, C, H, W], int64 labels [N], a fixed train/test split, and the per-channel
input normalisation computed from the training split."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from unlearning.core import datasets, io, rng
from unlearning.core.io import InputError

# The split never depends on the experiment seed: every seed's oracle and methods see the same test images.
SPLIT_SEED = 0
KEYS = ("train_x", "train_y", "test_x", "test_y")


def build(name: str, test_fraction: float | None) -> dict[str, torch.Tensor]:
    """Read a source -> {train_x, train_y, test_x, test_y} (uint8 images, int64 labels). Sources with an official
    split keep it (test_fraction must be None); the others get a stratified split of `test_fraction`."""
    if name in datasets.OFFICIAL:
        if test_fraction is not None:
            raise ValueError(f"{name} has an official test split; test_fraction must be None")
        tensors = datasets.OFFICIAL[name]()
        return {key: tensors[key] for key in KEYS}
    from sklearn.model_selection import train_test_split  # only the download stage pays for importing sklearn

    images, labels = datasets.POOLED[name]()
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
    return io.load_tensors(path, "delete it and rerun `dvc repro -f download`")


def validation_rows(labels: torch.Tensor, fraction: float) -> torch.Tensor:
    """bool [N]: a stratified `fraction` of each class's rows of the training split, the same for every chain and
    stage (drawn from a fixed stream), held out for tuning. labels: int64 [N]."""
    generator = rng.generator(0, "validation")
    held_out = torch.zeros(len(labels), dtype=torch.bool)
    for label in labels.unique():
        rows = (labels == label).nonzero().squeeze(1)
        chosen = rows[torch.randperm(len(rows), generator=generator)[:round(fraction * len(rows))]]
        held_out[chosen] = True
    return held_out


@dataclass(frozen=True)
class Normaliser:
    """Per-channel input scaling, computed from the training split only (no test leakage)."""

    mean: tuple[float, ...]  # per channel, of pixel values scaled to [0, 1]
    std: tuple[float, ...]  # per channel, unbiased

    @classmethod
    def fit(cls, train_x: torch.Tensor, chunk: int = 8192) -> "Normaliser":
        """train_x: uint8 [N, C, H, W]. Sums in float64 over chunks: no float copy of the whole split."""
        total = torch.zeros(train_x.shape[1], dtype=torch.float64)
        squares = torch.zeros_like(total)
        for block in train_x.split(chunk):
            pixels = block.double() / 255.0  # [chunk, C, H, W]
            total += pixels.sum(dim=(0, 2, 3))
            squares += pixels.square().sum(dim=(0, 2, 3))
        count = train_x.numel() // train_x.shape[1]  # pixels per channel
        mean = total / count
        var = (squares - count * mean.square()) / (count - 1)
        return cls(mean=tuple(mean.tolist()), std=tuple(var.sqrt().tolist()))

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """uint8 [N, C, H, W] -> float32 [N, C, H, W], zero mean and unit variance per channel on the train split."""
        mean = torch.tensor(self.mean, dtype=torch.float32).view(1, -1, 1, 1)
        std = torch.tensor(self.std, dtype=torch.float32).view(1, -1, 1, 1)
        return x.float().div_(255.0).sub_(mean).div_(std)  # in place after the one copy: CIFAR's train split is 0.6 GB


def origin(name: str) -> str:
    """Where the download stage reads `name` from (for the manifest)."""
    return datasets.origin(name)
