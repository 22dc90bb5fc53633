"""The negative ELBO of the cVAE, per sample, and the training of a cVAE with the shared fit loop.

-ELBO(x, y) = BCE(x, decoder(z, y)) summed over pixels + KL(q(z | x, y) || N(0, I)), one z per sample;
it upper-bounds -log p(x | y) and is the 'log-likelihood' that every term of Selective Amnesia uses."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from unlearning.core.train import FitSettings, fit


def elbo_terms(model, x: torch.Tensor, y: torch.Tensor, eps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """x: [B, C, H, W] in [0, 1], y: [B], eps: [B, latent] standard normal -> (per-pixel Bernoulli negative
    log-likelihood [B, pixels], KL(q(z | x, y) || N(0, I)) [B]), nats."""
    logits, mu, logvar = model(x, y, eps)
    logits, mu, logvar = logits.float(), mu.float(), logvar.float()  # bf16 autocast on CUDA: sum in fp32
    pixels = F.binary_cross_entropy_with_logits(logits, x.flatten(1), reduction="none")
    return pixels, 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(1)


def negative_elbo(model, x: torch.Tensor, y: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """x: [B, C, H, W] in [0, 1], y: [B], eps: [B, latent] standard normal -> [B] nats."""
    pixels, kl = elbo_terms(model, x, y, eps)
    return pixels.sum(1) + kl


def draw_eps(model, batch: int, generator: torch.Generator, device) -> torch.Tensor:
    """[batch, latent] standard normal noise for the reparameterisation, from a seeded generator."""
    return torch.randn(batch, model.latent, generator=generator).to(device)


def elbo_loss(generator: torch.Generator):
    """The loss(model, xb, yb, extra) closure of plain cVAE training: mean negative ELBO of the batch."""

    def loss(model, xb, yb, extra=None):
        return negative_elbo(model, xb, yb, draw_eps(model, len(yb), generator, xb.device)).mean()

    return loss


def train_cvae(model, x: torch.Tensor, y: torch.Tensor, cfg: FitSettings, generator: torch.Generator, *,
               steps: int | None = None, desc: str = "cvae"):
    """Maximise the ELBO of (x [N, C, H, W] in [0, 1], y [N]) with the shared loop; returns the model."""
    return fit(model, x, y, cfg, generator, loss=elbo_loss(generator), steps=steps, desc=desc)


@torch.no_grad()
def mean_negative_elbo(model, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator) -> float:
    """Average -ELBO (nats per image) of a data set, in eval mode."""
    model.eval()
    return negative_elbo(model, x, y, draw_eps(model, len(y), generator, x.device)).mean().item()
