"""Training on 'learn' and 'forget' samples in one stream: the shared loop batches a role flag alongside
the data, and a method's loss averages each role separately (a batch may hold none of one role)."""
from __future__ import annotations

import torch

from unlearning.splits import Part, concat


def mixed(learn: Part, forget: Part) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """-> x [N, ...], y [N], is_forget bool [N] with the learn samples first."""
    data = concat(learn, forget)
    is_forget = torch.cat([torch.zeros(len(learn), dtype=torch.bool, device=data.x.device),
                           torch.ones(len(forget), dtype=torch.bool, device=data.x.device)])
    return data.x, data.y, is_forget


def role_mean(values: torch.Tensor, is_role: torch.Tensor) -> torch.Tensor:
    """Mean of values[is_role] that is 0 (and keeps the graph) when the batch holds no sample of that role."""
    weights = is_role.to(values.dtype)
    return (values * weights).sum() / weights.sum().clamp(min=1.0)
