"""The METHODS registry: name -> module with a frozen `Params` dataclass and
`unlearn(model, splits, params, generator) -> model`. Adding a method = one file + one line here."""
from unlearning.methods import (
    finetune,
    gradient_ascent,
    head_mask,
    last_layers,
    original,
    random_labels,
    saliency_freeze,
)

METHODS = {
    "original": original,
    "finetune": finetune,
    "random_labels": random_labels,
    "gradient_ascent": gradient_ascent,
    "last_layers": last_layers,
    "saliency_freeze": saliency_freeze,
    "head_mask": head_mask,
}
