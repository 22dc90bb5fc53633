"""The diagonal Fisher information of the original cVAE, estimated from the model's own samples (as EWC and
Selective Amnesia do): F_i = E_{y ~ U(labels), x ~ p(x | y, theta*)} [(d/d theta_i  -ELBO(x, y))^2].

Per-sample gradients come from torch.func (vmap over grad), so the estimate is the mean of squared
per-sample gradients, not the square of a batch gradient (which would shrink it by the batch size)."""
from __future__ import annotations

import torch
from torch.func import functional_call, grad, vmap

from unlearning.amnesia.config import NUM_LABELS
from unlearning.amnesia.elbo import draw_eps, negative_elbo

CHUNK = 16  # samples per vmap call: memory is CHUNK x number of parameters floats (16: fastest on CPU)


def generate(model, n: int, generator: torch.Generator, device) -> tuple[torch.Tensor, torch.Tensor]:
    """n samples of the model with labels drawn uniformly: x [n, C, H, W] in [0, 1], y [n]."""
    y = torch.randint(0, NUM_LABELS, (n,), generator=generator).to(device)
    return model.sample(y, generator), y


def diagonal_fisher(model, n: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
    """-> {parameter name: F of the parameter's shape}, every entry >= 0; the model is not changed."""
    device = next(model.parameters()).device
    model.eval()
    params = {name: p.detach() for name, p in model.named_parameters()}
    x, y = generate(model, n, generator, device)
    eps = draw_eps(model, n, generator, device)

    def loss_of_one(p, xi, yi, ei):  # one sample: xi [C, H, W], yi [], ei [latent] -> scalar
        def bound(*args):
            return functional_call(model, p, args)

        return negative_elbo(bound, xi[None], yi[None], ei[None])[0]

    total = {name: torch.zeros_like(p) for name, p in params.items()}
    per_sample = vmap(grad(loss_of_one), in_dims=(None, 0, 0, 0))
    for start in range(0, n, CHUNK):
        grads = per_sample(params, x[start:start + CHUNK], y[start:start + CHUNK], eps[start:start + CHUNK])
        for name, g in grads.items():  # g: [chunk, *param shape]
            total[name] += g.pow(2).sum(0)
    return {name: t / n for name, t in total.items()}
