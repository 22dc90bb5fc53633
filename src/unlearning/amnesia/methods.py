"""The METHODS registry of the amnesia scenario: name -> module with a frozen `Params` dataclass and
`unlearn(model, task, params, generator) -> model` (trained in place). Adding one = one file + one line here."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from unlearning.amnesia import baselines, selective_amnesia
from unlearning.amnesia.config import retained


@dataclass(frozen=True)
class Task:
    """What a forgetting method may use besides the original model."""

    forget: int  # the label to forget
    retained: tuple[int, ...]  # every other label
    forget_x: torch.Tensor  # real train images of the forgotten label [N, C, H, W] in [0, 1] (baselines only;
    # Selective Amnesia does not look at them)

    @classmethod
    def of(cls, forget: int, x: torch.Tensor, y: torch.Tensor) -> "Task":
        """The request to forget label `forget`, given the train images x [N, C, H, W] and labels y [N]."""
        return cls(forget, retained(forget), x[y == forget])


METHODS = {
    "selective_amnesia": selective_amnesia,
    "gradient_ascent": baselines,
}
