"""Diagonal empirical Fisher information, shared by ewc (stability anchor) and ssd (parameter importances).

F_i = mean over samples n of (d CE(model(x_n), y_n) / d theta_i)^2 -- squared *per-sample* gradients, not the
square of a batch gradient (which cancels across samples of a well-fit model). For nn.Linear layers the
per-sample squares are summed without materialising per-sample gradients: with layer input a_n [in] and output
gradient d_n [out], dW_n = d_n a_n^T, so sum_n dW_n^2 = (d^2)^T (a^2), one matmul per layer (Goodfellow 2015).
Models with parameters outside nn.Linear fall back to one backward pass per sample (exact, slower)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _linear_only(model: nn.Module) -> bool:
    """True when every parameter belongs to an nn.Linear (the fast path applies)."""
    owned = {id(p) for m in model.modules() if isinstance(m, nn.Linear) for p in m.parameters(recurse=False)}
    return all(id(p) in owned for p in model.parameters())


def _linear_sums(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
    """Sum over the batch of squared per-sample gradients, for a model made of nn.Linear layers."""
    layers = {m: name for name, m in model.named_modules() if isinstance(m, nn.Linear)}
    acts, outs = {}, {}  # layer -> input a [B, in]; layer -> output [B, out]

    def keep(module, args, output):
        acts[module], outs[module] = args[0].detach(), output

    handles = [m.register_forward_hook(keep) for m in layers]
    try:
        with torch.enable_grad():
            loss = F.cross_entropy(model(x), y, reduction="sum")
    finally:
        for h in handles:
            h.remove()
    # Gradients w.r.t. the layer outputs only (no weight gradients are formed). reduction="sum" makes the
    # output gradient of sample n exactly d CE_n / d output_n.
    grads = dict(zip(layers, torch.autograd.grad(loss, [outs[m] for m in layers])))
    sums = {}
    for module, name in layers.items():
        a, d = acts[module], grads[module]
        if a.dim() != 2:
            raise ValueError(f"fisher: layer {name} saw a {a.dim()}-d input; the fast path needs [B, in]")
        sums[f"{name}.weight"] = d.pow(2).T @ a.pow(2)  # [out, in]
        if module.bias is not None:
            sums[f"{name}.bias"] = d.pow(2).sum(0)  # [out]
    return sums


def _loop_sums(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
    """Same sums, one backward per sample: any architecture (used when a layer is not nn.Linear)."""
    sums = {name: torch.zeros_like(p) for name, p in model.named_parameters()}
    for n in range(len(y)):
        model.zero_grad(set_to_none=True)
        F.cross_entropy(model(x[n:n + 1]), y[n:n + 1]).backward()
        for name, p in model.named_parameters():
            sums[name] += p.grad.detach().pow(2)
    return sums


def diagonal_fisher(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1024) -> dict:
    """x: [N, ...], y: [N] slots -> {parameter name: F, same shape}, F >= 0. The model is left unchanged
    (no gradient remains on it) and in eval mode."""
    was_training = model.training
    model.eval()
    sums_of = _linear_sums if _linear_only(model) else _loop_sums
    total = {name: torch.zeros_like(p) for name, p in model.named_parameters()}
    for start in range(0, len(y), batch_size):
        for name, value in sums_of(model, x[start:start + batch_size], y[start:start + batch_size]).items():
            total[name] += value
    model.zero_grad(set_to_none=True)  # the per-sample fallback leaves gradients behind
    model.train(was_training)
    return {name: value / max(len(y), 1) for name, value in total.items()}
