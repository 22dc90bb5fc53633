"""l1_sparse: fine-tune on retain + new data with an L1 penalty gamma_t * ||theta||_1 whose weight decays
linearly to 0 over the run ("Model Sparsity Can Simplify Machine Unlearning", Jia et al. 2023): early steps
prune the weights the kept data does not need (many carry the forgotten class), late steps recover accuracy."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from unlearning.config import FitConfig, positive
from unlearning.train import fit

SOURCE = "l1-sparse MU (Jia et al. 2023)"
TOUCHES = "retain + new"


@dataclass(frozen=True)
class Params(FitConfig):
    l1: float  # gamma_0: L1 weight at the first step, decayed linearly to 0 at the last

    def __post_init__(self):
        super().__post_init__()
        positive(self, "l1")


def l1_norm(model) -> torch.Tensor:
    """||theta||_1 over every parameter (weights and biases), as in the paper."""
    return sum(p.abs().sum() for p in model.parameters())


def unlearn(model, splits, params: Params, generator):
    target = splits.target
    total = params.epochs * -(-len(target) // params.batch_size)  # optimiser steps of the run
    done = [0]  # steps finished so far; the shared loop reports them through on_step

    def loss(model, xb, yb, extra_b):
        gamma = params.l1 * (1 - done[0] / total)
        return F.cross_entropy(model(xb), yb) + gamma * l1_norm(model)

    def advance(step: int) -> None:
        done[0] = step

    return fit(model, target.x, target.y, params, generator, loss=loss, on_step=advance, desc="l1_sparse")
