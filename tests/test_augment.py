"""Batch augmentation: shapes kept, deterministic per generator, and crops / flips really move pixels, exactly as a
per-sample reference computed here says."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from unlearning.core import augment

X = torch.randn(64, 3, 8, 8, generator=torch.Generator().manual_seed(0))  # [B, C, H, W]


def augmented(seed: int, pad: int, flip: bool) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    shifts, flips = augment.draw(len(X), pad, flip, torch.Generator().manual_seed(seed))
    return augment.apply(X, pad, shifts, flips), shifts, flips


def test_shapes_and_dtype_are_kept():
    out, shifts, flips = augmented(0, pad=2, flip=True)
    assert out.shape == X.shape and out.dtype == X.dtype
    assert shifts.shape == (64, 2) and shifts.min() >= 0 and shifts.max() <= 4 and flips.shape == (64,)


def test_deterministic_per_generator():
    a, b, c = augmented(0, 2, True)[0], augmented(0, 2, True)[0], augmented(1, 2, True)[0]
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_crop_matches_a_per_sample_window_of_the_zero_padded_image():
    out, shifts, _ = augmented(3, pad=2, flip=False)
    padded = F.pad(X, (2, 2, 2, 2))
    for i, (dy, dx) in enumerate(shifts.tolist()):
        assert torch.equal(out[i], padded[i, :, dy:dy + 8, dx:dx + 8])
    moved = (shifts != 2).any(dim=1)  # offset 2 is the identity crop
    assert moved.any() and all(not torch.equal(out[i], X[i]) for i in torch.nonzero(moved).flatten().tolist())
    assert all(torch.equal(out[i], X[i]) for i in torch.nonzero(~moved).flatten().tolist())


def test_flip_mirrors_exactly_the_drawn_half():
    out, _, flips = augmented(4, pad=0, flip=True)
    assert 0 < flips.sum() < len(flips)
    assert torch.equal(out[flips], X[flips].flip(3)) and torch.equal(out[~flips], X[~flips])
    assert not torch.equal(out[flips], X[flips])


def test_no_flip_draws_nothing_and_pad_zero_is_identity():
    out, shifts, flips = augmented(5, pad=0, flip=False)
    assert flips is None and (shifts == 0).all() and torch.equal(out, X)
