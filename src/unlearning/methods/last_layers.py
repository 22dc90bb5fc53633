"""last_layers: fine-tune only the last k linear layers on retain + new-class data, everything below frozen
(SEEDS.md B, baselines 2 and 3)."""
from __future__ import annotations

from dataclasses import dataclass

from unlearning.config import ConfigError, FitConfig, positive
from unlearning.models import linear_layers
from unlearning.train import fit

SOURCE = "SEEDS.md B (baselines 2-3)"
TOUCHES = "retain + new"


@dataclass(frozen=True)
class Params(FitConfig):
    layers: int  # how many linear layers, counted from the output, are trainable

    def __post_init__(self):
        super().__post_init__()
        positive(self, "layers")


def unlearn(model, splits, params: Params, generator):
    layers = linear_layers(model)
    if params.layers > len(layers):
        raise ConfigError("methods.last_layers.layers", f"the model has only {len(layers)} linear layers")
    chosen = {id(p) for layer in layers[-params.layers:] for p in layer.parameters()}
    trainable = {name: True for name, p in model.named_parameters() if id(p) in chosen}
    target = splits.target
    return fit(model, target.x, target.y, params, generator, trainable=trainable, desc="last_layers")
