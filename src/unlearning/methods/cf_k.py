"""cf_k: catastrophic forgetting-k (Goel et al. 2022, "Towards Adversarial Evaluations for Inexact Machine
Unlearning"): fine-tune only the last k layers on the data the model keeps (retain, plus the new class in class
replacement), every layer below frozen bit for bit; the forget images are never shown, so forgetting comes from
the top layers drifting away from them. Layers are the model's nn.Linear layers counted from the output (the head
is layer 1). SGD with momentum as the source trains; lr and epochs from a validation sweep
(bench/sweep_methods.py), since the source's schedule is relative to a different pretraining."""
from __future__ import annotations

from dataclasses import dataclass

from unlearning.core.config import SGDConfig, require
from unlearning.methods.shared import last_layers_trainable
from unlearning.core.train import fit

SOURCE = "CF-k (Goel et al. 2022)"
TOUCHES = "retain + new"


@dataclass(frozen=True)
class Params(SGDConfig):
    k: int  # how many linear layers, counted from the output, train; 1 .. the model's number of linear layers

    def __post_init__(self):
        super().__post_init__()
        require(self.k >= 1, "k", f"must be an integer >= 1 (layers counted from the output), got {self.k!r}")


def unlearn(model, splits, params: Params, generator):
    trainable = last_layers_trainable(model, params.k, "methods.cf_k.k")
    target = splits.target
    return fit(model, target.x, target.y, params, generator, trainable=trainable, desc="cf_k")
