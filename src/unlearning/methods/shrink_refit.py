"""shrink_refit (this project, docs/lab/shrink_refit.md): every weight moved to (1 - reset) x its value + reset x
a fresh initialisation's (shrink and perturb, Ash & Adams 2020, with the perturbation drawn as the model is
initialised), then `epochs` passes over the kept data (retain, plus the new class in class replacement) with Adam,
whose last `average_tail` share of steps is averaged into the final weights (TailAverage); then, with `calibrate`,
the head rescaled so that the median label confidence on the retain images is the original's (calibrate_head).

Hypothesis: what separates the methods from a retrain is how far they move from the original weights. reset = 0
is fine-tuning on the kept data, which keeps nearly all the forget images left in the weights; reset = 1 is a
retrain cut short, which keeps none of it but has not had time to fit. In between, the shrunken original keeps the
layout of the features (so the refit is fast) while every weight's forget-specific part is scaled down by
(1 - reset) and drowned in fresh noise of a new network's size.
Why the head is rescaled: one short refit leaves the logits smaller than a 20-epoch retrain's, and the forgetting
score compares exactly the logit-scaled confidence, so a model that predicts like a retrain is still told apart by
how sure it is. The original trained the retrain's 20 epochs on nearly the same retain images, so its confidence
there stands in for a retrain's; one factor on every logit changes no prediction, hence no accuracy.
Why the tail is averaged: a retrain's confidence on each forget image varies little from one initialisation to
the next, and a model stopped after one short refit is one noisy point of its optimiser's path, far more variable;
the mean of the path's last steps (Polyak & Juditsky 1992; Izmailov et al. 2018, SWA) drops most of that step
noise at no extra forward or backward pass (docs/lab/shrink_refit.md, third round)."""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import torch
from torch import nn

from unlearning.core.config import FitConfig, require
from unlearning.core.models import linear_layers
from unlearning.core.train import fit, predict
from unlearning.methods.shared import fresh_init

SOURCE = "this project (docs/lab/shrink_refit.md)"
TOUCHES = "retain + new"


@dataclass(frozen=True)
class Params(FitConfig):
    reset: float  # share of a fresh initialisation in the start: 0 = the original weights, 1 = a new network
    calibrate: bool  # rescale the head to the original model's median retain confidence after training
    calibrate_samples: int | None  # retain images both medians are taken on, evenly spaced; null: every one
    average_tail: float  # share of the refit's last optimiser steps whose weights are averaged; 0: the last weights

    def __post_init__(self):
        super().__post_init__()
        require(0 <= self.reset <= 1, "reset", f"must be in [0, 1], got {self.reset!r}")
        require(isinstance(self.calibrate, bool), "calibrate", f"must be true or false, got {self.calibrate!r}")
        require(self.calibrate_samples is None or self.calibrate_samples >= 1, "calibrate_samples",
                f"must be a positive integer or null, got {self.calibrate_samples!r}")
        require(0 <= self.average_tail <= 1, "average_tail", f"must be in [0, 1], got {self.average_tail!r}")


def median_confidence(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """Median over images of log(p_y / (1 - p_y)) = z_y - logsumexp_{j != y} z_j, the statistic the forgetting
    score compares (forgetting_score.logit_confidence, written out here: importing that module would make every
    change to the score's code rerun this unlearn stage). logits [N, K], labels [N]."""
    z_y = logits.gather(1, labels.view(-1, 1)).squeeze(1)  # [N]
    others = logits.scatter(1, labels.view(-1, 1), float("-inf"))  # [N, K], the label's slot removed
    return float((z_y - torch.logsumexp(others, 1)).median())


def calibrate_head(model: nn.Module, target_median: float, x: torch.Tensor, y: torch.Tensor,
                   low: float = 0.05, high: float = 50.0, rounds: int = 40) -> float:
    """Scale the head (the last nn.Linear: weight and bias times t) so that the median label confidence of `model`
    on (x [N, ...], y [N]) is `target_median`; returns t, clamped to [low, high]. The median is increasing in t
    wherever it is positive (the median image classified right, as after any refit that fits), so bisection on
    log t finds it from one forward pass over x."""
    logits = predict(model, x).double()  # [N, K]
    lo, hi = math.log(low), math.log(high)
    for _ in range(rounds):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if median_confidence(logits * math.exp(mid), y) < target_median else (lo, mid)
    scale = math.exp((lo + hi) / 2)
    head = linear_layers(model)[-1]
    with torch.no_grad():
        head.weight.mul_(scale)
        if head.bias is not None:
            head.bias.mul_(scale)
    return scale


def calibration_images(x: torch.Tensor, y: torch.Tensor, samples: int | None) -> tuple[torch.Tensor, torch.Tensor]:
    """At most `samples` of the images x [N, ...] and labels y [N], evenly spaced over the set: whether the set is
    in dataset or class order, each class keeps about its share. Why: the two forward passes of the calibration
    are a third of the procedure's compute when they cover every retain image. No random draw, so the training's
    randomness is the same either way."""
    if samples is None or samples >= len(y):
        return x, y
    rows = torch.linspace(0, len(y) - 1, samples, device=y.device).round().long()  # [samples], increasing
    return x[rows], y[rows]


class TailAverage:
    """fit's on_step hook that keeps the running mean of the model's floating-point parameters and buffers over
    the last round(tail x total_steps) optimiser steps; apply() then writes that mean into the model (no-op when
    no step was averaged, as with tail 0). Buffers are BatchNorm's running statistics, averaged alike rather than
    re-estimated by a pass over the data as SWA does: an approximation that costs no compute (the lab measured it
    on the MLP only, which has none)."""

    def __init__(self, model: nn.Module, total_steps: int, tail: float):
        self.tensors = [t for t in (*model.parameters(), *model.buffers()) if t.is_floating_point()]
        self.first = total_steps - round(tail * total_steps) + 1  # the first averaged step, counted from 1
        self.mean: list[torch.Tensor] | None = None
        self.count = 0

    def __call__(self, step: int) -> None:
        if step < self.first:
            return
        self.count += 1
        with torch.no_grad():
            current = [t.detach() for t in self.tensors]
            if self.mean is None:
                self.mean = [t.clone() for t in current]
            else:  # mean_k = mean_{k-1} + (w_k - mean_{k-1}) / k
                torch._foreach_lerp_(self.mean, current, 1.0 / self.count)

    def apply(self) -> None:
        if self.mean is not None:
            with torch.no_grad():
                torch._foreach_copy_(self.tensors, self.mean)


def unlearn(model, splits, params: Params, generator):
    calib_x, calib_y = calibration_images(splits.retain.x, splits.retain.y, params.calibrate_samples)
    # the original's median retain confidence, before its weights are shrunk
    target_median = median_confidence(predict(model, calib_x).double(), calib_y) if params.calibrate else None
    fresh = copy.deepcopy(model)
    fresh_init(fresh, generator)
    with torch.no_grad():  # theta <- (1 - reset) theta + reset theta_fresh, buffers (BatchNorm statistics) too
        for mine, new in zip((*model.parameters(), *model.buffers()), (*fresh.parameters(), *fresh.buffers())):
            if mine.is_floating_point():
                mine.lerp_(new, params.reset)
    target = splits.target
    total_steps = params.epochs * -(-len(target.y) // params.batch_size)  # fit's: every pass ends on a short batch
    average = TailAverage(model, total_steps, params.average_tail)
    fit(model, target.x, target.y, params, generator, on_step=average, desc="shrink_refit")
    average.apply()
    if params.calibrate:
        calibrate_head(model, target_median, calib_x, calib_y)
    return model
