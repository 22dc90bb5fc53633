"""boundary_expanding ("Boundary Unlearning", Chen et al. 2023, the paper of boundary_shrink): the head gets one
extra, freshly initialised output -- a shadow class -- and the widened network is fine-tuned on the forget images
alone, every one labelled with the shadow class; then the shadow output is pruned, leaving the original head. The
forget images' features move to where only the shadow class was; once it is gone they fall to whatever class is
nearest, as they would for a model that never learnt them.

The shadow row is one row of a fresh nn.Linear(width, K + 1), as the reference builds its widened model (the other
rows copied from the pretrained head). Optimiser and budget: the reference's SGD (lr 1e-5, momentum 0.9, 10
epochs over the forget images), those of boundary_shrink; docs/sources.md gives what they do here."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils import skip_init

from unlearning.core.config import SGDConfig
from unlearning.core.models import linear_layers
from unlearning.core.train import fit
from unlearning.methods.shared import reinitialise

SOURCE = "Boundary Expanding (Chen et al. 2023)"
TOUCHES = "forget"


@dataclass(frozen=True)
class Params(SGDConfig):
    pass


class Widened(nn.Module):
    """model's logits [B, K] with a shadow logit appended: [B, K + 1]. model must have .features and .head."""

    def __init__(self, model: nn.Module, shadow: nn.Linear):
        super().__init__()
        self.model, self.shadow = model, shadow

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.model.features(x)  # [B, width]
        return torch.cat([self.model.head(h), self.shadow(h)], dim=1)


def shadow_unit(model: nn.Module, generator) -> nn.Linear:
    """Linear(width, 1) holding the last row of a freshly initialised Linear(width, K + 1)."""
    head = linear_layers(model)[-1]
    wide = skip_init(nn.Linear, head.in_features, head.out_features + 1)  # no global-RNG draw: seeded below
    reinitialise([wide], generator)
    shadow = skip_init(nn.Linear, head.in_features, 1, device=head.weight.device)
    with torch.no_grad():
        shadow.weight.copy_(wide.weight[-1:])
        shadow.bias.copy_(wide.bias[-1:])
    return shadow


def unlearn(model, splits, params: Params, generator):
    forget = splits.forget
    widened = Widened(model, shadow_unit(model, generator))
    shadow_label = torch.full_like(forget.y, splits.num_slots)  # [N_forget]: all the shadow class
    fit(widened, forget.x, shadow_label, params, generator, desc="boundary_expanding")
    return model  # the shadow unit is pruned: the original architecture, with the trained weights
