"""boundary_shrink ("Boundary Unlearning", Chen et al. 2023): each forget image is labelled with the class that
one FGSM step of the pretrained model pushes it to -- its nearest neighbouring class, or its own when the step
does not cross a boundary (the reference keeps those) -- and the model is fine-tuned on these forget images
alone, shrinking the forgotten class's decision region into its neighbours'. The labels come from the frozen
pretrained model, as the reference's separate attack copy gives them; FGSM has no randomness, so one pass suffices.

The step is `epsilon` in [0, 1] pixel units (the reference's bound 0.1), clamped to the valid pixel range and
rounded to 1/255 as the reference does. This project's images are normalised per channel (zero mean, unit
variance), so the pixel range is read back from the training images: per channel, their minimum is pixel 0 and
their maximum pixel 255 (every dataset here has both), and a pixel unit is max - min normalised units.
Optimiser, lr, epochs: the reference's SGD (momentum 0.9, lr 1e-5, 10 epochs). Measured on mnist-5k (validation
split, chains 0-1): after the step 28-37 % of the forget images keep their own class (chains 0-3), and the
reference's settings lower the 6s' accuracy from 0.99 to 0.54 only; lr 1e-3 for one epoch reaches 0.00, but ten
epochs at 1e-3 climb back to 0.31 as the model fits the own-class labels."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from unlearning.core.config import SGDConfig, require
from unlearning.core.splits import Part
from unlearning.core.train import fit, predict

SOURCE = "Boundary Shrink (Chen et al. 2023)"
TOUCHES = "forget"


@dataclass(frozen=True)
class Params(SGDConfig):
    epsilon: float  # FGSM step in [0, 1] pixel units (the reference's 0.1); > 0: a zero step relabels nothing

    def __post_init__(self):
        super().__post_init__()
        require(self.epsilon > 0, "epsilon", f"must be > 0, got {self.epsilon!r}")


def pixel_range(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """x: normalised images [N, C, H, W] -> per-channel (min, max) [1, C, 1, 1]: where pixel 0 and 255 map."""
    return x.amin(dim=(0, 2, 3), keepdim=True), x.amax(dim=(0, 2, 3), keepdim=True)


def fgsm(model, x: torch.Tensor, y: torch.Tensor, epsilon: float, low: torch.Tensor, high: torch.Tensor):
    """One FGSM step up the model's CE loss: x [N, C, H, W] normalised -> same shape, moved by epsilon pixel units
    per channel, clamped to [low, high] and rounded to the 1/255 pixel grid."""
    scale = high - low  # normalised units per [0, 1] pixel unit, [1, C, 1, 1]
    was_training = model.training
    model.eval()
    with torch.enable_grad():
        x_in = x.detach().clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(F.cross_entropy(model(x_in), y), x_in)
    model.train(was_training)
    pixels = ((x + epsilon * scale * grad.sign() - low) / scale).clamp(0.0, 1.0)
    return torch.round(pixels * 255) / 255 * scale + low


def boundary_labels(model, x: torch.Tensor, y: torch.Tensor, epsilon: float, low, high) -> torch.Tensor:
    """x: [N, ...], y: [N] own slots -> [N] the slot the model predicts for the FGSM-perturbed image (own allowed)."""
    return predict(model, fgsm(model, x, y, epsilon, low, high)).argmax(1)


def unlearn(model, splits, params: Params, generator):
    forget = splits.forget
    low, high = pixel_range(splits.pretrain.x)
    shrunk = Part(forget.x, boundary_labels(model, forget.x, forget.y, params.epsilon, low, high))
    return fit(model, shrunk.x, shrunk.y, params, generator, desc="boundary_shrink")
