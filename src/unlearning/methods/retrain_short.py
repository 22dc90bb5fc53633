"""retrain_short: a retrain from scratch cut short -- the baseline of the budget frontier (docs/frontier.md). Every
layer is re-initialised as models.build initialises a new model, so the pretrained weights it is given are thrown
away, and the model is trained on the data the retrain sees (retain, plus the new class in class replacement) with
the retrain's own recipe (params.yaml `train:`: Adam, lr, batch, augmentation), for `share` of its `epochs`.
At share 1 it is the retrain; a method that forgets less than retrain_short at the same compute buys nothing.
Compute is counted as the other budgets count it: training images passed forward and backward, here
share x epochs x |retain + new|, rounded to whole optimiser steps."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from unlearning.core.config import TrainConfig, require
from unlearning.core.train import fit
from unlearning.methods.shared import reinitialise

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


def fresh_init(model: nn.Module, generator: torch.Generator) -> None:
    """Every layer redrawn from scratch: PyTorch's default initialisation, and inside a torchvision ResNet its
    kaiming-normal convolutions (models.resnet18_trunk), so the start is distributed as a new model's."""
    reinitialise([m for m in model.modules() if hasattr(m, "reset_parameters")], generator)
    convs = [c for m in model.modules() if type(m).__name__ == "ResNet" for c in m.modules()
             if isinstance(c, nn.Conv2d)]
    seed = int(torch.randint(2 ** 62, (1,), generator=generator))
    with torch.random.fork_rng(devices=[]), torch.no_grad():
        torch.manual_seed(seed)  # drawn on the CPU, as reinitialise does: the same start on every device
        for conv in convs:
            conv.weight.copy_(nn.init.kaiming_normal_(torch.empty(conv.weight.shape), mode="fan_out",
                                                      nonlinearity="relu"))


def unlearn(model, splits, params: Params, generator):
    fresh_init(model, generator)
    target = splits.target
    return fit(model, target.x, target.y, params, generator, steps=budget_steps(len(target), params),
               desc="retrain_short")
