"""fisher_forgetting: Fisher forgetting (Golatkar, Achille & Soatto, CVPR 2020, "Eternal Sunshine of the Spotless
Net"): no training; every weight gets Gaussian noise whose variance is alpha times the inverse of its diagonal
Fisher information on the retain set, so weights the retained data pins down (large Fisher) barely move and
weights it does not constrain -- those that can carry the forget data -- are scrambled.

As the authors' code (get_mean_var): var = alpha / (F + 1e-8), clamped at 1e3 (1e2 for the head), averaged over
each weight matrix's input dimension (one variance per output unit), times 10 for the head and for 1-d
parameters; when a whole class is forgotten (no retained image has its slot) the head's row of that slot is set to
0 with variance 1e-4. The Fisher is the true Fisher E_x E_{y ~ p(y|x)} (d log p(y|x) / d theta)^2 of the
reference, estimated with one label drawn per retain image from the model's own prediction (one backward pass per
image instead of the reference's one per class; unbiased). alpha: the reference's 1e-6 for this project's Fisher
scale is measured on the validation split (docs/sources.md)."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from unlearning.core.config import positive
from unlearning.core.models import linear_layers
from unlearning.core.train import predict
from unlearning.methods.shared import diagonal_fisher

SOURCE = "Fisher forgetting (Golatkar et al. 2020)"
TOUCHES = "retain"


@dataclass(frozen=True)
class Params:
    alpha: float  # noise scale: variance = alpha / Fisher (the reference's alpha)

    def __post_init__(self):
        positive(self, "alpha")


def noise_variance(fisher: dict, head: set, alpha: float) -> dict:
    """{name: F [same shape]} -> {name: variance [same shape]}, the reference's rule (see the docstring).
    head: names of the output layer's parameters."""
    out = {}
    for name, f in fisher.items():
        var = (1.0 / (f + 1e-8)).clamp(max=1e2 if name in head else 1e3) * alpha
        if var.dim() > 1:
            var = var.mean(dim=1, keepdim=True).expand_as(var).clone()  # [out, in]: one variance per output unit
        if name in head or var.dim() == 1:
            var = var * 10
        out[name] = var
    return out


def unlearn(model, splits, params: Params, generator):
    retain = splits.retain
    sampled = torch.multinomial(predict(model, retain.x).softmax(1).cpu(), 1, generator=generator).squeeze(1)
    fisher = diagonal_fisher(model, retain.x, sampled.to(retain.y.device))  # {name: F}, true Fisher (sampled)
    head_layer = linear_layers(model)[-1]
    head = {name for name, p in model.named_parameters() if any(p is q for q in head_layer.parameters())}
    variance = noise_variance(fisher, head, params.alpha)
    whole_class = not bool((retain.y == splits.forget_slot).any())
    with torch.no_grad():
        for name, p in model.named_parameters():
            var = variance[name]
            if whole_class and name in head:  # the forgotten slot's row: mean 0, variance 1e-4
                p[splits.forget_slot] = 0
                var[splits.forget_slot] = 1e-4
            noise = torch.randn(p.shape, generator=generator).to(p.device)
            p.add_(var.sqrt() * noise)
    return model
