"""ssd: Selective Synaptic Dampening (Foster et al. 2024), retrain-free. Diagonal Fisher importances on the
forget images ([]_f) and on all the original training data ([]_D); every parameter with []_f > alpha * []_D is
multiplied by min(lambda * []_D / []_f, 1); all others stay exactly as they were. No training loop at all,
so the new class is not learned: ssd only forgets."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from unlearning.config import positive
from unlearning.methods.fisher import diagonal_fisher

SOURCE = "SSD (Foster et al. 2024)"
TOUCHES = "forget + retain"


@dataclass(frozen=True)
class Params:
    # The forget images are part of D, so []_D >= (N_forget / N_D) []_f: selection must stay below
    # N_D / N_forget (10 when a class of ten is forgotten) or nothing is ever selected.
    selection: float  # alpha: a parameter is dampened when its forget importance exceeds alpha x its D importance
    dampening: float  # lambda: the chosen parameters are scaled by min(lambda * []_D / []_f, 1)

    def __post_init__(self):
        positive(self, "selection", "dampening")


def dampening_factors(forget_importance: dict, full_importance: dict, params: Params) -> dict:
    """{name: factor in (0, 1], same shape}: 1 outside the selected set, min(lambda []_D / []_f, 1) inside."""
    factors = {}
    for name, imp_f in forget_importance.items():
        imp_d = full_importance[name]
        selected = imp_f > params.selection * imp_d
        ratio = (params.dampening * imp_d / imp_f.clamp(min=1e-30)).clamp(max=1.0)
        factors[name] = torch.where(selected, ratio, torch.ones_like(ratio))
    return factors


def unlearn(model, splits, params: Params, generator):
    full = splits.pretrain  # what the original model was trained on, the forget images included
    factors = dampening_factors(diagonal_fisher(model, splits.forget.x, splits.forget.y),
                                diagonal_fisher(model, full.x, full.y), params)
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.mul_(factors[name])
    return model
