"""neggrad_plus: one convex combination alpha * CE(retain + new) - (1 - alpha) * CE(forget) per step, as in
NegGrad+ (Kurmanji et al. 2023, "Towards Unbounded Machine Unlearning"): neggrad's ascent on the forget images,
balanced by descent on what the model should keep. No ceiling on the ascent term and no stopping rule: alpha close
to 1 and a short schedule keep the weights from diverging; alpha is the source's one knob, tuned here on the
validation split (bench/sweep_methods.py). Batches are drawn from one shuffled stream of retain + new + forget
images and each role's loss is averaged separately. Optimiser: SGD with momentum, as the source's code trains
(without its weight decay)."""
from __future__ import annotations

from dataclasses import dataclass

import torch.nn.functional as F

from unlearning.core.config import SGDConfig, require
from unlearning.methods.shared import mixed, role_mean
from unlearning.core.train import fit

SOURCE = "NegGrad+ (Kurmanji et al. 2023)"
TOUCHES = "forget + retain + new"


@dataclass(frozen=True)
class Params(SGDConfig):
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
