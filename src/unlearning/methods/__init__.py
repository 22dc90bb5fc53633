"""The METHODS registry: name -> module with a frozen `Params` dataclass and
`unlearn(model, splits, params, generator) -> model`. Adding a method = one file + one line here."""
from unlearning.methods import (
    boundary_shrink,
    ewc,
    finetune,
    gradient_ascent,
    head_mask,
    l1_sparse,
    last_layers,
    mi_regularizer,
    neggrad_plus,
    original,
    random_labels,
    saliency_freeze,
    salun,
    scrub,
    ssd,
)

METHODS = {
    "original": original,
    "finetune": finetune,
    "random_labels": random_labels,
    "gradient_ascent": gradient_ascent,
    "last_layers": last_layers,
    "saliency_freeze": saliency_freeze,
    "head_mask": head_mask,
    "mi_regularizer": mi_regularizer,
    "ewc": ewc,
    "neggrad_plus": neggrad_plus,
    "l1_sparse": l1_sparse,
    "salun": salun,
    "scrub": scrub,
    "ssd": ssd,
    "boundary_shrink": boundary_shrink,
}
