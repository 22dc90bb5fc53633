"""The independent judge: an MLP classifier of the ten digits, trained on real train images only and used only
to score generated images. It takes pixels in [0, 1] and standardises them itself, so that generated images and
real ones go through the same path."""
from __future__ import annotations

import torch
from torch import nn

from unlearning.amnesia.config import NUM_LABELS, ClassifierConfig
from unlearning.core.models import MLP
from unlearning.core.rng import generator, seeded
from unlearning.core.train import fit, predict


class Classifier(nn.Module):
    def __init__(self, image_shape: tuple[int, ...], hidden: tuple[int, ...]):
        super().__init__()
        self.register_buffer("mean", torch.zeros(()))
        self.register_buffer("std", torch.ones(()))
        self.net = MLP(int(torch.tensor(image_shape).prod()), hidden, NUM_LABELS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: [N, C, H, W] in [0, 1] -> logits [N, 10]"""
        return self.net((x - self.mean) / self.std)


def build(cfg: ClassifierConfig, image_shape: tuple[int, ...]) -> Classifier:
    with seeded(cfg.seed, "classifier-init"):
        return Classifier(image_shape, cfg.hidden)


def train(cfg: ClassifierConfig, x: torch.Tensor, y: torch.Tensor) -> Classifier:
    """x: real train images [N, C, H, W] in [0, 1], y: [N] -> a trained classifier on x's device."""
    model = build(cfg, tuple(x.shape[1:])).to(x.device)
    model.mean.fill_(x.mean().item())
    model.std.fill_(x.std().item())
    return fit(model, x, y, cfg, generator(cfg.seed, "classifier"), desc="classifier")


def accuracy(model: Classifier, x: torch.Tensor, y: torch.Tensor) -> float:
    return (predict(model, x).argmax(1).cpu() == y.cpu()).float().mean().item()
