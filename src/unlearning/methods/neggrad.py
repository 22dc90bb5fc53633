"""neggrad: gradient ascent on the cross-entropy of the forget images alone ("fine-tune with the negative gradient",
the NegGrad baseline of Golatkar et al. 2020, "Eternal Sunshine of the Spotless Net", as Kurmanji et al. 2023 run
it). The model never sees a retain or new-class image: in class replacement it cannot learn the new class.

Stopping rule (ascent has no minimum, so the source stops it by a budget): after every step the accuracy on the
forget-train images (their old slot) is measured, and training ends at the first step where it is at most
`stop_accuracy`, or after `epochs` passes over the forget images, whichever comes first. The rule reads only the
forget images, so the method stays forget-only; in subset forgetting it drives the forgotten images below the
retrains' accuracy on them (a retrain still recognises most of them), which the report flags as over-forgetting.
Optimiser: plain SGD (momentum 0, lr 0.01), as Kurmanji et al.'s code trains its NegGrad baselines."""
from __future__ import annotations

from dataclasses import dataclass

import torch.nn.functional as F

from unlearning.core.config import SGDConfig, require
from unlearning.core.train import fit, predict

SOURCE = "NegGrad (Golatkar et al. 2020; Kurmanji et al. 2023)"
TOUCHES = "forget"


@dataclass(frozen=True)
class Params(SGDConfig):
    # epochs: the most passes over the forget images; the stopping rule usually ends the run long before
    stop_accuracy: float  # stop once forget-train accuracy (old slot) is <= this share, in [0, 1)

    def __post_init__(self):
        super().__post_init__()
        require(0 <= self.stop_accuracy < 1, "stop_accuracy", f"must be in [0, 1), got {self.stop_accuracy!r}")


def forget_accuracy(model, x, y) -> float:
    """Share of images x [N, ...] still predicted in their slot y [N]."""
    return (predict(model, x).argmax(1) == y).float().mean().item()


def unlearn(model, splits, params: Params, generator):
    forget = splits.forget  # the only part of `splits` this method reads

    def ascent(model, xb, yb, extra_b):
        return -F.cross_entropy(model(xb), yb)

    def reached(step: int) -> bool:
        return forget_accuracy(model, forget.x, forget.y) <= params.stop_accuracy

    if len(forget) == 0 or forget_accuracy(model, forget.x, forget.y) <= params.stop_accuracy:
        return model  # nothing left to forget: no step is taken
    return fit(model, forget.x, forget.y, params, generator, loss=ascent, on_step=reached, desc="neggrad")
