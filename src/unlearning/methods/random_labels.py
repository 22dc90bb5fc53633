"""random_labels: study B's baseline 1. Draw `samples` forget images, give each a random label among the other
slots, and fine-tune the whole model on those relabelled images alone: no retain or new-class image is shown, so
nothing holds the other classes in place but the short schedule. (Relabelled forget images mixed with the kept
data is SalUn's RL: method `salun_rl`.)"""
from __future__ import annotations

from dataclasses import dataclass

from unlearning.core.config import FitConfig, require
from unlearning.methods.shared import relabelled_sample
from unlearning.core.train import fit

SOURCE = "study B (baseline 1)"
TOUCHES = "forget"


@dataclass(frozen=True)
class Params(FitConfig):
    samples: int  # forget images drawn and relabelled (a few hundred in the study); all of them when fewer exist

    def __post_init__(self):
        super().__post_init__()
        require(self.samples >= 1, "samples", f"must be an integer >= 1, got {self.samples!r}")


def unlearn(model, splits, params: Params, generator):
    relabelled = relabelled_sample(splits.forget, params.samples, splits.num_slots, generator)
    return fit(model, relabelled.x, relabelled.y, params, generator, desc="random_labels")
