"""saliency_freeze: the source study's baseline (study A). Score every weight by |d loss_forget / d w|,
train only the top `fraction` of them with a loss that favours the new class and penalises the old one:
cross-entropy on retain + new data plus `forget_penalty` * -log(1 - p(old slot | forget image))."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from unlearning.core.config import FitConfig, positive, require
from unlearning.methods.shared import mixed, role_mean, saliency_masks
from unlearning.core.train import fit

SOURCE = "study A (gradient-saliency freeze)"
TOUCHES = "forget + retain + new"


@dataclass(frozen=True)
class Params(FitConfig):
    fraction: float  # share of all weights (by forget-gradient magnitude) that stays trainable
    forget_penalty: float  # weight of the -log(1 - p_old) term on forget images

    def __post_init__(self):
        super().__post_init__()
        require(0 < self.fraction <= 1, "fraction", f"must be in (0, 1], got {self.fraction!r}")
        positive(self, "forget_penalty")


def unlearn(model, splits, params: Params, generator):
    masks = saliency_masks(model, splits.forget.x, splits.forget.y, params.fraction)
    x, y, is_forget = mixed(splits.target, splits.forget)
    old = splits.forget_slot

    def loss(model, xb, yb, forget_b):
        logits = model(xb)
        learn = role_mean(F.cross_entropy(logits, yb, reduction="none"), ~forget_b)
        p_old = logits.float().softmax(dim=1)[:, old]  # [B]
        penalty = role_mean(-torch.log1p(-p_old.clamp(max=1 - 1e-6)), forget_b)
        return learn + params.forget_penalty * penalty

    return fit(model, x, y, params, generator, loss=loss, extra=is_forget, trainable=masks,
               desc="saliency_freeze")
