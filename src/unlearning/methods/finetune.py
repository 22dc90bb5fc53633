"""finetune: keep training the pretrained model on retain + new-class data only ("continue training on
retain" in study C); forgetting comes only from catastrophic interference."""
from __future__ import annotations

from dataclasses import dataclass

from unlearning.core.config import FitConfig
from unlearning.core.train import fit

SOURCE = "study B/C (fine-tune baseline)"
TOUCHES = "retain + new"


@dataclass(frozen=True)
class Params(FitConfig):
    pass


def unlearn(model, splits, params: Params, generator):
    target = splits.target
    return fit(model, target.x, target.y, params, generator, desc="finetune")
