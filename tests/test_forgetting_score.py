"""The challenge's forgetting score: epsilons against explicit loops over every test, the buckets by hand,
confidences against softmax, and its calibration on synthetic confidences."""
from __future__ import annotations

import math
import statistics

import numpy as np
import pytest
import torch

from unlearning.forgetting_score import (DELTA, EPSILON_CAP, accuracy_ratio, bootstrap_scores, example_epsilons,
                                         final_score, forgetting_quality, forgetting_score, logit_confidence,
                                         max_epsilon)


def rule_epsilon(fpr: float, fnr: float) -> float | None:
    """One test's epsilon by the definition; None for a discarded test."""
    if fpr == 0 and fnr == 0:
        return math.inf
    if fpr == 0 or fnr == 0:
        return None
    bounds = [math.log(1 - DELTA - x) - math.log(y) for x, y in ((fpr, fnr), (fnr, fpr)) if 1 - DELTA - x > 0]
    return max(0.0, *bounds) if bounds else None


def slow_epsilon(u: list[float], r: list[float], window: float | None) -> float:
    """One example's epsilon, test by test: thresholds at every value; intervals between any two values
    (window None) or, as the scoring code scans them, with top in max +- window and width in range +- window
    of the peaky sample, on a grid of step 1/8: for values and window on a lattice of 1/4 every set of values
    such an interval can pick has a witness on that grid (the corners of its region of (l, h) lie on the
    lattice; a closed edge's midpoint or the corner itself is in the region)."""
    pos, neg = (r, u) if statistics.median(r) > statistics.median(u) else (u, r)
    peaky, wide = (neg, pos) if max(pos) - min(pos) >= max(neg) - min(neg) else (pos, neg)
    counts = set()  # (n_first, n_second, a, b): the test calls a of n_first and b of n_second values positive
    for t in u + r:
        counts.add((len(pos), len(neg), sum(x >= t for x in pos), sum(x >= t for x in neg)))
    if window is None:  # every interval between two values, one by one
        for lo in u + r:
            for hi in u + r:
                if lo <= hi:
                    inside = [sum(lo <= x <= hi for x in sample) for sample in (peaky, wide)]
                    counts.add((len(peaky), len(wide), *inside))
    else:  # every (top shift, width shift) of the grid: [(16 window + 1)^2] intervals, counted with numpy
        grid = np.arange(8 * 2 * window + 1) / 8 - window
        hi = np.repeat(max(peaky) + grid, len(grid))
        lo = hi - np.tile(max(peaky) - min(peaky) + grid, len(grid))
        p, w = np.array(peaky)[None, :], np.array(wide)[None, :]
        p_in = ((lo[:, None] <= p) & (p <= hi[:, None])).sum(1)  # [intervals] values of each sample inside
        w_in = ((lo[:, None] <= w) & (w <= hi[:, None])).sum(1)
        pairs = np.unique(p_in * (len(wide) + 1) + w_in)
        counts |= {(len(peaky), len(wide), int(c) // (len(wide) + 1), int(c) % (len(wide) + 1)) for c in pairs}
    best = 0.0
    for n_first, n_second, a, b in counts:
        eps = rule_epsilon(b / n_second, (n_first - a) / n_first)
        best = max(best, eps) if eps is not None else best
    small, large = sorted([max(u) - min(u), max(r) - min(r)])
    return EPSILON_CAP if large > 0 and small / large < 0.01 else min(best, EPSILON_CAP)


def test_identical_samples_have_epsilon_zero():
    x = torch.randn(16, 20, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert torch.equal(example_epsilons(x, x.clone()), torch.zeros(20, dtype=torch.float64))
    same = torch.full((8, 3), 2.5)  # no test tells two constant samples apart
    assert torch.equal(example_epsilons(same, same), torch.zeros(3, dtype=torch.float64))


def test_separated_samples_get_the_cap():
    gen = torch.Generator().manual_seed(1)
    r = torch.randn(16, 10, generator=gen, dtype=torch.float64)
    u = torch.randn(16, 10, generator=gen, dtype=torch.float64)
    for shifted in (u + 10, u - 10):  # one threshold, either side
        assert torch.equal(example_epsilons(shifted, r), torch.full((10,), EPSILON_CAP, dtype=torch.float64))
    # Retrained at -10 or +10, unlearned around 0: no single threshold separates them, an interval does.
    bimodal = 0.5 * r + 10 * torch.tensor([-1.0, 1.0], dtype=torch.float64).repeat(8)[:, None]
    inner = 0.5 * u
    assert (bimodal.min(0).values < inner.min(0).values).all() and (inner.max(0).values < bimodal.max(0).values).all()
    ranges = [x.max(0).values - x.min(0).values for x in (inner, bimodal)]
    assert (ranges[0] / ranges[1] > 0.01).all()  # not capped outright as a peaky sample
    for window in (2.0, None):
        assert torch.equal(example_epsilons(inner, bimodal, window=window), torch.full((10,), EPSILON_CAP,
                                                                                        dtype=torch.float64))
    # A constant sample against a spread one that shares its value: no test separates them (the constant
    # value is in both), yet the example is capped outright as too peaky, as in the scoring code.
    constant, tied = torch.zeros(16, 10, dtype=torch.float64), r.clone()
    tied[0] = 0.0
    assert torch.equal(example_epsilons(constant, tied), torch.full((10,), EPSILON_CAP, dtype=torch.float64))


def test_small_example_matches_hand_and_explicit_loop():
    u, r = [0.0, 0.4, 0.9, 1.2], [0.5, 1.0, 1.5, 1.9]
    # Retrained has the larger median. Best tests: 'value >= 1.0 -> retrained' (FNR = 1/4: 0.5 below,
    # FPR = 1/4: 1.2 above) and 'unlearned between 0.0 and 0.9' (FNR = 1/4, FPR = 1/4): log(3/4 - delta) - log(1/4).
    hand = math.log(0.75 - DELTA) - math.log(0.25)
    for window in (2.0, None):  # all values within 2 of each other: the window excludes no decision
        eps = example_epsilons(torch.tensor(u)[:, None], torch.tensor(r)[:, None], window=window).item()
        assert eps == pytest.approx(hand, abs=1e-12)
        assert eps == pytest.approx(slow_epsilon(u, r, window=None), abs=1e-12)


def test_vectorised_equals_per_example_loop():
    gen = torch.Generator().manual_seed(2)
    # Continuous values, every interval, unequal sample sizes.
    u = torch.randn(6, 30, generator=gen, dtype=torch.float64)
    r = torch.randn(9, 30, generator=gen, dtype=torch.float64)
    u[:, :10] += 1.0
    fast = example_epsilons(u, r, window=None)
    slow = [slow_epsilon(u[:, e].tolist(), r[:, e].tolist(), None) for e in range(30)]
    assert fast.tolist() == pytest.approx(slow, abs=1e-12)
    # Values on a lattice of 1/4 (many ties), placed so that the window of 2 often excludes the best interval:
    # spread samples of many scales and places, and tight clusters with one outlier against spread samples.
    ints = lambda lo, hi, shape: torch.randint(lo, hi + 1, shape, generator=gen).double()  # noqa: E731
    quarters = lambda lo, hi, shape: ints(lo, hi, shape) / 4  # noqa: E731
    spread_u = quarters(-4, 4, (5, 300)) * ints(1, 3, (1, 300))
    spread_r = quarters(-4, 4, (6, 300)) * ints(1, 8, (1, 300)) + quarters(-8, 8, (1, 300))
    cluster_u = torch.cat([quarters(-2, 2, (4, 300)), quarters(-12, 12, (1, 300))])
    cluster_r = quarters(-16, 16, (6, 300))
    u, r = torch.cat([spread_u, cluster_u], 1), torch.cat([spread_r, cluster_r], 1)
    fast = example_epsilons(u, r)
    slow = [slow_epsilon(u[:, e].tolist(), r[:, e].tolist(), 2.0) for e in range(600)]
    assert fast.tolist() == pytest.approx(slow, abs=1e-12)
    assert (fast < example_epsilons(u, r, window=None)).sum() >= 10  # the window did exclude intervals


def test_bucketed_score_by_hand():
    assert [max_epsilon(n) for n in (16, 32, 64, 512)] == [3, 4, 5, 7]  # ceil(log(n - 1))
    eps = torch.tensor([0.0, 0.3, 0.5, 0.99, 1.0, 2.2, 3.9, 4.0, EPSILON_CAP])
    # buckets of 0.5: 1, 1, 1/2, 1/2, 1/4, 2^-4, 2^-7, then 0 from max_epsilon(32) = 4 up
    expected = (1 + 1 + 0.5 + 0.5 + 0.25 + 1 / 16 + 1 / 128) / 9
    assert forgetting_score(eps, n_models=32) == pytest.approx(expected)
    assert forgetting_score(torch.zeros(5), 32) == 1.0
    assert forgetting_score(torch.full((5,), EPSILON_CAP), 32) == 0.0


def test_logit_confidence():
    logits = torch.randn(3, 5, 4, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    labels = torch.tensor([0, 3, 1, 1, 2])
    p = logits.softmax(-1)[:, torch.arange(5), labels]  # [3, 5]
    assert torch.allclose(logit_confidence(logits, labels), torch.log(p / (1 - p)), atol=1e-10)
    extreme = torch.tensor([[[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]]], dtype=torch.float32)
    conf = logit_confidence(extreme, torch.tensor([0, 0]))
    assert conf.dtype == torch.float64 and torch.isfinite(conf).all()
    assert conf[0, 0] == pytest.approx(1e4) and conf[0, 1] == pytest.approx(-2e4 - math.log(2))


def test_calibration_on_normal_confidences():
    gen = torch.Generator().manual_seed(4)
    draw = lambda: torch.randn(32, 400, generator=gen, dtype=torch.float64)  # noqa: E731
    same, half, far = (forgetting_quality(draw() + shift, draw()) for shift in (0.0, 0.5, 3.0))
    assert 0.12 < same < 0.26  # two draws of one distribution: ~0.18, not 1
    assert half < same - 0.03
    assert far < 1 / 32  # short of perfect separation, epsilon ~ log(31): 2^-6 points at most


def test_bootstrap_rescores_resamples_of_each_side():
    """Each resample draws each side's models with replacement and is scored as forgetting_quality scores it;
    examples whose samples do not overlap score 0 in every resample (skipped, not searched)."""
    gen = torch.Generator().manual_seed(5)
    u, r = torch.randn(2, 16, 60, generator=gen, dtype=torch.float64)
    u[:, :20] += 100.0  # 20 examples perfectly separated
    draws = bootstrap_scores(u, r, 30, torch.Generator().manual_seed(6))
    assert torch.equal(draws, bootstrap_scores(u, r, 30, torch.Generator().manual_seed(6)))
    pick = torch.Generator().manual_seed(6)
    pick_u, pick_r = torch.randint(16, (30, 16), generator=pick), torch.randint(16, (30, 16), generator=pick)
    for b in (0, 7, 29):
        assert draws[b].item() == forgetting_quality(u[pick_u[b]], r[pick_r[b]])
    assert draws.std() > 0 and draws.max() <= 40 / 60


def test_final_score_uses_mean_accuracies():
    ratio = accuracy_ratio([0.8, 0.9], [1.0, 0.7])
    assert ratio == pytest.approx(0.85 / 0.85)
    assert final_score(0.5, accuracy_ratio([0.4, 0.5], [0.9, 0.9]), 0.8) == pytest.approx(0.5 * 0.5 * 0.8)
