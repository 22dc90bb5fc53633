"""The one training loop used by pretraining, the oracle, every fine-tuning method and the relearn attack.

Data stays as tensors on the model's device; batches are slices of a permutation drawn from a seeded generator
(no per-sample DataLoader), augmented on the device when the settings ask for it; conv nets see channels_last
tensors; on CUDA, bf16 autocast.
"""
from __future__ import annotations

import contextlib
import contextvars
import math
from typing import Callable, Iterator, Protocol

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm
from tqdm.auto import tqdm

from unlearning.core import augment
from unlearning.core.config import ConfigError

# loss(model, x_batch [B, ...], y_batch [B], extra_batch [B, ...] | None) -> scalar tensor
LossFn = Callable[[nn.Module, torch.Tensor, torch.Tensor, "torch.Tensor | None"], torch.Tensor]

# progress_hook(model, desc, mean_loss, steps): called by every fit POINTS_PER_FIT times, evenly spaced, while
# `progress_hook` is set (stages.live records the first chain's training curves with it); mean_loss is the mean
# training loss of the `steps` optimiser steps since the previous call. A context variable rather than a fit
# argument: the methods call fit in many ways, and none of them needs to know that a curve is being recorded.
ProgressHook = Callable[[nn.Module, str, float, int], None]
_PROGRESS_HOOK: contextvars.ContextVar[ProgressHook | None] = contextvars.ContextVar("progress_hook", default=None)
# Points of a curve per fit: most methods train one epoch, so a point per epoch would draw a curve of one point.
# Ten show the path; each costs one forward pass over the validation split (stages.live subtracts its time).
POINTS_PER_FIT = 10

# the terminal line of this process's training bar: parallel_map gives each worker process its own (0 = the stage)
BAR_POSITION = 0


@contextlib.contextmanager
def progress_hook(hook: ProgressHook) -> Iterator[None]:
    """Every fit inside the block calls hook(model, desc, mean_loss, steps) every ceil(total / POINTS_PER_FIT)
    steps and after its last step (a stopping rule's early end included). The hook must not change the model:
    weights, and hence results, are those of a fit without it."""
    token = _PROGRESS_HOOK.set(hook)
    try:
        yield
    finally:
        _PROGRESS_HOOK.reset(token)


class FitSettings(Protocol):
    """What fit reads from a settings object. An optional `augment` attribute (config.AugmentConfig: pad, flip)
    turns on batch augmentation; config.TrainConfig has it, a method's Params may add it."""

    epochs: int
    batch_size: int
    lr: float  # of Adam; of SGD when the settings add `momentum: float` (config.SGDConfig)


def resolve_device(name: str) -> torch.device:
    """auto -> cuda when present, else cpu. Asking for cuda without one is an error, not a silent fallback."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device", "cuda was requested but torch finds no CUDA device here; use auto or cpu")
    return torch.device(name)


SMALLEST_NORMAL = torch.finfo(torch.float32).tiny  # 1.18e-38
# A fit has diverged once |loss| exceeds this multiple of max(|first loss|, 1): a loss that only climbs by design
# (ascent terms) stays far below it in every method, while an absurd learning rate (1e6) takes it past 1e9 at once.
EXPLODED = 1e3


class Diverged(RuntimeError):
    """Training produced non-finite values or an exploding loss; the message says which and when. A diverged
    model is a result (reported as such), not a crash: stages catch this per model."""


def check_finite(model: nn.Module, when: str = "after training") -> None:
    """Raise Diverged when any parameter or buffer of `model` is NaN or infinite."""
    bad = [name for name, t in (*model.named_parameters(), *model.named_buffers())
           if t.is_floating_point() and not bool(torch.isfinite(t).all())]
    if bad:
        raise Diverged(f"non-finite weights {when} ({bad[0]}{' and others' if len(bad) > 1 else ''})")


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


class SGD:
    """SGD with heavy-ball momentum, the update of torch.optim.SGD (dampening 0, no weight decay, no Nesterov):
    b = momentum * b + g (b = g at the first step), p -= lr * b. For the methods whose source trains with SGD
    (a settings object with a `momentum` attribute selects it); not torch.optim for the reason Adam gives."""

    def __init__(self, params, lr: float, momentum: float):
        self.params = [p for p in params]
        self.lr, self.momentum = lr, momentum
        self.buffers: list[torch.Tensor] | None = None

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in self.params]
        if self.buffers is None:
            self.buffers = [g.clone() for g in grads]
        else:
            torch._foreach_mul_(self.buffers, self.momentum)
            torch._foreach_add_(self.buffers, grads)
        torch._foreach_add_(self.params, self.buffers, alpha=-self.lr)


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
    on_step: Callable[[int], bool | None] | None = None,
    desc: str = "fit",
) -> nn.Module:
    """Train `model` in place with Adam (SGD when `cfg` has a `momentum` attribute) and return it.

    x: [N, ...] inputs, y: [N] targets, extra: optional [N, ...] per-sample data handed to `loss` batch by batch
    (roles, weights, teacher logits). `trainable` maps parameter names to True or to a bool mask of the
    parameter's shape; parameters it does not name, and masked-out entries, keep their exact values.
    `steps` runs that many optimiser steps instead of `cfg.epochs` passes; `on_step(step)` runs after each, and
    its returning True ends the fit after that step (a method's stopping rule, e.g. neggrad's).
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
    momentum = getattr(cfg, "momentum", None)
    optimiser = Adam(chosen.values(), lr=cfg.lr) if momentum is None else SGD(chosen.values(), cfg.lr, momentum)
    n = len(y)
    per_epoch = -(-n // cfg.batch_size)
    total = steps if steps is not None else cfg.epochs * per_epoch
    frozen_norms = _frozen_norms(model, chosen)
    model.train()
    for norm in frozen_norms:
        norm.eval()
    step = 0
    # divergence watch on the device, read once per epoch (a read every step would stall CUDA's queue)
    first_loss = peak_loss = None  # |loss| of the first step, largest |loss| so far: 0-d tensors
    hook = _PROGRESS_HOOK.get()
    point_every = -(-total // POINTS_PER_FIT)
    point_loss, point_steps = torch.zeros((), device=device), 0  # summed on the device only when a hook is set
    with tqdm(total=total, desc=desc, leave=False, mininterval=1.0, disable=None, position=BAR_POSITION) as bar:
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
                magnitude = value.detach().float().abs()
                first_loss = magnitude if first_loss is None else first_loss
                # torch.maximum keeps a NaN, so a NaN loss stays visible in the peak
                peak_loss = magnitude if peak_loss is None else torch.maximum(peak_loss, magnitude)
                if hook is not None:
                    point_loss += value.detach().float()
                    point_steps += 1
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
                    stop = on_step(step) is True
                    for norm in frozen_norms:  # on_step may have evaluated, then set the whole model to train
                        norm.eval()
                    total = step if stop else total
                if hook is not None and (step % point_every == 0 or step >= total):
                    _check_loss(first_loss, peak_loss, step, desc)  # no point of a diverged fit reaches a curve
                    hook(model, desc, float(point_loss) / point_steps, point_steps)  # may evaluate the model
                    point_loss.zero_()
                    point_steps = 0
                    model.train()  # back to training mode, frozen norms in eval, as before the hook
                    for norm in frozen_norms:
                        norm.eval()
                if step >= total:
                    break
            _check_loss(first_loss, peak_loss, step, desc)
    for p in params.values():
        p.requires_grad_(True)
    model.eval()
    check_finite(model, f"after {desc}")
    return model


def _check_loss(first: torch.Tensor | None, peak: torch.Tensor | None, step: int, desc: str) -> None:
    if peak is None:
        return
    peak_value, first_value = float(peak), float(first)
    if not math.isfinite(peak_value):
        raise Diverged(f"non-finite loss in {desc} by step {step}")
    if peak_value > EXPLODED * max(first_value, 1.0):
        raise Diverged(f"loss exploded in {desc} by step {step}: |loss| {peak_value:.3g}, first {first_value:.3g}")


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
