"""fresh_distill (this project, docs/lab/fresh_distill.md): a freshly initialised student learns the kept data
(retain, plus the new class in class replacement) from their labels and from the original model's outputs on the
retain images with the forgotten slot's column removed, for `epochs` passes with Adam; optionally its head is then
rescaled to the original's median retain confidence (shared.match_output_scale, as scaled_retrain).

Hypothesis: methods that start from the original weights only suppress what those weights learned from the forget
images, so a test can still find it; a fresh student carries none of it. A retrain from scratch is slow because
hard labels say little per image; the original's soft outputs on the retain images say how similar each image is
to every retained class (Hinton et al.'s dark knowledge), which should let a student reach a full retrain's
function in a fraction of its epochs. The forgotten slot's column is dropped from the distillation target (the
softmax over the other slots): how much a retain image looks like the forgotten class is evidence about that
class, which a retrain never had. In class replacement that slot is the new class's, learned from its labels."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from unlearning.core.config import FitConfig, positive, require
from unlearning.core.train import fit, predict
from unlearning.methods.shared import (distill_kl, fresh_init, label_confidence, match_output_scale, mixed,
                                       role_mean)

SOURCE = "this project (docs/lab/fresh_distill.md)"
TOUCHES = "retain + new"


@dataclass(frozen=True)
class Params(FitConfig):
    weight: float  # weight of the distillation term against the cross-entropy on the labels
    temperature: float  # distillation temperature T (the KL is scaled by T^2)
    calibrate: bool  # rescale the head to the original model's median retain confidence after training

    def __post_init__(self):
        super().__post_init__()
        positive(self, "temperature")
        require(self.weight >= 0, "weight", f"must be >= 0, got {self.weight!r}")
        require(isinstance(self.calibrate, bool), "calibrate", f"must be true or false, got {self.calibrate!r}")


def without_slot(logits: torch.Tensor, slot: int) -> torch.Tensor:
    """[N, K] -> [N, K - 1]: every column but `slot` (the distribution over the other slots, once softmaxed)."""
    return torch.cat([logits[:, :slot], logits[:, slot + 1:]], dim=1)


def unlearn(model, splits, params: Params, generator):
    retain, slot = splits.retain, splits.forget_slot
    teacher = predict(model, retain.x).clone()  # [N_retain, K]: the original's outputs, before re-initialising
    target_median = float(label_confidence(teacher.double(), retain.y).median())
    # retain images first, then the new class (none outside class replacement); is_new marks the latter
    x, y, is_new = mixed(retain, splits.new)
    taught = torch.cat([without_slot(teacher, slot), torch.zeros(len(splits.new), teacher.shape[1] - 1,
                                                                 device=teacher.device)])  # [N, K - 1]
    index = torch.arange(len(y), device=y.device)
    fresh_init(model, generator)

    def loss(model, xb, yb, index_b):
        logits = model(xb)  # [B, K]
        labelled = F.cross_entropy(logits, yb)
        distilled = distill_kl(without_slot(logits, slot), taught[index_b], params.temperature)  # [B]
        return labelled + params.weight * role_mean(distilled, ~is_new[index_b])

    fit(model, x, y, params, generator, loss=loss, extra=index, desc="fresh_distill")
    if params.calibrate:
        match_output_scale(model, target_median, retain.x, retain.y)
    return model
