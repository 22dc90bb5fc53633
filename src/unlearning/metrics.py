"""Output-level metrics of one model on the test side, and their aggregation over seeds."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from unlearning.splits import Splits, concat
from unlearning.train import predict

# The accuracy metrics, in the order the report shows them.
ACCURACIES = ("forget_acc", "retain_acc", "new_acc", "test_acc")


def _acc(predicted, y) -> float:
    return (predicted == y).float().mean().item() if len(y) else float("nan")


def accuracies(model, test: Splits) -> dict[str, float]:
    """forget_acc: share of forgotten-class images still predicted in the old slot (lower = more forgotten);
    retain_acc / new_acc: accuracy on the retained classes / the learned class;
    test_acc: accuracy on the final class set (retain + new), what the unlearned model is for."""
    pred = {name: predict(model, part.x).argmax(1) for name, part in
            (("forget", test.forget), ("retain", test.retain), ("new", test.new))}
    target = test.target
    return {
        "forget_acc": _acc(pred["forget"], test.forget.y),
        "retain_acc": _acc(pred["retain"], test.retain.y),
        "new_acc": _acc(pred["new"], test.new.y),
        "test_acc": _acc(predict(model, target.x).argmax(1), target.y),
    }


def agreement(model, oracle, test: Splits) -> float:
    """Share of all test images (forget, retain, new) on which the model and the oracle predict the same slot."""
    x = concat(test.forget, test.retain, test.new).x
    return (predict(model, x).argmax(1) == predict(oracle, x).argmax(1)).float().mean().item()


def ci95_halfwidth(values: np.ndarray) -> float:
    """Half-width of the 95 % Student-t confidence interval of the mean; NaN with fewer than 2 seeds."""
    n = len(values)
    if n < 2:
        return float("nan")
    return float(stats.t.ppf(0.975, n - 1) * values.std(ddof=1) / math.sqrt(n))


def aggregate(per_seed: pd.DataFrame) -> pd.DataFrame:
    """per_seed: one row per (model, seed), one column per metric -> rows (model, metric), columns
    mean, std, ci95, n."""
    long = per_seed.melt(id_vars=["model", "seed"], var_name="metric").dropna(subset=["value"])
    grouped = long.groupby(["model", "metric"], sort=False)["value"]
    table = grouped.agg(mean="mean", std=lambda v: v.std(ddof=1) if len(v) > 1 else float("nan"),
                        ci95=lambda v: ci95_halfwidth(v.to_numpy()), n="count")
    return table.reset_index()


def finite_or_none(value: float):
    """JSON has no NaN: DVC reads null as 'no value'."""
    return None if value is None or not math.isfinite(value) else round(float(value), 6)
