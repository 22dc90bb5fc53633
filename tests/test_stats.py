"""Bootstrap intervals of a model's mean over chains: bounds, coverage, reproducibility, NaN, no widening."""
from __future__ import annotations

import math

import pytest
import torch
from scipy import stats as scipy_stats

from unlearning.stats import bootstrap_mean_ci


def seeded(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("values", [[0.0] * 32, [1.0] * 32, [0.0] * 29 + [0.01, 0.02, 0.5], [1.0] * 31 + [0.9]])
def test_interval_stays_within_bounds(values):
    mean, low, high = bootstrap_mean_ci(values, seeded(0))
    assert mean == pytest.approx(sum(values) / len(values))
    assert 0.0 <= low <= high <= 1.0


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


def test_too_few_values_give_no_interval():
    assert math.isnan(bootstrap_mean_ci([0.4], seeded(11)).low)
    assert math.isnan(bootstrap_mean_ci([0.4, float("nan")], seeded(11)).high)


def test_the_interval_is_not_widened_to_contain_the_mean():
    """A very skewed sample: most resample means lie below the mean; the interval printed is the one computed."""
    values = [0.0] * 31 + [1.0]
    mean, low, high = bootstrap_mean_ci(values, seeded(12))
    assert mean == pytest.approx(1 / 32)
    assert low == 0.0 and high == pytest.approx(3 / 32)
