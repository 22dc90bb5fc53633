"""The amnesia report's numbers: means over chains with the bootstrap interval of unlearning.stats, each method
against the oracle's distribution with unlearning.equivalence's permutation interval and verdicts, and the targets
judged on intervals. Synthetic per-chain rows: exact expectations, no training."""
from __future__ import annotations

import pandas as pd
import pytest
import torch

from unlearning import stats
from unlearning.amnesia import intervals
from unlearning.amnesia.config import ToleranceConfig
from unlearning.core import rng

TOLERANCE = ToleranceConfig(forget_entropy=0.1, forget_prob=0.02, retained_acc=0.02, retained_min_acc=0.05,
                            relearn_forget_prob=0.05)


def rows(model: str, digit: int, forget_prob: list[float], retained_acc: list[float]) -> list[dict]:
    return [{"digit": digit, "chain": c, "model": model, "forget_entropy": 2.3 - p, "forget_prob": p,
             "retained_acc": a, "retained_min_acc": a - 0.1, "worst_class": 1 if c % 4 else 7,
             "relearn_k10_forget_prob": p} for c, (p, a) in enumerate(zip(forget_prob, retained_acc))]


@pytest.fixture
def per_chain() -> pd.DataFrame:
    noise = [0.001 * i for i in range(8)]  # [8]: chain-to-chain spread
    return pd.DataFrame([
        *rows("oracle", 3, [0.05 + n for n in noise], [0.93 + n for n in noise]),
        *rows("same", 3, [0.05 + n for n in reversed(noise)], [0.93 + n for n in reversed(noise)]),
        *rows("far", 3, [0.60 + n for n in noise], [0.80 + n for n in noise]),
    ])


def test_means_and_intervals_are_the_stats_bootstrap(per_chain):
    table = intervals.model_intervals(per_chain, rng.generator(0, "b"))
    row = table[(table.model == "far") & (table.metric == "forget_prob")].iloc[0]
    values = torch.tensor(per_chain[per_chain.model == "far"].forget_prob.to_numpy())
    expected = stats.bootstrap_mean_ci(values, rng.generator(0, "b"), bounds=(0.0, 1.0))
    assert row["mean"] == pytest.approx(0.6035) and row["low"] <= row["mean"] <= row["high"]
    assert row.n == 8 and row["high"] - row["low"] < 0.01
    # the first interval drawn from a fresh generator is the one stats computes
    first = table.iloc[0]
    first_values = torch.tensor(per_chain[per_chain.model == first.model][first.metric].to_numpy())
    assert (first["low"], first["high"]) == pytest.approx(tuple(stats.bootstrap_mean_ci(
        first_values, rng.generator(0, "b"), bounds=intervals.bounds(first.metric))[1:]))
    assert expected.mean == pytest.approx(row["mean"])


def test_methods_are_judged_against_the_oracles_distribution(per_chain):
    table = intervals.versus_oracle(per_chain, ["same", "far"], TOLERANCE, rng.generator(0, "p"))
    verdict = table.set_index(["model", "metric"]).verdict
    for metric in ("forget_prob", "retained_acc", "relearn_k10_forget_prob"):
        assert verdict["same", metric] == "equivalent", metric
        assert verdict["far", metric] == "different", metric
    far = table[(table.model == "far") & (table.metric == "forget_prob")].iloc[0]
    assert far.low <= far.difference <= far.high and far.difference == pytest.approx(0.55)


def test_the_worst_class_is_the_most_frequent_one(per_chain):
    assert intervals.worst_classes(per_chain)[(3, "far")] == "1 (6/8)"


@pytest.mark.parametrize("low, high, op, threshold, status", [
    (2.05, 2.20, ">=", 2.0, "met"), (1.95, 2.10, ">=", 2.0, "unclear"), (1.80, 1.95, ">=", 2.0, "missed"),
    (0.05, 0.09, "<=", 0.1, "met"), (0.09, 0.12, "<=", 0.1, "unclear"), (0.11, 0.13, "<=", 0.1, "missed"),
])
def test_targets_are_judged_on_the_interval(low, high, op, threshold, status):
    assert intervals.target_status(low, high, op, threshold) == status
