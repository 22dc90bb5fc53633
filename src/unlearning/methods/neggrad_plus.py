"""neggrad_plus: one convex combination alpha * CE(retain + new) - (1 - alpha) * CE(forget) per step, as in
NegGrad+ (Kurmanji et al. 2023, "Towards Unbounded Machine Unlearning"). Unlike gradient_ascent there is no
ceiling on the ascent term: alpha close to 1 and a short schedule are what keep the weights from diverging."""
from __future__ import annotations

from dataclasses import dataclass

import torch.nn.functional as F

from unlearning.config import FitConfig, require
from unlearning.methods.roles import mixed, role_mean
from unlearning.train import fit

SOURCE = "NegGrad+ (Kurmanji et al. 2023)"
TOUCHES = "forget + retain + new"


@dataclass(frozen=True)
class Params(FitConfig):
    alpha: float  # weight of the descent term on retain + new; the forget ascent gets 1 - alpha

    def __post_init__(self):
        super().__post_init__()
        require(0 < self.alpha < 1, "alpha", f"must be in (0, 1), got {self.alpha!r}")


def unlearn(model, splits, params: Params, generator):
    x, y, is_forget = mixed(splits.target, splits.forget)

    def loss(model, xb, yb, forget_b):
        per_sample = F.cross_entropy(model(xb), yb, reduction="none")  # [B]
        return (params.alpha * role_mean(per_sample, ~forget_b)
                - (1 - params.alpha) * role_mean(per_sample, forget_b))

    return fit(model, x, y, params, generator, loss=loss, extra=is_forget, desc="neggrad_plus")
