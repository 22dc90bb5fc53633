"""On-device batch augmentation for the training loop: random crop with padding and horizontal flip, for the whole
batch in a few tensor ops (no per-sample Python). The random draws come from the fit's seeded generator, one draw per
epoch, so a run is reproducible and the device never waits for the host inside an epoch."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def draw(n: int, pad: int, flip: bool, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor | None]:
    """One epoch's draws: shifts int64 [n, 2] (row, column offsets in 0..2*pad), flips bool [n] or None."""
    shifts = torch.randint(0, 2 * pad + 1, (n, 2), generator=generator)
    flips = torch.rand(n, generator=generator) < 0.5 if flip else None
    return shifts, flips


def apply(x: torch.Tensor, pad: int, shifts: torch.Tensor, flips: torch.Tensor | None) -> torch.Tensor:
    """x: [B, C, H, W] (normalised), shifts: int64 [B, 2], flips: bool [B] or None -> augmented [B, C, H, W].

    The crop pads with zeros, i.e. with the training split's mean colour since x is normalised, then takes the
    H x W window at each sample's offset with one gather."""
    b, c, h, w = x.shape
    if pad:
        padded = F.pad(x, (pad, pad, pad, pad))  # [B, C, H + 2 pad, W + 2 pad]
        rows = shifts[:, 0, None] + torch.arange(h, device=x.device)  # [B, H]
        cols = shifts[:, 1, None] + torch.arange(w, device=x.device)  # [B, W]
        batch = torch.arange(b, device=x.device)[:, None, None, None]
        channel = torch.arange(c, device=x.device)[None, :, None, None]
        x = padded[batch, channel, rows[:, None, :, None], cols[:, None, None, :]]  # [B, C, H, W]
    if flips is not None:
        x = torch.where(flips[:, None, None, None], x.flip(3), x)
    return x
