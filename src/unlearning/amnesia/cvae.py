"""The conditional VAE of Selective Amnesia's MNIST experiment: MLP encoder q(z | x, y) and decoder p(x | z, y)
with the label as a one-hot input to both, a standard normal prior on z and Bernoulli pixels.

Images enter as float pixels in [0, 1] of any shape [N, C, H, W]; the model works on them flattened."""
from __future__ import annotations

import torch
from torch import nn

from unlearning.amnesia.config import NUM_LABELS, CVAEConfig
from unlearning.core.rng import seeded


def one_hot(y: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """y: [B] -> [B, NUM_LABELS]; a comparison instead of F.one_hot, which torch.func.vmap cannot batch."""
    return (y[:, None] == torch.arange(NUM_LABELS, device=y.device)).to(dtype)


def _mlp(widths: list[int]) -> nn.Sequential:
    """Linear layers with ReLU between them (none after the last)."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(widths, widths[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(widths) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class CVAE(nn.Module):
    def __init__(self, image_shape: tuple[int, ...], hidden: tuple[int, ...], latent: int):
        super().__init__()
        self.image_shape = tuple(image_shape)
        self.latent = latent
        pixels = int(torch.tensor(image_shape).prod())
        self.encoder = nn.Sequential(_mlp([pixels + NUM_LABELS, *hidden]), nn.ReLU())
        self.to_stats = nn.Linear(hidden[-1], 2 * latent)  # mean and log-variance of q(z | x, y)
        self.decoder = _mlp([latent + NUM_LABELS, *reversed(hidden), pixels])

    def encode(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x: [B, C, H, W] in [0, 1], y: [B] labels -> mu, logvar: [B, latent]"""
        h = self.encoder(torch.cat([x.flatten(1), one_hot(y, x.dtype)], 1))
        mu, logvar = self.to_stats(h).chunk(2, dim=1)
        return mu, logvar

    def decode(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """z: [B, latent], y: [B] -> Bernoulli logits [B, pixels]"""
        return self.decoder(torch.cat([z, one_hot(y, z.dtype)], 1))

    def forward(self, x: torch.Tensor, y: torch.Tensor, eps: torch.Tensor):
        """Reconstruct x through z = mu + sigma * eps (eps: [B, latent], drawn by the caller so that the
        result is a pure function of its inputs) -> logits [B, pixels], mu, logvar [B, latent]."""
        mu, logvar = self.encode(x, y)
        z = mu + torch.exp(0.5 * logvar) * eps
        return self.decode(z, y), mu, logvar

    @torch.no_grad()
    def sample(self, y: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Mean images of p(x | z, y) for z from the prior: y [N] -> float [N, C, H, W] in [0, 1]."""
        z = torch.randn(len(y), self.latent, generator=generator).to(y.device)
        return torch.sigmoid(self.decode(z, y).float()).view(len(y), *self.image_shape)


def build(cfg: CVAEConfig, image_shape: tuple[int, ...], seed: int, *names: str) -> CVAE:
    """A freshly initialised cVAE; the initialisation is a pure function of `seed` and `names` (a chain's retrains
    pass ("oracle", digit): they start from an initialisation independent of the chain's original)."""
    with seeded(seed, "cvae-init", *names):
        return CVAE(image_shape, cfg.hidden, cfg.latent)
