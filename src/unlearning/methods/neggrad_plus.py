"""neggrad_plus: one convex combination alpha * CE(retain + new) - (1 - alpha) * CE(forget) per step, as in
NegGrad+ (Kurmanji et al. 2023, "Towards Unbounded Machine Unlearning"): neggrad's ascent on the forget images,
balanced by descent on what the model should keep. No ceiling on the ascent term and no stopping rule: alpha close
to 1 and a short schedule keep the weights from diverging; alpha is the source's one knob, tuned here on the
validation split (bench/sweep_methods.py). Batches are drawn from one shuffled stream of retain + new + forget
images and each role's loss is averaged separately. As the reference code (Kurmanji et al.'s run_neggrad_epoch),
the descent term carries an L2 pull wd/2 ||theta - theta_0||^2 to the weights the unlearning started from
(`l2_pull`, the reference's weight_decay), and the optimiser is plain SGD (momentum 0, lr 0.01).
Objective per step: alpha * (CE(retain + new) + l2_pull / 2 ||theta - theta_0||^2) - (1 - alpha) * CE(forget)."""
from __future__ import annotations

from dataclasses import dataclass

import torch.nn.functional as F

from unlearning.core.config import SGDConfig, require
from unlearning.methods.shared import l2_penalty, mixed, role_mean
from unlearning.core.train import fit

SOURCE = "NegGrad+ (Kurmanji et al. 2023)"
TOUCHES = "forget + retain + new"


@dataclass(frozen=True)
class Params(SGDConfig):
    alpha: float  # weight of the descent term on retain + new; the forget ascent gets 1 - alpha
    l2_pull: float  # wd of the pull wd/2 ||theta - theta_0||^2 to the starting weights (inside the descent term)

    def __post_init__(self):
        super().__post_init__()
        require(0 < self.alpha < 1, "alpha", f"must be in (0, 1), got {self.alpha!r}")
        require(self.l2_pull >= 0, "l2_pull", f"must be >= 0, got {self.l2_pull!r}")


def unlearn(model, splits, params: Params, generator):
    x, y, is_forget = mixed(splits.target, splits.forget)
    start = {name: p.detach().clone() for name, p in model.named_parameters()}  # theta_0

    def loss(model, xb, yb, forget_b):
        per_sample = F.cross_entropy(model(xb), yb, reduction="none")  # [B]
        kept = role_mean(per_sample, ~forget_b) + l2_penalty(model, params.l2_pull, start)
        return params.alpha * kept - (1 - params.alpha) * role_mean(per_sample, forget_b)

    return fit(model, x, y, params, generator, loss=loss, extra=is_forget, desc="neggrad_plus")
