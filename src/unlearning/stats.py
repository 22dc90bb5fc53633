"""Intervals and verdicts for per-chain metrics, measured against the distribution of retrains.

A chain is one draw of all training randomness (an original model, every method's unlearned model made from it,
and a retrain from its own initialisation), so every metric has one value per chain and model. Whether a method
"behaves like a retrain" is a statement about two distributions over chains, judged here with the percentile
bootstrap over chains (Efron and Tibshirani, "An Introduction to the Bootstrap", 1993): resample the N chains
with replacement, take the mean of each resample, read the interval off the quantiles of those means. The
method is compared with the retrains chain by chain (a paired difference): the two share the chain's data
split, so the differences carry less noise than two separate means. Unlike a Student-t interval, the
bootstrap interval of a metric in [0, 1] stays in [0, 1] and follows the skew of metrics near their edges.

Every random draw takes a torch.Generator passed in: same inputs and seed, same intervals.
"""
from __future__ import annotations

from typing import NamedTuple

import torch

LEVEL = 0.95
N_BOOT = 2000
NA = "n/a"


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
    `level`, clipped to `bounds` (None: unbounded) and widened, if needed, to contain the mean (the percentile
    interval can miss it for very skewed samples). NaN values (metric undefined for that chain) are left out
    of every mean; with fewer than 2 defined values the interval is NaN."""
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
        low, high = torch.fmin(low, mean), torch.fmax(high, mean)
        if bounds is not None:
            low, high = low.clamp(*bounds), high.clamp(*bounds)
        low, high = (torch.where(defined >= 2, x, torch.nan) for x in (low, high))
    if single:
        return Interval(mean.item(), low.item(), high.item())
    return Interval(mean, low, high)


def paired_difference_ci(a, b, generator: torch.Generator, level: float = LEVEL,
                         n_boot: int = N_BOOT) -> Interval:
    """Mean of a - b over chains and its percentile bootstrap interval, resampling chains (pairs), not the two
    sides apart. a, b: [N_chains], element i of each from chain i. Pairs with a NaN on either side are dropped;
    with fewer than 2 pairs left the interval is NaN (and the mean too, with none)."""
    a, b = torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64)
    if a.shape != b.shape or a.dim() != 1:
        raise ValueError(f"a and b must be paired [N_chains] vectors, got {tuple(a.shape)} and {tuple(b.shape)}")
    keep = ~(a.isnan() | b.isnan())
    diff = a[keep] - b[keep]
    if len(diff) < 2:
        return Interval(diff.mean().item() if len(diff) else float("nan"), float("nan"), float("nan"))
    return bootstrap_mean_ci(diff, generator, level, n_boot, bounds=None)


def band(retrain_values, generator: torch.Generator, level: float = LEVEL, n_boot: int = N_BOOT,
         bounds: tuple[float, float] | None = (0.0, 1.0)) -> Interval:
    """The retrains' band: their mean over chains and its bootstrap interval, within `bounds`. Where an exact
    retrain's mean lands, with this many chains; what a plot draws behind each method's value."""
    return bootstrap_mean_ci(retrain_values, generator, level, n_boot, bounds)


def verdict(method_values, retrain_values, generator: torch.Generator, level: float = LEVEL,
            n_boot: int = N_BOOT) -> str:
    """'inside' when the paired interval of (method - retrain) over chains contains 0 (no difference shown at
    `level`, two-sided), 'above' / 'below' when it lies entirely above / below 0, 'n/a' with fewer than 2
    chains where both are defined. method_values, retrain_values: [N_chains], paired by chain."""
    mean, low, high = paired_difference_ci(method_values, retrain_values, generator, level, n_boot)
    if low != low:  # NaN: too few pairs
        return NA
    return "above" if low > 0 else "below" if high < 0 else "inside"
