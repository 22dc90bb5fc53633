"""Model builders. Every model exposes `features(x)` (penultimate activations) and a final linear `head`,
so that probes and head-level methods work on every architecture."""
from __future__ import annotations

import torch
from torch import nn

from unlearning.config import ModelConfig
from unlearning.rng import seeded


class MLP(nn.Module):
    """Flatten -> [Linear -> ReLU] * len(hidden) -> Linear head (the source studies' MLP family)."""

    def __init__(self, in_features: int, hidden: tuple[int, ...], num_classes: int):
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        width = in_features
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """x: [N, C, H, W] -> [N, hidden[-1]]"""
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: [N, C, H, W] -> logits [N, num_classes]"""
        return self.head(self.body(x))


def linear_layers(model: nn.Module) -> list[nn.Linear]:
    """Linear layers in forward order (the head last): what `last_layers` counts from the end."""
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


def build(cfg: ModelConfig, input_shape: tuple[int, ...], num_classes: int, seed: int) -> nn.Module:
    """A freshly initialised model; the initialisation is a pure function of `seed`."""
    with seeded(seed, "init"):
        if cfg.arch == "mlp":
            return MLP(int(torch.tensor(input_shape).prod()), cfg.hidden, num_classes)
    raise ValueError(f"unknown architecture {cfg.arch!r}")
