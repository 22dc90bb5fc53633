"""salun: random labels on the forget images plus retain + new data, but only the weights whose forget-loss
gradient magnitude is in the top `fraction` may move ("SalUn: Empowering Machine Unlearning via Gradient-based
Weight Saliency", Fan et al. 2024); the rest of the network keeps its pretrained values exactly."""
from __future__ import annotations

from dataclasses import dataclass

from unlearning.core.config import FitConfig, require
from unlearning.methods.shared import random_other_slots, saliency_masks
from unlearning.core.splits import Part, concat
from unlearning.core.train import fit

SOURCE = "SalUn (Fan et al. 2024)"
TOUCHES = "forget + retain + new"


@dataclass(frozen=True)
class Params(FitConfig):
    fraction: float  # share of all weights (largest |d loss_forget / d w|) that may change; paper: 0.5

    def __post_init__(self):
        super().__post_init__()
        require(0 < self.fraction <= 1, "fraction", f"must be in (0, 1], got {self.fraction!r}")


def unlearn(model, splits, params: Params, generator):
    masks = saliency_masks(model, splits.forget.x, splits.forget.y, params.fraction)
    relabelled = Part(splits.forget.x, random_other_slots(splits.forget, splits.num_slots, generator))
    data = concat(splits.target, relabelled)
    return fit(model, data.x, data.y, params, generator, trainable=masks, desc="salun")
