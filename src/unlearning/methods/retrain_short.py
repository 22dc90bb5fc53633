"""retrain_short: a retrain from scratch cut short -- the baseline of the budget frontier (docs/frontier.md). Every
layer is re-initialised as models.build initialises a new model, so the pretrained weights it is given are thrown
away, and the model is trained on the data the retrain sees (retain, plus the new class in class replacement) with
the retrain's own recipe (params.yaml `train:`: Adam, lr, batch, augmentation), for `share` of its `epochs`.
At share 1 it is the retrain; a method that forgets less than retrain_short at the same compute buys nothing.
Compute is counted as the other budgets count it: training images passed forward and backward, here
share x epochs x |retain + new|, rounded to whole optimiser steps."""
from __future__ import annotations

from dataclasses import dataclass

from unlearning.core.config import TrainConfig, require
from unlearning.core.train import fit
from unlearning.methods.shared import fresh_init

SOURCE = "retrain from scratch, cut to a budget"
TOUCHES = "retain + new"


@dataclass(frozen=True)
class Params(TrainConfig):
    share: float  # the budget: this share of `epochs` (the retrain's, train.epochs), e.g. 0.1 = 2 of 20 epochs

    def __post_init__(self):
        super().__post_init__()
        require(0 < self.share <= 1, "share", f"must be in (0, 1] (of the retrain's epochs), got {self.share!r}")


def budget_steps(n: int, params: Params) -> int:
    """Optimiser steps for `share` of `epochs` passes over n images at `batch_size` (at least one)."""
    return max(1, round(params.share * params.epochs * -(-n // params.batch_size)))


def unlearn(model, splits, params: Params, generator):
    fresh_init(model, generator)
    target = splits.target
    return fit(model, target.x, target.y, params, generator, steps=budget_steps(len(target), params),
               desc="retrain_short")
