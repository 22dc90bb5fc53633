"""gradient_ascent: the baseline Selective Amnesia is measured against. Ascend the -ELBO of real train images
of the forgotten label while descending it on generative replay of the retained labels (without replay the
whole model collapses). The ascent term is clipped at `ascent_ceiling` nats per image: past it a sample is
'forgotten enough' and stops pushing, instead of driving the weights to infinity."""
from __future__ import annotations

import copy
from dataclasses import dataclass

import torch

from unlearning.amnesia.elbo import draw_eps, negative_elbo
from unlearning.amnesia.replay import pool, replay
from unlearning.core.config import FitConfig, positive
from unlearning.methods.shared import role_mean
from unlearning.core.splits import Part
from unlearning.core.train import fit

SOURCE = "gradient ascent / NegGrad on the ELBO, with generative replay"


@dataclass(frozen=True)
class Params:
    steps: int  # Adam steps
    batch_size: int  # pool samples per step (both roles mixed)
    lr: float  # Adam learning rate
    forget_weight: float  # weight of the ascent term against the replay term
    ascent_ceiling: float  # per-image -ELBO (nats) above which a forgotten image stops pushing
    replay_samples: int  # generated images of the retained labels in the pool

    def __post_init__(self):
        positive(self, "steps", "batch_size", "lr", "forget_weight", "ascent_ceiling", "replay_samples")


def unlearn(model, task, params: Params, generator: torch.Generator):
    """task: unlearning.amnesia.methods.Task; uses its real forgotten-label train images."""
    device = next(model.parameters()).device
    original = copy.deepcopy(model).eval()
    keep = replay(original, task.retained, params.replay_samples, generator, device)
    forget = Part(task.forget_x, torch.full((len(task.forget_x),), task.forget, dtype=torch.long, device=device))
    x, y, is_forget = pool(keep, forget)

    def loss(model, xb, yb, forget_b):
        per_sample = negative_elbo(model, xb, yb, draw_eps(model, len(yb), generator, xb.device))  # [B]
        ascent = role_mean(per_sample.clamp(max=params.ascent_ceiling), forget_b)
        return role_mean(per_sample, ~forget_b) - params.forget_weight * ascent

    settings = FitConfig(epochs=1, batch_size=params.batch_size, lr=params.lr)
    return fit(model, x, y, settings, generator, loss=loss, extra=is_forget, steps=params.steps,
               desc="gradient_ascent")
