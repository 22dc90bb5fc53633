"""ewc: forget by training the forget images on random other slots (plus retain + new data), while an elastic
anchor lambda * sum_i F_i (theta_i - theta*_i)^2 / sum_i F_i holds the weights that matter for the retained
classes (diagonal Fisher F of the pretrained model theta* on retain data) near their pretrained values.
The classifier version of Selective Amnesia's stability term (Heng & Soh 2023, study E; EWC, Kirkpatrick 2017)."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from unlearning.core.config import FitConfig, positive
from unlearning.methods.shared import diagonal_fisher, random_other_slots
from unlearning.core.splits import Part, concat
from unlearning.core.train import fit

SOURCE = "Selective Amnesia (Heng & Soh 2023) stability term; EWC (Kirkpatrick et al. 2017)"
TOUCHES = "forget + retain + new"


@dataclass(frozen=True)
class Params(FitConfig):
    anchor: float  # lambda: weight of the Fisher-weighted squared drift from the pretrained weights
    fisher_samples: int  # retain images (a seeded draw) that estimate the diagonal Fisher; all when larger

    def __post_init__(self):
        super().__post_init__()
        positive(self, "anchor", "fisher_samples")


def anchor_weights(fisher: dict) -> dict:
    """F_i / sum_j F_j: the anchor becomes the Fisher-weighted *mean* squared drift, scale-free, so that `anchor`
    does not depend on how well the pretrained model fits its data."""
    total = sum(f.sum() for f in fisher.values()).clamp(min=1e-30)
    return {name: f / total for name, f in fisher.items()}


def anchor_penalty(model, weights: dict, reference: dict) -> torch.Tensor:
    """sum_i w_i (theta_i - theta*_i)^2 with w from anchor_weights."""
    return sum((weights[name] * (p - reference[name]).pow(2)).sum() for name, p in model.named_parameters())


def unlearn(model, splits, params: Params, generator):
    # the Fisher pass costs a forward and backward per image: on all retain images it would cost as much as the
    # one training epoch; a thousand images estimate a diagonal that only weights the anchor
    drawn = torch.randperm(len(splits.retain), generator=generator)[:params.fisher_samples].to(splits.retain.y.device)
    weights = anchor_weights(diagonal_fisher(model, splits.retain.x[drawn], splits.retain.y[drawn]))
    reference = {name: p.detach().clone() for name, p in model.named_parameters()}
    relabelled = Part(splits.forget.x, random_other_slots(splits.forget, splits.num_slots, generator))
    data = concat(splits.target, relabelled)

    def loss(model, xb, yb, extra_b):
        return F.cross_entropy(model(xb), yb) + params.anchor * anchor_penalty(model, weights, reference)

    return fit(model, data.x, data.y, params, generator, loss=loss, desc="ewc")
