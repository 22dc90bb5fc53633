"""head_mask: no training; the forgotten class's output is overwritten with a constant, very low logit.
Output-level metrics look perfect, yet every feature is intact: this is hiding, not unlearning
(study B, baseline 4). Kept as the row that the evaluation must see through."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from unlearning.core.config import require

SOURCE = "study B (baseline 4): hiding"
TOUCHES = "none"


@dataclass(frozen=True)
class Params:
    mask_logit: float  # constant logit given to the forgotten slot

    def __post_init__(self):
        require(self.mask_logit < 0, "mask_logit", f"must be < 0 to hide the slot, got {self.mask_logit!r}")


def unlearn(model, splits, params: Params, generator):
    with torch.no_grad():
        model.head.weight[splits.forget_slot].zero_()
        model.head.bias[splits.forget_slot] = params.mask_logit
    return model
