"""l1_sparse ("Model Sparsity Can Simplify Machine Unlearning", Jia et al. 2023): fine-tune on retain + new data
with SGD (momentum 0.9, as the paper) on CE + gamma_e * ||theta||_1, gamma_e = gamma (1 - e/E) held for the
whole of epoch e = 0 .. E-1, exactly the reference code's alpha * (1 - epoch / unlearn_epochs) with alpha = the
paper's gamma = 5e-4 (the paper does not say whether its gamma is the start or the mean; the code says start).
Under SGD the penalty moves every weight by lr * gamma_t * sign(theta) a step, the same for all: the weights the
kept data does not hold up reach zero (many carry the forgotten class); the late steps recover accuracy.
`report` gives the run record the share of weights it left near zero (|w| < NEAR_ZERO).
Budget: the paper unlearns for 10 epochs against a pretraining of ~180; scaled to this pretraining's 20 epochs
that is about one epoch. The default runs 2: on mnist-5k's validation split (chains 0-1) the new class reaches
0.875 against 0.787 after one, and 7.5 % of the weights end near zero at gamma 5e-4 against 2.4 % at gamma ~0."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from unlearning.core.config import SGDConfig, positive
from unlearning.core.train import fit

SOURCE = "l1-sparse MU (Jia et al. 2023)"
TOUCHES = "retain + new"
NEAR_ZERO = 1e-3  # |w| below this counts as pruned: ~3 % of the MLP's first layer at initialisation (scale 0.036)


@dataclass(frozen=True)
class Params(SGDConfig):
    l1: float  # gamma: the L1 weight of the first epoch; gamma_e = gamma (1 - e / epochs)

    def __post_init__(self):
        super().__post_init__()
        positive(self, "l1")


def l1_norm(model) -> torch.Tensor:
    """||theta||_1 over every parameter (weights and biases), as in the paper."""
    return sum(p.abs().sum() for p in model.parameters())


def gamma_at(epoch: int, epochs: int, gamma: float) -> float:
    """The L1 weight of every step of epoch `epoch` (0-based) of `epochs`: gamma (1 - epoch / epochs)."""
    return gamma * (1 - epoch / epochs)


def near_zero_share(model) -> float:
    """Share of the weight-matrix entries (biases left out) with |w| < NEAR_ZERO."""
    weights = [p.detach() for name, p in model.named_parameters() if p.dim() > 1]
    return sum(int((w.abs() < NEAR_ZERO).sum()) for w in weights) / sum(w.numel() for w in weights)


def report(model) -> dict:
    """Extra entries of this method's run record (runs/l1_sparse.json)."""
    return {"near_zero_share": near_zero_share(model)}


def unlearn(model, splits, params: Params, generator):
    target = splits.target
    per_epoch = -(-len(target) // params.batch_size)  # optimiser steps of one epoch
    done = [0]  # steps finished so far; the shared loop reports them through on_step

    def loss(model, xb, yb, extra_b):
        epoch = done[0] // per_epoch  # the epoch this step belongs to
        return F.cross_entropy(model(xb), yb) + gamma_at(epoch, params.epochs, params.l1) * l1_norm(model)

    def advance(step: int) -> None:
        done[0] = step

    return fit(model, target.x, target.y, params, generator, loss=loss, on_step=advance, desc="l1_sparse")
