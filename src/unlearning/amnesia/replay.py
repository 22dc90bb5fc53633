"""The training pools of the forgetting methods: generative replay of the retained labels from a frozen copy of
the original cVAE, and the uniform-noise surrogate for the forgotten label. A pool is one (x, y, role) triple
so that the shared fit loop batches the roles together and a loss can average each role separately."""
from __future__ import annotations

import torch

from unlearning.methods.shared import mixed
from unlearning.core.splits import Part


def replay(original, labels: tuple[int, ...], n: int, generator: torch.Generator, device) -> Part:
    """n mean images of the frozen original for `labels`, cycled so that every label gets n / len(labels):
    x [n, C, H, W] in [0, 1], y [n]."""
    y = torch.tensor(labels, device=device).repeat(-(-n // len(labels)))[:n]
    return Part(original.sample(y, generator), y)


def noise_surrogate(label: int, n: int, image_shape: tuple[int, ...], generator: torch.Generator, device) -> Part:
    """Selective Amnesia's q(x | forgotten label): n images of i.i.d. U(0, 1) pixels, all labelled `label`."""
    x = torch.rand(n, *image_shape, generator=generator).to(device)
    return Part(x, torch.full((n,), label, dtype=torch.long, device=device))


def pool(keep: Part, forget: Part) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """-> x [N, ...], y [N], is_forget bool [N] (keep samples first)."""
    return mixed(keep, forget)
