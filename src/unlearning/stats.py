"""The interval of a model's own mean over chains (the verdicts against the retrains are unlearning.equivalence's).

A chain is one draw of all training randomness, so every metric has one value per chain and model; its mean over
chains gets the percentile bootstrap interval (Efron and Tibshirani, "An Introduction to the Bootstrap", 1993):
resample the N chains with replacement, take the mean of each resample, read the interval off the quantiles of
those means. Unlike a Student-t interval it stays in [0, 1] for a metric in [0, 1] and follows the skew of
metrics near their edges.

Every random draw takes a torch.Generator passed in: same inputs and seed, same intervals.
"""
from __future__ import annotations

from typing import NamedTuple

import torch

LEVEL = 0.95
N_BOOT = 2000


class Interval(NamedTuple):
    """A mean and its bootstrap interval: floats for one metric, tensors [K] for K metrics at once."""

    mean: float | torch.Tensor
    low: float | torch.Tensor
    high: float | torch.Tensor


def _as_columns(values) -> tuple[torch.Tensor, bool]:
    v = torch.as_tensor(values, dtype=torch.float64)
    if v.dim() not in (1, 2):
        raise ValueError(f"values must be [N_chains] or [N_chains, K], got shape {tuple(v.shape)}")
    return (v[:, None], True) if v.dim() == 1 else (v, False)


def bootstrap_mean_ci(values, generator: torch.Generator, level: float = LEVEL, n_boot: int = N_BOOT,
                      bounds: tuple[float, float] | None = (0.0, 1.0)) -> Interval:
    """Mean of values [N_chains] (or of each column of [N_chains, K]) and its percentile bootstrap interval at
    `level`, clipped to `bounds` (None: unbounded), as computed: for very skewed samples the percentile
    interval can miss the mean, and it is not widened to hide that. NaN values (metric undefined for that
    chain) are left out of every mean; with fewer than 2 defined values the interval is NaN."""
    v, single = _as_columns(values)
    n = v.shape[0]
    defined = (~v.isnan()).sum(0)  # [K]
    mean = v.nanmean(0)  # [K]; NaN for a column with no defined value
    low = high = torch.full_like(mean, torch.nan)
    if n >= 2:
        index = torch.randint(n, (n_boot, n), generator=generator)  # [n_boot, N]: every resample at once
        means = v[index].nanmean(1)  # [n_boot, K]; NaN where a resample drew only undefined chains
        q = torch.tensor([(1 - level) / 2, (1 + level) / 2], dtype=v.dtype)
        low, high = torch.nanquantile(means, q, dim=0)  # [K] each
        if bounds is not None:
            low, high = low.clamp(*bounds), high.clamp(*bounds)
        low, high = (torch.where(defined >= 2, x, torch.nan) for x in (low, high))
    if single:
        return Interval(mean.item(), low.item(), high.item())
    return Interval(mean, low, high)
