"""shrink_refit (this project, docs/lab/shrink_refit.md): every weight moved to (1 - reset) x its value + reset x
a fresh initialisation's (shrink and perturb, Ash & Adams 2020, with the perturbation drawn as the model is
initialised), then `epochs` passes over the kept data (retain, plus the new class in class replacement) with Adam;
optionally the head is then rescaled to the original's median retain confidence (shared.match_output_scale).

Hypothesis: what separates the methods from a retrain is how far they move from the original weights. reset = 0
is fine-tuning on the kept data, which keeps nearly all the forget images left in the weights; reset = 1 is a
retrain cut short, which keeps none of it but has not had time to fit. In between, the shrunken original keeps the
layout of the features (so the refit is fast) while every weight's forget-specific part is scaled down by
(1 - reset) and drowned in fresh noise of a new network's size."""
from __future__ import annotations

import copy
from dataclasses import dataclass

import torch

from unlearning.core.config import FitConfig, require
from unlearning.core.train import fit, predict
from unlearning.methods.shared import fresh_init, label_confidence, match_output_scale

SOURCE = "this project (docs/lab/shrink_refit.md)"
TOUCHES = "retain + new"


@dataclass(frozen=True)
class Params(FitConfig):
    reset: float  # share of a fresh initialisation in the start: 0 = the original weights, 1 = a new network
    calibrate: bool  # rescale the head to the original model's median retain confidence after training

    def __post_init__(self):
        super().__post_init__()
        require(0 <= self.reset <= 1, "reset", f"must be in [0, 1], got {self.reset!r}")
        require(isinstance(self.calibrate, bool), "calibrate", f"must be true or false, got {self.calibrate!r}")


def unlearn(model, splits, params: Params, generator):
    retain = splits.retain
    target_median = float(label_confidence(predict(model, retain.x).double(), retain.y).median())
    fresh = copy.deepcopy(model)
    fresh_init(fresh, generator)
    with torch.no_grad():  # theta <- (1 - reset) theta + reset theta_fresh, buffers (BatchNorm statistics) too
        for mine, new in zip((*model.parameters(), *model.buffers()), (*fresh.parameters(), *fresh.buffers())):
            if mine.is_floating_point():
                mine.lerp_(new, params.reset)
    target = splits.target
    fit(model, target.x, target.y, params, generator, desc="shrink_refit")
    if params.calibrate:
        match_output_scale(model, target_median, retain.x, retain.y)
    return model
