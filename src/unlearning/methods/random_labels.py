"""random_labels: the forget samples get fixed random labels among the other classes' slots and are trained on
together with retain + new-class data (SEEDS.md B, baseline 1; the idea behind SalUn's relabelling)."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from unlearning.config import FitConfig
from unlearning.splits import Part, concat
from unlearning.train import fit

SOURCE = "SEEDS.md B (baseline 1)"
TOUCHES = "forget + retain + new"


@dataclass(frozen=True)
class Params(FitConfig):
    pass


def random_other_slots(forget: Part, num_slots: int, generator: torch.Generator) -> torch.Tensor:
    """A uniformly random slot != the sample's own slot, for every forget sample: [N_forget] int64."""
    shift = torch.randint(1, num_slots, (len(forget),), generator=generator).to(forget.y.device)
    return (forget.y + shift) % num_slots


def unlearn(model, splits, params: Params, generator):
    relabelled = Part(splits.forget.x, random_other_slots(splits.forget, splits.num_slots, generator))
    data = concat(splits.target, relabelled)
    return fit(model, data.x, data.y, params, generator, desc="random_labels")
