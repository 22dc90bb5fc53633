"""scaled_retrain (this project, docs/lab/scaled_retrain.md): a retrain from scratch cut to `epochs` passes over
the kept data (retain, plus the new class in class replacement), with the pretraining's Adam at `lr`, then its head
rescaled so that the median label confidence on the retain images is the original model's.

Hypothesis: a retrain cut short already draws roughly a full retrain's decision boundaries -- what gives it away is
how sure it is. After 1-2 of the retrain's 20 epochs its weights, and so its logits, are smaller, and the forgetting
score compares exactly the logit-scaled confidence. The original model trained the full 20 epochs on (nearly) the
same retain images, so its confidence there stands in for a full retrain's; one scalar on the head (every
prediction, hence every accuracy, unchanged) moves the short retrain's confidences to that scale."""
from __future__ import annotations

from dataclasses import dataclass

from unlearning.core.config import FitConfig, require
from unlearning.core.train import fit, predict
from unlearning.methods.shared import fresh_init, label_confidence, match_output_scale

SOURCE = "this project (docs/lab/scaled_retrain.md)"
TOUCHES = "retain + new"


@dataclass(frozen=True)
class Params(FitConfig):
    calibrate: bool  # rescale the head to the original model's retain confidence (false: a plain short retrain)

    def __post_init__(self):
        super().__post_init__()
        require(isinstance(self.calibrate, bool), "calibrate", f"must be true or false, got {self.calibrate!r}")


def unlearn(model, splits, params: Params, generator):
    retain = splits.retain
    # the original's median label confidence on the retain images, before its weights are thrown away
    target_median = float(label_confidence(predict(model, retain.x).double(), retain.y).median())
    fresh_init(model, generator)
    target = splits.target
    fit(model, target.x, target.y, params, generator, desc="scaled_retrain")
    if params.calibrate:
        match_output_scale(model, target_median, retain.x, retain.y)
    return model
