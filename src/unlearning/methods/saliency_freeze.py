"""saliency_freeze: the source study's baseline (SEEDS.md A). Score every weight by |d loss_forget / d w|,
train only the top `fraction` of them with a loss that favours the new class and penalises the old one:
cross-entropy on retain + new data plus `forget_penalty` * -log(1 - p(old slot | forget image))."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from unlearning.config import FitConfig, positive, require
from unlearning.methods.roles import mixed, role_mean
from unlearning.train import fit

SOURCE = "SEEDS.md A (gradient-saliency freeze)"
TOUCHES = "forget + retain + new"


@dataclass(frozen=True)
class Params(FitConfig):
    fraction: float  # share of all weights (by forget-gradient magnitude) that stays trainable
    forget_penalty: float  # weight of the -log(1 - p_old) term on forget images

    def __post_init__(self):
        super().__post_init__()
        require(0 < self.fraction <= 1, "fraction", f"must be in (0, 1], got {self.fraction!r}")
        positive(self, "forget_penalty")


def saliency_masks(model, forget_x: torch.Tensor, forget_y: torch.Tensor, fraction: float) -> dict:
    """Bool masks (one per parameter, same shape) selecting the top `fraction` of |grad| of the forget loss."""
    model.zero_grad(set_to_none=True)
    F.cross_entropy(model(forget_x), forget_y).backward()
    grads = {name: p.grad.detach().abs() for name, p in model.named_parameters()}
    model.zero_grad(set_to_none=True)
    flat = torch.cat([g.flatten() for g in grads.values()])
    keep = max(1, int(round(fraction * flat.numel())))
    threshold = torch.topk(flat, keep, sorted=True).values[-1]
    return {name: g >= threshold for name, g in grads.items()}


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
