"""Logistic regression on fixed RBF features (optionally with hidden ReLU layers), one independent model per
seed held as stacked weights, so that one optimiser step trains every seed at once.

x [B, S, 2] (point b of seed s) -> logit [B, S]; seed s only ever touches its own slice of every weight."""
from __future__ import annotations

import torch
from torch import nn

from unlearning.layered.config import ModelParams
from unlearning.core.rng import seeded


def rbf_centres(grid: int, half_width: float) -> torch.Tensor:
    """[grid * grid, 2]: a square lattice spanning [-half_width, half_width]^2, corners included."""
    axis = torch.linspace(-half_width, half_width, grid)
    gx, gy = torch.meshgrid(axis, axis, indexing="ij")
    return torch.stack([gx.flatten(), gy.flatten()], dim=-1)


def rbf_features(x: torch.Tensor, centres: torch.Tensor, sigma: float) -> torch.Tensor:
    """x [..., 2], centres [F, 2] -> exp(-|x - c|^2 / (2 sigma^2)) [..., F]. The squared distance is expanded
    (|x|^2 - 2 x.c + |c|^2) so that no [..., F, 2] difference tensor is built."""
    sq = (x * x).sum(-1, keepdim=True) - 2 * x @ centres.T + (centres * centres).sum(-1)
    return torch.exp(-sq.clamp_min(0) / (2 * sigma * sigma))


class RBFEnsemble(nn.Module):
    """S independent models. weights[l]: [S, in_l, out_l], biases[l]: [S, out_l]; the last layer has out = 1."""

    def __init__(self, params: ModelParams, half_width: float, seeds: tuple[int, ...], stream: str = "init"):
        """stream: names the draw of the initial weights; the oracle takes its own ("oracle"), so that, as in the
        main pipeline, the retrain shares no initialisation with its chain's init model."""
        super().__init__()
        self.sigma = params.sigma
        self.register_buffer("centres", rbf_centres(params.grid, half_width))
        widths = [params.grid * params.grid, *params.hidden, 1]
        self.weights, self.biases = nn.ParameterList(), nn.ParameterList()
        for fan_in, fan_out in zip(widths[:-1], widths[1:]):
            layers = []
            for seed in seeds:  # each seed's initial weights depend on that seed alone (and the layer shape)
                with seeded(seed, "layered", stream, f"{fan_in}x{fan_out}"):
                    layers.append(nn.Linear(fan_in, fan_out))
            self.weights.append(nn.Parameter(torch.stack([m.weight.detach().T for m in layers])))
            self.biases.append(nn.Parameter(torch.stack([m.bias.detach() for m in layers])))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """x [B, S, 2] -> RBF features [B, S, grid * grid]"""
        return rbf_features(x, self.centres, self.sigma)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x [B, S, 2] -> logit of label 1 [B, S]"""
        h = self.features(x)
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            h = torch.einsum("bsi,sio->bso", h, w) + b  # per-seed affine map
            if i < last:
                h = torch.relu(h)
        return h.squeeze(-1)
