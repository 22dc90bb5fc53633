"""Selective Amnesia (Heng & Soh 2023) for the cVAE. Minimise, from the original parameters theta*:

    -ELBO on the surrogate (uniform noise labelled with the forgotten label)
  + -ELBO on generative replay of the retained labels from a frozen copy of the original
  + lambda * sum_i F_i (theta_i - theta*_i)^2        (EWC, F = diagonal Fisher of the original)

The surrogate term points the forgotten label at noise; replay and EWC keep every other label as it was.
It never sees a real image of the forgotten label (nor any real image at all)."""
from __future__ import annotations

import copy
from dataclasses import dataclass

import torch

from unlearning.amnesia.elbo import draw_eps, negative_elbo
from unlearning.amnesia.fisher import diagonal_fisher
from unlearning.amnesia.replay import noise_surrogate, pool, replay
from unlearning.core.config import FitConfig, positive, require
from unlearning.methods.shared import role_mean
from unlearning.core.train import fit

SOURCE = "Selective Amnesia (Heng & Soh, NeurIPS 2023)"


@dataclass(frozen=True)
class Params:
    steps: int  # Adam steps
    batch_size: int  # pool samples per step (both roles mixed)
    lr: float  # Adam learning rate
    ewc_weight: float  # lambda of the Fisher penalty (0 = replay only, the paper's ablation)
    fisher_samples: int  # samples of the original model the diagonal Fisher is estimated from
    replay_samples: int  # generated images of the retained labels in the pool
    surrogate_samples: int  # noise images labelled with the forgotten label in the pool

    def __post_init__(self):
        positive(self, "steps", "batch_size", "lr", "fisher_samples", "replay_samples", "surrogate_samples")
        require(self.ewc_weight >= 0, "ewc_weight", f"must be >= 0, got {self.ewc_weight!r}")


class _Penalty(torch.autograd.Function):
    """sum_i F_i (theta_i - theta*_i)^2 and its gradient 2 F (theta - theta*) in a few fused passes over the
    parameters: as an autograd graph of four ops per tensor it took 0.5 of the method's 1.6 CPU seconds."""

    @staticmethod
    def forward(ctx, anchor: list, fisher: list, *params: torch.Tensor) -> torch.Tensor:
        diff = torch._foreach_sub(list(params), anchor)  # theta - theta*, one tensor per parameter
        ctx.weighted = torch._foreach_mul(diff, fisher)  # F (theta - theta*)
        return sum(torch.dot(w.flatten(), d.flatten()) for w, d in zip(ctx.weighted, diff))

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return None, None, *torch._foreach_mul(ctx.weighted, 2 * grad)


def ewc_penalty(model, anchor: dict[str, torch.Tensor], fisher: dict[str, torch.Tensor]) -> torch.Tensor:
    """sum_i F_i (theta_i - theta*_i)^2 over every parameter (a scalar that keeps the graph)."""
    names = [n for n, _ in model.named_parameters()]
    return _Penalty.apply([anchor[n] for n in names], [fisher[n] for n in names], *model.parameters())


def unlearn(model, task, params: Params, generator: torch.Generator):
    """task: unlearning.amnesia.methods.Task (only its labels are used) -> the model, trained in place.
    The Fisher is part of the method (and of its runtime): it needs nothing but the original model."""
    device = next(model.parameters()).device
    original = copy.deepcopy(model).eval()
    fisher = diagonal_fisher(original, params.fisher_samples, generator) if params.ewc_weight > 0 else None
    anchor = {n: p.detach().clone() for n, p in model.named_parameters()}
    keep = replay(original, task.retained, params.replay_samples, generator, device)
    surrogate = noise_surrogate(task.forget, params.surrogate_samples, model.image_shape, generator, device)
    x, y, is_surrogate = pool(keep, surrogate)

    def loss(model, xb, yb, surrogate_b):
        per_sample = negative_elbo(model, xb, yb, draw_eps(model, len(yb), generator, xb.device))  # [B]
        elbo_terms = role_mean(per_sample, surrogate_b) + role_mean(per_sample, ~surrogate_b)
        if fisher is None:
            return elbo_terms
        return elbo_terms + params.ewc_weight * ewc_penalty(model, anchor, fisher)

    settings = FitConfig(epochs=1, batch_size=params.batch_size, lr=params.lr)
    return fit(model, x, y, settings, generator, loss=loss, extra=is_surrogate, steps=params.steps,
               desc="selective_amnesia")
