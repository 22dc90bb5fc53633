"""boundary_shrink: each forget image is relabelled with its nearest other class -- one FGSM step of size
`step` up the pretrained model's loss, then the top predicted slot other than its own -- and the model is
fine-tuned on these plus retain + new data, shrinking the forgotten class's decision region into its
neighbours' ("Boundary Unlearning", Chen et al. 2023)."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from unlearning.config import FitConfig, require
from unlearning.splits import Part, concat
from unlearning.train import fit, predict

SOURCE = "Boundary Shrink (Chen et al. 2023)"
TOUCHES = "forget + retain + new"


@dataclass(frozen=True)
class Params(FitConfig):
    step: float  # FGSM step size in normalised pixel units (the input has unit variance); 0 = no attack

    def __post_init__(self):
        super().__post_init__()
        require(self.step >= 0, "step", f"must be >= 0, got {self.step!r}")


def boundary_labels(model, x: torch.Tensor, y: torch.Tensor, step: float) -> torch.Tensor:
    """x: [N, ...], y: [N] own slots -> [N] the slot (never y) that the FGSM-perturbed image is predicted as,
    i.e. the class across the nearest decision boundary."""
    was_training = model.training
    model.eval()
    with torch.enable_grad():
        x_in = x.detach().clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(F.cross_entropy(model(x_in), y), x_in)
    model.train(was_training)
    logits = predict(model, x + step * grad.sign())  # [N, K]
    own = F.one_hot(y, logits.shape[1]).bool()
    return logits.masked_fill(own, float("-inf")).argmax(1)  # "nearest other class": never its own


def unlearn(model, splits, params: Params, generator):
    forget = splits.forget
    shrunk = Part(forget.x, boundary_labels(model, forget.x, forget.y, params.step))
    data = concat(splits.target, shrunk)
    return fit(model, data.x, data.y, params, generator, desc="boundary_shrink")
