"""Bootstrap intervals over chains and the verdicts against the retrains: bounds, coverage, pairing, NaN."""
from __future__ import annotations

import math

import pytest
import torch
from scipy import stats as scipy_stats

from unlearning.stats import NA, band, bootstrap_mean_ci, paired_difference_ci, verdict


def seeded(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("values", [[0.0] * 32, [1.0] * 32, [0.0] * 29 + [0.01, 0.02, 0.5], [1.0] * 31 + [0.9]])
def test_interval_stays_within_bounds_and_contains_the_mean(values):
    mean, low, high = bootstrap_mean_ci(values, seeded(0))
    assert mean == pytest.approx(sum(values) / len(values))
    assert 0.0 <= low <= mean <= high <= 1.0


def test_interval_width_matches_the_normal_theory():
    values = torch.randn(200, generator=seeded(1), dtype=torch.float64)
    mean, low, high = bootstrap_mean_ci(values, seeded(2), bounds=None)
    half = scipy_stats.t.ppf(0.975, 199) * values.std().item() / math.sqrt(200)
    assert mean == pytest.approx(values.mean().item())
    assert (high - low) / 2 == pytest.approx(half, rel=0.15)
    assert low < mean < high


def test_reproducible_and_column_wise():
    values = torch.rand(32, 3, generator=seeded(3), dtype=torch.float64)
    first, again = bootstrap_mean_ci(values, seeded(4)), bootstrap_mean_ci(values, seeded(4))
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    assert bootstrap_mean_ci(values, seeded(5)).low.tolist() != first.low.tolist()
    for k in range(3):  # one [n_boot, N] draw serves every column: each column as if alone
        assert bootstrap_mean_ci(values[:, k], seeded(4)) == pytest.approx(tuple(x[k].item() for x in first))


def test_band_is_the_bounded_interval_of_the_retrains_mean():
    retrains = [1.0] * 30 + [0.98, 0.99]
    mean, low, high = band(retrains, seeded(6))
    assert (mean, low, high) == bootstrap_mean_ci(retrains, seeded(6))
    assert high <= 1.0 and low < mean


def test_verdict_sees_large_shifts():
    retrain = torch.rand(32, generator=seeded(7), dtype=torch.float64) * 0.5
    assert verdict(retrain + 0.3, retrain, seeded(8)) == "above"
    assert verdict(retrain - 0.3, retrain, seeded(8)) == "below"
    assert verdict(retrain, retrain, seeded(8)) == "inside"


def test_verdict_is_calibrated_on_draws_of_one_distribution():
    gen, inside = seeded(9), 0
    for _ in range(200):
        method, retrain = torch.randn(2, 32, generator=gen, dtype=torch.float64)
        inside += verdict(method, retrain, gen, n_boot=400) == "inside"
    assert inside / 200 >= 0.85  # ~0.95 expected; the percentile bootstrap runs a little narrow at N = 32


def test_nan_pairs_are_dropped():
    a = torch.tensor([0.1, float("nan"), 0.3, 0.4, 0.8])
    b = torch.tensor([0.0, 0.2, float("nan"), 0.1, 0.5])
    result = paired_difference_ci(a, b, seeded(10))
    assert result == paired_difference_ci(a[[0, 3, 4]], b[[0, 3, 4]], seeded(10))
    assert result.mean == pytest.approx((0.1 + 0.3 + 0.3) / 3)
    assert verdict(a, b, seeded(10)) in {"inside", "above"}


def test_too_few_pairs_give_no_verdict():
    nan = float("nan")
    assert verdict([0.5, nan, nan], [0.2, 0.1, nan], seeded(11)) == NA
    assert verdict([], [], seeded(11)) == NA
    mean, low, high = paired_difference_ci([0.5, nan], [0.2, 0.3], seeded(11))
    assert mean == pytest.approx(0.3) and math.isnan(low) and math.isnan(high)
    assert math.isnan(bootstrap_mean_ci([0.4], seeded(11)).low)
