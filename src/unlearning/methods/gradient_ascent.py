"""gradient_ascent: ascend the cross-entropy on forget samples while descending on retain + new-class data
("NegGrad"). The ascent term is clipped at `ascent_ceiling` nats per sample so that it stops pushing once a
sample is forgotten instead of blowing the weights up."""
from __future__ import annotations

from dataclasses import dataclass

import torch.nn.functional as F

from unlearning.config import FitConfig, positive
from unlearning.methods.roles import mixed, role_mean
from unlearning.train import fit

SOURCE = "NegGrad (Golatkar et al. 2020; SEEDS.md A/B)"
TOUCHES = "forget + retain + new"


@dataclass(frozen=True)
class Params(FitConfig):
    forget_weight: float  # weight of the ascent term against the retain/new descent term
    ascent_ceiling: float  # per-sample forget loss (nats) above which ascent stops

    def __post_init__(self):
        super().__post_init__()
        positive(self, "forget_weight", "ascent_ceiling")


def unlearn(model, splits, params: Params, generator):
    x, y, is_forget = mixed(splits.target, splits.forget)

    def loss(model, xb, yb, forget_b):
        per_sample = F.cross_entropy(model(xb), yb, reduction="none")  # [B]
        ascent = role_mean(per_sample.clamp(max=params.ascent_ceiling), forget_b)
        return role_mean(per_sample, ~forget_b) - params.forget_weight * ascent

    return fit(model, x, y, params, generator, loss=loss, extra=is_forget, desc="gradient_ascent")
