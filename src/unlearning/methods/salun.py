"""salun: random labels on the forget images plus retain + new data, but only the weights whose forget-loss
gradient magnitude is in the top `fraction` may move ("SalUn: Empowering Machine Unlearning via Gradient-based
Weight Saliency", Fan et al. 2024); the rest of the network keeps its pretrained values exactly. Optimiser and
budget are salun_rl's (SGD, momentum 0.9, weight decay 5e-4, 2 epochs, as the paper's code), so that the two
differ only by the mask."""
from __future__ import annotations

from dataclasses import dataclass

import torch.nn.functional as F

from unlearning.core.config import SGDConfig, require
from unlearning.methods.shared import l2_penalty, random_other_slots, saliency_masks
from unlearning.core.splits import Part, concat
from unlearning.core.train import fit

SOURCE = "SalUn (Fan et al. 2024)"
TOUCHES = "forget + retain + new"


@dataclass(frozen=True)
class Params(SGDConfig):
    fraction: float  # share of all weights (largest |d loss_forget / d w|) that may change; paper: 0.5
    weight_decay: float  # SGD's coupled weight decay (the paper's 5e-4); acts on the trainable weights only

    def __post_init__(self):
        super().__post_init__()
        require(0 < self.fraction <= 1, "fraction", f"must be in (0, 1], got {self.fraction!r}")
        require(self.weight_decay >= 0, "weight_decay", f"must be >= 0, got {self.weight_decay!r}")


def unlearn(model, splits, params: Params, generator):
    masks = saliency_masks(model, splits.forget.x, splits.forget.y, params.fraction)
    relabelled = Part(splits.forget.x, random_other_slots(splits.forget, splits.num_slots, generator))
    data = concat(splits.target, relabelled)

    def loss(model, xb, yb, extra_b):
        return F.cross_entropy(model(xb), yb) + l2_penalty(model, params.weight_decay)

    return fit(model, data.x, data.y, params, generator, loss=loss, trainable=masks, desc="salun")
