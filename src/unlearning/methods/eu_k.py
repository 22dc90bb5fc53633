"""eu_k: exact unlearning of the last k layers (EU-k, Goel et al. 2022, "Towards Adversarial Evaluations for
Inexact Machine Unlearning"): the last k linear layers are re-initialised from scratch (PyTorch's default
initialisation, as the model was built) and trained on the data the model keeps (retain, plus the new class in
class replacement); every layer below stays frozen bit for bit. Unlike cf_k, which fine-tunes the top layers from
their pretrained values, nothing the top layers knew survives: only what the frozen features carry can still tell
the forget images apart. The source retrains the top layers with the original training recipe; here that is the
pretraining's Adam (lr 1e-3, batch 128) for `epochs` epochs, a budget chosen to stay >= 10x cheaper than a retrain
(a frozen bottom layer makes an epoch cheaper than a full one; docs/sources.md has the measurement)."""
from __future__ import annotations

from dataclasses import dataclass

from unlearning.core.config import FitConfig, require
from unlearning.core.models import linear_layers
from unlearning.core.train import fit
from unlearning.methods.shared import last_layers_trainable, reinitialise

SOURCE = "EU-k (Goel et al. 2022)"
TOUCHES = "retain + new"


@dataclass(frozen=True)
class Params(FitConfig):
    k: int  # how many linear layers, counted from the output, are re-initialised and retrained

    def __post_init__(self):
        super().__post_init__()
        require(self.k >= 1, "k", f"must be an integer >= 1 (layers counted from the output), got {self.k!r}")


def unlearn(model, splits, params: Params, generator):
    trainable = last_layers_trainable(model, params.k, "methods.eu_k.k")  # checks k against the model
    reinitialise(linear_layers(model)[-params.k:], generator)  # the top k layers start from scratch
    target = splits.target
    return fit(model, target.x, target.y, params, generator, trainable=trainable, desc="eu_k")
