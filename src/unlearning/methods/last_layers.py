"""last_layers: study B's baselines 2 and 3. Draw `samples` forget images, give each a random label among the other
slots, and train only the last `layers` linear layers (1: the head, baseline 2; 2: head and the layer below,
baseline 3) on those relabelled images alone: no retain or new-class image is shown, every lower layer stays bit
for bit. (Fine-tuning the last k layers on the kept data instead is Goel et al.'s CF-k: method `cf_k`.)"""
from __future__ import annotations

from dataclasses import dataclass

from unlearning.core.config import FitConfig, require
from unlearning.methods.shared import last_layers_trainable, relabelled_sample
from unlearning.core.train import fit

SOURCE = "study B (baselines 2-3)"
TOUCHES = "forget"


@dataclass(frozen=True)
class Params(FitConfig):
    layers: int  # linear layers, counted from the output, that train: 1 or 2 in the study; 1 .. the model's count
    samples: int  # forget images drawn and relabelled (a few hundred in the study); all of them when fewer exist

    def __post_init__(self):
        super().__post_init__()
        require(self.layers >= 1, "layers", f"must be an integer >= 1 (layers counted from the output), "
                                            f"got {self.layers!r}")
        require(self.samples >= 1, "samples", f"must be an integer >= 1, got {self.samples!r}")


def unlearn(model, splits, params: Params, generator):
    trainable = last_layers_trainable(model, params.layers, "methods.last_layers.layers")
    relabelled = relabelled_sample(splits.forget, params.samples, splits.num_slots, generator)
    return fit(model, relabelled.x, relabelled.y, params, generator, trainable=trainable, desc="last_layers")
