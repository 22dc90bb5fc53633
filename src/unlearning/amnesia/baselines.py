"""gradient_ascent: the baseline Selective Amnesia is measured against. Ascend the reconstruction loss of real train
images of the forgotten label while descending the -ELBO of generative replay of the retained labels (without
replay the whole model collapses).

Two choices make the ascent reach what the judge sees, the decoder's mean image of z ~ N(0, I) (measured on
mnist-5k, forget 0, one chain; the first version did neither and left p(0) at 0.95):
- A ceiling per *pixel*, not per image: past `pixel_ceiling` nats a pixel stops pushing. With ln 2 = 0.693, the
  loss of answering 0.5, a pixel is pushed until the model is no better than a coin flip on it. A per-image
  ceiling (1000 nats) was met by a few pixels driven to logits of -100 while the mean image still drew the digit.
- The encoder stays fixed (train_encoder: false). Trained too, it moved the forgotten images' posteriors off the
  prior's bulk (KL 5 -> 13 nats in a 2-d latent), where a wrecked decoder costs nothing, because sampling from the
  prior never goes there: reconstruction loss 2243 nats, samples still a 0."""
from __future__ import annotations

import copy
from dataclasses import dataclass

import torch

from unlearning.amnesia.elbo import draw_eps, elbo_terms
from unlearning.amnesia.replay import pool, replay
from unlearning.core.config import FitConfig, positive
from unlearning.core.splits import Part
from unlearning.core.train import fit
from unlearning.methods.shared import role_mean

SOURCE = "gradient ascent / NegGrad on the reconstruction loss, with generative replay"


@dataclass(frozen=True)
class Params:
    steps: int  # Adam steps
    batch_size: int  # pool samples per step (both roles mixed)
    lr: float  # Adam learning rate
    forget_weight: float  # weight of the ascent term against the replay term
    pixel_ceiling: float  # nats per pixel above which a forgotten image's pixel stops pushing (ln 2: a coin flip)
    train_encoder: bool  # false: only the decoder (what draws the samples) moves
    replay_samples: int  # generated images of the retained labels in the pool

    def __post_init__(self):
        positive(self, "steps", "batch_size", "lr", "forget_weight", "pixel_ceiling", "replay_samples")


def unlearn(model, task, params: Params, generator: torch.Generator):
    """task: unlearning.amnesia.methods.Task; uses its real forgotten-label train images."""
    device = next(model.parameters()).device
    original = copy.deepcopy(model).eval()
    keep = replay(original, task.retained, params.replay_samples, generator, device)
    forget = Part(task.forget_x, torch.full((len(task.forget_x),), task.forget, dtype=torch.long, device=device))
    x, y, is_forget = pool(keep, forget)

    def loss(model, xb, yb, forget_b):
        pixels, kl = elbo_terms(model, xb, yb, draw_eps(model, len(yb), generator, xb.device))  # [B, P], [B]
        ascent = role_mean(pixels.clamp(max=params.pixel_ceiling).sum(1), forget_b)
        return role_mean(pixels.sum(1) + kl, ~forget_b) - params.forget_weight * ascent

    trainable = None if params.train_encoder else {n: True for n, _ in model.named_parameters()
                                                   if n.startswith("decoder.")}
    settings = FitConfig(epochs=1, batch_size=params.batch_size, lr=params.lr)
    return fit(model, x, y, settings, generator, loss=loss, extra=is_forget, trainable=trainable,
               steps=params.steps, desc="gradient_ascent")
