"""The one training loop used by pretraining, the oracle, every fine-tuning method and the relearn attack.

Data stays as tensors on the model's device; batches are slices of a permutation drawn from a seeded generator
(no per-sample DataLoader), augmented on the device when the settings ask for it; conv nets see channels_last
tensors; on CUDA, bf16 autocast.
"""
from __future__ import annotations

from typing import Callable, Protocol

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm
from tqdm.auto import tqdm

from unlearning import augment

# loss(model, x_batch [B, ...], y_batch [B], extra_batch [B, ...] | None) -> scalar tensor
LossFn = Callable[[nn.Module, torch.Tensor, torch.Tensor, "torch.Tensor | None"], torch.Tensor]


class FitSettings(Protocol):
    """What fit reads from a settings object. An optional `augment` attribute (config.AugmentConfig: pad, flip)
    turns on batch augmentation; config.TrainConfig has it, a method's Params may add it."""

    epochs: int
    batch_size: int
    lr: float


def resolve_device(name: str) -> torch.device:
    """auto -> cuda when present, else cpu. Asking for cuda without one is an error, not a silent fallback."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device: cuda was requested but torch.cuda.is_available() is False")
    return torch.device(name)


SMALLEST_NORMAL = torch.finfo(torch.float32).tiny  # 1.18e-38


class Adam:
    """Adam (Kingma & Ba 2015) with the update of torch.optim.Adam (no weight decay, no amsgrad) in a few
    fused foreach calls. Why not torch.optim: constructing any torch.optim optimiser imports torch._dynamo
    (1.5 s in every stage process) and its per-step Python overhead exceeds a small MLP's backward pass."""

    def __init__(self, params, lr: float, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8):
        self.params = [p for p in params]
        self.lr, (self.beta1, self.beta2), self.eps = lr, betas, eps
        self.exp_avg = [torch.zeros_like(p) for p in self.params]
        self.exp_avg_sq = [torch.zeros_like(p) for p in self.params]
        self.steps = 0

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        self.steps += 1
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in self.params]
        torch._foreach_lerp_(self.exp_avg, grads, 1 - self.beta1)  # m = b1 m + (1 - b1) g
        torch._foreach_mul_(self.exp_avg_sq, self.beta2)
        torch._foreach_addcmul_(self.exp_avg_sq, grads, grads, 1 - self.beta2)  # v = b2 v + (1 - b2) g^2
        bias1 = 1 - self.beta1 ** self.steps
        bias2_sqrt = (1 - self.beta2 ** self.steps) ** 0.5
        # sqrt of an exact 0 took ~6x as long as of a normal float on the development machine's CPU (AMD EPYC),
        # and masked fits (saliency_freeze, salun) keep most second moments at exactly 0. Lifting them to the
        # smallest normal float changes no update: sqrt(1.2e-38) = 1.1e-19 vanishes next to eps in float32.
        denom = torch._foreach_clamp_min(self.exp_avg_sq, SMALLEST_NORMAL)
        torch._foreach_sqrt_(denom)
        torch._foreach_div_(denom, bias2_sqrt)
        torch._foreach_add_(denom, self.eps)  # sqrt(v / (1 - b2^t)) + eps
        torch._foreach_addcdiv_(self.params, self.exp_avg, denom, -self.lr / bias1)


def cross_entropy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, extra=None) -> torch.Tensor:
    return F.cross_entropy(model(x), y)


def _autocast(device: torch.device):
    return torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.type == "cuda")


def _channels_last(model: nn.Module) -> bool:
    """Conv nets run on NHWC (channels_last) tensors: on CUDA the tensor-core kernels need no transposes, and on CPU
    (oneDNN) a training step of the 16-32-64 cnn took 0.056 s instead of 0.103 s (batch 128, 1 thread; NCHW max-pool
    alone was a quarter of the step). An MLP would only pay for the copy."""
    return any(isinstance(m, nn.Conv2d) for m in model.modules())


def _frozen_norms(model: nn.Module, chosen: dict[str, torch.Tensor]) -> list[nn.Module]:
    """BatchNorm layers none of whose parameters train. They stay in eval mode during the fit: in train mode their
    running statistics would drift, so "frozen" layers would still change what the network computes."""
    trained = {id(p) for p in chosen.values()}
    return [m for m in model.modules() if isinstance(m, _BatchNorm)
            and not any(id(p) in trained for p in m.parameters(recurse=False))]


def fit(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    cfg: FitSettings,
    generator: torch.Generator,
    *,
    loss: LossFn = cross_entropy,
    extra: torch.Tensor | None = None,
    trainable: dict[str, torch.Tensor | bool] | None = None,
    steps: int | None = None,
    on_step: Callable[[int], None] | None = None,
    desc: str = "fit",
) -> nn.Module:
    """Train `model` in place with Adam and return it.

    x: [N, ...] inputs, y: [N] targets, extra: optional [N, ...] per-sample data handed to `loss` batch by batch
    (roles, weights, teacher logits). `trainable` maps parameter names to True or to a bool mask of the
    parameter's shape; parameters it does not name, and masked-out entries, keep their exact values.
    `steps` runs that many optimiser steps instead of `cfg.epochs` passes; `on_step(step)` runs after each.
    When `cfg.augment` exists, every batch of images x [B, C, H, W] is randomly cropped / flipped as it says.
    """
    device = x.device
    aug = getattr(cfg, "augment", None)
    aug = aug if aug is not None and (aug.pad > 0 or aug.flip) else None
    nhwc = _channels_last(model)
    if nhwc:
        model.to(memory_format=torch.channels_last)
    params = dict(model.named_parameters())
    masks = {n: m for n, m in (trainable or {}).items() if isinstance(m, torch.Tensor)}
    chosen = params if trainable is None else {n: params[n] for n in trainable}
    # Masked parameters: after each step p * keep + frozen_part puts the frozen entries back (Adam's moments would
    # drift them) and leaves the trained ones bit-exact (p * 1 + 0). In-place foreach ops: torch.where allocated
    # and cost 1.3 ms a step on the MLP, a fifth of a one-epoch salun run.
    masked = [params[n] for n in masks]
    keep = [masks[n].to(params[n].dtype) for n in masks]  # 1 = trained entry, 0 = frozen
    frozen_part = [p.detach() * (1 - k) for p, k in zip(masked, keep)]  # frozen values, +-0 elsewhere
    for name, p in params.items():
        p.requires_grad_(name in chosen)
    optimiser = Adam(chosen.values(), lr=cfg.lr)
    n = len(y)
    per_epoch = -(-n // cfg.batch_size)
    total = steps if steps is not None else cfg.epochs * per_epoch
    frozen_norms = _frozen_norms(model, chosen)
    model.train()
    for norm in frozen_norms:
        norm.eval()
    step = 0
    with tqdm(total=total, desc=desc, leave=False, mininterval=1.0, disable=None) as bar:
        while step < total:
            order = torch.randperm(n, generator=generator).to(device)
            if aug is not None:  # one epoch's crops and flips, drawn after the permutation
                shifts, flips = augment.draw(n, aug.pad, aug.flip, generator)  # [n, 2], [n] or None
                shifts, flips = shifts.to(device), None if flips is None else flips.to(device)
            for start in range(0, n, cfg.batch_size):
                idx = order[start:start + cfg.batch_size]
                xb = x.index_select(0, idx)  # [B, C, H, W]; on CPU 4x faster than x[idx] for a 256 x 784 batch
                if aug is not None:
                    end = start + len(idx)
                    xb = augment.apply(xb, aug.pad, shifts[start:end], None if flips is None else flips[start:end])
                if nhwc:
                    xb = xb.contiguous(memory_format=torch.channels_last)
                with _autocast(device):
                    extra_b = None if extra is None else extra.index_select(0, idx)
                    value = loss(model, xb, y.index_select(0, idx), extra_b)
                optimiser.zero_grad()
                value.backward()
                if masked:
                    torch._foreach_mul_([p.grad for p in masked], keep)
                optimiser.step()
                if masked:
                    with torch.no_grad():
                        torch._foreach_mul_(masked, keep)
                        torch._foreach_add_(masked, frozen_part)
                step += 1
                bar.update(1)
                if on_step is not None:
                    on_step(step)
                    for norm in frozen_norms:  # on_step may have evaluated, then set the whole model to train
                        norm.eval()
                if step >= total:
                    break
    for p in params.values():
        p.requires_grad_(True)
    model.eval()
    return model


@torch.inference_mode()
def predict(model: nn.Module, x: torch.Tensor, batch_size: int = 8192) -> torch.Tensor:
    """Logits as float32 [N, num_slots], in eval mode and in chunks so that large test sets fit in memory."""
    was_training = model.training
    model.eval()
    layout = torch.channels_last if _channels_last(model) else torch.contiguous_format
    with _autocast(x.device):
        # range(..., max(len, 1)) runs the model once on an empty x too, giving [0, num_slots] logits
        chunks = [model(x[i:i + batch_size].contiguous(memory_format=layout)).float()
                  for i in range(0, max(len(x), 1), batch_size)]
    model.train(was_training)  # callers inside a fit (relearn curves) keep their mode
    return torch.cat(chunks)
