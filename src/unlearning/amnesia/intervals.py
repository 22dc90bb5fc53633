"""From one row per (digit, chain, model) to what the report states: each model's mean over chains with its
percentile bootstrap interval (unlearning.stats, as the main pipeline), and each method against the oracle's
distribution over chains (unlearning.equivalence: the permutation interval of the difference of means and a
verdict against the declared tolerance, Holm-corrected over the metrics of one method and digit)."""
from __future__ import annotations

import math

import pandas as pd
import torch

from unlearning import equivalence, stats
from unlearning.amnesia.config import ToleranceConfig

LN10 = math.log(10)
# metric -> the range its interval is clipped to (None: unbounded)
BOUNDS = {"forget_entropy": (0.0, LN10), "forget_prob": (0.0, 1.0), "retained_acc": (0.0, 1.0),
          "retained_min_acc": (0.0, 1.0), "forget_test_nelbo": None, "retained_test_nelbo": None}
VERDICT_METRICS = ("forget_entropy", "forget_prob", "retained_acc", "retained_min_acc")


def bounds(metric: str):
    if metric.startswith("relearn_"):
        return (0.0, LN10) if metric.endswith("entropy") else (0.0, 1.0)
    return BOUNDS[metric]


def metric_columns(per_chain: pd.DataFrame) -> list[str]:
    return [c for c in per_chain.columns if c in BOUNDS or c.startswith("relearn_")]


def model_intervals(per_chain: pd.DataFrame, generator: torch.Generator) -> pd.DataFrame:
    """per_chain: columns digit, chain, model, worst_class and the metrics -> rows (digit, model, metric, mean, low,
    high, n): the mean over chains and its 95 % bootstrap interval."""
    rows = []
    for (digit, model), group in per_chain.groupby(["digit", "model"], sort=False):
        for metric in metric_columns(per_chain):
            values = torch.tensor(group[metric].to_numpy(dtype=float))  # [chains]
            ci = stats.bootstrap_mean_ci(values, generator, bounds=bounds(metric))
            rows.append({"digit": digit, "model": model, "metric": metric, "mean": ci.mean, "low": ci.low,
                         "high": ci.high, "n": int((~values.isnan()).sum())})
    return pd.DataFrame(rows)


def versus_oracle(per_chain: pd.DataFrame, methods: list[str], tolerance: ToleranceConfig,
                  generator: torch.Generator) -> pd.DataFrame:
    """rows (digit, model, metric, difference, low, high, tolerance, verdict): mean(model) - mean(oracle) over
    chains, its 95 % permutation interval and the verdict (equivalent / different / inconclusive / n/a)."""
    verdicted = [m for m in metric_columns(per_chain)
                 if m in VERDICT_METRICS or (m.startswith("relearn_") and m.endswith("forget_prob"))]
    rows = []
    for digit, group in per_chain.groupby("digit", sort=False):
        oracle = group[group.model == "oracle"]
        for model in methods:
            mine = group[group.model == model]
            diffs = {m: equivalence.difference(torch.tensor(mine[m].to_numpy(dtype=float)),  # [chains] each
                                               torch.tensor(oracle[m].to_numpy(dtype=float)), generator)
                     for m in verdicted}
            tolerances = {m: tolerance.of(m) for m in verdicted}
            verdicts = equivalence.verdicts(diffs, tolerances)
            rows += [{"digit": digit, "model": model, "metric": m, "difference": d.mean, "low": d.low,
                      "high": d.high, "tolerance": tolerances[m], "verdict": verdicts[m]} for m, d in diffs.items()]
    return pd.DataFrame(rows)


def worst_classes(per_chain: pd.DataFrame) -> pd.Series:
    """(digit, model) -> 'label (k/n)': the retained label judged worst in most chains, and in how many."""
    def most(labels: pd.Series) -> str:
        counts = labels.value_counts()
        return f"{int(counts.index[0])} ({int(counts.iloc[0])}/{len(labels)})"

    return per_chain.groupby(["digit", "model"], sort=False)["worst_class"].agg(most)


def target_status(low: float, high: float, op: str, threshold: float) -> str:
    """'met' when the whole interval is on the good side of the threshold, 'missed' when it is all on the bad
    side, 'unclear' when it straddles it."""
    if op == ">=":
        all_good, some_good = low >= threshold, high >= threshold
    else:
        all_good, some_good = high <= threshold, low <= threshold
    return "met" if all_good else "unclear" if some_good else "missed"
